"""Similarity alignment of 5 facial landmarks to a model's canonical template."""

from __future__ import annotations

import cv2
import numpy as np

LANDMARK_NAMES: tuple[str, ...] = ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")

# Landmark positions as fractions of the crop's width/height. "left" means image-left (the subject's right).
# fer2013: loose crops as in FER2013 (brows to chin, little background), measured on aligned FER2013-style faces.
TEMPLATES: dict[str, np.ndarray] = {
    "fer2013": np.array([[0.32, 0.38], [0.68, 0.38], [0.50, 0.56], [0.35, 0.76], [0.65, 0.76]]),
    # tighter crop used by SynthFACS-trained and ArcFace-like models
    "tight": np.array([[0.30, 0.40], [0.70, 0.40], [0.50, 0.58], [0.34, 0.78], [0.66, 0.78]]),
}


def template_points(template: str, size: tuple[int, int]) -> np.ndarray:
    """Template landmarks in pixel coordinates of a crop of ``size`` = (height, width).

    ``NAME+m`` (a model card's ``alignment``) is template NAME with a border of ``m`` crop sides added each way: the
    landmarks shrink towards the centre by ``1 / (1 + 2m)``, so the crop shows more of the head.
    """
    name, _, margin_text = template.partition("+")
    if name not in TEMPLATES:
        raise ValueError(f"unknown alignment template {name!r}; known: {', '.join(TEMPLATES)}")
    try:
        margin = float(margin_text) if margin_text else 0.0
    except ValueError:
        raise ValueError(f"the margin in alignment {template!r} must be a number, like 'tight+0.2'") from None
    if not 0 <= margin <= 1:
        raise ValueError(f"the margin in alignment {template!r} must be 0-1 crop sides, got {margin}")
    h, w = size
    points = TEMPLATES[name] if margin == 0 else 0.5 + (TEMPLATES[name] - 0.5) / (1 + 2 * margin)  # bit-exact at 0
    return points * np.array([w, h], dtype=np.float64)


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity (rotation, uniform scale, translation) mapping src -> dst; Umeyama 1991.

    Returns a 2 x 3 matrix M with dst ~= M @ [x, y, 1].
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    mu_s, mu_d = src.mean(0), dst.mean(0)
    s_c, d_c = src - mu_s, dst - mu_d
    cov = d_c.T @ s_c / len(src)
    u, sig, vt = np.linalg.svd(cov)
    fix = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        fix[1, 1] = -1
    rot = u @ fix @ vt
    var_s = (s_c**2).sum() / len(src)
    scale = (sig * np.diag(fix)).sum() / var_s
    m = np.empty((2, 3))
    m[:, :2] = scale * rot
    m[:, 2] = mu_d - m[:, :2] @ mu_s
    return m


def apply_transform(m: np.ndarray, points: np.ndarray) -> np.ndarray:
    pts = np.asarray(points, dtype=np.float64)
    return pts @ m[:, :2].T + m[:, 2]


def opencv_matrix(m: np.ndarray) -> np.ndarray:
    """A 2 x 3 map between continuous pixel coordinates as OpenCV's warps take it (pixel centres at integers):
    x_cv = m(x_cv + 0.5) - 0.5."""
    out = np.array(m, dtype=np.float64)
    out[:, 2] = out[:, 2] + out[:, :2] @ np.array([0.5, 0.5]) - 0.5
    return out


def align_face(
    image: np.ndarray, landmarks: np.ndarray, size: tuple[int, int], template: str = "fer2013"
) -> tuple[np.ndarray, np.ndarray]:
    """Warp ``image`` so that ``landmarks`` (5 x 2, image pixels) land on the template.

    Returns the (H, W, 3) crop and the 2 x 3 matrix from image to crop coordinates. Coordinates are continuous:
    pixel (i, j) covers [i, i + 1] x [j, j + 1] (the template's fractions times the crop side), so a symmetric
    template gives a face and its mirror image mirrored crops.
    """
    h, w = size
    m = similarity_transform(landmarks, template_points(template, size))
    scale = float(np.hypot(m[0, 0], m[0, 1]))
    # Downscaling by warping alone aliases; warp to an oversampled crop, then area-average down.
    k = int(min(8, max(1, np.floor(1.0 / max(scale, 1e-6)))))
    big = opencv_matrix(m * k)
    crop = cv2.warpAffine(image, big, (w * k, h * k), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    if k > 1:
        crop = cv2.resize(crop, (w, h), interpolation=cv2.INTER_AREA)
    return crop, m
