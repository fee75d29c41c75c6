"""Occlusion: hide the eyes, mouth, brows, nose ... and see how every class's probability moves."""

from __future__ import annotations

import streamlit as st

from dashboard import _resources as res
from dashboard import _state as keys
from dashboard.components.errors import user_errors
from dashboard.components.figures import occlusion_chart
from dashboard.components.inputs import page_header
from dashboard.components.text import face_note, md, signed_percent
from dashboard.components.trust import domain_notice
from fer_core.explain import FILLS, fill_region
from fer_core.taxonomy import ALL_REGIONS

inputs, right = page_header(
    "Occlusion test",
    "Each region is replaced by the fill; bars show how each class's probability changes.",
    keys.OCCLUSION_INPUTS,
)
with right:
    regions = keys.persistent(
        st.multiselect,
        "Regions to hide",
        ALL_REGIONS,
        keys.REGIONS,
        help="The face's parts, and finer ones inside them: each lip, the mouth corners, the inner and outer brows, "
        "each cheek, the chin. 'Left' and 'right' are as seen in the photo ('left_eye' is the eye on the photo's "
        "left). The sidebar's landmarks "
        "decide their outlines: the mesh follows the face's own, 5 points place template shapes.",
    )
    fill = keys.persistent(st.selectbox, "Fill", FILLS, keys.FILL, help="mean colour of the face, blur, noise or black")
    landmarker = res.landmarker_choice()
    st.caption(f"Regions from the **{res.LANDMARKER_NAMES[landmarker]}** (sidebar: Face landmarks).")

if not regions:
    st.info("Choose at least one region.")
    st.stop()
for item in inputs:
    with user_errors(item.name):
        model_name = st.session_state[keys.MODEL]
        results = res.occlude(item.sha, item.data, model_name, tuple(regions), fill)  # may raise
        st.subheader(md(item.name))
        domain_notice(model_name, item)
        for i, result in enumerate(results):
            pred, face, change = result.pred, result.face, result.change()
            st.markdown(f"#### Face {i + 1}: **{md(pred)}** {result.base[pred]:.0%} intact{face_note(face)}")
            cols = st.columns(len(regions) + 1)
            cols[0].image(face.crop, caption="intact", width="stretch")
            for col, region in zip(cols[1:], regions):
                col.image(
                    fill_region(face.crop, face.regions[region], fill),
                    width="stretch",
                    caption=f"no {region}: {pred} {result.occluded.at[region, pred]:.0%} "
                    f"({signed_percent(change[region])})",
                )
            occlusion_chart(result, key=f"{keys.OCCLUSION_CHART}_{item.key}_{i}")
if not inputs:
    st.info("Pick a bundled sample or upload a photo to start.")
