"""Explain a face: its scores and per-output heatmaps from one pass, for every output kind (classes, action units,
EmoNet-40 intensities). The Heatmaps, Action units and EmoNet pages, the report and the CLI all use it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..errors import CheckpointError
from ..explain import (
    MOSTLY_NEGATIVE,
    UNSTABLE_CANCELLATION,
    Explainer,
    cancellation,
    create_explainer,
    positive_fraction,
    region_share,
)
from ..face import LANDMARK_NAMES, Face, FaceDetector, find_faces
from ..models import LoadedModel
from ..models.preprocess import MSG_NOT_FINITE, predict_probs, to_model_input


@dataclass
class FaceResult:
    """One face, its scores and its heatmaps, all from one pass of the explainer.

    Built by :func:`explain_faces` and the workflows on top of it, rarely by hand.

    Parameters
    ----------
    face
        The aligned face that was explained.
    probs
        (K,) one score per output, in ``labels`` order, as the model card says the outputs mean (``output``):
        softmax class probabilities, a sigmoid per output (action units, EmoNet-40), or the raw values.
    heatmaps
        (T, H, W) one per explained output, channel-summed, at crop resolution.
    labels
        (K,) every output's name, from the model card.
    targets
        (T,) the output each heatmap explains; empty (the default) means every output in order, and is filled in.
    output
        The model card's output kind (``softmax``, ``sigmoid``, ``regression`` or ``embedding``).
    """

    face: Face
    probs: np.ndarray  # (K,) one score per output, ``labels`` order
    heatmaps: np.ndarray  # (T, H, W) one per explained output
    labels: tuple[str, ...]  # (K,) every output's name
    targets: tuple[int, ...] = ()  # (T,) output index of each heatmap; () = every output in order
    output: str = "softmax"

    def __post_init__(self) -> None:
        if not self.targets:
            self.targets = tuple(range(len(self.heatmaps)))

    @property
    def pred(self) -> str:
        return self.labels[int(self.probs.argmax())]

    @property
    def explained(self) -> tuple[str, ...]:
        """Names of the outputs that have a heatmap, in heatmap order."""
        return tuple(self.labels[k] for k in self.targets)

    def heatmap(self, label: str) -> np.ndarray:
        """The (H, W) heatmap of output ``label`` (KeyError if that output was not explained)."""
        k = self.labels.index(label)
        if k not in self.targets:
            raise KeyError(f"{label!r} has no heatmap; explained: {', '.join(self.explained)}")
        return self.heatmaps[self.targets.index(k)]

    def region_share(self, label: str | None = None) -> dict[str, float]:
        return region_share(self.heatmap(label or self.pred), self.face.regions)

    def positive_fraction(self, label: str | None = None) -> float:
        """Share of the map's |relevance| that speaks for ``label`` (default: the prediction); see
        :func:`fer_core.explain.regions.positive_fraction`."""
        return positive_fraction(self.heatmap(label or self.pred))

    def cancellation(self, label: str | None = None) -> float:
        """sum |R| / |sum R| of the map of ``label`` (default: the prediction); see
        :func:`fer_core.explain.regions.cancellation`."""
        return cancellation(self.heatmap(label or self.pred))

    def unstable(self, label: str | None = None) -> bool:
        """Whether the map's positive and negative relevance cancel, so it shows numerical noise, not evidence."""
        return self.cancellation(label) > UNSTABLE_CANCELLATION

    def mostly_negative(self, label: str | None = None) -> bool:
        """Whether the map holds (almost) no evidence for ``label``: then no region should be named for it."""
        return self.positive_fraction(label) < MOSTLY_NEGATIVE

    def to_json(self) -> dict:
        x, y, w, h = self.face.box
        return {
            "box": [round(x, 1), round(y, 1), round(w, 1), round(h, 1)],
            "landmarks": {
                n: [round(float(a), 1), round(float(b), 1)] for n, (a, b) in zip(LANDMARK_NAMES, self.face.landmarks)
            },
            "detector_score": None if np.isnan(self.face.score) else round(self.face.score, 4),
            "used_as_crop": self.face.used_as_crop,
            **self.face.landmarks_json(),
            "probs": {lab: round(float(p), 6) for lab, p in zip(self.labels, self.probs)},
            "pred": self.pred,
            "region_share": {k: round(v, 4) for k, v in self.region_share().items()},
            "positive_fraction": round(self.positive_fraction(), 4),  # under 0.1 the shares above mean little
        }


