"""LRP: exact canonisation, equality with zennit, conservation, rule oracles, batching and thread safety."""

from __future__ import annotations

import threading

import pytest
import torch
from torch import nn

from fer_core.explain import LRPExplainer, canonical_copy, create_explainer, lrp_rules, region_share, zennit_lrp
from fer_core.models.preprocess import input_bounds, to_model_input

COMPOSITES = ["epsilon_plus_flat", "epsilon_alpha2_beta1_flat", "epsilon_gamma_box"]


def _bounds(dtype=torch.float64):
    return torch.full((1, 1, 1, 1), -1.0, dtype=dtype), torch.full((1, 1, 1, 1), 1.0, dtype=dtype)


def test_canonical_copy_is_exact_and_leaves_the_original_alone(tiny_xception):
    before = {k: v.clone() for k, v in tiny_xception.state_dict().items()}
    x = torch.rand(4, 1, 64, 64, dtype=torch.float64) * 2 - 1
    canon = canonical_copy(tiny_xception)
    torch.testing.assert_close(canon(x), tiny_xception(x), rtol=0, atol=1e-10)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in canon.modules())
    for k, v in tiny_xception.state_dict().items():
        assert torch.equal(v, before[k])


@pytest.mark.parametrize("composite", COMPOSITES)
def test_fast_engine_equals_zennit(tiny_xception, composite):
    x = torch.rand(3, 1, 64, 64, dtype=torch.float64) * 2 - 1
    explainer = LRPExplainer(tiny_xception, composite, bounds=_bounds())
    targets = torch.arange(5).expand(3, 5)
    ours = explainer.relevance(x, targets)
    ref = zennit_lrp(explainer.model, x, targets, composite, low=_bounds()[0], high=_bounds()[1])
    assert ours.shape == (3, 5, 1, 64, 64)
    assert ((ours - ref).abs().max() / ref.abs().max()) < 1e-9


def test_real_model_maps_equal_zennit_and_conserve_the_logit(fer_model, portrait_faces):
    x = to_model_input([portrait_faces[0].crop], fer_model.card)
    explainer = LRPExplainer(fer_model.model, "epsilon_plus_flat")
    targets = torch.arange(7)[None]
    ours = explainer.relevance(x, targets)
    ref = zennit_lrp(explainer.model, x, targets, "epsilon_plus_flat")
    assert ((ours - ref).abs().max() / ref.abs().max()) <= 1e-4
    logits = explainer.logits(x)[0]
    conservation = ours[0].sum(dim=(1, 2, 3)) / logits
    assert ((conservation - 1).abs() < 0.02).all(), conservation


def test_epsilon_rule_oracle_on_one_linear_layer():
    layer = nn.Linear(3, 2, bias=False).double()
    layer.weight.data = torch.tensor([[1.0, -2.0, 0.5], [0.0, 1.0, 1.0]], dtype=torch.float64)
    x = torch.tensor([[2.0, 1.0, 4.0]], dtype=torch.float64)
    r = torch.tensor([[1.0, 0.0], [0.0, 3.0]], dtype=torch.float64)  # K = 2 output relevances for one input
    got = lrp_rules.epsilon(layer, x, r)
    z = x @ layer.weight.T  # [2, 5]
    expected = torch.stack([x[0] * layer.weight[k] * r[k, k] / z[0, k] for k in range(2)])
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-9)  # eps = 1e-6 stabiliser


def test_zplus_rule_oracle_on_one_linear_layer():
    layer = nn.Linear(2, 1, bias=False).double()
    layer.weight.data = torch.tensor([[3.0, -1.0]], dtype=torch.float64)
    x = torch.tensor([[1.0, 2.0]], dtype=torch.float64)
    got = lrp_rules.zplus(layer, x, torch.tensor([[6.0]], dtype=torch.float64))
    # only the positive contribution 1 * 3 counts, so it receives all the relevance
    torch.testing.assert_close(got, torch.tensor([[6.0, 0.0]], dtype=torch.float64), atol=1e-5, rtol=0)


@pytest.mark.parametrize("batch_size", [1, 3, 16])
def test_batch_size_never_changes_a_result(fer_model, batch_size):
    torch.manual_seed(0)
    x = torch.rand(5, 1, 64, 64) * 2 - 1
    explainer = LRPExplainer(fer_model.model)
    full = explainer.attribute(x, target=[0, 1, 2, 3, 4], batch_size=5)
    torch.testing.assert_close(explainer.attribute(x, target=[0, 1, 2, 3, 4], batch_size=batch_size), full)
    all_classes = explainer.attribute_all(x, batch_size=batch_size)
    torch.testing.assert_close(all_classes[torch.arange(5), torch.tensor([0, 1, 2, 3, 4])], full)


def test_target_conventions(fer_model):
    x = torch.rand(2, 1, 64, 64) * 2 - 1
    explainer = create_explainer("lrp", fer_model.model, fer_model.card)
    pred = explainer.logits(x).argmax(1)
    torch.testing.assert_close(explainer.attribute(x), explainer.attribute(x, target=pred))
    torch.testing.assert_close(explainer.attribute(x, target=3), explainer.attribute(x, target=torch.tensor([3, 3])))
    with pytest.raises(ValueError, match="target must be"):
        explainer.attribute(x, target=[1, 2, 3])
    with pytest.raises(ValueError, match="target must be"):
        explainer.attribute(x, target=9)
    with pytest.raises(TypeError, match="images must be"):
        explainer.attribute(x[0])


def test_two_threads_share_one_hooked_explainer_safely(fer_model):
    """zennit hooks live on the explainer's private copy and calls are serialised: results equal sequential."""
    explainer = LRPExplainer(fer_model.model, engine="zennit")
    torch.manual_seed(1)
    xs = [torch.rand(2, 1, 64, 64) * 2 - 1 for _ in range(2)]
    expected = [explainer.attribute_all(x) for x in xs]
    results: dict[int, torch.Tensor] = {}

    def work(i: int) -> None:
        for _ in range(3):
            results[i] = explainer.attribute_all(xs[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(2):
        torch.testing.assert_close(results[i], expected[i])
    assert all(not m._forward_hooks and not m._backward_hooks for m in fer_model.model.modules())


def test_happy_evidence_sits_on_the_mouth_of_a_smiling_face(fer_model, portrait_faces):
    face = portrait_faces[0]
    x = to_model_input([face.crop], fer_model.card)
    rel = LRPExplainer(fer_model.model).attribute(x, target=fer_model.card.label_names.index("happy"))[0]
    share = region_share(rel, face.regions)
    area = {k: v.mean() for k, v in face.regions.items()}
    assert share["mouth"] > 2 * area["mouth"]  # twice the share its area alone would give
    assert share["mouth"] > share["forehead"] and share["mouth"] > share["nose"]


def test_gamma_box_needs_bounds(fer_model):
    with pytest.raises(ValueError, match="bounds"):
        LRPExplainer(fer_model.model, "epsilon_gamma_box")
    explainer = create_explainer("lrp_gamma_box", fer_model.model, fer_model.card)
    low, high = input_bounds(fer_model.card)
    assert explainer.low.equal(low) and explainer.high.equal(high)
