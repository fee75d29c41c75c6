"""Do the heatmaps tell the truth? Faithfulness and localisation metrics, batched over a dataset.

* **Region perturbation** (Samek et al. 2017; Quantus ``RegionPerturbation``): cut the input into a grid of
  ``patch`` x ``patch`` regions, rank them by summed relevance, and replace them one by one, most relevant first
  (MoRF) or least relevant first (LeRF), recording the drop of the explained class's probability. **AOPC** is the
  mean drop over the curve; **ABPC** is the mean gap between the LeRF and MoRF curves (large = the map ranks regions
  the way the model uses them). Every perturbed image of every face at every step goes through the model in a few
  large batches, not in a Python loop per image.
* **Relevance mass accuracy** (share of the relevance inside a ground-truth mask) and **relevance rank accuracy**
  (share of the |mask| most relevant pixels that fall inside it), as in Quantus.

Patch size, steps and fill travel with every figure (``PerturbationCurves``), because AOPC means nothing without them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import torch

from ..models.runtime import model_device, model_dtype

if TYPE_CHECKING:
    from ..models.card import ModelCard

__all__ = [
    "PerturbationCurves",
    "region_perturbation",
    "aopc",
    "abpc",
    "relevance_mass_accuracy",
    "relevance_rank_accuracy",
    "randomisation_check",
]

Order = Literal["morf", "lerf"]


@dataclass(frozen=True)
class PerturbationCurves:
    """``drops[n, k]`` = p(target | x_n) - p(target | x_n with its k+1 first-ranked patches replaced)."""

    drops: np.ndarray
    order: str
    patch: int
    steps: int
    fill: str

    @property
    def aopc(self) -> np.ndarray:
        """Per image: mean drop over the curve (the AOPC of Samek et al., with the k = 0 term equal to 0)."""
        return np.concatenate([np.zeros((len(self.drops), 1)), self.drops], 1).mean(1)

    def settings(self) -> dict:
        return {"order": self.order, "patch": self.patch, "steps": self.steps, "fill": self.fill}


def _patch_scores(heatmaps: torch.Tensor, patch: int) -> torch.Tensor:
    """(N, P) summed relevance per grid patch, row-major over the grid; the grid is padded with zeros at the
    bottom/right edge when the side is not a multiple of ``patch`` (as Quantus does)."""
    n, h, w = heatmaps.shape
    ph, pw = -(-h // patch), -(-w // patch)
    padded = torch.zeros(n, ph * patch, pw * patch, dtype=heatmaps.dtype)
    padded[:, :h, :w] = heatmaps
    return padded.reshape(n, ph, patch, pw, patch).sum((2, 4)).reshape(n, ph * pw)


def _pixel_patch(h: int, w: int, patch: int) -> torch.Tensor:
    """(H, W) index of the grid patch (row-major, as in :func:`_patch_scores`) that holds each pixel."""
    pw = -(-w // patch)
    rows = torch.arange(h)[:, None] // patch
    cols = torch.arange(w)[None, :] // patch
    return rows * pw + cols


def _fill_values(x: torch.Tensor, fill: str | float) -> torch.Tensor:
    """(N, C, 1, 1) replacement value per image and channel."""
    if isinstance(fill, (int, float)):
        return torch.full((x.shape[0], x.shape[1], 1, 1), float(fill), dtype=x.dtype)
    if fill == "mean":
        return x.mean((2, 3), keepdim=True)
    if fill == "black":
        return x.amin((1, 2, 3), keepdim=True).expand(-1, x.shape[1], 1, 1)
    raise ValueError(f"fill must be 'mean', 'black' or a number, got {fill!r}")


@torch.no_grad()
def region_perturbation(
    model: torch.nn.Module,
    images: torch.Tensor,
    heatmaps: torch.Tensor | np.ndarray,
    targets: torch.Tensor | np.ndarray,
    patch: int = 8,
    steps: int = 16,
    order: Order = "morf",
    fill: str | float = "mean",
    batch_size: int = 64,
    card: ModelCard | None = None,
) -> PerturbationCurves:
    """Perturbation curves for ``images`` (N, C, H, W, model input) explained by ``heatmaps`` (N, H, W).

    Builds all N x steps perturbed inputs as cumulative patch masks and classifies them ``batch_size`` at a time.
    The score that drops is the target's softmax probability, or what ``card`` says the outputs mean (a sigmoid per
    action unit) when a card is given.
    """
    if order not in ("morf", "lerf"):
        raise ValueError(f"order must be 'morf' or 'lerf', got {order!r}")
    x = images.detach().float()
    heat = torch.as_tensor(np.asarray(heatmaps), dtype=torch.float64)
    if heat.dim() == 4:
        heat = heat.sum(1)
    n, c, h, w = x.shape
    if heat.shape != (n, h, w):
        raise ValueError(f"heatmaps must be (N, H, W) = {(n, h, w)}, got {tuple(heat.shape)}")
    y = torch.as_tensor(np.asarray(targets), dtype=torch.long)
    scores = _patch_scores(heat, patch)
    n_patches = scores.shape[1]
    steps = min(int(steps), n_patches)
    ranked = torch.argsort(scores, dim=1, descending=(order == "morf"), stable=True)[:, :steps]  # (N, steps)
    # rank_map[n, y, x] = the step at which that pixel's patch is replaced (``steps`` = never)
    patch_rank = torch.full((n, n_patches), steps, dtype=torch.long)
    patch_rank.scatter_(1, ranked, torch.arange(steps).expand(n, -1))
    rank_map = patch_rank[:, _pixel_patch(h, w, patch)]  # (N, H, W)
    fills = _fill_values(x, fill)
    model = model.eval()
    dtype, device = model_dtype(model), model_device(model)

    def probs(batch: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        logits = model(batch.to(device, dtype)).double().cpu()
        scores = card.probabilities(logits) if card is not None else torch.softmax(logits, 1)
        return scores[torch.arange(len(rows)), y[rows]]

    base = torch.cat(
        [probs(x[i : i + batch_size], torch.arange(i, min(i + batch_size, n))) for i in range(0, n, batch_size)]
    )
    # job j = (image j // steps, step j % steps): the first k + 1 ranked patches replaced
    jobs = torch.arange(n * steps)
    out = torch.empty(n * steps, dtype=torch.float64)
    for start in range(0, len(jobs), batch_size):
        idx = jobs[start : start + batch_size]
        img, k = idx // steps, idx % steps
        hidden = (rank_map[img] <= k[:, None, None])[:, None]  # (B, 1, H, W)
        batch = torch.where(hidden, fills[img], x[img])
        out[start : start + len(idx)] = probs(batch, img)
    drops = (base[:, None] - out.reshape(n, steps)).numpy()
    return PerturbationCurves(drops=drops, order=order, patch=patch, steps=steps, fill=str(fill))


def aopc(curves: PerturbationCurves) -> float:
    """Dataset AOPC: the mean of the per-image AOPC."""
    return float(curves.aopc.mean())


def abpc(lerf: PerturbationCurves, morf: PerturbationCurves) -> float:
    """Area between the LeRF and MoRF curves (mean over images and steps of drop_MoRF - drop_LeRF)."""
    if lerf.settings() | {"order": ""} != morf.settings() | {"order": ""}:
        raise ValueError("ABPC needs two curves with the same patch, steps and fill")
    return float((morf.drops - lerf.drops).mean())


def _flat(heatmaps: np.ndarray | torch.Tensor, masks: np.ndarray | torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(heatmaps, dtype=np.float64)
    s = np.asarray(masks).astype(bool)
    if a.shape != s.shape:
        raise ValueError(f"heatmaps and masks must have the same shape, got {a.shape} and {s.shape}")
    return a.reshape(len(a), -1), s.reshape(len(s), -1)


def relevance_mass_accuracy(
    heatmaps: np.ndarray | torch.Tensor,
    masks: np.ndarray | torch.Tensor,
    relevance: Literal["positive", "absolute"] = "positive",
) -> np.ndarray:
    """Per image: relevance inside the mask / all relevance (positive part, or absolute values as Quantus's
    default); NaN where the mask is empty."""
    a, s = _flat(heatmaps, masks)
    a = np.clip(a, 0, None) if relevance == "positive" else np.abs(a)
    total = a.sum(1)
    out = np.where(total > 0, (a * s).sum(1) / np.where(total > 0, total, 1), np.nan)
    out[s.sum(1) == 0] = np.nan
    return out


def relevance_rank_accuracy(
    heatmaps: np.ndarray | torch.Tensor,
    masks: np.ndarray | torch.Tensor,
    relevance: Literal["positive", "absolute", "signed"] = "signed",
) -> np.ndarray:
    """Per image: share of the K = |mask| highest-relevance pixels that lie inside the mask; NaN for empty masks."""
    a, s = _flat(heatmaps, masks)
    if relevance == "absolute":
        a = np.abs(a)
    elif relevance == "positive":
        a = np.clip(a, 0, None)
    k = s.sum(1)
    order = np.argsort(-a, axis=1, kind="stable")
    hits = np.take_along_axis(s, order, axis=1)
    ranks = np.arange(a.shape[1])[None, :] < k[:, None]
    out = (hits & ranks).sum(1) / np.where(k > 0, k, 1)
    return np.where(k > 0, out, np.nan)


def _spearman_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Spearman rank correlation per row (average ranks are not needed: ties have measure zero for real maps)."""
    ra = np.argsort(np.argsort(a, axis=1), axis=1).astype(np.float64)
    rb = np.argsort(np.argsort(b, axis=1), axis=1).astype(np.float64)
    ra -= ra.mean(1, keepdims=True)
    rb -= rb.mean(1, keepdims=True)
    den = np.sqrt((ra**2).sum(1) * (rb**2).sum(1))
    return np.where(den > 0, (ra * rb).sum(1) / np.where(den > 0, den, 1), 0.0)


