"""Krippendorff's alpha (interval metric) of the human raters, in closed form and with a bootstrap CI."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ._common import _emotion_arg, _emotion_matrices
from .ratings import validate_ratings


def _unit_stats(reliability_data: np.ndarray) -> np.ndarray:
    """Per pairable unit (>= 2 values): [m, sum x, sum x^2, observed disagreement 2 m SS / (m - 1)], shape [U, 4]."""
    data = np.asarray(reliability_data, dtype=np.float64)  # [raters, units]
    seen = ~np.isnan(data)
    m = seen.sum(0).astype(np.float64)
    x = np.where(seen, data, 0.0)
    s1, s2 = x.sum(0), (x * x).sum(0)
    keep = m >= 2
    m, s1, s2 = m[keep], s1[keep], s2[keep]
    ss = np.maximum(s2 - s1 * s1 / m, 0.0)  # within-unit sum of squares
    return np.stack([m, s1, s2, 2 * m * ss / (m - 1)], axis=1)


def _alpha_from_sums(sums: np.ndarray) -> np.ndarray:
    """Interval alpha = 1 - (n - 1) D_o / (2 n SS_total) from summed unit stats [..., 4]; NaN when undefined."""
    n, s1, s2, d_o = np.moveaxis(sums, -1, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        d_e = 2 * n * (s2 - s1 * s1 / n)
        out = 1 - (n - 1) * d_o / d_e
    return np.where((n >= 2) & (d_e > 1e-12 * np.maximum(n * s2, 1.0)), out, np.nan)


def interval_alpha(reliability_data: np.ndarray) -> float:
    """Krippendorff's alpha, interval metric, of a (raters, units) array with NaN = missing, in closed form.

    Equals ``krippendorff.alpha(level_of_measurement="interval")`` (pairs within a unit contribute (x_i - x_j)^2,
    which sums to 2 m SS per unit), but takes any real values and is cheap enough to bootstrap. NaN when no unit
    has 2 values or all values are equal.
    """
    return float(_alpha_from_sums(_unit_stats(reliability_data).sum(0)))


def bootstrap_interval_alpha(
    reliability_data: np.ndarray, n_boot: int = 1000, seed: int = 42, ci: float = 0.95
) -> tuple[float, float]:
    """Percentile-bootstrap interval of :func:`interval_alpha`, resampling units (images) with replacement.

    Only pairable units (rated by >= 2 raters) are resampled: the others add nothing to either disagreement.
    Resamples whose alpha is undefined are left out. ``n_boot=0`` gives (NaN, NaN).
    """
    stats = _unit_stats(reliability_data)
    if n_boot <= 0 or len(stats) < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    n_units = len(stats)
    alphas = np.empty(n_boot)
    step = max(1, 1_000_000 // n_units)  # bound the [step, U] draw and count blocks
    for start in range(0, n_boot, step):
        idx = rng.integers(0, n_units, size=(min(step, n_boot - start), n_units))  # [B, U] drawn units
        flat = (idx + n_units * np.arange(len(idx))[:, None]).ravel()
        counts = np.bincount(flat, minlength=idx.size).reshape(idx.shape).astype(np.float64)  # [B, U] multiplicity
        alphas[start : start + len(idx)] = _alpha_from_sums(counts @ stats)  # [B, 4] -> [B]
    if np.isnan(alphas).all():
        return float("nan"), float("nan")
    lo, hi = np.nanquantile(alphas, [(1 - ci) / 2, 1 - (1 - ci) / 2])
    return float(lo), float(hi)


def _package_alpha(reliability_data: np.ndarray) -> float:
    """The krippendorff package's interval alpha; NaN where it refuses (one value only, no pairable unit)."""
    import krippendorff

    try:
        return float(krippendorff.alpha(reliability_data=reliability_data, level_of_measurement="interval"))
    except ValueError:
        return float("nan")


def krippendorff_alpha(
    ratings: pd.DataFrame, emotion: str, annotators: Sequence[str] | None = None, n_boot: int = 1000, seed: int = 42
) -> tuple[float, float, float]:
    """Krippendorff's alpha (interval, ``krippendorff`` package) of ``annotators`` (default: all) on one emotion,
    with a 95 % percentile-bootstrap CI over images (:func:`bootstrap_interval_alpha`). Returns (alpha, lo, hi);
    NaN where undefined."""
    ratings, emotion = validate_ratings(ratings), _emotion_arg(emotion)
    raters = list(annotators) if annotators is not None else list(dict.fromkeys(ratings["annotator"]))
    mats = _emotion_matrices(ratings[ratings["emotion"] == emotion], raters)
    if emotion not in mats:
        return float("nan"), float("nan"), float("nan")
    data = mats[emotion].T  # [raters, images]
    return (_package_alpha(data), *bootstrap_interval_alpha(data, n_boot, seed))
