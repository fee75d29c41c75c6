"""Concept views: a face's top concepts with their conditional heatmaps, the reference faces of a concept, and the
explanation atlas (the embedding scatter, a cluster's mean map, purity and faces)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.express as px
import streamlit as st

from dashboard.components.text import md
from fer_core.explain import colorize, overlay
from fer_core.studies import AFFINITY, CLUSTER_COUNT, Atlas, AtlasCluster, ConceptReferences
from fer_core.workflows import FaceConcepts

CONCEPT_HELP = (
    "A concept is one channel of the chosen layer. Its share is the part of the class's relevance at that layer "
    "that flows through it; its heatmap is where on the face that part comes from (Concept Relevance Propagation)."
)


def concept_grid(result: FaceConcepts, references: ConceptReferences | None = None, columns: int = 4) -> None:
    """The face's top concepts, one conditional heatmap each (one colour scale), with reference faces under each."""
    heats = result.heatmaps()
    vmax = float(np.percentile(np.abs(np.stack(heats)), 99.5)) or 1.0
    c = result.concepts
    st.caption(
        f"Top {len(c.concepts)} concepts of **{md(result.label)}** at layer `{c.layer}`: together "
        f"{sum(c.share):.0%} of the class's relevance there.",
        help=CONCEPT_HELP,
    )
    cols = st.columns(columns)
    for i, (channel, share) in enumerate(zip(c.concepts, c.share)):
        with cols[i % columns]:
            st.image(
                overlay(result.face.crop, heats[i], size=160, vmax=vmax), caption=f"channel {channel} · {share:.0%}"
            )
            if references is not None and references.faces.get(channel):
                reference_row(references, channel, size=48, limit=4)


def reference_row(references: ConceptReferences, channel: int, size: int = 64, limit: int = 6) -> None:
    """A concept's reference faces, each cropped to where the concept acts, its heatmap over it."""
    tiles = [overlay(*r.cropped(), size=size) for r in references.faces.get(channel, [])[:limit]]
    if tiles:
        gap = np.full((size, 3, 3), 255, np.uint8)
        row = np.concatenate([t for tile in tiles for t in (tile, gap)][:-1], axis=1)
        st.image(row, caption=f"where channel {channel} is strongest in the dataset")


def atlas_summary(atlas: Atlas) -> None:
    """One line of figures, then each flag as a warning in plain words."""
    flagged = atlas.flagged
    st.markdown(
        f"**{len(atlas.faces)}** faces {atlas.selection} **{md(atlas.label)}** · **{len(atlas.clusters)}** "
        f"strategies (clusters) · **{len(flagged)}** flagged"
    )
    with st.expander("How the clusters are made"):
        st.caption(
            f"Each face's LRP map of {md(atlas.label)} is pooled to 16 x 16 and scaled to its largest value. "
            f"Affinity: {md(AFFINITY)}. Number of clusters: {md(CLUSTER_COUNT)} (eigenvalues "
            f"{', '.join(f'{v:.3f}' for v in atlas.eigenvalues)}). Spectral clustering, then t-SNE for the picture."
        )
    for c in flagged:
        for flag in c.flags:
            st.warning(f"**Cluster {c.id}** ({c.size} faces): {md(flag)}", icon=":material/flag:")
    if not flagged:
        st.success("No cluster looks off the face or owned by one group.", icon=":material/check_circle:")


def atlas_scatter(atlas: Atlas, colour: str, key: str) -> int | None:
    """The 2-D embedding, one dot per face, coloured by ``colour``; returns the cluster of a clicked dot."""
    frame = atlas.faces.copy()
    frame["cluster"] = frame["cluster"].map(
        lambda c: f"{c}{' (flagged)' if c in {f.id for f in atlas.flagged} else ''}"
    )
    frame["face"] = frame["path"].map(lambda p: p.rsplit("/", 1)[-1])
    frame[colour] = frame[colour].fillna("(none)").astype(str)
    fig = px.scatter(
        frame,
        x="x",
        y="y",
        color=colour,
        custom_data=["cluster"],
        hover_data={"face": True, "label": True, "pred": True, "p_class": ":.2f", "x": False, "y": False},
        height=460,
        category_orders={colour: sorted(frame[colour].unique())},
    )
    fig.update_traces(marker=dict(size=8, line=dict(width=0.5, color="white")))
    fig.update_layout(
        margin=dict(l=0, r=0, t=10, b=0),
        xaxis=dict(visible=False),
        yaxis=dict(visible=False),
        legend=dict(title=colour),
    )
    event = st.plotly_chart(fig, width="stretch", key=key, on_select="rerun", selection_mode="points")
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    if not points:
        return None
    data = points[0].get("customdata") or []
    return int(str(data[0]).split(" ")[0]) if data else None


def cluster_detail(atlas: Atlas, cluster: AtlasCluster, thumbnail, limit: int = 12) -> None:
    """A cluster's mean heatmap, where its relevance lies, its purity by true label and by group, and its faces."""
    c1, c2 = st.columns([1, 2])
    with c1:
        st.image(
            np.kron(colorize(cluster.mean_heatmap), np.ones((4, 4, 1), np.uint8))[:256, :256],
            caption=f"mean heatmap of cluster {cluster.id} ({cluster.size} faces)",
            width=220,
        )
        st.metric("Relevance on the face's features", f"{cluster.inside_share:.0%}")
    with c2:
        bars = [
            pd.DataFrame({"share": [v], "value": [k], "of": ["true label"]}) for k, v in cluster.label_purity.items()
        ]
        for col, shares in cluster.groups.items():
            bars += [pd.DataFrame({"share": [v], "value": [k], "of": [col]}) for k, v in shares.items()]
        if bars:
            table = pd.concat(bars, ignore_index=True)
            table["text"] = [f"{v} {p:.0%}" if p >= 0.12 else "" for v, p in zip(table["value"], table["share"])]
            fig = px.bar(
                table,
                x="share",
                y="of",
                color="value",
                text="text",
                orientation="h",
                height=80 + 40 * table["of"].nunique(),
                hover_data={"text": False, "share": ":.0%"},
            )
            fig.update_traces(textposition="inside", insidetextanchor="middle")
            fig.update_layout(
                margin=dict(l=0, r=0, t=10, b=0),
                xaxis=dict(tickformat=".0%", range=[0, 1], title=None),
                yaxis=dict(title=None),
                showlegend=False,
            )
            st.plotly_chart(fig, width="stretch", key=f"atlas_purity_{cluster.id}")
        else:
            st.caption("The faces have no labels or group columns to show purity by.")
    members = atlas.faces[atlas.faces["cluster"] == cluster.id].sort_values("p_class", ascending=False)
    st.caption(f"Its {min(limit, len(members))} most confident faces (of {len(members)})")
    cols = st.columns(min(limit, 6))
    for i, (_, face) in enumerate(members.head(limit).iterrows()):
        with cols[i % len(cols)]:
            truth = f"true {face['label']} · " if isinstance(face["label"], str) else ""
            st.image(thumbnail(face["path"]), caption=f"{truth}p={face['p_class']:.2f}", width=96)
