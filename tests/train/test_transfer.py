"""transfer: a base model trained on another target (gender) gets a new head; the backbone stays frozen (weights
and BatchNorm statistics) for freeze_epochs, then trains."""

from __future__ import annotations

import pytest
import torch

from fer_core.models import load_checkpoint
from fer_core.train import train
from tests.conftest import tiny_config

pytestmark = pytest.mark.slow


def _backbone(state: dict) -> dict:
    return {k: v for k, v in state.items() if not k.startswith("head.")}


def test_transfer_freezes_then_fine_tunes(tmp_path):
    base = train(tiny_config(tmp_path, name="gender_base", data={"target": "gender"}), progress=False).folder
    base_model = load_checkpoint(base / "model.safetensors")
    assert base_model.card.label_names == ("feminine", "masculine")

    frozen = train(
        tiny_config(
            tmp_path,
            recipe="transfer",
            name="frozen",
            optim={"epochs": 1},
            transfer={"base": str(base), "freeze_epochs": 1},
            model={"arch_kwargs": {"widths": [99]}},
        ),
        progress=False,
    ).folder
    tuned = train(
        tiny_config(
            tmp_path,
            recipe="transfer",
            name="tuned",
            optim={"epochs": 2},
            transfer={"base": str(base), "freeze_epochs": 1},
        ),
        progress=False,
    ).folder
    f, t = load_checkpoint(frozen / "model.safetensors"), load_checkpoint(tuned / "model.safetensors")
    # the base's architecture wins over the config's model section
    assert f.card.extra["arch_kwargs"] == base_model.card.extra["arch_kwargs"]
    assert f.card.label_names == t.card.label_names and len(f.card.label_names) == 7
    b_state, f_state = base_model.model.state_dict(), f.model.state_dict()
    last = torch.load(tuned / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)["state_dict"]
    t_state = {k.removeprefix("model."): v for k, v in last.items() if k.startswith("model.")}  # after epoch 2
    for k, v in _backbone(b_state).items():
        assert torch.equal(v, f_state[k]), f"frozen epoch changed {k}"
    assert any(not torch.equal(v, t_state[k]) for k, v in _backbone(b_state).items() if v.is_floating_point())
    assert f_state["head.weight"].shape[0] == 7
