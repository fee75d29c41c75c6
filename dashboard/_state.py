"""Session-state keys in one place; small values only (names, choices), never tensors or models."""
from __future__ import annotations

import streamlit as st

from fer_core.models import DEFAULT_MODEL

MODEL = "model_name"
METHOD = "method"
SAMPLE = "sample"
REGIONS = "regions"
FILL = "fill"
FAIR_RUNS = "fair_runs"
FAIR_ATTRIBUTE = "fair_attribute"
FAIR_GROUP = "fair_group"
RUN = "run"

DEFAULTS = {MODEL: DEFAULT_MODEL, METHOD: "lrp", SAMPLE: None, REGIONS: ["eyes", "mouth", "brows", "nose"],
            FILL: "mean", FAIR_RUNS: [], FAIR_ATTRIBUTE: None, FAIR_GROUP: None, RUN: None}


def init_state() -> None:
    for key, value in DEFAULTS.items():
        st.session_state.setdefault(key, value)


def _copy(widget_key: str, state_key: str) -> None:
    st.session_state[state_key] = st.session_state[widget_key]


def persistent(widget, label: str, options, state_key: str, **kwargs):
    """Draw ``widget`` (st.selectbox / st.multiselect) whose choice survives page switches.

    Streamlit drops a widget's key when a page without it runs, so the choice lives under ``state_key`` and
    the widget under its own key, synchronised by a callback.
    """
    widget_key = f"_w_{state_key}"
    current = st.session_state[state_key]
    if widget is st.multiselect:
        kwargs["default"] = [c for c in current if c in options]
    else:
        kwargs["index"] = list(options).index(current) if current in options else 0
    return widget(label, options, key=widget_key, on_change=_copy, args=(widget_key, state_key), **kwargs)
