"""Runs: every training run with its status, curves and config; start a recipe in the background, stop, resume."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard import _resources as res
from dashboard import _state as keys
from dashboard.components.errors import user_errors
from dashboard.components.run_panels import launch_form, run_controls, run_picker, runs_dataframe, training_curves
from dashboard.components.text import md
from fer_core.runs import RunFolder, config_yaml, default_runs_dir, launch_run, open_run, runs_table, shipped_configs
from fer_core.train import RECIPE_NAMES

st.title("Runs")
st.caption(f"Run folders under `{default_runs_dir()}` (set FER_CORE_RUNS to change) and the embedded demo runs.")


def start(recipe: str, config: Path, epochs: int, name: str) -> None:
    with user_errors("training run"):
        folder = launch_run(recipe, config, [f"optim.epochs={epochs}"], name or None)
        st.session_state[keys.RUN] = str(folder)
        st.session_state[keys.RUN_PICK] = Path(folder).name  # follow the new run
        res.run_folders.clear()
        st.success(f"Started {md(Path(folder).name)}; it trains in the background.")


with st.expander("Start a training run", expanded=False, icon=":material/play_arrow:"):
    launch_form(shipped_configs(), RECIPE_NAMES, start)

folders = res.run_folders()
if not folders:
    st.info("No runs yet: start one above or with `fer-core train RECIPE --config FILE.yaml`.")
    st.stop()


@st.fragment(run_every=3.0)
def all_runs() -> None:
    """All runs; re-drawn every 3 s so a started run shows up and its status moves."""
    runs_dataframe(runs_table(res.run_folders()))


all_runs()

folder = run_picker(folders)


@st.fragment(run_every=2.0)
def live_status() -> None:
    """Re-drawn every 2 s: a running run's progress bar and curves move without reloading the page."""
    run = open_run(folder)
    active = run_controls(run)
    training_curves(run, active=active)


live_status()
run = open_run(folder)
with st.expander("Config", icon=":material/settings:"):
    st.code(config_yaml(run), language="yaml")
if run.has(RunFolder.LOG):
    with st.expander("Log (last lines)", icon=":material/terminal:"):
        st.code(run.log_tail(30))
