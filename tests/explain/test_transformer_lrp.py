"""CP-LRP for ViTs: conservation against the explained logit, an analytic case, and the explainer wiring."""

from __future__ import annotations

import pytest
import torch

from fer_core.explain import TransformerLRPExplainer, create_explainer
from fer_core.explain.transformer_lrp import conservative_copy
from fer_core.models import ModelCard
from fer_core.models.vit import VisionTransformer


def _vit(depth: int = 2, seed: int = 0) -> VisionTransformer:
    torch.manual_seed(seed)
    model = VisionTransformer(
        img_size=16, patch_size=4, in_chans=1, num_classes=3, embed_dim=16, depth=depth, num_heads=2
    ).eval()
    with torch.no_grad():
        model.head.weight.normal_(0, 0.5)  # the MAE-style head starts near zero: give the logits some size
    return model


def test_the_conservative_copy_computes_the_same_outputs():
    model = _vit()
    x = torch.randn(4, 1, 16, 16)
    with torch.no_grad():
        assert torch.allclose(conservative_copy(model)(x), model(x), atol=1e-5)


def test_relevance_sums_to_the_logit_when_nothing_else_takes_a_share():
    """Conservation (Ali et al. 2022): with every bias, the position embeddings and the class token at zero, the
    only source of the logit is the input, so the input relevance must add up to it exactly, for every target.
    Plain gradient x input of the same model does not (softmax, LayerNorm and GELU are not linear)."""
    model = _vit(depth=3)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias") or name == "cls_token":
                p.zero_()
        model.pos_embed.zero_()
    x = torch.randn(3, 1, 16, 16)
    explainer = TransformerLRPExplainer(model)
    rel = explainer.attribute_all(x)  # (3, 3 classes, 1, 16, 16)
    with torch.no_grad():
        logits = model(x)
    assert torch.allclose(rel.sum((2, 3, 4)), logits, atol=1e-4, rtol=1e-4)
    xg = x.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(model(xg)[:, 0].sum(), xg)
    assert not torch.allclose((g * x).sum((1, 2, 3)), logits[:, 0], atol=1e-3)


def test_without_blocks_the_relevance_of_a_pixel_is_its_linear_share_of_the_logit():
    """Depth 0: logit = w . (centred pooled patch embedding) / std + b. With std held constant, each pixel's relevance
    is its term of that linear function, computed here by hand from the weights."""
    model = _vit(depth=0)
    with torch.no_grad():
        model.patch_embed.bias.zero_()
        model.pos_embed.zero_()
    x = torch.randn(1, 1, 16, 16)
    rel = TransformerLRPExplainer(model).attribute(x, target=1)
    patches = x.unfold(2, 4, 4).unfold(3, 4, 4).reshape(16, 16)  # (patch, pixel in patch)
    w_pe = model.patch_embed.weight.reshape(16, 16)  # (embed, pixel in patch)
    tokens = patches @ w_pe.T  # (patch, embed)
    pooled = tokens.mean(0)
    centred = pooled - pooled.mean()
    std = (centred.pow(2).mean() + model.fc_norm.eps).sqrt()
    w_eff = (model.head.weight[1] * model.fc_norm.weight) / std  # logit = w_eff . centred + const
    w_eff = w_eff - w_eff.mean()  # centring is linear: fold it into the weights
    expected = patches * (w_eff @ w_pe)[None] / 16  # (patch, pixel): x * d logit / d x
    got = rel[0, 0].unfold(0, 4, 4).unfold(1, 4, 4).reshape(16, 16)
    assert torch.allclose(got, expected, atol=1e-5)


def test_lrp_on_a_vit_uses_conservative_propagation_and_other_rules_say_why_not():
    model = _vit()
    card = ModelCard(arch="vit", input_size=(16, 16), in_chans=1, mean=(0.5,), std=(0.5,), label_names=("a", "b", "c"))
    assert isinstance(create_explainer("lrp", model, card), TransformerLRPExplainer)
    with pytest.raises(ValueError, match="CP-LRP"):
        create_explainer("lrp_alpha2_beta1", model, card)
