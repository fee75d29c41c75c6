"""Review: annotators turn machine pseudo-labels into trusted labels, one face at a time, with the keyboard.

Every decision is one transaction in the review store (SQLite or PostgreSQL), so nothing is lost if the browser or
the server stops; two annotators on one queue never get the same face (claims under a lease).
"""
from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import _resources as res
from dashboard.components.errors import user_errors
from dashboard.components.figures import probability_chart
from dashboard.components.text import md
from fer_core.explain import overlay
from fer_core.store import Store

st.title("Review pseudo-labels")
st.caption("Accept the proposed label, reject the face, or relabel it. Keys: **A** accept · **X** reject · "
           "**L** relabel with the chosen class · **U** undo your last decision. Faces are claimed for you for two "
           "minutes, so two annotators never review the same face at once.")

store: Store = res.review_store()
batches = store.list_batches()
if batches.empty:
    st.info("No pseudo-label batches yet. Create one with `fer-core pseudo-label RUN --pool FOLDER_OR_MANIFEST "
            f"--batch NAME` (store: `{store.url}`).")
    st.stop()

top = st.columns([1.2, 1.6, 1.6, 1.2, 1])
with top[0]:
    reviewer = st.text_input("Your name", key="_w_reviewer", placeholder="annotator name")
with top[1]:
    names = list(batches["name"])
    batch = st.selectbox("Batch", names, index=len(names) - 1, key="_w_review_batch")
row = batches.set_index("name").loc[batch]
labels = res.batch_labels(store.url, batch)
with top[2]:
    only = st.multiselect("Proposed class", labels, key="_w_review_classes", placeholder="all classes")
with top[3]:
    band = st.slider("Confidence", 0.0, 1.0, (0.0, 1.0), 0.05, key="_w_review_band")
with top[4]:
    below = st.toggle("Below threshold only", key="_w_review_below",
                      help="the proposals the model itself was not sure enough about to train on")

p = store.progress(batch)
st.progress(p.num_done / max(1, p.num_items),
            text=f"{p.num_done} of {p.num_items} faces done · {p.num_reviews} decisions · "
                 f"{p.per_minute:.1f} per minute (last 10 min)")
if not reviewer.strip():
    st.info("Type your name to start: every decision is recorded under it.")
    st.stop()

with user_errors("review"):
    item = store.claim_next(batch, reviewer, label=only or None,
                            band=None if band == (0.0, 1.0) else band, below_threshold=True if below else None)
    if item is None:
        st.success("Nothing left in this queue for you with these filters.")
    else:
        face_col, heat_col, info_col = st.columns([1, 1, 1.3])
        result = res.review_face(item.path, str(row["run"] or ""), res.batch_run_path(store.url, batch), item.label)
        with face_col:
            st.image(result["crop"], caption=f"face #{item.id}", width="stretch")
        with heat_col:
            if result.get("heatmap") is not None:
                st.image(overlay(result["crop"], result["heatmap"], size=256), width="stretch",
                         caption=f"LRP evidence for '{item.label}' (red: for, blue: against)")
            else:
                st.caption(result.get("note", "no heatmap"))
        with info_col:
            verdict = "above" if item.above_threshold else "below"
            thr = f"{item.threshold:.2f}" if item.threshold is not None else "n/a"
            st.markdown(f"### Proposed: **{md(item.label)}** ({item.confidence:.0%})")
            st.markdown(f"Class threshold **{thr}**: the proposal is **{verdict}** it.")
            if item.probs:
                top3 = sorted(item.probs.items(), key=lambda kv: -kv[1])[:3]
                probability_chart([k for k, _ in top3], [v for _, v in top3], key=f"p_{item.id}")
            b1, b2 = st.columns(2)
            if b1.button("Accept", shortcut="a", type="primary", width="stretch"):
                store.decide(item.id, reviewer, "accept")
                st.rerun()
            if b2.button("Reject", shortcut="x", width="stretch"):
                store.decide(item.id, reviewer, "reject")
                st.rerun()
            new = st.selectbox("Relabel as", [lab for lab in labels if lab != item.label], key="_w_relabel")
            if st.button("Relabel", shortcut="l", width="stretch"):
                store.decide(item.id, reviewer, "relabel", new_label=new)
                st.rerun()
    if st.button("Undo my last decision", shortcut="u"):
        undone = store.undo_last(batch, reviewer)
        st.toast("Undone: that face is back with you." if undone else "Nothing to undo.")
        st.rerun()

with st.expander("Annotators and agreement", expanded=False):
    if len(p.by_reviewer):
        table = p.by_reviewer.assign(last=lambda d: pd.to_datetime(d["last"], unit="s").dt.strftime("%Y-%m-%d %H:%M"))
        st.dataframe(table, hide_index=True, width="stretch")
    agreement = store.agreement(batch)
    if len(agreement):
        st.markdown("**Cohen's kappa on faces both annotators reviewed** (reject counts as its own label)")
        st.dataframe(agreement, hide_index=True, width="stretch")
    else:
        st.caption("Agreement appears once two annotators have reviewed the same faces (create the batch with "
                   "`--reviews-per-item 2`).")
    st.caption("Export the reviewed labels:")
    st.code(f"fer-core review export {batch} --out reviewed.csv", language="bash")
