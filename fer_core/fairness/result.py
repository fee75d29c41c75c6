"""Typed, read-only views of the fairness report dicts, in fairlearn's ``MetricFrame`` shape.

:func:`~fer_core.fairness.fairness_report` returns (and training stores in ``evaluation.json``) plain JSON-ready dicts;
that stays the storage format. Readers that walk the numbers (the Fairness page, notebooks) build a view once with
:meth:`AttributeReport.from_dict` / :meth:`EvaluationReport.from_dict` and then read tables and scalars instead of
nested keys: ``.overall`` is a Series, ``.by_group`` a DataFrame with one row per group, ``.mmd`` a DataFrame with one
row per pair of groups.

Examples
--------
>>> import pandas as pd
>>> from fer_core.fairness import AttributeReport, fairness_report
>>> rep = fairness_report(["a", "a", "b", "b"], ["a", "b", "b", "b"], ["a", "b"],
...                       pd.DataFrame({"g": ["x", "x", "y", "y"]}), min_group_size=1, n_boot=0)
>>> view = AttributeReport.from_dict(rep["attributes"]["g"])
>>> view.by_group["accuracy"].to_dict()
{'x': 0.5, 'y': 1.0}
>>> view.worst_group, view.accuracy_gap
('x', 0.5)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["AttributeReport", "EvaluationReport", "ProbeResult", "shared_attributes"]

MSG_NOT_A_REPORT = "expected the dict of one attribute's fairness report (with 'overall' and 'by_group'), got keys {}"
MSG_UNKNOWN_ATTRIBUTE = "no fairness report for attribute {!r}; the report has {}"

#: columns of :attr:`AttributeReport.by_group`, in this order (``worst_class_recall`` only when the report has it)
BY_GROUP_COLUMNS = ("n", "accuracy", "macro_f1", "worst_class_recall", "small", "ci_low", "ci_high")
#: columns of :attr:`AttributeReport.mmd`, one row per pair of groups
MMD_COLUMNS = ("a", "b", "n_a", "n_b", "mmd2", "p_value", "null_std", "shrinkage_mmd2", "plain_mmd2", "reason")


def _float(value: Any) -> float:
    """JSON number or null as a float (null -> NaN)."""
    return math.nan if value is None else float(value)


@dataclass(frozen=True)
class ProbeResult:
    """A linear probe's accuracy at guessing the group from the embeddings, and the majority-class chance level."""

    accuracy: float
    chance: float
    n: int


