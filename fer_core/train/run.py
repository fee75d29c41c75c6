"""``train(config)``: one call from a config to a finished run folder (see :mod:`fer_core.runs` for its layout).

Lightning supplies the loop, AMP, DDP (torchrun / SLURM) and gradient accumulation; this module wires the recipe,
the data, the loggers and the checkpoints, writes the test predictions and embeddings, and evaluates fairness.
"""

from __future__ import annotations

import csv
import logging
import os
import pickle
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import pandas as pd
import torch
from lightning.pytorch.callbacks import Callback, EarlyStopping, ModelCheckpoint, TQDMProgressBar
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger
from lightning.pytorch.loggers.csv_logs import ExperimentWriter

from ..errors import CheckpointError, FerCoreError
from ..runs import RunFolder, default_run_name, open_run, process_identity, read_status, write_status
from .config import RunConfig, config_from_dict
from .numerics import numerics_profile, use_channels_last
from .recipes import RECIPES, Recipe, get_recipe

__all__ = ["RECIPES", "train", "resume", "RunExistsError", "ProgressFn", "TrainResult", "monitor_of"]

ProgressFn = Callable[[dict], None]
RUN_DIR_ENV = "FER_CORE_RUN_DIR"


def _is_leader() -> bool:
    """True in the process that owns the run folder: rank 0 of a torchrun/SLURM/Lightning DDP job, or the only one."""
    return all(os.environ.get(k, "0") == "0" for k in ("RANK", "LOCAL_RANK", "NODE_RANK", "SLURM_PROCID"))


class RunExistsError(FerCoreError, ValueError):
    """A run folder of that name exists already (resume it, or pick another name)."""


class _KeepingWriter(ExperimentWriter):
    """Lightning's CSV writer deletes an existing metrics.csv; a resumed run must append to it instead."""

    def _check_log_dir_exists(self) -> None:
        path = Path(self.metrics_file_path)
        if path.is_file() and path.stat().st_size:
            with path.open(newline="") as f:
                self.metrics_keys = sorted(csv.DictReader(f).fieldnames or [])


class _ResumableCSVLogger(CSVLogger):
    @property
    def experiment(self) -> ExperimentWriter:
        if self._experiment is None:
            self._fs.makedirs(self.root_dir, exist_ok=True)
            self._experiment = _KeepingWriter(log_dir=self.log_dir)
        return self._experiment


class _StatusCallback(Callback):
    """Keeps run.json current: epoch, step, latest metrics; 'stopped' on Ctrl-C or SIGTERM, 'failed' on errors."""

    def __init__(self, folder: Path, on_progress: ProgressFn | None, every: int = 5) -> None:
        self.folder, self.on_progress, self.every = folder, on_progress, every

    def _update(self, trainer: L.Trainer, **extra: Any) -> None:
        if trainer.global_rank != 0:
            return
        metrics = {k: round(float(v), 5) for k, v in trainer.callback_metrics.items() if v.numel() == 1}
        status = write_status(
            self.folder,
            epoch=trainer.current_epoch,
            epochs=trainer.max_epochs,
            step=trainer.global_step,
            total_steps=int(trainer.estimated_stepping_batches),
            metrics=metrics,
            **extra,
        )
        if self.on_progress is not None:
            self.on_progress(status)

    def on_train_batch_end(self, trainer: L.Trainer, *args: Any) -> None:
        if trainer.global_step % self.every == 0:
            self._update(trainer)

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.sanity_checking:
            self._update(trainer)

    def on_exception(self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException) -> None:
        stopped = isinstance(exception, KeyboardInterrupt) or trainer.received_sigterm
        if trainer.global_rank == 0:
            write_status(self.folder, status="stopped" if stopped else "failed", error=str(exception)[:500])


class _PinnedLayout(Callback):
    """Channels-last training on a pinned CPU process (see :mod:`fer_core.train.numerics`): faster, same on any
    machine of that kind; elsewhere the layout stays as it is."""

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        backbone = getattr(pl_module, "model", None)
        if isinstance(backbone, torch.nn.Module) and trainer.strategy.root_device.type == "cpu":
            use_channels_last(backbone)


def _run_name(cfg: RunConfig) -> str:
    return cfg.name or default_run_name(cfg.recipe)


def monitor_of(cfg: RunConfig) -> str:
    """The validation metric that picks the best checkpoint: ``trainer.monitor``, else the recipe's own."""
    info = RECIPES.get(cfg.recipe)
    return cfg.trainer.monitor or (info.monitor if info else "val/acc")


