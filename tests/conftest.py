"""Shared fixtures: the shipped real model, the bundled portrait, and a tiny float64 residual net."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
PORTRAIT = ROOT / "assets" / "samples" / "astronaut_eileen_collins.png"

# Hand-annotated on the portrait (image pixels, x, y): independent of the detector.
PORTRAIT_POINTS = {"left_eye": (201, 101), "right_eye": (247, 103), "mouth": (224, 146), "nose": (225, 128),
                   "brows": (198, 91)}


@pytest.fixture(scope="session")
def fer_model():
    from fer_core.models import DEFAULT_MODEL, load_model

    return load_model(DEFAULT_MODEL)


@pytest.fixture(scope="session")
def portrait() -> np.ndarray:
    from fer_core.face import load_image

    return load_image(PORTRAIT)


@pytest.fixture(scope="session")
def portrait_faces(portrait, fer_model):
    from fer_core.face import find_faces

    return find_faces(portrait, fer_model.card.input_size, fer_model.card.template)


@pytest.fixture()
def tiny_xception():
    """A small random mini-Xception in float64 with non-trivial BN statistics (for exactness tests)."""
    from fer_core.models import create_model

    torch.manual_seed(0)
    model = create_model("mini_xception", num_classes=5, widths=(8, 12))
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
    return model.double().eval()


@pytest.fixture(scope="session")
def portrait_points() -> dict[str, tuple[int, int]]:
    return PORTRAIT_POINTS
