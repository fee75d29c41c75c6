"""How relevance and probability depend on named face regions."""
from __future__ import annotations

from typing import Mapping, Sequence

import cv2
import numpy as np
import torch
from torch import nn

from ..models.card import ModelCard
from ..models.preprocess import predict_probs

FILLS = ("mean", "blur", "noise", "black")


def region_share(relevance: torch.Tensor | np.ndarray, masks: Mapping[str, np.ndarray]) -> dict[str, float]:
    """Share of the positive relevance (channels summed) that falls inside each region mask."""
    rel = torch.as_tensor(relevance).double()
    if rel.ndim == 3:
        rel = rel.sum(0)
    pos = rel.clamp(min=0).numpy()
    total = pos.sum()
    return {name: float(pos[mask].sum() / total) if total > 0 else 0.0 for name, mask in masks.items()}


def fill_region(crop: np.ndarray, mask: np.ndarray, fill: str, seed: int = 0) -> np.ndarray:
    """Copy of an RGB uint8 crop with ``mask`` replaced by the face's mean colour, a blur, noise or black."""
    if fill not in FILLS:
        raise ValueError(f"fill must be one of {', '.join(FILLS)}, got {fill!r}")
    out = crop.copy()
    if fill == "black":
        out[mask] = 0
    elif fill == "mean":
        out[mask] = crop.reshape(-1, 3).mean(0).round().astype(np.uint8)
    elif fill == "blur":
        sigma = max(crop.shape[:2]) / 10
        out[mask] = cv2.GaussianBlur(crop, (0, 0), sigmaX=sigma, borderType=cv2.BORDER_REFLECT)[mask]
    else:
        rng = np.random.default_rng(seed)
        mean, std = crop.reshape(-1, 3).mean(0), crop.reshape(-1, 3).std(0) + 1.0
        noise = rng.normal(mean, std, size=(int(mask.sum()), 3))
        out[mask] = np.clip(noise, 0, 255).round().astype(np.uint8)
    return out


def occlude_regions(model: nn.Module, card: ModelCard, crops: Sequence[np.ndarray],
                    masks: Sequence[Mapping[str, np.ndarray]], regions: Sequence[str], fill: str = "mean",
                    batch_size: int = 64, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Class probabilities before and after hiding each region of each face.

    Returns
    -------
    base : (N, K) probabilities of the intact crops.
    occluded : (N, R, K) probabilities with region r filled.
    """
    variants = list(crops)
    for crop, face_masks in zip(crops, masks):
        variants += [fill_region(crop, face_masks[r], fill, seed) for r in regions]
    p = predict_probs(model, card, variants, batch_size)
    n = len(crops)
    return p[:n], p[n:].reshape(n, len(regions), -1)
