"""The Report page through Streamlit's AppTest: build a report from a bundled sample, get a download button."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "dashboard" / "app.py")


def test_report_page_builds_a_report_and_offers_the_download():
    app = AppTest.from_file(APP, default_timeout=180).run()
    app.switch_page("views/report.py").run()
    assert not app.exception, app.exception
    assert app.button(key="report_build").disabled is False  # a bundled sample is chosen by default
    assert not app.get("download_button")  # nothing to download before a report is built
    app.button(key="report_build").click().run()
    assert not app.exception, app.exception
    assert not app.error, [e.value for e in app.error]
    assert any("Report ready: 1 face," in s.value for s in app.success)
    built = app.session_state["report_built"]["html"]  # what the download buttons serve
    assert built.startswith("<!DOCTYPE html>") and "Model report: fer2013_mini_xception" in built
    downloads = app.get("download_button")
    assert downloads, "no download button after Build"
    html_button = next(d for d in downloads if d.proto.label == "Download HTML")
    assert html_button.proto.url  # the report is served from memory by Streamlit's media endpoint
    # the page keeps the report across reruns (e.g. the rerun after changing a widget)
    app.run()
    assert any(d.proto.label == "Download HTML" for d in app.get("download_button"))
