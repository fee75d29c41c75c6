"""EmoNet-40 intensities (METHODS.md section 4): the manifest cell format, the 40 -> basic-8 and 40 -> valence views
for managers, and a face's 40 intensities with heatmaps for its strongest categories.

A model of the ``emonet40`` recipe has 40 outputs; ``7 * sigmoid(logit)`` is the intensity on the 0-7 scale of the
EmoNet-Face experts (0 = not present, 1 = weakly present ... 7 = very strong).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from .errors import DatasetError
from .explain import create_explainer, region_share
from .explain._base import Explainer
from .face import Face, FaceDetector, find_faces
from .models import LoadedModel
from .models.preprocess import to_model_input
from .taxonomy import BASIC8, BASIC8_VALENCE, EMONET40, EMONET40_GROUPS, EMONET40_TO_BASIC8, emonet_to_valence

__all__ = ["EmoNetFaceResult", "MAX_INTENSITY", "VALENCES", "basic8_scores", "explain_emonet_faces",
           "explain_emonet_image", "group_of", "is_emonet_model", "parse_intensities", "valence_scores"]

MAX_INTENSITY = 7.0
VALENCES: tuple[str, ...] = ("positive", "neutral", "negative")
_GROUP_OF = {c: g for g, members in EMONET40_GROUPS.items() for c in members}


def group_of(category: str) -> str:
    return _GROUP_OF[category]


def parse_intensities(text: str, rated: str = "") -> tuple[np.ndarray, np.ndarray]:
    """A manifest's ``intensities`` cell ("Amusement:5;Awe:0.5", "group|emotion" keys allowed) -> (values (40,),
    known (40,) bool). Listed categories are known; with ``rated == "all"`` the unlisted ones are known zeros (an
    HQ-style rating of every category), otherwise unknown (a Binary-style query of a few)."""
    values = np.zeros(len(EMONET40), np.float32)
    known = np.full(len(EMONET40), str(rated).strip().lower() == "all")
    text = "" if text is None or str(text) == "nan" else str(text)
    for item in filter(None, (t.strip() for t in text.split(";"))):
        name, _, value = item.rpartition(":")
        name = name.split("|")[-1].strip()
        if name not in EMONET40:
            raise DatasetError(f"intensities: unknown EmoNet-40 category {name!r} in {text[:80]!r}")
        try:
            v = float(value)
        except ValueError:
            raise DatasetError(f"intensities: {item!r} needs CATEGORY:VALUE with a number 0-7") from None
        if not 0.0 <= v <= MAX_INTENSITY:
            raise DatasetError(f"intensities: {name} = {v} is outside 0-7")
        k = EMONET40.index(name)
        values[k], known[k] = v, True
    return values, known


def basic8_scores(intensities: np.ndarray) -> np.ndarray:
    """(..., 40) intensities -> (..., 8) basic-8 scores in ``BASIC8`` order: each class takes the strongest of the
    categories mapped to it (``EMONET40_TO_BASIC8``); neutral is also what is left when nothing is present
    (7 minus the strongest category)."""
    x = np.asarray(intensities, dtype=np.float64)
    out = np.zeros(x.shape[:-1] + (len(BASIC8),))
    for j, basic in enumerate(BASIC8):
        idx = [k for k, c in enumerate(EMONET40) if EMONET40_TO_BASIC8.get(c) == basic]
        if idx:
            out[..., j] = x[..., idx].max(-1)
    j = BASIC8.index("neutral")
    out[..., j] = np.maximum(out[..., j], MAX_INTENSITY - x.max(-1))
    return out


def valence_scores(intensities: np.ndarray) -> np.ndarray:
    """(..., 40) -> (..., 3) strongest intensity per valence (``VALENCES`` order), the coarse view for managers."""
    x = np.asarray(intensities, dtype=np.float64)
    out = np.zeros(x.shape[:-1] + (len(VALENCES),))
    for j, v in enumerate(VALENCES):
        idx = [k for k, c in enumerate(EMONET40) if emonet_to_valence(c) == v]
        out[..., j] = x[..., idx].max(-1)
    return out


def is_emonet_model(loaded: LoadedModel) -> bool:
    return tuple(loaded.card.label_names) == EMONET40


@dataclass
class EmoNetFaceResult:
    """One face: 40 intensities (0-7) and heatmaps of its ``top`` strongest categories (positive = evidence for)."""

    face: Face
    intensities: np.ndarray  # (40,)
    top: tuple[str, ...]
    heatmaps: np.ndarray  # (len(top), H, W)

    def by_group(self) -> dict[str, dict[str, float]]:
        return {g: {c: float(self.intensities[EMONET40.index(c)]) for c in members}
                for g, members in EMONET40_GROUPS.items()}

    def basic8(self) -> dict[str, float]:
        return dict(zip(BASIC8, basic8_scores(self.intensities).round(3).tolist()))

    def valence(self) -> dict[str, float]:
        return dict(zip(VALENCES, valence_scores(self.intensities).round(3).tolist()))

    def region_share(self, category: str) -> dict[str, float]:
        return region_share(self.heatmaps[self.top.index(category)], self.face.regions)

    def to_json(self) -> dict:
        return {"intensities": {c: round(float(v), 3) for c, v in zip(EMONET40, self.intensities)},
                "top": list(self.top), "basic8": self.basic8(), "valence": self.valence(),
                "basic8_mapping": {c: EMONET40_TO_BASIC8.get(c) for c in self.top},
                "valence_of_basic8": dict(BASIC8_VALENCE),
                "region_share": {c: {k: round(v, 4) for k, v in self.region_share(c).items()} for c in self.top}}


def _check(loaded: LoadedModel) -> None:
    if not is_emonet_model(loaded):
        raise DatasetError(f"model {loaded.card.arch} has outputs {list(loaded.card.label_names)[:4]}...; an EmoNet-40 "
                           "model (the emonet40 recipe) has the 40 EmoNet categories")


def explain_emonet_faces(loaded: LoadedModel, faces: Sequence[Face], top: int = 3, method: str = "lrp",
                         explainer: Explainer | None = None) -> list[EmoNetFaceResult]:
    """Intensities of aligned faces and one heatmap for each face's ``top`` strongest categories (one batched
    attribution call over all faces x categories)."""
    _check(loaded)
    if not faces:
        return []
    top = max(1, min(int(top), len(EMONET40)))
    x = to_model_input([f.crop for f in faces], loaded.card)
    with torch.no_grad():
        intensity = (MAX_INTENSITY * torch.sigmoid(loaded.model.eval()(x).double())).numpy()
    order = np.argsort(-intensity, axis=1, kind="stable")[:, :top]
    explainer = explainer or create_explainer(method, loaded.model, loaded.card)
    rows = x.repeat_interleave(top, 0)
    heat = explainer.attribute(rows, torch.as_tensor(order.reshape(-1)), batch_size=32).sum(1).double().numpy()
    heat = heat.reshape(len(faces), top, *heat.shape[1:])
    return [EmoNetFaceResult(face=f, intensities=i, top=tuple(EMONET40[k] for k in o), heatmaps=h)
            for f, i, o, h in zip(faces, intensity, order, heat)]


def explain_emonet_image(image: np.ndarray, loaded: LoadedModel, top: int = 3, method: str = "lrp",
                         detector: FaceDetector | None = None, explainer: Explainer | None = None
                         ) -> list[EmoNetFaceResult]:
    """Every face of an RGB photo (raises FaceNotFoundError if there is none) with :func:`explain_emonet_faces`."""
    _check(loaded)
    faces = find_faces(image, loaded.card.input_size, loaded.card.template, detector)
    return explain_emonet_faces(loaded, faces, top, method, explainer)
