"""Which base model's features suit a target? (METHODS.md section 5, Arbabzadah et al. 2016)

Two (or more) models fine-tuned onto the same target from different base models, e.g. one from an age model and one
from a gender model (the ``transfer`` recipe), explain the same faces for the same class. Per face and model: the
class probabilities, the heatmap of the explained class and its share of positive relevance per face region. Per
model: the mean share per region with a bootstrap interval and the accuracy on the faces. Per pair of models and
region: a paired sign-flip permutation test of the per-face share difference ("the age-based model puts 6 points more
of its relevance on the mouth, p = 0.001"), Holm-corrected over the regions.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from .._utils.bootstrap import bootstrap_mean, table_records
from .._utils.progress import ProgressFn
from ..errors import FaceNotFoundError, FerCoreError
from ..explain import Explainer, create_explainer
from ..explain.region_relevance import region_shares
from ..face import Face, FaceDetector, aligned_crop, default_detector, find_faces, parse_regions
from ..manifest_faces import label_index, scan_manifest
from ..models import LoadedModel
from ..models.preprocess import predict_probs, to_model_input
from .relevance import SHARE_REGIONS

__all__ = ["ModelFaces", "TransferComparison", "compare_models", "format_p", "paired_sign_flip"]

MSG_LABELS = "models must predict the same classes to explain the same class; {a} has {la}, {b} has {lb}"
MSG_TOO_FEW = "compare at least two models, got {n}"
TARGET_RULES = {"true": "the true class", "given": "the class asked for",
                "consensus": "the class the models find most likely on average (no true labels)"}


def paired_sign_flip(diffs: np.ndarray, num_permutations: int = 2000, seed: int = 0) -> np.ndarray:
    """Two-sided p-value per column of "the mean of these paired differences is zero" (rows: faces, NaN rows left
    out per column): each face's difference keeps its size and gets a random sign. ``(1 + #{|perm| >= |obs|}) /
    (1 + permutations)``; all-zero differences give 1."""
    d = np.asarray(diffs, dtype=np.float64)
    d = d[:, None] if d.ndim == 1 else d
    out = np.ones(d.shape[1])
    rng = np.random.default_rng(seed)
    for j in range(d.shape[1]):
        col = d[~np.isnan(d[:, j]), j]
        if len(col) == 0:
            out[j] = np.nan
            continue
        observed = abs(col.mean())
        exceed, step = 0, max(1, 4_000_000 // len(col))  # bound the sign matrix held in memory
        for s in range(0, num_permutations, step):
            signs = rng.integers(0, 2, size=(min(step, num_permutations - s), len(col))) * 2 - 1
            exceed += int((np.abs(signs @ col) / len(col) >= observed - 1e-12).sum())
        out[j] = (1 + exceed) / (1 + num_permutations)
    return out


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment (family: the regions of one pair of models); NaN stays NaN."""
    p = np.asarray(p, dtype=np.float64)
    ok = np.flatnonzero(~np.isnan(p))
    out = np.full_like(p, np.nan)
    order = ok[np.argsort(p[ok], kind="stable")]
    m, running = len(order), 0.0
    for i, j in enumerate(order):
        running = max(running, min(1.0, (m - i) * p[j]))
        out[j] = running
    return out


@dataclass
class ModelFaces:
    """One model on the compared faces: ``probs`` (N, K), ``heatmaps`` (N, H, W) of the explained class (channels
    summed), ``shares`` (N, R) of positive relevance per region, and the aligned ``crops`` (N, H, W, 3) it saw."""

    name: str
    probs: np.ndarray
    heatmaps: np.ndarray
    shares: np.ndarray
    crops: np.ndarray

    @property
    def pred(self) -> np.ndarray:
        return self.probs.argmax(1)


