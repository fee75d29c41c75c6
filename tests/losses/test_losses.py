"""Losses and thresholds checked against hand-written numpy references (independent of the implementation)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from fer_core.losses import (
    DynamicThreshold,
    FixedThreshold,
    FlexMatchThreshold,
    FreeMatchThreshold,
    GradientReversal,
    grad_reverse,
    group_mmd_loss,
    info_nce,
    median_bandwidth,
    rbf_kernel,
    shrinkage_mmd2,
    shrinkage_weight,
    supcon,
)

ZA = np.array([[0.0, 0.0], [1.0, 0.5], [0.2, -0.7]])
ZB = np.array([[1.5, 1.0], [2.0, 0.1], [0.9, 1.8]])


def np_gram(x, y, sigma):
    k = np.zeros((len(x), len(y)))
    for i in range(len(x)):
        for j in range(len(y)):
            k[i, j] = math.exp(-sum((x[i] - y[j]) ** 2) / (2 * sigma**2))
    return k


def np_weight(k):
    n = k.shape[0]
    rho = sum(k[i, j] for i in range(n) for j in range(n)) / n**2
    varrho = sum(k[i, i] for i in range(n)) / n
    lam = max(n * (varrho - rho) / ((n - 1) * (n * rho - varrho)), 0.0)
    return 1.0 / (1.0 + lam)


def np_mmd(x, y, sigma, shrink=True):
    kxx, kyy, kxy = np_gram(x, x, sigma), np_gram(y, y, sigma), np_gram(x, y, sigma)
    wa, wb = (np_weight(kxx), np_weight(kyy)) if shrink else (1.0, 1.0)
    return wa**2 * kxx.mean() + wb**2 * kyy.mean() - 2 * wa * wb * kxy.mean()


def t(a, grad=False):
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


# ---- MMD ------------------------------------------------------------------------------------------------------------


def test_rbf_kernel_matches_double_loop():
    np.testing.assert_allclose(rbf_kernel(t(ZA), t(ZB), 0.8).numpy(), np_gram(ZA, ZB, 0.8), rtol=1e-12)


def test_shrinkage_weight_and_mmd_match_numpy_on_six_samples():
    w = shrinkage_weight(rbf_kernel(t(ZA), t(ZA), 1.0))
    assert float(w) == pytest.approx(np_weight(np_gram(ZA, ZA, 1.0)), rel=1e-12)
    assert 0.0 < float(w) < 1.0
    got = shrinkage_mmd2(t(ZA), t(ZB), sigma=1.0)
    assert float(got) == pytest.approx(np_mmd(ZA, ZB, 1.0), rel=1e-10)


def test_shrink_false_is_plain_biased_mmd():
    kxx, kyy, kxy = np_gram(ZA, ZA, 1.3), np_gram(ZB, ZB, 1.3), np_gram(ZA, ZB, 1.3)
    plain = kxx.sum() / 9 + kyy.sum() / 9 - 2 * kxy.sum() / 9
    assert float(shrinkage_mmd2(t(ZA), t(ZB), sigma=1.3, shrink=False)) == pytest.approx(plain, rel=1e-10)


def test_multi_bandwidth_sums_kernels_at_multiples_of_sigma():
    kxx = np_gram(ZA, ZA, 0.5) + np_gram(ZA, ZA, 2.0)
    kyy = np_gram(ZB, ZB, 0.5) + np_gram(ZB, ZB, 2.0)
    kxy = np_gram(ZA, ZB, 0.5) + np_gram(ZA, ZB, 2.0)
    wa, wb = np_weight(kxx), np_weight(kyy)
    ref = wa**2 * kxx.mean() + wb**2 * kyy.mean() - 2 * wa * wb * kxy.mean()
    got = shrinkage_mmd2(t(ZA), t(ZB), sigma=1.0, bandwidths=(0.5, 2.0))
    assert float(got) == pytest.approx(ref, rel=1e-10)


def test_median_bandwidth_is_median_of_pairwise_distances():
    z = np.random.default_rng(1).normal(size=(9, 4))
    dists = [np.linalg.norm(z[i] - z[j]) for i, j in itertools.combinations(range(9), 2)]
    assert float(median_bandwidth(t(z))) == pytest.approx(float(np.median(dists)), rel=1e-10)
    assert float(median_bandwidth(torch.zeros(5, 3))) == pytest.approx(1e-3)
    big = torch.randn(3000, 8, generator=torch.Generator().manual_seed(0))
    assert not median_bandwidth(big.requires_grad_()).requires_grad
    assert float(median_bandwidth(big)) == pytest.approx(4.0, rel=0.05)  # sqrt(2 * 8) * ~1 for N(0, I)


def test_mmd_near_zero_for_same_distribution_and_larger_for_shift():
    gen = torch.Generator().manual_seed(0)
    a, b = torch.randn(200, 5, generator=gen), torch.randn(200, 5, generator=gen)
    shifted = torch.randn(200, 5, generator=gen) + 1.0
    same, diff = float(shrinkage_mmd2(a, b)), float(shrinkage_mmd2(a, shifted))
    assert abs(same) < 0.01
    assert diff > 10 * abs(same) and diff > 0.05


def test_gradcheck_plain_and_group_loss():
    za, zb = t(ZA, grad=True), t(ZB, grad=True)
    assert torch.autograd.gradcheck(lambda a, b: shrinkage_mmd2(a, b, sigma=1.0, shrink=False), (za, zb))
    groups = torch.tensor([0, 0, 0, 1, 1, 1])
    z = t(np.vstack([ZA, ZB]), grad=True)
    assert torch.autograd.gradcheck(lambda x: group_mmd_loss(x, groups, sigma=1.0, shrink=False), (z,))


def test_shrinkage_gradient_treats_weights_as_constants():
    za = t(ZA, grad=True)
    shrinkage_mmd2(za, t(ZB), sigma=1.0).backward()
    wa, wb = np_weight(np_gram(ZA, ZA, 1.0)), np_weight(np_gram(ZB, ZB, 1.0))

    def frozen(x):
        return (
            wa**2 * np_gram(x, x, 1.0).mean()
            + wb**2 * np_gram(ZB, ZB, 1.0).mean()
            - 2 * wa * wb * np_gram(x, ZB, 1.0).mean()
        )

    eps, num = 1e-6, np.zeros_like(ZA)
    for idx in np.ndindex(*ZA.shape):
        hi, lo = ZA.copy(), ZA.copy()
        hi[idx] += eps
        lo[idx] -= eps
        num[idx] = (frozen(hi) - frozen(lo)) / (2 * eps)
    np.testing.assert_allclose(za.grad.numpy(), num, rtol=1e-6, atol=1e-9)


def test_group_mmd_loss_averages_usable_pairs():
    rng = np.random.default_rng(3)
    z = rng.normal(size=(10, 3))
    groups = [0, 0, 0, 1, 1, 1, 2, 2, 2, 3]  # group 3 has one member and is skipped
    rows = {g: [i for i, gi in enumerate(groups) if gi == g] for g in (0, 1, 2)}
    ref = np.mean([np_mmd(z[rows[a]], z[rows[b]], 0.9) for a, b in [(0, 1), (0, 2), (1, 2)]])
    assert float(group_mmd_loss(t(z), groups, sigma=0.9)) == pytest.approx(ref, rel=1e-10)


def test_group_mmd_loss_with_one_usable_group_is_zero_with_grad():
    z = torch.randn(4, 3, requires_grad=True)
    loss = group_mmd_loss(z, [0, 0, 0, 1])
    loss.backward()
    assert float(loss.detach()) == 0.0 and torch.equal(z.grad, torch.zeros(4, 3))


def test_mmd_bad_input():
    with pytest.raises(ValueError, match="at least 2"):
        shrinkage_weight(torch.ones(1, 1))
    with pytest.raises(ValueError, match="feature dimension"):
        shrinkage_mmd2(torch.randn(3, 2), torch.randn(3, 4))
    with pytest.raises(ValueError, match="sigma"):
        rbf_kernel(torch.randn(3, 2), torch.randn(3, 2), 0.0)
    with pytest.raises(ValueError, match="one label per row"):
        group_mmd_loss(torch.randn(4, 2), [0, 1])
    with pytest.raises(ValueError, match="bandwidths"):
        shrinkage_mmd2(torch.randn(3, 2), torch.randn(3, 2), bandwidths=())


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_mmd_on_cuda_matches_cpu():
    z = torch.randn(16, 4, dtype=torch.float64)
    groups = torch.tensor([0] * 8 + [1] * 8)
    cpu = group_mmd_loss(z, groups, bandwidths=(0.5, 1.0, 2.0))
    zc = z.cuda().requires_grad_()
    gpu = group_mmd_loss(zc, groups.cuda(), bandwidths=(0.5, 1.0, 2.0))
    gpu.backward()
    assert float(gpu) == pytest.approx(float(cpu), rel=1e-9) and zc.grad.is_cuda


# ---- gradient reversal ----------------------------------------------------------------------------------------------


def test_grl_forward_identity_backward_negated():
    x = torch.randn(4, 3, requires_grad=True)
    g = torch.randn(4, 3)
    y = grad_reverse(x, 0.75)
    assert torch.equal(y, x)
    (y * g).sum().backward()
    assert torch.equal(x.grad, -0.75 * g)
    layer = GradientReversal(2.0)
    x2 = torch.randn(5, requires_grad=True)
    layer(x2).sum().backward()
    assert torch.equal(x2.grad, torch.full((5,), -2.0))
    layer.lambd = 0.0
    x3 = torch.randn(2, requires_grad=True)
    layer(x3).sum().backward()
    assert torch.equal(x3.grad, torch.zeros(2))
    with pytest.raises(ValueError, match="lambd"):
        GradientReversal(-1.0)


# ---- contrastive ----------------------------------------------------------------------------------------------------


def np_info_nce(z1, z2, temp):
    z = np.vstack([z1, z2])
    z = z / np.linalg.norm(z, axis=1, keepdims=True)
    n2 = len(z)
    losses = []
    for i in range(n2):
        pos = (i + n2 // 2) % n2
        denom = sum(math.exp(z[i] @ z[k] / temp) for k in range(n2) if k != i)
        losses.append(-math.log(math.exp(z[i] @ z[pos] / temp) / denom))
    return float(np.mean(losses))


def test_info_nce_matches_hand_computation_and_cross_entropy_form():
    rng = np.random.default_rng(0)
    z1, z2 = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    got = float(info_nce(t(z1), t(z2), temperature=0.5))
    assert got == pytest.approx(np_info_nce(z1, z2, 0.5), rel=1e-10)
    a, b = F.normalize(t(z1), dim=1), F.normalize(t(z2), dim=1)
    off = ~torch.eye(3, dtype=torch.bool)
    logits1 = torch.cat([a @ b.T, (a @ a.T)[off].view(3, 2)], dim=1) / 0.5  # positive in column i
    logits2 = torch.cat([b @ a.T, (b @ b.T)[off].view(3, 2)], dim=1) / 0.5
    target = torch.arange(3)
    ce = 0.5 * (F.cross_entropy(logits1, target) + F.cross_entropy(logits2, target))
    assert got == pytest.approx(float(ce), rel=1e-10)


def test_supcon_matches_hand_computation():
    rng = np.random.default_rng(1)
    z, labels = rng.normal(size=(5, 3)), [0, 1, 0, 1, 2]
    zn = z / np.linalg.norm(z, axis=1, keepdims=True)
    terms = []
    for i in range(5):
        pos = [p for p in range(5) if p != i and labels[p] == labels[i]]
        if not pos:
            continue
        denom = sum(math.exp(zn[i] @ zn[a] / 0.2) for a in range(5) if a != i)
        terms.append(-np.mean([math.log(math.exp(zn[i] @ zn[p] / 0.2) / denom) for p in pos]))
    assert float(supcon(t(z), torch.tensor(labels), 0.2)) == pytest.approx(float(np.mean(terms)), rel=1e-10)
    zz = torch.randn(3, 2, requires_grad=True)
    loss = supcon(zz, torch.tensor([0, 1, 2]))
    loss.backward()
    assert float(loss.detach()) == 0.0


def test_contrastive_bad_input():
    with pytest.raises(ValueError, match="same shape"):
        info_nce(torch.randn(3, 2), torch.randn(4, 2))
    with pytest.raises(ValueError, match="temperature"):
        info_nce(torch.randn(3, 2), torch.randn(3, 2), temperature=0)


# ---- thresholds -----------------------------------------------------------------------------------------------------


def test_fixed_threshold_mask():
    probs = torch.tensor([[0.96, 0.04], [0.5, 0.5], [0.05, 0.95], [0.94, 0.06]])
    th = FixedThreshold(0.95)
    assert th.mask(probs).tolist() == [True, False, True, False]
    th.update(probs)
    assert th.thresholds().tolist() == pytest.approx([0.95, 0.95])
    with pytest.raises(ValueError, match="softmax"):
        th.mask(torch.tensor([[2.0, -1.0]]))


def test_freematch_ema_after_two_updates():
    th = FreeMatchThreshold(3, momentum=0.9)
    assert th.thresholds().tolist() == pytest.approx([1 / 3] * 3)
    th.update(torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1]]))
    th.update(torch.tensor([[0.2, 0.2, 0.6]]))
    tau = 0.9 * (0.9 / 3 + 0.1 * 0.75) + 0.1 * 0.6  # 0.3975
    p = [0.9 * (0.9 / 3 + 0.1 * m1) + 0.1 * m2 for m1, m2 in [(0.4, 0.2), (0.5, 0.2), (0.1, 0.6)]]
    expected = [tau * pc / max(p) for pc in p]
    assert th.thresholds().tolist() == pytest.approx(expected, rel=1e-6)
    assert tau == pytest.approx(0.3975)
    assert th.mask(torch.tensor([[0.39, 0.31, 0.30], [0.3, 0.3, 0.4]])).tolist() == [True, True]
    assert th.mask(torch.tensor([[0.2, 0.2, 0.6]] * 1)).tolist() == [True]


def test_flexmatch_hand_example():
    th = FlexMatchThreshold(3, 5, tau=0.9, warmup=True)
    assert th.thresholds().tolist() == [0.0, 0.0, 0.0]
    th.update(torch.tensor([[0.95, 0.03, 0.02], [0.1, 0.85, 0.05], [0.05, 0.0, 0.95]]), torch.tensor([0, 1, 2]))
    # sigma = [1, 0, 1], 3 samples never confident -> beta = [1/3, 0, 1/3]; T = 0.9 * b / (2 - b)
    assert th.thresholds().tolist() == pytest.approx([0.18, 0.0, 0.18], rel=1e-6)
    no_warm = FlexMatchThreshold(3, 5, tau=0.9, warmup=False)
    no_warm.update(torch.tensor([[0.95, 0.03, 0.02], [0.05, 0.0, 0.95]]), [0, 2])
    assert no_warm.thresholds().tolist() == pytest.approx([0.9, 0.0, 0.9], rel=1e-6)
    assert no_warm.mask(torch.tensor([[0.5, 0.2, 0.3], [0.1, 0.5, 0.4], [0.05, 0.0, 0.95]])).tolist() == [
        False,
        True,
        True,
    ]
    # sample 0 changes its mind to class 1, sample 3 becomes confident in class 0: sigma = [1, 1, 1], unused = 2
    th.update(torch.tensor([[0.05, 0.92, 0.03], [0.91, 0.05, 0.04]]), torch.tensor([0, 3]))
    assert th.thresholds().tolist() == pytest.approx([0.3, 0.3, 0.3], rel=1e-6)
    with pytest.raises(ValueError, match="indices"):
        th.update(torch.tensor([[0.9, 0.05, 0.05]]))
    with pytest.raises(ValueError, match="indices must lie"):
        th.update(torch.tensor([[0.9, 0.05, 0.05]]), torch.tensor([5]))


def test_dynamic_threshold_per_class_quantile_by_stage():
    th = DynamicThreshold(3, schedule=(0.5, 0.9), t_min=0.3)
    probs = torch.tensor([[0.9, 0.1, 0.0], [0.6, 0.3, 0.1], [0.8, 0.2, 0.0], [0.3, 0.7, 0.0], [0.45, 0.55, 0.0]])
    th.update(probs[:2])
    th.update(probs[2:])
    # class 0 max-probs [0.6, 0.8, 0.9], class 1 [0.55, 0.7], class 2 never predicted -> 1.0
    assert th.thresholds().tolist() == pytest.approx([0.8, 0.625, 1.0], rel=1e-6)
    assert th.mask(probs).tolist() == [True, False, True, True, False]
    th.set_stage(1)
    assert th.thresholds().tolist() == [1.0, 1.0, 1.0]
    th.update(probs)
    # linear-interpolated 0.9 quantiles: 0.8 + 0.8 * 0.1 and 0.55 + 0.9 * 0.15
    assert th.thresholds().tolist() == pytest.approx([0.88, 0.685, 1.0], rel=1e-6)
    floor = DynamicThreshold(2, schedule=(0.5,), t_min=0.75)
    floor.update(torch.tensor([[0.6, 0.4], [0.7, 0.3], [0.2, 0.8]]))
    assert floor.thresholds().tolist() == pytest.approx([0.75, 0.8], rel=1e-6)
    with pytest.raises(ValueError, match="stage"):
        th.set_stage(2)
    with pytest.raises(ValueError, match="non-decreasing"):
        DynamicThreshold(3, schedule=(0.9, 0.5))
    with pytest.raises(ValueError, match="classes"):
        th.update(torch.tensor([[0.5, 0.5]]))
