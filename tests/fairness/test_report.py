"""Corpus-scale shrinkage MMD against the batch loss's exact formula, and the per-attribute fairness report on
planted effects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from fer_core.fairness.mmd_stats import shrinkage_rff_mmd2
from fer_core.fairness.report import fairness_report
from fer_core.losses import rbf_kernel, shrinkage_mmd2, shrinkage_weight


@pytest.mark.parametrize("n_a, n_b, shift", [(40, 60, 0.0), (40, 60, 0.8), (8, 12, 0.5)])
def test_rff_shrinkage_mmd_matches_the_exact_estimator(n_a, n_b, shift):
    """Same estimator as losses.shrinkage_mmd2 (exact Gram matrices), up to the random-feature error."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=(n_a, 6))
    b = rng.normal(size=(n_b, 6)) + shift
    sigma = 2.0
    exact = float(shrinkage_mmd2(torch.tensor(a), torch.tensor(b), sigma=sigma))
    plain = float(shrinkage_mmd2(torch.tensor(a), torch.tensor(b), sigma=sigma, shrink=False))
    got = shrinkage_rff_mmd2(a, b, sigma=sigma, num_features=2**16)
    assert got["mmd2"] == pytest.approx(exact, abs=3e-3)
    assert got["plain"] == pytest.approx(plain, abs=3e-3)
    wa = float(shrinkage_weight(rbf_kernel(torch.tensor(a), torch.tensor(a), sigma)))
    assert got["w_a"] == pytest.approx(wa, abs=5e-3)


def _report(shift: float, seed: int = 0, n: int = 300):
    rng = np.random.default_rng(seed)
    groups = np.array(["a"] * n + ["b"] * n + ["c"] * 10)
    z = rng.normal(size=(len(groups), 8))
    z[groups == "b"] += shift
    y = rng.integers(0, 3, len(groups))
    pred = y.copy()
    wrong = (groups == "b") & (rng.random(len(groups)) < 0.3)  # group b: 30 % errors planted
    pred[wrong] = (y[wrong] + 1) % 3
    labels = ["x", "y", "z"]
    return fairness_report(
        [labels[i] for i in y],
        [labels[i] for i in pred],
        labels,
        pd.DataFrame({"group": groups}),
        z,
        n_boot=100,
        num_permutations=100,
    )


def test_report_finds_planted_gap_shift_and_small_group():
    rep = _report(shift=0.7)["attributes"]["group"]
    acc = {g: v["accuracy"] for g, v in rep["by_group"].items()}
    assert acc["a"] == 1.0 and 0.6 < acc["b"] < 0.8
    assert rep["worst_group_accuracy"] == pytest.approx(min(acc.values()))
    lo, hi = rep["bootstrap"]["accuracy"]["b"]
    assert lo < acc["b"] < hi and hi - lo < 0.2
    assert rep["small_groups"] == ["c"]  # flagged, not dropped
    pair = {(p["a"], p["b"]): p for p in rep["mmd"]["pairs"]}
    assert pair[("a", "b")]["p_value"] < 0.05 and pair[("a", "b")]["mmd2"] > 0.05
    assert rep["probe"]["accuracy"] > 0.75 > rep["probe"]["chance"] + 0.2


def test_report_without_shift_sees_no_distribution_difference():
    rep = _report(shift=0.0, seed=1)["attributes"]["group"]
    pair = {(p["a"], p["b"]): p for p in rep["mmd"]["pairs"]}
    assert pair[("a", "b")]["p_value"] > 0.05
    assert abs(pair[("a", "b")]["mmd2"]) < 3 * pair[("a", "b")]["null_std"]
    assert rep["probe"]["accuracy"] < 0.6
