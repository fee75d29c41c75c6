"""How relevance and probability depend on named face regions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import cv2
import numpy as np
import torch
from torch import nn

from ..models.card import ModelCard
from ..models.preprocess import to_model_input
from ..models.runtime import model_device, model_dtype
from ..names import FILLS


def region_share(relevance: torch.Tensor | np.ndarray, masks: Mapping[str, np.ndarray]) -> dict[str, float]:
    """Share of the positive relevance (channels summed) that falls inside each region mask."""
    rel = torch.as_tensor(relevance).double()
    if rel.ndim == 3:
        rel = rel.sum(0)
    pos = rel.clamp(min=0).numpy()
    total = pos.sum()
    return {name: float(pos[mask].sum() / total) if total > 0 else 0.0 for name, mask in masks.items()}


#: below this share of a map's |relevance| speaking for the class, the map is evidence against it only: the region
#: shares of so thin a positive sliver (an all-blue map whose "most evidence" is 94 % forehead) mean nothing
MOSTLY_NEGATIVE = 0.1


def positive_fraction(relevance: torch.Tensor | np.ndarray) -> float:
    """Share of a map's total |relevance| (channels summed) that is positive, i.e. speaks for the class; 0 for an
    all-zero map. Under :data:`MOSTLY_NEGATIVE` a page says "evidence only against" instead of naming a region."""
    rel = torch.as_tensor(relevance).double()
    if rel.ndim == 3:
        rel = rel.sum(0)
    gross = float(rel.abs().sum())
    return float(rel.clamp(min=0).sum()) / gross if gross > 0 else 0.0


#: a map whose gross relevance is this many times its net relevance is numerically unstable: huge positive and
#: negative parts cancel (the gamma-box composite on the FER2013 model: about 12,000 on the portrait; LRP: 1.0)
UNSTABLE_CANCELLATION = 100.0


def cancellation(relevance: torch.Tensor | np.ndarray) -> float:
    """sum |R| / |sum R| of one map (channels summed): 1 when all relevance has one sign, very large when positive
    and negative relevance nearly cancel (the measure of the localisation benchmark's ``cancellation`` column)."""
    rel = torch.as_tensor(relevance).double()
    if rel.ndim == 3:
        rel = rel.sum(0)
    return float(rel.abs().sum()) / max(abs(float(rel.sum())), 1e-12)


def fill_image(crop: np.ndarray, fill: str, seed: int = 0) -> np.ndarray:
    """What replaces a hidden region, for the whole crop: the face's mean colour, a strong blur, noise with the
    face's colour statistics, or black. :func:`fill_region` copies it inside a mask."""
    if fill not in FILLS:
        raise ValueError(f"fill must be one of {', '.join(FILLS)}, got {fill!r}")
    if fill == "black":
        return np.zeros_like(crop)
    flat = crop.reshape(-1, 3)
    if fill == "mean":
        return np.broadcast_to(flat.mean(0).round().astype(np.uint8), crop.shape).copy()
    if fill == "blur":
        return cv2.GaussianBlur(crop, (0, 0), sigmaX=max(crop.shape[:2]) / 10, borderType=cv2.BORDER_REFLECT)
    rng = np.random.default_rng(seed)
    noise = rng.normal(flat.mean(0), flat.std(0) + 1.0, size=crop.shape)
    return np.clip(noise, 0, 255).round().astype(np.uint8)


def fill_region(crop: np.ndarray, mask: np.ndarray, fill: str, seed: int = 0) -> np.ndarray:
    """Copy of an RGB uint8 crop with ``mask`` replaced by the face's mean colour, a blur, noise or black."""
    out = crop.copy()
    out[mask] = fill_image(crop, fill, seed)[mask]
    return out


def _mask_array(masks: Sequence[Mapping[str, np.ndarray]] | np.ndarray, regions: Sequence[str]) -> np.ndarray:
    if isinstance(masks, np.ndarray):
        return masks.astype(bool, copy=False)
    return np.stack([np.stack([m[r] for r in regions]) for m in masks]).astype(bool)


@torch.no_grad()
def occlusion_probs(
    model: nn.Module,
    card: ModelCard,
    crops: Sequence[np.ndarray],
    masks: Sequence[Mapping[str, np.ndarray]] | np.ndarray,
    regions: Sequence[str],
    fills: Sequence[str] = ("mean",),
    batch_size: int = 64,
    seeds: Sequence[int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Class probabilities (what the card says the outputs mean: softmax, sigmoid, values) of each crop intact and
    with each region hidden by each fill, in large batches.

    Every crop and fill image is normalised once; each batch of (face, region, fill) variants is composed with one
    ``torch.where`` on the model input, so the cost is the forward passes. Equal to building every variant with
    :func:`fill_region` and classifying it (``fill_image`` is computed in pixels, then normalised, exactly as a
    filled crop would be).

    Parameters
    ----------
    model
        The classifier; put in eval mode, inputs cast to its parameters' dtype.
    card
        The model's card: input size and normalisation, and how outputs become probabilities.
    crops
        N aligned RGB uint8 face crops (resized to the card's input size if they are not at it).
    masks
        Per face a dict of region masks, or a bool array (N, R, H, W).
    regions
        The R region names to hide, one at a time (keys of the dicts in ``masks``, or the order of its R axis).
    fills
        The F fills (see ``FILLS``) tried for each region.
    batch_size
        Variants per forward pass.
    seeds
        Per crop, the seed of its noise fill; None uses the crop's index.

    Returns
    -------
    base : (N, K) probabilities of the intact crops.
    occluded : (N, R, F, K) probabilities with region r hidden by fill f.

    Raises
    ------
    ValueError
        When ``masks`` is not (N, R, H, W) for these crops and regions at the model's input size.
    """
    n, r_count, f_count = len(crops), len(regions), len(fills)
    k = card.num_classes
    if n == 0:
        return np.zeros((0, k)), np.zeros((0, r_count, f_count, k))
    seeds = list(range(n)) if seeds is None else list(seeds)
    model = model.eval()
    dtype, device = model_dtype(model), model_device(model)
    x = to_model_input(crops, card)
    fill_x = torch.stack([to_model_input([fill_image(c, f, s) for c, s in zip(crops, seeds)], card) for f in fills])
    m = torch.from_numpy(_mask_array(masks, regions))
    if m.shape[:2] != (n, r_count) or m.shape[2:] != x.shape[2:]:
        raise ValueError(f"masks must be (N, R, H, W) = {(n, r_count, *x.shape[2:])}, got {tuple(m.shape)}")

    def probs(batch: torch.Tensor) -> torch.Tensor:
        return card.probabilities(model(batch.to(device, dtype)).double().cpu())

    base = torch.cat([probs(x[i : i + batch_size]) for i in range(0, n, batch_size)])
    per_face = r_count * f_count
    out = torch.empty(n * per_face, k, dtype=torch.float64)
    for start in range(0, n * per_face, batch_size):
        j = torch.arange(start, min(start + batch_size, n * per_face))
        img, r, f = j // per_face, (j // f_count) % r_count, j % f_count
        out[j] = probs(torch.where(m[img, r][:, None], fill_x[f, img], x[img]))
    return base.numpy(), out.reshape(n, r_count, f_count, k).numpy()


def occlude_regions(
    model: nn.Module,
    card: ModelCard,
    crops: Sequence[np.ndarray],
    masks: Sequence[Mapping[str, np.ndarray]],
    regions: Sequence[str],
    fill: str = "mean",
    batch_size: int = 64,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Class probabilities before and after hiding each region of each face with one fill.

    Parameters
    ----------
    model
        The classifier.
    card
        The model's card (input size, normalisation, output meaning).
    crops
        N aligned RGB uint8 face crops.
    masks
        Per face a dict of region masks.
    regions
        The R region names to hide, one at a time.
    fill
        What replaces a hidden region (see ``FILLS``).
    batch_size
        Variants per forward pass.
    seed
        Seed of the noise fill, the same for every crop.

    Returns
    -------
    base : (N, K) probabilities of the intact crops.
    occluded : (N, R, K) probabilities with region r filled.
    """
    base, occ = occlusion_probs(model, card, crops, masks, regions, (fill,), batch_size, [seed] * len(crops))
    return base, occ[:, :, 0]
