"""Means with percentile-bootstrap intervals for many cells of a long table at once (the dataset studies' tables).

Faces of one person (or several faces cut from one photo) are not independent: near-identical frames of a sequence
would make an interval look far tighter than the data allow. Every bootstrap here therefore takes ``clusters``
(the ``subject``, else the source image: :func:`cluster_ids`) and resamples whole clusters; without them, each row is
its own cluster (the plain bootstrap).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = [
    "CLUSTER_COLUMN",
    "bootstrap_mean",
    "cluster_bootstrap_means",
    "cluster_ids",
    "grouped_means",
    "table_records",
]

#: the column a manifest names its people by; the unit the intervals resample when present
CLUSTER_COLUMN = "subject"


def cluster_ids(table: pd.DataFrame, paths: Sequence[object] | None = None) -> tuple[np.ndarray, str]:
    """(one cluster label per row, what they are): the ``subject`` column when every row has one, else the source
    image (``paths``, or the ``path`` column), so the faces of one photo stay together."""
    if CLUSTER_COLUMN in table.columns:
        subjects = table[CLUSTER_COLUMN].astype(str).str.strip()
        if len(subjects) and not subjects.isin(["", "nan", "None"]).any():
            return subjects.to_numpy(dtype=object), "subject"
    source = list(paths) if paths is not None else list(table["path"])
    return np.asarray([str(p) for p in source], dtype=object), "image"


def cluster_bootstrap_means(
    values: np.ndarray, clusters: np.ndarray | None, n_boot: int, rng: np.random.Generator
) -> np.ndarray:
    """(n_boot, m) column means of ``values`` (n, m) over resamples of whole clusters (NaN entries left out of each
    column); ``clusters=None`` resamples rows."""
    v = np.asarray(values, dtype=np.float64)
    ok = ~np.isnan(v)
    vals = np.where(ok, v, 0)
    if clusters is None:
        sums, counts = vals, ok.astype(np.float64)
    else:
        _, inverse = np.unique(np.asarray(clusters, dtype=str), return_inverse=True)
        c = int(inverse.max()) + 1 if len(inverse) else 0
        sums = np.zeros((c, v.shape[1]))
        counts = np.zeros((c, v.shape[1]))
        np.add.at(sums, inverse, vals)
        np.add.at(counts, inverse, ok)
    n = len(sums)
    means = np.empty((n_boot, v.shape[1]))
    step = max(1, 2_000_000 // max(1, n * v.shape[1]))  # bound the resampled values held in memory
    for s in range(0, n_boot, step):
        idx = rng.integers(0, n, size=(min(step, n_boot - s), n))
        with np.errstate(invalid="ignore", divide="ignore"):
            means[s : s + len(idx)] = sums[idx].sum(1) / counts[idx].sum(1)
    return means


def bootstrap_mean(
    values: np.ndarray,
    n_boot: int = 1000,
    ci: float = 0.95,
    seed: int = 0,
    clusters: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Column means of ``values`` (n, m) and their percentile-bootstrap interval (rows resampled together, so
    columns keep their pairing; with ``clusters``, whole clusters). NaN entries are left out of each column's mean.
    ``n_boot=0``: no interval (NaN)."""
    v = np.asarray(values, dtype=np.float64)
    if v.ndim == 1:
        v = v[:, None]
    ok = ~np.isnan(v)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(ok, v, 0).sum(0) / ok.sum(0)
    lo = np.full(v.shape[1], np.nan)
    hi = np.full(v.shape[1], np.nan)
    units = len(v) if clusters is None else len(set(np.asarray(clusters, dtype=str).tolist()))
    if n_boot > 0 and units > 1:
        means = cluster_bootstrap_means(v, clusters, n_boot, np.random.default_rng(seed))
        alpha = (1 - ci) / 2
        lo, hi = np.nanquantile(means, [alpha, 1 - alpha], axis=0)
    return mean, lo, hi


def grouped_means(
    frame: pd.DataFrame,
    by: Sequence[str],
    values: Sequence[str],
    n_boot: int = 1000,
    ci: float = 0.95,
    seed: int = 0,
    cluster: str | None = None,
) -> pd.DataFrame:
    """One row per combination of ``by``: ``n`` and, for each value column, its mean with ``<col>_lo``/``<col>_hi``
    bootstrap bounds (resampling the ``cluster`` column's clusters within the cell when given)."""
    out = []
    for i, (key, part) in enumerate(frame.groupby(list(by), sort=True, observed=True)):
        key = key if isinstance(key, tuple) else (key,)
        clusters = part[cluster].to_numpy() if cluster else None
        mean, lo, hi = bootstrap_mean(part[list(values)].to_numpy(), n_boot, ci, seed + i, clusters)
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
