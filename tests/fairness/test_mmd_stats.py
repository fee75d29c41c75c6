"""Corpus-scale MMD: exact chunked sums against a dense numpy reference, RFF against exact, permutation-test power."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from fer_core.fairness import MMDTestResult, exact_mmd2, median_bandwidth_np, mmd_permutation_test, rff_mmd2


def np_mmd(x, y, sigma, unbiased):
    def gram(a, b):
        d2 = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
        return np.exp(-d2 / (2 * sigma**2))

    kxx, kyy, kxy = gram(x, x), gram(y, y), gram(x, y)
    m, n = len(x), len(y)
    if unbiased:
        return (
            (kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1)) - 2 * kxy.mean()
        )
    return kxx.mean() + kyy.mean() - 2 * kxy.mean()


@pytest.fixture(scope="module")
def samples():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2000, 32)).astype(np.float32)
    y = rng.standard_normal((2000, 32)).astype(np.float32)
    shifted = y.copy()
    shifted[:, 0] += 0.5
    return x, y, shifted


@pytest.mark.parametrize("unbiased", [True, False])
def test_exact_matches_dense_numpy_with_odd_blocks(unbiased):
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(30, 3)), rng.normal(0.3, 1.0, size=(41, 3))
    ref = np_mmd(x, y, 1.7, unbiased)
    assert exact_mmd2(x, y, 1.7, block=7, unbiased=unbiased) == pytest.approx(ref, rel=1e-9, abs=1e-12)
    assert exact_mmd2(x, y, 1.7, unbiased=unbiased) == pytest.approx(ref, rel=1e-9, abs=1e-12)


def test_median_bandwidth_np_is_pairwise_median():
    z = np.random.default_rng(2).normal(size=(15, 4))
    dists = [np.linalg.norm(z[i] - z[j]) for i, j in itertools.combinations(range(15), 2)]
    assert median_bandwidth_np(z) == pytest.approx(float(np.median(dists)), rel=1e-12)
    big = np.random.default_rng(3).standard_normal((5000, 16))
    assert median_bandwidth_np(big) == pytest.approx(math.sqrt(2 * 16), rel=0.05)


def test_rff_within_null_spread_of_exact(samples):
    x, y, shifted = samples
    sigma = median_bandwidth_np(np.vstack([x, y]))
    for other in (y, shifted):
        test = mmd_permutation_test(x, other, sigma=sigma, num_permutations=100, seed=0)
        exact = exact_mmd2(x, other, sigma)
        # same features, different float32 summation order: equal far below the null's spread
        assert abs(test.mmd2 - rff_mmd2(x, other, sigma, seed=0)) < 1e-3 * test.null_std
        assert abs(test.mmd2 - exact) < 3 * test.null_std, (test, exact)
    biased_exact = exact_mmd2(x, shifted, sigma, unbiased=False)
    assert abs(rff_mmd2(x, shifted, sigma, unbiased=False) - biased_exact) < 0.1 * biased_exact


def test_rff_converges_to_exact_with_more_features(samples):
    x, _, shifted = samples
    x, shifted = x[:500], shifted[:500]
    exact = exact_mmd2(x, shifted, 6.0)
    err = [
        np.mean([abs(rff_mmd2(x, shifted, 6.0, num_features=d, seed=s) - exact) for s in range(4)]) for d in (64, 4096)
    ]
    assert err[1] < err[0] / 3


def test_orthogonal_features_beat_iid_features():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((600, 32)).astype(np.float32)
    y = rng.standard_normal((600, 32)).astype(np.float32) + 0.15
    exact = exact_mmd2(x, y, 6.0)
    err = {
        o: np.mean([abs(rff_mmd2(x, y, 6.0, num_features=256, seed=s, orthogonal=o) - exact) for s in range(8)])
        for o in (True, False)
    }
    assert err[True] < 0.8 * err[False]


def test_permutation_test_detects_shift_and_not_identity(samples):
    x, y, shifted = samples
    hit = mmd_permutation_test(x, shifted, num_permutations=200, seed=0)
    assert isinstance(hit, MMDTestResult) and hit.method == "rff"
    assert hit.p_value < 0.01 and hit.mmd2 > hit.null_mean + 5 * hit.null_std
    same = mmd_permutation_test(x, y, num_permutations=200, seed=0)
    assert same.p_value > 0.05
    assert abs(same.null_mean) < same.null_std  # the U-statistic's null centres on 0
    assert hit.sigma == pytest.approx(median_bandwidth_np(np.vstack([x, shifted])), rel=0.05)


def test_exact_permutation_agrees_with_exact_statistic(samples):
    x, _, shifted = samples
    res = mmd_permutation_test(x[:300], shifted[:300], sigma=5.0, num_permutations=50, method="exact", seed=1)
    assert res.mmd2 == pytest.approx(exact_mmd2(x[:300], shifted[:300], 5.0), rel=1e-4)
    assert res.p_value < 0.05


def test_torch_input_and_bad_input():
    x = torch.randn(50, 4)
    assert rff_mmd2(x, x + 0.0, 2.0) == pytest.approx(exact_mmd2(x, x, 2.0), abs=1e-3)
    with pytest.raises(ValueError, match="feature dimension"):
        exact_mmd2(np.zeros((5, 3)), np.zeros((5, 4)), 1.0)
    with pytest.raises(ValueError, match="2-D"):
        rff_mmd2(np.zeros(5), np.zeros(5), 1.0)
    with pytest.raises(ValueError, match="NaN"):
        rff_mmd2(np.full((3, 2), np.nan), np.zeros((3, 2)), 1.0)
    with pytest.raises(ValueError, match="even"):
        rff_mmd2(np.zeros((3, 2)), np.ones((3, 2)), 1.0, num_features=3)
    with pytest.raises(ValueError, match="method"):
        mmd_permutation_test(np.zeros((3, 2)), np.ones((3, 2)), method="dense")
    with pytest.raises(ValueError, match="sigma"):
        exact_mmd2(np.zeros((3, 2)), np.ones((3, 2)), -1.0)
