"""Action Units: which facial muscle movements a model sees in a face, where it sees them, and, for a run, how well
it detects each AU on people it never saw and how much identity its features still carry."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard import _resources as res
from dashboard import _state as keys
from dashboard.components.au_views import au_face, iat_comparison
from dashboard.components.errors import user_errors
from dashboard.components.inputs import page_header, recipe_run_picker
from dashboard.components.text import md
from dashboard.components.trust import domain_notice
from fer_core.workflows import au_runs_table, per_au_table

inputs, right = page_header(
    "Action units",
    "Per-AU probabilities and one LRP heatmap per AU; the green outline is "
    "the face region that AU moves. Red: evidence for the AU, blue: against.",
    keys.AU_INPUTS,
)
folder, runs = recipe_run_picker(
    "au_iat",
    "AU model (run)",
    keys.AU_RUN,
    "No action-unit model yet. Train one with `fer-core train au_iat "
    "--config assets/configs/synthfacs_au_iat.yaml` (add `--set au.lambda_id=0` for a run without IAT to compare).",
    right,
)
chosen = Path(folder).name
with right:
    show = st.slider("Heatmaps for the top AUs", 2, 12, 6, key=keys.AU_TOP)
evaluation = res.evaluation(folder)
threshold = evaluation.get("threshold", 0.5)

for item in inputs:
    with user_errors(item.name):
        results = res.explain_aus(item.sha, item.data, folder)
        st.subheader(md(item.name))
        domain_notice(res.run_model(folder), item)
        for i, r in enumerate(results):
            au_face(r, i, item.key, threshold, show)
if not inputs:
    st.info("Pick a bundled sample or upload a photo to see its action units.")

st.subheader(f"Run {md(chosen)}: AU detection on unseen people")
st.dataframe(per_au_table(evaluation), hide_index=True, width="stretch")
st.markdown(
    "**With and without Identity Adversarial Training**: a linear probe guesses the person from the "
    "model's features, on held-out images of the people the model trained on (the usual probe) and on the "
    "test people; IAT should push it towards chance while AU F1 holds or rises."
)
iat_comparison(au_runs_table({Path(f).name: res.evaluation(f) for f in runs}))
