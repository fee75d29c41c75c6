"""Widgets of the Review page: the queue filters, one claimed face with its evidence and the decision buttons, and the
annotators' table with their agreement."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from fer_core.explain import overlay

from .. import _state as keys
from .figures import probability_chart
from .text import md


@dataclass(frozen=True)
class QueueFilters:
    """What the annotator chose above the queue: who they are, the batch, and which proposals to see."""

    reviewer: str
    batch: str
    labels: list[str]  # every class of the batch (the relabel choices)
    classes: list[str]  # proposed classes to show; empty: all
    band: tuple[float, float] | None  # confidence band; None: all
    below_threshold: bool | None  # True: only proposals below their class threshold; None: all


def confirmed_reviewer() -> str:
    """The annotator's name, confirmed with a button (or Enter) before the first decision. Until then only the name
    box shows; after it, the name is text with a "Change" button, so no text field holds the focus while the A, X,
    L and U keys decide."""
    name = st.session_state.get(keys.REVIEWER_CONFIRMED, "")
    if name:
        left, right = st.columns([4, 1])
        left.markdown(f"Reviewing as **{md(name)}**: every decision is recorded under this name.")
        if right.button("Change name", key=keys.REVIEWER_CHANGE):
            st.session_state[keys.REVIEWER_CONFIRMED] = ""
            st.rerun()
        return name
    with st.form(keys.REVIEWER_FORM, border=False):
        typed = st.text_input("Your name", key=keys.REVIEWER, placeholder="annotator name")
        if st.form_submit_button("Start reviewing", type="primary") and typed.strip():
            st.session_state[keys.REVIEWER_CONFIRMED] = typed.strip()
            st.rerun()
    return ""


def relabel_choices(proposed: str, probs: dict[str, float] | None, labels: list[str]) -> list[str]:
    """The classes to relabel to, the proposal's nearest rivals first (by the model's probabilities), then the
    rest in label order: the right class is usually the model's second guess, rarely the first label."""
    others = [lab for lab in labels if lab != proposed]
    if not probs:
        return others
    return sorted(others, key=lambda lab: (-float(probs.get(lab, 0.0)), others.index(lab)))


def queue_filters(reviewer: str, batches: list[str], labels_of: Callable[[str], list[str]]) -> QueueFilters:
    """Batch (the newest by default), proposed classes, confidence band and the below-threshold toggle."""
    top = st.columns([1.6, 1.6, 1.2, 1.2])
    with top[0]:
        batch = st.selectbox("Batch", batches, index=len(batches) - 1, key=keys.REVIEW_BATCH)
    labels = labels_of(batch)
    with top[1]:
        only = st.multiselect("Proposed class", labels, key=keys.REVIEW_CLASSES, placeholder="all classes")
    with top[2]:
        band = st.slider("Confidence", 0.0, 1.0, (0.0, 1.0), 0.05, key=keys.REVIEW_BAND)
    with top[3]:
        below = st.toggle(
            "Below threshold only",
            key=keys.REVIEW_BELOW,
            help="the proposals the model itself was not sure enough about to train on",
        )
    return QueueFilters(reviewer, batch, labels, only, None if band == (0.0, 1.0) else band, True if below else None)


def review_item(item, face, labels: list[str]) -> tuple[str, str | None] | None:
    """The claimed face, its heatmap and the proposal; returns the decision pressed (``accept``, ``reject`` or
    ``relabel`` with the new label), or None."""
    face_col, heat_col, info_col = st.columns([1, 1, 1.3])
    with face_col:
        st.image(face.crop, caption=f"face #{item.id}", width="stretch")
    with heat_col:
        if face.heatmap is not None:
            st.image(
                overlay(face.crop, face.heatmap, size=256),
                width="stretch",
                caption=f"LRP evidence for '{item.label}' (red: for, blue: against)",
            )
        else:
            st.caption(face.note)
    with info_col:
        verdict = "above" if item.above_threshold else "below"
        thr = f"{item.threshold:.2f}" if item.threshold is not None else "n/a"
        st.markdown(f"### Proposed: **{md(item.label)}** ({item.confidence:.0%})")
        st.markdown(f"Class threshold **{thr}**: the proposal is **{verdict}** it.")
        if item.probs:
            top3 = sorted(item.probs.items(), key=lambda kv: -kv[1])[:3]
            probability_chart([k for k, _ in top3], [v for _, v in top3], key=f"{keys.PROBS}_{item.id}")
        b1, b2 = st.columns(2)
        if b1.button("Accept", shortcut="a", type="primary", width="stretch"):
            return "accept", None
        if b2.button("Reject", shortcut="x", width="stretch"):
            return "reject", None
        new = st.selectbox(
            "Relabel as",
            relabel_choices(item.label, item.probs, labels),
            key=f"{keys.RELABEL}_{item.id}",
            help="the model's next guesses first",
        )
        if st.button("Relabel", shortcut="l", width="stretch"):
            return "relabel", new
    return None


def annotators_panel(by_reviewer: pd.DataFrame, agreement: pd.DataFrame, batch: str) -> None:
    """Decisions per annotator, Cohen's kappa between annotators, and how to export the reviewed labels."""
    if len(by_reviewer):
        table = by_reviewer.assign(last=lambda d: pd.to_datetime(d["last"], unit="s").dt.strftime("%Y-%m-%d %H:%M"))
        st.dataframe(table, hide_index=True, width="stretch")
    if len(agreement):
        st.markdown("**Cohen's kappa on faces both annotators reviewed** (reject counts as its own label)")
        st.dataframe(agreement, hide_index=True, width="stretch")
    else:
        st.caption(
            "Agreement appears once two annotators have reviewed the same faces (create the batch with "
            "`--reviews-per-item 2`)."
        )
    st.caption("Export the reviewed labels:")
    st.code(f"fer-core review export {batch} --out reviewed.csv", language="bash")
