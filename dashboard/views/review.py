"""Review: annotators turn machine pseudo-labels into trusted labels, one face at a time, with the keyboard.

Every decision is one transaction in the review store (SQLite or PostgreSQL), so nothing is lost if the browser or
the server stops; two annotators on one queue never get the same face (claims under a lease).
"""

from __future__ import annotations

import streamlit as st

from dashboard import _resources as res
from dashboard import _state as keys
from dashboard.components import review_views as views
from dashboard.components.errors import user_errors
from dashboard.components.review_views import annotators_panel, confirmed_reviewer, queue_filters, review_item
from fer_core.store import Store
from fer_core.workflows import DEMO_BATCH

st.title("Review pseudo-labels")
st.caption(
    "Accept the proposed label, reject the face, or relabel it. Keys: **A** accept · **X** reject · "
    "**L** relabel with the chosen class · **U** undo your last decision. Faces are claimed for you for two "
    "minutes, so two annotators never review the same face at once."
)

store: Store = res.review_store()
batches = store.list_batches()
if batches.empty:
    st.info(
        "No pseudo-label batches yet: create the demo batch, or a batch of your own faces below (on the command "
        f"line: `fer-core pseudo-label RUN_FOLDER --pool FOLDER_OR_MANIFEST --batch NAME`; store: `{store.url}`)."
    )

if views.create_panel_open(batches.empty):
    with st.container(border=True):
        demo = DEMO_BATCH not in set(batches["name"]) and views.demo_offer(batches.empty)
        request = views.new_batch_form(res.classifier_runs(), st.session_state[keys.MODEL], list(batches["name"]))
        if demo or request:
            bar = st.progress(0.0, text="Pseudo-labelling…")
            progress = lambda d, t: bar.progress(d / max(t, 1), text=f"Pseudo-labelling: {d} of {t} images")
            with user_errors("The demo batch" if demo else request.name):
                views.select_new_batch(
                    res.create_demo_review_batch(progress) if demo else res.create_review_batch(request, progress)
                )
            bar.empty()
if batches.empty:
    st.stop()
views.show_new_batch()

reviewer = confirmed_reviewer()
queue = queue_filters(reviewer, list(batches["name"]), lambda batch: res.batch_labels(store.url, batch))
p = store.progress(queue.batch)
needs = f" (each needs {p.reviews_per_item} reviews)" if p.reviews_per_item > 1 else ""
st.progress(
    min(1.0, p.num_reviews / max(1, p.num_needed)),
    text=f"{p.num_done} of {p.num_items} faces done{needs} · {p.num_reviews} of {p.num_needed} decisions made · "
    f"{p.per_minute:.1f} per minute",
)
if not reviewer:
    st.info("Type your name and press **Start reviewing** (or Enter): every decision is recorded under it.")
    st.stop()

with user_errors("review"):
    item = store.claim_next(
        queue.batch, queue.reviewer, label=queue.classes or None, band=queue.band, below_threshold=queue.below_threshold
    )
    if item is None:
        st.success("Nothing left in this queue for you with these filters.")
    else:
        face = res.review_face(
            item.path, res.batch_run(batches, queue.batch), res.batch_run_path(store.url, queue.batch), item.label
        )
        decision = review_item(item, face, queue.labels)
        if decision is not None:
            store.decide(item.id, queue.reviewer, decision[0], new_label=decision[1])
            st.rerun()
    if st.button("Undo my last decision", shortcut="u"):
        undone = store.undo_last(queue.batch, queue.reviewer)
        st.toast("Undone: that face is back with you." if undone else "Nothing to undo.")
        st.rerun()

with st.expander("Annotators and agreement", expanded=False):
    annotators_panel(p.by_reviewer, store.agreement(queue.batch), queue.batch)
