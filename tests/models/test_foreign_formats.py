"""Bring your own model: the formats users hold give the probabilities of the PyTorch model they came from, a card
that contradicts its file is refused with both numbers named, and a full pickle needs an explicit opt-in."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from fer_core.errors import CheckpointError
from fer_core.face import load_image
from fer_core.models import create_model, load_foreign
from fer_core.models.preprocess import predict_probs
from fer_core.models.user_models import build_card
from tests._onnx import export_onnx

LABELS = ("anger", "disgust", "fear", "happy", "sad", "surprise", "neutral")
SAMPLES = Path(__file__).resolve().parents[2] / "assets" / "synthfacs_sample" / "images"
SIZE = 64


def _faces(n: int = 4) -> list[np.ndarray]:
    files = sorted(SAMPLES.glob("*.png"))[:n]
    return [load_image(f) for f in files]


def _seeded(arch: str) -> torch.nn.Module:
    torch.manual_seed(0)
    model = create_model(arch, num_classes=len(LABELS)).eval()
    for m in model.modules():  # non-trivial BatchNorm statistics, so folding and export are really tested
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.8, 1.2)
    head = [m for m in model.modules() if isinstance(m, torch.nn.Linear)][-1]
    torch.nn.init.normal_(head.weight, std=0.5)  # timm's near-zero head init would give uniform probabilities
    return model


def _export(model: torch.nn.Module, folder: Path) -> dict[str, Path]:
    x = torch.randn(2, 3, SIZE, SIZE)
    paths = {"pth": folder / "m.pth", "safetensors": folder / "m.safetensors", "torchscript": folder / "m.ts.pt"}
    torch.save(model.state_dict(), paths["pth"])
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(paths["safetensors"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.jit.save(torch.jit.trace(model, x), str(paths["torchscript"]))
    paths["onnx"] = export_onnx(model, folder / "m.onnx", (2, 3, SIZE, SIZE), opset_version=17)
    return paths


@pytest.mark.slow
@pytest.mark.parametrize("arch", ["resnet18", "timm/efficientnet_b0"])
def test_every_format_gives_the_source_models_probabilities(arch, tmp_path):
    model = _seeded(arch)
    paths = _export(model, tmp_path)
    faces = _faces()
    card0 = build_card(paths["pth"], arch=arch, label_names=LABELS, input_size=(SIZE, SIZE))
    want = predict_probs(model, card0, faces)
    assert (want.max(1) - want.min(1)).min() > 0.05  # far from uniform: the check below has teeth
    noise = torch.randn(3, 3, SIZE, SIZE) * 2  # inputs far apart, where a random network's outputs differ more
    with torch.no_grad():
        want_logits = model(noise)
    for kind, path in paths.items():
        card = build_card(path, arch=arch, label_names=LABELS, input_size=(SIZE, SIZE))
        for convert in (False, True) if kind == "onnx" else (True,):
            loaded = load_foreign(path, card, convert_onnx=convert)
            got = predict_probs(loaded.model, loaded.card, faces)
            np.testing.assert_allclose(got, want, atol=1e-5, err_msg=f"{arch} as {kind} (convert={convert})")
            with torch.no_grad():
                torch.testing.assert_close(loaded.model(noise), want_logits, atol=1e-4, rtol=1e-4)
        assert card.sha256 and card.format == ("state_dict" if kind in ("pth", "safetensors") else kind)
    assert load_foreign(paths["onnx"], card, convert_onnx=False).runtime == "onnxruntime"


def test_the_architecture_of_a_state_dict_is_guessed(tmp_path):
    torch.save(create_model("resnet18", num_classes=3, in_chans=1).state_dict(), tmp_path / "grey.pth")
    card = build_card(tmp_path / "grey.pth", label_names=("a", "b", "c"), input_size=(48, 48))
    assert (card.arch, card.in_chans, card.mean, card.std) == ("resnet18", 1, (0.0,), (1.0,))


def test_a_card_that_contradicts_its_file_is_refused_with_both_numbers(tmp_path):
    model = _seeded("resnet18")
    paths = _export(model, tmp_path)
    with pytest.raises(CheckpointError, match=r"names 4 labels but the weights have 7 outputs"):
        load_foreign(paths["pth"], build_card(paths["pth"], arch="resnet18", label_names=LABELS[:4]))
    onnx_card = build_card(paths["onnx"], label_names=LABELS[:4], input_size=(SIZE, SIZE))
    with pytest.raises(CheckpointError, match=r"names 4 labels but the model gives 7 outputs"):
        load_foreign(paths["onnx"], onnx_card, convert_onnx=False)
    grey = build_card(paths["torchscript"], label_names=LABELS, input_size=(SIZE, SIZE), in_chans=1)
    with pytest.raises(CheckpointError, match=r"does not run on the card's input \(1, 1, 64, 64\)"):
        load_foreign(paths["torchscript"], grey)


def test_a_full_pickle_needs_trust(tmp_path):
    model = _seeded("resnet18")
    path = tmp_path / "whole.pkl"
    torch.save(model, path)
    card = build_card(path, label_names=LABELS, input_size=(SIZE, SIZE))
    with pytest.raises(CheckpointError, match="runs any code"):
        load_foreign(path, card)
    loaded = load_foreign(path, card, trust_pickle=True)
    x = torch.randn(1, 3, SIZE, SIZE)
    assert torch.equal(loaded.model(x), model(x))
    torch.save(model, tmp_path / "whole.pt")  # a whole model behind a weights suffix: refused, not unpickled
    with pytest.raises(CheckpointError, match="full pickle"):
        build_card(tmp_path / "whole.pt", arch="resnet18", label_names=LABELS)


def test_a_transformers_folder_equals_the_model_it_was_saved_from(tmp_path):
    transformers = pytest.importorskip("transformers")
    config = transformers.ViTConfig(
        image_size=32,
        patch_size=8,
        num_channels=3,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        num_labels=3,
        id2label={0: "neg", 1: "neu", 2: "pos"},
        label2id={"neg": 0, "neu": 1, "pos": 2},
    )
    torch.manual_seed(0)
    source = transformers.ViTForImageClassification(config).eval()
    source.save_pretrained(tmp_path / "vit")
    card = build_card(tmp_path / "vit")
    assert card.label_names == ("neg", "neu", "pos") and card.input_size == (32, 32) and card.format == "transformers"
    loaded = load_foreign(tmp_path / "vit", card)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(loaded.model(x), source(pixel_values=x).logits, atol=1e-5, rtol=0)
    _explained_by_cp_lrp(loaded, x)


def _explained_by_cp_lrp(loaded, x: torch.Tensor) -> None:
    """Mapped onto the registry ViT, so CP-LRP applies and conserves the logit (biases and embeddings at zero)."""
    from fer_core.explain import create_explainer, method_support
    from fer_core.models import VisionTransformer

    assert isinstance(loaded.model, VisionTransformer) and "CP-LRP" in loaded.note
    assert method_support(loaded)["lrp"] == ""
    model = loaded.model
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("bias") or name in ("pos_embed", "cls_token"):
                p.zero_()
    logits, rel = create_explainer("lrp", model, loaded.card).explain(x)
    torch.testing.assert_close(rel.sum((2, 3, 4)), logits, atol=1e-4, rtol=1e-3)


def test_a_timm_vit_state_dict_maps_onto_the_registry_vit(tmp_path):
    torch.manual_seed(0)
    source = create_model("timm/vit_small_patch16_224", num_classes=3, img_size=64).eval()
    torch.save(source.state_dict(), tmp_path / "vit.pth")
    card = build_card(
        tmp_path / "vit.pth", arch="timm/vit_small_patch16_224", label_names=("a", "b", "c"), input_size=(64, 64)
    )
    loaded = load_foreign(tmp_path / "vit.pth", card)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(loaded.model(x), source(x), atol=1e-5, rtol=0)
    _explained_by_cp_lrp(loaded, x)
