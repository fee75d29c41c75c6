"""Occlude a face: its scores intact and with each face region hidden (what the model needs to see)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..explain import occlude_regions
from ..face import Face, FaceDetector, find_faces, parse_regions
from ..models import LoadedModel


@dataclass(frozen=True)
class FaceOcclusion:
    """One face's scores intact and with each region hidden in turn.

    Parameters
    ----------
    face
        The aligned face that was occluded.
    fill
        What replaced each hidden region (``fer_core.explain.FILLS``).
    base
        Score per output with nothing hidden, indexed by label (what the card says the outputs mean).
    occluded
        Score per output with one region hidden: one row per region, one column per label.
    """

    face: Face
    fill: str
    base: pd.Series
    occluded: pd.DataFrame

    @property
    def pred(self) -> str:
        """The label with the highest intact score."""
        return str(self.base.idxmax())

    def change(self, label: str | None = None) -> pd.Series:
        """Per region: how far hiding it moves ``label``'s score (default: the predicted class)."""
        label = label or self.pred
        return self.occluded[label] - self.base[label]

    def changes(self) -> pd.DataFrame:
        """Long table (region, class, change) of every label's score change: what the occlusion chart draws."""
        delta = self.occluded - self.base
        return delta.rename_axis("region").reset_index().melt("region", var_name="class", value_name="change")

    def to_json(self) -> dict:
        """``box``, ``used_as_crop``, ``landmarker``, ``pose`` (with the mesh), ``fill``, ``base`` (label -> score) and
        ``occluded`` (region -> label -> score),
        rounded to 6 digits: what ``fer-core occlude --json`` prints and the report embeds."""
        return {
            "box": [round(v, 1) for v in self.face.box],
            "used_as_crop": self.face.used_as_crop,
            **self.face.landmarks_json(),
            "fill": self.fill,
            "base": {lab: round(float(p), 6) for lab, p in self.base.items()},
            "occluded": {r: {lab: round(float(p), 6) for lab, p in row.items()} for r, row in self.occluded.iterrows()},
        }


def occlude_faces(
    faces: Sequence[Face], loaded: LoadedModel, regions: str | Sequence[str] | None = None, fill: str = "mean"
) -> list[FaceOcclusion]:
    """Per face: scores intact and with each region hidden.

    Regions are hidden one at a time, all faces x regions in batched forward passes. An unknown region name
    raises ValueError.

    Parameters
    ----------
    faces
        Aligned faces with their region masks (:func:`fer_core.face.find_faces`).
    loaded
        The model and its card.
    regions
        Region names (a list or a comma-separated string); None hides every region of
        ``taxonomy.FACE_REGIONS``.
    fill
        What replaces a hidden region (``fer_core.explain.FILLS``).

    Returns
    -------
    list[FaceOcclusion]
        One per face, in input order; scores as the model card says the outputs mean.
    """
    names = parse_regions(regions)
    base, occ = occlude_regions(
        loaded.model, loaded.card, [f.crop for f in faces], [f.regions for f in faces], names, fill
    )
    labels = list(loaded.card.label_names)
    return [
        FaceOcclusion(
            face=f,
            fill=fill,
            base=pd.Series(b, index=labels, dtype=float),
            occluded=pd.DataFrame(o, index=pd.Index(names, name="region"), columns=labels, dtype=float),
        )
        for f, b, o in zip(faces, base, occ)
    ]


def occlude_image(
    image: np.ndarray,
    loaded: LoadedModel,
    regions: str | Sequence[str] | None = None,
    fill: str = "mean",
    detector: FaceDetector | None = None,
    landmarker: str = "auto",
) -> list[FaceOcclusion]:
    """Find every face in an RGB photo and run :func:`occlude_faces` on them.

    An unknown region name raises ValueError before detection; a photo without a face FaceNotFoundError.

    Parameters
    ----------
    image
        (H, W, 3) uint8 RGB photo.
    loaded
        The model and its card (input size and alignment template of the crops).
    regions
        Region names (a list or a comma-separated string); None hides every region in turn.
    fill
        What replaces a hidden region (``fer_core.explain.FILLS``).
    detector
        A shared face detector; None uses the process-wide one.
    landmarker
        ``mtcnn5`` (template regions from 5 points), ``mesh468`` (the face's own contours from the dense mesh) or
        ``auto`` (the mesh where it can run).

    Returns
    -------
    list[FaceOcclusion]
        One per face found, largest first, as :func:`occlude_faces` describes.
    """
    parse_regions(regions)  # fail on a bad region name before detection
    faces = find_faces(image, loaded.card.input_size, loaded.card.alignment, detector, landmarker=landmarker)
    return occlude_faces(faces, loaded, regions, fill)
