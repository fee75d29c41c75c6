"""Widgets of the Transfer comparison page: one face's heatmaps by two models side by side with their region shares,
and the models' accuracy on the compared faces next to their test-set figures."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from fer_core.explain import overlay
from fer_core.studies import TARGET_RULES, TransferComparison

from .. import _state as keys
from .glossary import tip
from .study_charts import PALETTE, grouped_bars
from .text import html_text, md

LETTERS = "ABCDEFGH"


def model_metrics(cmp: TransferComparison, test_sets: dict[str, dict]) -> None:
    """Per model: accuracy and macro-F1 on the compared faces, with the run's full test-set figures below."""
    for col, (i, name) in zip(st.columns(len(cmp.names)), enumerate(cmp.names)):
        with col:
            acc, f1 = cmp.accuracy(name), cmp.macro_f1(name)
            color = PALETTE[i % len(PALETTE)]
            st.markdown(
                f"<span style='color:{color};font-size:1.4em'>■</span> **{LETTERS[i]}: {html_text(name)}**",
                unsafe_allow_html=True,
            )
            if acc is not None:
                st.metric(f"accuracy on these {len(cmp.faces)} faces", f"{acc:.1%}", help=f"macro-F1 {f1:.3f}")
            overall = test_sets.get(name) or {}
            if overall.get("accuracy") is not None:
                st.caption(
                    f"whole test set ({int(overall['n'])} faces): accuracy {overall['accuracy']:.1%}, "
                    f"macro-F1 {overall['macro_f1']:.3f}"
                )


def face_share_bars(cmp: TransferComparison, i: int, key: str) -> None:
    """Face ``i``: share of each model's positive relevance per region (horizontal bars, one colour per model)."""
    fig = go.Figure()
    for j, (name, m) in enumerate(cmp.models.items()):
        shares = [0.0 if v != v else 100 * v for v in m.shares[i]]  # NaN: no positive relevance at all
        fig.add_bar(
            name=LETTERS[j],
            y=cmp.regions,
            x=shares,
            orientation="h",
            marker_color=PALETTE[j % len(PALETTE)],
            hovertemplate=f"{LETTERS[j]} ({name}), %{{y}}: %{{x:.0f}}%<extra></extra>",
        )
    fig.update_layout(
        barmode="group",
        height=210,
        margin=dict(l=0, r=0, t=0, b=0),
        showlegend=False,
        xaxis=dict(ticksuffix="%", range=[0, 100]),
        yaxis=dict(autorange="reversed"),
        bargap=0.25,
    )
    st.plotly_chart(fig, width="stretch", key=key, config={"displayModeBar": False})


def face_row(cmp: TransferComparison, i: int, key: str) -> None:
    """The face, each model's heatmap of the explained class (own colour scale: where, not how much), the shares."""
    explained = cmp.labels[int(cmp.targets[i])]
    truth = cmp.faces["label"].iloc[i] if "label" in cmp.faces else None
    cols = st.columns([1, 1, 1, 2])
    first = next(iter(cmp.models.values()))
    with cols[0]:
        st.image(
            first.crops[i], width="stretch", caption=(f"true: {truth} · " if truth else "") + f"explained: {explained}"
        )
    for col, letter, m in zip(cols[1:3], LETTERS, cmp.models.values()):
        with col:
            pred = cmp.labels[int(m.pred[i])]
            st.image(
                overlay(m.crops[i], m.heatmaps[i], size=160),
                width="stretch",
                caption=f"{letter}: p({explained}) {m.probs[i, cmp.targets[i]]:.0%}"
                + ("" if pred == explained else f", says {pred}"),
            )
    with cols[3]:
        face_share_bars(cmp, i, key)


PER_PAGE = 6


def comparison_view(cmp: TransferComparison, a: str, b: str, test_sets: dict[str, dict]) -> None:
    """The whole comparison: both models' test figures, relevance shares per region with the paired tests' verdicts,
    then the same faces side by side, ``PER_PAGE`` at a time, most different first."""
    model_metrics(cmp, test_sets)
    if cmp.no_face or cmp.unreadable:
        st.caption(f"Left out: {len(cmp.no_face)} image(s) without a face, {len(cmp.unreadable)} unreadable.")
    left, right = st.columns([3, 2])
    with left:
        st.markdown(
            f"**Share of the positive relevance per face region** (mean over {len(cmp.faces)} faces, 95% "
            f"intervals); heatmaps of {TARGET_RULES[cmp.target_rule]}"
        )
        grouped_bars(
            cmp.table(n_boot=500).to_dict("records"),
            "region",
            "model",
            "share",
            key=keys.TR_SHARES,
            y_title="% of positive relevance",
            order=cmp.regions,
        )
    with right:
        diffs = cmp.differences(n_boot=500, num_permutations=2000)
        st.markdown("**Where they differ** (paired sign-flip test per region, Holm-adjusted)", help=tip("holm"))
        for sentence in cmp.verdicts(differences=diffs):
            st.markdown(f"- {md(sentence)}")
    st.subheader("The same faces, side by side")
    c1, c2 = st.columns([3, 1])
    order = c1.radio(
        "Order",
        ["where the two maps differ most", "sample order"],
        horizontal=True,
        key=keys.TR_ORDER,
        help="differ most: faces where both models predict the explained class come first",
    )
    rows = [int(r) for r in (cmp.most_different_first() if order.startswith("where") else range(len(cmp.faces)))]
    pages = max(1, -(-len(rows) // PER_PAGE))
    page = c2.number_input(f"Page (of {pages})", 1, pages, 1, key=f"{keys.TR_PAGE}_{pages}") if pages > 1 else 1
    st.caption(
        f"Face · A ({md(a)}) · B ({md(b)}) · share of each map's positive relevance per region. Red raises the "
        "explained class, blue lowers it; each map has its own colour scale (where, not how much)."
    )
    for i in rows[(page - 1) * PER_PAGE : page * PER_PAGE]:
        face_row(cmp, i, key=f"{keys.TR_FACE}_{i}")
