"""Explain: upload or pick a photo; every face gets its class probabilities and one heatmap per class."""

from __future__ import annotations

import streamlit as st

from dashboard import _atlas as atl
from dashboard import _resources as res
from dashboard import _state as keys
from dashboard.components.concept_views import concept_grid
from dashboard.components.errors import user_errors
from dashboard.components.figures import heatmap_grid, photo_with_boxes, probability_chart
from dashboard.components.inputs import page_header
from dashboard.components.study_charts import faithfulness_panel
from dashboard.components.text import face_note, md
from dashboard.components.trust import domain_notice
from fer_core.explain import METHODS

inputs, right = page_header(
    "Explain a prediction",
    "Red areas raise the class score, blue areas lower it. All classes come from one batched pass.",
    keys.EXPLAIN_INPUTS,
    camera=True,
)
support = res.method_support(st.session_state[keys.MODEL])
with right:
    usable = [m for m, why in support.items() if not why]
    method = keys.persistent(st.selectbox, "Method", usable, keys.METHOD, format_func=METHODS.get)
    if len(usable) < len(support):
        with st.expander(f"{len(support) - len(usable)} method(s) do not apply to this model"):
            if note := res.load_model(st.session_state[keys.MODEL]).note:
                st.caption(md(note))
            for m, why in support.items():
                if why:
                    st.caption(f"**{METHODS[m]}**: {md(why)}")
    shared = st.toggle("One colour scale for all classes", value=True, help="Off: each map uses its own scale.")
    layers = atl.concept_layers(st.session_state[keys.MODEL])
    show_concepts = bool(layers) and st.toggle(
        "Concepts (CRP)",
        key=keys.CONCEPTS_ON,
        help="Per face, the channels of one layer that carry the predicted class, each with where it acts on the "
        "face, and the faces of a test set where it is strongest. Needs LRP on a CNN.",
    )
    if show_concepts:
        names = [la.name for la in layers]
        layer = st.selectbox(
            "Concept layer",
            names,
            index=len(names) - 1,
            key=f"{keys.CONCEPT_LAYER}_{st.session_state[keys.MODEL]}",
            format_func=lambda n: next(
                f"{la.name} ({la.kind}, {la.channels} channels)" for la in layers if la.name == n
            ),
            help="Deeper layers hold more abstract features; the last one is the default.",
        )
        sets = atl.reference_sets()
        ref_set = st.selectbox(
            "Reference faces from",
            ["(none)", *sets],
            key=keys.CONCEPT_REFS,
            help="A run's test set, seen by the sidebar model: per concept, the faces where it is strongest.",
        )


def concepts_view(item, i: int) -> None:
    """The face's top concepts (and, on request, their reference faces from the chosen test set)."""
    model_name = st.session_state[keys.MODEL]
    found = atl.face_concepts(item.sha, item.data, model_name, layer, 8)[i]
    refs = None
    if ref_set != "(none)":
        folder, concepts = atl.reference_sets()[ref_set], tuple(found.concepts.concepts)
        if atl.has_face_references(folder, model_name, found.label, concepts) or st.button(
            f"Find reference faces in {ref_set}", key=f"{keys.CONCEPT_FIND}_{item.key}_{i}"
        ):
            bar = st.progress(0.0, text="Explaining the test set…")
            refs = atl.face_references(
                folder,
                model_name,
                found.label,
                concepts,
                progress=lambda done, total: bar.progress(done / max(1, total), text=f"Test set… {done}/{total}"),
            )
            bar.empty()
    concept_grid(found, refs)


def heatmaps(item, model_name: str):
    """The image's results; a slow method says how long it will take, then shows a progress bar."""
    pending = res.explain_estimate(item.sha, item.data, model_name, method)
    if pending is None:
        return res.explain(item.sha, item.data, model_name, method)
    n, seconds = pending
    about = f"{METHODS[method]} on {n} face(s): about {seconds:.0f} s" if seconds >= 1 else f"{METHODS[method]}"
    bar = st.progress(0.0, text=f"{about}…")
    results = res.explain(
        item.sha,
        item.data,
        model_name,
        method,
        progress=lambda done, total: bar.progress(min(1.0, done / max(1, total)), text=f"{about} · {done}/{total}"),
    )
    bar.empty()
    return results


for item in inputs:
    with user_errors(item.name):
        results = heatmaps(item, st.session_state[keys.MODEL])
        st.subheader(md(item.name))
        domain_notice(st.session_state[keys.MODEL], item)
        photo_slot = st.empty()  # filled last: Streamlit streams elements, so the heatmaps reach the screen first
        for i, r in enumerate(results):
            st.markdown(f"#### Face {i + 1}: **{md(r.pred)}** ({r.probs.max():.0%}){face_note(r.face)}")
            if r.unstable():
                st.warning(
                    f"**{md(METHODS[method])}** is numerically unstable on this model: the red and blue parts of "
                    f"the {md(r.pred)} map are {r.cancellation():,.0f} times its net relevance and cancel, so the "
                    "map shows noise, not evidence. Use LRP (the default) for this model.",
                    icon=":material/warning:",
                )
            c1, c2 = st.columns([1, 2])
            with c2:
                heatmap_grid(r, shared)
            with c1:
                st.image(r.face.crop, caption="aligned input", width=160)
                probability_chart(r.labels, r.probs, key=f"{keys.PROBS}_{item.key}_{i}")
                if r.mostly_negative():
                    st.caption(
                        f"The **{md(r.pred)}** map is almost all blue: only {r.positive_fraction():.0%} of its "
                        "relevance speaks for the class, so no region holds its evidence. The model chose it as "
                        "the least unlikely class, not for something it saw."
                    )
                else:
                    share = r.region_share()
                    st.caption(
                        f"Where the evidence for **{md(r.pred)}** lies (share of positive relevance)",
                        help="Of the red (positive) relevance of the predicted class's map, the share inside "
                        "each face region. Regions overlap (the eyes are inside the upper face), so shares need "
                        "not sum to 100 %.",
                    )
                    st.dataframe(
                        {"region": list(share), "share": [f"{v:.0%}" for v in share.values()]},
                        hide_index=True,
                        width="stretch",
                    )
            if show_concepts:
                with c2, user_errors("concepts"):
                    concepts_view(item, i)
            with c2:
                faithfulness_panel(
                    res.faithfulness(item.sha, item.data, st.session_state[keys.MODEL], method, i),
                    key=f"{keys.FAITHFULNESS}_{item.key}_{i}_{method}",
                )
        image = res.decode(item.sha, item.data)
        photo_slot.image(
            photo_with_boxes(image, [r.face.box for r in results]),
            output_format="JPEG",
            caption=f"{len(results)} face(s) found",
            width=min(720, image.shape[1]),
        )
if not inputs:
    st.info("Pick a bundled sample or upload a photo to start.")