@dataclass
class TransferComparison:
    """Where several models put the evidence for the same class on the same faces (see module docstring)."""

    method: str
    labels: tuple[str, ...]
    regions: list[str]
    models: dict[str, ModelFaces]
    targets: np.ndarray  # (N,) class index explained on face n, the same for every model
    target_rule: str  # "true", "given" or "consensus"
    faces: pd.DataFrame  # row, path and (when known) label of each compared face
    truth: np.ndarray | None = None  # (N,) true class indices, when known
    n_rows: int = 0
    no_face: list[str] = field(default_factory=list)
    unreadable: list[dict] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return list(self.models)

    def accuracy(self, name: str) -> float | None:
        if self.truth is None or not len(self.truth):
            return None
        return float((self.models[name].pred == self.truth).mean())

    def macro_f1(self, name: str) -> float | None:
        if self.truth is None or not len(self.truth):
            return None
        from sklearn.metrics import f1_score

        return float(f1_score(self.truth, self.models[name].pred, average="macro", zero_division=0))

    def table(self, n_boot: int = 1000, ci: float = 0.95, seed: int = 0) -> pd.DataFrame:
        """One row per model and region: ``n`` faces with a usable map, mean ``share`` and its bootstrap interval."""
        rows = []
        for name, m in self.models.items():
            mean, lo, hi = bootstrap_mean(m.shares, n_boot, ci, seed)
            n = (~np.isnan(m.shares)).sum(0)
            rows += [{"model": name, "region": r, "n": int(n[j]), "share": mean[j], "share_lo": lo[j],
                      "share_hi": hi[j]} for j, r in enumerate(self.regions)]
        return pd.DataFrame(rows, columns=["model", "region", "n", "share", "share_lo", "share_hi"])

    def differences(self, n_boot: int = 1000, num_permutations: int = 2000, ci: float = 0.95,
                    seed: int = 0) -> pd.DataFrame:
        """Per pair of models (a, b) and region: mean of share_a - share_b over the faces (``diff``, with a
        bootstrap interval), the paired sign-flip test's ``p_value`` and its Holm adjustment over the regions."""
        rows = []
        for a, b in combinations(self.names, 2):
            d = self.models[a].shares - self.models[b].shares
            mean, lo, hi = bootstrap_mean(d, n_boot, ci, seed)
            p = paired_sign_flip(d, num_permutations, seed)
            holm = _holm(p)
            n = (~np.isnan(d)).sum(0)
            rows += [{"a": a, "b": b, "region": r, "n": int(n[j]), "diff": mean[j], "diff_lo": lo[j],
                      "diff_hi": hi[j], "p_value": p[j], "p_holm": holm[j]} for j, r in enumerate(self.regions)]
        return pd.DataFrame(rows, columns=["a", "b", "region", "n", "diff", "diff_lo", "diff_hi", "p_value", "p_holm"])

    def verdicts(self, alpha: float = 0.05, differences: pd.DataFrame | None = None) -> list[str]:
        """The paired tests in plain words: one sentence per region that differs (Holm-adjusted p < ``alpha``),
        largest difference first, or one sentence saying no region differs."""
        diffs = self.differences() if differences is None else differences
        out = []
        for (a, b), pair in diffs.groupby(["a", "b"], sort=False):
            hits = pair[pair["p_holm"] < alpha].sort_values("diff", key=np.abs, ascending=False)
            for r in hits.itertuples():
                more, less = (a, b) if r.diff > 0 else (b, a)
                where = "outside the named face regions" if r.region == "elsewhere" else f"on the {r.region}"
                out.append(f"{more} puts {100 * abs(r.diff):.1f} points more of its relevance {where} "
                           f"than {less} (95% CI {100 * abs(r.diff_lo if r.diff > 0 else r.diff_hi):.1f} to "
                           f"{100 * abs(r.diff_hi if r.diff > 0 else r.diff_lo):.1f}; p = {format_p(r.p_value)}, "
                           f"Holm-adjusted {format_p(r.p_holm)}).")
            n = int(pair["n"].max())
            if hits.empty and len(pair) * 2.0 ** (1 - n) >= alpha:  # the smallest Holm-adjusted p that n faces allow
                out.append(f"{n} faces are too few to tell {a} and {b} apart: even if every face differed the same "
                           f"way, the paired test could not reach p < {alpha:g} over {len(pair)} regions.")
            elif hits.empty:
                out.append(f"{a} and {b} put their relevance on the same regions: no region differs "
                           f"(paired sign-flip test, Holm-adjusted p >= {alpha:g}, {n} faces).")
        return out

    def disagreement(self, a: str | None = None, b: str | None = None) -> np.ndarray:
        """(N,) how differently two models (default: the first two) spread the relevance over the regions: half the
        summed absolute share difference (0 = the same spread, 1 = no region in common); NaN where a map is empty."""
        a, b = a or self.names[0], b or self.names[1]
        return 0.5 * np.abs(self.models[a].shares - self.models[b].shares).sum(1)

    def most_different_first(self, agreeing_first: bool = True) -> np.ndarray:
        """Face indices ordered by :meth:`disagreement` of the first two models, largest first (faces with an empty
        map last). ``agreeing_first``: faces where both models predict the explained class come first, so the top
        of the list shows two readings of one decision rather than maps of a class a model rejects."""
        a, b = (self.models[n] for n in self.names[:2])
        key = -np.nan_to_num(self.disagreement(), nan=-1.0)
        if agreeing_first:
            key = key + 2.0 * ((a.pred != self.targets) | (b.pred != self.targets))
        return np.argsort(key, kind="stable")

    def face_records(self, digits: int = 4) -> list[dict]:
        """Per face: its row, path, true and explained class, and per model the probabilities, prediction and
        region shares (no heatmaps: they are in ``models[name].heatmaps``)."""
        out = []
        for i, face in enumerate(self.faces.to_dict("records")):
            rec = {k: (int(v) if isinstance(v, np.integer) else v) for k, v in face.items()}
            rec["explained"] = self.labels[int(self.targets[i])]
            rec["models"] = {name: {"pred": self.labels[int(m.pred[i])],
                                    "probs": {lab: round(float(p), digits) for lab, p in zip(self.labels, m.probs[i])},
                                    "shares": {r: (None if np.isnan(s) else round(float(s), digits))
                                               for r, s in zip(self.regions, m.shares[i])}}
                             for name, m in self.models.items()}
            out.append(rec)
        return out

    def to_json(self, n_boot: int = 1000, num_permutations: int = 2000, alpha: float = 0.05,
                faces: bool = True) -> dict:
        diffs = self.differences(n_boot, num_permutations)
        return {
            "models": [{"name": n, "accuracy": _round(self.accuracy(n)), "macro_f1": _round(self.macro_f1(n))}
                       for n in self.names],
            "method": self.method, "labels": list(self.labels), "regions": self.regions,
            "n": self.n_rows, "n_faces": len(self.faces),
            "explained_class": TARGET_RULES[self.target_rule],
            "measure": "share of the explained class's positive relevance inside each region (mean, 95% bootstrap CI)",
            "shares": table_records(self.table(n_boot)),
            "differences": table_records(diffs),
            "test": f"paired sign-flip permutation test of the mean per-face difference, {num_permutations} "
                    f"permutations, Holm-adjusted over the {len(self.regions)} regions of each pair",
            "verdicts": self.verdicts(alpha, diffs),
            "faces": self.face_records() if faces else None,
            "no_face": self.no_face, "unreadable": self.unreadable,
        }


