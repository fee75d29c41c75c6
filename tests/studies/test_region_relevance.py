"""Region shares of heatmaps and the permutation test of whether groups differ (planted differences)."""

from __future__ import annotations

import numpy as np
import pytest

from fer_core.explain import region_share
from fer_core.explain.region_relevance import compare_groups, region_shares
from fer_core.studies import region_relevance_study


def test_region_shares_equal_the_per_image_share():
    rng = np.random.default_rng(0)
    heat = rng.normal(size=(4, 3, 10, 12))
    masks = rng.random((4, 2, 10, 12)) > 0.6
    got = region_shares(heat, masks)
    for i in range(4):
        ref = region_share(heat[i], {"a": masks[i, 0], "b": masks[i, 1]})
        np.testing.assert_allclose(got[i], [ref["a"], ref["b"]], atol=1e-12)
    assert np.isnan(region_shares(-np.ones((1, 10, 12)), masks[:1])).all()  # no positive relevance


def test_a_planted_group_difference_is_found_and_equal_groups_are_not():
    rng = np.random.default_rng(1)
    n = 300
    groups = np.repeat(["a", "b"], n // 2)
    same = rng.beta(4, 6, size=(n, 3))
    differ = same.copy()
    differ[groups == "b", 0] += 0.08  # group b's maps put 8 more points on region 0
    assert compare_groups(differ, groups, num_permutations=499)["p_value"] < 0.01
    res = compare_groups(same, groups, num_permutations=499)
    assert res["p_value"] > 0.05
    found = compare_groups(differ, groups, num_permutations=499)["region_p_values"]
    assert found[0] < 0.01 and found[1] > 0.05 and found[2] > 0.05


def test_a_difference_in_class_mix_alone_is_not_a_group_difference():
    """Simpson's trap: group b is predicted class 1 more often, and class 1 faces are read from region 0. Within
    each predicted class the groups look at the same places, so the stratified test must not fire; an unstratified
    test does."""
    rng = np.random.default_rng(2)
    n = 400
    groups = np.repeat(["a", "b"], n // 2)
    pred = np.where(groups == "a", rng.random(n) < 0.2, rng.random(n) < 0.8).astype(int)
    shares = rng.beta(4, 6, size=(n, 2))
    shares[pred == 1, 0] += 0.2
    assert compare_groups(shares, groups, pred, num_permutations=499)["p_value"] > 0.05
    assert compare_groups(shares, groups, None, num_permutations=499)["p_value"] < 0.01


def test_one_group_gives_a_reason_not_a_p_value():
    res = compare_groups(np.random.default_rng(0).random((10, 2)), ["a"] * 10)
    assert res["p_value"] is None and "two groups" in res["reason"]


def test_study_on_synthfacs_faces(demo_model, synth_manifest):
    study = region_relevance_study(demo_model, synth_manifest, ["age"], aligned=True, limit=60)
    assert study.regions[-1] == "elsewhere" and study.shares.shape == (60, len(study.regions))
    # shares of disjoint parts (the named regions may overlap a little) sum to about one
    assert np.nanmean(study.shares.sum(1)) == pytest.approx(1.0, abs=0.1)
    t = study.table("age", by_class=False, n_boot=100)
    assert set(t["age"]) <= {"young", "adult", "older"} and t["n"].sum() == 60
    assert ((t["mouth_lo"] <= t["mouth"]) & (t["mouth"] <= t["mouth_hi"])).all()
    test = study.test("age", num_permutations=99)
    assert 0 < test["p_value"] <= 1 and len(test["region_p_values"]) == len(study.regions)
    with pytest.raises(ValueError, match="group column"):
        region_relevance_study(demo_model, synth_manifest, [], aligned=True)
