"""Report: one self-contained HTML file (and PDF) for stakeholders: model card, faces with heatmaps, occlusion,
fairness across groups and faithfulness. Faces come from uploads or the bundled samples and stay in memory."""
from __future__ import annotations

from pathlib import Path

import streamlit as st
import streamlit.components.v1 as components

from dashboard import _resources as res
from dashboard import _state as keys
from dashboard.components.errors import user_errors
from dashboard.components.text import md
from fer_core.report import build_report, find_pdf_renderer, html_to_pdf, render_html
from fer_core.runs import RunFolder, open_run

BUILT = "report_built"  # this session's last report; it holds the user's faces, so never a shared cache
NO_RUN = "(none: no fairness section)"

st.title("Report")
st.caption("One HTML file that opens offline and prints well: model card, sample faces with per-class heatmaps, "
           "occlusion table, fairness across groups and how far to trust the heatmaps, each with a plain-language "
           "summary. Photos stay in this app's memory; the report is only what you download.")

model_name = st.session_state[keys.MODEL]
runs = {Path(f).name: f for f in res.run_folders() if open_run(f).has(RunFolder.PREDICTIONS)}
own_run = model_name.removeprefix("run:") if model_name.removeprefix("run:") in runs else None
left, right = st.columns([3, 2])
with left:
    source = st.radio("Faces", ["Bundled samples", "Upload photos"], horizontal=True, key="report_source")
    if source == "Upload photos":
        files = st.file_uploader("Face photos (JPEG, PNG, WebP, TIFF, GIF, BMP). They stay in memory.",
                                 accept_multiple_files=True, key="report_upload")
        items = [(f.name, f.getvalue()) for f in files or []]
    else:
        samples = res.sample_files()
        chosen = st.multiselect("Samples", list(samples), default=list(samples)[:1], key="report_samples")
        items = [(name, samples[name].read_bytes()) for name in chosen]
with right:
    st.markdown(f"Model: **{md(model_name)}** (sidebar) · heatmaps: **{st.session_state[keys.METHOD]}**")
    options = [NO_RUN, *runs]
    run_name = st.selectbox("Training run (fairness on its test set)", options, key="report_run",
                            index=options.index(own_run) if own_run else 0)
    with st.expander("Settings"):
        max_faces = st.slider("Faces at most", 1, 16, 8, key="report_max_faces")
        planted = st.number_input("SynthFACS test faces for the planted-truth check (0: skip)", 0, 1000, 64,
                                  step=16, key="report_planted")

if st.button("Build report", type="primary", disabled=not items, key="report_build"):
    st.session_state.pop(BUILT, None)
    bar = st.progress(0.0, text="Building the report…")
    with user_errors("Report"):
        method = st.session_state[keys.METHOD]
        data = build_report(items, res.load_model(model_name), runs.get(run_name), max_faces=max_faces,
                            method=method, regions=st.session_state[keys.REGIONS] or None,
                            fill=st.session_state[keys.FILL], localisation_limit=int(planted),
                            detector=res.detector(), explainer=res.explainer(model_name, method),
                            progress=lambda d, t: bar.progress(d / t, text=f"Building the report… step {d} of {t}"))
        st.session_state[BUILT] = {"html": render_html(data), "faces": len(data.faces), "skipped": data.skipped,
                                   "what": f"{data.model_name}, run {data.run.name if data.run else 'none'}",
                                   "stem": f"fer_report_{data.model_name.replace(':', '_')}"
                                           f"_{data.created:%Y%m%d_%H%M}"}
    bar.empty()

built = st.session_state.get(BUILT)
if not built:
    st.info("Choose faces (and a run for the fairness section), then press **Build report**.")
    st.stop()
st.success(f"Report ready: {built['faces']} face{'s' if built['faces'] != 1 else ''}, "
           f"{len(built['html']) / 2**20:.1f} MB, self-contained ({built['what']}).")
for s in built["skipped"]:
    st.caption(f"Not used: **{md(s.name)}**: {md(s.reason)}")
c1, c2 = st.columns(2)
c1.download_button("Download HTML", built["html"], file_name=f"{built['stem']}.html", mime="text/html",
                   on_click="ignore", type="primary", key="report_download_html")
if find_pdf_renderer():
    html = built["html"]
    c2.download_button("Download PDF", lambda: html_to_pdf(html), file_name=f"{built['stem']}.pdf",
                       mime="application/pdf", on_click="ignore", key="report_download_pdf")
else:
    c2.caption("PDF: no offline renderer (Chromium) on this machine; open the HTML and print it to PDF.")
st.subheader("Preview")
components.html(built["html"], height=900, scrolling=True)
