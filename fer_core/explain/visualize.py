"""Relevance -> pictures: a diverging map centred at zero, overlays on the face, per-class grids."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import torch

# Diverging blue - white - red (ColorBrewer RdBu, reversed) anchors; zero relevance is white.
_ANCHORS = np.array(
    [[5, 48, 97], [67, 147, 195], [209, 229, 240], [255, 255, 255], [253, 219, 199], [214, 96, 77], [103, 0, 31]],
    dtype=np.float64,
)


def to_heatmap(relevance: torch.Tensor | np.ndarray) -> np.ndarray:
    """(C, H, W) or (H, W) relevance -> (H, W) float map (channels summed)."""
    rel = torch.as_tensor(relevance).detach().double()
    return (rel.sum(0) if rel.ndim == 3 else rel).numpy()


def colorize(heat: np.ndarray, vmax: float | None = None) -> np.ndarray:
    """Map values in [-vmax, vmax] to RGB uint8 with zero at white; vmax defaults to the 99.5th |value| pct."""
    if vmax is None:
        vmax = float(np.percentile(np.abs(heat), 99.5)) or 1.0
    t = np.clip(heat / vmax, -1, 1) * 0.5 + 0.5  # [0, 1]
    pos = t * (len(_ANCHORS) - 1)
    lo = np.floor(pos).astype(int).clip(0, len(_ANCHORS) - 2)
    frac = (pos - lo)[..., None]
    return (_ANCHORS[lo] * (1 - frac) + _ANCHORS[lo + 1] * frac).round().astype(np.uint8)


def overlay(
    crop: np.ndarray, heat: np.ndarray, size: int = 192, alpha: float = 0.85, vmax: float | None = None
) -> np.ndarray:
    """Heatmap blended over the grey face, upscaled to ``size`` px; opacity grows with sqrt(|relevance|).

    Parameters
    ----------
    crop
        (H, W, 3) uint8 RGB face crop, shown in grey under the colours.
    heat
        (h, w) relevance map (any resolution, resized bilinearly); positive is red, negative blue.
    size
        Side of the square picture in pixels.
    alpha
        Opacity of the colour where ``|relevance| >= vmax``; weaker relevance is more transparent.
    vmax
        The ``|relevance|`` shown at full colour; None uses the 99.5th percentile of ``|heat|``. Pass one value to
        compare several maps on a common scale.

    Returns
    -------
    np.ndarray
        (size, size, 3) uint8 RGB.
    """
    if vmax is None:
        vmax = float(np.percentile(np.abs(heat), 99.5)) or 1.0
    grey = cv2.cvtColor(cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    grey = cv2.resize(grey, (size, size), interpolation=cv2.INTER_CUBIC).astype(np.float64)
    big = cv2.resize(heat.astype(np.float64), (size, size), interpolation=cv2.INTER_LINEAR)
    color = colorize(big, vmax).astype(np.float64)
    weight = alpha * np.sqrt(np.clip(np.abs(big) / vmax, 0, 1))[..., None]
    return (grey * (1 - weight) + color * weight).round().astype(np.uint8)


def class_grid(
    crop: np.ndarray,
    heats: Sequence[np.ndarray],
    labels: Sequence[str],
    probs: Sequence[float],
    size: int = 160,
    shared_scale: bool = True,
) -> np.ndarray:
    """One row: the face, then one overlay per class with its label and probability (for PNG export)."""
    vmax = max(float(np.percentile(np.abs(h), 99.5)) for h in heats) if shared_scale else None
    tiles = [cv2.resize(crop, (size, size), interpolation=cv2.INTER_CUBIC)]
    tiles += [overlay(crop, h, size, vmax=vmax) for h in heats]
    captions = ["input"] + [f"{lab} {p:.0%}" for lab, p in zip(labels, probs)]
    out = []
    for tile, cap in zip(tiles, captions):
        band = np.full((22, size, 3), 255, np.uint8)
        cv2.putText(band, cap, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (20, 20, 20), 1, cv2.LINE_AA)
        out.append(np.vstack([tile, band]))
    return np.hstack(out)
