"""Shared fixtures: the shipped real model, the bundled portrait, and a tiny float64 residual net."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory):
    """Rendered SynthFACS sets and crop caches go to a session folder, never into the user's ~/.cache."""
    import os

    if "FER_CORE_CACHE" not in os.environ:
        os.environ["FER_CORE_CACHE"] = str(tmp_path_factory.mktemp("fer_cache"))
    yield


PORTRAIT = ROOT / "assets" / "samples" / "astronaut_eileen_collins.png"

# Hand-annotated on the portrait (image pixels, x, y): independent of the detector.
PORTRAIT_POINTS = {
    "left_eye": (201, 101),
    "right_eye": (247, 103),
    "mouth": (224, 146),
    "nose": (225, 128),
    "brows": (198, 91),
}


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

    # the 5-point path, whose template regions the hand-annotated points and the explain tests were written against;
    # the mesh's regions have their own hand-point tests (tests/face/test_mesh.py)
    return find_faces(portrait, fer_model.card.input_size, fer_model.card.template, landmarker="mtcnn5")


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


TINY_TRAIN = {
    "data": {
        "manifest": {
            "synthfacs": {
                "n": 240,
                "size": 32,
                "seed": 3,
                "intensity": [0.6, 1.0],
                "bias": [{"attribute": "skin_tone", "group": "dark", "label": "happy", "strength": 0.5}],
            }
        },
        "sensitive": ["skin_tone", "gender"],
    },
    "model": {"input_size": 32, "arch_kwargs": {"widths": [4, 8, 16, 16]}},
    "optim": {"epochs": 2, "batch_size": 32},
    "trainer": {"seed": 0},
}


def tiny_config(tmp: Path, recipe: str = "supervised", name: str = "tiny", **sections):
    """A seconds-long training config on a small SynthFACS set (rendered into ``tmp``)."""
    import copy

    from fer_core.train import config_from_dict

    raw = copy.deepcopy(TINY_TRAIN)
    for key, values in sections.items():
        raw.setdefault(key, {}).update(values)
    raw["data"]["cache_dir"] = str(tmp / "cache")
    return config_from_dict({"recipe": recipe, "name": name, "out_dir": str(tmp / "runs"), **raw})


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """A finished supervised run folder (trained once per session)."""
    from fer_core.train import train

    tmp = tmp_path_factory.mktemp("tiny_run")
    return train(tiny_config(tmp), progress=False).folder
