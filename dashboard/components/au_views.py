"""Widgets of the Action units page: one face's per-AU probabilities with a heatmap per top AU (the region it moves
outlined), and AU runs side by side, with and without Identity Adversarial Training."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from fer_core.taxonomy import au_title
from fer_core.workflows import AUFaceResult, outlined_overlay

from .. import _state as keys
from .text import face_note

IAT_MEASURES = {
    "mean AU F1 (0.5)": "#2c7fb8",
    "identity probe (training people)": "#d95f0e",
    "identity probe (test people)": "#fdae6b",
}


def au_probability_bars(r: AUFaceResult, threshold: float, key: str) -> None:
    """Every AU's probability, red above the threshold (dotted line)."""
    fig = go.Figure(
        go.Bar(
            x=list(r.probs),
            y=[au_title(a) for a in r.labels],
            orientation="h",
            marker_color=["#c0392b" if p >= threshold else "#95a5a6" for p in r.probs],
            text=[f"{p:.0%}" for p in r.probs],
            textposition="inside",
            insidetextanchor="start",
        )
    )
    fig.add_vline(x=threshold, line_dash="dot")
    fig.update_layout(
        height=40 + 22 * len(r.labels),
        margin=dict(l=0, r=0, t=10, b=0),
        xaxis_title="probability",
        xaxis=dict(range=[0, 1], tickformat=".0%"),
        yaxis=dict(autorange="reversed"),
    )
    st.plotly_chart(fig, width="stretch", key=key)
    st.caption("Dotted line: the run's threshold.")


def au_face(r: AUFaceResult, index: int, item_key: str, threshold: float, show: int) -> None:
    """Face ``index``: the AUs above the threshold, the crop with every AU's probability, the top ``show`` heatmaps."""
    order = sorted(range(len(r.labels)), key=lambda k: -r.probs[k])
    active = [r.labels[k] for k in order if r.probs[k] >= threshold]
    found = ", ".join(f"**{au_title(a)}**" for a in active) or "no AU above the threshold"
    st.markdown(
        f"#### Face {index + 1}: {found} (threshold {threshold:.2f}, chosen on held-out training subjects)"
        + face_note(r.face)
    )
    left, grid = st.columns([1, 2])
    with left:
        st.image(r.face.crop, caption="aligned input", width=160)
        au_probability_bars(r, threshold, key=f"{keys.AU_PROBS}_{item_key}_{index}")
    with grid:
        cols = st.columns(3)
        for j, k in enumerate(order[:show]):
            lab = r.labels[k]
            share = r.share_in_region(lab)
            where = f" · {share:.0%} in {r.region(lab)}" if share is not None else ""
            cols[j % 3].image(
                outlined_overlay(r, lab), width="stretch", caption=f"{au_title(lab)} {r.probs[k]:.0%}{where}"
            )


def iat_comparison(table: pd.DataFrame) -> None:
    """Grouped bars of AU F1 and the identity probes per run, then the table (``fer_core.workflows.au_runs_table``)."""
    fig = go.Figure(
        [
            go.Bar(
                name=m,
                x=table["run"],
                y=table[m],
                marker_color=c,
                text=[f"{v:.2f}" if pd.notna(v) else "" for v in table[m]],
                textposition="outside",
            )
            for m, c in IAT_MEASURES.items()
        ]
    )
    fig.update_layout(
        barmode="group",
        height=320,
        margin=dict(l=0, r=0, t=10, b=0),
        yaxis=dict(range=[0, 1.08]),
        legend=dict(orientation="h", y=-0.2),
    )
    st.plotly_chart(fig, width="stretch", key=keys.AU_RUNS_CHART)
    st.dataframe(table, hide_index=True, width="stretch")
