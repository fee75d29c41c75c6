"""domain_notes: what to tell a user before they trust a model's outputs on an image of another kind."""

from __future__ import annotations

import pytest

from fer_core.models import ModelCard
from fer_core.models.domain import (
    NOTE_GREY,
    NOTE_PHOTO_ON_SYNTHFACS,
    NOTE_SYNTHFACS_ON_PHOTO,
    NOTE_UNKNOWN,
    domain_notes,
)

COLOUR, GREY = (480, 640, 3), (480, 640)


def _card(domain: str, in_chans: int = 3, size: int = 112) -> ModelCard:
    return ModelCard(
        "mini_xception", (size, size), in_chans, (0.5,) * in_chans, (0.5,) * in_chans, ("a", "b"), domain=domain
    )


def test_a_synthfacs_model_on_a_photo_is_a_warning():
    notes = domain_notes(_card("synthfacs"), input_kind="photo", image_shape=COLOUR)
    assert notes[0].severity == "warning" and notes[0].text == NOTE_SYNTHFACS_ON_PHOTO
    assert "synthetic SynthFACS faces" in notes[0].text and "not reliable" in notes[0].text


def test_a_synthfacs_model_on_a_synthfacs_render_says_nothing():
    assert domain_notes(_card("synthfacs"), input_kind="synthfacs", image_shape=COLOUR) == []


def test_a_photo_model_on_a_synthfacs_render_is_a_milder_caption():
    notes = domain_notes(_card("photos"), input_kind="synthfacs", image_shape=COLOUR)
    assert [(n.severity, n.text) for n in notes] == [("caption", NOTE_PHOTO_ON_SYNTHFACS)]


def test_a_photo_model_on_a_photo_says_nothing():
    assert domain_notes(_card("photos"), input_kind="photo", image_shape=COLOUR) == []


@pytest.mark.parametrize("kind", ["photo", "synthfacs"])
def test_an_unknown_domain_is_a_mild_caption(kind):
    notes = domain_notes(_card("unknown"), input_kind=kind, image_shape=COLOUR)
    assert [(n.severity, n.text) for n in notes] == [("caption", NOTE_UNKNOWN)]
    assert "does not say what it was trained on" in notes[0].text


def test_a_grey_model_on_a_colour_photo_says_colour_is_dropped():
    notes = domain_notes(_card("photos", in_chans=1, size=48), input_kind="photo", image_shape=COLOUR)
    assert [(n.severity, n.text) for n in notes] == [("caption", NOTE_GREY.format(size="48x48"))]
    assert "grey at 48x48 px; colour is dropped" in notes[0].text
    rgba = domain_notes(_card("photos", in_chans=1, size=64), input_kind="photo", image_shape=(10, 10, 4))
    assert "grey at 64x64 px" in rgba[0].text


def test_a_grey_model_on_a_grey_photo_says_only_the_size():
    notes = domain_notes(_card("photos", in_chans=1, size=48), input_kind="photo", image_shape=GREY)
    assert [n.severity for n in notes] == ["caption"] and "48x48 px" in notes[0].text
    assert "colour" not in notes[0].text


def test_the_warning_comes_before_the_captions():
    notes = domain_notes(_card("synthfacs", in_chans=1, size=48), input_kind="photo", image_shape=COLOUR)
    assert [n.severity for n in notes] == ["warning", "caption"]


def test_an_unknown_input_kind_is_refused():
    with pytest.raises(ValueError, match="input_kind"):
        domain_notes(_card("photos"), input_kind="video", image_shape=COLOUR)
