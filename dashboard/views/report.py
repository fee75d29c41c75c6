"""Report: one self-contained HTML file (and PDF) for stakeholders: model card, faces with heatmaps, occlusion,
fairness across groups and faithfulness. Faces come from uploads or the bundled samples and stay in memory."""

from __future__ import annotations

import streamlit as st

from dashboard import _resources as res
from dashboard import _state as keys
from dashboard.components.errors import user_errors
from dashboard.components.report_views import built_report, report_ready
from dashboard.components.text import md

NO_RUN = "(none: no fairness section)"

st.title("Report")
st.caption(
    "One HTML file that opens offline and prints well: model card, sample faces with per-class heatmaps, "
    "occlusion table, fairness across groups and how far to trust the heatmaps, each with a plain-language "
    "summary. Photos stay in this app's memory; the report is only what you download."
)

model_name = st.session_state[keys.MODEL]
runs = res.prediction_runs()
own_run = model_name.removeprefix("run:") if model_name.removeprefix("run:") in runs else None
left, right = st.columns([3, 2])
with left:
    source = st.radio("Faces", ["Bundled samples", "Upload photos"], horizontal=True, key=keys.REPORT_SOURCE)
    if source == "Upload photos":
        files = st.file_uploader(
            "Face photos (JPEG, PNG, WebP, TIFF, GIF, BMP). They stay in memory.",
            accept_multiple_files=True,
            key=keys.REPORT_UPLOAD,
        )
        items = [(f.name, f.getvalue()) for f in files or []]
    else:
        samples = res.sample_files()
        chosen = st.multiselect("Samples", list(samples), default=list(samples)[:1], key=keys.REPORT_SAMPLES)
        items = [(name, samples[name].read_bytes()) for name in chosen]
with right:
    st.markdown(f"Model: **{md(model_name)}** (sidebar) · heatmaps: **{res.usable_method(model_name)}**")
    options = [NO_RUN, *runs]
    run_name = st.selectbox(
        "Training run (fairness on its test set)",
        options,
        key=keys.REPORT_RUN,
        index=options.index(own_run) if own_run else 0,
    )
    with st.expander("Settings"):
        max_faces = st.slider("Faces at most", 1, 16, 8, key=keys.REPORT_MAX_FACES)
        planted = st.number_input(
            "SynthFACS test faces for the planted-truth check (0: skip)", 0, 1000, 64, step=16, key=keys.REPORT_PLANTED
        )

if st.button("Build report", type="primary", disabled=not items, key=keys.REPORT_BUILD):
    st.session_state.pop(keys.REPORT_BUILT, None)
    bar = st.progress(0.0, text="Building the report…")
    with user_errors("Report"):
        data = res.stakeholder_report(
            items,
            model_name,
            runs.get(run_name),
            max_faces,
            int(planted),
            progress=lambda d, t: bar.progress(d / t, text=f"Building the report… step {d} of {t}"),
        )
        st.session_state[keys.REPORT_BUILT] = built_report(data)
    bar.empty()

built = st.session_state.get(keys.REPORT_BUILT)
if not built:
    st.info("Choose faces (and a run for the fairness section), then press **Build report**.")
    st.stop()
report_ready(built)
