"""Training runs in background processes (the dashboard's Runs page): start, resume, stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from ..errors import FerCoreError
from .folder import RunFolder, open_run, write_status
from .locations import default_runs_dir
from .status import ACTIVE_STATES, pid_alive, process_identity

__all__ = ["default_run_name", "launch_run", "resume_run", "stop_run"]


def default_run_name(recipe: str) -> str:
    return f"{recipe}-{time.strftime('%Y%m%d-%H%M%S')}"


def launch_run(
    recipe: str,
    config: str | Path | None = None,
    overrides: Sequence[str] = (),
    name: str | None = None,
    out_dir: str | Path | None = None,
) -> Path:
    """Start ``fer-core train`` in a background process (it survives the caller) and return the run folder.

    Output goes to the run's ``train.log``; progress is in ``run.json`` as for any run. Stop it with
    :func:`stop_run`.
    """
    name = name or default_run_name(recipe)
    out = Path(out_dir or default_runs_dir())
    folder = out / name
    if folder.exists() and any(folder.iterdir()):
        raise FerCoreError(f"run folder {folder} exists; pick another name")
    folder.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "fer_core.cli", "train", recipe, "--quiet", "--out", str(out), "--name", name]
    cmd += ["--config", str(config)] if config else []
    for item in overrides:
        cmd += ["--set", item]
    write_status(folder, recipe=recipe, name=name, status="starting", started=time.time())
    write_status(folder, **process_identity(_spawn(cmd, folder)))
    return folder


def resume_run(folder: str | Path) -> Path:
    """Continue a stopped run in a background process, from its last checkpoint."""
    run = open_run(folder)
    if run.status.get("status") in (*ACTIVE_STATES, "finished"):
        raise FerCoreError(f"run {run.name} is {run.status.get('status')}; only a stopped or failed run resumes")
    run.write_status(status="starting")
    pid = _spawn([sys.executable, "-m", "fer_core.cli", "train", "--quiet", "--resume", str(run.folder)], run.folder)
    run.write_status(**process_identity(pid))
    return run.folder


def _spawn(cmd: list[str], folder: Path) -> int:
    """Start ``cmd`` in its own session, logging to the run folder; returns its pid."""
    root = Path(__file__).resolve().parents[2]
    env = os.environ | {"PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}
    with (folder / RunFolder.LOG).open("a", encoding="utf-8") as log:
        return subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True
        ).pid


def stop_run(folder: str | Path) -> bool:
    """Ask a running training process to stop (SIGTERM: Lightning finishes the step and marks the run stopped;
    it can be resumed). Returns False if it was not running."""
    status = open_run(folder).status
    pid = status.get("pid")
    if status.get("status") not in ACTIVE_STATES or not pid or not pid_alive(pid):
        return False
    os.kill(int(pid), signal.SIGTERM)
    return True
