"""Where does a model look, face region by face region, and does that differ between demographic groups?

``region_shares`` is :func:`region_share` for a whole dataset in one array operation. ``compare_groups`` asks whether
groups differ in those shares with a permutation test that shuffles group labels *within* each predicted class, so a
group that is merely predicted "happy" more often (and happy faces are read from the mouth) does not count as a
difference in where the model looks.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

__all__ = ["region_shares", "compare_groups"]


def region_shares(heatmaps: np.ndarray | torch.Tensor, masks: np.ndarray) -> np.ndarray:
    """(N, R) share of each map's positive relevance (channels summed) inside each region mask (N, R, H, W);
    NaN for a map with no positive relevance."""
    heat = np.asarray(heatmaps, dtype=np.float64)
    if heat.ndim == 4:
        heat = heat.sum(1)
    m = np.asarray(masks, dtype=bool)
    if m.shape[0] != heat.shape[0] or m.shape[2:] != heat.shape[1:]:
        raise ValueError(f"masks must be (N, R, H, W) with (N, H, W) = {heat.shape}, got {m.shape}")
    pos = np.clip(heat, 0, None)
    total = pos.sum((1, 2))
    inside = np.einsum("nhw,nrhw->nr", pos, m.astype(np.float64))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total[:, None] > 0, inside / total[:, None], np.nan)


def _between_ss(values: np.ndarray, cell: np.ndarray, stratum_of_cell: np.ndarray, n_cells: int) -> np.ndarray:
    """Per column: sum over strata of sum_g n_g (mean_g - mean_stratum)^2 (the between-group sum of squares)."""
    counts = np.bincount(cell, minlength=n_cells).astype(np.float64)
    sums = np.stack([np.bincount(cell, weights=values[:, j], minlength=n_cells) for j in range(values.shape[1])], 1)
    n_strata = int(stratum_of_cell.max()) + 1
    s_counts = np.bincount(stratum_of_cell, weights=counts, minlength=n_strata)
    s_sums = np.stack(
        [np.bincount(stratum_of_cell, weights=sums[:, j], minlength=n_strata) for j in range(values.shape[1])], 1
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        cell_mean = np.where(counts[:, None] > 0, sums / counts[:, None], 0.0)
        s_mean = np.where(s_counts[:, None] > 0, s_sums / s_counts[:, None], 0.0)
    return (counts[:, None] * (cell_mean - s_mean[stratum_of_cell]) ** 2).sum(0)


def compare_groups(
    shares: np.ndarray, groups: Sequence, strata: Sequence | None = None, num_permutations: int = 1000, seed: int = 0
) -> dict:
    """Permutation test of "the groups' mean region shares are equal" (within each stratum, e.g. predicted class).

    The statistic is the between-group sum of squares of the shares, per region and summed over regions; group
    labels are permuted within strata. Rows with NaN shares are left out. Returns ``p_value`` (all regions),
    ``region_p_values`` (one per column, not corrected for multiple testing), the observed statistics and ``n``.
    """
    v = np.asarray(shares, dtype=np.float64)
    g = np.asarray(groups)
    s = np.zeros(len(v), dtype=np.int64) if strata is None else np.asarray(strata)
    keep = ~np.isnan(v).any(1)
    v, g, s = v[keep], g[keep], s[keep]
    _, g_idx = np.unique(g, return_inverse=True)
    _, s_idx = np.unique(s, return_inverse=True)
    n_groups = int(g_idx.max()) + 1 if len(g_idx) else 0
    if n_groups < 2:
        return {
            "n": int(len(v)),
            "p_value": None,
            "region_p_values": None,
            "statistic": None,
            "reason": "fewer than two groups with usable heatmaps",
        }
    n_cells = (int(s_idx.max()) + 1) * n_groups
    stratum_of_cell = np.arange(n_cells) // n_groups
    observed = _between_ss(v, s_idx * n_groups + g_idx, stratum_of_cell, n_cells)
    rng = np.random.default_rng(seed)
    order = np.argsort(s_idx, kind="stable")
    bounds = np.flatnonzero(np.diff(s_idx[order])) + 1
    blocks = np.split(order, bounds)
    exceed = np.zeros(v.shape[1])
    exceed_all = 0
    perm_g = g_idx.copy()
    for _ in range(num_permutations):
        for block in blocks:
            perm_g[block] = rng.permutation(g_idx[block])
        stat = _between_ss(v, s_idx * n_groups + perm_g, stratum_of_cell, n_cells)
        exceed += stat >= observed - 1e-12
        exceed_all += stat.sum() >= observed.sum() - 1e-12
    return {
        "n": int(len(v)),
        "num_permutations": int(num_permutations),
        "p_value": float((1 + exceed_all) / (1 + num_permutations)),
        "region_p_values": ((1 + exceed) / (1 + num_permutations)).tolist(),
        "statistic": float(observed.sum()),
        "region_statistics": observed.tolist(),
    }
