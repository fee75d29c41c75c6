"""The faces of a labelled manifest, streamed in chunks: one loading rule for evaluation and the dataset studies.

``aligned=True`` takes every image as an aligned crop (resized only, the template's landmarks and region masks);
otherwise the largest detected face is aligned. Rows without a face or with an unreadable image are counted and
listed, never silently dropped, and never stop the scan.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .._utils.progress import ProgressFn
from ..errors import DatasetError
from ..face import Face, FaceDetector, aligned_crop, default_detector, find_faces, load_image
from ..models import LoadedModel
from ..names import STATUSES
from .manifest import read_manifest, resolve_paths, validate_manifest

__all__ = [
    "DERIVED_COLUMNS",
    "FaceChunk",
    "ManifestScan",
    "face_of_image",
    "label_index",
    "label_indices",
    "scan_manifest",
]

#: group columns a scan measures itself when the manifest has none: ``pose_bin``, the head pose from the mesh
DERIVED_COLUMNS = ("pose_bin",)


def face_of_image(
    path: str | Path, loaded: LoadedModel, aligned: bool, detector: FaceDetector | None, landmarker: str = "mtcnn5"
) -> Face:
    """The one face of a dataset image, as every scan takes it: the whole image as an aligned crop, or the largest
    detected face aligned (raises FaceNotFoundError / ImageLoadError)."""
    card = loaded.card
    image = load_image(path)
    if aligned:
        return aligned_crop(image, card.input_size, card.alignment, landmarker)
    return find_faces(image, card.input_size, card.alignment, detector, 1, landmarker)[0]


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


def label_indices(table: pd.DataFrame, target: str, labels: Sequence[str]) -> np.ndarray:
    """Class index of every row's ``target`` label; -1 where the column is missing or the cell empty."""
    if target not in table.columns:
        return np.full(len(table), -1, dtype=np.int64)
    return np.asarray(
        [-1 if _is_empty(v) else label_index(_label_text(v), labels) for v in table[target]], dtype=np.int64
    )


def _is_empty(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or str(value).strip() == ""


def _label_text(value: object) -> str:
    """A label cell as text; a class number read as a float (a column with empty cells) back to its integer."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


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
    """A validated manifest and what its scan found; the skip lists and ``status`` fill while :meth:`chunks` runs.

    ``truth`` is -1 on rows without a label (a manifest with no label column, or empty cells): label-free audits
    use every row, accuracy only the labelled ones. ``landmarker`` finds each face's landmarks and regions; with
    the mesh, a job's faces carry their head pose and :meth:`note_poses` writes the ``pose_bin`` column.
    """

    table: pd.DataFrame
    paths: list[Path]
    truth: np.ndarray
    loaded: LoadedModel
    aligned: bool
    detector: FaceDetector | None
    root: Path = Path(".")
    workers: int | None = None
    landmarker: str = "mtcnn5"
    no_face: list[str] = field(default_factory=list)
    unreadable: list[dict] = field(default_factory=list)
    status: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))

    def __post_init__(self) -> None:
        if len(self.status) != len(self.table):
            self.status = np.full(len(self.table), "", dtype=object)

    @property
    def n(self) -> int:
        return len(self.table)

    def dataset(self):
        """The rows as the batch engine's :class:`~fer_core.batch.FaceRows` (decoded and aligned where it runs)."""
        from ..batch.faces import FaceRows

        card = self.loaded.card
        return FaceRows(self.paths, card.input_size, card.alignment, self.aligned, self.detector, self.landmarker)

    def face(self, i: int) -> Face:
        """The aligned face of row ``i`` (raises FaceNotFoundError / ImageLoadError)."""
        return face_of_image(self.paths[i], self.loaded, self.aligned, self.detector, self.landmarker)

    def note_poses(self, face_rows: np.ndarray, pose: np.ndarray) -> None:
        """Write the ``pose_bin`` column (and ``yaw``, ``pitch``, ``roll`` in degrees) from a job's (N, 3) poses of
        ``face_rows``, each where the manifest has no such column of its own (a user's columns are never
        overwritten); rows without a face, or whose face the mesh did not fit, are ``no pose``."""
        from ..face.pose import POSE_ANGLES, pose_columns

        angles = np.full((self.n, 3), np.nan)
        angles[np.asarray(face_rows, dtype=np.int64)] = pose
        measured = pose_columns(angles)
        for name in ("pose_bin", *POSE_ANGLES):
            if name not in self.table.columns:
                self.table[name] = measured[name]

    def note(self, row: int, status: str, error: str = "") -> None:
        """Record what happened to ``row``: its status, and the skip list it joins when it has no face."""
        self.status[row] = status
        if status == "no_face":
            self.no_face.append(str(self.paths[row]))
        elif status == "unreadable":
            self.unreadable.append({"path": str(self.paths[row]), "error": error})

    def record(self, records: Sequence) -> FaceChunk:
        """Note what happened to each of a block's rows (status, skip lists); the faces found, as a chunk."""
        for rec in records:
            self.note(rec.row, rec.status, rec.error)
        found = [rec for rec in records if rec.face is not None]
        rows = np.asarray([rec.row for rec in found], dtype=np.int64)
        return FaceChunk(rows, self.truth[rows], [rec.face for rec in found])

    def blocks(
        self,
        block: int = 256,
        show_progress: bool = False,
        progress: ProgressFn | None = None,
        workers: int | None = None,
        done: Iterable[int] = (),
    ) -> Iterator[tuple[list, FaceChunk]]:
        """(records, faces found) of every block of ``block`` rows not in ``done``, in row order, loaded by
        ``workers`` processes (default: the scan's ``workers``, else :func:`~fer_core.batch.auto_workers`); a bar
        and ``progress(rows seen, rows to do)`` after each block. The batch engine's one loop over a scan."""
        from ..batch.blocks import RowBlocks, auto_workers, block_rows, iter_blocks

        n_workers = auto_workers(self.n, workers if workers is not None else self.workers, self.aligned)
        sampler = RowBlocks(self.n, block, done=done)
        todo = sum(len(block_rows(self.n, block, k)) for k in sampler.blocks)
        bar = None
        if show_progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=self.n, initial=self.n - todo, desc="faces")
        seen = 0
        try:
            for records in iter_blocks(self.dataset(), sampler, n_workers):
                part = self.record(records)
                seen += len(records)
                if bar is not None:
                    bar.update(len(records))
                if progress is not None:
                    progress(seen, todo)
                yield records, part
        finally:
            if bar is not None:
                bar.close()

    def chunks(
        self,
        chunk: int = 256,
        show_progress: bool = False,
        progress: ProgressFn | None = None,
        workers: int | None = None,
    ) -> Iterator[FaceChunk]:
        """The faces of every block of ``chunk`` rows that has any, in row order (see :meth:`blocks`). Blocks
        depend on ``chunk`` only, so what a model computes on them is the same for any number of workers."""
        for _, part in self.blocks(chunk, show_progress, progress, workers):
            if len(part.rows):
                yield part

    def detection_counts(self, rows: np.ndarray | None = None) -> dict[str, int]:
        """How many of ``rows`` (default: all) were detected, taken as a crop, had no face or were unreadable."""
        status = self.status if rows is None else self.status[rows]
        return {s: int((status == s).sum()) for s in STATUSES}


