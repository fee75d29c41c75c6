"""Quadratic-weighted Cohen's kappa: one pair of raters, every pair at once, and the per-emotion agreement table."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._common import _clean, _emotion_arg, _emotion_matrices, _records
from .ratings import MAX_RATING, validate_ratings

HUMAN = "human"  # the name of the humans' own row/column in agreement tables
_RESERVED = {HUMAN, "emotion", "group", "alpha", "alpha_lo", "alpha_hi", "n_images"}  # columns of to_frame()


# ---------------------------------------------------------------------------------------------------- kappa --
def pairwise_kappa(ratings: pd.DataFrame, emotion: str, a: str, b: str) -> float | None:
    """Quadratic-weighted Cohen's kappa (sklearn, labels 0..7) of raters ``a`` and ``b`` on one emotion.

    ``ratings`` is a validated table (:func:`read_ratings` / :func:`validate_ratings`); ``emotion`` may be a
    "group|emotion" key. Uses the images both rated. Returns None when they share fewer than 2 images, or when
    kappa is undefined: both gave one and the same rating throughout (expected disagreement 0, so 0/0; sklearn
    returns NaN). None means "no information", so averages skip it rather than count it as 0 or 1.
    """
    from sklearn.metrics import cohen_kappa_score  # lazy: sklearn.metrics takes a second to import

    part = ratings[(ratings["emotion"] == _emotion_arg(emotion)) & ratings["annotator"].isin([a, b])]
    both = part.pivot(index="image", columns="annotator", values="rating").reindex(columns=[a, b]).dropna()
    if len(both) < 2:
        return None
    x, y = both[a].to_numpy(np.int64), both[b].to_numpy(np.int64)
    if (x == x[0]).all() and (y == x[0]).all():
        return None
    kappa = float(cohen_kappa_score(x, y, weights="quadratic", labels=list(range(MAX_RATING + 1))))
    return None if np.isnan(kappa) else kappa


def kappa_matrix(matrix: np.ndarray) -> np.ndarray:
    """Quadratic-weighted kappa of every pair of rater columns of ``matrix`` (images, raters), NaN = not rated.

    The same number as sklearn's ``cohen_kappa_score(weights="quadratic")`` on each pair's shared images, in
    closed form: kappa = 1 - n * sum (x - y)^2 / (n sum x^2 + n sum y^2 - 2 sum x sum y); sums of small integers
    are exact in float64. NaN where undefined (see :func:`pairwise_kappa`) and on the diagonal.
    """
    seen = ~np.isnan(matrix)
    x = np.where(seen, matrix, 0.0)  # [I, R]
    m = seen.astype(np.float64)
    n = m.T @ m  # [R, R] shared images
    s1 = x.T @ m  # s1[a, b]: sum of a's ratings on images b also rated
    s2 = (x * x).T @ m
    sxy = x.T @ x
    num = n * (s2 + s2.T - 2 * sxy)
    den = n * (s2 + s2.T) - 2 * s1 * s1.T
    ok = (n >= 2) & (den > 0)
    kappa = np.full_like(n, np.nan)
    kappa[ok] = 1 - num[ok] / den[ok]
    np.fill_diagonal(kappa, np.nan)
    return kappa


def _nanmean(values: np.ndarray, axis: int | None = None) -> np.ndarray | float:
    """Mean that skips NaN and gives NaN (without a warning) where nothing is left."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(values, axis=axis)


def _rater_scores(kappa: np.ndarray, n_humans: int) -> np.ndarray:
    """[human score, model 1 score, ...] from one emotion's kappa matrix whose first ``n_humans`` columns are humans."""
    hh = kappa[:n_humans, :n_humans]
    human = _nanmean(_nanmean(hh, axis=1)) if n_humans > 1 else np.nan
    models = _nanmean(kappa[n_humans:, :n_humans], axis=1) if len(kappa) > n_humans else np.empty(0)
    return np.concatenate([[human], np.atleast_1d(models)])


@dataclass(frozen=True)
class AgreementTable:
    """Per-emotion kappa scores (index emotion, one column per rater: "human" then models) and their summary.

    ``summary`` has one row per rater: mean, std (ddof=1), median and number of emotions with a defined score,
    and the best emotion with its kappa. Emotions without a defined kappa are skipped, not counted as 0.
    """

    per_emotion: pd.DataFrame
    summary: pd.DataFrame

    def to_json(self) -> dict:
        """JSON-ready dict: per emotion scores and per rater summary (NaN as None)."""
        return {
            "per_emotion": _records(self.per_emotion.reset_index()),
            "summary": {r: _clean(row) for r, row in self.summary.to_dict("index").items()},
        }


def _summarise(per_emotion: pd.DataFrame) -> pd.DataFrame:
    rows = {}
    for rater, col in per_emotion.items():
        col = col.dropna()
        best = col.idxmax() if len(col) else None
        rows[rater] = {
            "mean": col.mean(),
            "std": col.std(ddof=1),
            "median": col.median(),
            "n_emotions": len(col),
            "best_emotion": best,
            "best_kappa": col[best] if best is not None else np.nan,
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def _split_raters(
    ratings: pd.DataFrame, humans: Sequence[str] | None, models: Sequence[str] | None
) -> tuple[list[str], list[str]]:
    """Humans default to every annotator that is not a model; a name used twice or called "human" is an error."""
    names = list(dict.fromkeys(ratings["annotator"]))
    models = list(models or [])
    humans = list(humans) if humans is not None else [a for a in names if a not in models]
    unknown = [r for r in humans + models if r not in names]
    if unknown:
        raise ValueError(f"raters {unknown} have no ratings; annotators present: {names[:10]}")
    clash = set(humans) & set(models) | (_RESERVED & set(models))
    if clash:
        raise ValueError(
            f"rater names {sorted(clash)} are used for both humans and models, or reserved ({sorted(_RESERVED)})"
        )
    return humans, models


def agreement_table(
    ratings: pd.DataFrame, humans: Sequence[str] | None = None, models: Sequence[str] | None = None
) -> AgreementTable:
    """Kappa agreement per emotion for the humans (mean over humans of each one's mean kappa vs the others) and for
    each model (mean kappa vs every human), plus the summary over emotions (see :class:`AgreementTable`).

    ``humans`` defaults to every annotator not in ``models``.
    """
    ratings = validate_ratings(ratings)
    humans, models = _split_raters(ratings, humans, models)
    mats = _emotion_matrices(ratings, humans + models)
    return _table({e: _rater_scores(kappa_matrix(m), len(humans)) for e, m in mats.items()}, models)


def _table(scores: dict[str, np.ndarray], models: Sequence[str]) -> AgreementTable:
    per_emotion = pd.DataFrame.from_dict(scores, orient="index", columns=[HUMAN, *models]).rename_axis("emotion")
    return AgreementTable(per_emotion=per_emotion, summary=_summarise(per_emotion))
