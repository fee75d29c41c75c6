"""Per-group metrics for multiclass FER, MetricFrame-shaped: compute everything once, then read it cheaply.

The per-group arithmetic is delegated to fairlearn's ``MetricFrame``; this module adds what FER fairness reports need
on top of it (per-class TPR/FPR tables, the many-class generalisations of equal opportunity and equalized odds, flagged
small groups and bootstrap confidence intervals), with one return type per attribute whatever the input.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from functools import partial
from typing import Any, Literal

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame, count
from sklearn.metrics import f1_score

from .._utils.bootstrap import cluster_bootstrap_means

__all__ = ["GroupMetrics", "SmallGroupWarning", "group_report", "METRICS"]

METRICS = ("accuracy", "macro_f1", "worst_class_recall")
EQUALIZED_ODDS_DEFINITION = "mean over classes of 0.5 * (|dTPR| + |dFPR|), each d = max - min over groups"

MSG_NOT_1D = "{name} must be one label per sample (1-D), got shape {shape}"
MSG_LENGTH = "y_true, y_pred and groups must have the same length, got {}, {} and {}"
MSG_EMPTY = "need at least one sample, got none"
MSG_LABEL = "{name} contains {value!r}, which is neither one of labels {labels} nor an index 0..{last}"
MSG_DUPLICATE_LABELS = "labels must be unique, got {}"
MSG_GROUPS_TYPE = "groups must be a pandas Series or DataFrame, got {}"
MSG_NO_COLUMNS = "groups must have at least one column (sensitive attribute)"
MSG_MISSING_GROUP = "groups column {!r} has missing values; replace them (e.g. with 'unknown') so no row is lost"
MSG_ATTRIBUTES_TYPE = "attributes must be a pandas DataFrame with one column per sensitive attribute, got {}"
MSG_METRIC = "metric must be one of {}, got {!r}"
MSG_METHOD = "method must be 'between_groups' or 'to_overall', got {!r}"
MSG_MIN_GROUP = "min_group_size must be an int >= 1, got {!r}"
MSG_N_BOOT = "n_boot must be an int >= 0, got {!r}"
MSG_CI = "ci must be a float strictly between 0 and 1, got {!r}"
MSG_SMALL = "{k} group(s) of {attr!r} have fewer than min_group_size={size} samples: {groups}; their metrics are noisy"

_BOOT_CHUNK = 10_000_000  # index draws held in memory at once while bootstrapping one group


class SmallGroupWarning(UserWarning):
    """A group is below ``min_group_size``: kept and flagged, but its metrics are noisy."""


# --- metrics: plain callables f(y_true, y_pred), as MetricFrame wants them ------------------------------------------
def _accuracy(y_true: Any, y_pred: Any) -> float:
    return float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))


def _macro_f1(y_true: Any, y_pred: Any) -> float:
    """Macro-F1 over the classes present in this subset's truth (as in ``evaluate``): a class a group never shows
    says nothing about how the model treats that group, while wrong predictions of it still cost recall."""
    y_true = np.asarray(y_true)
    return float(f1_score(y_true, np.asarray(y_pred), labels=np.unique(y_true), average="macro", zero_division=0))


def _worst_class_recall(y_true: Any, y_pred: Any) -> float:
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return float(min(np.mean(y_pred[y_true == c] == c) for c in np.unique(y_true)))


def _class_rate(y_true: Any, y_pred: Any, *, cls: int, positives: bool) -> float:
    """TPR (``positives``) or FPR of one class, one-vs-rest; NaN when the denominator is empty."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    mask = (y_true == cls) if positives else (y_true != cls)
    return float(np.mean(y_pred[mask] == cls)) if mask.any() else math.nan


_SUMMARY = {"n": count, "accuracy": _accuracy, "macro_f1": _macro_f1, "worst_class_recall": _worst_class_recall}


