"""Linear probe: how well can the sensitive group be read off a model's embeddings?

A fair representation should hide the group, so the probe's cross-validated accuracy should sit near chance (the
majority group's share); accuracy near 1.0 means the group is linearly encoded and a head could exploit it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

__all__ = ["probe_accuracy"]

MSG_EMBED_SHAPE = "embeddings must be a 2-D (N, D) array, got shape {}"
MSG_EMBED_FINITE = "embeddings contain NaN or infinite values"
MSG_LENGTH = "embeddings and groups must have the same length, got {} and {}"
MSG_FOLDS = "folds must be an int >= 2, got {!r}"
MSG_ONE_GROUP = "groups must contain at least two distinct values to probe, got {}"
MSG_MISSING = "groups has missing values; replace them (e.g. with 'unknown') before probing"
MSG_TOO_FEW = "every group needs at least folds={folds} samples for stratified CV; smallest: {group!r} with {n}"


def _as_array(values: Any) -> np.ndarray:
    return np.asarray(values.detach().cpu() if hasattr(values, "detach") else values)


def probe_accuracy(embeddings: Any, groups: Any, folds: int = 5, seed: int = 0) -> dict[str, float | int]:
    """Out-of-fold accuracy of a standardised logistic-regression probe predicting the group from the embeddings.

    Parameters
    ----------
    embeddings
        (N, D) embeddings, one per sample (a Tensor is detached and moved to the CPU); must be finite.
    groups
        (N,) sensitive group of each sample (any hashable values; none missing).
    folds
        Number of stratified CV folds (shuffled, seeded by ``seed``), at least 2.
    seed
        Seed of the fold split and the solver.

    Returns
    -------
    dict
        ``accuracy`` (out-of-fold, all N samples), ``chance`` (majority-group share) and ``n``.

    Raises
    ------
    ValueError
        Bad shapes or lengths, non-finite embeddings, ``folds`` below 2, missing groups, fewer than two groups,
        or a group with fewer than ``folds`` samples.
    """
    x = _as_array(embeddings).astype(np.float64, copy=False)
    y = pd.Series(_as_array(groups).reshape(-1), dtype=object)
    if x.ndim != 2:
        raise ValueError(MSG_EMBED_SHAPE.format(x.shape))
    if len(x) != len(y):
        raise ValueError(MSG_LENGTH.format(len(x), len(y)))
    if not np.isfinite(x).all():
        raise ValueError(MSG_EMBED_FINITE)
    if isinstance(folds, bool) or not isinstance(folds, (int, np.integer)) or folds < 2:
        raise ValueError(MSG_FOLDS.format(folds))
    if y.isna().any():
        raise ValueError(MSG_MISSING)
    codes, uniques = pd.factorize(y)
    if len(uniques) < 2:
        raise ValueError(MSG_ONE_GROUP.format(list(uniques)))
    counts = np.bincount(codes)
    if counts.min() < folds:
        raise ValueError(MSG_TOO_FEW.format(folds=folds, group=uniques[counts.argmin()], n=int(counts.min())))
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, random_state=seed))
    cv = StratifiedKFold(n_splits=int(folds), shuffle=True, random_state=seed)
    pred = cross_val_predict(model, x, codes, cv=cv)
    return {"accuracy": float(np.mean(pred == codes)), "chance": float(counts.max() / len(codes)), "n": int(len(codes))}
