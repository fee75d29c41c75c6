"""Run folders: what a training run leaves behind, and the read side the CLI, evaluation and dashboard use.

A run folder holds ``config.yaml`` (resolved), ``run.json`` (status and progress, rewritten atomically),
``metrics.csv`` (one row per logged step/epoch), ``tb/`` (TensorBoard events), ``checkpoints/last.ckpt`` (resumable
trainer state, loaded with ``weights_only=True``), ``model.safetensors`` (best weights with their model card),
``splits.csv``, ``test_predictions.csv`` (probabilities per test image), ``test_embeddings.npy`` and
``evaluation.json``. This module reads them without importing Lightning, so the dashboard stays light.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .errors import FerCoreError
from .models import LoadedModel, load_checkpoint

__all__ = ["RunInfo", "RunNotFoundError", "list_runs", "open_run", "write_status", "read_status", "is_run_dir",
           "default_runs_dir", "EMBEDDED_RUNS_DIR", "register_run_models", "run_model_name", "misclassified",
           "launch_run", "resume_run", "stop_run", "log_tail", "SHIPPED_CONFIGS_DIR", "slim_for_sharing",
           "ACTIVE_STATES", "process_gone", "process_identity"]

EMBEDDED_RUNS_DIR = Path(__file__).resolve().parents[1] / "assets" / "runs"
STATUS_FILE = "run.json"


class RunNotFoundError(FerCoreError, ValueError):
    """A path that is not a run folder, or a run that lacks the file asked for."""


#: Recipe names, here (no Lightning) for the dashboard's launch form; tests tie it to ``train.RECIPES``.
RECIPE_NAMES: tuple[str, ...] = ("supervised", "fair_mmd", "transfer", "semi_dtm", "mae_pretrain", "au_iat", "emonet40")
#: Recipes whose models are not softmax classifiers: an encoder with an untrained head (MAE), or a sigmoid per output
#: (AUs, EmoNet intensities). They have their own pages; the classifier pages and the model picker leave them out.
NON_CLASSIFIER_RECIPES: tuple[str, ...] = ("mae_pretrain", "au_iat", "emonet40")


def default_runs_dir() -> Path:
    return Path(os.environ.get("FER_CORE_RUNS") or "runs")


def is_run_dir(path: str | Path) -> bool:
    return (Path(path) / STATUS_FILE).is_file()


def write_status(folder: str | Path, **fields: Any) -> dict:
    """Merge ``fields`` into ``run.json`` (atomic replace, so a reader never sees half a file)."""
    path = Path(folder) / STATUS_FILE
    status = read_status(folder) if path.is_file() else {}
    status.update(fields)
    status["updated"] = time.time()
    tmp = path.with_name(f".{STATUS_FILE}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(status, indent=2, default=str), encoding="utf-8")
    tmp.replace(path)
    return status


def read_status(folder: str | Path) -> dict:
    path = Path(folder) / STATUS_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise RunNotFoundError(f"{folder} is not a run folder (no {STATUS_FILE})") from exc
    except json.JSONDecodeError as exc:
        raise RunNotFoundError(f"{path} is corrupt: {exc}") from exc


ACTIVE_STATES = ("starting", "preparing", "running")
STOPPED_GONE = "stopped (process gone)"


def _pid_alive(pid: Any) -> bool:
    try:
        os.kill(int(pid), 0)
    except PermissionError:
        return True  # it exists, under another user
    except (OSError, ValueError, TypeError, OverflowError):
        return False
    return True


def _process_start(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, from /proc), to tell it from a later process that
    reused its number; None where /proc is not there."""
    try:
        stat = Path(f"/proc/{int(pid)}/stat").read_text(encoding="ascii", errors="replace")
    except (OSError, ValueError):
        return None
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None


def process_identity(pid: int | None = None) -> dict[str, Any]:
    """What a run records about the process that trains it: pid, host and the pid's start time."""
    import socket

    pid = os.getpid() if pid is None else int(pid)
    return {"pid": pid, "host": socket.gethostname(), "pid_start": _process_start(pid)}


def process_gone(status: dict) -> bool:
    """True when the process that owns an active run is known to be gone: its pid is dead on this host, or now
    belongs to a process that started later. A run of another host (a shared folder) is never judged."""
    import socket

    pid = status.get("pid")
    if not pid:
        return False
    if status.get("host") and status["host"] != socket.gethostname():
        return False
    if not _pid_alive(pid):
        return True
    recorded, now = status.get("pid_start"), _process_start(int(pid))
    return bool(recorded and now and str(recorded) != now)