# --- input normalisation ---------------------------------------------------------------------------------------------
def _as_1d(values: Any, name: str) -> np.ndarray:
    arr = np.asarray(values.cpu() if hasattr(values, "cpu") else values)
    if arr.ndim != 1:
        raise ValueError(MSG_NOT_1D.format(name=name, shape=arr.shape))
    return arr


def _resolve_labels(labels: Sequence[Any] | None, y_true: np.ndarray, y_pred: np.ndarray) -> tuple[Any, ...]:
    if labels is not None:
        labels = tuple(labels)
        if len(set(labels)) != len(labels):
            raise ValueError(MSG_DUPLICATE_LABELS.format(labels))
        return labels
    seen = pd.unique(pd.concat([pd.Series(y_true, dtype=object), pd.Series(y_pred, dtype=object)]))
    try:
        return tuple(sorted(seen))
    except TypeError:  # mixed types: a stable, deterministic order anyway
        return tuple(sorted(seen, key=str))


def _encode(values: np.ndarray, labels: tuple[Any, ...], name: str) -> np.ndarray:
    """Class codes 0..K-1; a value is a label, or (failing that) an integer index into ``labels``."""
    lookup = {lab: i for i, lab in enumerate(labels)}
    codes, uniques = pd.factorize(pd.Series(values, dtype=object))
    mapped = np.empty(len(uniques), dtype=np.int64)
    for j, value in enumerate(uniques):
        if value in lookup:
            mapped[j] = lookup[value]
        elif isinstance(value, (int, np.integer)) and not isinstance(value, bool) and 0 <= value < len(labels):
            mapped[j] = int(value)
        else:
            raise ValueError(MSG_LABEL.format(name=name, value=value, labels=list(labels), last=len(labels) - 1))
    return mapped[codes]


def _as_frame(groups: pd.Series | pd.DataFrame) -> pd.DataFrame:
    if isinstance(groups, pd.Series):
        frame = groups.to_frame(name=groups.name if groups.name is not None else "group")
    elif isinstance(groups, pd.DataFrame):
        frame = groups.copy()
    else:
        raise ValueError(MSG_GROUPS_TYPE.format(type(groups).__name__))
    if frame.shape[1] == 0:
        raise ValueError(MSG_NO_COLUMNS)
    for col in frame.columns:
        if frame[col].isna().any():
            raise ValueError(MSG_MISSING_GROUP.format(col))
    return frame.reset_index(drop=True)  # rows are matched to y_true / y_pred by position


def _check_params(min_group_size: int, n_boot: int, ci: float) -> None:
    if isinstance(min_group_size, bool) or not isinstance(min_group_size, (int, np.integer)) or min_group_size < 1:
        raise ValueError(MSG_MIN_GROUP.format(min_group_size))
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 0:
        raise ValueError(MSG_N_BOOT.format(n_boot))
    if not isinstance(ci, (float, int)) or not 0.0 < ci < 1.0:
        raise ValueError(MSG_CI.format(ci))


# --- aggregates ------------------------------------------------------------------------------------------------------
def _spread(rates: pd.DataFrame) -> pd.Series:
    """Per class, max - min over the groups where the rate is defined; NaN where fewer than two groups define it."""
    defined = rates.notna().sum(axis=0)
    return (rates.max(axis=0) - rates.min(axis=0)).where(defined >= 2)


