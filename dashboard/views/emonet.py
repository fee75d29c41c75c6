"""EmoNet-40: the 40 emotion categories of EmoNet-Face a face shows and how strongly (0-7), grouped by the 7
families, a coarse positive / neutral / negative view, heatmaps of the strongest categories; for a run, how it
agrees with expert annotators (quadratic kappa, Krippendorff's alpha, "could it be an annotator")."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard import _resources as res
from dashboard import _state as keys
from dashboard.components.emonet_views import CHARTS, agreement_panel, emonet_face, run_figures
from dashboard.components.errors import user_errors
from dashboard.components.inputs import page_header, recipe_run_picker
from dashboard.components.text import md
from dashboard.components.trust import domain_notice

inputs, right = page_header(
    "EmoNet-40",
    "How strongly a face shows each of the 40 EmoNet-Face emotion categories "
    "(0 = absent ... 7 = very strong), grouped by family, and where the model sees the "
    "strongest ones (red: evidence for, blue: against).",
    keys.EMONET_INPUTS,
)
folder, _ = recipe_run_picker(
    "emonet40",
    "EmoNet-40 model (run)",
    keys.EMO_RUN,
    "No EmoNet-40 model yet. Train one with `fer-core train "
    "emonet40 --config assets/configs/synthfacs_emonet40.yaml`, or on EmoNet-Face ratings imported with "
    "`fer-core data import emonet-face ROOT --out manifest.csv`.",
    right,
)
chosen = Path(folder).name
with right:
    top = st.slider("Heatmaps for the strongest categories", 1, 6, 3, key=keys.EMO_TOP)
    chart = st.radio("Chart", CHARTS, horizontal=True, key=keys.EMO_VIEW)

for item in inputs:
    with user_errors(item.name):
        results = res.explain_emonet(item.sha, item.data, folder, top)
        st.subheader(md(item.name))
        domain_notice(res.run_model(folder), item)
        for i, r in enumerate(results):
            emonet_face(r, i, item.key, item.sha, chart)
if not inputs:
    st.info("Pick a bundled sample or upload a photo to read its 40 categories.")

evaluation = res.evaluation(folder)
st.subheader(f"Run {md(chosen)} on its test faces")
run_figures(evaluation)
agreement_panel(evaluation.get("agreement"))
