"""Face regions from the 468-point mesh: MediaPipe's contours as polygons (lips, eyes, brows, nose, outline), and the
regions built from them (forehead, cheeks, chin, mouth corners, inner and outer brows), filled on any pixel grid.

Every name of :data:`fer_core.taxonomy.ALL_REGIONS` is given, as :func:`fer_core.face.region_masks` gives them from 5
points, so a study or page asks for the same names whichever landmarker found the face.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["MESH_CONTOURS", "mesh_face_regions", "mesh_landmarks", "mesh_polygons", "mesh_region_masks"]

# MediaPipe's FaceMesh contours (face_mesh_connections), as closed polygons. MediaPipe names them by the subject's
# left and right (its RIGHT_EYE is on the image's left); the regions are named as every region of fer_core.face is,
# as seen in the image: "left_eye" is the eye on the image's left (MTCNN's first point), see MESH_CONTOURS.
LIPS_OUTER = [61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 375, 321, 405, 314, 17, 84, 181, 91, 146]
LIPS_INNER = [78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308, 324, 318, 402, 317, 14, 87, 178, 88, 95]
UPPER_LIP = [61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191, 78]
LOWER_LIP = [61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 308, 324, 318, 402, 317, 14, 87, 178, 88, 95, 78]
RIGHT_EYE = [33, 246, 161, 160, 159, 158, 157, 173, 133, 155, 154, 153, 145, 144, 163, 7]
LEFT_EYE = [263, 466, 388, 387, 386, 385, 384, 398, 362, 382, 381, 380, 374, 373, 390, 249]
RIGHT_BROW = [46, 53, 52, 65, 55, 107, 66, 105, 63, 70]
LEFT_BROW = [276, 283, 282, 295, 285, 336, 296, 334, 293, 300]
NOSE = [168, 417, 465, 343, 358, 327, 326, 2, 97, 98, 129, 114, 245, 193]
FACE_OVAL = [
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148, 176, 149, 150,
    136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
]  # fmt: skip
MESH_CONTOURS: dict[str, list[int]] = {
    "lips": LIPS_OUTER,
    "upper_lip": UPPER_LIP,
    "lower_lip": LOWER_LIP,
    "left_eye": RIGHT_EYE,  # the image's left: the subject's right
    "right_eye": LEFT_EYE,
    "left_brow": RIGHT_BROW,
    "right_brow": LEFT_BROW,
    "nose": NOSE,
    "face": FACE_OVAL,
}


MOUTH_RIM = 0.1  # of the eye distance: the rim of skin round the lips that the mouth region adds to them
MOUTH_CORNER_RADIUS = 0.2  # of the mouth's width: the skin a smile creases beside each lip corner
CHIN_GAP = 0.1  # of the lips' height: the chin starts this far below the lower lip


def mesh_polygons(points: np.ndarray) -> dict[str, np.ndarray]:
    """Region name -> (K, 2) polygon of the mesh points (any pixel frame: photo or crop)."""
    pts = np.asarray(points)[:, :2]
    return {name: pts[idx] for name, idx in MESH_CONTOURS.items()}


def _fill(polygon: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    canvas = np.zeros(shape, np.uint8)
    # continuous coordinates -> OpenCV's (pixel centres at integers), in 1/16 pixel fixed point
    cv2.fillPoly(canvas, [np.round((polygon - 0.5) * 16).astype(np.int32)], 1, lineType=cv2.LINE_8, shift=4)
    return canvas.astype(bool)


def mesh_region_masks(points: np.ndarray, shape: tuple[int, int]) -> dict[str, np.ndarray]:
    """Region name -> (H, W) bool mask, each contour polygon filled at sub-pixel precision (see
    :data:`MESH_CONTOURS`); ``eyes`` and ``brows`` are the union of both sides, ``lips`` the lips and the opening."""
    out = {name: _fill(poly, shape) for name, poly in mesh_polygons(points).items()}
    out["eyes"] = out["left_eye"] | out["right_eye"]
    out["brows"] = out["left_brow"] | out["right_brow"]
    return out


def mesh_face_regions(points: np.ndarray, shape: tuple[int, int]) -> dict[str, np.ndarray]:
    """Masks for every name in ``taxonomy.ALL_REGIONS`` from the mesh.

    Eyes, brows, nose, the lips (and each lip) are the mesh's own contours; the mouth is the lips with a rim of skin
    round them (a tenth of the eye distance wide): the area a mouth occlusion hides, about the 5-point ellipse's
    size, so that ``mouth`` means the same with either landmarker and ``lips`` is the exact outline. The forehead is
    the face outline above the brows; the cheeks the outline between the eyes and the mouth's lower edge, beside the
    nose and mouth ("left" is the image's left, as for every region); the chin the outline below the lower lip; the
    mouth corners a disc of a fifth of the mouth's width round each lip corner; the inner and outer brows each
    brow's half nearer to and further from the face's midline.

    Parameters
    ----------
    points
        (468, 2+) mesh points in the pixels of the image the masks are for (a crop: map them first).
    shape
        (height, width) of that image.

    Returns
    -------
    dict[str, numpy.ndarray]
        Region name -> (H, W) bool mask, in ``ALL_REGIONS`` order, then the mesh's own ``left_brow``,
        ``right_brow`` and ``face``.
    """
    from ..taxonomy import ALL_REGIONS

    pts = np.asarray(points, dtype=np.float64)[:, :2]
    m = mesh_region_masks(pts, shape)
    h, w = shape
    right_c, left_c = pts[RIGHT_EYE].mean(0), pts[LEFT_EYE].mean(0)  # image-left, image-right eye centres
    u = (left_c - right_c) / max(float(np.hypot(*(left_c - right_c))), 1e-6)
    v = np.array([-u[1], u[0]])
    if np.dot(pts[LIPS_OUTER].mean(0) - (left_c + right_c) / 2, v) < 0:
        v = -v  # v points from the eyes to the mouth
    yy, xx = np.mgrid[0:h, 0:w]
    grid = np.stack([xx + 0.5, yy + 0.5], -1)  # pixel centres
    gu, gv = grid @ u, grid @ v
    along, across = pts @ v, pts @ u
    brow_top = along[RIGHT_BROW + LEFT_BROW].min()
    eye_low = along[RIGHT_EYE + LEFT_EYE].max()
    lips = along[LIPS_OUTER]
    mouth_low = lips.max()
    nose_u = across[NOSE]
    midline = float(across[NOSE].mean())
    face = m["face"]
    eye_distance = float(np.hypot(*(left_c - right_c)))
    to_lips = cv2.distanceTransform((~m["lips"]).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    m["mouth"] = (m["lips"] | (to_lips <= MOUTH_RIM * eye_distance)) & face & ~(m["nose"] | m["eyes"])
    m["forehead"] = face & (gv < brow_top) & ~m["brows"]
    beside = (gu < nose_u.min()) | (gu > nose_u.max())
    cheeks = face & (gv > eye_low) & (gv < mouth_low) & beside & ~(m["mouth"] | m["nose"] | m["eyes"])
    m["cheeks"] = cheeks
    m["left_cheek"] = cheeks & (gu < midline)  # u runs from the image's left to its right
    m["right_cheek"] = cheeks & (gu >= midline)
    m["chin"] = face & (gv > mouth_low + CHIN_GAP * float(np.ptp(lips))) & ~m["mouth"]
    corners = pts[[LIPS_OUTER[0], LIPS_OUTER[10]]]  # 61 and 291
    radius = MOUTH_CORNER_RADIUS * float(np.hypot(*(corners[1] - corners[0])))
    m["mouth_corners"] = np.zeros(shape, bool)
    for cx, cy in corners:
        m["mouth_corners"] |= (xx + 0.5 - cx) ** 2 + (yy + 0.5 - cy) ** 2 <= radius**2
    m["mouth_corners"] &= face
    m["brows"] &= ~m["eyes"]
    inner = np.abs(gu - midline) < np.abs(across[RIGHT_BROW + LEFT_BROW] - midline).mean()
    m["inner_brows"] = m["brows"] & inner
    m["outer_brows"] = m["brows"] & ~inner
    m["nose"] &= ~m["eyes"]
    return {**{name: m[name] for name in ALL_REGIONS}, **{k: v for k, v in m.items() if k not in ALL_REGIONS}}


def mesh_landmarks(points: np.ndarray) -> np.ndarray:
    """(5, 2) the five alignment points from a mesh, in :data:`fer_core.face.align.LANDMARK_NAMES` order (image-left
    first): each eye's contour centre, the nose tip, the two lip corners."""
    pts = np.asarray(points, dtype=np.float64)[:, :2]
    return np.stack([pts[RIGHT_EYE].mean(0), pts[LEFT_EYE].mean(0), pts[1], pts[61], pts[291]])
