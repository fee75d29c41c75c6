"""Runs: every training run with its status, curves and config; start a recipe in the background, stop, resume."""
from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import plotly.express as px
import streamlit as st
import yaml

from dashboard import _resources as res
from dashboard import _state as keys
from dashboard.components.errors import user_errors
from dashboard.components.text import md
from fer_core.train.recipes import RECIPE_NAMES
from fer_core.runs import (RunFolder, SHIPPED_CONFIGS_DIR, default_runs_dir, launch_run, open_run,
                           resume_run, stop_run)

ACTIVE = ("starting", "preparing", "running")

st.title("Runs")
st.caption(f"Run folders under `{default_runs_dir()}` (set FER_CORE_RUNS to change) and the embedded demo runs.")


def _row(folder: str) -> dict:
    run = open_run(folder)
    s = run.status
    test = s.get("test") or {}
    return {"run": run.name, "recipe": s.get("recipe"), "status": s.get("status_text"),
            "epoch": f"{min(s.get('epoch', 0) + 1, s.get('epochs') or 0)}/{s.get('epochs', '?')}" if s.get("epochs")
            else "", "test accuracy": test.get("accuracy"), "test macro-F1": test.get("macro_f1"),
            "other test figures": ", ".join(f"{k.replace('_', ' ')} {v:.3g}" if isinstance(v, float) else f"{k} {v}"
                                            for k, v in test.items() if k not in ("accuracy", "macro_f1")),
            "started": pd.to_datetime(s.get("started", 0), unit="s").strftime("%Y-%m-%d %H:%M")}


with st.expander("Start a training run", expanded=False, icon=":material/play_arrow:"):
    configs = {p.name: p for p in sorted(SHIPPED_CONFIGS_DIR.glob("*.yaml"))}
    with st.form("launch"):
        c1, c2 = st.columns(2)
        config_name = c1.selectbox("Config", list(configs), help="shipped configs; the CLI takes any YAML file")
        recipe = c2.selectbox("Recipe", RECIPE_NAMES,
                              index=RECIPE_NAMES.index(
                                  (yaml.safe_load(configs[config_name].read_text()) or {}).get("recipe", "supervised"))
                              if config_name else 0)
        c3, c4 = st.columns(2)
        epochs = c3.number_input("Epochs", min_value=1, max_value=500, value=12)
        name = c4.text_input("Run name", value=f"{Path(config_name).stem}-{time.strftime('%m%d-%H%M')}"
                             if config_name else "")
        if st.form_submit_button("Start", type="primary"):
            with user_errors("training run"):
                folder = launch_run(recipe, configs[config_name], [f"optim.epochs={int(epochs)}"], name or None)
                st.session_state[keys.RUN] = str(folder)
                st.session_state["run_pick"] = Path(folder).name  # follow the new run
                res.run_folders.clear()
                st.success(f"Started {md(Path(folder).name)}; it trains in the background.")

folders = res.run_folders()
if not folders:
    st.info("No runs yet: start one above or with `fer-core train RECIPE --config FILE.yaml`.")
    st.stop()


@st.fragment(run_every=3.0)
def runs_table() -> None:
    """All runs; re-drawn every 3 s so a started run shows up and its status moves."""
    st.dataframe(pd.DataFrame([_row(f) for f in res.run_folders()]), hide_index=True, width="stretch",
                 column_config={"test accuracy": st.column_config.NumberColumn(format="%.3f"),
                                "test macro-F1": st.column_config.NumberColumn(format="%.3f")})


runs_table()

labels = {Path(f).name: f for f in folders}
if st.session_state.get(keys.RUN) not in folders:
    st.session_state[keys.RUN] = folders[0]
if st.session_state.get("run_pick") not in labels:
    st.session_state["run_pick"] = Path(st.session_state[keys.RUN]).name
chosen = st.selectbox("Run", list(labels), key="run_pick")
st.session_state[keys.RUN] = labels[chosen]
folder = labels[chosen]


@st.fragment(run_every=2.0)
def live_status() -> None:
    """Re-drawn every 2 s: a running run's progress bar and curves move without reloading the page."""
    run = open_run(folder)
    s = run.status
    state = s.get("status", "?")
    cols = st.columns([3, 1, 1])
    total, step = s.get("total_steps") or 0, s.get("step") or 0
    with cols[0]:
        if state in ACTIVE and total:
            st.progress(min(step / total, 1.0), text=f"{state}: epoch {s.get('epoch', 0) + 1}/{s.get('epochs')}, "
                                                     f"step {step}/{total}")
        else:
            note = {"stopped": " · Resume continues from the end of the last finished epoch.",
                    "failed": f" · {s.get('error', '')}"}.get(state, "")
            st.markdown(f"Status: **{md(s.get('status_text', state))}**{md(note)}")
    with cols[1]:
        if state in ACTIVE and st.button("Stop", icon=":material/stop:", key="stop"):
            stop_run(folder)
    with cols[2]:
        if state in ("stopped", "failed") and run.has(RunFolder.LAST_CHECKPOINT) and \
                st.button("Resume", icon=":material/replay:", key="resume"):
            with user_errors(chosen):
                resume_run(folder)
    curves = run.epoch_metrics()
    if curves.empty:
        st.caption("No metrics logged yet.")
        if state in ACTIVE:
            st.code(open_run(folder).log_tail(8) or "starting…")
        return
    left, right = st.columns(2)
    loss_cols = [c for c in curves.columns if c.startswith("train/") and c != "train/acc"] + \
        [c for c in ("val/loss",) if c in curves]
    acc_cols = [c for c in ("train/acc", "val/acc", "val/macro_f1", "val/worst_group_acc") if c in curves]
    with left:
        fig = px.line(curves, x="epoch", y=loss_cols, markers=True, height=300, labels={"value": "loss"})
        fig.update_layout(margin=dict(l=0, r=0, t=30, b=0), legend_title=None, title="losses")
        st.plotly_chart(fig, width="stretch", key="loss")
    with right:
        fig = px.line(curves, x="epoch", y=acc_cols, markers=True, height=300, labels={"value": "accuracy"})
        fig.update_layout(margin=dict(l=0, r=0, t=30, b=0), legend_title=None, title="accuracy",
                          yaxis=dict(tickformat=".0%"))
        st.plotly_chart(fig, width="stretch", key="acc")


live_status()
run = open_run(folder)
with st.expander("Config", icon=":material/settings:"):
    st.code(yaml.safe_dump(run.config, sort_keys=False), language="yaml")
if run.has(RunFolder.LOG):
    with st.expander("Log (last lines)", icon=":material/terminal:"):
        st.code(open_run(folder).log_tail(30))
