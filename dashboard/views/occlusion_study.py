"""Occlusion study: over a whole test set, how much does each class depend on each face region, per group?"""
from __future__ import annotations

import json

import streamlit as st

from dashboard import _resources as res
from dashboard import _state as keys
from dashboard.components.errors import user_errors
from dashboard.components.study_charts import drop_heatmap, grouped_bars
from dashboard.components.text import md
from fer_core.explain import FILLS
from fer_core.runs import open_run
from fer_core.taxonomy import FACE_REGIONS

st.title("Occlusion study")
st.caption("Every face of a test set, with each region hidden in turn: how far does the probability of the true "
           "class fall? Paper 5's question (does *happy* live in the mouth or in the eyes?) in one table, with 95% "
           "bootstrap intervals, per class and per group.")

runs = res.classifier_runs()
sources = [f"run: {n} (test set)" for n in runs] + ["a manifest file…"]
c1, c2, c3 = st.columns([2, 2, 1])
with c1:
    source = st.selectbox("Faces", sources, key="_w_study_source",
                          help="a run's own test set and model, or any labelled manifest with the sidebar model")
    if source == "a manifest file…":
        path = st.text_input("Manifest path (.csv / .parquet)", key="_w_study_manifest")
        target, model_name, columns = path, st.session_state[keys.MODEL], []
        st.caption(f"Model: **{md(model_name)}** (sidebar); faces are detected and aligned.")
    else:
        folder = runs[source.removeprefix("run: ").removesuffix(" (test set)")]
        target, model_name = folder, ""
        columns = list(open_run(folder).config.get("data", {}).get("sensitive") or [])
with c2:
    regions = keys.persistent(st.multiselect, "Regions to hide", FACE_REGIONS, keys.REGIONS)
    fills = st.multiselect("Fills", FILLS, default=["mean", "blur"], key="_w_study_fills",
                           help="mean colour of the face, blur, noise or black: a finding that holds for two fills "
                                "is not an artefact of one")
with c3:
    group_by = st.selectbox("Group by", ["(none)", *columns], index=1 if columns else 0,
                            key=f"_w_study_group_{source}")  # each source keeps its own choice
    limit = st.select_slider("Faces", [200, 500, 1000, 2000, "all"], value=500, key="_w_study_limit",
                             help="a fixed random sample of the test set; 'all' for the final figures")
if not target or not regions or not fills:
    st.info("Choose the faces, at least one region and one fill.")
    st.stop()

groups = () if group_by == "(none)" else (group_by,)
with user_errors("occlusion study"):
    bar = st.progress(0.0, text="Hiding regions…")
    study = res.occlusion_study(str(target), model_name, tuple(regions), tuple(fills), groups,
                                None if limit == "all" else int(limit),
                                progress=lambda done, total: bar.progress(done / total,
                                                                           text=f"Hiding regions… face {done} of {total}"))
    bar.empty()
    skipped = len(study["no_face"]) + len(study["unreadable"])
    st.markdown(f"**{md(study['model'])}** · {study['n_faces']} faces" + (f" ({skipped} rows without a usable face)"
                                                                     if skipped else ""))
    for tab, fill in zip(st.tabs([f"fill: {f}" for f in study["fills"]]), study["fills"]):
        with tab:
            left, right = st.columns([3, 2])
            with left:
                st.markdown("**Drop of the true class's probability (points) when a region is hidden**")
                drop_heatmap([r for r in study["by_class"] if r["fill"] == fill], study["regions"],
                             key=f"heat_{fill}")
            with right:
                classes = list(dict.fromkeys(r["label"] for r in study["by_class"]))
                cls = st.selectbox("Class", classes, index=classes.index("happy") if "happy" in classes else 0,
                                   key=f"_w_study_class_{fill}")
                rows = [r | {"series": cls} for r in study["by_class"] if r["fill"] == fill and r["label"] == cls]
                rows += [r | {"series": "all classes"} for r in study["overall"] if r["fill"] == fill]
                st.markdown(f"**{md(cls)}** vs all classes, with 95% intervals")
                grouped_bars(rows, "region", "series", "drop", key=f"cls_{fill}", y_title="drop (points)",
                             order=study["regions"])
                acc = {r["region"]: r for r in study["overall"] if r["fill"] == fill}
                first = next(iter(acc.values()))
                st.caption(f"Accuracy intact {first['correct_before']:.1%}; hidden: " +
                           ", ".join(f"{g} {r['correct_after']:.1%}" for g, r in acc.items()))
            for attr, recs in study["by_group"].items():
                st.markdown(f"**By {md(attr)}**: drop of the true class's probability, all classes")
                grouped_bars([r for r in recs if r["fill"] == fill], "region", attr, "drop",
                             key=f"grp_{fill}_{attr}", y_title="drop (points)", order=study["regions"])
    st.download_button("Download the study (JSON)", json.dumps(study, indent=2), file_name="occlusion_study.json",
                       mime="application/json")
