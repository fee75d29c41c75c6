"""Rows cut into fixed blocks: the unit of loading, of the model's batches, of the shard files and of resuming.

A block's rows, and so the batches the model sees, depend only on the block size, never on how many worker
processes load them or how many ranks share the job: block ``k`` holds rows ``[k*B, (k+1)*B)`` and goes to rank
``k mod world_size``. That is what makes results identical for any worker and rank count.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

import numpy as np

__all__ = ["RowBlocks", "auto_workers", "block_rows", "iter_blocks"]

#: below this many rows worker processes cost more to start than they save
MIN_ROWS_FOR_WORKERS = 256


def block_rows(n_rows: int, block: int, k: int) -> np.ndarray:
    """The rows of block ``k``."""
    return np.arange(k * block, min(n_rows, (k + 1) * block), dtype=np.int64)


class RowBlocks:
    """A batch sampler over the blocks one rank owns, leaving out the ``done`` ones (already in shard files)."""

    def __init__(self, n_rows: int, block: int, rank: int = 0, world_size: int = 1, done: Iterable[int] = ()) -> None:
        if block < 1:
            raise ValueError(f"block size must be at least 1, got {block}")
        self.n_rows, self.block = int(n_rows), int(block)
        self.n_blocks = -(-self.n_rows // self.block)
        skip = set(done)
        self.blocks = [k for k in range(rank, self.n_blocks, world_size) if k not in skip]

    def __len__(self) -> int:
        return len(self.blocks)

    def __iter__(self) -> Iterator[list[int]]:
        for k in self.blocks:
            yield block_rows(self.n_rows, self.block, k).tolist()


def auto_workers(n_rows: int, requested: int | None = None, aligned: bool = False) -> int:
    """Loader processes: ``requested`` when given; else none for small inputs or on up to 2 cores (measured there:
    the in-process detector and model already use both cores, and workers only add their start-up); above, one per
    core (at most 8) for photos that need detection, half the cores for aligned crops (cheap to decode)."""
    if requested is not None:
        if requested < 0:
            raise ValueError(f"workers must be 0 or more, got {requested}")
        return int(requested)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if n_rows < MIN_ROWS_FOR_WORKERS or cores <= 2:
        return 0
    return min(8, cores // 2 if aligned else cores)


def _worker_init(_: int) -> None:
    """One thread per loader process: the processes are the parallelism (OpenCV would start one per core in each).
    Safe here because the process comes from a fresh server (:func:`_context`), not from a fork of a process
    whose OpenCV pool is running: there, ``setNumThreads`` waits forever on the parent's vanished threads."""
    import cv2

    cv2.setNumThreads(1)


def _context():
    """Loader processes start from a fresh fork server with the face pipeline preloaded: cheap to start, and never
    a fork of a process with running thread pools (OpenCV's and OpenMP's are not fork-safe). Spawn where there is
    no fork server (Windows)."""
    import multiprocessing as mp

    if "forkserver" not in mp.get_all_start_methods():
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["fer_core.batch.faces"])
    return ctx


def iter_blocks(dataset, sampler: RowBlocks, workers: int = 0) -> Iterator[list]:
    """The records of each of ``sampler``'s blocks, in order: loaded here (``workers=0``) or by ``workers``
    DataLoader processes, several blocks ahead."""
    if workers == 0:
        for rows in sampler:
            yield [dataset[i] for i in rows]
        return
    yield from make_loader(dataset, sampler, workers)


def make_loader(dataset, sampler: RowBlocks, workers: int):
    """The DataLoader of the engine: one batch per block, records kept as a list (faces of any status)."""
    from torch.utils.data import DataLoader

    return DataLoader(
        dataset,
        batch_sampler=sampler,
        num_workers=workers,
        collate_fn=_as_list,
        worker_init_fn=_worker_init if workers else None,
        multiprocessing_context=_context() if workers else None,
        prefetch_factor=2 if workers else None,
        persistent_workers=False,
    )


def _as_list(records: list) -> list:
    return records
