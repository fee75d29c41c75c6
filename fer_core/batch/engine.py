"""The batch engine: one path for every dataset-scale command, in-process for small inputs and on Lightning's
``Trainer.predict`` across devices and nodes for large ones.

Rows are cut into blocks (:mod:`.blocks`); DataLoader workers decode, detect and align a block's faces
(:class:`~fer_core.batch.faces.FaceRows`); the job (:mod:`.jobs`) runs the model on them on the rank's device.
With ``out`` every block lands in a Parquet shard (:mod:`.shards`) written by the process or rank that computed it,
and a stopped job resumes by block. One device runs in this process; more devices or nodes run on Lightning.
Because a block is the model's unit of work whatever the
worker or rank count, results are identical for any of them.

``--devices``, ``--num-nodes`` and ``--strategy`` go to ``Trainer``; torchrun and SLURM set the environment that
Lightning reads, so a job on a cluster is the same command.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from .._utils.progress import ProgressFn
from .blocks import RowBlocks, auto_workers, make_loader
from .jobs import FaceJob
from .shards import done_blocks, open_job_folder, read_shards, write_shard

__all__ = ["BLOCK_ROWS", "EngineOptions", "EngineResult", "options_for", "run_job"]

#: rows per block: the unit of loading, of a shard file and of resuming
BLOCK_ROWS = 512


@dataclass
class EngineOptions:
    """How a batch job runs. The defaults run in this process, with loader workers for large inputs.

    Parameters
    ----------
    block
        Rows per block (the model's unit of work, a shard file, the unit of resuming).
    workers
        DataLoader processes per rank that decode and align faces; None: none for small inputs, else one per core.
    devices, num_nodes, strategy
        Lightning's ``Trainer`` arguments (``devices=2, strategy="ddp"``: two processes, gloo on CPU, NCCL on GPUs).
    accelerator
        A ``--device``: ``cpu``, ``cuda`` (``cuda:N``), ``gpu``, ``mps`` or ``auto``.
    out
        Shard folder: results are kept there and a stopped job resumes from it. None: in memory (a multi-process
        job then uses a temporary folder).
    show_progress
        A progress bar over the rows (in-process) or blocks (Lightning).
    keep
        The outputs read back into memory at the end of a job with shards (None: all); the others stay in the
        shard files (a sweep's heatmaps: :func:`~fer_core.batch.shards.read_row`).
    """

    block: int = BLOCK_ROWS
    workers: int | None = None
    devices: int | str = 1
    num_nodes: int = 1
    strategy: str = "auto"
    accelerator: str = "auto"
    out: str | Path | None = None
    show_progress: bool = False
    keep: tuple[str, ...] | None = None

    @property
    def on_lightning(self) -> bool:
        """Whether the job runs through ``Trainer.predict`` (several devices or nodes, or a strategy asked for)
        rather than in this process; inside torchrun or SLURM with more than one process, always."""
        launched = any(k in os.environ for k in ("LOCAL_RANK", "SLURM_NTASKS")) and _world_size_env() > 1
        return (
            launched
            or str(self.devices) not in ("1", "auto")
            or self.num_nodes > 1
            or self.strategy not in ("auto", "single_device")
        )


@dataclass
class EngineResult:
    """What a job found: ``face_rows`` (the manifest rows that had a face, in row order) and ``outputs`` (the job's
    arrays over those rows); the scan's ``status``, ``no_face`` and ``unreadable`` are filled in."""

    face_rows: np.ndarray
    outputs: dict[str, np.ndarray]
    shards: Path | None = None
    resumed_blocks: int = 0


def options_for(engine: EngineOptions | None, show_progress: bool = False, **defaults: Any) -> EngineOptions:
    """The options a command runs with: a copy of ``engine`` (the caller's object is never changed), or the
    defaults with ``defaults`` (a study's block size) when None; a bar when either asks for one."""
    options = engine or EngineOptions(**defaults)
    return replace(options, show_progress=options.show_progress or show_progress)


def run_job(
    scan: Any, job: FaceJob, options: EngineOptions | None = None, progress: ProgressFn | None = None
) -> EngineResult | None:
    """Run ``job`` on every row of ``scan`` (a :class:`~fer_core.data.ManifestScan`).

    Returns None on the ranks other than 0 of a multi-process job (rank 0 holds the result); a folder of another
    job as ``out`` raises :class:`~fer_core.batch.shards.ShardsMismatchError`.
    """
    options = options or EngineOptions()
    if not options.on_lightning:
        return _with_poses(scan, _in_process(scan, job, options, progress))
    result = _on_lightning(scan, job, options)
    return None if result is None else _with_poses(scan, result)


def _in_process(scan: Any, job: FaceJob, options: EngineOptions, progress: ProgressFn | None) -> EngineResult:
    """Blocks loaded by this process's DataLoader workers and run here; with ``out``, kept as shards (resumable)."""
    folder = None if options.out is None else open_job_folder(options.out, job_fingerprint(scan, job, options))
    done = done_blocks(folder) if folder is not None else set()
    rows, parts = [], []
    for records, part in scan.blocks(options.block, options.show_progress, progress, options.workers, done):
        outputs = _run(job, scan, part.faces, part.rows) if len(part.rows) else {}
        if folder is not None:
            write_shard(
                folder,
                records[0].row // options.block,
                [r.row for r in records],
                [r.status for r in records],
                [r.error for r in records],
                part.rows,
                outputs,
            )
        elif len(part.rows):
            rows.append(part.rows)
            parts.append(outputs)
    if folder is not None:
        return _from_shards(scan, folder, len(done), outputs_kept=_kept(options.keep))
    return EngineResult(np.concatenate(rows) if rows else np.zeros(0, np.int64), _concat(parts))


def _from_shards(
    scan: Any, folder: Path, resumed: int, keep: bool = True, outputs_kept: tuple[str, ...] | None = None
) -> EngineResult:
    """The job's result read back from its shards; the scan's status and skip lists set from them."""
    rows, status, errors, outputs, face_rows = read_shards(folder, outputs_kept)
    scan.no_face.clear()
    scan.unreadable.clear()
    for row, st, err in zip(rows, status, errors):
        scan.note(int(row), st, err)
    return EngineResult(face_rows, outputs, folder if keep else None, resumed_blocks=resumed)


def _run(job: FaceJob, scan: Any, faces: list, rows: np.ndarray) -> dict[str, np.ndarray]:
    """The job's outputs on one block's faces, plus their (N, 3) head pose (yaw, pitch, roll; NaN where the mesh
    fitted none) when the scan fits the mesh: the pose travels with the outputs, through shards and ranks."""
    outputs = job.run(faces, rows)
    if getattr(scan, "landmarker", "mtcnn5") == "mesh468":
        nan = (np.nan, np.nan, np.nan)
        pose = [(f.pose.yaw, f.pose.pitch, f.pose.roll) if f.pose is not None else nan for f in faces]
        outputs = {**outputs, "pose": np.asarray(pose, dtype=np.float32)}
    return outputs


def _kept(keep: tuple[str, ...] | None) -> tuple[str, ...] | None:
    """The outputs read back from shards: those kept, and the pose (small) whenever a job wrote one."""
    return None if keep is None else (*keep, "pose")


def _with_poses(scan: Any, result: EngineResult) -> EngineResult:
    """Write the poses a mesh scan's job carried into the scan's table (``pose_bin``, ``yaw``, ...)."""
    if "pose" in result.outputs and hasattr(scan, "note_poses"):
        scan.note_poses(result.face_rows, result.outputs["pose"])
    return result


def _concat(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]} if parts else {}


def job_fingerprint(scan: Any, job: FaceJob, options: EngineOptions) -> dict:
    """What must match for shards to be resumed: the data, the model, the job and the block size."""
    loaded = job.loaded
    return {
        "manifest_rows": scan.n,
        "paths_digest": _digest(str(p) for p in scan.paths),
        "aligned": scan.aligned,
        "model": loaded.name,
        "model_sha256": getattr(loaded.card, "sha256", "") or "",
        "block": options.block,
        **({"landmarker": scan.landmarker} if getattr(scan, "landmarker", "mtcnn5") != "mtcnn5" else {}),
        **job.describe(),
    }


def _digest(items) -> str:
    import hashlib

    h = hashlib.sha256()
    for item in items:
        h.update(item.encode())
        h.update(b"\0")
    return h.hexdigest()[:16]


def _on_lightning(scan: Any, job: FaceJob, options: EngineOptions) -> EngineResult | None:
    import lightning as L

    if not logging.getLogger().isEnabledFor(logging.DEBUG):  # Lightning's banners and tips, unless --verbose
        for name in ("lightning.pytorch", "lightning.fabric"):
            logging.getLogger(name).setLevel(logging.WARNING)

    temporary = options.out is None
    folder = Path(tempfile.mkdtemp(prefix="fer-core-shards-")) if temporary else Path(options.out)
    open_job_folder(folder, job_fingerprint(scan, job, options))
    done = done_blocks(folder)
    module = _predictor(scan, job, options, done)
    trainer = L.Trainer(
        accelerator=_accelerator(options.accelerator),
        devices=options.devices,
        num_nodes=options.num_nodes,
        strategy=options.strategy,
        logger=False,
        enable_checkpointing=False,
        enable_model_summary=False,
        enable_progress_bar=options.show_progress,
        use_distributed_sampler=False,  # blocks go to ranks by RowBlocks, so results do not depend on the count
        inference_mode=False,  # explanation jobs need gradients (they turn them on themselves)
        callbacks=[_shard_writer(folder)],
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*custom batch sampler.*")  # RowBlocks returns every row
        warnings.filterwarnings("ignore", message=".*LeafSpec.*")
        trainer.predict(module, return_predictions=False)
    if trainer.global_rank != 0:
        return None
    result = _from_shards(scan, folder, len(done), keep=not temporary, outputs_kept=_kept(options.keep))
    if temporary:
        shutil.rmtree(folder, ignore_errors=True)
    return result


def _world_size_env() -> int:
    for key in ("WORLD_SIZE", "SLURM_NTASKS"):
        if os.environ.get(key, "").isdigit():
            return int(os.environ[key])
    return 1


def _accelerator(device: str) -> str:
    """Lightning's accelerator for a ``--device`` (``cuda`` or ``cuda:N`` -> ``gpu``; cpu, mps, auto as they are)."""
    kind = device.split(":")[0]
    return "gpu" if kind == "cuda" else kind


def _predictor(scan: Any, job: FaceJob, options: EngineOptions, done: set[int]):
    """The LightningModule: the rank's blocks as its predict dataloader, the job as its predict step."""
    import lightning as L

    dataset = scan.dataset()
    workers = auto_workers(scan.n, options.workers, scan.aligned)

    class FacePredictor(L.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.net = job.module  # registered, so Lightning moves it to the rank's device

        def predict_dataloader(self):
            sampler = RowBlocks(scan.n, options.block, self.global_rank, self.trainer.world_size, done)
            return make_loader(dataset, sampler, workers)

        def predict_step(self, records, batch_idx):
            faces = [r.face for r in records if r.face is not None]
            face_rows = np.asarray([r.row for r in records if r.face is not None], dtype=np.int64)
            return {
                "block": records[0].row // options.block,
                "rows": [r.row for r in records],
                "status": [r.status for r in records],
                "errors": [r.error for r in records],
                "face_rows": face_rows,
                "outputs": _run(job, scan, faces, face_rows) if faces else {},
            }

        def transfer_batch_to_device(self, batch, device, dataloader_idx):
            return batch  # records hold numpy faces; the job moves its own tensors

    return FacePredictor()


def _shard_writer(folder: Path):
    from lightning.pytorch.callbacks import BasePredictionWriter

    class ShardWriter(BasePredictionWriter):
        """Each rank writes the shard of every block it computed, as soon as it is computed."""

        def __init__(self) -> None:
            super().__init__(write_interval="batch")

        def write_on_batch_end(self, trainer, pl_module, prediction, batch_indices, batch, batch_idx, dl_idx):
            write_shard(
                folder,
                prediction["block"],
                prediction["rows"],
                prediction["status"],
                prediction["errors"],
                prediction["face_rows"],
                prediction["outputs"],
            )

        def on_predict_end(self, trainer, pl_module) -> None:
            trainer.strategy.barrier("fer_core.shards")  # rank 0 reads every rank's shards after this

    return ShardWriter()
