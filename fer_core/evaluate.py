"""Accuracy of a model on a labelled manifest, counting (never dropping) images without a usable face."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

from ._utils.progress import ProgressFn, progress_iter
from .analysis import predict_crops
from .data.manifest import read_manifest, resolve_paths, validate_manifest
from .errors import DatasetError, FaceNotFoundError, ImageLoadError
from .face import FaceDetector, default_detector, find_faces, load_image
from .models import LoadedModel


def _label_index(label: str, labels: tuple[str, ...]) -> int:
    if label in labels:
        return labels.index(label)
    if label.lstrip("-").isdigit() and 0 <= int(label) < len(labels):
        return int(label)
    raise DatasetError(f"label {label!r} is not one of the model's labels {', '.join(labels)} (or 0..{len(labels) - 1})")


def evaluate_manifest(loaded: LoadedModel, manifest: str | Path, detector: FaceDetector | None = None,
                      show_progress: bool = False, progress: ProgressFn | None = None) -> dict:
    """Evaluate on every row of ``manifest``; the largest face of each image is classified.

    Returns a JSON-ready dict: n, n_evaluated, accuracy, macro_f1, per_class, faces_found (share of rows with a
    face), and the rows without a face or with an unreadable image.
    """
    table = validate_manifest(read_manifest(manifest))
    rows = list(zip(resolve_paths(table, Path(manifest).parent), table["label"].astype(str)))
    labels = loaded.card.label_names
    truth_all = [_label_index(lab, labels) for _, lab in rows]  # validate every label before any work
    detector = detector or default_detector()
    crops, truth, no_face, unreadable = [], [], [], []
    for (path, _), y in progress_iter(list(zip(rows, truth_all)), show_progress, "faces", callback=progress):
        try:
            faces = find_faces(load_image(path), loaded.card.input_size, loaded.card.template, detector, max_faces=1)
        except FaceNotFoundError:
            no_face.append(str(path))
            continue
        except ImageLoadError as exc:
            unreadable.append({"path": str(path), "error": str(exc)})
            continue
        crops.append(faces[0].crop)
        truth.append(y)
    n = len(rows)
    result = {"model": loaded.name, "n": n, "n_evaluated": len(truth),
              "faces_found": round((n - len(no_face) - len(unreadable)) / n, 4) if n else 0.0,
              "no_face": no_face, "unreadable": unreadable}
    if not truth:
        return result | {"accuracy": None, "macro_f1": None, "per_class": {}}
    pred = predict_crops(loaded, crops).argmax(1)
    y = np.asarray(truth)
    prec, rec, f1, support = precision_recall_fscore_support(y, pred, labels=range(len(labels)), zero_division=0)
    present = sorted(set(y.tolist()))
    result["accuracy"] = round(float(accuracy_score(y, pred)), 4)
    result["macro_f1"] = round(float(f1_score(y, pred, labels=present, average="macro", zero_division=0)), 4)
    result["per_class"] = {lab: {"n": int(support[i]), "precision": round(float(prec[i]), 4),
                                 "recall": round(float(rec[i]), 4), "f1": round(float(f1[i]), 4)}
                           for i, lab in enumerate(labels)}
    return result