def _randomise(module: torch.nn.Module, gen: torch.Generator) -> None:
    for m in module.modules():
        for p in m.parameters(recurse=False):
            with torch.no_grad():
                p.copy_(torch.randn(p.shape, generator=gen, dtype=p.dtype) * (p.std() if p.numel() > 1 else 1.0))


def randomisation_check(
    model: torch.nn.Module,
    explain: Callable[[torch.nn.Module], np.ndarray],
    stages: Sequence[tuple[str, torch.nn.Module]] | None = None,
    seed: int = 0,
) -> dict:
    """Model-parameter randomisation test (Adebayo et al. 2018), cascading from the output layer down.

    ``explain(model)`` returns heatmaps (N, H, W) for a fixed set of inputs and targets. After each stage a copy of the
    model has one more top-level block re-drawn at random (same scale as the trained weights); the figure is the mean
    Spearman correlation of |heatmap| with the trained model's. A method whose maps barely change when the weights
    that produced them are destroyed is not explaining the model. ``stages`` defaults to the model's top-level
    children with parameters, last first.
    """
    import copy

    trained = np.abs(np.asarray(explain(model), dtype=np.float64))
    base = trained.reshape(len(trained), -1)
    work = copy.deepcopy(model)
    if stages is None:
        stages = []
        for name, child in work.named_children():  # Sequential containers are opened one level: block by block
            parts = list(child.named_children()) if isinstance(child, torch.nn.Sequential) else [("", child)]
            stages += [(f"{name}.{sub}" if sub else name, m) for sub, m in parts if any(True for _ in m.parameters())]
        stages = stages[::-1]
    else:
        names = {id(m): n for n, m in model.named_modules()}
        lookup = dict(work.named_modules())
        stages = [(n, lookup[names[id(m)]]) for n, m in stages]
    gen = torch.Generator().manual_seed(seed)
    out = {"stages": [], "spearman": []}
    for name, module in stages:
        _randomise(module, gen)
        heat = np.abs(np.asarray(explain(work), dtype=np.float64)).reshape(len(base), -1)
        out["stages"].append(name)
        out["spearman"].append(float(_spearman_rows(base, heat).mean()))
    return out
