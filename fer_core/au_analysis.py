"""Action units of a face: per-AU probabilities (a sigmoid per output) and one heatmap per AU, with the face region
that AU moves (``taxonomy.AU_REGION``) and the share of the heatmap's positive relevance inside it."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np
import torch

from .explain import create_explainer, overlay, region_share
from .explain._base import Explainer
from .face import Face, FaceDetector, find_faces
from .models import LoadedModel
from .models.preprocess import to_model_input
from .taxonomy import AU_REGION

__all__ = ["AUFaceResult", "au_number", "explain_au_faces", "explain_au_image", "outlined_overlay"]


def au_number(label: str) -> int | None:
    m = re.fullmatch(r"AU(\d+)", label)
    return int(m.group(1)) if m else None


@dataclass
class AUFaceResult:
    face: Face
    probs: np.ndarray  # (A,) sigmoid
    heatmaps: np.ndarray  # (A, H, W)
    labels: tuple[str, ...]

    def region(self, label: str) -> str | None:
        n = au_number(label)
        return AU_REGION.get(n) if n is not None else None

    def share_in_region(self, label: str) -> float | None:
        """Share of the AU heatmap's positive relevance inside the region that AU moves."""
        region = self.region(label)
        if region is None or region not in self.face.regions:
            return None
        k = self.labels.index(label)
        return region_share(self.heatmaps[k], {region: self.face.regions[region]})[region]


def explain_au_faces(loaded: LoadedModel, faces: Sequence[Face], method: str = "lrp",
                     explainer: Explainer | None = None) -> list[AUFaceResult]:
    if not faces:
        return []
    explainer = explainer or create_explainer(method, loaded.model, loaded.card)
    x = to_model_input([f.crop for f in faces], loaded.card)
    with torch.no_grad():
        probs = torch.sigmoid(loaded.model.eval()(x).double()).numpy()
    heat = explainer.attribute_all(x).sum(2).double().numpy()
    return [AUFaceResult(face=f, probs=p, heatmaps=h, labels=loaded.card.label_names)
            for f, p, h in zip(faces, probs, heat)]


def explain_au_image(image: np.ndarray, loaded: LoadedModel, method: str = "lrp",
                     detector: FaceDetector | None = None, explainer: Explainer | None = None) -> list[AUFaceResult]:
    faces = find_faces(image, loaded.card.input_size, loaded.card.template, detector)
    return explain_au_faces(loaded, faces, method, explainer)


def outlined_overlay(result: AUFaceResult, label: str, size: int = 192, vmax: float | None = None) -> np.ndarray:
    """The AU's heatmap over the face, with the outline of the region that AU moves drawn in green."""
    k = result.labels.index(label)
    img = overlay(result.face.crop, result.heatmaps[k], size=size, vmax=vmax)
    region = result.region(label)
    if region and region in result.face.regions:
        mask = cv2.resize(result.face.regions[region].astype(np.uint8), (img.shape[1], img.shape[0]),
                          interpolation=cv2.INTER_NEAREST)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        img = np.ascontiguousarray(img)
        cv2.drawContours(img, contours, -1, (40, 200, 60), max(1, size // 96))
    return img
