"""Where runs live and which there are: the user's runs folder and the embedded demo runs, the models of finished runs
made loadable by name (``run:<name>``), and a run folder made small enough to share."""

from __future__ import annotations

import shutil
from pathlib import Path

from ..errors import FerCoreError
from .folder import RunFolder, RunNotFoundError, is_run_dir, read_status, write_status
from .locations import EMBEDDED_RUNS_DIR, SHIPPED_CONFIGS_DIR, default_runs_dir

__all__ = [
    "EMBEDDED_RUNS_DIR",
    "SHIPPED_CONFIGS_DIR",
    "default_runs_dir",
    "list_runs",
    "register_run_models",
    "run_model_name",
    "slim_for_sharing",
]


def list_runs(*roots: str | Path) -> list[RunFolder]:
    """Run folders directly under ``roots`` (default: the runs folder and the embedded demo runs), newest first.

    Parameters
    ----------
    *roots
        Folders to look in; a root that does not exist is skipped. None given: ``$FER_CORE_RUNS`` (else
        ``runs``) and the demo runs that ship in ``assets/runs``.

    Returns
    -------
    list[RunFolder]
        Every folder with a ``run.json``, newest start first (runs with no readable start time last).
    """
    roots = roots or (default_runs_dir(), EMBEDDED_RUNS_DIR)
    runs = []
    for root in roots:
        root = Path(root)
        if root.is_dir():
            runs += [RunFolder(p) for p in root.iterdir() if p.is_dir() and is_run_dir(p)]

    def started(r: RunFolder) -> float:
        try:
            return float(read_status(r.folder).get("started", 0))
        except RunNotFoundError:
            return 0.0

    return sorted(runs, key=started, reverse=True)


def run_model_name(run: RunFolder) -> str:
    return f"run:{run.name}"


def register_run_models(*roots: str | Path) -> list[str]:
    """Make every finished run's classifier loadable by name (``run:<name>``), e.g. in the dashboard's model picker.
    Which runs count is the model card's output kind: softmax classifiers, not AU or EmoNet detectors (a sigmoid per
    output) nor a pretrained encoder."""
    from ..models import read_card, register_pretrained

    names = []
    for run in list_runs(*roots):
        path = run.path(RunFolder.MODEL)
        if path.is_file():
            try:
                card = read_card(path)
            except FerCoreError:
                continue  # a corrupt checkpoint is reported where it is opened, not here
            if card.output != "softmax":
                continue
            register_pretrained(run_model_name(run), card.arch, path)
            names.append(run_model_name(run))
    return names


def slim_for_sharing(folder: str | Path) -> None:
    """Make a finished run folder small and machine-independent (e.g. to ship or send it): drop the trainer state
    and TensorBoard events, and store image paths relative to the data source (see ``RunFolder.image_paths``)."""
    from .folder import open_run

    run = open_run(folder)
    for name in (RunFolder.CHECKPOINTS, RunFolder.TENSORBOARD):
        shutil.rmtree(run.path(name), ignore_errors=True)
    for name in (RunFolder.HPARAMS, RunFolder.LOG):
        run.path(name).unlink(missing_ok=True)
    if run.has(RunFolder.PREDICTIONS):  # an au_iat run has none: its figures are in evaluation.json
        preds = run.predictions()
        if (preds["rel_path"] != "").all():
            preds["path"] = preds["rel_path"]
            run.write_predictions(preds)
    write_status(run.folder, pid=None, host=None, pid_start=None)
