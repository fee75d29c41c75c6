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
import torch
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

from .._utils.progress import ProgressFn
from ..data.manifest import read_manifest
from ..data.manifest_faces import scan_manifest
from ..errors import DatasetError
from ..face import FaceDetector
from ..models import LoadedModel
from ..models.preprocess import to_model_input
from ..models.runtime import model_device, model_dtype

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


@torch.no_grad()
def embed_crops(
    loaded: LoadedModel, crops: Sequence[np.ndarray], batch_size: int = 256
) -> tuple[np.ndarray, np.ndarray | None]:
    """(probabilities, penultimate embeddings or None) for RGB uint8 crops, in batches."""
    model = loaded.model.eval()
    dtype, device = model_dtype(model), model_device(model)
    has_embed = hasattr(model, "forward_features") and hasattr(model, "forward_head")
    probs, embs = [], []
    for i in range(0, len(crops), batch_size):
        x = to_model_input(crops[i : i + batch_size], loaded.card).to(device, dtype)
        if has_embed:
            feats = model.forward_features(x)
            embs.append(model.forward_head(feats, pre_logits=True).float().cpu().numpy())
            logits = model.forward_head(feats)
        else:
            logits = model(x)
        probs.append(loaded.card.probabilities(logits.double().cpu()).numpy())
    k = loaded.card.num_classes
    return (np.concatenate(probs) if probs else np.zeros((0, k)), np.concatenate(embs) if embs else None)


def predict_manifest(
    loaded: LoadedModel,
    manifest: str | Path,
    target: str = "label",
    aligned: bool | None = None,
    detector: FaceDetector | None = None,
    show_progress: bool = False,
    progress: ProgressFn | None = None,
) -> ManifestPredictions:
    """Faces of every row (``aligned=True``: each image is an aligned crop, resized only; otherwise the largest
    detected face), classified in batches."""
    scan = scan_manifest(loaded, manifest, target, aligned, detector)
    keep: list[np.ndarray] = []
    probs, embs = [], []
    for chunk in scan.chunks(512, show_progress, progress):
        p, e = embed_crops(loaded, chunk.crops)
        keep.append(chunk.rows)
        probs.append(p)
        embs.append(e)
    rows = np.concatenate(keep) if keep else np.zeros(0, dtype=np.int64)
    k = loaded.card.num_classes
    return ManifestPredictions(
        rows=scan.table.iloc[rows].reset_index(drop=True),
        truth=scan.truth[rows],
        probs=np.concatenate(probs) if probs else np.zeros((0, k)),
        embeddings=None if not embs or embs[0] is None else np.concatenate(embs),
        n=scan.n,
        no_face=scan.no_face,
        unreadable=scan.unreadable,
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
) -> dict:
    """Evaluate on every row of ``manifest``.

    Rows without a face or with an unreadable image are counted and listed, never dropped silently; a missing
    ``target`` column or a label the model does not know raises DatasetError before any image is read.

    Parameters
    ----------
    loaded
        The model to evaluate.
    manifest
        A labelled manifest (``.csv`` or ``.parquet``, image paths relative to its folder).
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
        Bootstrap resamples of the per-group accuracy intervals.
    num_permutations
        Permutations of the MMD p-values between the groups' embeddings.
    min_group_size
        Groups with fewer faces are flagged as small (noisy), never dropped.
    show_progress
        Show a tqdm bar over the images.
    progress
        Called as ``progress(done, total)`` after each image.

    Returns
    -------
    dict
        JSON-ready: ``model``, ``n`` (rows), ``n_evaluated`` (rows with a face), ``faces_found`` (their share),
        ``no_face`` and ``unreadable`` (the rows left out), ``accuracy``, ``macro_f1`` (over the classes in the truth;
        both None when no face was found) and ``per_class`` precision, recall, F1 and support; with ``group_by``
        a ``fairness`` entry per column (see :func:`fer_core.fairness.fairness_report`; MMD and probe only for
        models that expose embeddings).

    Raises
    ------
    DatasetError
        A ``group_by`` column that is not in the manifest.
    """
    from ..fairness.report import fairness_report

    table_cols = read_manifest(manifest).columns
    missing = [c for c in group_by if c not in table_cols]
    if missing:
        raise DatasetError(
            f"--group-by column(s) {missing} are not in the manifest; its columns are {list(table_cols)}"
        )
    pm = predict_manifest(loaded, manifest, target, aligned, detector, show_progress, progress)
    labels = loaded.card.label_names
    n = pm.n
    result = {
        "model": loaded.name,
        "n": n,
        "n_evaluated": len(pm.truth),
        "faces_found": round((n - len(pm.no_face) - len(pm.unreadable)) / n, 4) if n else 0.0,
        "no_face": pm.no_face,
        "unreadable": pm.unreadable,
    }
    if not len(pm.truth):
        return result | {"accuracy": None, "macro_f1": None, "per_class": {}}
    pred = pm.probs.argmax(1)
    y = pm.truth
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
            pm.rows[list(group_by)].astype(str),
            pm.embeddings,
            min_group_size=min_group_size,
            n_boot=n_boot,
            num_permutations=num_permutations,
        )
        result["fairness"] = report["attributes"]
    return result
