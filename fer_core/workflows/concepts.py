"""Concepts of a photo: for every face, the channels of one layer that carry a class's evidence, each with the
heatmap of where it acts (Concept Relevance Propagation, :mod:`fer_core.explain.concepts`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..explain.concepts import ConceptExplanation
from ..explain.lrp import LRPExplainer
from ..face import Face, FaceDetector, find_faces
from ..models import LoadedModel

__all__ = ["FaceConcepts", "explain_concepts", "explain_face_concepts"]


@dataclass
class FaceConcepts:
    """One face: the model's scores, the explained class and its top concepts (``concepts``)."""

    face: Face
    probs: np.ndarray
    labels: tuple[str, ...]
    concepts: ConceptExplanation

    @property
    def label(self) -> str:
        return self.labels[self.concepts.target]

    @property
    def pred(self) -> str:
        return self.labels[int(np.argmax(self.probs))]

    def heatmaps(self) -> list[np.ndarray]:
        """The conditional heatmaps at crop resolution, most relevant concept first."""
        import cv2

        h, w = self.face.crop.shape[:2]
        maps = self.concepts.heatmaps.float().numpy()
        return [m if m.shape == (h, w) else cv2.resize(m, (w, h), interpolation=cv2.INTER_LINEAR) for m in maps]

    def to_json(self) -> dict:
        c = self.concepts
        return {
            "box": [int(v) for v in self.face.box],
            "pred": self.pred,
            "probs": {lab: round(float(p), 6) for lab, p in zip(self.labels, self.probs)},
            "class": self.label,
            "layer": c.layer,
            "class_relevance_at_layer": round(c.total, 6),
            "concepts": [
                {"channel": ch, "relevance": round(r, 6), "share": round(s, 6)}
                for ch, r, s in zip(c.concepts, c.relevance, c.share)
            ],
        }


def explain_face_concepts(
    loaded: LoadedModel,
    faces: list[Face],
    label: str | None = None,
    layer: str | None = None,
    top: int = 8,
    explainer: LRPExplainer | None = None,
) -> list[FaceConcepts]:
    """The ``top`` concepts of ``label`` (default: each face's predicted class) at ``layer`` (default the deepest).

    Parameters
    ----------
    loaded
        The model; LRP must apply to it (a PyTorch CNN).
    faces
        Aligned faces (:func:`fer_core.face.find_faces`).
    label
        The class to explain on every face; None explains each face's prediction.
    layer
        A layer of :func:`fer_core.explain.concepts.concept_layers`.
    top
        Concepts per face.
    explainer
        A shared LRP explainer of ``loaded.model``.

    Returns
    -------
    list[FaceConcepts]
        One per face, in order.

    Raises
    ------
    ValueError
        An unknown class or layer, or a model whose concepts LRP cannot reach.
    """
    from ..explain import create_explainer, why_not
    from ..explain.concepts import top_concepts
    from ..models.preprocess import to_model_input

    labels = tuple(loaded.card.label_names)
    if label is not None and label not in labels:
        raise ValueError(f"{label!r} is not one of the model's classes: {', '.join(labels)}")
    if explainer is None:
        if reason := why_not("lrp", loaded.model):
            raise ValueError(f"concepts need LRP, which does not apply to {loaded.name}: {reason}")
        explainer = create_explainer("lrp", loaded.model, loaded.card)
    x = to_model_input([f.crop for f in faces], loaded.card)
    with torch.no_grad():
        probs = loaded.card.probabilities(explainer.model(x.to(explainer.device)).double().cpu()).numpy()
    out = []
    for i, face in enumerate(faces):
        target = labels.index(label) if label is not None else int(np.argmax(probs[i]))
        found = top_concepts(explainer, x[i : i + 1], target, layer, top)
        out.append(FaceConcepts(face, probs[i], labels, found))
    return out


def explain_concepts(
    image: np.ndarray,
    loaded: LoadedModel,
    label: str | None = None,
    layer: str | None = None,
    top: int = 8,
    detector: FaceDetector | None = None,
) -> list[FaceConcepts]:
    """Find every face of an RGB photo and give each its top concepts (see :func:`explain_face_concepts`).

    Parameters
    ----------
    image
        (H, W, 3) uint8 RGB photo.
    loaded
        The model.
    label
        The class to explain; None: each face's prediction.
    layer
        The concept layer; None: the deepest.
    top
        Concepts per face.
    detector
        A shared face detector.

    Returns
    -------
    list[FaceConcepts]
        One per face found, largest first.
    """
    faces = find_faces(image, loaded.card.input_size, loaded.card.alignment, detector)
    return explain_face_concepts(loaded, faces, label, layer, top)
