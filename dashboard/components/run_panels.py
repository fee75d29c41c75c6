"""Widgets of the Runs page: the form that starts a recipe, the table of runs, the run picker, one run's status with
its Stop / Resume buttons, and its training curves."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pandas as pd
import plotly.express as px
import streamlit as st

from fer_core.runs import ACTIVE_STATES, RunFolder, config_recipe, resume_run, stop_run

from .. import _state as keys
from .errors import user_errors
from .text import md

SCORE_SUFFIXES = ("acc", "f1")  # a metric named so is a score in [0, 1] (accuracy, F1), not a loss


def is_score(column: str) -> bool:
    """Whether a logged metric is a score in [0, 1] (``val/acc``, ``val/au_f1``, ``train/id_acc``): drawn on the
    scores chart in percent, never among the losses (an AU run's F1 on a loss axis read as 400 %)."""
    return column.rsplit("/", 1)[-1].endswith(SCORE_SUFFIXES)


def launch_form(
    configs: dict[str, Path], recipes: Sequence[str], on_start: Callable[[str, Path, int, str], None]
) -> None:
    """Config, recipe (the config's own by default), epochs and run name; ``on_start(recipe, config, epochs, name)``
    runs inside the form when the user presses Start. The config is picked outside the form, so choosing one
    re-fills the recipe and the run name from it at once (a form would show the previous config's until Start)."""
    config_name = st.selectbox(
        "Config", list(configs), key=keys.RUN_CONFIG, help="shipped configs; the CLI takes any YAML file"
    )
    with st.form(keys.RUN_LAUNCH_FORM):
        c1, c2 = st.columns(2)
        default = list(recipes).index(config_recipe(configs[config_name])) if config_name else 0
        # keyed by the config: another config starts from its own recipe and name, not the last one typed
        recipe = c1.selectbox("Recipe", recipes, index=default, key=f"{keys.RUN_RECIPE}_{config_name}")
        epochs = c2.number_input("Epochs", min_value=1, max_value=500, value=12)
        name = st.text_input(
            "Run name",
            value=f"{Path(config_name).stem}-{time.strftime('%m%d-%H%M')}" if config_name else "",
            key=f"{keys.RUN_NAME}_{config_name}",
        )
        if st.form_submit_button("Start", type="primary"):
            on_start(recipe, configs[config_name], int(epochs), name)


def runs_dataframe(table: pd.DataFrame) -> None:
    """The table of runs (``fer_core.runs.runs_table``). A figure a run does not have (an AU run's accuracy) is an
    empty cell: Streamlit would write "None" in it."""
    shown = table.copy()
    for col in ("test accuracy", "test macro-F1"):
        shown[col] = [f"{v:.3f}" if pd.notna(v) else "" for v in table[col]]
    st.dataframe(shown.astype(object).where(shown.notna(), ""), hide_index=True, width="stretch")


def run_picker(folders: list[str]) -> str:
    """A select box of the runs (by name); the choice survives page switches and follows a newly started run."""
    labels = {Path(f).name: f for f in folders}
    if st.session_state.get(keys.RUN) not in folders:
        st.session_state[keys.RUN] = folders[0]
    if st.session_state.get(keys.RUN_PICK) not in labels:
        st.session_state[keys.RUN_PICK] = Path(st.session_state[keys.RUN]).name
    chosen = st.selectbox("Run", list(labels), key=keys.RUN_PICK)
    st.session_state[keys.RUN] = labels[chosen]
    return labels[chosen]


def run_controls(run: RunFolder) -> bool:
    """The run's status line, Stop while it is active, Resume when it stopped or failed with a checkpoint to resume
    from; returns whether the run is active."""
    s = run.status
    state = s.get("status", "?")
    cols = st.columns([3, 1, 1])
    with cols[0]:
        status_line(s)
    with cols[1]:
        if state in ACTIVE_STATES and st.button("Stop", icon=":material/stop:", key=keys.RUN_STOP):
            stop_run(run.folder)
    with cols[2]:
        resumable = state in ("stopped", "failed") and run.has(RunFolder.LAST_CHECKPOINT)
        if resumable and st.button("Resume", icon=":material/replay:", key=keys.RUN_RESUME):
            with user_errors(run.name):
                resume_run(run.folder)
    return state in ACTIVE_STATES


def status_line(status: dict) -> None:
    """An active run's progress bar (epoch and step), otherwise its status with what to do next."""
    state = status.get("status", "?")
    total, step = status.get("total_steps") or 0, status.get("step") or 0
    if state in ACTIVE_STATES and total:
        st.progress(
            min(step / total, 1.0),
            text=f"{state}: epoch {status.get('epoch', 0) + 1}/{status.get('epochs')}, step {step}/{total}",
        )
    else:
        note = {
            "stopped": " · Resume continues from the end of the last finished epoch.",
            "failed": f" · {status.get('error', '')}",
        }.get(state, "")
        st.markdown(f"Status: **{md(status.get('status_text', state))}**{md(note)}")


def _lines(curves: pd.DataFrame, columns: list[str], title: str, y_label: str, key: str, **layout) -> None:
    fig = px.line(curves, x="epoch", y=columns, markers=True, height=300, labels={"value": y_label})
    fig.update_layout(margin=dict(l=0, r=0, t=30, b=0), legend_title=None, title=title, **layout)
    st.plotly_chart(fig, width="stretch", key=key)


def training_curves(run: RunFolder, active: bool) -> None:
    """Loss curves (every ``train/`` metric but accuracy, and ``val/loss``) beside the accuracy curves; before the
    first logged epoch, the tail of an active run's log."""
    curves = run.epoch_metrics()
    if curves.empty:
        st.caption("No metrics logged yet.")
        if active:
            st.code(run.log_tail(8) or "starting…")
        return
    left, right = st.columns(2)
    metrics = [c for c in curves.columns if c.startswith(("train/", "val/"))]
    loss_cols = [c for c in metrics if not is_score(c) and (c.startswith("train/") or c == "val/loss")]
    with left:
        _lines(curves, loss_cols, "losses", "loss", keys.RUN_LOSS_CHART)
    with right:
        score_cols = [c for c in metrics if is_score(c)]
        _lines(
            curves,
            score_cols,
            "scores",
            "accuracy / F1",
            keys.RUN_ACC_CHART,
            yaxis=dict(tickformat=".0%", range=[0, 1]),
        )
