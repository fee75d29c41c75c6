"""Fairness: does a model treat groups alike? Per-group accuracy, per-class recall, MMD between the groups'
embeddings and a probe, for one run or two side by side; click a group to see the faces it gets wrong."""

from __future__ import annotations

import streamlit as st

from dashboard import _resources as res
from dashboard import _state as keys
from dashboard.components import fairness_charts as charts
from dashboard.components.text import md
from fer_core.fairness import shared_attributes

st.title("Fairness")
st.caption(
    "Test-set results of training runs, per sensitive group. The embedded demo compares a plain model with "
    "fair_mmd on SynthFACS faces whose training labels carry a planted group bias; both are tested on a "
    "balanced set, where a model that learned the bias pays for it."
)

names = res.evaluated_runs()
if not names:
    st.info("No finished runs yet. Train one with `fer-core train fair_mmd --config ...` or on the Runs page.")
    st.stop()
default = [n for n in ("synthfacs_bias_supervised", "synthfacs_bias_fair_mmd") if n in names] or list(names)[:1]
if not st.session_state.get(keys.FAIR_RUNS):
    st.session_state[keys.FAIR_RUNS] = default
left, right = st.columns([3, 1])
with left:
    chosen = keys.persistent(
        st.multiselect, "Runs (pick two to compare)", list(names), keys.FAIR_RUNS, max_selections=2
    )
if not chosen:
    st.info("Pick at least one run.")
    st.stop()
reports = {n: res.evaluation_report(names[n]) for n in chosen}
attributes = shared_attributes(list(reports.values()))
if not attributes:
    st.warning(
        "These runs were evaluated without a sensitive attribute (set data.sensitive when training, or use "
        "`fer-core evaluate RUN --data MANIFEST --group-by COLUMN`)."
    )
    st.stop()
if st.session_state.get(keys.FAIR_ATTRIBUTE) not in attributes:
    st.session_state[keys.FAIR_ATTRIBUTE] = attributes[0]
with right:
    attribute = keys.persistent(st.selectbox, "Sensitive attribute", attributes, keys.FAIR_ATTRIBUTE)

reps = [reports[n][attribute] for n in chosen]
st.subheader(f"Summary by {md(attribute)}")
charts.comparison_table(chosen, reps)
clicked = None
floor, zmax = charts.accuracy_floor(reps), charts.mmd_ceiling(reps)  # shared scales: runs compare by height and colour
for col, name, rep in zip(st.columns(len(chosen)), chosen, reps):
    with col:
        clicked = charts.run_panel(name, reports[name].recipe, rep, floor, zmax) or clicked

st.subheader(f"Where the model looks, by {md(attribute)}")
st.caption(
    "Share of the LRP heatmap of the predicted class inside each face region, per group (400 test faces, "
    "95% bootstrap intervals). The test compares groups within each predicted class, so a group that is just "
    "predicted 'happy' more often does not count as looking elsewhere."
)
charts.relevance_columns(
    chosen, attribute, lambda name, progress: res.region_relevance(names[name], (attribute,), 400, progress=progress)
)

st.subheader("Mistakes of one group")
groups = reps[0].groups
if clicked in groups:
    st.session_state[keys.FAIR_GROUP] = clicked
    st.session_state.pop(keys.widget_key(keys.FAIR_GROUP), None)
if st.session_state.get(keys.FAIR_GROUP) not in groups:
    st.session_state[keys.FAIR_GROUP] = reps[0].worst_group
group = keys.persistent(st.selectbox, "Group", groups, keys.FAIR_GROUP)
charts.mistakes_columns(chosen, attribute, group, lambda name: res.group_mistakes(names[name], attribute, group))
