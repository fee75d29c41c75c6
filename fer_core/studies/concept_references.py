"""Relevance maximisation: the reference faces of a concept, the faces of a dataset on which that channel carries the
most relevance for the class (zennit-crp's ``relevance`` mode), each cropped to where its conditional heatmap acts.
They show what a concept responds to better than its number does. The faces come from an explanation atlas (it
already holds every face's channel relevance); a cache folder keeps the result per model, dataset, class and layer,
so a page shows it again without recomputing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..face import FaceDetector, default_detector
from ..models import LoadedModel
from .atlas import Atlas

__all__ = [
    "ConceptReference",
    "ConceptReferences",
    "concept_box",
    "default_references_dir",
    "reference_faces",
    "references_cached",
]

MASS = 0.5  # the crop holds the pixels that carry this share of the concept's positive relevance
PAD = 0.15  # ... plus this fraction of the crop's side around them
MIN_SIDE = 0.3  # ... and is at least this fraction of the face wide


def default_references_dir() -> Path:
    """Where reference faces are kept unless told otherwise: fer_core's cache folder (never inside a checkout)."""
    from ..data.sources import default_cache_dir

    return Path(default_cache_dir()) / "concept_references"


@dataclass
class ConceptReference:
    """One reference face: its manifest ``row`` and ``path``, the concept's ``relevance`` on it, the aligned
    ``crop`` (uint8 RGB), the conditional ``heatmap`` (float32, crop-sized) and the ``box`` (x0, y0, x1, y1) where
    the concept acts."""

    row: int
    path: str
    relevance: float
    crop: np.ndarray
    heatmap: np.ndarray
    box: tuple[int, int, int, int]

    def cropped(self) -> tuple[np.ndarray, np.ndarray]:
        """(face, heatmap) inside ``box``."""
        x0, y0, x1, y1 = self.box
        return self.crop[y0:y1, x0:x1], self.heatmap[y0:y1, x0:x1]


@dataclass
class ConceptReferences:
    """The reference faces of a class's top concepts at ``layer``: ``concepts`` (channels, most relevant first),
    their mean ``shares`` of the layer's absolute relevance, and ``faces[channel]``, the strongest faces first."""

    model: str
    label: str
    layer: str
    concepts: list[int]
    shares: list[float]
    faces: dict[int, list[ConceptReference]] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "model": self.model,
            "label": self.label,
            "layer": self.layer,
            "concepts": [
                {
                    "channel": c,
                    "share": s,
                    "references": [
                        {"row": r.row, "path": r.path, "relevance": r.relevance, "box": list(r.box)}
                        for r in self.faces.get(c, [])
                    ],
                }
                for c, s in zip(self.concepts, self.shares)
            ],
        }


def concept_box(heatmap: np.ndarray, mass: float = MASS, pad: float = PAD, min_side: float = MIN_SIDE) -> tuple:
    """The box (x0, y0, x1, y1) around the pixels that carry ``mass`` of ``heatmap``'s positive relevance, padded
    and at least ``min_side`` of the side wide (the whole map when it has no positive relevance)."""
    h, w = heatmap.shape
    pos = np.clip(np.asarray(heatmap, dtype=np.float64), 0, None).ravel()
    if pos.sum() <= 0:
        return 0, 0, w, h
    order = np.argsort(-pos, kind="stable")
    n = int(np.searchsorted(np.cumsum(pos[order]), mass * pos.sum()) + 1)
    ys, xs = np.unravel_index(order[:n], (h, w))
    x0, x1 = _span(int(xs.min()), int(xs.max()) + 1, round(pad * w), w, round(min_side * w))
    y0, y1 = _span(int(ys.min()), int(ys.max()) + 1, round(pad * h), h, round(min_side * h))
    return x0, y0, x1, y1


def _span(lo: int, hi: int, margin: int, side: int, least: int) -> tuple[int, int]:
    """[lo, hi) widened by ``margin``, then to at least ``least`` around its centre, inside [0, side)."""
    lo, hi = max(0, lo - margin), min(side, hi + margin)
    if hi - lo < least:
        lo = min(max(0, round((lo + hi - least) / 2)), side - least)
        hi = lo + least
    return int(lo), int(hi)


