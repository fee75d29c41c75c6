"""Fairness: does a model treat groups alike? Per-group accuracy, per-class recall, MMD between the groups'
embeddings and a probe, for one run or two side by side; click a group to see the faces it gets wrong."""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard import _resources as res
from dashboard import _state as keys
from dashboard.components.errors import user_errors
from dashboard.components.study_charts import region_share_bars
from dashboard.components.fairness_charts import (accuracy_floor, comparison_table, group_accuracy_bars, mmd_ceiling,
                                                  mmd_matrix, tpr_heatmap)
from dashboard.components.text import md
from fer_core.explain import overlay
from fer_core.runs import RunFolder, open_run

st.title("Fairness")
st.caption("Test-set results of training runs, per sensitive group. The embedded demo compares a plain model with "
           "fair_mmd on SynthFACS faces whose training labels carry a planted group bias; both are tested on a "
           "balanced set, where a model that learned the bias pays for it.")

folders = [f for f in res.run_folders() if open_run(f).has(RunFolder.EVALUATION)]
if not folders:
    st.info("No finished runs yet. Train one with `fer-core train fair_mmd --config ...` or on the Runs page.")
    st.stop()
names = {Path(f).name: f for f in folders}
default = [n for n in ("synthfacs_bias_supervised", "synthfacs_bias_fair_mmd") if n in names] or list(names)[:1]
if not st.session_state.get(keys.FAIR_RUNS):
    st.session_state[keys.FAIR_RUNS] = default
left, right = st.columns([3, 1])
with left:
    chosen = keys.persistent(st.multiselect, "Runs (pick two to compare)", list(names), keys.FAIR_RUNS,
                             max_selections=2)
if not chosen:
    st.info("Pick at least one run.")
    st.stop()
reports = {n: res.run_evaluation(names[n], open_run(names[n]).stamp(RunFolder.EVALUATION))
           for n in chosen}
common = set.intersection(*(set(r.get("attributes", {})) for r in reports.values()))
attributes = [a for a in reports[chosen[0]].get("attributes", {}) if a in common]  # the run's order: fair attribute first
if not attributes:
    st.warning("These runs were evaluated without a sensitive attribute (set data.sensitive when training, or use "
               "`fer-core evaluate RUN --data MANIFEST --group-by COLUMN`).")
    st.stop()
if st.session_state.get(keys.FAIR_ATTRIBUTE) not in attributes:
    st.session_state[keys.FAIR_ATTRIBUTE] = attributes[0]
with right:
    attribute = keys.persistent(st.selectbox, "Sensitive attribute", attributes, keys.FAIR_ATTRIBUTE)

reps = [reports[n]["attributes"][attribute] for n in chosen]
st.subheader(f"Summary by {md(attribute)}")
comparison_table(chosen, reps)

clicked = None
floor, zmax = accuracy_floor(reps), mmd_ceiling(reps)  # shared scales: runs compare by height and colour
for col, name, rep in zip(st.columns(len(chosen)), chosen, reps):
    with col:
        recipe = reports[name].get("recipe", "")
        st.markdown(f"### {md(name)}" + (f" · `{recipe.replace('`', '')}`" if recipe else ""))  # code: no markup
        m1, m2, m3 = st.columns(3)
        m1.metric("accuracy", f"{rep['overall']['accuracy']:.1%}")
        m2.metric("worst group", f"{rep['worst_group_accuracy']:.1%}")
        gap_ci = (rep.get("bootstrap") or {}).get("accuracy_gap")
        m3.metric("gap", f"{rep['accuracy_gap']:.1%}", help="best minus worst group accuracy" + (
            f"; 95% bootstrap interval {gap_ci[0]:.1%} to {gap_ci[1]:.1%}" if gap_ci else ""))
        st.markdown("**Accuracy per group** (95% bootstrap intervals; click a bar to see its mistakes)")
        clicked = group_accuracy_bars(rep, key=f"bars_{name}_{attribute}", floor=floor) or clicked
        if rep.get("small_groups"):
            st.caption(f"Small groups (fewer than {rep['min_group_size']} faces, noisy): "
                       f"{', '.join(rep['small_groups'])}")
        st.markdown("**Recall per class and group**")
        tpr_heatmap(rep, key=f"tpr_{name}_{attribute}")
        st.markdown("**MMD² between the groups' embeddings** (* p < 0.05)")
        mmd_matrix(rep, key=f"mmd_{name}_{attribute}", zmax=zmax)
        probe = rep.get("probe") or {}
        if probe.get("accuracy") is not None:
            st.markdown(f"A linear probe guesses **{md(attribute)}** from the embeddings with "
                        f"**{probe['accuracy']:.1%}** "
                        f"accuracy (chance {probe['chance']:.1%}).")

st.subheader(f"Where the model looks, by {md(attribute)}")
st.caption("Share of the LRP heatmap of the predicted class inside each face region, per group (400 test faces, "
           "95% bootstrap intervals). The test compares groups within each predicted class, so a group that is just "
           "predicted 'happy' more often does not count as looking elsewhere.")
for col, name in zip(st.columns(len(chosen)), chosen):
    with col, user_errors(name):
        bar = st.progress(0.0, text="Computing heatmaps…")
        rel = res.region_relevance(names[name], (attribute,), 400,
                                   progress=lambda d, t: bar.progress(d / t, text=f"Computing heatmaps… {d}/{t}"))
        bar.empty()
        rep = rel["attributes"][attribute]
        region_share_bars(rep["by_group"], attribute, rel["regions"], key=f"share_{name}_{attribute}")
        test = rep["test"]
        if test.get("p_value") is not None:
            differ = [r for r, p in zip(rel["regions"], test["region_p_values"]) if p < 0.05]
            verdict = (f"groups differ (p = {test['p_value']:.3f}), most in: {', '.join(differ)}"
                       if test["p_value"] < 0.05 else f"no evidence that groups differ (p = {test['p_value']:.3f})")
            st.markdown(f"**{md(name)}**: {md(verdict)}")

st.subheader("Mistakes of one group")
groups = list(reps[0]["by_group"])
if clicked in groups:
    st.session_state[keys.FAIR_GROUP] = clicked
    st.session_state.pop(f"_w_{keys.FAIR_GROUP}", None)
if st.session_state.get(keys.FAIR_GROUP) not in groups:
    st.session_state[keys.FAIR_GROUP] = min(groups, key=lambda g: reps[0]["by_group"][g]["accuracy"])
group = keys.persistent(st.selectbox, "Group", groups, keys.FAIR_GROUP)
for col, name in zip(st.columns(len(chosen)), chosen):
    with col, user_errors(name):
        st.markdown(f"**{md(name)}**: {md(attribute)} = {md(group)}, most confident mistakes, LRP heatmap of the "
                    "predicted class")
        wrong = open_run(names[name]).mistakes(attribute, group, limit=6)
        if wrong.empty:
            st.success("No mistakes in this group.")
            continue
        results = res.explain_rows(names[name], tuple(wrong["path"]), tuple(wrong["rel_path"]),
                                   tuple(wrong["source"]))
        cells = st.columns(3)
        for i, (row, result) in enumerate(zip(wrong.itertuples(), results)):
            k = result.labels.index(row.pred)
            with cells[i % 3]:
                st.image(overlay(result.face.crop, result.heatmaps[k], size=160), width="stretch",
                         caption=f"true {row.target} → {row.pred} ({row.confidence:.0%})")