class AttributeReport:
    """One sensitive attribute's fairness report: computed once (by ``fairness_report``), read cheaply here.

    Build it with :meth:`from_dict`. Tables are returned as copies, so a reader cannot change what others read.
    """

    def __init__(
        self,
        *,
        attribute: str,
        labels: tuple[str, ...],
        min_group_size: int,
        overall: pd.Series,
        by_group: pd.DataFrame,
        tpr: pd.DataFrame,
        scalars: Mapping[str, float],
        gap_interval: tuple[float, float] | None,
        mmd: pd.DataFrame | None,
        mmd_groups: tuple[str, ...],
        mean_mmd2: float | None,
        probe: ProbeResult | None,
    ) -> None:
        self.attribute, self.labels, self.min_group_size = attribute, labels, min_group_size
        self._overall, self._by_group, self._tpr = overall, by_group, tpr
        self._scalars = dict(scalars)
        self.gap_interval = gap_interval
        self._mmd, self.mmd_groups, self.mean_mmd2 = mmd, mmd_groups, mean_mmd2
        self.probe = probe

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], attribute: str | None = None) -> AttributeReport:
        """The view of one entry of ``fairness_report(...)["attributes"]`` (or of ``evaluation.json``); ``attribute``
        names it when the dict does not (older reports)."""
        if not isinstance(d, Mapping) or "overall" not in d or "by_group" not in d:
            raise ValueError(MSG_NOT_A_REPORT.format(sorted(d) if isinstance(d, Mapping) else type(d).__name__))
        boot = d.get("bootstrap") or {}
        intervals = boot.get("accuracy") or {}
        rows = {}
        for group, m in d["by_group"].items():
            low, high = intervals.get(group) or (None, None)
            rows[str(group)] = {k: _float(m.get(k)) for k in ("accuracy", "macro_f1", "worst_class_recall")} | {
                "n": int(m["n"]),
                "small": bool(m.get("small", False)),
                "ci_low": _float(low),
                "ci_high": _float(high),
            }
        columns = [
            c
            for c in BY_GROUP_COLUMNS
            if c != "worst_class_recall" or any("worst_class_recall" in m for m in d["by_group"].values())
        ]
        by_group = pd.DataFrame.from_dict(rows, orient="index").reindex(columns=columns)
        by_group.index.name = attribute if attribute is not None else d.get("attribute")
        overall = pd.Series({k: _float(v) for k, v in d["overall"].items()}, dtype=float)
        tpr = pd.DataFrame.from_dict(
            {str(g): {c: _float(v) for c, v in row.items()} for g, row in (d.get("tpr") or {}).items()}, orient="index"
        ).astype(float)
        gap = boot.get("accuracy_gap")
        gap_interval = (_float(gap[0]), _float(gap[1])) if gap and gap[0] is not None else None
        mmd, mmd_groups, mean_mmd2 = None, (), None
        if d.get("mmd"):
            mmd = pd.DataFrame(
                [{c: p.get(c) for c in MMD_COLUMNS} for p in d["mmd"].get("pairs", [])], columns=list(MMD_COLUMNS)
            )
            for col in ("mmd2", "p_value", "null_std", "shrinkage_mmd2", "plain_mmd2"):
                mmd[col] = mmd[col].astype(float)
            mmd_groups = tuple(str(g) for g in d["mmd"].get("groups", []))
            mean_mmd2 = d["mmd"].get("mean_mmd2")
        probe_d = d.get("probe") or {}
        probe = (
            ProbeResult(float(probe_d["accuracy"]), _float(probe_d.get("chance")), int(probe_d.get("n") or 0))
            if probe_d.get("accuracy") is not None
            else None
        )
        scalars = {
            k: _float(d.get(k))
            for k in (
                "worst_group_accuracy",
                "accuracy_gap",
                "accuracy_ratio",
                "equal_opportunity_gap",
                "equalized_odds_gap",
            )
        }
        return cls(
            attribute=str(attribute if attribute is not None else d.get("attribute", "")),
            labels=tuple(d.get("labels", ())),
            min_group_size=int(d.get("min_group_size", 0)),
            overall=overall,
            by_group=by_group,
            tpr=tpr,
            scalars=scalars,
            gap_interval=gap_interval,
            mmd=mmd,
            mmd_groups=mmd_groups,
            mean_mmd2=mean_mmd2,
            probe=probe,
        )

    # --- tables ------------------------------------------------------------------------------------------------------
    @property
    def overall(self) -> pd.Series:
        """n, accuracy, macro_f1 (and worst_class_recall) over all rows."""
        return self._overall.copy()

    @property
    def by_group(self) -> pd.DataFrame:
        """One row per group (index: the group names, in the report's order): n, accuracy, macro_f1,
        worst_class_recall, the ``small`` flag and the bootstrap interval of the accuracy (``ci_low``/``ci_high``,
        NaN without a bootstrap)."""
        return self._by_group.copy()

    @property
    def tpr(self) -> pd.DataFrame:
        """Group x class recall; NaN where a group has no sample of the class."""
        return self._tpr.copy()

    @property
    def mmd(self) -> pd.DataFrame | None:
        """One row per pair of groups (a, b, n_a, n_b, mmd2, p_value, ...; NaN ``mmd2`` with a ``reason`` for pairs
        too small to test), or None when the run has no embeddings."""
        return None if self._mmd is None else self._mmd.copy()

    # --- scalars -----------------------------------------------------------------------------------------------------
    @property
    def groups(self) -> list[str]:
        return list(self._by_group.index)

    @property
    def small_groups(self) -> list[str]:
        """Groups below ``min_group_size``: kept, flagged, noisy."""
        return list(self._by_group.index[self._by_group["small"]])

    @property
    def worst_group(self) -> str:
        """The group with the lowest accuracy (the first one on a tie)."""
        return str(self._by_group["accuracy"].idxmin())

    @property
    def worst_group_accuracy(self) -> float:
        return self._scalars["worst_group_accuracy"]

    @property
    def accuracy_gap(self) -> float:
        """Best minus worst group accuracy."""
        return self._scalars["accuracy_gap"]

    @property
    def accuracy_ratio(self) -> float:
        """Worst over best group accuracy."""
        return self._scalars["accuracy_ratio"]

    @property
    def equal_opportunity_gap(self) -> float:
        return self._scalars["equal_opportunity_gap"]

    @property
    def equalized_odds_gap(self) -> float:
        return self._scalars["equalized_odds_gap"]

    @property
    def accuracy_floor(self) -> float:
        """The lowest of every group's accuracy and its interval's lower end (for a shared chart axis)."""
        low = self._by_group["ci_low"].fillna(self._by_group["accuracy"])
        return float(np.fmin(self._by_group["accuracy"], low).min()) if len(self._by_group) else math.nan

    def __repr__(self) -> str:
        return (
            f"AttributeReport(attribute={self.attribute!r}, groups={self.groups}, "
            f"worst_group_accuracy={self.worst_group_accuracy:.3f}, accuracy_gap={self.accuracy_gap:.3f})"
        )


class EvaluationReport:
    """A run's ``evaluation.json`` (or a ``fairness_report`` dict) with one :class:`AttributeReport` per attribute."""

    def __init__(
        self,
        *,
        attributes: dict[str, AttributeReport],
        overall: pd.Series,
        recipe: str,
        labels: tuple[str, ...],
        n: int | None,
    ) -> None:
        self.attributes, self.recipe, self.labels, self.n = attributes, recipe, labels, n
        self._overall = overall

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> EvaluationReport:
        """The view of a fairness report; an evaluation without sensitive attributes gives ``attributes == {}``."""
        attributes = {str(a): AttributeReport.from_dict(rep, str(a)) for a, rep in (d.get("attributes") or {}).items()}
        overall = pd.Series({k: _float(v) for k, v in (d.get("overall") or {}).items()}, dtype=float)
        n = d.get("n")
        return cls(
            attributes=attributes,
            overall=overall,
            recipe=str(d.get("recipe") or ""),
            labels=tuple(d.get("labels", ())),
            n=None if n is None else int(n),
        )

    @property
    def overall(self) -> pd.Series:
        return self._overall.copy()

    def __getitem__(self, attribute: str) -> AttributeReport:
        if attribute not in self.attributes:
            raise KeyError(MSG_UNKNOWN_ATTRIBUTE.format(attribute, list(self.attributes)))
        return self.attributes[attribute]

    def __repr__(self) -> str:
        return f"EvaluationReport(recipe={self.recipe!r}, attributes={list(self.attributes)})"


def shared_attributes(reports: Sequence[EvaluationReport]) -> list[str]:
    """The sensitive attributes every report has, in the first report's order (its fair attribute first), so runs
    can be compared on the same groups."""
    if not reports:
        return []
    return [a for a in reports[0].attributes if all(a in r.attributes for r in reports)]
