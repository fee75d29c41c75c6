"""Checkpoints whose card or tensors are wrong are refused with a CheckpointError that says what is wrong, before
any image is read; nothing is allocated for an architecture the file does not hold."""

from __future__ import annotations

import json
import tracemalloc

import pytest
import torch
from safetensors.torch import save_file

from fer_core.cli import json_safe, main
from fer_core.errors import CheckpointError
from fer_core.models import create_model, load_checkpoint, save_checkpoint
from fer_core.models.card import ModelCard
from fer_core.models.checkpoint import CARD_KEY

LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")


def _card(**changes) -> dict:
    card = {
        "arch": "mini_xception",
        "input_size": [48, 48],
        "in_chans": 1,
        "mean": [0.5],
        "std": [0.5],
        "label_names": list(LABELS),
        "extra": {"arch_kwargs": {"widths": [8, 16]}},
    }
    card.update(changes)
    return {k: v for k, v in card.items() if v is not None}


def _write(path, card: dict, state: dict[str, torch.Tensor] | None = None):
    if state is None:
        torch.manual_seed(0)
        state = create_model("mini_xception", num_classes=7, in_chans=1, widths=[8, 16]).state_dict()
    save_file({k: v.contiguous() for k, v in state.items()}, str(path), metadata={CARD_KEY: json.dumps(card)})
    return path


@pytest.mark.parametrize(
    "change, message",
    [
        ({"input_size": None}, "lacks input_size"),
        ({"input_size": [0, 0]}, "input_size"),
        ({"input_size": [48]}, "input_size"),
        ({"input_size": [-48, 48]}, "input_size"),
        ({"std": [0.0]}, "std"),
        ({"mean": [float("nan")]}, "finite"),
        ({"label_names": ["a", "a"]}, "distinct"),
        ({"label_names": "happy"}, "label_names must be a list"),
        ({"extra": {"arch_kwargs": {"widths": [-8, 16]}}}, "architecture arguments"),
        ({"extra": {"arch_kwargs": [1, 2]}}, "mapping"),
        ({"in_chans": 3, "mean": [0.5] * 3, "std": [0.5] * 3}, "1 tensor|another shape"),
    ],
)
def test_a_card_that_contradicts_itself_or_its_file_is_refused(tmp_path, change, message):
    path = _write(tmp_path / "m.safetensors", _card(**change))
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(path)


def test_a_card_naming_a_huge_architecture_is_refused_without_allocating_it(tmp_path):
    """widths of 50,000 channels would need gigabytes; the shapes are compared on the meta device first."""
    path = _write(tmp_path / "huge.safetensors", _card(extra={"arch_kwargs": {"widths": [50_000, 50_000]}}))
    tracemalloc.start()
    with pytest.raises(CheckpointError, match="another shape"):
        load_checkpoint(path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 50 * 2**20


def test_weights_with_nan_are_refused_by_tensor_name(tmp_path):
    torch.manual_seed(0)
    state = create_model("mini_xception", num_classes=7, in_chans=1, widths=[8, 16]).state_dict()
    state["head.weight"][0, 0, 0, 0] = float("nan")
    with pytest.raises(CheckpointError, match="NaN or infinite values \\(head.weight\\)"):
        load_checkpoint(_write(tmp_path / "nan.safetensors", _card(), state))


def test_explain_refuses_a_broken_checkpoint_before_reading_the_image(tmp_path, capsys):
    path = _write(tmp_path / "m.safetensors", _card(input_size=[0, 0]))
    rc = main(["explain", str(tmp_path / "not_there.png"), "--model", str(path), "--json"])
    err = capsys.readouterr().err
    assert rc == 2 and "input_size" in err and "not_there" not in err


def test_outputs_that_overflow_are_refused_and_json_never_holds_nan(tmp_path, capsys, portrait):
    """Finite weights can still overflow to NaN probabilities: the command says so instead of printing NaN."""
    from fer_core.models import load_model

    loaded = load_model("fer2013_mini_xception")
    with torch.no_grad():
        loaded.model.head.weight.mul_(1e37)  # finite weights, infinite logits
    path = save_checkpoint(loaded.model, loaded.card, tmp_path / "overflow.safetensors")
    image = tmp_path / "portrait.png"
    import cv2

    cv2.imwrite(str(image), cv2.cvtColor(portrait, cv2.COLOR_RGB2BGR))
    rc = main(["explain", str(image), "--model", str(path), "--json"])
    out, err = capsys.readouterr()
    assert rc == 2 and "NaN or infinite" in err and out == ""
    assert json_safe({"a": float("nan"), "b": [1.0, float("inf")], "c": {"d": -float("inf")}}) == {
        "a": None,
        "b": [1.0, None],
        "c": {"d": None},
    }


def test_model_card_accepts_what_it_promises():
    card = ModelCard(arch="mini_xception", input_size=(48, 48), in_chans=1, mean=(0.5,), std=(0.5,), label_names=LABELS)
    assert ModelCard.from_json(card.to_json()) == card
