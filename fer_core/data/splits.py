"""Subject-independent splits, written once to a split file and reused by training, evaluation and fairness."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DatasetError


def subject_kfold(subjects: pd.Series | np.ndarray, k: int = 3, seed: int = 0) -> np.ndarray:
    """Fold id (0..k-1) per row; every subject's rows land in one fold; folds hold near-equal row counts."""
    subjects = pd.Series(np.asarray(subjects)).astype(str)
    if subjects.eq("").any():
        raise DatasetError("subject-independent folds need a subject for every row; some are empty")
    counts = subjects.value_counts()
    if len(counts) < k:
        raise DatasetError(f"{len(counts)} subjects cannot fill {k} folds")
    rng = np.random.default_rng(seed)
    order = counts.index.to_numpy()[rng.permutation(len(counts))]
    order = sorted(order, key=lambda s: -counts[s])  # stable: largest subjects first, ties in random order
    load = np.zeros(k)
    fold_of: dict[str, int] = {}
    for s in order:  # greedy: next subject into the lightest fold
        f = int(load.argmin())
        fold_of[s] = f
        load[f] += counts[s]
    return subjects.map(fold_of).to_numpy()


def split_path(folder: str | Path, dataset: str, seed: int) -> Path:
    return Path(folder) / f"{dataset}_{seed}.csv"


def write_split(
    manifest: pd.DataFrame, folder: str | Path, dataset: str, seed: int = 0, k: int = 3, by: str = "subject"
) -> Path:
    """Write ``splits/<dataset>_<seed>.csv`` (path, fold) once; an existing file is kept, never overwritten."""
    path = split_path(folder, dataset, seed)
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"path": manifest["path"], "fold": subject_kfold(manifest[by], k, seed)}).to_csv(path, index=False)
    return path


def read_split(path: str | Path, manifest: pd.DataFrame) -> np.ndarray:
    """Fold id per manifest row from a split file; rows the file does not know are an error, not a guess."""
    table = pd.read_csv(path)
    fold = dict(zip(table["path"].astype(str), table["fold"]))
    missing = [p for p in manifest["path"].astype(str) if p not in fold]
    if missing:
        raise DatasetError(f"{len(missing)} manifest rows are not in split file {path} (e.g. {missing[0]})")
    return np.array([fold[p] for p in manifest["path"].astype(str)])