def format_p(p: float) -> str:
    """A p-value for text, to two significant digits (0.015, 0.0005)."""
    return "n/a" if p != p else f"{p:.2g}"


def _round(v: float | None, digits: int = 4) -> float | None:
    return None if v is None else round(v, digits)


def _geometry(loaded: LoadedModel) -> tuple:
    return tuple(loaded.card.input_size), loaded.card.template


def _image_faces(loaded: LoadedModel, images: Sequence[np.ndarray], aligned: bool | None,
                 detector: FaceDetector | None) -> tuple[dict[int, Face], list[str]]:
    """Face per image: an aligned crop resized (``aligned``), else the largest detected face (small dataset
    crops are used as they are)."""
    card, out, missing = loaded.card, {}, []
    for i, image in enumerate(images):
        try:
            out[i] = aligned_crop(image, card.input_size, card.template) if aligned else \
                find_faces(image, card.input_size, card.template, detector or default_detector(), max_faces=1)[0]
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


def _load_faces(models: Mapping[str, LoadedModel], data, given_truth, target_column, aligned, detector, limit, seed,
                chunk, tick: _Progress) -> tuple[list[int], np.ndarray | None, dict[str, list[Face]], dict]:
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


def _explain_model(loaded: LoadedModel, name: str, faces: list[Face], probs: np.ndarray, targets: np.ndarray,
                   explainer: Explainer, names: list[str], batch_size: int, chunk: int, keep_maps: bool,
                   tick: _Progress) -> ModelFaces:
    """Heatmaps of ``targets`` and their region shares (plus ``elsewhere``), ``chunk`` faces at a time; the maps and
    crops are kept only if ``keep_maps``."""
    heat, shares, n = [], [], len(faces)
    for start in range(0, n, chunk):
        part = faces[start:start + chunk]
        x = to_model_input([f.crop for f in part], loaded.card)
        h = explainer.attribute(x, target=targets[start:start + len(part)], batch_size=batch_size)
        h = h.sum(1).double().numpy()  # (n, H, W)
        masks = np.stack([np.stack([f.regions[r] for r in names]) for f in part])
        masks = np.concatenate([masks, ~masks.any(1, keepdims=True)], 1)  # + "elsewhere": outside every region
        heat.append(h.astype(np.float32) if keep_maps else h[:0].astype(np.float32))
        shares.append(region_shares(h, masks))
        tick(round((start + len(part)) * tick.n_rows / n))
    tick.phase += 1
    crops = np.stack([f.crop for f in (faces if keep_maps else faces[:1])])
    return ModelFaces(name=name, probs=probs, heatmaps=np.concatenate(heat), shares=np.concatenate(shares),
                      crops=crops if keep_maps else crops[:0])


