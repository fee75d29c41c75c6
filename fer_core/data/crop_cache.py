"""Detect and align every image of a manifest once; training then reads aligned crops from memory-mapped arrays.

The cache lives in one folder per (alignment template, crop size): ``crops.npy`` (N, H, W, 3) uint8,
``landmarks.npy`` (N, 5, 2) float32 and ``index.csv`` (content hash, row in the arrays). Entries are keyed by the
SHA-256 of the file's bytes, so a renamed file is not redone and a changed file is. Re-runs only process new
content. Images without a face (or unreadable) are listed in ``failed.csv`` with the reason, never dropped silently.
"""

from __future__ import annotations

import hashlib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .._utils.progress import ProgressFn, progress_iter
from ..errors import FaceNotFoundError, ImageLoadError


@dataclass
class CacheReport:
    folder: Path
    total: int
    added: int
    reused: int
    failed: pd.DataFrame  # path, reason


def _hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _align_one(args: tuple[str, tuple[int, int], str]):
    from ..face import find_faces, load_image

    path, size, template = args
    try:
        # training crops stay on the 5 points: the cache is keyed by template and size, not by landmarker
        face = find_faces(load_image(path), size, template, max_faces=1, landmarker="mtcnn5")[0]
        return path, face.crop, face.crop_landmarks.astype(np.float32), ""
    except (FaceNotFoundError, ImageLoadError) as exc:
        return path, None, None, str(exc)


def cache_folder(root: str | Path, template: str, size: tuple[int, int]) -> Path:
    return Path(root) / f"{template}_{size[0]}x{size[1]}"


def build_crop_cache(
    paths: list[str | Path],
    root: str | Path,
    size: tuple[int, int] = (64, 64),
    template: str = "fer2013",
    workers: int = 2,
    show_progress: bool = False,
    progress: ProgressFn | None = None,
) -> CacheReport:
    """Align the faces of ``paths`` into the cache under ``root``; only content not cached yet is processed."""
    folder = cache_folder(root, template, size)
    folder.mkdir(parents=True, exist_ok=True)
    index_path = folder / "index.csv"
    index = (
        pd.read_csv(index_path, dtype={"sha": str})
        if index_path.exists()
        else pd.DataFrame({"sha": pd.Series(dtype=str), "row": pd.Series(dtype=int)})
    )
    known = set(index["sha"])
    hashes = {str(p): _hash(Path(p)) for p in paths}
    todo = sorted({p for p, h in hashes.items() if h not in known}, key=lambda p: hashes[p])
    todo = list({hashes[p]: p for p in todo}.values())  # one representative per content
    crops, marks, shas, failed = [], [], [], []
    jobs = [(p, size, template) for p in todo]
    if workers > 1 and len(jobs) > 8:
        with ProcessPoolExecutor(workers) as pool:
            results = pool.map(_align_one, jobs, chunksize=16)
            results = list(progress_iter(results, show_progress, "aligning", total=len(jobs), callback=progress))
    else:
        results = [_align_one(j) for j in progress_iter(jobs, show_progress, "aligning", callback=progress)]
    for path, crop, lm, reason in results:
        if crop is None:
            failed.append({"path": path, "reason": reason})
            continue
        crops.append(crop)
        marks.append(lm)
        shas.append(hashes[path])
    start = len(index)
    if crops:
        _append(folder / "crops.npy", np.stack(crops))
        _append(folder / "landmarks.npy", np.stack(marks))
        index = pd.concat([index, pd.DataFrame({"sha": shas, "row": range(start, start + len(shas))})])
        index.to_csv(index_path, index=False)
    failed_df = pd.DataFrame(failed, columns=["path", "reason"])
    old_failed = folder / "failed.csv"
    if len(failed_df):
        previous = pd.read_csv(old_failed) if old_failed.exists() else failed_df.iloc[:0]
        pd.concat([previous, failed_df]).drop_duplicates("path").to_csv(old_failed, index=False)
    return CacheReport(
        folder=folder, total=len(paths), added=len(crops), reused=len(paths) - len(todo), failed=failed_df
    )


def _append(path: Path, rows: np.ndarray) -> None:
    if path.exists():
        old = np.load(path, mmap_mode="r")
        rows = np.concatenate([np.asarray(old), rows])
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, rows)
    tmp.replace(path)  # atomic: a crash never leaves a half-written array behind


class CropCache:
    """Read side: ``cache[path]`` -> aligned crop (memory-mapped, no decoding or detection)."""

    def __init__(self, root: str | Path, size: tuple[int, int] = (64, 64), template: str = "fer2013") -> None:
        self.folder = cache_folder(root, template, size)
        index = pd.read_csv(self.folder / "index.csv", dtype={"sha": str})
        self._row = dict(zip(index["sha"], index["row"]))
        self.crops = np.load(self.folder / "crops.npy", mmap_mode="r")
        self.landmarks = np.load(self.folder / "landmarks.npy", mmap_mode="r")

    def __contains__(self, path: str | Path) -> bool:
        return _hash(Path(path)) in self._row

    def __getitem__(self, path: str | Path) -> np.ndarray:
        return np.asarray(self.crops[self._row[_hash(Path(path))]])