@dataclass
class RunInfo:
    """One run folder, read lazily."""

    folder: Path

    @property
    def name(self) -> str:
        return self.folder.name

    @property
    def status(self) -> dict:
        """run.json, with ``status_text`` to show. An active run whose process died without saying so (SIGKILL, a
        crash, a reboot) reads as stopped, "stopped (process gone)", and resumes from its last checkpoint."""
        s = read_status(self.folder)
        if s.get("status") in ACTIVE_STATES and process_gone(s):
            s["status"], s["status_text"] = "stopped", STOPPED_GONE
        s.setdefault("status_text", s.get("status", "unknown"))
        return s

    @property
    def config(self) -> dict:
        import yaml

        path = self.folder / "config.yaml"
        return yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else {}

    def _need(self, name: str) -> Path:
        path = self.folder / name
        if not path.is_file():
            raise RunNotFoundError(f"run {self.name} has no {name} yet (status: {self.status.get('status')})")
        return path

    def metrics(self) -> pd.DataFrame:
        """metrics.csv, one row per logged step or epoch (empty before the first log)."""
        path = self.folder / "metrics.csv"
        return pd.read_csv(path) if path.is_file() and path.stat().st_size else pd.DataFrame()

    def epoch_metrics(self) -> pd.DataFrame:
        """One row per epoch: the mean of each training metric and the validation metrics of that epoch."""
        m = self.metrics()
        if m.empty or "epoch" not in m:
            return pd.DataFrame()
        return m.groupby("epoch").mean(numeric_only=True).drop(columns=["step"], errors="ignore").reset_index()

    def model(self) -> LoadedModel:
        return load_checkpoint(self._need("model.safetensors"), name=self.name)

    @property
    def checkpoint(self) -> Path:
        return self._need("model.safetensors")

    def predictions(self) -> pd.DataFrame:
        """test_predictions.csv: path, source, rel_path, split, target, pred, confidence, groups, p_<class>."""
        preds = pd.read_csv(self._need("test_predictions.csv"), dtype={"path": str, "rel_path": str},
                            keep_default_na=False)
        for col, default in (("source", "manifest"), ("rel_path", "")):
            if col not in preds:
                preds[col] = default
        return preds

    def image_paths(self, predictions: pd.DataFrame) -> list[Path]:
        """Image files of prediction rows. Paths recorded on another machine (e.g. the shipped demo runs) are found
        again through the run's data source: a SynthFACS source is re-rendered into the local cache (it is
        deterministic), a manifest source is looked up next to the manifest."""
        from .data.sources import materialize

        out, roots = [], {}
        data = self.config.get("data", {})
        for row in predictions.itertuples():
            p = Path(row.path)
            if not (p.is_absolute() and p.is_file()) and getattr(row, "rel_path", ""):
                source = getattr(row, "source", "manifest")
                if source not in roots:
                    key, _, index = source.partition(".")  # "manifest", "test_manifest", "extra_manifests.<i>"
                    value = data.get(key)[int(index)] if index else data.get(key)
                    roots[source] = materialize(value, data.get("cache_dir")).parent
                p = roots[source] / row.rel_path
            out.append(p)
        return out

    def test_manifest(self) -> Path:
        """A manifest of the run's test images, for the dataset studies: the run's separate test manifest, or the
        test-split rows of its manifest written (with absolute paths) into the cache. SynthFACS sources are
        re-rendered when not on this machine."""
        from .data.manifest import read_manifest, resolve_paths
        from .data.sources import default_cache_dir, materialize

        data = self.config.get("data", {})
        if data.get("test_manifest"):
            return materialize(data["test_manifest"], data.get("cache_dir"))
        manifest = materialize(data.get("manifest"), data.get("cache_dir"))
        preds = self.predictions()
        wanted = set(preds.loc[preds["split"] == "test", "rel_path"].astype(str))
        table = read_manifest(manifest)
        table = table[table["path"].astype(str).isin(wanted)].copy()
        if table.empty:
            raise RunNotFoundError(f"run {self.name}: none of its test rows are in {manifest}; pass --data")
        table["path"] = [str(p) for p in resolve_paths(table, manifest.parent)]
        stamp = int(self._need("test_predictions.csv").stat().st_mtime)
        out = default_cache_dir() / "run_tests" / f"{self.name}_{stamp}.csv"
        out.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(out, index=False)
        return out

    def embeddings(self) -> np.ndarray:
        return np.load(self._need("test_embeddings.npy"))

    def evaluation(self) -> dict:
        return json.loads(self._need("evaluation.json").read_text(encoding="utf-8"))

    def has(self, name: str) -> bool:
        return (self.folder / name).is_file()


def open_run(path: str | Path) -> RunInfo:
    folder = Path(path)
    if not is_run_dir(folder):
        raise RunNotFoundError(f"{folder} is not a run folder (no {STATUS_FILE}); runs live under "
                               f"{default_runs_dir()}/<name>")
    return RunInfo(folder)


