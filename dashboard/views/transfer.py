"""Transfer comparison: two models fine-tuned onto one task from different base models (age,
gender); the same faces' heatmaps side by side, the relevance share per face region, and paired tests."""

from __future__ import annotations

import streamlit as st

from dashboard import _resources as res
from dashboard import _state as keys
from dashboard import _studies as studies
from dashboard.components.errors import user_errors
from dashboard.components.transfer_charts import comparison_view
from fer_core.explain import METHODS

st.title("Transfer comparison")
st.caption(
    "Two models fine-tuned onto the same task from different base models, e.g. one trained on age and one "
    "on gender (Arbabzadah et al. 2016). Their heatmaps of the same class on the same faces show which base "
    "model's features suit the task."
)

runs = res.classifier_runs()
names = list(runs)
pair = [n for n in ("synthfacs_transfer_from_age", "synthfacs_transfer_from_gender") if n in runs] or names[:2]
if len(names) < 2:
    st.info(
        "Two finished runs are needed (e.g. `fer-core train transfer --config "
        "assets/configs/synthfacs_transfer_from_age.yaml`)."
    )
    st.stop()
c1, c2, c3 = st.columns([2, 2, 2])
a = c1.selectbox("Model A", names, index=names.index(pair[0]), key=keys.TR_A)
b = c2.selectbox("Model B", names, index=names.index(pair[-1]), key=keys.TR_B)
method = c3.selectbox("Method", list(METHODS), format_func=METHODS.get, key=keys.TR_METHOD)
c1, c2 = st.columns([2, 4])
source = c1.radio("Faces", ["Model A's test set", "Upload faces"], key=keys.TR_SOURCE)
uploads, limit = [], None
with c2:
    if source == "Upload faces":
        files = st.file_uploader(
            "Face photos or crops (the largest face of each is used). They stay in memory.",
            accept_multiple_files=True,
            key=keys.TR_UPLOAD,
        )
        uploads = [(res.sha(f.getvalue()), f.getvalue()) for f in files or []]
    else:
        limit = st.select_slider(
            "How many (a fixed random sample of the test set)", [24, 48, 100, 200, 500], value=100, key=keys.TR_N
        )
if a == b or not (uploads or limit):
    st.info("Pick two different runs." if a == b else "Upload at least one face.")
    st.stop()


with user_errors("transfer comparison"):
    bar = st.progress(0.0, text="Explaining the faces with both models…")
    cmp = studies.transfer_comparison(
        runs[a],
        runs[b],
        tuple(uploads),
        limit,
        method,
        lambda done, total: bar.progress(
            done / total, text=f"Explaining the faces with both models… {done} of {total}"
        ),
    )
    bar.empty()
    comparison_view(cmp, a, b, {n: res.overall_figures(runs[n]) for n in (a, b)})
