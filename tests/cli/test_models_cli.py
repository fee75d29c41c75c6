"""``fer-core models add/list/show/remove``: a user's model stored with its card in their model folder, then usable
by name in every command; a model file with a sidecar card works by path; ``--device`` is checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from fer_core.models import create_model
from fer_core.models.runtime import resolve_device
from tests._cli import run_cli
from tests._onnx import export_onnx

LABELS = "anger,disgust,fear,happy,sad,surprise,neutral"
PORTRAIT = Path(__file__).resolve().parents[2] / "assets" / "samples" / "astronaut_eileen_collins.png"


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("FER_CORE_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def _onnx(path: Path) -> Path:
    torch.manual_seed(0)
    model = create_model("resnet18", num_classes=7).eval()
    return export_onnx(model, path, (1, 3, 64, 64))


def test_add_list_show_use_and_remove(home, tmp_path):
    src = _onnx(tmp_path / "vendor.onnx")
    done = run_cli(
        "models",
        "add",
        str(src),
        "--name",
        "vendor",
        "--labels",
        LABELS,
        "--input-size",
        "64",
        "--licence",
        "CC-BY-4.0 (as stated)",
        "--source-url",
        "https://example.org/vendor",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    added = json.loads(done.stdout)
    assert added["format"] == "onnx" and added["input"] == "3x64x64" and Path(added["weights"]).is_file()
    assert str(home) in added["weights"] and src.exists()  # stored in the user's folder; the original kept
    listed = json.loads(run_cli("models", "list").stdout)
    assert [m["name"] for m in listed["added"]] == ["vendor"]
    shown = json.loads(run_cli("models", "show", "vendor", "--json").stdout)
    assert shown["card"]["licence"] == "CC-BY-4.0 (as stated)" and len(shown["card"]["sha256"]) == 64
    assert shown["methods"]["occlusion"] == "applies"
    explained = run_cli("explain", str(PORTRAIT), "--model", "vendor", "--method", "occlusion", "--device", "cpu")
    assert explained.returncode == 0, explained.stderr
    assert "face 0" in explained.stdout
    refused = run_cli("explain", str(PORTRAIT), "--model", "vendor", "--method", "ig", "--device", "cpu")
    assert refused.returncode == 2 and "does not apply" in refused.stderr
    assert run_cli("models", "remove", "vendor").returncode == 0
    gone = run_cli("models", "show", "vendor")
    assert gone.returncode == 2 and "unknown model 'vendor'" in gone.stderr


def test_add_refuses_a_card_that_contradicts_the_file_and_stores_nothing(home, tmp_path):
    torch.save(create_model("resnet18", num_classes=7).state_dict(), tmp_path / "r.pth")
    done = run_cli("models", "add", str(tmp_path / "r.pth"), "--name", "r", "--labels", "a,b,c")
    assert done.returncode == 2 and "names 3 labels but the weights have 7 outputs" in done.stderr
    assert not (home / "models" / "r").exists()


def test_a_model_file_with_a_sidecar_card_works_by_path(home, tmp_path):
    path = tmp_path / "net.pth"
    torch.save(create_model("resnet18", num_classes=7).state_dict(), path)
    no_card = run_cli("explain", str(PORTRAIT), "--model", str(path), "--device", "cpu")
    assert no_card.returncode == 2 and "card.yaml" in no_card.stderr
    Path(f"{path}.card.yaml").write_text(f"label_names: [{LABELS}]\ninput_size: [64, 64]\n")
    done = run_cli("explain", str(PORTRAIT), "--model", str(path), "--method", "lrp", "--device", "cpu")
    assert done.returncode == 0, done.stderr
    cam = run_cli(
        "explain", str(PORTRAIT), "--model", str(path), "--method", "gradcam", "--cam-layer", "layer3.0.conv1"
    )
    assert cam.returncode == 0, cam.stderr
    typo = run_cli("explain", str(PORTRAIT), "--model", str(path), "--method", "gradcam", "--cam-layer", "layer7")
    assert typo.returncode == 2 and "no layer 'layer7'" in typo.stderr
    Path(f"{path}.card.yaml").write_text(f"label_names: [{LABELS}]\ninput_size: [64, 64]\nsha256: {'ab' * 32}\n")
    changed = run_cli("explain", str(PORTRAIT), "--model", str(path), "--device", "cpu")
    assert changed.returncode == 2 and "SHA-256 is not the one its card records" in changed.stderr
    Path(f"{path}.card.yaml").write_text(f"label_names: [{LABELS}]\nformat: onnx\n")
    wrong = run_cli("explain", str(PORTRAIT), "--model", str(path), "--device", "cpu")
    assert wrong.returncode == 2 and "says format 'onnx' but net.pth is 'state_dict'" in wrong.stderr


def test_device_is_resolved_or_refused_with_what_exists():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else resolve_device("auto").type)
    with pytest.raises(ValueError, match="auto, cpu, cuda"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA device"):
            resolve_device("cuda:0")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_explain_on_cuda_equals_cpu():
    from fer_core.explain import create_explainer
    from fer_core.models import load_model

    cpu = load_model("fer2013_mini_xception", device="cpu")
    gpu = load_model("fer2013_mini_xception", device="cuda")
    x = torch.rand(4, 1, 64, 64)
    a = create_explainer("lrp", cpu.model, cpu.card).explain(x)
    b = create_explainer("lrp", gpu.model, gpu.card).explain(x)
    assert b[1].device.type == "cpu"
    torch.testing.assert_close(a[0], b[0], atol=1e-3, rtol=1e-3)
    torch.testing.assert_close(a[1], b[1], atol=1e-4, rtol=1e-2)