def run_model_name(run: RunInfo) -> str:
    return f"run:{run.name}"


def register_run_models(*roots: str | Path) -> list[str]:
    """Make every finished run's model loadable by name (``run:<name>``), e.g. in the dashboard's model picker."""
    from .models import read_card, register_pretrained

    names = []
    for run in list_runs(*roots):
        path = run.folder / "model.safetensors"
        if path.is_file():
            try:
                card = read_card(path)
            except FerCoreError:
                continue  # a corrupt checkpoint is reported where it is opened, not here
            if card.extra.get("recipe") in NON_CLASSIFIER_RECIPES:
                continue
            register_pretrained(run_model_name(run), card.arch, path)
            names.append(run_model_name(run))
    return names


def misclassified(run: RunInfo, attribute: str, group: str, limit: int = 8) -> pd.DataFrame:
    """The test rows of ``group`` that the run got wrong, most confident mistakes first."""
    preds = run.predictions()
    if attribute not in preds.columns:
        raise RunNotFoundError(f"run {run.name} has no {attribute!r} column in its test predictions")
    wrong = preds[(preds[attribute].astype(str) == str(group)) & (preds["pred"] != preds["target"])]
    return wrong.sort_values("confidence", ascending=False).head(limit)


SHIPPED_CONFIGS_DIR = Path(__file__).resolve().parents[1] / "assets" / "configs"
LOG_FILE = "train.log"


def default_run_name(recipe: str) -> str:
    return f"{recipe}-{time.strftime('%Y%m%d-%H%M%S')}"


def launch_run(recipe: str, config: str | Path | None = None, overrides: Sequence[str] = (), name: str | None = None,
               out_dir: str | Path | None = None) -> Path:
    """Start ``fer-core train`` in a background process (it survives the caller) and return the run folder.

    Output goes to ``<run>/train.log``; progress is in ``run.json`` as for any run. Stop it with :func:`stop_run`.
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
    write_status(run.folder, status="starting")
    pid = _spawn([sys.executable, "-m", "fer_core.cli", "train", "--quiet", "--resume", str(run.folder)], run.folder)
    write_status(run.folder, **process_identity(pid))
    return run.folder


def _spawn(cmd: list[str], folder: Path) -> int:
    """Start ``cmd`` in its own session, logging to the run folder; returns its pid."""
    root = Path(__file__).resolve().parents[1]
    env = os.environ | {"PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}
    with (folder / LOG_FILE).open("a", encoding="utf-8") as log:
        return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                start_new_session=True).pid


def stop_run(folder: str | Path) -> bool:
    """Ask a running training process to stop (SIGTERM: Lightning finishes the step and marks the run stopped;
    it can be resumed). Returns False if it was not running."""
    status = open_run(folder).status
    pid = status.get("pid")
    if status.get("status") not in ACTIVE_STATES or not pid or not _pid_alive(pid):
        return False
    os.kill(int(pid), signal.SIGTERM)
    return True


def log_tail(folder: str | Path, lines: int = 30) -> str:
    path = Path(folder) / LOG_FILE
    if not path.is_file():
        return ""
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def slim_for_sharing(folder: str | Path) -> None:
    """Make a finished run folder small and machine-independent (e.g. to ship or send it): drop the trainer state
    and TensorBoard events, and store image paths relative to the data source (see ``RunInfo.image_paths``)."""
    import shutil

    run = open_run(folder)
    for name in ("checkpoints", "tb"):
        shutil.rmtree(run.folder / name, ignore_errors=True)
    for name in ("hparams.yaml", LOG_FILE):
        (run.folder / name).unlink(missing_ok=True)
    if (run.folder / "test_predictions.csv").is_file():  # an au_iat run has none: its figures are in evaluation.json
        preds = run.predictions()
        if (preds["rel_path"] != "").all():
            preds["path"] = preds["rel_path"]
            preds.to_csv(run.folder / "test_predictions.csv", index=False)
    write_status(run.folder, pid=None, host=None, pid_start=None)


def list_runs(*roots: str | Path) -> list[RunInfo]:
    """Run folders directly under ``roots`` (default: the runs folder and the embedded demo runs), newest first."""
    roots = roots or (default_runs_dir(), EMBEDDED_RUNS_DIR)
    runs = []
    for root in roots:
        root = Path(root)
        if root.is_dir():
            runs += [RunInfo(p) for p in root.iterdir() if p.is_dir() and is_run_dir(p)]

    def started(r: RunInfo) -> float:
        try:
            return float(read_status(r.folder).get("started", 0))
        except RunNotFoundError:
            return 0.0
    return sorted(runs, key=started, reverse=True)
