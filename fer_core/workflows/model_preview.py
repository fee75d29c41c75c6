"""A first look at a model before it is saved: on a few photos, its scores and one heatmap by the first method that
applies, with the reason where a part is missing. The Models page shows it; ``fer-core models show`` prints the
same method table."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ..errors import FaceNotFoundError, FerCoreError
from ..explain import method_support
from ..face import FaceDetector, default_detector, find_faces
from ..models import LoadedModel
from ..models.runtime import count_parameters
from .explain import explain_faces, predict_crops

__all__ = ["ModelPreview", "PreviewFace", "preview_model"]


@dataclass
class PreviewFace:
    """One preview image through a candidate model: its aligned crop, scores and the top output's heatmap."""

    name: str
    crop: np.ndarray | None = None
    labels: tuple[str, ...] = ()
    probs: np.ndarray | None = None
    output: str = "softmax"
    heatmap: np.ndarray | None = None
    problem: str = ""  # why a part is missing (no face found, the heatmap failed)

    @property
    def pred(self) -> str:
        return self.labels[int(np.argmax(self.probs))] if self.probs is not None else ""


@dataclass
class ModelPreview:
    """A loaded model run on the preview faces, with what applies to it."""

    card: object  # ModelCard
    runtime: str
    note: str
    parameters: int
    support: dict[str, str]  # method -> '' or why it does not apply
    method: str | None  # the first method that applies: the preview's heatmaps
    faces: list[PreviewFace] = field(default_factory=list)


def preview_model(
    loaded: LoadedModel, images: Mapping[str, np.ndarray], detector: FaceDetector | None = None
) -> ModelPreview:
    """Scores and one heatmap per image (its largest face), by the first method that applies to ``loaded``.

    Parameters
    ----------
    loaded
        The model and the card it is about to be saved with.
    images
        Name -> RGB image (the bundled portrait, a SynthFACS face).
    detector
        A shared face detector; the process-wide one when None.

    Returns
    -------
    ModelPreview
        One :class:`PreviewFace` per image; a face that could not be found or explained says why, the rest stands.
    """
    card = loaded.card
    support = method_support(loaded)
    method = next((m for m, why in support.items() if not why), None)
    faces = []
    for label, image in images.items():
        face = PreviewFace(label, labels=card.label_names, output=card.output)
        faces.append(face)
        try:
            found = find_faces(image, card.input_size, card.alignment, detector or default_detector())[:1]
        except FaceNotFoundError as exc:
            face.problem = str(exc)
            continue
        face.crop = found[0].crop
        face.probs = predict_crops(loaded, [face.crop])[0]
        if method is None:
            face.problem = "no explanation method applies to this model"
            continue
        try:
            result = explain_faces(loaded, found, method)[0]
            face.heatmap = result.heatmap(result.pred)
        except (FerCoreError, ValueError, RuntimeError) as exc:  # a user's graph can fail: the scores stand, say why
            face.problem = f"no heatmap: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
    return ModelPreview(card, loaded.runtime, loaded.note, count_parameters(loaded.model), support, method, faces)
