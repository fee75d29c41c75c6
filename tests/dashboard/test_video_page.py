"""The Video page through AppTest: the sample clip's two people, their episodes and apex heatmaps, the scrubber."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from fer_core.face import mesh_available

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")


def test_sample_clip_shows_each_person_their_episodes_and_a_frames_heatmaps():
    at = AppTest.from_file(APP, default_timeout=180).run()
    at.switch_page("views/video.py").run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["People"] == "2" and metrics["Frames analysed"] == "60"
    captions = [c for img in at.get("image") for c in img.captions]
    apex = [c for c in captions if " at " in c and c.split(" at ")[0] in ("happy", "surprise", "sad")]
    assert [c.split(" at ")[0] for c in apex] == ["happy", "surprise", "sad"]  # planted: happy, surprise; sad
    assert (
        len([c for c in captions if " · " in c and " at " not in c]) == 2 * 7
    )  # each person's chosen frame: every class's heatmap
    slider = at.select_slider(key="_w_video_t_0")
    slider.set_value(slider.options[0] if isinstance(slider.options[0], float) else float(slider.options[0])).run()
    assert not at.exception
    chosen = [c for img in at.get("image") for c in img.captions if c.startswith("person 1 at 0.00 s")]
    assert chosen, captions
    if not mesh_available():  # the sidebar's default landmarker is the mesh: each frame has its head pose
        assert "· head " in chosen[0], chosen
        charts = {c.key for c in at.get("plotly_chart")}
        assert {"video_pose_0", "video_pose_1"} <= charts  # each person's head pose under their timeline
    assert len(at.get("download_button")) == 2


def test_heatmaps_page_offers_a_camera_snapshot():
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert "Camera" in at.radio(key="explain_source").options
    at.radio(key="explain_source").set_value("Camera").run()
    assert not at.exception
    assert at.get("camera_input")
