"""Shrinkage-MMD between sensitive groups of a mini-batch (METHODS 1.3, 1.4, 7.2).

A plain empirical kernel mean over a small group is noisy, so the MMD between two small groups is biased upwards and its
gradient mostly chases noise; shrinking each group's kernel mean towards zero with the closed-form R-KMSE weight of
Muandet et al. (JMLR 2016) damps that noise. Batch-sized Gram matrices only: for corpus-scale statistics use
``fer_core.fairness.mmd_stats``, which never forms an n x n matrix.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import combinations
from typing import Any

import torch

__all__ = [
    "rbf_kernel",
    "median_bandwidth",
    "shrinkage_weight",
    "shrinkage_weight_from_means",
    "shrinkage_mmd2",
    "group_mmd_loss",
]

MAX_BANDWIDTH_ROWS = 1024
MIN_BANDWIDTH = 1e-3


def _check_2d(name: str, z: Any) -> torch.Tensor:
    if not isinstance(z, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(z).__name__}")
    if z.dim() != 2:
        raise ValueError(f"{name} must be a 2-D (N, D) tensor, got shape {tuple(z.shape)}")
    if not z.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor, got dtype {z.dtype}")
    return z


def _check_sigma(sigma: Any) -> None:
    value = float(sigma.detach()) if isinstance(sigma, torch.Tensor) else float(sigma)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"sigma must be a finite number > 0, got {value}")


def _sq_dists(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    # The expansion avoids cdist's undefined gradient at zero distance (the Gram diagonal); clamp removes rounding < 0.
    d2 = x.pow(2).sum(1, keepdim=True) + y.pow(2).sum(1).unsqueeze(0) - 2.0 * (x @ y.T)
    return d2.clamp_min(0.0)


def rbf_kernel(x: torch.Tensor, y: torch.Tensor, sigma: float | torch.Tensor) -> torch.Tensor:
    """Gaussian RBF Gram matrix exp(-||x_i - y_j||^2 / (2 sigma^2)), shape (len(x), len(y))."""
    _check_2d("x", x)
    _check_2d("y", y)
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"x and y must have the same feature dimension, got {x.shape[1]} and {y.shape[1]}")
    _check_sigma(sigma)
    return torch.exp(-_sq_dists(x, y) / (2.0 * sigma**2))


def median_bandwidth(z: torch.Tensor) -> torch.Tensor:
    """Median pairwise distance (i < j) of the rows of z: the usual scale-free RBF bandwidth.

    Detached (the bandwidth is a hyper-parameter, not something to optimise), clamped to >= 1e-3 so a collapsed batch
    cannot give a zero bandwidth, and computed on at most 1024 evenly spaced rows, which keeps it cheap without
    touching the global random state.
    """
    _check_2d("z", z)
    if z.shape[0] < 2:
        raise ValueError(f"median_bandwidth needs at least 2 rows, got {z.shape[0]}")
    z = z.detach()
    if z.shape[0] > MAX_BANDWIDTH_ROWS:
        idx = torch.linspace(0, z.shape[0] - 1, MAX_BANDWIDTH_ROWS, device=z.device).round().long()
        z = z[idx]
    dist = torch.pdist(z.double())
    return torch.quantile(dist, 0.5).to(z.dtype).clamp_min(MIN_BANDWIDTH)


def shrinkage_weight(kxx: torch.Tensor) -> torch.Tensor:
    """R-KMSE weight w = 1 / (1 + lambda) with the closed-form (LOOCV) lambda of Muandet et al.

    lambda = clip(n (varrho - rho) / ((n - 1)(n rho - varrho)), 0, inf), rho = mean(K), varrho = mean(diag K).
    Detached: lambda is a per-batch constant (METHODS 1.4); a gradient through it would be noisy and is not needed.
    A non-positive denominator means the off-diagonal kernel mass vanished, so lambda is infinite and w = 0.
    """
    if not isinstance(kxx, torch.Tensor) or kxx.dim() != 2 or kxx.shape[0] != kxx.shape[1]:
        shape = tuple(kxx.shape) if isinstance(kxx, torch.Tensor) else type(kxx).__name__
        raise ValueError(f"kxx must be a square 2-D Gram matrix tensor, got {shape}")
    n = kxx.shape[0]
    if n < 2:
        raise ValueError(f"shrinkage needs at least 2 samples per group, got {n}")
    k = kxx.detach()
    return shrinkage_weight_from_means(n, k.mean(), k.diagonal().mean())


def shrinkage_weight_from_means(n: int, rho: torch.Tensor, varrho: torch.Tensor) -> torch.Tensor:
    """The R-KMSE weight from the Gram matrix's mean ``rho`` and its diagonal's mean ``varrho`` (all it depends on),
    so estimators that never form the matrix (random features) use the same formula."""
    num = n * (varrho - rho)
    den = (n - 1) * (n * rho - varrho)
    lam = torch.where(den > 0, num / den.clamp_min(torch.finfo(den.dtype).tiny), torch.full_like(den, math.inf))
    return 1.0 / (1.0 + lam.clamp_min(0.0))


def _multi_kernel(x: torch.Tensor, y: torch.Tensor, sigma: torch.Tensor, bandwidths: Sequence[float]) -> torch.Tensor:
    d2 = _sq_dists(x, y)
    return sum(torch.exp(-d2 / (2.0 * (sigma * m) ** 2)) for m in bandwidths)  # type: ignore[return-value]


def _check_bandwidths(bandwidths: Sequence[float]) -> tuple[float, ...]:
    values = tuple(float(m) for m in bandwidths)
    if not values or any(not math.isfinite(m) or m <= 0 for m in values):
        raise ValueError(f"bandwidths must be a non-empty sequence of multipliers > 0, got {bandwidths!r}")
    return values


def shrinkage_mmd2(
    za: torch.Tensor,
    zb: torch.Tensor,
    sigma: float | torch.Tensor | None = None,
    shrink: bool = True,
    bandwidths: Sequence[float] = (1.0,),
) -> torch.Tensor:
    """Squared MMD between two groups, w_a^2 rho_aa + w_b^2 rho_bb - 2 w_a w_b rho_ab (METHODS 1.4).

    The kernel is the sum of RBFs with bandwidths ``m * sigma`` for m in ``bandwidths``; ``sigma`` defaults to the
    median pairwise distance of both groups together. ``shrink=False`` gives w = 1, the plain biased V-statistic.
    Differentiable in za and zb.
    """
    _check_2d("za", za)
    _check_2d("zb", zb)
    if za.shape[1] != zb.shape[1]:
        raise ValueError(f"za and zb must have the same feature dimension, got {za.shape[1]} and {zb.shape[1]}")
    if za.shape[0] < 1 or zb.shape[0] < 1:
        raise ValueError(f"each group needs at least 1 sample, got {za.shape[0]} and {zb.shape[0]}")
    multipliers = _check_bandwidths(bandwidths)
    if sigma is None:
        sigma = median_bandwidth(torch.cat([za, zb]))
    _check_sigma(sigma)
    sigma_t = torch.as_tensor(sigma, dtype=za.dtype, device=za.device).detach()
    kaa = _multi_kernel(za, za, sigma_t, multipliers)
    kbb = _multi_kernel(zb, zb, sigma_t, multipliers)
    kab = _multi_kernel(za, zb, sigma_t, multipliers)
    if shrink:
        wa, wb = shrinkage_weight(kaa), shrinkage_weight(kbb)
    else:
        wa = wb = torch.ones((), dtype=za.dtype, device=za.device)
    return wa**2 * kaa.mean() + wb**2 * kbb.mean() - 2.0 * wa * wb * kab.mean()


def group_mmd_loss(
    z: torch.Tensor,
    groups: torch.Tensor | Sequence[int],
    sigma: float | torch.Tensor | None = None,
    shrink: bool = True,
    bandwidths: Sequence[float] = (1.0,),
) -> torch.Tensor:
    """Mean pairwise shrinkage-MMD^2 over the groups present in the batch with >= 2 members.

    One bandwidth (default: median over the whole batch) is shared by all pairs so pair terms are comparable. With
    fewer than two usable groups the loss is a zero that still carries a graph, so ``loss.backward()`` never fails.
    """
    _check_2d("z", z)
    g = torch.as_tensor(groups, device=z.device)
    if g.dim() != 1 or g.shape[0] != z.shape[0]:
        raise ValueError(f"groups must be one label per row of z ({z.shape[0]}), got shape {tuple(g.shape)}")
    values, counts = torch.unique(g, return_counts=True)
    usable = [v for v, c in zip(values.tolist(), counts.tolist()) if c >= 2]
    if len(usable) < 2:
        return z.sum() * 0.0
    if sigma is None:
        keep = torch.isin(g, torch.as_tensor(usable, device=z.device, dtype=g.dtype))
        sigma = median_bandwidth(z[keep])
    members = {v: z[g == v] for v in usable}
    terms = [
        shrinkage_mmd2(members[a], members[b], sigma=sigma, shrink=shrink, bandwidths=bandwidths)
        for a, b in combinations(usable, 2)
    ]
    return torch.stack(terms).mean()
