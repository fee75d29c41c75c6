"""Pseudo-labels for an unlabelled face pool, written to the review store as one batch for annotators.

The proposing model is a run's (or any registered) model; the threshold in force for each class is the run's
``thresholds.json`` (what ``semi_dtm`` ended with), else a fixed ``tau`` if given, else the Dynamic Threshold Module's
last-stage rule computed on this pool (METHODS.md section 3: per predicted class, a quantile of its confidences).
Every face goes into the batch, above or below its class threshold, so reviewers can also work through the doubtful
ones; labels already in a pool manifest are kept as ``true_label`` to measure the proposals.

:func:`propose` computes the proposals and :func:`write_batch` stores them; :mod:`.review_batches` is the whole job
(``fer-core pseudo-label`` and the Review page's "Create a batch").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from .._utils.progress import ProgressFn
from ..batch.engine import EngineOptions, options_for, run_job
from ..batch.jobs import ClassifyJob
from ..data.manifest_faces import ManifestScan
from ..data.pool import pool_table, pool_truth
from ..errors import DatasetError
from ..face import FaceDetector, default_detector
from ..losses import DynamicThreshold
from ..models import LoadedModel
from ..taxonomy import LABEL_SETS

__all__ = ["PseudoLabels", "label_set_of", "propose", "run_thresholds", "write_batch"]


@dataclass
class PseudoLabels:
    """One proposal per face of the pool: path, label, confidence, threshold, above_threshold, true_label, probs."""

    items: pd.DataFrame
    labels: tuple[str, ...]
    threshold_source: str
    thresholds: dict[str, float]
    n: int
    no_face: list[str]
    unreadable: list[dict]

    def summary(self) -> dict:
        it = self.items
        above = it[it["above_threshold"]]
        known = it[it["true_label"].notna() & (it["true_label"] != "")]
        known_above = known[known["above_threshold"]]
        per_class = {}
        for lab in self.labels:
            k = known_above[known_above["label"] == lab]
            per_class[lab] = {
                "threshold": round(self.thresholds[lab], 4),
                "proposed": int((it["label"] == lab).sum()),
                "above_threshold": int((above["label"] == lab).sum()),
                "precision_above": round(float((k["true_label"] == lab).mean()), 4) if len(k) else None,
            }
        return {
            "n": self.n,
            "n_faces": len(it),
            "above_threshold": len(above),
            "threshold_source": self.threshold_source,
            "per_class": per_class,
            "precision_above": round(float((known_above["true_label"] == known_above["label"]).mean()), 4)
            if len(known_above)
            else None,
            "no_face": self.no_face,
            "unreadable": self.unreadable,
        }


def _dtm_on_pool(probs: np.ndarray, quantile: float = 0.9, t_min: float = 0.5) -> np.ndarray:
    dtm = DynamicThreshold(probs.shape[1], schedule=(quantile,), t_min=t_min)
    dtm.update(torch.from_numpy(probs).float())
    return dtm.thresholds().numpy()


def propose(
    loaded: LoadedModel,
    pool: str | Path,
    thresholds: dict[str, float] | None = None,
    tau: float | None = None,
    aligned: bool | None = None,
    detector: FaceDetector | None = None,
    target: str = "label",
    limit: int | None = None,
    show_progress: bool = False,
    progress: ProgressFn | None = None,
    engine: EngineOptions | None = None,
) -> PseudoLabels | None:
    """Classify every face of ``pool`` and mark which proposals reach their class threshold.

    The threshold of each class is, in order of precedence, ``thresholds``, ``tau``, or the Dynamic Threshold
    Module's rule on this pool (per predicted class the 0.9 quantile of its confidences, at least 0.5; 1.0 for a
    class no face was predicted as). Images without a face or unreadable are counted and listed.

    Parameters
    ----------
    loaded
        The proposing model.
    pool
        A folder of images (searched recursively), or a manifest with a ``path`` column (its other columns come
        along); every image must exist.
    thresholds
        Per-class thresholds (a run's ``thresholds.json``), one for every class of the model.
    tau
        One fixed threshold for every class, used when ``thresholds`` is None.
    aligned
        True: every image already is an aligned face crop (resized only); False or None: the largest detected
        face of each image.
    detector
        A shared face detector when faces are detected; None uses the process-wide one.
    target
        A pool column with known labels, kept as ``true_label`` to measure the proposals (absent or unknown
        values: None).
    limit
        Use only the first ``limit`` images of the pool.
    show_progress
        Show a tqdm bar over the images.
    progress
        Called as ``progress(done, total)`` after each block of images.
    engine
        How the batch engine runs (loader workers, devices, nodes, shard folder); None: in this process.

    Returns
    -------
    PseudoLabels or None
        One proposal per face (path, label, confidence, threshold, above_threshold, true_label, probs), the
        thresholds in force and where they come from, and the images left out; None on the ranks other than 0 of
        a multi-process job.

    Raises
    ------
    DatasetError
        No face in any image of the pool, or ``thresholds`` lacking a class.
    """
    table, paths = pool_table(pool)
    if limit is not None and limit < len(table):
        table, paths = table.iloc[:limit].reset_index(drop=True), paths[:limit]
    labels = loaded.card.label_names
    truth = np.asarray(pool_truth(table, target, labels), dtype=np.int64)
    det = None if aligned else (detector or default_detector())
    scan = ManifestScan(
        table=table,
        paths=list(paths),
        truth=truth,
        loaded=loaded,
        aligned=bool(aligned),
        detector=det,
        root=Path(pool).parent,
    )
    found = run_job(scan, ClassifyJob(loaded, embeddings=False), options_for(engine, show_progress), progress)
    if found is None:  # a rank other than 0 of a multi-process job: rank 0 proposes
        return None
    if not len(found.face_rows):
        raise DatasetError(f"no face found in any image of {pool}")
    idx, p = found.face_rows, found.outputs["probs"]
    if thresholds is not None:
        missing = [lab for lab in labels if lab not in thresholds]
        if missing:
            raise DatasetError(f"thresholds lack class(es) {missing}")
        t, source = np.asarray([thresholds[lab] for lab in labels]), "run (thresholds.json)"
    elif tau is not None:
        t, source = np.full(len(labels), float(tau)), f"fixed {tau}"
    else:
        t, source = _dtm_on_pool(p), "dtm on this pool (quantile 0.9, min 0.5)"
    pred = p.argmax(1)
    conf = p.max(1)
    items = pd.DataFrame(
        {
            "path": [str(paths[i]) for i in idx],
            "label": [labels[k] for k in pred],
            "confidence": conf,
            "threshold": t[pred],
            "above_threshold": conf >= t[pred],
            "true_label": [labels[truth[i]] if truth[i] >= 0 else None for i in idx],
            "probs": [dict(zip(labels, map(float, row))) for row in p],
        }
    )
    return PseudoLabels(
        items=items,
        labels=labels,
        threshold_source=source,
        thresholds={lab: float(v) for lab, v in zip(labels, t)},
        n=scan.n,
        no_face=scan.no_face,
        unreadable=scan.unreadable,
    )


def run_thresholds(run_folder: str | Path) -> dict[str, float] | None:
    """A run's final per-class thresholds (``thresholds.json`` of a semi_dtm run), or None."""
    from ..runs import RunFolder

    saved = RunFolder(run_folder).thresholds()
    return saved["thresholds"] if saved else None


def label_set_of(labels: Sequence[str]) -> str | None:
    """The taxonomy label-set whose classes are exactly ``labels`` (in any order), so the store can check relabels."""
    for name, values in LABEL_SETS.items():
        if set(values) == set(labels):
            return name
    return None


def write_batch(
    store: Any,
    name: str,
    proposals: PseudoLabels,
    run_name: str | None = None,
    run_path: str | Path | None = None,
    recipe: str | None = None,
    pool: str = "",
    reviews_per_item: int = 1,
) -> int:
    """Store the proposals as batch ``name`` (one transaction); returns its id."""
    run = store.add_run(run_name, str(run_path) if run_path else None, recipe) if run_name else None
    return store.create_batch(
        name,
        proposals.items.to_dict("records"),
        run=run,
        pool=pool,
        label_set=label_set_of(proposals.labels),
        reviews_per_item=reviews_per_item,
    )
