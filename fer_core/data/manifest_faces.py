"""The faces of a labelled manifest, streamed in chunks: one loading rule for evaluation and the dataset studies.

``aligned=True`` takes every image as an aligned crop (resized only, the template's landmarks and region masks);
otherwise the largest detected face is aligned. Rows without a face or with an unreadable image are counted and
listed, never silently dropped, and never stop the scan.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .._utils.progress import ProgressFn, progress_iter
from ..errors import DatasetError, FaceNotFoundError, ImageLoadError
from ..face import Face, FaceDetector, aligned_crop, default_detector, find_faces, load_image
from ..models import LoadedModel
from .manifest import read_manifest, resolve_paths, validate_manifest

__all__ = ["FaceChunk", "ManifestScan", "label_index", "scan_manifest"]


def label_index(label: str, labels: Sequence[str]) -> int:
    """Index of a label given by name, or by its class number."""
    labels = tuple(labels)
    if label in labels:
        return labels.index(label)
    if label.lstrip("-").isdigit() and 0 <= int(label) < len(labels):
        return int(label)
    raise DatasetError(
        f"label {label!r} is not one of the model's labels {', '.join(labels)} (or 0..{len(labels) - 1})"
    )


@dataclass
class FaceChunk:
    """Up to ``chunk`` faces: their manifest row numbers, true class indices and aligned faces."""

    rows: np.ndarray
    truth: np.ndarray
    faces: list[Face]

    @property
    def crops(self) -> list[np.ndarray]:
        return [f.crop for f in self.faces]


@dataclass
class ManifestScan:
    """A validated manifest and what its scan found; the skip lists fill while :meth:`chunks` runs."""

    table: pd.DataFrame
    paths: list[Path]
    truth: np.ndarray
    loaded: LoadedModel
    aligned: bool
    detector: FaceDetector | None
    root: Path = Path(".")
    no_face: list[str] = field(default_factory=list)
    unreadable: list[dict] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.table)

    def face(self, i: int) -> Face:
        """The aligned face of row ``i`` (raises FaceNotFoundError / ImageLoadError)."""
        card = self.loaded.card
        image = load_image(self.paths[i])
        if self.aligned:
            return aligned_crop(image, card.input_size, card.alignment)
        return find_faces(image, card.input_size, card.alignment, self.detector, max_faces=1)[0]

    def chunks(
        self, chunk: int = 256, show_progress: bool = False, progress: ProgressFn | None = None
    ) -> Iterator[FaceChunk]:
        rows: list[int] = []
        faces: list[Face] = []
        for i in progress_iter(range(self.n), show_progress, "faces", callback=progress):
            try:
                faces.append(self.face(i))
                rows.append(i)
            except FaceNotFoundError:
                self.no_face.append(str(self.paths[i]))
            except ImageLoadError as exc:
                self.unreadable.append({"path": str(self.paths[i]), "error": str(exc)})
            if len(faces) == chunk:
                yield FaceChunk(np.asarray(rows), self.truth[rows], faces)
                rows, faces = [], []
        if faces:
            yield FaceChunk(np.asarray(rows), self.truth[rows], faces)


def scan_manifest(
    loaded: LoadedModel,
    manifest: str | Path,
    target: str = "label",
    aligned: bool | None = None,
    detector: FaceDetector | None = None,
    columns: Sequence[str] = (),
    limit: int | None = None,
    seed: int = 0,
) -> ManifestScan:
    """Validate ``manifest`` (its ``target`` and ``columns`` must exist, every label must be one of the model's)
    before any image is read. ``limit`` keeps a random sample of that many rows (fixed by ``seed``), in file order."""
    table = validate_manifest(read_manifest(manifest))
    missing = [c for c in (target, *columns) if c not in table.columns]
    if missing:
        raise DatasetError(f"manifest {manifest} has no column(s) {missing}; its columns are {list(table.columns)}")
    if limit is not None and limit < len(table):
        keep = np.sort(np.random.default_rng(seed).choice(len(table), size=int(limit), replace=False))
        table = table.iloc[keep].reset_index(drop=True)
    labels = loaded.card.label_names
    truth = np.asarray([label_index(str(v), labels) for v in table[target]], dtype=np.int64)
    paths = resolve_paths(table, Path(manifest).parent)
    det = None if aligned else (detector or default_detector())
    return ManifestScan(
        table=table,
        paths=list(paths),
        truth=truth,
        loaded=loaded,
        aligned=bool(aligned),
        detector=det,
        root=Path(manifest).parent,
    )
