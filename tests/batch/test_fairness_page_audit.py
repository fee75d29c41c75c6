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
