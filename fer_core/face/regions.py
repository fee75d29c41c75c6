"""Named face-region masks in crop coordinates, derived from the 5 aligned landmarks.

Geometry is expressed in units of the inter-ocular distance d along the eye axis (u) and its normal pointing
to the mouth (v), so masks follow the face's scale and roll.
"""

from __future__ import annotations

import numpy as np

from ..taxonomy import ALL_REGIONS, FACE_REGIONS


def _ellipse(
    shape: tuple[int, int], center: np.ndarray, u: np.ndarray, v: np.ndarray, a: float, b: float
) -> np.ndarray:
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w]
    dx, dy = xx + 0.5 - center[0], yy + 0.5 - center[1]
    pu = dx * u[0] + dy * u[1]
    pv = dx * v[0] + dy * v[1]
    return (pu / a) ** 2 + (pv / b) ** 2 <= 1.0


def region_masks(landmarks: np.ndarray, shape: tuple[int, int]) -> dict[str, np.ndarray]:
    """Boolean (H, W) masks for every name in ``taxonomy.ALL_REGIONS``: template geometry placed by the 5 points
    (the 468-point mesh draws the same names from the face's own contours: :mod:`fer_core.face.mesh_regions`).

    Parameters
    ----------
    landmarks
        (5, 2) array, crop pixels: left eye, right eye, nose tip, mouth left, mouth right (image-left).
    shape
        (height, width) of the crop.

    Returns
    -------
    dict[str, numpy.ndarray]
        Region name -> (H, W) bool mask, in ``ALL_REGIONS`` order (``eyes`` is the union of the two eyes; "left" is the
        image's left, the side of the first landmark).

    Raises
    ------
    ValueError
        When ``landmarks`` is not (5, 2) or the two eye landmarks coincide.
    """
    pts = np.asarray(landmarks, dtype=np.float64)
    if pts.shape != (5, 2):
        raise ValueError(f"landmarks must be (5, 2), got {pts.shape}")
    le, re, nose, ml, mr = pts
    axis = re - le
    d = float(np.hypot(*axis))
    if d < 1e-6:
        raise ValueError("the two eye landmarks coincide")
    u = axis / d
    v = np.array([-u[1], u[0]])
    mid_eye = (le + re) / 2
    if np.dot(nose - mid_eye, v) < 0:  # keep v pointing towards the mouth
        v = -v
    mouth = (ml + mr) / 2
    m: dict[str, np.ndarray] = {}
    m["left_eye"] = _ellipse(shape, le, u, v, 0.30 * d, 0.17 * d)
    m["right_eye"] = _ellipse(shape, re, u, v, 0.30 * d, 0.17 * d)
    m["eyes"] = m["left_eye"] | m["right_eye"]
    brows = _ellipse(shape, le - 0.29 * d * v, u, v, 0.36 * d, 0.13 * d) | _ellipse(
        shape, re - 0.29 * d * v, u, v, 0.36 * d, 0.13 * d
    )
    m["brows"] = brows & ~m["eyes"]
    nose_len = max(float(np.dot(nose - mid_eye, v)), 0.3 * d)
    m["nose"] = _ellipse(shape, mid_eye + 0.62 * nose_len * v, u, v, 0.22 * d, 0.55 * nose_len) & ~m["eyes"]
    mouth_half = float(np.hypot(*(mr - ml))) / 2
    m["mouth"] = _ellipse(shape, mouth, u, v, mouth_half + 0.16 * d, 0.24 * d)
    cheeks = _ellipse(shape, le + 0.62 * d * v - 0.05 * d * u, u, v, 0.24 * d, 0.22 * d) | _ellipse(
        shape, re + 0.62 * d * v + 0.05 * d * u, u, v, 0.24 * d, 0.22 * d
    )
    m["cheeks"] = cheeks & ~(m["nose"] | m["mouth"] | m["eyes"])
    m["forehead"] = _ellipse(shape, mid_eye - 0.80 * d * v, u, v, 0.80 * d, 0.30 * d) & ~(m["brows"] | m["eyes"])
    _finer_regions(m, shape, pts, u, v, d)
    return {name: m[name] for name in ALL_REGIONS}


def _finer_regions(
    m: dict[str, np.ndarray], shape: tuple[int, int], pts: np.ndarray, u: np.ndarray, v: np.ndarray, d: float
) -> None:
    """Add the finer regions to ``m`` (template geometry in eye distances ``d``): the lips and their halves, a disc
    round each mouth corner, each brow's inner and outer half, each cheek, and the chin below the mouth."""
    le, re, _, ml, mr = pts
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w]
    mid = (le + re) / 2
    gu = (xx + 0.5 - mid[0]) * u[0] + (yy + 0.5 - mid[1]) * u[1]  # across the face, from its midline
    mouth = (ml + mr) / 2
    gv = (xx + 0.5 - mouth[0]) * v[0] + (yy + 0.5 - mouth[1]) * v[1]  # down the face, from the mouth's centre
    lips = _ellipse(shape, mouth, u, v, float(np.hypot(*(mr - ml))) / 2 + 0.04 * d, 0.14 * d)
    m["lips"], m["upper_lip"], m["lower_lip"] = lips, lips & (gv < 0), lips & (gv >= 0)
    radius = 0.2 * float(np.hypot(*(mr - ml)))
    m["mouth_corners"] = _ellipse(shape, ml, u, v, radius, radius) | _ellipse(shape, mr, u, v, radius, radius)
    m["inner_brows"], m["outer_brows"] = m["brows"] & (np.abs(gu) < 0.5 * d), m["brows"] & (np.abs(gu) >= 0.5 * d)
    m["left_cheek"], m["right_cheek"] = m["cheeks"] & (gu < 0), m["cheeks"] & (gu >= 0)  # as seen in the image
    m["chin"] = _ellipse(shape, mouth + 0.45 * d * v, u, v, 0.45 * d, 0.2 * d) & ~m["mouth"]


def parse_regions(spec: str | list[str] | tuple[str, ...] | None) -> list[str]:
    """Validate region names (comma-separated string or list; any of ``taxonomy.ALL_REGIONS``); None means the
    main regions (``FACE_REGIONS``)."""
    if spec is None:
        return list(FACE_REGIONS)
    names = [s.strip() for s in spec.split(",")] if isinstance(spec, str) else list(spec)
    names = [n for n in names if n]
    bad = [n for n in names if n not in ALL_REGIONS]
    if bad or not names:
        raise ValueError(f"unknown region(s) {bad or names}; choose from {', '.join(ALL_REGIONS)}")
    return names
