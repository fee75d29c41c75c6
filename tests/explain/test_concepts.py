"""CRP on the fast engine: equal to zennit-crp's CondAttribution, and the identities any channel-conditioned LRP obeys
(per-channel maps add up to the unconditioned map; a channel set is the sum of its channels)."""

from __future__ import annotations

import pytest
import torch

from fer_core.explain import LRPExplainer, SaliencyExplainer, create_explainer
from fer_core.explain.concepts import (
    concept_layers,
    concept_relevance,
    conditional_heatmaps,
    default_concept_layer,
    relevance_with_concepts,
    top_concepts,
)
from fer_core.models.layers import ResidualSum
from fer_core.models.preprocess import to_model_input


def _crp(model, x, target, layer, concepts):
    """zennit-crp's conditional heatmaps (M, H, W) and the layer's channel relevance (channels,) for one face."""
    from crp.attribution import CondAttribution
    from zennit.composites import EpsilonPlusFlat
    from zennit.rules import Norm

    comp = EpsilonPlusFlat(layer_map=[(ResidualSum, Norm())], zero_params="bias")
    attr = CondAttribution(model)
    conds = [{"y": [target], layer: c if isinstance(c, list) else [c]} for c in concepts]
    heat = attr(x.clone().requires_grad_(True), conds, comp, record_layer=[layer]).heatmap
    plain = attr(x.clone().requires_grad_(True), [{"y": [target]}], comp, record_layer=[layer])
    return heat, plain.relevances[layer].flatten(2).sum(2)[0]


def _close(ours: torch.Tensor, ref: torch.Tensor, rel: float = 1e-4) -> None:
    err = float((ours - ref).abs().max() / ref.abs().max())
    assert err < rel, f"relative error {err:.2e}"


def test_every_concept_layer_equals_zennit_crp(tiny_xception):
    pytest.importorskip("crp")
    explainer = LRPExplainer(tiny_xception)
    torch.manual_seed(1)
    x = torch.rand(2, 1, 48, 48, dtype=torch.float64)
    layers = concept_layers(explainer)
    assert [la.kind for la in layers][:2] == ["conv", "conv"] and "block" in {la.kind for la in layers}
    for layer in layers:
        concepts = [0, layer.channels - 1, [1, 2]]
        heat = conditional_heatmaps(explainer, x, [3, 1], concepts, layer.name).sum(2)
        _, rel = concept_relevance(explainer, x, [3, 1], layer.name)
        for i, target in enumerate([3, 1]):
            ref_heat, ref_rel = _crp(explainer.model, x[i : i + 1], target, layer.name, concepts)
            _close(heat[i], ref_heat)
            _close(rel[i, 0], ref_rel)


def test_real_model_top_concepts_equal_zennit_crp(fer_model, portrait_faces):
    pytest.importorskip("crp")
    x = to_model_input([portrait_faces[0].crop], fer_model.card)
    explainer = create_explainer("lrp", fer_model.model, fer_model.card)
    happy = fer_model.card.label_names.index("happy")
    found = top_concepts(explainer, x, happy, top=8)
    assert found.layer == default_concept_layer(explainer)
    ref_heat, ref_rel = _crp(explainer.model, x, happy, found.layer, found.concepts)
    _close(found.heatmaps, ref_heat)
    assert found.concepts == torch.argsort(ref_rel, descending=True)[:8].tolist()
    assert found.share == pytest.approx((ref_rel[found.concepts] / ref_rel.abs().sum()).tolist(), rel=1e-4)
    assert found.total == pytest.approx(float(ref_rel.sum()), rel=1e-4)


def test_channel_maps_add_up_to_the_unconditioned_map(tiny_xception):
    """LRP is linear in the relevance at a layer: the maps of all channels one by one sum to the plain LRP map, and a
    channel set's map is the sum of its channels' maps (independent of zennit-crp)."""
    explainer = LRPExplainer(tiny_xception)
    torch.manual_seed(2)
    x = torch.rand(2, 1, 48, 48, dtype=torch.float64)
    for layer in concept_layers(explainer):
        every = list(range(layer.channels))
        per_channel = conditional_heatmaps(explainer, x, [0, 4], every, layer.name)
        torch.testing.assert_close(per_channel[:, :].sum(1)[0], explainer.attribute(x[:1], 0)[0])
        torch.testing.assert_close(per_channel.sum(1)[1], explainer.attribute(x[1:], 4)[0])
        pair = conditional_heatmaps(explainer, x, [0, 4], [[0, 1]], layer.name)[:, 0]
        torch.testing.assert_close(pair, per_channel[:, 0] + per_channel[:, 1])


def test_top_concepts_are_ranked_and_shares_are_of_the_absolute_total(tiny_xception):
    explainer = LRPExplainer(tiny_xception)
    torch.manual_seed(3)
    x = torch.rand(1, 1, 48, 48, dtype=torch.float64)
    layer = concept_layers(explainer)[1].name
    found = top_concepts(explainer, x, 2, layer, top=5)
    _, rel = concept_relevance(explainer, x, 2, layer)
    r = rel[0, 0]
    assert found.relevance == sorted(found.relevance, reverse=True)
    assert found.relevance[0] == pytest.approx(float(r.max()))
    assert found.share[0] == pytest.approx(float(r.max() / r.abs().sum()))
    assert found.heatmaps.shape == (5, 48, 48)


def test_unknown_layers_and_other_explainers_are_refused_by_name(tiny_xception):
    explainer = LRPExplainer(tiny_xception)
    with pytest.raises(ValueError, match="no concept layer 'nope'; choose from 0.0"):
        concept_relevance(explainer, torch.rand(1, 1, 48, 48, dtype=torch.float64), 0, "nope")
    with pytest.raises(ValueError, match=r"concept 99 is not a set of channels in \[0, 8\)"):
        conditional_heatmaps(explainer, torch.rand(1, 1, 48, 48, dtype=torch.float64), 0, [99], "0.0")
    with pytest.raises(TypeError, match="LRP explainer of a CNN"):
        concept_layers(SaliencyExplainer(tiny_xception))


def test_maps_and_channel_relevance_from_one_pass_equal_the_two_separate_ones(tiny_xception):
    explainer = LRPExplainer(tiny_xception)
    torch.manual_seed(4)
    x = torch.rand(3, 1, 48, 48, dtype=torch.float64)
    for layer in concept_layers(explainer):
        logits, rel, channels = relevance_with_concepts(explainer, x, [[1, 4]] * 3, layer.name)
        torch.testing.assert_close(rel[:, 0], explainer.attribute(x, 1))
        torch.testing.assert_close(rel[:, 1], explainer.attribute(x, 4))
        plain_logits, plain_channels = concept_relevance(explainer, x, [[1, 4]] * 3, layer.name)
        torch.testing.assert_close(channels, plain_channels)
        torch.testing.assert_close(logits, plain_logits)
