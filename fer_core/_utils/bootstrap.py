"""Means with percentile-bootstrap intervals for many cells of a long table at once (the dataset studies' tables)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["bootstrap_mean", "grouped_means", "table_records"]


def bootstrap_mean(
    values: np.ndarray, n_boot: int = 1000, ci: float = 0.95, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Column means of ``values`` (n, m) and their percentile-bootstrap interval (rows resampled together, so
    columns keep their pairing). NaN entries are left out of each column's mean. ``n_boot=0``: no interval (NaN)."""
    v = np.asarray(values, dtype=np.float64)
    if v.ndim == 1:
        v = v[:, None]
    ok = ~np.isnan(v)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(ok, v, 0).sum(0) / ok.sum(0)
    lo = np.full(v.shape[1], np.nan)
    hi = np.full(v.shape[1], np.nan)
    n = len(v)
    if n_boot > 0 and n > 1:
        rng = np.random.default_rng(seed)
        means = np.empty((n_boot, v.shape[1]))
        step = max(1, 2_000_000 // (n * v.shape[1]))  # bound the resampled values held in memory
        for s in range(0, n_boot, step):
            idx = rng.integers(0, n, size=(min(step, n_boot - s), n))
            vals, oks = np.where(ok, v, 0)[idx], ok[idx]
            with np.errstate(invalid="ignore", divide="ignore"):
                means[s : s + len(idx)] = vals.sum(1) / oks.sum(1)
        alpha = (1 - ci) / 2
        lo, hi = np.nanquantile(means, [alpha, 1 - alpha], axis=0)
    return mean, lo, hi


def grouped_means(
    frame: pd.DataFrame, by: Sequence[str], values: Sequence[str], n_boot: int = 1000, ci: float = 0.95, seed: int = 0
) -> pd.DataFrame:
    """One row per combination of ``by``: ``n`` and, for each value column, its mean with ``<col>_lo``/``<col>_hi``
    bootstrap bounds."""
    out = []
    for i, (key, part) in enumerate(frame.groupby(list(by), sort=True, observed=True)):
        key = key if isinstance(key, tuple) else (key,)
        mean, lo, hi = bootstrap_mean(part[list(values)].to_numpy(), n_boot, ci, seed + i)
        row = dict(zip(by, key)) | {"n": len(part)}
        for j, col in enumerate(values):
            row |= {col: mean[j], f"{col}_lo": lo[j], f"{col}_hi": hi[j]}
        out.append(row)
    return pd.DataFrame(out, columns=[*by, "n"] + [c for col in values for c in (col, f"{col}_lo", f"{col}_hi")])


def table_records(frame: pd.DataFrame, digits: int = 5) -> list[dict]:
    """Rows of a :func:`grouped_means` table as JSON-ready dicts (floats rounded, numpy integers as int)."""
    return [
        {
            k: (
                round(float(v), digits)
                if isinstance(v, (float, np.floating))
                else int(v)
                if isinstance(v, np.integer)
                else v
            )
            for k, v in row.items()
        }
        for row in frame.to_dict("records")
    ]
