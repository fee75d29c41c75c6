"""The Transfer comparison page through Streamlit's AppTest: the shipped from-age and from-gender runs, the same
faces' heatmaps side by side, region shares per model and the paired tests in words."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")


def test_transfer_page_compares_the_shipped_runs():
    app = AppTest.from_file(APP, default_timeout=240).run()
    app.switch_page("views/transfer.py").run()
    assert not app.exception, app.exception
    assert app.selectbox(key="_w_tr_a").value == "synthfacs_transfer_from_age"
    assert app.selectbox(key="_w_tr_b").value == "synthfacs_transfer_from_gender"
    app.select_slider(key="_w_tr_n").set_value(24).run()
    assert not app.exception, app.exception
    text = " ".join(m.value for m in app.markdown)
    assert "Share of the positive relevance per face region" in text and "over 24 faces" in text
    verdicts = [m.value for m in app.markdown if m.value.startswith("- ")]
    assert verdicts and all("points more" in v or "same regions" in v or "too few" in v for v in verdicts)
    captions = [c for img in app.get("image") for c in img.captions]
    assert sum(c.startswith("A: p(") for c in captions) == 6 and sum(c.startswith("B: p(") for c in captions) == 6
    assert [m.label for m in app.metric] == ["accuracy on these 24 faces"] * 2
    app.radio(key="_w_tr_source").set_value("Upload faces").run()
    assert not app.exception and any("Upload at least one face" in i.value for i in app.info)
