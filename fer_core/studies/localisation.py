"""Planted-truth validation: which explanation methods find the evidence SynthFACS drew, and how faithful are they?

SynthFACS writes, for every face, the mask of the pixels its label's action units moved (``mask_path``). For faces
the model classifies correctly we explain the true class with each method and measure relevance mass accuracy and
relevance rank accuracy inside that mask, and the region-perturbation AOPC (MoRF and LeRF) and ABPC. A random map is
the floor every method must clear. ``cancellation`` (median |R| summed / |sum of R|) flags maps whose positive and
negative relevance nearly cancel, i.e. a rule that is numerically unstable on this model.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import torch

from .._utils.bootstrap import bootstrap_mean, cluster_ids
from .._utils.progress import ProgressFn, progress_iter
from ..data.manifest_faces import scan_manifest
from ..errors import DatasetError
from ..explain import METHODS, create_explainer
from ..explain.faithfulness import region_perturbation, relevance_mass_accuracy, relevance_rank_accuracy
from ..face import FaceDetector, load_image
from ..models import LoadedModel
from ..models.preprocess import to_model_input
from ..names import LOCALISATION_METHODS

__all__ = ["LOCALISATION_METHODS", "localisation_benchmark", "random_maps"]


def random_maps(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """Uniform random heatmaps: the chance level of every localisation and faithfulness figure."""
    return np.random.default_rng(seed).random(shape)


def _load_mask(path: Path, size: tuple[int, int]) -> np.ndarray:
    """An evidence mask at the crop size, resized the way the crop was (area averaging), a pixel counting as
    evidence when most of its area is."""
    m = load_image(path)[..., 0] > 127
    return cv2.resize(m.astype(np.float32), (size[1], size[0]), interpolation=cv2.INTER_AREA) >= 0.5


def localisation_benchmark(
    loaded: LoadedModel,
    manifest: str | Path,
    methods: Sequence[str] = LOCALISATION_METHODS,
    limit: int | None = 200,
    mask_column: str = "mask_path",
    target: str = "label",
    patch: int | None = None,
    steps: int = 16,
    fill: str = "mean",
    n_boot: int = 1000,
    detector: FaceDetector | None = None,
    seed: int = 0,
    show_progress: bool = False,
    progress: ProgressFn | None = None,
) -> dict:
    """One row per method: relevance mass / rank accuracy in the evidence mask, AOPC (MoRF, LeRF) and ABPC, with
    95 % bootstrap intervals over faces. Faces are aligned crops (SynthFACS); only correctly classified faces with a
    non-empty evidence mask are explained (n is reported). A missing manifest column or a label that is not one of
    the model's also raises :class:`~fer_core.errors.DatasetError`, before any image is read.

    Parameters
    ----------
    loaded
        The model and its card (classes, input size, alignment template).
    manifest
        A labelled manifest of aligned crops, with the true class in ``target`` and an evidence mask per row in
        ``mask_column`` (e.g. one SynthFACS wrote).
    methods
        Explanation methods to compare (keys of :data:`fer_core.explain.METHODS`), and ``"random"`` for the
        random-map floor.
    limit
        Keep a fixed random sample of that many rows (drawn by ``seed``); None keeps every row.
    mask_column
        The manifest column holding each face's evidence-mask image (relative to the manifest's folder, or absolute);
        rows where it is empty are skipped.
    target
        The manifest column holding the true class: the class explained, and what "correctly classified" means.
    patch
        Side in pixels of the square patches the perturbation curves replace; None takes a twelfth of the input
        height (at least 2).
    steps
        Patches replaced, most (MoRF) or least (LeRF) relevant first, per curve (at most the number of patches).
    fill
        What replaces a patch: ``"mean"`` (the image's mean per channel) or ``"black"`` (its lowest input value).
    n_boot
        Bootstrap resamples of the faces for each interval.
    detector
        Ignored: the faces are always taken as aligned crops, never detected.
    seed
        Seed of the ``limit`` sample, the random maps and the bootstrap.
    show_progress
        Show a progress bar over the methods.
    progress
        ``callback(done, total)`` after each method.

    Returns
    -------
    dict
        ``model``, ``n_rows`` (manifest rows read), ``n_faces`` (faces explained), ``mask_share`` (mean share of the
        crop the masks cover), ``settings`` and ``methods``: per method its ``label``, ``mass_accuracy``,
        ``rank_accuracy``, ``aopc_morf``, ``aopc_lerf`` and ``abpc`` each with a ``<figure>_ci`` interval, and
        ``cancellation``.

    Raises
    ------
    ValueError
        An unknown method.
    DatasetError
        An evidence-mask file that does not exist, no row with a non-empty mask, or no such face that the model
        classifies correctly.
    """
    unknown = [m for m in methods if m != "random" and m not in METHODS]
    if unknown:
        raise ValueError(f"unknown method(s) {unknown}; choose from {', '.join(LOCALISATION_METHODS)}")
    scan = scan_manifest(loaded, manifest, target, True, detector, columns=(mask_column,), limit=limit, seed=seed)
    card = loaded.card
    every_cluster, kind = cluster_ids(scan.table, scan.paths)
    crops, truth, masks, clusters = [], [], [], []
    for part in scan.chunks(256):
        for i, face in zip(part.rows, part.faces):
            value = str(scan.table[mask_column].iloc[i])
            if not value or value == "nan":
                continue
            path = Path(value) if Path(value).is_absolute() else scan.root / value
            if not path.is_file():
                raise DatasetError(f"evidence mask {path} (row {i}, column {mask_column}) does not exist")
            mask = _load_mask(path, card.input_size)
            if mask.any():
                crops.append(face.crop)
                truth.append(scan.truth[i])
                masks.append(mask)
                clusters.append(every_cluster[i])
    if not crops:
        raise DatasetError(f"no row of {manifest} has a non-empty evidence mask in column {mask_column!r}")
    x = to_model_input(crops, card)
    y = torch.as_tensor(truth)
    model = loaded.model.eval()
    with torch.no_grad():
        right = (model(x).argmax(1) == y).numpy()
    x, y, masks = x[right], y[right], np.stack(masks)[right]
    clusters = np.asarray(clusters, dtype=object)[right]
    if not len(x):
        raise DatasetError("the model classifies none of the faces with evidence masks correctly")
    patch = patch or max(2, card.input_size[0] // 12)
    rows = []
    for name in progress_iter(list(methods), show_progress, "methods", callback=progress):
        if name == "random":
            heat = random_maps((len(x), *x.shape[2:]), seed)
        else:
            heat = create_explainer(name, model, card).attribute(x, target=y, batch_size=32).sum(1).double().numpy()
        morf = region_perturbation(model, x, heat, y, patch=patch, steps=steps, order="morf", fill=fill)
        lerf = region_perturbation(model, x, heat, y, patch=patch, steps=steps, order="lerf", fill=fill)
        values = np.stack(
            [
                relevance_mass_accuracy(heat, masks),
                relevance_rank_accuracy(heat, masks),
                morf.aopc,
                lerf.aopc,
                (morf.drops - lerf.drops).mean(1),
            ],
            1,
        )
        mean, lo, hi = bootstrap_mean(values, n_boot, seed=seed, clusters=clusters)
        row = {"method": name, "label": "random map" if name == "random" else METHODS[name]}
        for j, key in enumerate(["mass_accuracy", "rank_accuracy", "aopc_morf", "aopc_lerf", "abpc"]):
            row |= {key: round(float(mean[j]), 4), f"{key}_ci": [round(float(lo[j]), 4), round(float(hi[j]), 4)]}
        net = np.abs(heat.reshape(len(heat), -1).sum(1))
        gross = np.abs(heat).reshape(len(heat), -1).sum(1)
        # |R| / R: 1 for a map whose relevance has one sign; very large when huge positive and negative relevance
        # cancel (a numerically unstable rule), which makes every figure above meaningless for that method
        row["cancellation"] = round(float(np.median(gross / np.maximum(net, 1e-12))), 2)
        rows.append(row)
    return {
        "model": loaded.name,
        "n_rows": scan.n,
        "n_faces": int(len(x)),
        "mask_share": round(float(masks.mean()), 4),
        "settings": {
            "patch": patch,
            "steps": steps,
            "fill": fill,
            "explained": "true class, correct faces",
            "intervals_resample": kind,
            "mass": "positive relevance",
            "rank": "signed relevance",
        },
        "methods": rows,
    }
