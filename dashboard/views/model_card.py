"""Model card: what the selected weights are for and not for, what they were trained and measured on, their
caveats, and the technical details (input preparation, labels, origin, licence)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard import _resources as res
from dashboard import _state as keys
from dashboard.components.model_views import OUTPUT_NAMES
from dashboard.components.text import md
from fer_core import models as api
from fer_core.models import DOMAIN_NAMES, FIGURE_NAMES, documented, group_rows


def code(text: str) -> str:
    """``text`` as inline code in a table cell: shown as typed, never a link (a URL in plain markdown would be)."""
    clean = text.replace("`", "").replace("|", "\\|")  # a pipe would end the table cell
    return f"`{clean}`" if clean else ""


def section(title: str, text: str, missing: str) -> None:
    st.subheader(title)
    if text:
        st.markdown(md(text))
    else:
        st.caption(missing)


def figure(name: str, value: float) -> str:
    return f"{int(value):,}" if name == "n" else f"{value:.3f}"


loaded = res.load_model(st.session_state[keys.MODEL])
run = loaded.card.extra.get("run")
folder = next((f for f in res.run_folders() if run and Path(f).name == run), None)  # a run's figures live beside it
card = documented(loaded.card, res.evaluation(folder) if folder else None)
st.title(f"Model card: {md(loaded.name)}")
st.caption(f"Trained on **{DOMAIN_NAMES[card.domain]}**.")
section("Intended use", card.intended_use, "The card does not say what the model is meant for.")
section("Out-of-scope uses", card.out_of_scope, "The card names no uses to avoid.")
st.subheader("Training data")
st.markdown(f"Kind of images: **{DOMAIN_NAMES[card.domain]}**.")
if card.training_data:
    st.code(card.training_data, language=None, wrap_lines=True)
st.subheader("Evaluation data and figures")
perf = card.performance
if perf.get("overall"):
    st.markdown(f"**Evaluation data:** {md(perf.get('data') or 'not named on the card')}.")
    cols = st.columns(len(perf["overall"]))
    for col, (name, value) in zip(cols, perf["overall"].items()):
        col.metric(FIGURE_NAMES.get(name, name), figure(name, value))
else:
    st.caption("No measured figures: evaluate it on labelled faces (`fer-core evaluate`, the Fairness page).")
if rows := group_rows(perf):
    st.subheader("Per-group figures")
    scores = {k for row in rows for k in row} - {"attribute", "group", "faces"}
    st.dataframe(
        rows,
        hide_index=True,
        width="stretch",
        column_config={k: st.column_config.NumberColumn(format="%.3f") for k in scores},
    )
st.subheader("Caveats and limitations")
if card.limitations:
    st.markdown(md(card.limitations))
elif not (loaded.note or card.notes):
    st.caption("The card states no limitations; that does not mean it has none.")
if loaded.note:
    st.info(md(loaded.note), icon=":material/info:")
if card.notes:
    st.info(md(card.notes))
st.subheader("Model details")
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
| trained on | {DOMAIN_NAMES[card.domain]} |
| origin | {md(card.origin)} |
| source | {code(card.source)} |
| licence | {md(card.licence)} |
| SHA-256 | {code(card.sha256)} |
""")
st.caption(f"{api.count_parameters(loaded.model):,} parameters")
