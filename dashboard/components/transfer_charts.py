"""Widgets of the Transfer comparison page: one face's heatmaps by two models side by side with their region shares,
and the models' accuracy on the compared faces next to their test-set figures."""
from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from fer_core.explain import overlay
from fer_core.studies.transfer_comparison import TransferComparison

from .study_charts import PALETTE
from .text import html_text

LETTERS = "ABCDEFGH"


def model_metrics(cmp: TransferComparison, test_sets: dict[str, dict]) -> None:
    """Per model: accuracy and macro-F1 on the compared faces, with the run's full test-set figures below."""
    for col, (i, name) in zip(st.columns(len(cmp.names)), enumerate(cmp.names)):
        with col:
            acc, f1 = cmp.accuracy(name), cmp.macro_f1(name)
            color = PALETTE[i % len(PALETTE)]
            st.markdown(f"<span style='color:{color};font-size:1.4em'>■</span> **{LETTERS[i]}: {html_text(name)}**",
                        unsafe_allow_html=True)
            if acc is not None:
                st.metric(f"accuracy on these {len(cmp.faces)} faces", f"{acc:.1%}",
                          help=f"macro-F1 {f1:.3f}")
            overall = test_sets.get(name) or {}
            if overall.get("accuracy") is not None:
                st.caption(f"whole test set ({int(overall['n'])} faces): accuracy {overall['accuracy']:.1%}, "
                           f"macro-F1 {overall['macro_f1']:.3f}")


def face_share_bars(cmp: TransferComparison, i: int, key: str) -> None:
    """Face ``i``: share of each model's positive relevance per region (horizontal bars, one colour per model)."""
    fig = go.Figure()
    for j, (name, m) in enumerate(cmp.models.items()):
        shares = [0.0 if v != v else 100 * v for v in m.shares[i]]  # NaN: no positive relevance at all
        fig.add_bar(name=LETTERS[j], y=cmp.regions, x=shares, orientation="h", marker_color=PALETTE[j % len(PALETTE)],
                    hovertemplate=f"{LETTERS[j]} ({name}), %{{y}}: %{{x:.0f}}%<extra></extra>")
    fig.update_layout(barmode="group", height=210, margin=dict(l=0, r=0, t=0, b=0), showlegend=False,
                      xaxis=dict(ticksuffix="%", range=[0, 100]), yaxis=dict(autorange="reversed"), bargap=0.25)
    st.plotly_chart(fig, width="stretch", key=key, config={"displayModeBar": False})


def face_row(cmp: TransferComparison, i: int, key: str) -> None:
    """The face, each model's heatmap of the explained class (own colour scale: where, not how much), the shares."""
    explained = cmp.labels[int(cmp.targets[i])]
    truth = cmp.faces["label"].iloc[i] if "label" in cmp.faces else None
    cols = st.columns([1, 1, 1, 2])
    first = next(iter(cmp.models.values()))
    with cols[0]:
        st.image(first.crops[i], width="stretch",
                 caption=(f"true: {truth} · " if truth else "") + f"explained: {explained}")
    for col, letter, m in zip(cols[1:3], LETTERS, cmp.models.values()):
        with col:
            pred = cmp.labels[int(m.pred[i])]
            st.image(overlay(m.crops[i], m.heatmaps[i], size=160), width="stretch",
                     caption=f"{letter}: p({explained}) {m.probs[i, cmp.targets[i]]:.0%}"
                             + ("" if pred == explained else f", says {pred}"))
    with cols[3]:
        face_share_bars(cmp, i, key)
