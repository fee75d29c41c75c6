"""Explain: upload or pick a photo; every face gets its class probabilities and one heatmap per class."""

from __future__ import annotations

import streamlit as st

from dashboard import _resources as res
from dashboard import _state as keys
from dashboard.components.errors import user_errors
from dashboard.components.figures import heatmap_grid, photo_with_boxes, probability_chart
from dashboard.components.inputs import page_header
from dashboard.components.study_charts import faithfulness_panel
from dashboard.components.text import md
from fer_core.explain import METHODS

inputs, right = page_header(
    "Explain a prediction",
    "Red areas raise the class score, blue areas lower it. All classes come from one batched pass.",
    keys.EXPLAIN_INPUTS,
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

for item in inputs:
    with user_errors(item.name):
        results = res.explain(item.sha, item.data, st.session_state[keys.MODEL], method)
        st.subheader(md(item.name))
        photo_slot = st.empty()  # filled last: Streamlit streams elements, so the heatmaps reach the screen first
        for i, r in enumerate(results):
            note = " · used as an aligned crop (no detection needed)" if r.face.used_as_crop else ""
            st.markdown(f"#### Face {i + 1}: **{md(r.pred)}** ({r.probs.max():.0%}){note}")
            c1, c2 = st.columns([1, 2])
            with c2:
                heatmap_grid(r, shared)
            with c1:
                st.image(r.face.crop, caption="aligned input", width=160)
                probability_chart(r.labels, r.probs, key=f"{keys.PROBS}_{item.key}_{i}")
                share = r.region_share()
                st.caption(f"Where the evidence for **{md(r.pred)}** lies (share of positive relevance)")
                st.dataframe(
                    {"region": list(share), "share": [f"{v:.0%}" for v in share.values()]},
                    hide_index=True,
                    width="stretch",
                )
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
