"""Clips made here from SynthFACS renders, with what was planted in them, and the model trained on SynthFACS."""

from __future__ import annotations

from pathlib import Path

import pytest

from fer_core.video.synthetic import Expression, Person, make_clip, moving, still

ROOT = Path(__file__).resolve().parents[2]
SYNTH_MODEL = ROOT / "assets" / "runs" / "synthfacs_bias_supervised" / "model.safetensors"
#: neutral -> happy -> neutral -> surprise -> neutral, one identity (subject 9 of seed 7), 12 s at 10 fps
EXPRESSIONS = (Expression("happy", 2.0, 4.4), Expression("surprise", 7.0, 9.4))


def expression_person(**kw) -> Person:
    return Person(subject=9, centre=still(240, 135), face_px=150, expressions=EXPRESSIONS, **kw)


@pytest.fixture(scope="session")
def synth_model():
    from fer_core.models import load_model

    return load_model(str(SYNTH_MODEL))


@pytest.fixture(scope="session")
def expression_clip():
    return make_clip([expression_person()], seconds=12.0, size=(480, 270))


@pytest.fixture(scope="session")
def rotated_clip():
    """The same clip stored turned a quarter, with the display matrix that turns it back (as a phone records)."""
    return make_clip([expression_person()], seconds=12.0, size=(480, 270), rotation=90)


@pytest.fixture(scope="session")
def crossing_clip():
    """Two people walking past each other; the one in front hides most of the other's face for about a second."""
    behind = Person(subject=3, centre=moving((90, 140), (550, 140), 8.0), face_px=140)
    front = Person(
        subject=8, centre=moving((550, 170), (90, 170), 8.0), face_px=140, expressions=(Expression("happy", 2, 6),)
    )
    return make_clip([behind, front], seconds=8.0, size=(640, 320))


@pytest.fixture(scope="session")
def expression_analysis(expression_clip, synth_model):
    from fer_core.video import analyse_video

    return analyse_video(expression_clip.data, synth_model, fps=5)
