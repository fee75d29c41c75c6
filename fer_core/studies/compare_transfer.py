"""Build a :class:`~fer_core.studies.transfer_comparison.TransferComparison`: load the same faces for every model
(from a manifest or uploads, once per input geometry), explain each model's class on them, and collect the shares.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .._utils.bootstrap import cluster_ids
from .._utils.progress import ProgressFn
from ..data.manifest_faces import label_index, scan_manifest
from ..errors import FaceNotFoundError, FerCoreError
from ..explain import Explainer, create_explainer
from ..explain.region_relevance import region_shares
from ..face import Face, FaceDetector, aligned_crop, default_detector, find_faces, parse_regions
from ..models import LoadedModel
from ..models.preprocess import predict_probs, to_model_input
from .relevance import SHARE_REGIONS
from .transfer_comparison import MSG_LABELS, MSG_TOO_FEW, ModelFaces, TransferComparison

__all__ = ["compare_models"]


def _geometry(loaded: LoadedModel) -> tuple:
    return tuple(loaded.card.input_size), loaded.card.alignment


def _image_faces(
    loaded: LoadedModel, images: Sequence[np.ndarray], aligned: bool | None, detector: FaceDetector | None
) -> tuple[dict[int, Face], list[str]]:
    """Face per image: an aligned crop resized (``aligned``), else the largest detected face (small dataset
    crops are used as they are)."""
    card, out, missing = loaded.card, {}, []
    for i, image in enumerate(images):
        try:
            out[i] = (
                aligned_crop(image, card.input_size, card.alignment)
                if aligned
                else find_faces(image, card.input_size, card.alignment, detector or default_detector(), 1, "mtcnn5")[0]
            )
        except FaceNotFoundError:
            missing.append(f"image {i}")
    return out, missing


class _Progress:
    """``callback(done, total)`` over phases measured in input rows: loading once per face geometry, then
    explaining once per model."""

    def __init__(self, callback: ProgressFn | None, n_rows: int, phases: int) -> None:
        self.callback, self.n_rows, self.total, self.phase = callback, n_rows, n_rows * phases, 0

    def __call__(self, done: int) -> None:
        if self.callback is not None and self.total:
            self.callback(min(self.phase * self.n_rows + done, self.total), self.total)


def _load_faces(
    models: Mapping[str, LoadedModel],
    data,
    given_truth,
    target_column,
    aligned,
    detector,
    limit,
    seed,
    chunk,
    tick: _Progress,
) -> tuple[list[int], np.ndarray | None, dict[str, list[Face]], dict]:
    """Faces of every model (loaded once per input size and template), kept where every geometry found one."""
    by_geometry: dict[tuple, dict[int, Face]] = {}
    info: dict = {"no_face": [], "unreadable": [], "paths": None, "truth": None, "n": 0}
    for g, loaded in {_geometry(m): m for m in models.values()}.items():
        if isinstance(data, (str, Path)):
            scan = scan_manifest(loaded, data, target_column, aligned, detector, limit=limit, seed=seed)
            found = {}
            for part in scan.chunks(chunk, progress=lambda done, total: tick(done)):
                found.update(zip(part.rows.tolist(), part.faces))
            info.update(paths=[str(p) for p in scan.paths], truth=scan.truth, n=scan.n)
            info["clusters"], info["resampled"] = cluster_ids(scan.table, scan.paths)
            info["no_face"] += scan.no_face
            info["unreadable"] += [u for u in scan.unreadable if u not in info["unreadable"]]
        else:
            found, missing = _image_faces(loaded, data, aligned, detector)
            info["no_face"] += missing
            info["n"] = len(data)
            tick(len(data))
        by_geometry[g] = found
        tick.phase += 1
    rows = sorted(set.intersection(*(set(f) for f in by_geometry.values())))
    info["no_face"] = list(dict.fromkeys(info["no_face"]))
    faces = {name: [by_geometry[_geometry(m)][r] for r in rows] for name, m in models.items()}
    truth = info["truth"] if info["truth"] is not None else given_truth
    return rows, None if truth is None else truth[rows], faces, info


def _explain_model(
    loaded: LoadedModel,
    name: str,
    faces: list[Face],
    probs: np.ndarray,
    targets: np.ndarray,
    explainer: Explainer,
    names: list[str],
    batch_size: int,
    chunk: int,
    keep_maps: bool,
    tick: _Progress,
) -> ModelFaces:
    """Heatmaps of ``targets`` and their region shares (plus ``elsewhere``), ``chunk`` faces at a time; the maps and
    crops are kept only if ``keep_maps``."""
    heat, shares, n = [], [], len(faces)
    for start in range(0, n, chunk):
        part = faces[start : start + chunk]
        x = to_model_input([f.crop for f in part], loaded.card)
        h = explainer.attribute(x, target=targets[start : start + len(part)], batch_size=batch_size)
        h = h.sum(1).double().numpy()  # (n, H, W)
        masks = np.stack([np.stack([f.regions[r] for r in names]) for f in part])
        masks = np.concatenate([masks, ~masks.any(1, keepdims=True)], 1)  # + "elsewhere": outside every region
        heat.append(h.astype(np.float32) if keep_maps else h[:0].astype(np.float32))
        shares.append(region_shares(h, masks))
        tick(round((start + len(part)) * tick.n_rows / n))
    tick.phase += 1
    crops = np.stack([f.crop for f in (faces if keep_maps else faces[:1])])
    return ModelFaces(
        name=name,
        probs=probs,
        heatmaps=np.concatenate(heat),
        shares=np.concatenate(shares),
        crops=crops if keep_maps else crops[:0],
    )


def _choose_targets(given: int | None, truth: np.ndarray | None, probs: Sequence[np.ndarray]) -> tuple[np.ndarray, str]:
    n = len(probs[0])
    if given is not None:
        return np.full(n, given, dtype=np.int64), "given"
    if truth is not None:
        return truth.astype(np.int64), "true"
    return np.mean(probs, 0).argmax(1).astype(np.int64), "consensus"


def compare_models(
    models: Mapping[str, LoadedModel],
    data: str | Path | Sequence[np.ndarray],
    *,
    labels: Sequence[str] | None = None,
    target: str | int | None = None,
    method: str = "lrp",
    regions: str | Sequence[str] = SHARE_REGIONS,
    target_column: str = "label",
    aligned: bool | None = None,
    detector: FaceDetector | None = None,
    limit: int | None = None,
    seed: int = 0,
    batch_size: int = 32,
    chunk: int = 256,
    keep_maps: bool = True,
    explainers: Mapping[str, Explainer] | None = None,
    progress: ProgressFn | None = None,
) -> TransferComparison:
    """Explain the same faces with every model, for the same class, and measure where each puts the evidence.

    Parameters
    ----------
    models
        Name -> model, at least two, all predicting the same classes (e.g. two ``transfer`` runs).
    data
        A labelled manifest (``target_column`` holds the true class), or a sequence of RGB uint8 images.
    labels
        With images: their true class names (or indices), one per image; None leaves the truth unknown. Ignored for
        a manifest, whose ``target_column`` gives the truth.
    target
        The class to explain on every face (name or index). None: the true class where known, else the class with
        the highest probability averaged over the models (one class for all models, so their maps answer the same
        question).
    method
        An explanation method of :data:`fer_core.explain.METHODS` (default LRP, as in the paper); ignored for the
        models that ``explainers`` covers.
    regions
        Face regions to measure (names or a comma-separated string); the share outside all of them is added as
        ``elsewhere``.
    target_column
        The manifest column holding the true class.
    aligned
        The images are aligned crops (resized only); otherwise the largest face is detected and aligned (images of at
        most 160 px with no clear face are used as crops).
    detector
        A shared face detector for unaligned images; None uses the process-wide default.
    limit
        With a manifest, keep a fixed random sample of that many rows (drawn by ``seed``); None keeps every row.
    seed
        Seed of the ``limit`` sample.
    batch_size
        Faces per explainer pass.
    chunk
        Faces loaded from a manifest, and explained, at a time (bounds the memory of large studies).
    keep_maps
        Keep every face's heatmaps and crops (``ModelFaces.heatmaps`` / ``crops``); False for large studies that
        only need the shares (the maps of 10,000 faces at 112 px take about 0.5 GB per model).
    explainers
        Name -> ready explainer (the dashboard passes its cached ones); the models it lacks get one built from
        ``method``.
    progress
        ``callback(done, total)`` over loading (once per input size and template) and explaining (once per model).

    Returns
    -------
    TransferComparison
        ``.table()`` mean shares with intervals, ``.differences()`` the paired tests, ``.verdicts()`` in words.

    Raises
    ------
    ValueError
        Fewer than two models, models with different classes, or ``labels`` not one per image; an unknown class,
        method or region raises it too (a :class:`~fer_core.errors.DatasetError` for a class).
    FerCoreError
        No input had a usable face.

    Examples
    --------
    >>> from fer_core.runs import open_run
    >>> runs = {n: open_run(f"assets/runs/synthfacs_transfer_from_{n}") for n in ("age", "gender")}
    >>> cmp = compare_models({n: r.model() for n, r in runs.items()}, runs["age"].test_manifest(), aligned=True,
    ...                      limit=200)
    >>> print("\\n".join(cmp.verdicts()))  # doctest: +SKIP
    """
    if len(models) < 2:
        raise ValueError(MSG_TOO_FEW.format(n=len(models)))
    items = list(models.items())
    label_names = items[0][1].card.label_names
    for b, other in items[1:]:
        if tuple(other.card.label_names) != tuple(label_names):
            raise ValueError(
                MSG_LABELS.format(a=items[0][0], la=list(label_names), b=b, lb=list(other.card.label_names))
            )
    names = parse_regions(list(regions) if not isinstance(regions, str) else regions)
    given = None if target is None else label_index(str(target), label_names)
    given_truth = None
    if not isinstance(data, (str, Path)) and labels is not None:
        if len(labels) != len(data):
            raise ValueError(f"labels must have one entry per image ({len(data)}), got {len(labels)}")
        given_truth = np.asarray([label_index(str(v), label_names) for v in labels], dtype=np.int64)
    explainers = dict(explainers or {})
    for name, loaded in items:
        if name not in explainers:
            explainers[name] = create_explainer(method, loaded.model, loaded.card)
    if isinstance(data, (str, Path)):
        from ..data.manifest import read_manifest

        n_rows = len(read_manifest(data))
        n_rows = min(n_rows, limit) if limit is not None else n_rows
    else:
        n_rows = len(data)
    tick = _Progress(progress, n_rows, len({_geometry(m) for m in models.values()}) + len(items))
    rows, truth, faces, info = _load_faces(
        models, data, given_truth, target_column, aligned, detector, limit, seed, chunk, tick
    )
    if not rows:
        raise FerCoreError(
            f"no usable face among the {info['n']} inputs ({len(info['no_face'])} without a face, "
            f"{len(info['unreadable'])} unreadable)"
        )
    probs = {name: predict_probs(loaded.model, loaded.card, [f.crop for f in faces[name]]) for name, loaded in items}
    targets, rule = _choose_targets(given, truth, list(probs.values()))
    results = {
        name: _explain_model(
            loaded, name, faces[name], probs[name], targets, explainers[name], names, batch_size, chunk, keep_maps, tick
        )
        for name, loaded in items
    }
    frame = pd.DataFrame({"row": rows, "path": [info["paths"][r] if info["paths"] else f"image {r}" for r in rows]})
    frame["cluster"] = info["clusters"][rows] if info.get("clusters") is not None else frame["path"]
    if truth is not None:
        frame["label"] = [label_names[t] for t in truth]
    return TransferComparison(
        method=method,
        labels=tuple(label_names),
        regions=[*names, "elsewhere"],
        models=results,
        targets=targets,
        target_rule=rule,
        faces=frame,
        truth=truth,
        n_rows=info["n"],
        no_face=info["no_face"],
        unreadable=info["unreadable"],
        resampled=info.get("resampled", "image"),
    )
