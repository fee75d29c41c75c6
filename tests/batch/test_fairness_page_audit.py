"""The Fairness page's photo-set tab: a manifest without labels, audited in the browser (Streamlit's AppTest)."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")


def test_a_photo_set_without_labels_is_audited_on_the_fairness_page(mixed_manifest):
    app = AppTest.from_file(APP, default_timeout=240).run()
    app.switch_page("views/fairness.py").run()
    app.selectbox(key="_w_audit_source").set_value("a manifest file…").run()
    app.text_input(key="_w_audit_manifest").set_value(str(mixed_manifest)).run()
    assert not app.exception, app.exception
    assert any("Press **Audit**" in i.value for i in app.info)  # nothing runs before the button
    app.button(key="_w_audit_run").click().run()
    assert not app.exception, app.exception
    text = " ".join(m.value for m in app.markdown)
    assert "6 faces detected, 0 used as crops" in text and "0 faces with a label" in text
    assert "The model sees a face in **40%** of **b** images against **100%** of **a**" in text
    assert len(app.get("plotly_chart")) >= 2 and app.dataframe  # detection, prediction rates; parity table


def test_a_photo_set_is_audited_by_head_pose_which_the_mesh_measures(mixed_manifest):
    import pytest

    from fer_core.face import mesh_available

    if mesh_available():
        pytest.skip(mesh_available())
    app = AppTest.from_file(APP, default_timeout=240).run()
    app.switch_page("views/fairness.py").run()
    app.selectbox(key="_w_audit_source").set_value("a manifest file…").run()
    app.text_input(key="_w_audit_manifest").set_value(str(mixed_manifest)).run()
    group = app.selectbox(key="_w_audit_group_a manifest file…")
    assert "head pose (from the mesh)" in group.options  # no column of the manifest: measured on its faces
    group.set_value("pose_bin").run()
    app.button(key="_w_audit_run").click().run()
    assert not app.exception, app.exception
    text = " ".join(m.value for m in app.markdown)
    assert "6 faces detected" in text and "Predicted class, by pose\\_bin" in text, text
    # the pose is measured on the faces found: no detection split that would be true by construction
    assert "The model sees a face in" not in text
    assert any("is measured on the faces found" in c.value for c in app.caption)
