"""Model card: what the selected weights are, how inputs are prepared, and their licence."""

from __future__ import annotations

import streamlit as st

from dashboard import _resources as res
from dashboard import _state as keys
from dashboard.components.text import md

loaded = res.load_model(st.session_state[keys.MODEL])
card = loaded.card
st.title(f"Model card: {md(loaded.name)}")
mean, std = (", ".join(f"{v:g}" for v in vals) for vals in (card.mean, card.std))
st.markdown(f"""
| field | value |
|---|---|
| architecture | `{card.arch}` |
| input | {card.input_size[1]} x {card.input_size[0]} px, {"grey" if card.in_chans == 1 else "RGB"} |
| normalisation | (pixel / 255 - {mean}) / {std} per channel |
| labels (output order) | {md(", ".join(card.label_names))} |
| alignment template | `{card.template}` |
| training data | {md(card.training_data)} |
| origin | {md(card.origin)} |
| licence | {md(card.licence)} |
""")
if card.notes:
    st.info(md(card.notes))
st.caption(f"{sum(p.numel() for p in loaded.model.parameters()):,} parameters")
