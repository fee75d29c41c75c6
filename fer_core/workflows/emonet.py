"""A face's EmoNet-40 intensities (METHODS.md section 4) with heatmaps for its strongest categories, and the 40 ->
basic-8 and 40 -> valence views for managers (the scales themselves live in :mod:`fer_core.taxonomy`).

A model of the ``emonet40`` recipe has 40 outputs; ``7 * sigmoid(logit)`` is the intensity on the 0-7 scale of the
EmoNet-Face experts (0 = not present, 1 = weakly present ... 7 = very strong).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import DatasetError
from ..explain import Explainer
from ..face import Face, FaceDetector, find_faces
from ..models import LoadedModel
from ..taxonomy import (
    BASIC8,
    BASIC8_VALENCE,
    EMONET40,
    EMONET40_GROUPS,
    EMONET40_TO_BASIC8,
    MAX_INTENSITY,
    VALENCES,
    basic8_scores,
    valence_scores,
)
from .explain import FaceResult, explain_faces

__all__ = ["EmoNetFaceResult", "explain_emonet_faces", "explain_emonet_image", "is_emonet_model"]


def is_emonet_model(loaded: LoadedModel) -> bool:
    return tuple(loaded.card.label_names) == EMONET40


class EmoNetFaceResult(FaceResult):
    """One face: 40 intensities (0-7) and heatmaps of its strongest categories (positive = evidence for).

    Parameters
    ----------
    face
        The aligned face that was explained.
    probs
        (40,) a sigmoid per category, in ``labels`` order; :attr:`intensities` puts them on the 0-7 scale.
    heatmaps
        (T, H, W) one per explained category, strongest first, channel-summed, at crop resolution.
    labels
        (40,) the EmoNet-40 categories.
    targets
        (T,) the category each heatmap explains; empty (the default) means every category in order.
    output
        The model card's output kind (``sigmoid`` for an EmoNet-40 model).
    """

    @property
    def intensities(self) -> np.ndarray:
        """(40,) ``7 * sigmoid(logit)``: the EmoNet-Face experts' 0-7 scale."""
        return MAX_INTENSITY * self.probs

    @property
    def top(self) -> tuple[str, ...]:
        """The explained categories, strongest first."""
        return self.explained

    def by_group(self) -> dict[str, dict[str, float]]:
        return {
            g: {c: float(self.intensities[EMONET40.index(c)]) for c in members}
            for g, members in EMONET40_GROUPS.items()
        }

    def basic8(self) -> dict[str, float]:
        return dict(zip(BASIC8, basic8_scores(self.intensities).round(3).tolist()))

    def valence(self) -> dict[str, float]:
        return dict(zip(VALENCES, valence_scores(self.intensities).round(3).tolist()))

    def region_share(self, category: str | None = None) -> dict[str, float]:
        return super().region_share(category or self.top[0])

    def to_json(self) -> dict:
        return {
            "intensities": {c: round(float(v), 3) for c, v in zip(EMONET40, self.intensities)},
            "top": list(self.top),
            "basic8": self.basic8(),
            "valence": self.valence(),
            "basic8_mapping": {c: EMONET40_TO_BASIC8.get(c) for c in self.top},
            "valence_of_basic8": dict(BASIC8_VALENCE),
            "region_share": {c: {k: round(v, 4) for k, v in self.region_share(c).items()} for c in self.top},
        }


def _check(loaded: LoadedModel) -> None:
    if not is_emonet_model(loaded):
        raise DatasetError(
            f"model {loaded.card.arch} has outputs {list(loaded.card.label_names)[:4]}...; an EmoNet-40 "
            "model (the emonet40 recipe) has the 40 EmoNet categories"
        )


def explain_emonet_faces(
    loaded: LoadedModel, faces: Sequence[Face], top: int = 3, method: str = "lrp", explainer: Explainer | None = None
) -> list[EmoNetFaceResult]:
    """Intensities of aligned faces and one heatmap for each face's ``top`` strongest categories (one batched
    attribution call over all faces x categories)."""
    _check(loaded)
    return explain_faces(loaded, faces, method, explainer, top=top, result_type=EmoNetFaceResult)


def explain_emonet_image(
    image: np.ndarray,
    loaded: LoadedModel,
    top: int = 3,
    method: str = "lrp",
    detector: FaceDetector | None = None,
    explainer: Explainer | None = None,
    landmarker: str = "auto",
) -> list[EmoNetFaceResult]:
    """Every face of an RGB photo (raises FaceNotFoundError if there is none) with :func:`explain_emonet_faces`.

    A model that is not an EmoNet-40 model raises DatasetError before any face is looked for.

    Parameters
    ----------
    image
        (H, W, 3) uint8 RGB photo.
    loaded
        An EmoNet-40 model (the ``emonet40`` recipe) and its card.
    top
        Heatmaps for each face's ``top`` strongest categories (clipped to 1..40).
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
    list[EmoNetFaceResult]
        One per face found, largest first.
    """
    _check(loaded)
    faces = find_faces(image, loaded.card.input_size, loaded.card.alignment, detector, landmarker=landmarker)
    return explain_emonet_faces(loaded, faces, top, method, explainer)
