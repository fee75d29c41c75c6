"""Methods on users' models: LRP on a torchvision ResNet equals zennit's ResNetCanonizer + EpsilonPlusFlat and
conserves the logit; methods that cannot apply say why instead of crashing."""

from __future__ import annotations

import warnings

import pytest
import torch

from fer_core.explain import METHODS, MethodNotApplicable, create_explainer, method_support
from fer_core.models import ModelCard, create_model, load_foreign
from fer_core.models.checkpoint import LoadedModel
from tests._onnx import export_onnx

CARD = ModelCard("resnet18", (112, 112), 3, (0.5,) * 3, (0.5,) * 3, tuple("abcdefg"), format="state_dict")


def _resnet18() -> torch.nn.Module:
    torch.manual_seed(1)
    model = create_model("resnet18", num_classes=7).eval()
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.1, 0.1)
    return model


def test_resnet_lrp_equals_zennit_resnet_canonizer_and_conserves():
    from zennit.attribution import Gradient
    from zennit.composites import EpsilonPlusFlat
    from zennit.torchvision import ResNetCanonizer

    model = _resnet18()
    x = torch.randn(3, 3, 112, 112)
    logits, rel = create_explainer("lrp", model, CARD).explain(x)
    composite = EpsilonPlusFlat(canonizers=[ResNetCanonizer()], zero_params="bias")
    with torch.no_grad():
        out = model(x)
    ref = []
    with Gradient(model=model, composite=composite) as attributor:  # zennit's own API, one class at a time
        for k in range(7):
            ref.append(attributor(x, torch.nn.functional.one_hot(torch.full((3,), k), 7) * out)[1])
    ref = torch.stack(ref, 1)
    torch.testing.assert_close(logits, out, atol=1e-5, rtol=1e-5)
    # relative to the map's norm: 1e-5 measured; the largest single pixel differs by up to 5e-4 of the largest
    # relevance (float64 too: a few near-zero stabilised denominators in 20 layers), so that bound is 1e-3
    assert float(torch.linalg.vector_norm(rel - ref) / torch.linalg.vector_norm(ref)) < 1e-4
    assert float((rel - ref).abs().max() / ref.abs().max()) < 1e-3
    conservation = rel.sum((2, 3, 4)) / logits
    assert float(conservation.min()) >= 0.99 and float(conservation.max()) <= 1.01


def _support(model: torch.nn.Module, card: ModelCard = CARD, note: str = "") -> dict[str, str]:
    return method_support(LoadedModel("m", model, card, note))


def test_rules_missing_for_squeeze_excite_are_named_and_gradients_still_apply():
    support = _support(create_model("efficientnet_b0", num_classes=7))
    assert "SiLU" in support["lrp"] and "Integrated Gradients" in support["lrp"]
    assert support["ig"] == support["saliency"] == support["gradcam"] == support["occlusion"] == ""
    with pytest.raises(MethodNotApplicable, match="SiLU"):
        create_explainer("lrp", create_model("efficientnet_b0", num_classes=7), CARD)


def test_gradcam_on_a_torchvision_model_uses_its_last_convolution():
    model = create_model("mobilenet_v3_small", num_classes=7).eval()
    rel = create_explainer("gradcam", model, CARD).attribute(torch.randn(2, 3, 112, 112), target=0)
    assert rel.shape == (2, 3, 112, 112) and torch.isfinite(rel).all() and rel.abs().sum() > 0


def test_gradcam_on_a_chosen_layer_is_captums_layer_gradcam_there():
    from captum.attr import LayerGradCam

    model = _resnet18()
    x = torch.randn(2, 3, 112, 112)
    got = create_explainer("gradcam", model, CARD, layer="layer3.1.conv2").attribute(x, target=4)
    cam = LayerGradCam(model, model.layer3[1].conv2).attribute(x, target=4, relu_attributions=False)
    want = torch.nn.functional.interpolate(cam, size=(112, 112), mode="bilinear", align_corners=False)
    torch.testing.assert_close(got, want.expand_as(x), atol=1e-6, rtol=1e-5)
    with pytest.raises(ValueError, match="no layer 'layer9'.*layer4.1.conv2"):
        create_explainer("gradcam", model, CARD, layer="layer9")


def test_torchscript_takes_gradients_but_not_hooks(tmp_path):
    model = _resnet18()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scripted = torch.jit.trace(model, torch.randn(1, 3, 112, 112))
    support = _support(scripted)
    assert support["ig"] == support["saliency"] == support["occlusion"] == ""
    assert "TorchScript" in support["lrp"] and "hooks" in support["gradcam"]
    x = torch.randn(2, 3, 112, 112)
    got = create_explainer("saliency", scripted, CARD).attribute(x, target=1)
    want = create_explainer("saliency", model, CARD).attribute(x, target=1)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-4)


def test_onnx_gets_black_box_methods_and_reasons_for_the_rest(tmp_path):
    model = _resnet18()
    export_onnx(model, tmp_path / "m.onnx", (1, 3, 112, 112))
    card = ModelCard("onnx", (112, 112), 3, (0.5,) * 3, (0.5,) * 3, tuple("abcdefg"), format="onnx")
    loaded = load_foreign(tmp_path / "m.onnx", card, convert_onnx=False)
    support = method_support(loaded)
    assert set(support) == set(METHODS)
    assert support["occlusion"] == "" and all("without gradients" in support[m] for m in ("lrp", "ig", "gradcam"))
    x = torch.randn(1, 3, 112, 112)
    got = create_explainer("occlusion", loaded.model, card).attribute(x, target=2)
    want = create_explainer("occlusion", model, card).attribute(x, target=2)
    torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-3)


def test_an_onnx_graph_exported_for_batch_one_still_takes_batches(tmp_path):
    """Many exported graphs fix the batch at 1: occlusion's batched forwards are run in that size."""
    model = _resnet18()
    export_onnx(model, tmp_path / "b1.onnx", (1, 3, 64, 64), batch_dynamic=False)
    card = ModelCard("onnx", (64, 64), 3, (0.5,) * 3, (0.5,) * 3, tuple("abcdefg"), format="onnx")
    loaded = load_foreign(tmp_path / "b1.onnx", card, convert_onnx=False)
    x = torch.randn(5, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(loaded.model(x), model(x), atol=1e-4, rtol=1e-4)
