"""Fairness: does a model treat groups alike? Two tabs: training runs (per-group accuracy, per-class recall, MMD
between the groups' embeddings and a probe, for one run or two side by side; click a group to see the faces it gets
wrong), and a photo set audited with or without expression labels (detection, prediction rates and parity gaps per
group)."""

from __future__ import annotations

import streamlit as st

from dashboard import _resources as res
from dashboard import _state as keys
from dashboard import _studies as studies
from dashboard.components import audit_charts
from dashboard.components import fairness_charts as charts
from dashboard.components.errors import user_errors
from dashboard.components.glossary import tip
from dashboard.components.inputs import dataset_source
from dashboard.components.text import md
from fer_core.fairness import AttributeReport, shared_attributes

st.title("Fairness")


def runs_view() -> None:
    """Test-set results of training runs, one or two side by side."""
    st.caption(
        "Test-set results of training runs, per sensitive group. The embedded demo compares a plain model with "
        "fair_mmd on SynthFACS faces whose training labels carry a planted group bias; both are tested on a "
        "balanced set, where a model that learned the bias pays for it."
    )
    names = res.evaluated_runs()
    if not names:
        st.info("No finished runs yet. Train one with `fer-core train fair_mmd --config ...` or on the Runs page.")
        return
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
        return
    reports = {n: res.evaluation_report(names[n]) for n in chosen}
    attributes = shared_attributes(list(reports.values()))
    if not attributes:
        st.warning(
            "These runs were evaluated without a sensitive attribute (set data.sensitive when training, or use "
            "`fer-core evaluate RUN --data MANIFEST --group-by COLUMN`)."
        )
        return
    if st.session_state.get(keys.FAIR_ATTRIBUTE) not in attributes:
        st.session_state[keys.FAIR_ATTRIBUTE] = attributes[0]
    with right:
        attribute = keys.persistent(st.selectbox, "Sensitive attribute", attributes, keys.FAIR_ATTRIBUTE)

    reps = [reports[n][attribute] for n in chosen]
    st.subheader(f"Summary by {md(attribute)}")
    charts.comparison_table(chosen, reps)
    clicked = None
    floor, zmax = (
        charts.accuracy_floor(reps),
        charts.mmd_ceiling(reps),
    )  # shared scales: runs compare by height and colour
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
        chosen,
        attribute,
        lambda name, progress: studies.region_relevance(names[name], (attribute,), 400, progress=progress),
    )

    st.subheader("Mistakes of one group")
    groups = reps[0].groups
    if clicked != st.session_state.get(keys.FAIR_CLICKED):  # a new click picks the group; the box then rules
        st.session_state[keys.FAIR_CLICKED] = clicked
        if clicked in groups:
            st.session_state[keys.FAIR_GROUP] = clicked
    if st.session_state.get(keys.FAIR_GROUP) not in groups:
        st.session_state[keys.FAIR_GROUP] = reps[0].worst_group
    group = keys.persistent(st.selectbox, "Group", groups, keys.FAIR_GROUP)
    charts.mistakes_columns(chosen, attribute, group, lambda name: res.group_mistakes(names[name], attribute, group))


def photo_set_view() -> None:
    """Any manifest (or a run's test set), labels optional: what the model does for each group."""
    st.caption(
        "A photo set with a group column and no expression labels (or with them) still tells whether the detector "
        "finds every group's faces and whether the model predicts each class equally often per group. Intervals "
        "resample people (the manifest's subject column) or else photos, never near-identical frames one by one."
    )
    c1, c2, c3 = st.columns([2, 1, 1])
    with c1:
        source, target, model_name = dataset_source(
            keys.AUDIT_SOURCE,
            keys.AUDIT_MANIFEST,
            "Photos",
            "a run's test set and model, or any manifest (a path column; labels optional) with the sidebar model",
        )
    if not target:
        st.info("Give the path of a manifest with a group column (e.g. age, gender).")
        return
    with user_errors("photo set"):
        columns = list(dict.fromkeys([*studies.manifest_columns(str(target)), *res.pose_groups()]))
        with c2:
            group = st.selectbox("Group by", columns, key=f"{keys.AUDIT_GROUP}_{source}", format_func=res.group_label)
        with c3:
            use_labels = not st.checkbox(
                "Ignore labels", key=keys.AUDIT_NO_LABELS, help="audit as if the set had no expression labels"
            )
            start = st.button("Audit", type="primary", key=keys.AUDIT_RUN)
        if not group:
            st.info("This manifest has no column to group by.")
            return
        params = (str(target), model_name, group, use_labels)
        if start:
            st.session_state[keys.AUDIT_PARAMS] = params
        if st.session_state.get(keys.AUDIT_PARAMS) != params:
            st.info("Press **Audit** to classify every photo (a progress bar shows how far it is).")
            return
        bar = st.progress(0.0, text="Finding and classifying faces…")
        result = studies.photo_set_audit(
            *params, progress=lambda done, total: bar.progress(done / total, text=f"Faces… {done} of {total}")
        )
        bar.empty()
        audit_results(result, group)


def audit_results(result: dict, group: str) -> None:
    audit = result["audit"][group]
    resampled = result["intervals"]["resampled"]
    d = result["detection"]
    st.markdown(
        f"**{result['n']}** images: {d['detected']} faces detected, {d['crop']} used as crops (small images taken "
        f"whole, never detected), {d['no_face']} without a face, {d['unreadable']} unreadable; "
        f"{result['n_labelled']} faces with a label."
    )
    for line in audit_charts.audit_verdicts(group, audit, resampled):
        st.markdown(f"- {line}")
    left, right = st.columns(2)
    with left:
        st.markdown(f"**Faces found, by {md(group)}**")
        if audit["detection"].get("faces_only"):
            st.caption(
                f"{md(res.group_label(group)).capitalize()} is measured on the faces found, so it cannot say which "
                "group's photos the detector misses."
            )
        else:
            audit_charts.detection_bars(audit["detection"], key=f"{keys.AUDIT_DET_BARS}_{group}")
    with right:
        st.markdown(f"**Predicted class, by {md(group)}** (95% intervals)", help=tip("interval"))
        audit_charts.prediction_rate_bars(audit, key=f"{keys.AUDIT_RATE_BARS}_{group}")
    st.markdown(
        "**Demographic parity per class**: the largest minus the smallest share of a group predicted it",
        help=tip("parity_gap"),
    )
    audit_charts.parity_table(audit)
    if result.get("fairness"):
        st.markdown(f"**Accuracy by {md(group)}** (the {result['n_labelled']} labelled faces)")
        rep = AttributeReport.from_dict(result["fairness"][group], group)
        charts.group_accuracy_bars(rep, key=f"{keys.AUDIT_ACC_BARS}_{group}")


runs_tab, photos_tab = st.tabs(["Training runs", "A photo set (labels optional)"])
with runs_tab:
    runs_view()
with photos_tab:
    photo_set_view()
