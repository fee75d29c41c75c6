"""Plant a "Clever Hans" shortcut: a small bright mark, not an expression, on a share of one class's faces.

The explanation atlas must find a model that learned the mark instead of the face (``fer-core claim shortcut``). A
marked copy of a manifest's dataset is written beside the original images it leaves untouched: the chosen rows get a
magenta square in the crop's top-left corner (on hair or background, outside every face region), and a ``marked``
column ("yes"/"no") says which, so the planted set is known exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import DatasetError
from .manifest import read_manifest, resolve_paths

__all__ = ["Mark", "plant_mark", "write_marked_dataset", "MARK_COLUMN"]

MARK_COLUMN = "marked"


@dataclass(frozen=True)
class Mark:
    """Where the mark goes, as fractions of the crop's side (``left``, ``top``, ``size``), and its RGB colour."""

    left: float = 0.04
    top: float = 0.04
    size: float = 0.14
    colour: tuple[int, int, int] = (255, 0, 255)

    def box(self, width: int, height: int) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1) in pixels of an image of that size; at least 2 pixels a side."""
        side = max(2, round(self.size * min(width, height)))
        x0, y0 = round(self.left * width), round(self.top * height)
        return x0, y0, min(width, x0 + side), min(height, y0 + side)

    def mask(self, width: int, height: int) -> np.ndarray:
        """(H, W) boolean: the mark's pixels."""
        out = np.zeros((height, width), dtype=bool)
        x0, y0, x1, y1 = self.box(width, height)
        out[y0:y1, x0:x1] = True
        return out


def plant_mark(image: np.ndarray, mark: Mark = Mark()) -> np.ndarray:
    """A copy of an (H, W, 3) uint8 image with the mark painted on."""
    out = np.array(image, dtype=np.uint8, copy=True)
    x0, y0, x1, y1 = mark.box(out.shape[1], out.shape[0])
    out[y0:y1, x0:x1] = mark.colour
    return out


def write_marked_dataset(
    manifest: str | Path,
    out: str | Path,
    label: str,
    fraction: float,
    seed: int = 0,
    mark: Mark = Mark(),
    label_column: str = "label",
) -> Path:
    """Write ``out/manifest.csv`` and ``out/images/``: every row of ``manifest``, with the mark on ``fraction`` of the
    rows labelled ``label`` (drawn by ``seed``). Reuses ``out`` when it already holds the same marked set.

    Parameters
    ----------
    manifest
        A manifest with a ``path`` and a ``label_column`` column.
    out
        The folder of the marked copy.
    label
        The class whose faces get the mark.
    fraction
        Share of that class's rows marked, in (0, 1].
    seed
        Seed of the draw.
    mark
        Where and what the mark is.
    label_column
        The manifest's label column.

    Returns
    -------
    Path
        The marked manifest.

    Raises
    ------
    DatasetError
        When the manifest has no such label or column, or ``fraction`` is outside (0, 1].
    """
    table = read_manifest(manifest)
    if label_column not in table.columns or label not in set(table[label_column].astype(str)):
        raise DatasetError(f"manifest {manifest} has no rows labelled {label!r} in column {label_column!r}")
    if not 0 < fraction <= 1:
        raise DatasetError(f"the marked fraction must be in (0, 1], got {fraction}")
    rows = np.flatnonzero(table[label_column].astype(str).to_numpy() == label)
    chosen = np.random.default_rng(seed).choice(rows, size=max(1, round(fraction * len(rows))), replace=False)
    marked = np.zeros(len(table), dtype=bool)
    marked[chosen] = True
    out = Path(out)
    target = out / "manifest.csv"
    if target.is_file():
        done = read_manifest(target)
        if len(done) == len(table) and (done[MARK_COLUMN].astype(str).to_numpy() == "yes").tolist() == marked.tolist():
            return target
    (out / "images").mkdir(parents=True, exist_ok=True)
    paths = resolve_paths(table, Path(manifest).parent)
    new_paths = []
    for i, src in enumerate(paths):
        image = np.asarray(Image.open(src).convert("RGB"))
        if marked[i]:
            image = plant_mark(image, mark)
        rel = f"images/{i:06d}.png"
        Image.fromarray(image).save(out / rel)
        new_paths.append(rel)
    table = table.copy()
    table["path"] = new_paths
    if "mask_path" in table.columns:  # the evidence masks stay where they are
        table["mask_path"] = [
            str(p) for p in resolve_paths(table.assign(path=table["mask_path"]), Path(manifest).parent)
        ]
    table[MARK_COLUMN] = np.where(marked, "yes", "no")
    table.to_csv(target, index=False)
    return target