def predict_crops(loaded: LoadedModel, crops: Sequence[np.ndarray], batch_size: int = 128) -> np.ndarray:
    """(N, K) scores for aligned RGB crops (the card's output kind)."""
    return predict_probs(loaded.model, loaded.card, crops, batch_size)


def explain_faces(
    loaded: LoadedModel,
    faces: Sequence[Face],
    method: str = "lrp",
    explainer: Explainer | None = None,
    top: int | None = None,
    result_type: type[FaceResult] = FaceResult,
    progress: Callable[[int, int], None] | None = None,
) -> list[FaceResult]:
    """Scores and heatmaps of aligned faces from one explainer pass (zennit's ``(output, attribution)``): every
    output's heatmap, or with ``top`` only each face's ``top`` highest-scoring outputs (one batched call).

    Parameters
    ----------
    loaded
        The model and its card.
    faces
        Aligned faces (from :func:`fer_core.face.find_faces` or :func:`fer_core.face.aligned_crop`).
    method
        Attribution method (``fer_core.explain.METHODS``); ignored when ``explainer`` is given.
    explainer
        A shared explainer of ``loaded.model``; created from ``method`` when None.
    top
        Explain only each face's ``top`` highest-scoring outputs (clipped to 1..K); None explains every output.
    result_type
        The :class:`FaceResult` subclass to build (the action-unit and EmoNet workflows add their own views).
    progress
        Called with (work done, total work) as the attribution proceeds, for a progress bar on slow methods.

    Returns
    -------
    list[FaceResult]
        One per face, in input order; empty for no faces.

    Raises
    ------
    CheckpointError
        The model's outputs are NaN or infinite on these faces (no result rather than a meaningless one).
    """
    if not faces:
        return []
    explainer = explainer or create_explainer(method, loaded.model, loaded.card)
    x = to_model_input([f.crop for f in faces], loaded.card)
    card = loaded.card
    targets = None
    if top is not None:
        scores = card.probabilities(explainer.logits(x).double())
        top = max(1, min(int(top), card.num_classes))
        targets = torch.as_tensor(np.argsort(-scores.numpy(), axis=1, kind="stable")[:, :top].copy())
    logits, rel = explainer.explain(x, targets, progress=progress)
    probs = card.probabilities(logits.double()).numpy()
    if not np.isfinite(probs).all():
        raise CheckpointError(MSG_NOT_FINITE)
    heat = rel.sum(2).double().numpy()
    rows = targets.tolist() if targets is not None else [()] * len(faces)
    return [
        result_type(face=f, probs=p, heatmaps=h, labels=card.label_names, targets=tuple(t), output=card.output)
        for f, p, h, t in zip(faces, probs, heat, rows)
    ]


def explain_crops(
    loaded: LoadedModel, crops: Sequence[np.ndarray], method: str = "lrp", explainer: Explainer | None = None
) -> list[FaceResult]:
    """Like :func:`explain_faces` for images that already are aligned crops (dataset rows, SynthFACS faces).

    No detection: each crop is resized to the model's input and gets the template's landmarks and region masks.

    Parameters
    ----------
    loaded
        The model and its card.
    crops
        Aligned RGB uint8 face crops, of any size.
    method
        Attribution method (``fer_core.explain.METHODS``); ignored when ``explainer`` is given.
    explainer
        A shared explainer of ``loaded.model``; created from ``method`` when None.

    Returns
    -------
    list[FaceResult]
        One per crop, in input order, every output explained.
    """
    from ..face import aligned_crop

    faces = [aligned_crop(c, loaded.card.input_size, loaded.card.alignment) for c in crops]
    return explain_faces(loaded, faces, method, explainer)


def explain_image(
    image: np.ndarray,
    loaded: LoadedModel,
    method: str = "lrp",
    detector: FaceDetector | None = None,
    explainer: Explainer | None = None,
    landmarker: str = "auto",
) -> list[FaceResult]:
    """Find every face in an RGB photo and explain each (raises FaceNotFoundError if there is none).

    Parameters
    ----------
    image
        (H, W, 3) uint8 RGB photo (:func:`fer_core.face.load_image`).
    loaded
        The model and its card (input size and alignment template of the crops).
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
    list[FaceResult]
        One per face found (see :func:`fer_core.face.find_faces`), largest first, every output explained.
    """
    faces = find_faces(image, loaded.card.input_size, loaded.card.alignment, detector, landmarker=landmarker)
    return explain_faces(loaded, faces, method, explainer)