def scan_manifest(
    loaded: LoadedModel,
    manifest: str | Path,
    target: str = "label",
    aligned: bool | None = None,
    detector: FaceDetector | None = None,
    columns: Sequence[str] = (),
    limit: int | None = None,
    seed: int = 0,
    require_labels: bool = True,
    workers: int | None = None,
    landmarker: str | None = None,
) -> ManifestScan:
    """Validate ``manifest`` (its ``target`` and ``columns`` must exist, every label must be one of the model's)
    before any image is read. ``limit`` keeps a random sample of that many rows (fixed by ``seed``), in file order.
    ``require_labels=False`` accepts a manifest without the ``target`` column or with empty cells in it (truth -1:
    the label-free audits); ``workers`` loader processes (None: :func:`~fer_core.batch.auto_workers`).

    ``landmarker`` (None: ``mtcnn5``, or the mesh where a column is ``pose_bin``) finds each face's landmarks; a
    ``pose_bin`` column the manifest lacks is measured by the mesh (DatasetError where it cannot run, or with
    ``mtcnn5``)."""
    from ..face import resolve_landmarker

    table = validate_manifest(read_manifest(manifest), require_labels=require_labels)
    derived = [c for c in columns if c in DERIVED_COLUMNS and c not in table.columns]
    missing = [
        c for c in ((target,) if require_labels else ()) + tuple(columns) if c not in table.columns and c not in derived
    ]
    if missing:
        raise DatasetError(f"manifest {manifest} has no column(s) {missing}; its columns are {list(table.columns)}")
    if derived:
        if landmarker == "mtcnn5":
            raise DatasetError("grouping by pose_bin needs the mesh468 landmarker: head pose comes from the mesh")
        landmarker = "mesh468"
    try:
        landmarker = resolve_landmarker(landmarker or "mtcnn5")
    except ValueError as exc:
        raise DatasetError(f"{exc}{' (needed for pose_bin)' if derived else ''}") from None
    if limit is not None and limit < len(table):
        keep = np.sort(np.random.default_rng(seed).choice(len(table), size=int(limit), replace=False))
        table = table.iloc[keep].reset_index(drop=True)
    truth = label_indices(table, target, loaded.card.label_names)
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
        workers=workers,
        landmarker=landmarker,
    )
