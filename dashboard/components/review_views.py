"""Widgets of the Review page: creating a batch (the demo batch, or a run's proposals for a folder, a manifest or
uploaded photos), the queue filters, one claimed face with its evidence and the decision buttons, and the annotators'
table with their agreement."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

from fer_core.explain import overlay
from fer_core.workflows import DEMO_BATCH, DEMO_RUN, suggest_batch_name, upload_folder

from .. import _state as keys
from .._state import (  # the keys of "Create a batch"
    NEW_ALIGNED,
    NEW_CLOSE,
    NEW_CREATE,
    NEW_DEMO,
    NEW_FLASH,
    NEW_LIMIT,
    NEW_NAME,
    NEW_OPEN,
    NEW_POOL,
    NEW_POOL_KIND,
    NEW_REVIEWS,
    NEW_SOURCE,
    NEW_TAU,
    NEW_UPLOAD,
)
from .figures import probability_chart
from .text import md

POOL_ON_DISK, POOL_UPLOADS = "A folder or manifest on this machine", "Upload photos"
FACES = {  # the CLI's --aligned / --no-aligned / neither
    "as the run was trained (for a model: detect faces)": None,
    "detect the face in each photo": False,
    "the images are aligned face crops": True,
}
UPLOAD_TYPES = ["jpg", "jpeg", "png", "webp", "bmp", "tif", "tiff", "gif"]


@dataclass(frozen=True)
class BatchRequest:
    """What "Create a batch" was filled in with: the CLI's ``pseudo-label`` options."""

    name: str
    source: str  # a run folder, or a model name (the sidebar's)
    pool: str  # a folder or manifest path; '' with uploads
    from_uploads: bool  # the pool is the uploads
    uploads: tuple[tuple[str, bytes], ...]  # (file name, bytes); saved into the batch's folder on Create
    tau: float | None  # one fixed threshold; None: the run's thresholds.json, else DTM on the pool
    aligned: bool | None
    reviews_per_item: int
    limit: int | None


def create_panel_open(empty_store: bool) -> bool:
    """The "Create a batch" toggle, on while the store has no batch. Off, the panel is not drawn at all, so no text
    field is on the page to catch the A, X, L and U keys while someone reviews."""
    if st.session_state.pop(NEW_CLOSE, False):
        st.session_state[NEW_OPEN] = False
    st.session_state.setdefault(NEW_OPEN, empty_store)
    return st.toggle("Create a batch", key=NEW_OPEN, help="pseudo-label a folder, a manifest or uploaded photos")


def demo_offer(empty_store: bool) -> bool:
    """The one-click demo batch: True when pressed."""
    st.markdown(
        f"**Try it on the demo batch**: the 8 bundled SynthFACS sample faces, with labels proposed by the embedded "
        f"demo run `{DEMO_RUN}`; it takes a second."
    )
    return st.button(
        f"Create the demo batch ({DEMO_BATCH})", key=NEW_DEMO, type="primary" if empty_store else "secondary"
    )


def new_batch_form(runs: dict[str, str], sidebar_model: str, existing: list[str]) -> BatchRequest | None:
    """The proposing model (a finished run, or the sidebar's model), the pool, a name and the threshold options
    with the CLI's defaults; the request when **Create the batch** is pressed, else None."""
    model_label = f"the sidebar model ({sidebar_model})"
    sources = {**{f"run {name}": folder for name, folder in runs.items()}, model_label: sidebar_model}
    left, right = st.columns(2)
    with left:
        shown = st.selectbox("Proposing model", list(sources), key=NEW_SOURCE, help="finished expression runs first")
        suggested = suggest_batch_name(shown.removeprefix("run ") if shown != model_label else sidebar_model, existing)
        typed = st.text_input("Batch name", key=NEW_NAME, placeholder=suggested, help=f"empty: {suggested}")
        name = typed.strip() or suggested
        kind = st.radio("Faces to label", [POOL_ON_DISK, POOL_UPLOADS], key=NEW_POOL_KIND, horizontal=True)
        pool, uploads = "", ()
        if kind == POOL_ON_DISK:
            pool = st.text_input(
                "Folder of face images, or a manifest (.csv / .parquet with a path column)",
                key=NEW_POOL,
                placeholder="/data/unlabelled_faces",
            ).strip()
        else:
            files = st.file_uploader("Face photos", type=UPLOAD_TYPES, accept_multiple_files=True, key=NEW_UPLOAD)
            uploads = tuple((f.name, f.getvalue()) for f in files or [])
            st.warning(
                f"**Uploaded photos are saved to disk** when you press Create: the review store refers to each face "
                f"by its file, so they are kept in this batch's own folder, {md(upload_folder(name))}, until you "
                "delete it. Photos without a face are not kept. Faces are biometric data: upload only photos you "
                "may keep."
            )
    with right:
        tau = st.number_input(
            "Fixed threshold for every class",
            0.0,
            1.0,
            value=None,
            step=0.05,
            key=NEW_TAU,
            placeholder="the run's thresholds, else DTM on this pool",
        )
        faces = st.selectbox("Faces in the images", list(FACES), key=NEW_ALIGNED)
        reviews = st.number_input(
            "Reviews per face", 1, 10, 1, key=NEW_REVIEWS, help="distinct annotators per face (2+ for kappa)"
        )
        limit = st.number_input("Only the first N images", 1, value=None, key=NEW_LIMIT, placeholder="all")
    if not st.button("Create the batch", type="primary", key=NEW_CREATE):  # no pool yet: a message says so
        return None
    return BatchRequest(
        name=name,
        source=sources[shown],
        pool=str(Path(pool).expanduser()) if pool else "",
        from_uploads=kind == POOL_UPLOADS,
        uploads=uploads,
        tau=tau,
        aligned=FACES[faces],
        reviews_per_item=int(reviews),
        limit=None if limit is None else int(limit),
    )


def select_new_batch(new) -> None:
    """Select the new batch (a ``NewBatch``) in the queue and, after the rerun, say what went into it."""
    st.session_state[keys.REVIEW_BATCH] = new.name
    st.session_state[NEW_CLOSE] = True
    st.session_state[NEW_FLASH] = " ".join(filter(None, [new.headline(), new.skipped()]))
    st.rerun()


def show_new_batch() -> None:
    """After the rerun that selected a new batch: what went into it."""
    flash = st.session_state.pop(NEW_FLASH, None)
    if flash:
        st.success(md(flash))


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
    if st.session_state.get(keys.REVIEW_BATCH) not in batches:  # first visit: the newest; "Create" sets its own
        st.session_state[keys.REVIEW_BATCH] = batches[-1]
    with top[0]:
        batch = st.selectbox("Batch", batches, key=keys.REVIEW_BATCH)
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
