"""``RunFolder``: the one owner of a run folder. Every file name a run writes is here, and this is the only writer of
``run.json`` (status, progress) and ``evaluation.json`` (the test figures); the dashboard, the CLI and the report read
runs through it. Nothing here imports Lightning, so the dashboard stays light.

A run folder holds:

    config.yaml            the resolved config (a run can be reproduced or resumed from it alone)
    run.json               status and progress, rewritten atomically
    metrics.csv, tb/       one row per logged step or epoch; TensorBoard events
    checkpoints/last.ckpt  resumable trainer state (loaded with weights_only=True); best.ckpt
    model.safetensors      the best weights with their model card
    splits.csv             which rows trained, validated and tested
    test_predictions.csv   per test image: target, prediction, confidence, groups, one p_<class> column per class
    test_embeddings.npy    the test images' penultimate embeddings
    evaluation.json        the test figures (fairness report, AU F1, agreement, ...)
    thresholds.json        semi_dtm: the per-class pseudo-label thresholds at the end
    previews/              mae_pretrain: one reconstruction grid per epoch
    train.log              output of a run started in the background
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import FerCoreError
from ..models import LoadedModel, load_checkpoint
from .locations import default_runs_dir
from .status import ACTIVE_STATES, STOPPED_GONE, process_gone

__all__ = ["RunFolder", "RunNotFoundError", "open_run", "is_run_dir", "read_status", "write_status"]


class RunNotFoundError(FerCoreError, ValueError):
    """A path that is not a run folder, or a run that lacks the file asked for."""


@dataclass
class RunFolder:
    """One run folder, read lazily and written only through these methods.

    Parameters
    ----------
    folder
        The run's folder (made a Path); nothing is read until asked for, so it need not exist yet. Use
        :func:`open_run` to check that it is a run.
    """

    folder: Path

    CONFIG = "config.yaml"
    STATUS = "run.json"
    METRICS = "metrics.csv"
    TENSORBOARD = "tb"
    CHECKPOINTS = "checkpoints"
    LAST_CHECKPOINT = "checkpoints/last.ckpt"
    MODEL = "model.safetensors"
    SPLITS = "splits.csv"
    PREDICTIONS = "test_predictions.csv"
    EMBEDDINGS = "test_embeddings.npy"
    EVALUATION = "evaluation.json"
    THRESHOLDS = "thresholds.json"
    PREVIEWS = "previews"
    LOG = "train.log"
    HPARAMS = "hparams.yaml"

    def __post_init__(self) -> None:
        self.folder = Path(self.folder)

    # --- paths ----------------------------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.folder.name

    def path(self, name: str) -> Path:
        """``name`` (one of the class's file names) inside the folder."""
        return self.folder / name

    def has(self, name: str) -> bool:
        return (self.folder / name).is_file()

    def stamp(self, name: str = MODEL) -> float:
        """Modification time of one of the run's files (0 when it is not there): a cache key that changes when a run
        is trained again."""
        path = self.folder / name
        return path.stat().st_mtime if path.is_file() else 0.0

    def _need(self, name: str) -> Path:
        path = self.folder / name
        if not path.is_file():
            raise RunNotFoundError(f"run {self.name} has no {name} yet (status: {self.status.get('status')})")
        return path

    # --- status (run.json) ---------------------------------------------------------------------------------------
    @property
    def status(self) -> dict:
        """run.json, with ``status_text`` to show. An active run whose process died without saying so (SIGKILL, a
        crash, a reboot) reads as stopped, "stopped (process gone)", and resumes from its last checkpoint."""
        s = read_status(self.folder)
        if s.get("status") in ACTIVE_STATES and process_gone(s):
            s["status"], s["status_text"] = "stopped", STOPPED_GONE
        s.setdefault("status_text", s.get("status", "unknown"))
        return s

    def write_status(self, **fields: Any) -> dict:
        """Merge ``fields`` into run.json (atomic replace, so a reader never sees half a file)."""
        return write_status(self.folder, **fields)

    # --- config ----------------------------------------------------------------------------------------------------
    @property
    def config(self) -> dict:
        import yaml

        path = self.folder / self.CONFIG
        return yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else {}

    def write_config(self, config: dict) -> Path:
        import yaml

        path = self.folder / self.CONFIG
        path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        return path

    # --- training outputs -----------------------------------------------------------------------------------------
    def write_splits(self, rows: pd.DataFrame) -> None:
        rows[["source", "path", "split"]].to_csv(self.folder / self.SPLITS, index=False)

    def write_predictions(self, predictions: pd.DataFrame, embeddings: np.ndarray | None = None) -> None:
        predictions.to_csv(self.folder / self.PREDICTIONS, index=False)
        if embeddings is not None:
            np.save(self.folder / self.EMBEDDINGS, np.asarray(embeddings, dtype=np.float32))

    def write_json(self, name: str, data: dict) -> Path:
        path = self.folder / name
        path.write_text(json.dumps(data, indent=2), encoding="utf-8")
        return path

    def finish(self, evaluation: dict, test: dict[str, Any]) -> dict:
        """Write ``evaluation.json`` and mark the run finished with its headline ``test`` figures: the last thing a
        successful run does, whatever its recipe."""
        self.write_json(self.EVALUATION, evaluation)
        self.write_status(status="finished", finished=time.time(), test=test)
        return evaluation

    # --- read side ------------------------------------------------------------------------------------------------
    def metrics(self) -> pd.DataFrame:
        """metrics.csv, one row per logged step or epoch (empty before the first log)."""
        path = self.folder / self.METRICS
        return pd.read_csv(path) if path.is_file() and path.stat().st_size else pd.DataFrame()

    def epoch_metrics(self) -> pd.DataFrame:
        """One row per epoch: the mean of each training metric and the validation metrics of that epoch."""
        m = self.metrics()
        if m.empty or "epoch" not in m:
            return pd.DataFrame()
        return m.groupby("epoch").mean(numeric_only=True).drop(columns=["step"], errors="ignore").reset_index()

    def model(self) -> LoadedModel:
        return load_checkpoint(self._need(self.MODEL), name=self.name)

    @property
    def checkpoint(self) -> Path:
        return self._need(self.MODEL)

    def predictions(self) -> pd.DataFrame:
        """test_predictions.csv: path, source, rel_path, split, target, pred, confidence, groups, p_<class>."""
        preds = pd.read_csv(self._need(self.PREDICTIONS), dtype={"path": str, "rel_path": str}, keep_default_na=False)
        for col, default in (("source", "manifest"), ("rel_path", "")):
            if col not in preds:
                preds[col] = default
        return preds

    def mistakes(self, attribute: str, group: str, limit: int = 8) -> pd.DataFrame:
        """The test rows of ``group`` that the run got wrong, most confident mistakes first."""
        preds = self.predictions()
        if attribute not in preds.columns:
            raise RunNotFoundError(f"run {self.name} has no {attribute!r} column in its test predictions")
        wrong = preds[(preds[attribute].astype(str) == str(group)) & (preds["pred"] != preds["target"])]
        return wrong.sort_values("confidence", ascending=False).head(limit)

    def embeddings(self) -> np.ndarray:
        return np.load(self._need(self.EMBEDDINGS))

    def evaluation(self) -> dict:
        return json.loads(self._need(self.EVALUATION).read_text(encoding="utf-8"))

    def thresholds(self) -> dict | None:
        """semi_dtm's saved per-class thresholds, or None for other runs."""
        path = self.folder / self.THRESHOLDS
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None

    def log_tail(self, lines: int = 30) -> str:
        path = self.folder / self.LOG
        if not path.is_file():
            return ""
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])

    def image_paths(self, predictions: pd.DataFrame) -> list[Path]:
        """Image files of prediction rows. Paths recorded on another machine (e.g. the shipped demo runs) are found
        again through the run's data source: a SynthFACS source is re-rendered into the local cache (it is
        deterministic), a manifest source is looked up next to the manifest."""
        from ..data.sources import materialize

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

    @property
    def target_column(self) -> str:
        """The manifest column the run learned to predict (``data.target``: ``label`` unless it learned age, say):
        what a study over its test set explains and scores against."""
        return (self.config.get("data") or {}).get("target", "label")

    @property
    def aligned(self) -> bool | None:
        """Whether the run's images are aligned crops (``data.aligned``; None: decided per image)."""
        return (self.config.get("data") or {}).get("aligned")

    def test_manifest(self) -> Path:
        """A manifest of the run's test images, for the dataset studies: the run's separate test manifest, or the
        test-split rows of its manifest written (with absolute paths) into the cache. SynthFACS sources are
        re-rendered when not on this machine."""
        from ..data.manifest import read_manifest, resolve_paths
        from ..data.sources import default_cache_dir, materialize

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
        stamp = int(self._need(self.PREDICTIONS).stat().st_mtime)
        out = default_cache_dir() / "run_tests" / f"{self.name}_{stamp}.csv"
        out.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(out, index=False)
        return out