def reference_faces(
    atlas: Atlas,
    loaded: LoadedModel,
    concepts: list[int] | None = None,
    top: int = 8,
    per_concept: int = 6,
    detector: FaceDetector | None = None,
) -> ConceptReferences:
    """The ``per_concept`` faces of the atlas on which each concept is most relevant for the atlas's class.

    Parameters
    ----------
    atlas
        An explanation atlas with concept relevances (its ``layer`` is not None).
    loaded
        The model the atlas was made with.
    concepts
        Channels to show; default the atlas's ``top`` concepts.
    top
        How many concepts when ``concepts`` is None.
    per_concept
        Reference faces per concept.
    detector
        A shared detector when the atlas's images are photos.

    Returns
    -------
    ConceptReferences
        The concepts, their shares and their reference faces with conditional heatmaps and crop boxes.

    Raises
    ------
    ValueError
        The atlas has no concept layer (a model LRP's concepts do not apply to).
    """
    from ..data.manifest_faces import face_of_image
    from ..explain import create_explainer
    from ..explain.concepts import conditional_heatmaps
    from ..models.preprocess import to_model_input

    if atlas.layer is None or atlas.concepts is None:
        raise ValueError(f"the atlas of {atlas.model} has no concept layer: concepts need LRP on a CNN")
    ranked = atlas.top_concepts(max(top, len(concepts or [])))
    share_of = dict(ranked)
    chosen = list(concepts) if concepts else [c for c, _ in ranked[:top]]
    rel = atlas.concepts
    picks = {c: np.argsort(-rel[:, c], kind="stable")[:per_concept] for c in chosen}
    needed = sorted({int(i) for idx in picks.values() for i in idx})
    detector = None if atlas.aligned else (detector or default_detector())
    card = loaded.card
    faces = {i: face_of_image(atlas.faces["path"].iloc[i], loaded, atlas.aligned, detector) for i in needed}
    pairs = [(c, int(i)) for c in chosen for i in picks[c]]
    explainer = create_explainer("lrp", loaded.model, loaded.card)
    channels = rel.shape[1]
    k = list(card.label_names).index(atlas.label)
    heat = np.zeros((0,))
    if pairs:
        x = to_model_input([faces[i].crop for _, i in pairs], card)
        masks = torch.zeros(len(pairs), 1, channels)
        masks[torch.arange(len(pairs)), 0, [c for c, _ in pairs]] = 1.0
        heat = conditional_heatmaps(explainer, x, k, masks, atlas.layer)[:, 0].sum(1).float().numpy()
    out = ConceptReferences(
        atlas.model, atlas.label, atlas.layer, chosen, [round(share_of.get(c, 0.0), 4) for c in chosen]
    )
    for n, (c, i) in enumerate(pairs):
        crop = faces[i].crop
        h = _to_crop(heat[n], crop.shape[:2])
        out.faces.setdefault(c, []).append(
            ConceptReference(
                row=int(atlas.faces["row"].iloc[i]),
                path=str(atlas.faces["path"].iloc[i]),
                relevance=round(float(rel[i, c]), 6),
                crop=crop,
                heatmap=h,
                box=concept_box(h),
            )
        )
    return out


def _to_crop(heat: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    import cv2

    if heat.shape == tuple(shape):
        return heat.astype(np.float32)
    return cv2.resize(heat.astype(np.float32), (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)


def _cache_key(atlas: Atlas, sha: str, concepts: list[int] | None, top: int, per_concept: int) -> str:
    spec = {
        "model": atlas.model,
        "sha256": sha,
        "label": atlas.label,
        "layer": atlas.layer,
        "faces": atlas.faces["path"].tolist(),
        "concepts": concepts,
        "top": top,
        "per_concept": per_concept,
    }
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:20]


def references_cached(
    atlas: Atlas,
    loaded: LoadedModel,
    cache: str | Path,
    concepts: list[int] | None = None,
    top: int = 8,
    per_concept: int = 6,
    detector: FaceDetector | None = None,
) -> ConceptReferences:
    """:func:`reference_faces`, kept in ``cache`` (one ``.npz`` of arrays and a ``.json`` per model, dataset, class,
    layer and choice) and read back from there next time; no pickle is written or read.

    Parameters
    ----------
    atlas
        As :func:`reference_faces`.
    loaded
        The model the atlas was made with.
    cache
        The folder the results are kept in.
    concepts
        As :func:`reference_faces`.
    top
        As :func:`reference_faces`.
    per_concept
        As :func:`reference_faces`.
    detector
        As :func:`reference_faces`.

    Returns
    -------
    ConceptReferences
        The stored result, or a fresh one (then stored).
    """
    folder = Path(cache)
    key = _cache_key(atlas, getattr(loaded.card, "sha256", "") or "", concepts, top, per_concept)
    meta_path, arrays_path = folder / f"references_{key}.json", folder / f"references_{key}.npz"
    if meta_path.is_file() and arrays_path.is_file():
        try:
            return _read(meta_path, arrays_path)
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache entry is computed again
    found = reference_faces(atlas, loaded, concepts, top, per_concept, detector)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for c, refs in found.faces.items():
        for j, r in enumerate(refs):
            arrays[f"crop_{c}_{j}"], arrays[f"heat_{c}_{j}"] = r.crop, r.heatmap
    np.savez_compressed(arrays_path, **arrays)
    meta_path.write_text(json.dumps(found.to_json()), encoding="utf-8")
    return found


def _read(meta_path: Path, arrays_path: Path) -> ConceptReferences:
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    with np.load(arrays_path, allow_pickle=False) as arrays:
        out = ConceptReferences(meta["model"], meta["label"], meta["layer"], [], [])
        for item in meta["concepts"]:
            c = int(item["channel"])
            out.concepts.append(c)
            out.shares.append(float(item["share"]))
            out.faces[c] = [
                ConceptReference(
                    row=int(r["row"]),
                    path=r["path"],
                    relevance=float(r["relevance"]),
                    crop=arrays[f"crop_{c}_{j}"],
                    heatmap=arrays[f"heat_{c}_{j}"],
                    box=tuple(int(v) for v in r["box"]),
                )
                for j, r in enumerate(item["references"])
            ]
    return out
