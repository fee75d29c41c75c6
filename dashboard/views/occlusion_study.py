"""Occlusion study: over a whole test set, how much does each class depend on each face region, per group?"""

from __future__ import annotations

import streamlit as st

from dashboard import _resources as res
from dashboard import _state as keys
from dashboard import _studies as studies
from dashboard.components.errors import user_errors
from dashboard.components.inputs import dataset_source
from dashboard.components.study_charts import occlusion_study_results
from fer_core.explain import FILLS
from fer_core.runs import sensitive_columns
from fer_core.taxonomy import ALL_REGIONS

st.title("Occlusion study")
st.caption(
    "Every face of a test set, with each region hidden in turn: how far does the probability of the true "
    "class fall? Does *happy* live in the mouth or in the eyes? One table, with 95% "
    "bootstrap intervals, per class and per group."
)

c1, c2, c3 = st.columns([2, 2, 1])
with c1:
    source, target, model_name = dataset_source(
        keys.STUDY_SOURCE,
        keys.STUDY_MANIFEST,
        "Faces",
        "a run's own test set and model, or any labelled manifest with the sidebar model",
    )
    columns = [] if model_name else sensitive_columns(target)

with c2:
    regions = keys.persistent(st.multiselect, "Regions to hide", ALL_REGIONS, keys.REGIONS)
    fills = st.multiselect(
        "Fills",
        FILLS,
        default=["mean", "blur"],
        key=keys.STUDY_FILLS,
        help="mean colour of the face, blur, noise or black: a finding that holds for two fills "
        "is not an artefact of one",
    )
with c3:
    group_by = st.selectbox(
        "Group by",
        list(dict.fromkeys(["(none)", *columns, *res.pose_groups()])),
        index=1 if columns else 0,
        key=f"{keys.STUDY_GROUP}_{source}",
        format_func=res.group_label,
    )  # each source keeps its own choice
    limit = st.select_slider(
        "Faces",
        [200, 500, 1000, 2000, "all"],
        value=500,
        key=keys.STUDY_LIMIT,
        help="a fixed random sample of the test set; 'all' for the final figures",
    )
    start = st.button("Run study", type="primary", key=keys.STUDY_RUN)
if not target or not regions or not fills:
    st.info("Choose the faces, at least one region and one fill.")
    st.stop()

groups = () if group_by == "(none)" else (group_by,)
params = (str(target), model_name, tuple(regions), tuple(fills), groups, None if limit == "all" else int(limit))
if start:
    st.session_state[keys.STUDY_PARAMS] = params
if st.session_state.get(keys.STUDY_PARAMS) != params:
    faces = "every face" if limit == "all" else f"up to {limit} faces"
    st.info(
        f"Press **Run study** to hide {len(regions)} region(s) with {len(fills)} fill(s) on {faces}: "
        f"{len(regions) * len(fills) + 1} forward passes per face (a progress bar shows how far it is)."
    )
    st.stop()
with user_errors("occlusion study"):
    bar = st.progress(0.0, text="Hiding regions…")
    study = studies.occlusion_study(
        *params,
        progress=lambda done, total: bar.progress(done / total, text=f"Hiding regions… face {done} of {total}"),
    )
    bar.empty()
    occlusion_study_results(study)
