"""An unlabelled face pool: a folder of images (searched recursively) or a manifest, as rows and absolute paths."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ..errors import DatasetError
from .adapters import IMAGE_SUFFIXES
from .manifest import read_manifest, resolve_paths

__all__ = ["pool_table", "pool_truth"]


def pool_table(source: str | Path) -> tuple[pd.DataFrame, list[Path]]:
    """Rows and absolute image paths of a pool. A manifest needs only a ``path`` column; its other columns (a label,
    if any) come along; every image must exist."""
    src = Path(source)
    if src.is_dir():
        files = sorted(p for p in src.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        if not files:
            raise DatasetError(f"pool folder {src} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
        return pd.DataFrame({"path": [str(p.relative_to(src)) for p in files]}), files
    if not src.is_file():
        raise DatasetError(f"pool {src} is neither a folder of images nor a manifest file")
    table = read_manifest(src)
    if "path" not in table:
        raise DatasetError(f"pool manifest {src} needs a path column; its columns are {list(table.columns)}")
    paths = resolve_paths(table, src.parent)
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise DatasetError(f"{len(missing)} image(s) of the pool {src} do not exist, e.g. {missing[0]}")
    return table, paths


def pool_truth(table: pd.DataFrame, target: str, labels: Sequence[str]) -> list[int]:
    """Per row, the index of its ``target`` value among ``labels``, or -1 (no such column, or not a known label):
    the truth a pool may carry, used only to measure pseudo-labels."""
    labels = list(labels)
    if target not in table:
        return [-1] * len(table)
    return [labels.index(str(v)) if str(v) in labels else -1 for v in table[target]]
