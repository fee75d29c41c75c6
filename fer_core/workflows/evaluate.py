"""Accuracy and fairness of a model on a labelled manifest, counting (never dropping) images without a usable face.

``evaluate_manifest`` is what ``fer-core evaluate MODEL_OR_RUN --data MANIFEST --group-by COL`` prints: overall
accuracy, macro-F1 and per-class figures, and with ``group_by`` the per-group report of
:func:`fer_core.fairness.fairness_report` (intervals, gaps, MMD between the groups' embeddings, probe accuracy).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .._utils.bootstrap import cluster_ids
from .._utils.progress import ProgressFn
from ..batch.engine import EngineOptions, options_for, run_job
from ..batch.jobs import ClassifyJob, embed_crops
from ..data.manifest import read_manifest
from ..data.manifest_faces import DERIVED_COLUMNS, scan_manifest
from ..errors import DatasetError
from ..face import FaceDetector
from ..models import LoadedModel

__all__ = ["ManifestPredictions", "evaluate_manifest", "predict_manifest", "embed_crops"]


@dataclass
class ManifestPredictions:
    """The rows that had a face, their probabilities and embeddings, and the rows that did not."""

    rows: pd.DataFrame
    truth: np.ndarray
    probs: np.ndarray
    embeddings: np.ndarray | None
    n: int
    no_face: list[str] = field(default_factory=list)
    unreadable: list[dict] = field(default_factory=list)
    table: pd.DataFrame | None = None  # every manifest row (found or not)
    paths: list[Path] = field(default_factory=list)
    status: np.ndarray | None = None  # every row's detection status (fer_core.batch.STATUSES)
    face_rows: np.ndarray | None = None  # manifest row of each face in ``rows``
    shards: Path | None = None  # the shard folder, when the job kept one

    def clusters(self) -> tuple[np.ndarray, np.ndarray, str]:
        """(cluster of each face, cluster of every row, kind): subjects when the manifest names them, else images."""
        every, kind = cluster_ids(self.table, self.paths)
        return every[self.face_rows], every, kind


def predict_manifest(
    loaded: LoadedModel,
    manifest: str | Path,
    target: str = "label",
    aligned: bool | None = None,
    detector: FaceDetector | None = None,
    show_progress: bool = False,
    progress: ProgressFn | None = None,
    engine: EngineOptions | None = None,
    require_labels: bool = True,
    columns: Sequence[str] = (),
    landmarker: str | None = None,
) -> ManifestPredictions | None:
    """Faces of every row (``aligned=True``: each image is an aligned crop, resized only; otherwise the largest
    detected face), classified by the batch engine (``engine``: workers, devices, shard folder). None on the ranks
    other than 0 of a multi-process job. ``columns`` must be in the manifest, or be measured by the scan
    (``pose_bin``: with the mesh, whatever ``landmarker`` says; see :func:`fer_core.data.scan_manifest`)."""
    scan = scan_manifest(
        loaded, manifest, target, aligned, detector, columns, require_labels=require_labels, landmarker=landmarker
    )
    result = run_job(scan, ClassifyJob(loaded), options_for(engine, show_progress), progress)
    if result is None:
        return None
    rows = result.face_rows
    k = loaded.card.num_classes
    return ManifestPredictions(
        rows=scan.table.iloc[rows].reset_index(drop=True),
        truth=scan.truth[rows],
        probs=result.outputs.get("probs", np.zeros((0, k))),
        embeddings=result.outputs.get("embedding"),
        n=scan.n,
        no_face=scan.no_face,
        unreadable=scan.unreadable,
        table=scan.table,
        paths=scan.paths,
        status=scan.status,
        face_rows=rows,
        shards=result.shards,
    )


def evaluate_manifest(
    loaded: LoadedModel,
    manifest: str | Path,
    group_by: Sequence[str] = (),
    target: str = "label",
    aligned: bool | None = None,
    detector: FaceDetector | None = None,
    n_boot: int = 200,
    num_permutations: int = 200,
    min_group_size: int = 30,
    show_progress: bool = False,
    progress: ProgressFn | None = None,
    engine: EngineOptions | None = None,
    use_labels: bool = True,
    landmarker: str | None = None,
) -> dict | None:
    """Evaluate on every row of ``manifest``, labelled or not.

    Rows without a face or with an unreadable image are counted and listed, never dropped silently; a label the
    model does not know raises DatasetError before any image is read. Rows without a label (no ``target`` column,
    or empty cells) take part in everything that needs no label: detection, prediction rates, confidence, MMD and
    the probe; accuracy and the labelled fairness report use the labelled rows.

    Parameters
    ----------
    loaded
        The model to evaluate.
    manifest
        A manifest (``.csv`` or ``.parquet``, image paths relative to its folder); labels are optional.
    group_by
        Sensitive columns of the manifest to report fairness by (one report per column).
    target
        The column with the true labels (class names or class numbers).
    aligned
        True: every image already is an aligned face crop (resized only); False or None: the largest detected
        face of each image.
    detector
        A shared face detector when faces are detected; None uses the process-wide one.
    n_boot
        Bootstrap resamples of the intervals (they resample subjects when the manifest has a ``subject`` column,
        else source images; ``intervals`` says which).
    num_permutations
        Permutations of the MMD p-values between the groups' embeddings.
    min_group_size
        Groups with fewer faces are flagged as small (noisy), never dropped.
    show_progress
        Show a tqdm bar over the images.
    progress
        Called as ``progress(done, total)`` after each block of images.
    engine
        How the batch engine runs (workers, devices, nodes, shard folder); None: in this process.
    use_labels
        False audits a labelled manifest as if it had no labels (what a photo set without them would show).
    landmarker
        How faces are landmarked (:data:`fer_core.face.LANDMARKERS` or ``auto``); None: MTCNN's 5 points, or the
        468-point mesh when a group column is ``pose_bin`` (each face's head pose bin, measured by the mesh).

    Returns
    -------
    dict or None
        JSON-ready: ``model``, ``n`` (rows), ``n_evaluated`` (rows with a face), ``n_labelled`` (of those, with a
        label), ``faces_found`` (share of rows with a face), ``detection`` (rows detected / used as crop / no face /
        unreadable, overall and per group), ``no_face`` and ``unreadable`` (the rows left out), ``intervals`` (what
        the bootstrap resampled), ``accuracy``, ``macro_f1`` and ``per_class`` (labelled faces; None / {} without
        any), with ``group_by`` an ``audit`` entry per column (the label-free report:
        :func:`fer_core.fairness.label_free.label_free_report`) and, where labels exist, a ``fairness`` entry per
        column (:func:`fer_core.fairness.fairness_report`). None on the ranks other than 0 of a multi-process job.

    Raises
    ------
    DatasetError
        A ``group_by`` column that is not in the manifest.
    """
    from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support  # 1 s: only here

    from ..fairness.label_free import detection_report, label_free_report
    from ..fairness.report import fairness_report

    table_cols = read_manifest(manifest).columns
    missing = [c for c in group_by if c not in table_cols and c not in DERIVED_COLUMNS]
    if missing:
        raise DatasetError(
            f"--group-by column(s) {missing} are not in the manifest; its columns are {list(table_cols)}"
        )
    pm = predict_manifest(
        loaded,
        manifest,
        target,
        aligned,
        detector,
        show_progress,
        progress,
        engine,
        require_labels=False,
        columns=group_by,
        landmarker=landmarker,
    )
    if pm is None:
        return None
    labels = loaded.card.label_names
    n = pm.n
    face_clusters, row_clusters, kind = pm.clusters()
    result = {
        "model": loaded.name,
        "n": n,
        "n_evaluated": len(pm.truth),
        "n_labelled": int((pm.truth >= 0).sum()) if use_labels else 0,
        "faces_found": round((n - len(pm.no_face) - len(pm.unreadable)) / n, 4) if n else 0.0,
        "detection": detection_report(pm.status, n_boot=0)["overall"],
        "no_face": pm.no_face,
        "unreadable": pm.unreadable,
        "intervals": {"resampled": kind, "clusters": len(set(row_clusters.tolist()))},
    }
    if pm.shards is not None:
        result["shards"] = str(pm.shards)
    if group_by:
        result["audit"] = label_free_report(
            pm.probs,
            labels,
            pm.rows[list(group_by)],
            pm.status,
            pm.table[list(group_by)],
            face_clusters,
            row_clusters,
            kind,
            pm.embeddings,
            min_group_size,
            n_boot,
            num_permutations,
            faces_only=[c for c in group_by if c not in table_cols],  # measured by the scan on its faces
        )
    known = pm.truth >= 0
    if not use_labels or not known.any():
        return result | {"accuracy": None, "macro_f1": None, "per_class": {}}
    pred = pm.probs.argmax(1)[known]
    y = pm.truth[known]
    prec, rec, f1, support = precision_recall_fscore_support(y, pred, labels=range(len(labels)), zero_division=0)
    present = sorted(set(y.tolist()))
    result["accuracy"] = round(float(accuracy_score(y, pred)), 4)
    result["macro_f1"] = round(float(f1_score(y, pred, labels=present, average="macro", zero_division=0)), 4)
    result["per_class"] = {
        lab: {
            "n": int(support[i]),
            "precision": round(float(prec[i]), 4),
            "recall": round(float(rec[i]), 4),
            "f1": round(float(f1[i]), 4),
        }
        for i, lab in enumerate(labels)
    }
    if group_by:
        report = fairness_report(
            [labels[i] for i in y],
            [labels[i] for i in pred],
            labels,
            pm.rows.loc[known, list(group_by)].astype(str).reset_index(drop=True),
            None if pm.embeddings is None else pm.embeddings[known],
            min_group_size=min_group_size,
            n_boot=n_boot,
            num_permutations=num_permutations,
            clusters=face_clusters[known],
            cluster_kind=kind,
        )
        result["fairness"] = report["attributes"]
    return result
