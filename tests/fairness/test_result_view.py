"""The typed view of the fairness report (AttributeReport / EvaluationReport) against numbers worked out by hand on a
ten-face example, and its shape (MetricFrame-like tables, copies, JSON round trip)."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from fer_core.fairness import (
    AttributeReport,
    EvaluationReport,
    ProbeResult,
    fairness_report,
    fairness_summary,
    shared_attributes,
)

LABELS = ("angry", "happy", "sad")
# group a: 4 of 5 right (one sad called happy); b: 2 of 4 right; c: its one face right
Y_TRUE = ["happy", "happy", "sad", "sad", "angry"] + ["happy", "sad", "angry", "angry"] + ["happy"]
Y_PRED = ["happy", "happy", "sad", "happy", "angry"] + ["sad", "sad", "angry", "happy"] + ["happy"]
GROUP = ["a"] * 5 + ["b"] * 4 + ["c"]
GENDER = ["f", "f", "m", "m", "f", "m", "f", "m", "f", "m"]  # f: rows 0 1 4 6 8 (4 right), m: 2 3 5 7 9 (3 right)


def _report(
    n_boot: int = 0, embeddings: np.ndarray | None = None, groups: list[str] = GROUP, rows: slice = slice(None)
) -> dict:
    attributes = pd.DataFrame({"group": groups, "gender": GENDER[rows]})
    return fairness_report(
        Y_TRUE[rows],
        Y_PRED[rows],
        LABELS,
        attributes,
        embeddings=embeddings,
        min_group_size=2,
        n_boot=n_boot,
        num_permutations=20,
    )


@pytest.fixture(scope="module")
def view() -> EvaluationReport:
    return EvaluationReport.from_dict(_report())


def test_overall_and_per_group_accuracy_match_the_hand_count(view):
    rep = view["group"]
    assert view.overall["accuracy"] == pytest.approx(0.7)  # 7 of 10
    assert rep.overall["accuracy"] == pytest.approx(0.7) and rep.overall["n"] == 10
    assert list(rep.by_group.index) == ["a", "b", "c"] == rep.groups
    assert rep.by_group["accuracy"].to_dict() == pytest.approx({"a": 0.8, "b": 0.5, "c": 1.0})
    assert rep.by_group["n"].to_dict() == {"a": 5, "b": 4, "c": 1}
    assert rep.worst_group == "b" and rep.worst_group_accuracy == pytest.approx(0.5)
    assert rep.accuracy_gap == pytest.approx(0.5)  # 1.0 (c) - 0.5 (b)
    assert rep.accuracy_ratio == pytest.approx(0.5)


def test_macro_f1_tpr_and_gaps_match_the_hand_count(view):
    rep = view["group"]
    # group a: F1 happy 2/(2+0.5*(1+0)) = 0.8, sad 1/(1+0.5) = 2/3, angry 1 -> mean 37/45
    assert rep.by_group.loc["a", "macro_f1"] == pytest.approx(37 / 45)
    tpr = rep.tpr
    assert list(tpr.columns) == list(LABELS)
    assert tpr.loc["a"].tolist() == pytest.approx([1.0, 1.0, 0.5])
    assert tpr.loc["b"].tolist() == pytest.approx([0.5, 0.0, 1.0])
    assert tpr.loc["c", "happy"] == 1.0 and tpr.loc["c"].isna().sum() == 2  # c has no angry and no sad face
    # per class, max - min over the groups that have it: angry 0.5, happy 1.0, sad 0.5
    assert rep.equal_opportunity_gap == pytest.approx(2 / 3)


def test_small_groups_are_flagged_not_dropped(view):
    rep = view["group"]
    assert rep.small_groups == ["c"] and rep.by_group["small"].tolist() == [False, False, True]
    assert rep.min_group_size == 2


def test_every_attribute_gets_its_own_view(view):
    assert list(view.attributes) == ["group", "gender"]
    gender = view["gender"]
    assert gender.attribute == "gender" and gender.by_group.index.name == "gender"
    assert gender.by_group["accuracy"].to_dict() == pytest.approx({"f": 0.8, "m": 0.6})
    assert gender.accuracy_gap == pytest.approx(0.2) and gender.worst_group == "m"
    with pytest.raises(KeyError, match="no fairness report for attribute 'age'"):
        view["age"]


def test_without_bootstrap_or_embeddings_the_optional_parts_are_empty(view):
    rep = view["group"]
    assert rep.by_group[["ci_low", "ci_high"]].isna().all().all()
    assert rep.gap_interval is None
    assert rep.mmd is None and rep.mmd_groups == () and rep.mean_mmd2 is None and rep.probe is None
    assert rep.accuracy_floor == pytest.approx(0.5)  # no interval: the lowest accuracy


def test_bootstrap_intervals_land_in_the_table():
    rep = AttributeReport.from_dict(_report(n_boot=50)["attributes"]["group"])
    table = rep.by_group
    # a one-face group resamples the same face every time: its interval is that face's accuracy, [1, 1]
    assert (table.loc["c", "ci_low"], table.loc["c", "ci_high"]) == (1.0, 1.0)
    assert (table["ci_low"] <= table["ci_high"]).all()
    assert table["ci_low"].between(0, 1).all() and table["ci_high"].between(0, 1).all()
    low, high = rep.gap_interval
    assert 0.0 <= low <= high <= 1.0
    assert rep.accuracy_floor == pytest.approx(min(table["accuracy"].min(), table["ci_low"].min()))


def test_mmd_pairs_and_probe():
    """Groups a (5 rows) and b (4 rows) far apart in embedding space, c a single row: every pair is listed, c's
    pairs untested; the probe needs two rows per group, so with c it is None and without c it is perfect."""
    z = np.zeros((10, 4), dtype=np.float32)
    z[:5, 0], z[5:9, 0], z[9, 0] = 10.0, -10.0, 0.0
    rep = AttributeReport.from_dict(_report(embeddings=z)["attributes"]["group"])
    pairs = rep.mmd
    assert rep.mmd_groups == ("a", "b", "c")
    assert list(zip(pairs["a"], pairs["b"])) == [("a", "b"), ("a", "c"), ("b", "c")]
    assert pairs.loc[0, ["n_a", "n_b"]].tolist() == [5, 4] and pairs.loc[0, "mmd2"] > 0
    assert pairs["mmd2"].isna().tolist() == [False, True, True]
    assert set(pairs.loc[1:, "reason"]) == {"fewer than 2 rows"}
    assert rep.mean_mmd2 == pytest.approx(pairs.loc[0, "mmd2"])  # the mean over tested pairs only
    assert rep.probe is None  # c has one row, so no cross-validation fold can hold it out

    two = AttributeReport.from_dict(
        _report(embeddings=z[:9], groups=GROUP[:9], rows=slice(0, 9))["attributes"]["group"]
    )
    assert two.probe == ProbeResult(accuracy=1.0, chance=pytest.approx(5 / 9), n=9)


def test_tables_are_copies_and_json_round_trips():
    d = _report(n_boot=20)
    rep = AttributeReport.from_dict(d["attributes"]["group"])
    table, overall = rep.by_group, rep.overall
    table.loc["a", "accuracy"] = 0.0
    overall["accuracy"] = 0.0
    assert rep.by_group.loc["a", "accuracy"] == pytest.approx(0.8) and rep.overall["accuracy"] == pytest.approx(0.7)
    stored = EvaluationReport.from_dict(json.loads(json.dumps(d | {"recipe": "fair_mmd"})))  # as evaluation.json
    assert stored.recipe == "fair_mmd" and stored.n == 10 and stored.labels == LABELS
    pd.testing.assert_frame_equal(stored["group"].by_group, rep.by_group)
    assert stored["group"].gap_interval == pytest.approx(rep.gap_interval)
    assert EvaluationReport.from_dict(d).recipe == ""


def test_the_dicts_stay_the_storage_format():
    """fairness_report still returns plain dicts and fairness_summary reads them (the CLI's text)."""
    d = _report()
    assert isinstance(d["attributes"]["group"], dict)
    lines = fairness_summary("group", d["attributes"]["group"])
    assert "group: worst-group accuracy 0.500, gap 0.500" in lines[1]
    assert any(line.strip().startswith("c ") and "(small group: noisy)" in line for line in lines)


def test_a_dict_that_is_not_a_report_is_refused():
    with pytest.raises(ValueError, match="expected the dict of one attribute's fairness report"):
        AttributeReport.from_dict({"accuracy": 0.5})
    assert math.isnan(AttributeReport.from_dict(_report()["attributes"]["group"]).by_group.loc["a", "ci_low"])


def test_shared_attributes_keep_the_first_reports_order(view):
    only_gender = EvaluationReport.from_dict(
        fairness_report(Y_TRUE, Y_PRED, LABELS, pd.DataFrame({"gender": GENDER}), min_group_size=2, n_boot=0)
    )
    assert shared_attributes([view, view]) == ["group", "gender"]
    assert shared_attributes([view, only_gender]) == ["gender"]
    assert shared_attributes([]) == []


def test_missing_attribute_values_form_the_unknown_group():
    attrs = pd.DataFrame({"gender": ["f", None, "m", float("nan"), "", "f", "m", "f", "m", "f"]})
    rep = fairness_report(Y_TRUE, Y_PRED, LABELS, attrs, min_group_size=2, n_boot=0)
    by_group = rep["attributes"]["gender"]["by_group"]
    assert set(by_group) == {"f", "m", "unknown"}
    assert by_group["unknown"]["n"] == 3  # rows 1, 3 and 4: two of them right
    assert by_group["unknown"]["accuracy"] == pytest.approx(2 / 3)
