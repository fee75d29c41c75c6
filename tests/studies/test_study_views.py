"""The study results' accessors that the pages read: tables computed once (copies out), the region-relevance
verdict, and the occlusion tables on hand-made probabilities; to_json stays what it was."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from fer_core.studies import OcclusionStudy, RegionRelevanceStudy

REGIONS = ["eyes", "mouth", "elsewhere"]


def _relevance(shift: float, groups: tuple[str, ...] = ("a", "b"), n: int = 200) -> RegionRelevanceStudy:
    rng = np.random.default_rng(0)
    group = np.resize(np.array(groups), n)
    shares = rng.beta(4, 6, size=(n, len(REGIONS)))
    shares[group == groups[-1], 0] += shift  # the last group's maps put ``shift`` more on the eyes
    faces = pd.DataFrame(
        {"row": np.arange(n), "path": [f"f{i}.png" for i in range(n)], "label": "happy", "pred": "happy", "age": group}
    )
    return RegionRelevanceStudy(
        model="m",
        method="lrp",
        labels=("happy",),
        regions=REGIONS,
        faces=faces,
        shares=shares,
        group_by=["age"],
        n_rows=n,
    )


def test_a_planted_difference_gets_a_verdict_naming_the_region():
    study = _relevance(0.3)
    p = study.test("age", 199)["p_value"]
    assert study.differing_regions("age", num_permutations=199) == ["eyes"]
    assert study.verdict("age", num_permutations=199) == f"groups differ (p = {p:.3f}), most in: eyes"


def test_equal_groups_and_a_single_group():
    same = _relevance(0.0)
    p = same.test("age", 199)["p_value"]
    assert p > 0.05 and same.verdict("age", num_permutations=199) == f"no evidence that groups differ (p = {p:.3f})"
    assert _relevance(0.0, groups=("a",)).verdict("age", num_permutations=199) is None


def test_tables_and_tests_are_computed_once_and_handed_out_as_copies():
    study = _relevance(0.3)
    json_before = study.to_json(n_boot=50, num_permutations=99)
    table = study.table("age", by_class=False, n_boot=50)
    table.loc[0, "eyes"] = -1.0
    test = study.test("age", 99)
    test["region_p_values"][0] = -1.0
    assert study.table("age", by_class=False, n_boot=50).loc[0, "eyes"] != -1.0
    assert study.test("age", 99)["region_p_values"][0] != -1.0
    assert study.to_json(n_boot=50, num_permutations=99) == json_before
    # the memo is keyed on every argument: another bootstrap size is another table
    assert set(study.table("age", by_class=False, n_boot=10).columns) == set(table.columns)


def _occlusion() -> OcclusionStudy:
    """Two faces, one region, one fill, two classes: hiding the mouth takes face 0 from 0.9 to 0.3 on its true class
    0 (and flips it), and leaves face 1 at 0.8 on its true class 1."""
    faces = pd.DataFrame(
        {
            "row": [0, 1],
            "path": ["a.png", "b.png"],
            "truth": [0, 1],
            "label": ["happy", "sad"],
            "pred": ["happy", "sad"],
            "age": ["old", "young"],
        }
    )
    base = np.array([[0.9, 0.1], [0.2, 0.8]])
    occluded = np.array([[[[0.3, 0.7]]], [[[0.2, 0.8]]]])  # (N, R, F, K)
    return OcclusionStudy(
        model="m",
        labels=("happy", "sad"),
        regions=["mouth"],
        fills=["mean"],
        faces=faces,
        base=base,
        occluded=occluded,
        group_by=["age"],
        n_rows=3,
        no_face=["c.png"],
    )


def test_occlusion_tables_match_the_hand_computed_drops():
    study = _occlusion()
    overall = study.table((), n_boot=0)
    assert overall.loc[0, "drop"] == pytest.approx(0.3)  # (0.6 + 0.0) / 2
    assert overall.loc[0, "correct_before"] == 1.0 and overall.loc[0, "correct_after"] == 0.5
    by_class = study.table(("label",), n_boot=0).set_index("label")["drop"]
    assert by_class.to_dict() == pytest.approx({"happy": 0.6, "sad": 0.0})
    assert study.num_skipped == 1


def test_occlusion_tables_are_copies_and_to_json_is_unchanged():
    study = _occlusion()
    before = json.dumps(study.to_json(n_boot=20))  # text: one-face cells have NaN intervals, and NaN != NaN
    table = study.table((), n_boot=20)
    table.loc[0, "drop"] = 5.0
    assert json.dumps(study.to_json(n_boot=20)) == before == json.dumps(_occlusion().to_json(n_boot=20))
    assert study.to_json(n_boot=20)["overall"][0]["drop"] == pytest.approx(0.3)
