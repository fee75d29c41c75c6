"""Model card: what the selected weights are, where they come from, how inputs are prepared, and their licence."""

from __future__ import annotations

import streamlit as st

from dashboard import _resources as res
from dashboard import _state as keys
from dashboard.components.model_views import OUTPUT_NAMES
from dashboard.components.text import md
from fer_core import models as api


def code(text: str) -> str:
    """``text`` as inline code in a table cell: shown as typed, never a link (a URL in plain markdown would be)."""
    clean = text.replace("`", "").replace("|", "\\|")  # a pipe would end the table cell
    return f"`{clean}`" if clean else ""


loaded = res.load_model(st.session_state[keys.MODEL])
card = loaded.card
st.title(f"Model card: {md(loaded.name)}")
mean, std = (", ".join(f"{v:g}" for v in vals) for vals in (card.mean, card.std))
margin = f" + {card.margin:.0%} margin each side" if card.margin else ""
st.markdown(f"""
| field | value |
|---|---|
| architecture | `{card.arch}` |
| stored as | `{card.format}`, runs in {loaded.runtime} on `{loaded.device}` |
| input | {card.input_size[1]} x {card.input_size[0]} px, {"grey" if card.in_chans == 1 else "RGB"} |
| normalisation | (pixel / 255 - {mean}) / {std} per channel |
| labels (output order) | {md(", ".join(card.label_names))} |
| outputs | {OUTPUT_NAMES.get(card.output, md(card.output))} |
| alignment template | `{card.template}`{margin} |
| training data | {md(card.training_data)} |
| origin | {md(card.origin)} |
| source | {code(card.source)} |
| licence | {md(card.licence)} |
| SHA-256 | {code(card.sha256)} |
""")
if loaded.note:
    st.info(md(loaded.note), icon=":material/info:")
if card.notes:
    st.info(md(card.notes))
st.caption(f"{api.count_parameters(loaded.model):,} parameters")
