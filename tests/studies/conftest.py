"""A model that reads only the mouth, and a small SynthFACS manifest, for the dataset studies."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from fer_core.data.sources import materialize
from fer_core.face.pipeline import aligned_crop
from fer_core.models import ASSETS_DIR
from fer_core.models.card import ModelCard
from fer_core.models.checkpoint import LoadedModel
from fer_core.runs import open_run

DEMO_RUN = ASSETS_DIR / "runs" / "synthfacs_bias_supervised"


class MouthReader(nn.Module):
    """logits = (0, scale * mean input value inside the template's mouth mask): only the mouth matters."""

    def __init__(self, mouth: np.ndarray, scale: float = 4.0) -> None:
        super().__init__()
        w = torch.from_numpy(mouth.astype(np.float32))
        self.register_buffer("w", w / w.sum() * scale)
        self.dummy = nn.Parameter(torch.zeros(1))  # gives the module a dtype

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        score = (x.mean(1) * self.w).sum((1, 2))
        return torch.stack([torch.zeros_like(score), score], 1) + 0 * self.dummy


@pytest.fixture(scope="session")
def mouth_model() -> LoadedModel:
    card = ModelCard(
        arch="mouth_reader",
        input_size=(48, 48),
        in_chans=3,
        mean=(0.5,) * 3,
        std=(0.5,) * 3,
        label_names=("closed", "open"),
        template="tight",
    )
    mouth = aligned_crop(np.zeros((48, 48, 3), np.uint8), (48, 48), "tight").regions["mouth"]
    return LoadedModel(name="mouth_reader", model=MouthReader(mouth).eval(), card=card)


@pytest.fixture(scope="session")
def synth_manifest():
    """120 SynthFACS faces like the demo run's test set (same renderer settings, another seed)."""
    return materialize({"synthfacs": {"n": 120, "size": 48, "seed": 11, "intensity": [0.25, 0.6]}})


@pytest.fixture(scope="session")
def demo_model() -> LoadedModel:
    return open_run(DEMO_RUN).model()