def is_run_dir(path: str | Path) -> bool:
    return (Path(path) / RunFolder.STATUS).is_file()


def write_status(folder: str | Path, **fields: Any) -> dict:
    """Merge ``fields`` into ``run.json`` (atomic replace, so a reader never sees half a file)."""
    path = Path(folder) / RunFolder.STATUS
    status = read_status(folder) if path.is_file() else {}
    status.update(fields)
    status["updated"] = time.time()
    tmp = path.with_name(f".{RunFolder.STATUS}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(status, indent=2, default=str), encoding="utf-8")
    tmp.replace(path)
    return status


def read_status(folder: str | Path) -> dict:
    path = Path(folder) / RunFolder.STATUS
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise RunNotFoundError(f"{folder} is not a run folder (no {RunFolder.STATUS})") from exc
    except json.JSONDecodeError as exc:
        raise RunNotFoundError(f"{path} is corrupt: {exc}") from exc


def open_run(path: str | Path) -> RunFolder:
    """The run folder at ``path``; RunNotFoundError (saying where runs live) when it is none.

    Parameters
    ----------
    path
        A run's folder: one that holds a ``run.json``.

    Returns
    -------
    RunFolder
        The run, read lazily.

    Raises
    ------
    RunNotFoundError
        ``path`` is not a run folder (no ``run.json``).
    """

    folder = Path(path)
    if not is_run_dir(folder):
        raise RunNotFoundError(
            f"{folder} is not a run folder (no {RunFolder.STATUS}); runs live under {default_runs_dir()}/<name>"
        )
    return RunFolder(folder)
