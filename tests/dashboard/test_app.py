"""The dashboard through Streamlit's AppTest: every page renders real results with no exception."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")


@pytest.fixture()
def app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=120).run()


def test_explain_page_shows_face_probabilities_and_seven_heatmaps(app):
    assert not app.exception
    assert any("Face 1: **happy**" in m.value for m in app.markdown)
    captions = [c for img in app.get("image") for c in img.captions]
    heat = [c for c in captions if " · " in c]
    assert len(heat) == 7 and heat[0].startswith("happy")


def test_method_picker_switches_to_gradcam(app):
    app.selectbox(key="_w_method").set_value("gradcam").run()
    assert not app.exception
    assert any("Face 1" in m.value for m in app.markdown)


def test_every_page_renders_and_choices_survive_page_switches(app):
    app.selectbox(key="_w_method").set_value("saliency").run()
    app.switch_page("pages/occlusion.py").run()
    assert not app.exception
    assert any("intact" in m.value for m in app.markdown)
    app.multiselect(key="_w_regions").set_value(["mouth"]).run()
    assert not app.exception
    app.switch_page("pages/model_card.py").run()
    assert not app.exception and "fer2013_mini_xception" in app.title[0].value
    app.switch_page("pages/explain.py").run()
    assert app.selectbox(key="_w_method").value == "saliency"
