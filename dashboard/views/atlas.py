"""Explanation atlas: every face a model gives one class, clustered by its heatmap (SpRAy), to find the strategies it
uses and the shortcuts among them; the class's top concepts with the faces that carry them most."""

from __future__ import annotations

import streamlit as st

from dashboard import _atlas as atl
from dashboard import _state as keys
from dashboard import _studies as studies
from dashboard.components.concept_views import atlas_scatter, atlas_summary, cluster_detail, reference_row
from dashboard.components.errors import user_errors
from dashboard.components.inputs import dataset_source
from dashboard.components.text import md
from fer_core.runs import sensitive_columns

st.title("Explanation atlas")
st.caption(
    "Every face the model assigns to one class, grouped by *why*: faces whose heatmaps look alike form a cluster, "
    "one strategy of the model. A cluster whose evidence lies off the face (a mark, the background) or that holds "
    "one group only is flagged: the model may be right there for the wrong reason."
)

c1, c2, c3 = st.columns([2, 2, 1])
with c1:
    source, target, model_name = dataset_source(
        keys.ATLAS_SOURCE,
        keys.ATLAS_MANIFEST,
        "Faces",
        "a run's test set and model, or a manifest with the sidebar model",
    )
if not target:
    st.info("Choose the faces: a run's test set, or a manifest path.")
    st.stop()
with user_errors("atlas inputs"):
    loaded = studies.study_model(target, model_name)
    columns = [] if model_name else sensitive_columns(target)
labels = list(loaded.card.label_names)
with c2:
    label = st.selectbox("Class", labels, index=labels.index("happy") if "happy" in labels else 0, key=keys.ATLAS_CLASS)
    faces = st.radio(
        "Which faces",
        ["predicted", "labelled"],
        horizontal=True,
        key=keys.ATLAS_FACES,
        format_func=lambda f: {"predicted": f"predicted {label}", "labelled": f"labelled {label}"}[f],
    )
with c3:
    group_by = st.multiselect("Groups", columns, default=columns[:2], key=f"{keys.ATLAS_GROUPS}_{source}")
    limit = st.select_slider("At most", [500, 1000, 2000, 5000, "all"], value=2000, key=keys.ATLAS_LIMIT)
    start = st.button("Build atlas", type="primary", key=keys.ATLAS_RUN)

params = (str(target), model_name, label, tuple(group_by), faces, None if limit == "all" else int(limit))
if start:
    st.session_state[keys.ATLAS_PARAMS] = params
if st.session_state.get(keys.ATLAS_PARAMS) != params and not atl.has_atlas(*params):
    st.info(
        f"Press **Build atlas** to explain {md(label)} on {'every face' if limit == 'all' else f'up to {limit} faces'}"
        " with LRP and cluster the maps (a progress bar shows how far it is)."
    )
    st.stop()
with user_errors("explanation atlas"):
    bar = st.progress(0.0, text="Explaining faces…")
    atlas = atl.atlas(
        *params,
        progress=lambda done, total: bar.progress(done / max(1, total), text=f"Explaining faces… {done}/{total}"),
    )
    bar.empty()
    atlas_summary(atlas)
    colours = ["cluster", "label", "pred", *atlas.group_by]
    left, right = st.columns([3, 2])
    with left:
        colour = st.radio("Colour by", colours, horizontal=True, key=keys.ATLAS_COLOUR)
        clicked = atlas_scatter(atlas, colour, keys.ATLAS_SCATTER)
    ids = [c.id for c in atlas.clusters]
    if clicked != st.session_state.get(keys.ATLAS_CLICKED):  # a new click picks the cluster; the box then rules
        st.session_state[keys.ATLAS_CLICKED] = clicked
        if clicked in ids:
            st.session_state[keys.ATLAS_CLUSTER] = clicked
    if st.session_state.get(keys.ATLAS_CLUSTER) not in ids:
        st.session_state[keys.ATLAS_CLUSTER] = (atlas.flagged or atlas.clusters)[0].id
    with right:
        chosen = st.selectbox(
            "Cluster",
            ids,
            key=keys.ATLAS_CLUSTER,
            format_func=lambda i: next(
                f"{c.id}: {c.size} faces{' · flagged' if c.flags else ''}" for c in atlas.clusters if c.id == i
            ),
            help="or click a dot of the map",
        )
        cluster = next(c for c in atlas.clusters if c.id == chosen)
        for flag in cluster.flags:
            st.caption(f":red[{md(flag)}]")
    cluster_detail(atlas, cluster, atl.thumbnail)

    if atlas.layer is not None:
        st.subheader(f"What {label} is made of: the top concepts at layer {atlas.layer}")
        refs = atl.references(*params)
        shares = dict(atlas.top_concepts(len(refs.concepts) * 2, cluster.rows))
        st.caption(
            "Each row: one channel, its mean share of the class's relevance over all these faces (and in the chosen "
            "cluster), and the faces where it is strongest, cropped to where it acts."
        )
        for channel, share in zip(refs.concepts, refs.shares):
            here = shares.get(channel)
            st.markdown(
                f"**Channel {channel}** · {share:.0%} of the relevance"
                + (f" · {here:.0%} in cluster {cluster.id}" if here is not None else "")
            )
            reference_row(refs, channel)
