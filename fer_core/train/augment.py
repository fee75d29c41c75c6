"""Weak and strong augmentations of normalised image batches, on the device, drawn from a seeded generator.

Semi-supervised training (FixMatch family, METHODS.md section 3) pseudo-labels a *weak* view (a flip) and trains on a
*strong* view of the same face (flip, random affine, brightness / contrast and a cut-out), so the model must give the
same answer under heavy change. Every draw comes from ``generator``, which the recipe seeds from (seed, epoch, batch,
rank): a resumed run sees the same views.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["step_generator", "weak_view", "strong_view"]


def step_generator(seed: int, *key: int) -> torch.Generator:
    """A generator that depends only on (seed, *key), e.g. (epoch, batch, rank): the same draws after a resume.
    Integers only: Python salts the hash of strings per process."""
    return torch.Generator().manual_seed(hash((seed, *key)) & 0x7FFF_FFFF)


def _rand(n: int, g: torch.Generator, device: torch.device, *shape: int) -> torch.Tensor:
    return torch.rand(n, *shape, generator=g).to(device)


def weak_view(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Horizontal flip of half the rows."""
    flip = _rand(len(x), g, x.device) < 0.5
    return torch.where(flip[:, None, None, None], x.flip(3), x)


def strong_view(
    x: torch.Tensor,
    g: torch.Generator,
    shift: float = 0.12,
    degrees: float = 15.0,
    scale: tuple[float, float] = (0.85, 1.15),
    jitter: float = 0.4,
    cutout: float = 0.35,
) -> torch.Tensor:
    """Flip, rotation / scale / translation, brightness and contrast jitter, and one square cut-out per image.

    ``x`` is normalised to about [-1, 1]; the cut-out is set to 0 (mid-grey) and borders are filled by reflection.
    """
    n = len(x)
    x = weak_view(x, g)
    r = _rand(n, g, x.device, 7)
    angle = (r[:, 0] * 2 - 1) * degrees * torch.pi / 180
    s = scale[0] + r[:, 1] * (scale[1] - scale[0])
    tx, ty = (r[:, 2] * 2 - 1) * shift * 2, (r[:, 3] * 2 - 1) * shift * 2  # affine_grid spans [-1, 1]
    cos, sin = torch.cos(angle) / s, torch.sin(angle) / s
    theta = torch.stack([torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1).to(x.dtype)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    brightness = ((r[:, 4] * 2 - 1) * jitter)[:, None, None, None].to(x.dtype)
    contrast = (1 + (r[:, 5] * 2 - 1) * jitter)[:, None, None, None].to(x.dtype)
    mean = x.mean((1, 2, 3), keepdim=True)
    x = ((x - mean) * contrast + mean + brightness).clamp(-1, 1)
    h, w = x.shape[2:]
    side = max(1, int(round(cutout * min(h, w))))
    pos = _rand(n, g, x.device, 2)
    top = (pos[:, 0] * (h - side + 1)).long().clamp(max=h - side)
    left = (pos[:, 1] * (w - side + 1)).long().clamp(max=w - side)
    rows = torch.arange(h, device=x.device)[None, :, None]
    cols = torch.arange(w, device=x.device)[None, None, :]
    box = (
        (rows >= top[:, None, None])
        & (rows < top[:, None, None] + side)
        & (cols >= left[:, None, None])
        & (cols < left[:, None, None] + side)
    )
    return x.masked_fill(box[:, None], 0.0)