def _trainer(cfg: RunConfig, folder: Path, progress: bool, on_progress: ProgressFn | None) -> L.Trainer:
    t = cfg.trainer
    monitor = monitor_of(cfg)
    mode = "min" if monitor.endswith("loss") else "max"
    checkpoints = folder / RunFolder.CHECKPOINTS
    best = ModelCheckpoint(
        dirpath=checkpoints,
        filename="best",
        monitor=monitor,
        mode=mode,
        save_top_k=1,
        auto_insert_metric_name=False,
        enable_version_counter=False,
    )
    # Resumable state after every epoch, improved or not (Lightning's save_last only follows top-k saves).
    last = ModelCheckpoint(
        dirpath=checkpoints, filename="last", monitor=None, save_top_k=1, every_n_epochs=1, enable_version_counter=False
    )
    callbacks: list[Callback] = [best, last, _StatusCallback(folder, on_progress), _PinnedLayout()]
    if t.early_stopping_patience:
        callbacks.append(EarlyStopping(monitor=monitor, mode=mode, patience=int(t.early_stopping_patience)))
    if progress:
        callbacks.append(TQDMProgressBar(refresh_rate=5))
    loggers = [
        _ResumableCSVLogger(save_dir=folder, name="", version=""),
        TensorBoardLogger(save_dir=folder, name=RunFolder.TENSORBOARD, version="", default_hp_metric=False),
    ]
    return L.Trainer(
        max_epochs=cfg.optim.epochs,
        accelerator=t.accelerator,
        devices=t.devices,
        num_nodes=t.num_nodes,
        strategy=t.strategy,
        precision=t.precision,  # type: ignore[arg-type]
        accumulate_grad_batches=cfg.optim.accumulate_grad_batches,
        gradient_clip_val=cfg.optim.gradient_clip,
        logger=loggers,
        callbacks=callbacks,
        use_distributed_sampler=False,  # our samplers shard themselves (data.RankSlice)
        enable_progress_bar=progress,
        enable_model_summary=False,
        log_every_n_steps=5,
        num_sanity_val_steps=0,
        default_root_dir=folder,
    )


def _quiet_lightning() -> None:
    for name in (
        "lightning.pytorch.utilities.rank_zero",
        "lightning.pytorch.accelerators.cuda",
        "lightning.fabric.utilities.seed",
    ):
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")
    warnings.filterwarnings("ignore", message=".*The number of training batches.*")
    warnings.filterwarnings("ignore", message=".*Experiment logs directory.*exists and is not empty.*")
    warnings.filterwarnings("ignore", message=".*treespec, LeafSpec.*")
    warnings.filterwarnings("ignore", message=".*Checkpoint directory .* exists and is not empty.*")


@dataclass
class TrainResult:
    folder: Path
    status: dict
    evaluation: dict | None

    @property
    def run(self) -> RunFolder:
        return open_run(self.folder)

    def summary(self) -> list[str]:
        """How the run did, in the recipe's words (only the status while it has no evaluation)."""
        lines = [f"run {self.folder}: {self.status.get('status')}"]
        if self.evaluation:
            lines += get_recipe(self.status.get("recipe", "supervised")).summary(self.evaluation)
        return lines


def train(
    cfg: RunConfig, progress: bool = True, on_progress: ProgressFn | None = None, _resume_folder: Path | None = None
) -> TrainResult:
    """Train ``cfg.recipe`` and leave a complete run folder under ``cfg.out_dir``; returns where and how it went.

    ``trainer.threads`` holds for this run only: the process's thread count is restored afterwards. Denormal
    floats are flushed to zero while it trains: gradients of a fine-tuned model (the FER2013 mini-Xception) fall into
    the denormal range, where x86 CPUs run several times slower (measured: 0.53 s against 0.13 s per au_iat step).
    """
    _quiet_lightning()
    recipe = get_recipe(cfg.recipe)  # a clear error for an unknown name
    cfg.trainer.monitor = monitor_of(cfg)
    threads = torch.get_num_threads()
    if cfg.trainer.threads:
        torch.set_num_threads(int(cfg.trainer.threads))
    torch.set_flush_denormal(True)
    try:
        return _train(recipe, cfg, progress, on_progress, _resume_folder)
    finally:
        torch.set_flush_denormal(False)
        torch.set_num_threads(threads)


