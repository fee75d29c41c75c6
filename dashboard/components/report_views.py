"""Widgets of the Report page: what a built report keeps in the session, and the ready report (downloads and
preview)."""

from __future__ import annotations

import streamlit as st
import streamlit.components.v1 as components

from fer_core.report import find_pdf_renderer, html_to_pdf, render_html

from .. import _state as keys
from .text import md


def built_report(data) -> dict:
    """What the page keeps of a built report (``fer_core.report.build_report``): the HTML, the number of faces, the
    inputs left out, what it covers and a file-name stem."""
    return {
        "html": render_html(data),
        "faces": len(data.faces),
        "skipped": data.skipped,
        "what": f"{data.model_name}, run {data.run.name if data.run else 'none'}",
        "stem": f"fer_report_{data.model_name.replace(':', '_')}_{data.created:%Y%m%d_%H%M}",
    }


def report_ready(built: dict) -> None:
    """The summary line, the inputs left out, HTML and PDF downloads (PDF only with an offline renderer), a preview."""
    st.success(
        f"Report ready: {built['faces']} face{'s' if built['faces'] != 1 else ''}, "
        f"{len(built['html']) / 2**20:.1f} MB, self-contained ({built['what']})."
    )
    for s in built["skipped"]:
        st.caption(f"Not used: **{md(s.name)}**: {md(s.reason)}")
    c1, c2 = st.columns(2)
    c1.download_button(
        "Download HTML",
        built["html"],
        file_name=f"{built['stem']}.html",
        mime="text/html",
        on_click="ignore",
        type="primary",
        key=keys.REPORT_DOWNLOAD_HTML,
    )
    if find_pdf_renderer():
        html = built["html"]
        c2.download_button(
            "Download PDF",
            lambda: html_to_pdf(html),
            file_name=f"{built['stem']}.pdf",
            mime="application/pdf",
            on_click="ignore",
            key=keys.REPORT_DOWNLOAD_PDF,
        )
    else:
        c2.caption("PDF: no offline renderer (Chromium) on this machine; open the HTML and print it to PDF.")
    st.subheader("Preview")
    components.html(built["html"], height=900, scrolling=True)
