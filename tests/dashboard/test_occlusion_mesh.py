"""The sidebar's face landmarks: the dense mesh by default where it runs, used by the Heatmaps and Occlusion pages
(head pose in each face's heading, finer regions offered); 5 points still work, and hide another mouth."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from fer_core.face import mesh_available

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")


@pytest.mark.skipif(bool(mesh_available()), reason=mesh_available() or "mesh available")
def test_the_sidebar_landmarks_drive_the_photo_pages():
    at = AppTest.from_file(APP, default_timeout=180).run()
    assert not at.exception, at.exception
    choice = at.selectbox(key="_w_landmarker")
    assert choice.options == ["468-point mesh", "5 points"] and choice.value == "mesh468"
    headings = [m.value for m in at.markdown if m.value.startswith("#### Face 1")]
    assert headings and "head frontal (yaw" in headings[0], headings

    at.switch_page("views/occlusion.py").run()
    assert not at.exception, at.exception
    assert "mouth_corners" in at.multiselect(key="_w_regions").options
    assert any("468-point mesh" in c.value for c in at.caption)
    before = [c for img in at.get("image") for c in img.captions if c.startswith("no mouth")]
    at.selectbox(key="_w_landmarker").set_value("mtcnn5").run()
    assert not at.exception, at.exception
    after = [c for img in at.get("image") for c in img.captions if c.startswith("no mouth")]
    assert before and after and before != after  # another region, another probability
    headings = [m.value for m in at.markdown if m.value.startswith("#### Face 1")]
    assert headings and "head" not in headings[0]  # 5 points measure no pose