def _choose_targets(given: int | None, truth: np.ndarray | None, probs: Sequence[np.ndarray]
                    ) -> tuple[np.ndarray, str]:
    n = len(probs[0])
    if given is not None:
        return np.full(n, given, dtype=np.int64), "given"
    if truth is not None:
        return truth.astype(np.int64), "true"
    return np.mean(probs, 0).argmax(1).astype(np.int64), "consensus"


def compare_models(models: Mapping[str, LoadedModel], data: str | Path | Sequence[np.ndarray], *,
                   labels: Sequence[str] | None = None, target: str | int | None = None, method: str = "lrp",
                   regions: str | Sequence[str] = SHARE_REGIONS, target_column: str = "label",
                   aligned: bool | None = None, detector: FaceDetector | None = None, limit: int | None = None,
                   seed: int = 0, batch_size: int = 32, chunk: int = 256, keep_maps: bool = True,
                   explainers: Mapping[str, Explainer] | None = None,
                   progress: ProgressFn | None = None) -> TransferComparison:
    """Explain the same faces with every model, for the same class, and measure where each puts the evidence.

    Parameters
    ----------
    models : name -> model, at least two, all predicting the same classes (e.g. two ``transfer`` runs).
    data : a labelled manifest (``target_column`` holds the true class; ``limit`` keeps a fixed random sample of
        that many rows, by ``seed``), or a sequence of RGB uint8 images (``labels``: their true class names, optional).
    target : the class to explain on every face (name or index). Default: the true class where known, else the
        class with the highest probability averaged over the models (one class for all models, so their maps
        answer the same question).
    method : an explanation method of :data:`fer_core.explain.METHODS` (default LRP, as in the paper).
    regions : face regions to measure; the share outside all of them is added as ``elsewhere``.
    aligned : the images are aligned crops (resized only); otherwise the largest face is detected and aligned
        (images of at most 160 px with no clear face are used as crops).
    keep_maps : keep every face's heatmaps and crops (``ModelFaces.heatmaps`` / ``crops``); False for large studies
        that only need the shares (the maps of 10,000 faces at 112 px take about 0.5 GB per model).
    explainers : name -> ready explainer (the dashboard passes its cached ones); default: one per model.
    progress : ``callback(done, total)`` over loading and explaining.

    Returns
    -------
    TransferComparison
        ``.table()`` mean shares with intervals, ``.differences()`` the paired tests, ``.verdicts()`` in words.

    Raises
    ------
    ValueError
        Fewer than two models, models with different classes, or an unknown class, method or region.
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
            raise ValueError(MSG_LABELS.format(a=items[0][0], la=list(label_names), b=b,
                                               lb=list(other.card.label_names)))
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
    rows, truth, faces, info = _load_faces(models, data, given_truth, target_column, aligned, detector, limit, seed,
                                           chunk, tick)
    if not rows:
        raise FerCoreError(f"no usable face among the {info['n']} inputs ({len(info['no_face'])} without a face, "
                           f"{len(info['unreadable'])} unreadable)")
    probs = {name: predict_probs(loaded.model, loaded.card, [f.crop for f in faces[name]]) for name, loaded in items}
    targets, rule = _choose_targets(given, truth, list(probs.values()))
    results = {name: _explain_model(loaded, name, faces[name], probs[name], targets, explainers[name], names,
                                    batch_size, chunk, keep_maps, tick) for name, loaded in items}
    frame = pd.DataFrame({"row": rows, "path": [info["paths"][r] if info["paths"] else f"image {r}" for r in rows]})
    if truth is not None:
        frame["label"] = [label_names[t] for t in truth]
    return TransferComparison(method=method, labels=tuple(label_names), regions=[*names, "elsewhere"],
                              models=results, targets=targets, target_rule=rule, faces=frame, truth=truth,
                              n_rows=info["n"], no_face=info["no_face"], unreadable=info["unreadable"])
