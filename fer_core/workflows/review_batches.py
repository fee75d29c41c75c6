"""A pseudo-label batch made in one call, from a folder, a manifest, uploaded photos or the bundled demo faces.

:func:`pseudo_label_batch` is the whole job (``fer-core pseudo-label`` and the Review page's "Create a batch" call
it): the name is checked, :func:`~.pseudo_label.propose` labels the pool and :func:`~.pseudo_label.write_batch`
stores it. :func:`pseudo_label_uploads` first saves uploaded photos into the batch's own folder under
``$FER_CORE_HOME`` (the store refers to images by path); :func:`create_demo_batch` makes the ready batch of the
bundled SynthFACS sample faces proposed by the embedded demo run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from .._utils.progress import ProgressFn
from ..batch.engine import EngineOptions
from ..errors import DatasetError, StoreError
from ..face import FaceDetector
from ..models import LoadedModel
from .pseudo_label import PseudoLabels, propose, run_thresholds, write_batch

__all__ = [
    "DEMO_BATCH",
    "DEMO_RUN",
    "NewBatch",
    "check_batch_name",
    "create_demo_batch",
    "demo_sources",
    "pseudo_label_batch",
    "pseudo_label_uploads",
    "suggest_batch_name",
    "upload_folder",
]

DEMO_BATCH = "demo-synthfacs"  # the ready batch: the bundled SynthFACS sample faces ...
DEMO_RUN = "synthfacs_bias_supervised"  # ... proposed by this embedded demo run
UPLOADS_DIR = "review_batches"  # uploaded pool photos: $FER_CORE_HOME/review_batches/<batch>/
MSG_NO_NAME = "a batch needs a name, got {name!r}"
MSG_NAME_TAKEN = "a batch named {name!r} already exists; pick another name"  # the store's own wording
MSG_NO_UPLOADS = "no photos were uploaded"
MSG_NO_POOL = "name the pool: a folder of face images or a manifest (.csv or .parquet) with a path column"


@dataclass(frozen=True)
class NewBatch:
    """A batch just written to the review store.

    Parameters
    ----------
    name
        The batch's name in the store.
    batch_id
        Its id in the store.
    store_url
        The store it was written to (password hidden).
    proposals
        What the model proposed, with the thresholds in force and the images left out.
    """

    name: str
    batch_id: int
    store_url: str
    proposals: PseudoLabels

    def summary(self) -> dict:
        """:meth:`PseudoLabels.summary` plus ``batch``, ``batch_id`` and ``store`` (what ``--json`` prints)."""
        return self.proposals.summary() | {"batch": self.name, "batch_id": self.batch_id, "store": self.store_url}

    def headline(self) -> str:
        """One line: how many faces of how many images went into the batch, and how many reach their threshold."""
        o = self.summary()
        return (
            f"batch {o['batch']} in {o['store']}: {o['n_faces']} faces of {o['n']} images, {o['above_threshold']} "
            f"above their class threshold ({o['threshold_source']})"
        )

    def skipped(self) -> str:
        """The images left out ('' when none): how many had no face and how many could not be read."""
        p = self.proposals
        if not (p.no_face or p.unreadable):
            return ""
        return f"skipped: {len(p.no_face)} without a face, {len(p.unreadable)} unreadable"

    def summary_lines(self) -> list[str]:
        """The headline, one line per class (threshold, proposed, above it, precision where truth is known), and
        the images skipped: what ``fer-core pseudo-label`` prints."""
        lines = [self.headline()]
        for lab, c in self.summary()["per_class"].items():
            prec = "" if c["precision_above"] is None else f", precision above threshold {c['precision_above']:.2f}"
            lines.append(
                f"  {lab:10s} threshold {c['threshold']:.3f}: proposed {c['proposed']:5d}, above "
                f"{c['above_threshold']:5d}{prec}"
            )
        if self.skipped():
            lines.append(f"  {self.skipped()}")
        return lines


def check_batch_name(store: Any, name: str) -> str:
    """``name`` stripped, if it can name a new batch of ``store``; checked before any image is read.

    Parameters
    ----------
    store
        The review store (:class:`fer_core.store.Store`).
    name
        The wanted name.

    Returns
    -------
    str
        The name without surrounding spaces.

    Raises
    ------
    StoreError
        The name is empty or a batch of that name exists.
    """
    clean = (name or "").strip()
    if not clean:
        raise StoreError(MSG_NO_NAME.format(name=name))
    if clean in set(store.list_batches()["name"]):
        raise StoreError(MSG_NAME_TAKEN.format(name=clean))
    return clean


def suggest_batch_name(run_name: str, existing: Sequence[str], today: dt.date | None = None) -> str:
    """``<run>-<YYYY-MM-DD>``, with ``-2``, ``-3`` ... when that is taken: the name a new batch is offered."""
    base = f"{run_name.removeprefix('run:')}-{(today or dt.date.today()).isoformat()}"
    taken, name, k = set(existing), base, 1
    while name in taken:
        k += 1
        name = f"{base}-{k}"
    return name


def pseudo_label_batch(
    store: Any,
    name: str,
    loaded: LoadedModel,
    pool: str | Path,
    *,
    run_folder: str | Path | None = None,
    tau: float | None = None,
    aligned: bool | None = None,
    target: str | None = None,
    reviews_per_item: int = 1,
    limit: int | None = None,
    detector: FaceDetector | None = None,
    show_progress: bool = False,
    progress: ProgressFn | None = None,
    engine: EngineOptions | None = None,
) -> NewBatch | None:
    """Propose a label for every face of ``pool`` and store the proposals as the new batch ``name``.

    The name is checked first: an empty or taken one raises ``StoreError`` before any image is read. With a
    ``run_folder`` its ``thresholds.json`` (unless ``tau``), its face setting (unless ``aligned``) and the column it
    learned (unless ``target``) are used, and the batch records the run, so the Review page explains faces with its
    model.

    Parameters
    ----------
    store
        The review store (:class:`fer_core.store.Store`).
    name
        The new batch's name.
    loaded
        The proposing model (the run's own model when ``run_folder`` is given).
    pool
        A folder of images (searched recursively) or a manifest with a ``path`` column.
    run_folder
        The run the model comes from, or None for a model that is not a run's.
    tau
        One fixed threshold for every class instead of the run's or the Dynamic Threshold Module's.
    aligned
        True: the pool's images are aligned face crops; False: detect faces; None: the run's setting, else detect.
    target
        A pool column of known labels (kept as ``true_label``); None: the column the run learned, else ``label``.
    reviews_per_item
        Distinct annotators each face needs (2+ for agreement).
    limit
        Use only the first ``limit`` images.
    detector
        A shared face detector; None uses the process-wide one.
    show_progress
        Show a tqdm bar over the images.
    progress
        Called as ``progress(done, total)`` after each block of images.
    engine
        How the batch engine runs; None: in this process.

    Returns
    -------
    NewBatch or None
        The stored batch; None on the ranks other than 0 of a multi-process job (rank 0 writes the batch).

    Raises
    ------
    DatasetError
        No pool named, or it is empty, not a folder or manifest, lacks a ``path`` column, or no image holds a face.
    """
    from ..runs import open_run

    name = check_batch_name(store, name)
    if not str(pool).strip():  # Path("") is the working directory: never search it by accident
        raise DatasetError(MSG_NO_POOL)
    run = open_run(run_folder) if run_folder else None
    thresholds = run_thresholds(run.folder) if run is not None and tau is None else None
    if aligned is None and run is not None:
        aligned = run.aligned
    if target is None:
        target = run.target_column if run is not None else "label"
    proposals = propose(
        loaded,
        pool,
        thresholds,
        tau,
        aligned,
        detector=detector,
        target=target,
        limit=limit,
        show_progress=show_progress,
        progress=progress,
        engine=engine,
    )
    if proposals is None:
        return None
    batch_id = write_batch(
        store,
        name,
        proposals,
        run_name=run.name if run is not None else loaded.name,
        run_path=run.folder.resolve() if run is not None else None,
        recipe=run.config.get("recipe") if run is not None else None,
        pool=str(pool),
        reviews_per_item=reviews_per_item,
    )
    return NewBatch(name, batch_id, store.url, proposals)


def upload_folder(name: str) -> Path:
    """Where uploaded pool photos of batch ``name`` are saved: ``$FER_CORE_HOME/review_batches/<name>`` (a name
    that is not a plain file name gets a safe one, with a short hash of the name so two names never share it)."""
    from ..models.user_models import fer_core_home

    safe = re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_-")[:64]
    if safe != name:
        safe = f"{safe or 'batch'}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"
    return fer_core_home() / UPLOADS_DIR / safe


def _save_uploads(files: Sequence[tuple[str, bytes]], folder: Path) -> None:
    """Write each image upload as ``<sha256 of its bytes><suffix>``: no user-chosen path and no file name (often a
    person's name) on disk; the same photo twice is one file; a file that is not an image by its name is left out."""
    from ..data.adapters import IMAGE_SUFFIXES

    folder.mkdir(parents=True, mode=0o700)
    for filename, data in files:
        suffix = Path(filename).suffix.lower()
        if suffix in IMAGE_SUFFIXES:
            (folder / f"{hashlib.sha256(data).hexdigest()[:24]}{suffix}").write_bytes(data)


def pseudo_label_uploads(
    store: Any, name: str, loaded: LoadedModel, files: Sequence[tuple[str, bytes]], **options: Any
) -> NewBatch:
    """Save uploaded photos into the batch's own folder (:func:`upload_folder`), then :func:`pseudo_label_batch`
    on that folder.

    The store refers to images by path, so the photos must be on disk while the batch is reviewed. Nothing is
    written before the name is checked; when the batch cannot be made (no face in any photo ...) the folder is
    removed again, and photos left out of the batch (no face, unreadable) are deleted, so only the faces people
    will review stay on disk. Delete the folder to remove them.

    Parameters
    ----------
    store
        The review store (:class:`fer_core.store.Store`).
    name
        The new batch's name.
    loaded
        The proposing model.
    files
        The uploads as (file name, bytes); the name only gives the image type.
    **options
        Passed on to :func:`pseudo_label_batch` (``run_folder``, ``tau``, ``aligned``, ``progress`` ...).

    Returns
    -------
    NewBatch
        The stored batch; its ``pool`` in the store is the folder.

    Raises
    ------
    StoreError
        The name is empty or taken, or the folder exists already.
    DatasetError
        No photos, or no face in any of them.
    """
    name = check_batch_name(store, name)
    if not files:
        raise DatasetError(MSG_NO_UPLOADS)
    folder = upload_folder(name)
    if folder.exists():
        raise StoreError(f"{folder} exists already (photos of an earlier batch {name!r}?); pick another name")
    _save_uploads(files, folder)
    made = False
    try:
        new = pseudo_label_batch(store, name, loaded, folder, **options)
        made = True
    except DatasetError as exc:  # name the uploads, not a folder that is gone
        raise DatasetError(f"{str(exc).replace(str(folder), 'the uploaded photos')}; none was kept") from exc
    finally:
        if not made:  # any failure, an interrupt too: no photo of a batch that was not made stays on disk
            shutil.rmtree(folder, ignore_errors=True)
    kept = {Path(p).name for p in new.proposals.items["path"]}
    for path in folder.iterdir():
        if path.name not in kept:
            path.unlink()
    return new


def demo_sources() -> tuple[Path, Path]:
    """(the embedded demo run's folder, the bundled SynthFACS sample manifest) of the demo batch."""
    from ..models import ASSETS_DIR
    from ..runs import EMBEDDED_RUNS_DIR

    return EMBEDDED_RUNS_DIR / DEMO_RUN, ASSETS_DIR / "synthfacs_sample" / "manifest.csv"


def create_demo_batch(store: Any, loaded: LoadedModel | None = None, progress: ProgressFn | None = None) -> NewBatch:
    """The ready batch :data:`DEMO_BATCH`: the 8 bundled SynthFACS sample faces (their true labels kept, to measure
    the proposals) proposed by the embedded demo run :data:`DEMO_RUN`; well under a second on a CPU.

    Parameters
    ----------
    store
        The review store (:class:`fer_core.store.Store`).
    loaded
        The demo run's model if already loaded (the dashboard's cached one); None loads it.
    progress
        Called as ``progress(done, total)``.

    Returns
    -------
    NewBatch
        The stored demo batch (a ``StoreError`` when it exists already).
    """
    from ..runs import open_run

    run_folder, pool = demo_sources()
    check_batch_name(store, DEMO_BATCH)
    new = pseudo_label_batch(
        store, DEMO_BATCH, loaded or open_run(run_folder).model(), pool, run_folder=run_folder, progress=progress
    )
    return cast(NewBatch, new)  # in this process: never None (that is for the other ranks of a multi-process job)