def _train(
    recipe: Recipe, cfg: RunConfig, progress: bool, on_progress: ProgressFn | None, _resume_folder: Path | None
) -> TrainResult:
    recipe.prepare(cfg)
    leader = _is_leader()
    if _resume_folder is not None:
        folder = _resume_folder
    elif not leader:  # a DDP worker: rank 0 chose and prepared the folder
        shared = os.environ.get(RUN_DIR_ENV)
        if not shared and not cfg.name:
            raise FerCoreError(
                "multi-process runs started by torchrun/SLURM need a run name (--name) so every "
                "process writes to the same folder"
            )
        folder = Path(shared) if shared else Path(cfg.out_dir) / str(cfg.name)
        cfg.name = folder.name
    else:
        folder = Path(cfg.out_dir) / _run_name(cfg)
        if (folder / RunFolder.CONFIG).exists():  # a folder prepared by runs.launch_run holds run.json and a log
            raise RunExistsError(
                f"run folder {folder} exists; resume it with `fer-core train --resume {folder}` or choose another name"
            )
        folder.mkdir(parents=True, exist_ok=True)
        cfg.name = folder.name
    os.environ[RUN_DIR_ENV] = str(folder)  # processes Lightning launches for DDP inherit it
    run = RunFolder(folder)
    if leader:
        run.write_config(cfg.to_dict())
        run.write_status(
            recipe=cfg.recipe,
            name=folder.name,
            status="preparing",
            **process_identity(),
            numerics=numerics_profile(),
            started=read_status(folder).get("started", time.time()) if _resume_folder else time.time(),
        )
    try:
        L.seed_everything(cfg.trainer.seed, workers=True, verbose=False)
        dm = recipe.datamodule(cfg, progress)
        dm.prepare_data()
        dm.setup()
        assert dm.split_rows is not None
        if leader:
            run.write_splits(dm.split_rows)
            if cfg.data.aligned is None:  # record what "auto" decided, so evaluation prepares images the same way
                cfg.data.aligned = dm.aligned
                run.write_config(cfg.to_dict())
        module = recipe.module(cfg, dm)
        trainer = _trainer(cfg, folder, progress and leader, on_progress)
        if leader:
            run.write_status(
                status="running",
                labels=list(dm.labels),
                n_train=len(dm.tables["train"]),
                n_val=len(dm.tables["val"]),
                n_test=len(dm.tables.get("test", [])),
            )
        ckpt = run.path(RunFolder.LAST_CHECKPOINT)
        if _resume_folder and ckpt.is_file():
            _check_resumable(ckpt)
        if _resume_folder and ckpt.is_file() and leader:
            _drop_unsaved_metrics(folder, ckpt)
        trainer.fit(
            module, datamodule=dm, ckpt_path=str(ckpt) if _resume_folder and ckpt.is_file() else None, weights_only=True
        )
        if trainer.global_rank != 0:
            return TrainResult(folder, {}, None)
        if trainer.received_sigterm or trainer.interrupted:
            run.write_status(status="stopped")
            return TrainResult(folder, read_status(folder), None)
        evaluation = recipe.finish(run, cfg, trainer, module, dm)
    except BaseException as exc:
        if leader:
            status = "stopped" if isinstance(exc, (KeyboardInterrupt, SystemExit)) else "failed"
            run.write_status(status=status, error=f"{type(exc).__name__}: {exc}"[:500])
        raise
    return TrainResult(folder, read_status(folder), evaluation)


def _check_resumable(ckpt: Path) -> None:
    """Refuse a trainer checkpoint that cannot be resumed from, naming the file and what to do. Loading is
    ``weights_only``: nothing in the file is executed, and PyTorch's advice to turn that off is never passed on."""
    size = ckpt.stat().st_size
    hint = f"; delete {ckpt} to train this run again from the start, or restore the file from a backup"
    if size == 0:
        raise CheckpointError(f"cannot resume: {ckpt} is empty (0 bytes){hint}")
    try:
        state = torch.load(ckpt, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise CheckpointError(
            f"cannot resume: {ckpt} is corrupt or holds objects that are not safe to load (only "
            f"tensors and plain data are read){hint}"
        ) from exc
    except Exception as exc:  # noqa: BLE001 - zip, EOF and format errors alike: the file is not a usable checkpoint
        raise CheckpointError(
            f"cannot resume: {ckpt} is truncated or not a PyTorch checkpoint ({type(exc).__name__}){hint}"
        ) from exc
    missing = [k for k in ("state_dict", "epoch", "optimizer_states") if not isinstance(state, dict) or k not in state]
    if missing:
        raise CheckpointError(
            f"cannot resume: {ckpt} is not a Lightning trainer checkpoint (it lacks {', '.join(missing)}){hint}"
        )


def _drop_unsaved_metrics(folder: Path, ckpt: Path) -> None:
    """Forget metric rows logged after the checkpoint a run resumes from (that work is redone)."""
    path = folder / RunFolder.METRICS
    if not path.is_file() or not path.stat().st_size:
        return
    saved_epoch = int(torch.load(ckpt, map_location="cpu", weights_only=True)["epoch"])
    metrics = pd.read_csv(path)
    if "epoch" in metrics:
        metrics[metrics["epoch"].isna() | (metrics["epoch"] <= saved_epoch)].to_csv(path, index=False)


def resume(folder: str | Path, progress: bool = True, on_progress: ProgressFn | None = None) -> TrainResult:
    """Continue a stopped or killed run from its last checkpoint, with the config it was started with."""
    run = open_run(folder)
    if run.status.get("status") == "finished":
        raise FerCoreError(f"run {run.name} has finished; nothing to resume")
    cfg = config_from_dict(run.config)
    return train(cfg, progress=progress, on_progress=on_progress, _resume_folder=run.folder)
