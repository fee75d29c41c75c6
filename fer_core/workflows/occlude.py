"""Occlude a face: its scores intact and with each face region hidden (what the model needs to see)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..explain import occlude_regions
from ..face import Face, FaceDetector, find_faces, parse_regions
from ..models import LoadedModel


def occlude_faces(
    faces: Sequence[Face], loaded: LoadedModel, regions: str | Sequence[str] | None = None, fill: str = "mean"
) -> list[dict]:
    """Per face: probabilities intact and with each region hidden (JSON-ready).

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
    list[dict]
        One per face, in input order: ``box``, ``used_as_crop``, ``fill``, ``base`` (label -> score intact) and
        ``occluded`` (region -> label -> score with that region hidden); scores as the model card says the
        outputs mean.
    """
    names = parse_regions(regions)
    base, occ = occlude_regions(
        loaded.model, loaded.card, [f.crop for f in faces], [f.regions for f in faces], names, fill
    )
    labels = loaded.card.label_names
    return [
        {
            "box": [round(v, 1) for v in f.box],
            "used_as_crop": f.used_as_crop,
            "fill": fill,
            "base": {lab: round(float(p), 6) for lab, p in zip(labels, b)},
            "occluded": {r: {lab: round(float(p), 6) for lab, p in zip(labels, o[i])} for i, r in enumerate(names)},
        }
        for f, b, o in zip(faces, base, occ)
    ]


def occlude_image(
    image: np.ndarray,
    loaded: LoadedModel,
    regions: str | Sequence[str] | None = None,
    fill: str = "mean",
    detector: FaceDetector | None = None,
) -> list[dict]:
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

    Returns
    -------
    list[dict]
        One per face found, largest first, as :func:`occlude_faces` describes.
    """
    parse_regions(regions)  # fail on a bad region name before detection
    faces = find_faces(image, loaded.card.input_size, loaded.card.template, detector)
    return occlude_faces(faces, loaded, regions, fill)
