"""Action units of a face: per-AU probabilities (a sigmoid per output) and one heatmap per AU, with the face region
that AU moves (``taxonomy.AU_REGION``) and the share of the heatmap's positive relevance inside it."""

from __future__ import annotations

import re
from collections.abc import Sequence

import cv2
import numpy as np

from ..explain import Explainer, overlay, region_share
from ..face import Face, FaceDetector, find_faces
from ..models import LoadedModel
from ..taxonomy import AU_REGION
from .explain import FaceResult, explain_faces

__all__ = ["AUFaceResult", "au_number", "explain_au_faces", "explain_au_image", "outlined_overlay"]


def au_number(label: str) -> int | None:
    m = re.fullmatch(r"AU(\d+)", label)
    return int(m.group(1)) if m else None


class AUFaceResult(FaceResult):
    """A face explained by an action-unit detector (``probs``: a sigmoid per AU), with the region each AU moves.

    Parameters
    ----------
    face
        The aligned face that was explained.
    probs
        (K,) probability of each action unit (a sigmoid per output), in ``labels`` order.
    heatmaps
        (T, H, W) one per explained action unit, channel-summed, at crop resolution.
    labels
        (K,) the model's outputs, ``AU<n>`` for an action unit (``taxonomy.AU_REGION`` maps n to the face region
        it moves).
    targets
        (T,) the output each heatmap explains; empty (the default) means every output in order.
    output
        The model card's output kind (``sigmoid`` for an AU detector).
    """

    def region(self, label: str) -> str | None:
        n = au_number(label)
        return AU_REGION.get(n) if n is not None else None

    def share_in_region(self, label: str) -> float | None:
        """Share of the AU heatmap's positive relevance inside the region that AU moves."""
        region = self.region(label)
        if region is None or region not in self.face.regions:
            return None
        return region_share(self.heatmap(label), {region: self.face.regions[region]})[region]


def explain_au_faces(
    loaded: LoadedModel, faces: Sequence[Face], method: str = "lrp", explainer: Explainer | None = None
) -> list[AUFaceResult]:
    """Per-AU probabilities and heatmaps of aligned faces (:func:`~fer_core.workflows.explain.explain_faces`)."""
    return explain_faces(loaded, faces, method, explainer, result_type=AUFaceResult)


def explain_au_image(
    image: np.ndarray,
    loaded: LoadedModel,
    method: str = "lrp",
    detector: FaceDetector | None = None,
    explainer: Explainer | None = None,
    landmarker: str = "auto",
) -> list[AUFaceResult]:
    """Every face of an RGB photo (raises FaceNotFoundError if there is none) with :func:`explain_au_faces`.

    Parameters
    ----------
    image
        (H, W, 3) uint8 RGB photo.
    loaded
        An action-unit detector and its card.
    method
        Attribution method (``fer_core.explain.METHODS``); ignored when ``explainer`` is given.
    detector
        A shared face detector; None uses the process-wide one.
    explainer
        A shared explainer of ``loaded.model``; created from ``method`` when None.
    landmarker
        How each face's landmarks, regions and head pose are found (:func:`fer_core.face.find_faces`; default
        ``auto``: the 468-point mesh where it can run, else MTCNN's 5 points).

    Returns
    -------
    list[AUFaceResult]
        One per face found, largest first, with a heatmap for every action unit.
    """
    faces = find_faces(image, loaded.card.input_size, loaded.card.alignment, detector, landmarker=landmarker)
    return explain_au_faces(loaded, faces, method, explainer)


def outlined_overlay(result: AUFaceResult, label: str, size: int = 192, vmax: float | None = None) -> np.ndarray:
    """The AU's heatmap over the face, with the outline of the region that AU moves drawn in green."""
    img = overlay(result.face.crop, result.heatmap(label), size=size, vmax=vmax)
    region = result.region(label)
    if region and region in result.face.regions:
        mask = cv2.resize(
            result.face.regions[region].astype(np.uint8), (img.shape[1], img.shape[0]), interpolation=cv2.INTER_NEAREST
        )
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        img = np.ascontiguousarray(img)
        cv2.drawContours(img, contours, -1, (40, 200, 60), max(1, size // 96))
    return img
