"""GroupMetrics against independent truth: sklearn on hand-made masks, and gaps worked out by hand."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, f1_score, recall_score

from fer_core.fairness.group_metrics import (
    MSG_LABEL,
    MSG_LENGTH,
    MSG_METHOD,
    MSG_METRIC,
    MSG_MISSING_GROUP,
    MSG_SMALL,
    GroupMetrics,
    SmallGroupWarning,
    group_report,
)

LABELS = ("angry", "happy", "sad")

# Hand-built example, 3 classes x 3 groups (codes 0 = angry, 1 = happy, 2 = sad).
#   A: true 0 0 1 1 2 2   pred 0 0 1 0 2 1   acc 4/6   TPR (1, .5, .5)   FPR (1/4, 1/4, 0)
#   B: true 0 0 1 1 1     pred 2 0 1 1 1     acc 4/5   TPR (.5, 1, nan)  FPR (0, 0, 1/5)
#   C: true 0 1 2         pred 0 2 2         acc 2/3   TPR (1, 0, 1)     FPR (0, 0, 1/2)
# EOpp  = mean(1-.5, 1-0, 1-.5)                            = 2/3   (class 2 skips B, which has no 'sad')
# EOdds = mean(.5(.5+.25), .5(1+.25), .5(.5+.5)) = mean(.375, .625, .5) = 1/2
# overall accuracy 10/14 = 5/7; worst 2/3 (A, C); gap 4/5 - 2/3 = 2/15
HAND_TRUE = [0, 0, 1, 1, 2, 2] + [0, 0, 1, 1, 1] + [0, 1, 2]
HAND_PRED = [0, 0, 1, 0, 2, 1] + [2, 0, 1, 1, 1] + [0, 2, 2]
HAND_GROUP = ["A"] * 6 + ["B"] * 5 + ["C"] * 3
HAND_TPR = {"A": [1.0, 0.5, 0.5], "B": [0.5, 1.0, np.nan], "C": [1.0, 0.0, 1.0]}
HAND_FPR = {"A": [0.25, 0.25, 0.0], "B": [0.0, 0.0, 0.2], "C": [0.0, 0.0, 0.5]}


def _hand(**kw) -> GroupMetrics:
    names = np.array(LABELS)
    kw.setdefault("min_group_size", 1)
    return GroupMetrics(
        y_true=names[HAND_TRUE], y_pred=names[HAND_PRED], groups=pd.Series(HAND_GROUP, name="g"), labels=LABELS, **kw
    )


def _random(n_per_group: dict[str, int], acc: dict[str, float], seed: int = 0, k: int = 7):
    rng = np.random.default_rng(seed)
    ys, ps, gs = [], [], []
    for g, n in n_per_group.items():
        y = rng.integers(0, k, n)
        wrong = (y + rng.integers(1, k, n)) % k
        ys.append(y)
        ps.append(np.where(rng.random(n) < acc[g], y, wrong))
        gs += [g] * n
    return np.concatenate(ys), np.concatenate(ps), pd.Series(gs, name="group")


def test_by_group_equals_sklearn_on_hand_masks():
    y, p, g = _random({"f": 300, "m": 250, "u": 60}, {"f": 0.8, "m": 0.6, "u": 0.5})
    gm = GroupMetrics(y_true=y, y_pred=p, groups=g, labels=[f"c{i}" for i in range(7)])
    assert list(gm.by_group.columns) == ["n", "accuracy", "macro_f1", "worst_class_recall", "small"]
    for name in ("f", "m", "u"):
        mask = (g == name).to_numpy()
        row = gm.by_group.loc[name]
        assert row["n"] == mask.sum()
        assert row["accuracy"] == pytest.approx(accuracy_score(y[mask], p[mask]))
        assert row["macro_f1"] == pytest.approx(
            f1_score(y[mask], p[mask], labels=np.unique(y[mask]), average="macro", zero_division=0)
        )
        assert row["worst_class_recall"] == pytest.approx(
            recall_score(y[mask], p[mask], labels=np.unique(y[mask]), average=None).min()
        )
    assert gm.overall["n"] == len(y)
    assert gm.overall["accuracy"] == pytest.approx(accuracy_score(y, p))
    assert gm.overall["macro_f1"] == pytest.approx(f1_score(y, p, average="macro"))


def test_tpr_table_equals_sklearn_recall_per_group():
    y, p, g = _random({"a": 200, "b": 150}, {"a": 0.7, "b": 0.4}, seed=1)
    gm = GroupMetrics(y_true=y, y_pred=p, groups=g)
    assert list(gm.tpr.columns) == [str(i) for i in range(7)]
    for name in ("a", "b"):
        mask = (g == name).to_numpy()
        expected = recall_score(y[mask], p[mask], labels=list(range(7)), average=None, zero_division=0)
        np.testing.assert_allclose(gm.tpr.loc[name].to_numpy(), expected)


def test_hand_example_rates_and_gaps():
    gm = _hand()
    np.testing.assert_allclose(gm.tpr.loc[["A", "B", "C"]].to_numpy(), np.array(list(HAND_TPR.values())))
    np.testing.assert_allclose(gm.fpr.loc[["A", "B", "C"]].to_numpy(), np.array(list(HAND_FPR.values())))
    assert gm.equal_opportunity_gap == pytest.approx(2 / 3)
    assert gm.equalized_odds_gap == pytest.approx(1 / 2)
    np.testing.assert_allclose(gm.by_group["accuracy"].to_numpy(), [4 / 6, 4 / 5, 2 / 3])
    assert gm.overall["accuracy"] == pytest.approx(5 / 7)
    assert gm.worst_group_accuracy == pytest.approx(2 / 3)
    assert gm.accuracy_gap == pytest.approx(2 / 15)
    assert gm.difference("accuracy", method="to_overall") == pytest.approx(4 / 5 - 5 / 7)  # B is furthest
    assert gm.ratio("accuracy") == pytest.approx((2 / 3) / (4 / 5))
    assert gm.ratio("accuracy", method="to_overall") == pytest.approx((5 / 7) / (4 / 5))


def test_binary_two_group_gaps_reduce_to_textbook_definitions():
    # group 0: TPR 3/4, FPR 1/4; group 1: TPR 1/4, FPR 2/4.  EOpp on class 1 = .5; EOdds = .5(.5 + .25).
    y = [1, 1, 1, 1, 0, 0, 0, 0] * 2
    p = [1, 1, 1, 0, 1, 0, 0, 0] + [1, 0, 0, 0, 1, 1, 0, 0]
    gm = GroupMetrics(y_true=y, y_pred=p, groups=pd.Series([0] * 8 + [1] * 8), min_group_size=1)
    assert gm.tpr["1"].max() - gm.tpr["1"].min() == pytest.approx(0.5)
    # classes 0 and 1 mirror each other (TPR_0 = 1 - FPR_1), so the class mean equals the binary value
    assert gm.equalized_odds_gap == pytest.approx(0.5 * (0.5 + 0.25))


def test_string_and_integer_labels_agree():
    by_name = _hand()
    by_index = GroupMetrics(
        y_true=HAND_TRUE, y_pred=HAND_PRED, groups=pd.Series(HAND_GROUP, name="g"), labels=LABELS, min_group_size=1
    )
    pd.testing.assert_frame_equal(by_name.by_group, by_index.by_group)
    pd.testing.assert_frame_equal(by_name.tpr, by_index.tpr)
    assert by_name.labels == LABELS


def test_small_groups_are_warned_and_flagged_not_dropped():
    y, p, g = _random({"big": 100, "tiny": 5}, {"big": 0.7, "tiny": 0.7})
    with pytest.warns(SmallGroupWarning, match="fewer than min_group_size=30") as record:
        gm = GroupMetrics(y_true=y, y_pred=p, groups=g)
    assert "tiny (n=5)" in str(record[0].message)
    assert MSG_SMALL.split("{")[0] in str(record[0].message)
    assert list(gm.by_group.index) == ["big", "tiny"]
    assert gm.by_group.loc["tiny", "n"] == 5
    assert gm.by_group["small"].tolist() == [False, True]
    assert gm.to_dict()["small_groups"] == ["tiny"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        GroupMetrics(y_true=y, y_pred=p, groups=g, min_group_size=5)


def test_bootstrap_ci_contains_estimate_is_seeded_and_narrows_with_data():
    def fit(n, seed=0, random_state=0):
        y, p, g = _random({"a": n, "b": n}, {"a": 0.85, "b": 0.6}, seed=seed)
        return GroupMetrics(y_true=y, y_pred=p, groups=g, n_boot=400, random_state=random_state)

    small, again, other = fit(120), fit(120), fit(120, random_state=1)
    ci = small.by_group_ci
    assert list(ci.columns) == ["group", "metric", "low", "high"]
    for row in ci.itertuples():
        assert row.metric == "accuracy"
        assert row.low <= small.by_group.loc[row.group, "accuracy"] <= row.high
    assert small.gap_ci[0] <= small.accuracy_gap <= small.gap_ci[1]
    pd.testing.assert_frame_equal(ci, again.by_group_ci)
    assert small.gap_ci == again.gap_ci
    assert not ci.equals(other.by_group_ci)
    big = fit(3000)
    width = lambda gm: (gm.by_group_ci["high"] - gm.by_group_ci["low"]).to_numpy()  # noqa: E731
    assert (width(big) < 0.5 * width(small)).all()
    assert big.gap_ci[1] - big.gap_ci[0] < 0.5 * (small.gap_ci[1] - small.gap_ci[0])


def test_no_bootstrap_keeps_the_same_types():
    gm = _hand()
    assert list(gm.by_group_ci.columns) == ["group", "metric", "low", "high"] and gm.by_group_ci.empty
    assert all(np.isnan(gm.gap_ci))
    assert gm.to_dict()["bootstrap"] is None


def test_to_dict_is_json_ready():
    out = _hand(n_boot=50).to_dict()
    text = json.dumps(out, allow_nan=False)
    assert json.loads(text)["tpr"]["B"]["sad"] is None
    assert out["by_group"]["A"]["n"] == 6 and out["overall"]["n"] == 14
    assert out["equal_opportunity_gap"] == pytest.approx(2 / 3)
    assert set(out["bootstrap"]["accuracy"]) == {"A", "B", "C"}


def test_intersectional_groups_keep_only_observed_combinations():
    frame = pd.DataFrame({"sex": ["f", "f", "m", "m"] * 10, "age": ["young", "old"] * 20})
    frame.loc[frame["sex"] == "m", "age"] = "old"
    y, p, _ = _random({"x": 40}, {"x": 0.5})
    gm = GroupMetrics(y_true=y, y_pred=p, groups=frame, min_group_size=1, n_boot=20)
    assert gm.attribute == "sex & age"
    assert sorted(gm.by_group.index) == [("f", "old"), ("f", "young"), ("m", "old")]
    assert gm.by_group["n"].sum() == 40
    mask = ((frame["sex"] == "m") & (frame["age"] == "old")).to_numpy()
    assert gm.by_group.loc[("m", "old"), "accuracy"] == pytest.approx(accuracy_score(y[mask], p[mask]))
    assert len(gm.by_group_ci) == 3


def test_group_report_gives_one_report_per_attribute():
    y, p, _ = _random({"x": 80}, {"x": 0.6})
    attrs = pd.DataFrame({"sex": ["f", "m"] * 40, "race": ["a", "b", "c", "d"] * 20})
    reports = group_report(y, p, attrs, min_group_size=10)
    assert set(reports) == {"sex", "race"}
    pd.testing.assert_frame_equal(
        reports["race"].by_group, GroupMetrics(y_true=y, y_pred=p, groups=attrs["race"], min_group_size=10).by_group
    )
    assert list(reports["sex"].by_group.index) == ["f", "m"]


def test_bad_input_raises_value_error():
    g = pd.Series(["a", "b"])
    with pytest.raises(ValueError, match=MSG_LENGTH.split("{")[0]):
        GroupMetrics(y_true=[0, 1, 1], y_pred=[0, 1], groups=g)
    with pytest.raises(ValueError, match="neither one of labels"):
        GroupMetrics(y_true=["angry", "bored"], y_pred=["angry", "sad"], groups=g, labels=LABELS)
    assert "neither one of labels" in MSG_LABEL
    with pytest.raises(ValueError, match="missing values"):
        GroupMetrics(y_true=[0, 1], y_pred=[0, 1], groups=pd.Series(["a", None]))
    assert "missing values" in MSG_MISSING_GROUP
    gm = _hand()
    with pytest.raises(ValueError, match=MSG_METRIC.split("{")[0]):
        gm.difference("n")
    with pytest.raises(ValueError, match=MSG_METHOD.split("{")[0]):
        gm.ratio("accuracy", method="worst")
    for bad in ({"ci": 1.5}, {"n_boot": -1}, {"min_group_size": 0}):
        with pytest.raises(ValueError):
            _hand(**bad)
    with pytest.raises(ValueError, match="DataFrame"):
        group_report([0], [0], pd.Series(["a"]))
