"""The Occlusion page with regions from the dense mesh: the choice is offered, and the mouth it hides is the lips'
polygon (fewer pixels than the 5-point ellipse, which also covers the skin around the lips)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from fer_core.face import mesh_available

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")


@pytest.mark.skipif(bool(mesh_available()), reason=mesh_available() or "mesh available")
def test_occlusion_page_hides_the_meshs_regions():
    at = AppTest.from_file(APP, default_timeout=180).run()
    at.switch_page("views/occlusion.py").run()
    assert not at.exception, at.exception
    choice = at.radio(key="_w_landmarker")
    assert choice.options == ["5 points (template shapes)", "468-point mesh (the face's own outlines)"]
    before = [c for img in at.get("image") for c in img.captions if c.startswith("no mouth")]
    choice.set_value("mesh468").run()
    assert not at.exception, at.exception
    after = [c for img in at.get("image") for c in img.captions if c.startswith("no mouth")]
    assert before and after and before != after  # another region, another probability