def _bootstrap_accuracy(
    correct: np.ndarray, rows: list[np.ndarray], n_boot: int, seed: int, clusters: np.ndarray | None = None
) -> np.ndarray:
    """(n_boot, n_groups) accuracies, each from rows (with ``clusters``: whole clusters, e.g. subjects) resampled
    with replacement within its own group."""
    rng = np.random.default_rng(seed)
    out = np.empty((n_boot, len(rows)))
    for g, idx in enumerate(rows):
        if clusters is not None:
            out[:, g] = cluster_bootstrap_means(correct[idx][:, None], clusters[idx], n_boot, rng)[:, 0]
            continue
        hits = correct[idx]
        step = max(1, _BOOT_CHUNK // len(idx))
        for start in range(0, n_boot, step):
            stop = min(n_boot, start + step)
            draws = rng.integers(0, len(idx), size=(stop - start, len(idx)))
            out[start:stop, g] = hits[draws].mean(axis=1)
    return out


def _json(value: Any) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    return value


def _key(group: Any) -> str:
    return " & ".join(map(str, group)) if isinstance(group, tuple) else str(group)


class GroupMetrics:
    """Accuracy, macro-F1 and per-class error rates of a multiclass classifier, overall and per sensitive group.

    Everything is computed in the constructor; the attributes are lookups. Groups smaller than ``min_group_size``
    are kept and flagged (``by_group["small"]``) with a :class:`SmallGroupWarning`, never dropped, because dropping
    them would hide exactly the under-represented groups a fairness report is for.

    Parameters
    ----------
    y_true
        (N,) true class labels (strings from ``labels``, or integer indices into ``labels``).
    y_pred
        (N,) predicted class labels, in the same form as ``y_true``.
    groups
        pandas Series or DataFrame of N rows: the sensitive attribute(s), matched to the labels by position. Several
        columns mean intersectional groups (use :func:`group_report` for one report per attribute).
    labels
        Class order (e.g. ``EMOTIONS``); None takes the sorted union of the values seen.
    min_group_size
        Groups with fewer samples are flagged ``small``.
    n_boot
        Bootstrap resamples; with ``n_boot > 0``, percentile intervals for each group's accuracy and for the
        accuracy gap, resampling rows within each group. 0 computes no interval.
    ci
        Level of those intervals (strictly between 0 and 1).
    random_state
        Seed of the bootstrap resampling.
    clusters
        (N,) the unit the bootstrap resamples (a subject id, or the source image), so near-identical faces of one
        person do not narrow the intervals; None resamples rows.

    Raises
    ------
    ValueError
        Mismatched lengths or no samples; also, from the input checks, ``y_true`` or ``y_pred`` not 1-D, a label outside
        ``labels``, duplicate ``labels``, ``groups`` that is not a Series / DataFrame or has missing values, or
        bad ``min_group_size``, ``n_boot`` or ``ci``.
    """

    def __init__(
        self,
        *,
        y_true: Any,
        y_pred: Any,
        groups: pd.Series | pd.DataFrame,
        labels: Sequence[Any] | None = None,
        min_group_size: int = 30,
        n_boot: int = 0,
        ci: float = 0.95,
        random_state: int = 0,
        clusters: Any = None,
    ) -> None:
        _check_params(min_group_size, n_boot, ci)
        y_true, y_pred = _as_1d(y_true, "y_true"), _as_1d(y_pred, "y_pred")
        frame = _as_frame(groups)
        if not len(y_true) == len(y_pred) == len(frame):
            raise ValueError(MSG_LENGTH.format(len(y_true), len(y_pred), len(frame)))
        if len(y_true) == 0:
            raise ValueError(MSG_EMPTY)
        label_values = _resolve_labels(labels, y_true, y_pred)
        y, p = _encode(y_true, label_values, "y_true"), _encode(y_pred, label_values, "y_pred")
        self.labels: tuple[str, ...] = tuple(str(lab) for lab in label_values)
        self.attribute: str = " & ".join(map(str, frame.columns))
        self.min_group_size, self.n_boot = int(min_group_size), int(n_boot)
        self.ci, self.random_state = float(ci), int(random_state)
        self.clusters = None if clusters is None else np.asarray(clusters, dtype=object)
        if self.clusters is not None and len(self.clusters) != len(y_true):
            raise ValueError(f"clusters has {len(self.clusters)} rows, y_true {len(y_true)}")

        self._frame = MetricFrame(metrics=_SUMMARY, y_true=y, y_pred=p, sensitive_features=frame)
        by_group = self._frame.by_group.dropna(subset=["n"])  # drop only never-observed intersections (n = 0)
        by_group["n"] = by_group["n"].astype(int)
        by_group["small"] = by_group["n"] < self.min_group_size
        self._by_group = by_group
        overall = self._frame.overall.copy()
        overall["n"] = int(overall["n"])
        self._overall = overall
        self._tpr = self._rates(y, p, frame, positives=True)
        self._fpr = self._rates(y, p, frame, positives=False)
        self._by_group_ci, self._gap_ci = self._bootstrap(y == p, frame)
        self._warn_small()

    def _rates(self, y: np.ndarray, p: np.ndarray, frame: pd.DataFrame, *, positives: bool) -> pd.DataFrame:
        metrics = {lab: partial(_class_rate, cls=i, positives=positives) for i, lab in enumerate(self.labels)}
        table = MetricFrame(metrics=metrics, y_true=y, y_pred=p, sensitive_features=frame).by_group
        return table.loc[self._by_group.index, list(self.labels)].astype(float)

    def _bootstrap(self, correct: np.ndarray, frame: pd.DataFrame) -> tuple[pd.DataFrame, tuple[float, float]]:
        empty = pd.DataFrame(
            {
                "group": pd.Series(dtype=object),
                "metric": pd.Series(dtype=str),
                "low": pd.Series(dtype=float),
                "high": pd.Series(dtype=float),
            }
        )
        if self.n_boot == 0:
            return empty, (math.nan, math.nan)
        cols = list(frame.columns)
        indices = frame.groupby(cols if len(cols) > 1 else cols[0], observed=True, sort=False).indices
        rows = [np.asarray(indices[g]) for g in self._by_group.index]
        accs = _bootstrap_accuracy(correct, rows, self.n_boot, self.random_state, self.clusters)
        q = [(1.0 - self.ci) / 2.0, (1.0 + self.ci) / 2.0]
        low, high = np.quantile(accs, q, axis=0)
        table = pd.DataFrame({"group": list(self._by_group.index), "metric": "accuracy", "low": low, "high": high})
        gap_low, gap_high = np.quantile(accs.max(axis=1) - accs.min(axis=1), q)
        return table, (float(gap_low), float(gap_high))

    def _warn_small(self) -> None:
        small = self._by_group.index[self._by_group["small"]]
        if len(small):
            names = ", ".join(f"{_key(g)} (n={self._by_group.loc[g, 'n']})" for g in small)
            warnings.warn(
                MSG_SMALL.format(k=len(small), attr=self.attribute, size=self.min_group_size, groups=names),
                SmallGroupWarning,
                stacklevel=3,
            )

    # --- lookups -----------------------------------------------------------------------------------------------------
    @property
    def overall(self) -> pd.Series:
        """n, accuracy, macro_f1 and worst_class_recall over all rows."""
        return self._overall.copy()

    @property
    def by_group(self) -> pd.DataFrame:
        """One row per observed group: n, accuracy, macro_f1, worst_class_recall and the ``small`` flag."""
        return self._by_group.copy()

    @property
    def tpr(self) -> pd.DataFrame:
        """Group x class recall (TPR, one-vs-rest); NaN where the group has no sample of that class."""
        return self._tpr.copy()

    @property
    def fpr(self) -> pd.DataFrame:
        """Group x class false-positive rate P(pred = c | true != c); NaN where the group has only class c."""
        return self._fpr.copy()

    def difference(
        self, metric: str = "accuracy", method: Literal["between_groups", "to_overall"] = "between_groups"
    ) -> float:
        """Max - min over groups (``between_groups``) or the largest |group - overall| (``to_overall``)."""
        return float(self._aggregate("difference", metric, method))

    def ratio(
        self, metric: str = "accuracy", method: Literal["between_groups", "to_overall"] = "between_groups"
    ) -> float:
        """Min / max over groups (Xu et al.'s fairness ratio for accuracy), or the smallest group/overall ratio."""
        return float(self._aggregate("ratio", metric, method))

    def _aggregate(self, kind: str, metric: str, method: str) -> float:
        if metric not in METRICS:
            raise ValueError(MSG_METRIC.format(list(METRICS), metric))
        if method not in ("between_groups", "to_overall"):
            raise ValueError(MSG_METHOD.format(method))
        return getattr(self._frame, kind)(method=method)[metric]

    @property
    def worst_group_accuracy(self) -> float:
        """Accuracy of the worst-served group."""
        return float(self._by_group["accuracy"].min())

    @property
    def accuracy_gap(self) -> float:
        """Best minus worst group accuracy."""
        return self.difference("accuracy", "between_groups")

    @property
    def equal_opportunity_gap(self) -> float:
        """Mean over classes of max_g TPR - min_g TPR; a group lacking a class is skipped for that class, and
        classes seen in fewer than two groups are left out of the mean (NaN if no class remains)."""
        return float(_spread(self._tpr).mean())

    @property
    def equalized_odds_gap(self) -> float:
        """Mean over classes of 0.5 * (dTPR + dFPR), each d = max - min over the groups where the rate is defined.

        We average the two rates (not their max) so the multiclass value reduces to the binary 0.5(|dTPR| + |dFPR|)
        of METHODS.md 1.6 with two groups; classes where either spread is undefined are left out of the mean.
        """
        return float((0.5 * (_spread(self._tpr) + _spread(self._fpr))).mean())

    @property
    def by_group_ci(self) -> pd.DataFrame:
        """Bootstrap intervals: columns group, metric, low, high (empty when ``n_boot == 0``)."""
        return self._by_group_ci.copy()

    @property
    def gap_ci(self) -> tuple[float, float]:
        """Bootstrap interval of the accuracy gap ((nan, nan) when ``n_boot == 0``).

        Max - min of noisy estimates is biased upwards, so with truly equal groups the interval can sit above the
        point estimate; read it as "how large could the gap be", not as a test of zero.
        """
        return self._gap_ci

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (NaN becomes None, group keys become strings)."""
        by_group = {_key(g): {k: _json(v) for k, v in row.items()} for g, row in self._by_group.iterrows()}
        tpr = {_key(g): {k: _json(v) for k, v in row.items()} for g, row in self._tpr.iterrows()}
        boot = None
        if self.n_boot:
            boot = {
                "n_boot": self.n_boot,
                "ci": self.ci,
                "random_state": self.random_state,
                "accuracy": {_key(r.group): [_json(r.low), _json(r.high)] for r in self._by_group_ci.itertuples()},
                "accuracy_gap": [_json(v) for v in self._gap_ci],
            }
        return {
            "attribute": self.attribute,
            "labels": list(self.labels),
            "min_group_size": self.min_group_size,
            "overall": {k: _json(v) for k, v in self._overall.items()},
            "by_group": by_group,
            "tpr": tpr,
            "small_groups": [_key(g) for g in self._by_group.index[self._by_group["small"]]],
            "worst_group_accuracy": _json(self.worst_group_accuracy),
            "accuracy_gap": _json(self.accuracy_gap),
            "accuracy_ratio": _json(self.ratio("accuracy")),
            "equal_opportunity_gap": _json(self.equal_opportunity_gap),
            "equalized_odds_gap": _json(self.equalized_odds_gap),
            "equalized_odds_definition": EQUALIZED_ODDS_DEFINITION,
            "bootstrap": boot,
        }


def group_report(y_true: Any, y_pred: Any, attributes: pd.DataFrame, **kw: Any) -> dict[str, GroupMetrics]:
    """One :class:`GroupMetrics` per sensitive attribute (column), so each attribute is judged on its own groups
    rather than on their intersections; ``kw`` goes to every constructor."""
    if not isinstance(attributes, pd.DataFrame):
        raise ValueError(MSG_ATTRIBUTES_TYPE.format(type(attributes).__name__))
    return {
        str(col): GroupMetrics(y_true=y_true, y_pred=y_pred, groups=attributes[col], **kw) for col in attributes.columns
    }
