"""Photo -> aligned face crops with landmarks and region masks, the input of every explanation."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import cv2
import numpy as np

from ..errors import FaceNotFoundError
from .align import align_face, apply_transform, template_points
from .detect import DetectedFace, FaceDetector
from .regions import region_masks

CROP_FALLBACK_MAX_SIDE = 160  # small images with no face, or one filling the frame, are taken as ready-made crops
CROP_FACE_FILL = 0.35  # ... where "filling" means a detected box of at least this share of the image area
MSG_NO_FACE = (
    "no face found in the {w} x {h} image. Try a photo where the face is frontal, at least ~40 px "
    "wide and not cut off; images of at most {limit} px are used directly as aligned face crops."
)


@dataclass
class Face:
    """An aligned face: crop (H, W, 3) uint8 RGB at the model's input size, with landmarks and region masks.

    Built by :func:`find_faces` and :func:`aligned_crop`, rarely by hand.

    Parameters
    ----------
    crop
        (H, W, 3) uint8 RGB, aligned to the model's template at its input size.
    box
        (x, y, width, height) of the face in the original photo's pixels; the whole image when used as a crop.
    landmarks
        (5, 2) eyes, nose tip and mouth corners in the original photo's pixels.
    crop_landmarks
        The same five points in the crop's pixels.
    score
        Detector confidence; NaN when no detector saw the face.
    used_as_crop
        True when the whole image was taken as an already-aligned crop (resized, not warped).
    to_crop
        The 2 x 3 affine matrix from photo pixels to crop pixels.
    regions
        Region name -> (H, W) bool mask on the crop (see :func:`fer_core.face.region_masks`; from the mesh's
        contours when it was fitted, :func:`fer_core.face.mesh.mesh_face_regions`).
    mesh
        (468, 3) the dense mesh in crop pixels when the ``mesh468`` landmarker fitted one, else None.
    """

    crop: np.ndarray
    box: tuple[float, float, float, float]
    landmarks: np.ndarray
    crop_landmarks: np.ndarray
    score: float
    used_as_crop: bool
    to_crop: np.ndarray = field(repr=False)  # 2 x 3 image -> crop matrix
    regions: dict[str, np.ndarray] = field(repr=False, default_factory=dict)
    mesh: np.ndarray | None = field(repr=False, default=None)


def resize_crop(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """An already aligned crop at ``size`` (height, width): area averaging when shrinking, bilinear when growing."""
    return cv2.resize(
        image, (size[1], size[0]), interpolation=cv2.INTER_AREA if image.shape[0] > size[0] else cv2.INTER_LINEAR
    )


@functools.lru_cache(maxsize=16)
def _template_regions(template: str, size: tuple[int, int]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The template's landmarks and region masks at ``size`` (read-only, shared: every aligned dataset crop of a
    model has the same ones, and building them per image dominated dataset scans at large input sizes)."""
    pts = template_points(template, size)
    masks = region_masks(pts, size)
    for m in masks.values():
        m.flags.writeable = False
    return pts, masks


def _as_crop(image: np.ndarray, size: tuple[int, int], template: str, det: DetectedFace | None) -> Face:
    """The whole image, resized, as the model input; landmarks from the detector if it found any, else the
    template's (a dataset crop is already aligned to roughly that template)."""
    h, w = image.shape[:2]
    crop = resize_crop(image, size)
    to_crop = np.array([[size[1] / w, 0, 0], [0, size[0] / h, 0]], dtype=np.float64)
    inv = np.array([[w / size[1], 0, 0], [0, h / size[0], 0]])
    if det is not None:
        pts = apply_transform(to_crop, det.landmarks)
        regions = region_masks(pts, size)
    else:
        pts, regions = _template_regions(template, tuple(size))
        pts, regions = pts.copy(), dict(regions)
    return Face(
        crop=crop,
        box=(0.0, 0.0, float(w), float(h)),
        landmarks=apply_transform(inv, pts),
        crop_landmarks=pts,
        score=det.score if det is not None else float("nan"),
        used_as_crop=True,
        to_crop=to_crop,
        regions=regions,
    )


def aligned_crop(image: np.ndarray, size: tuple[int, int], template: str = "tight") -> Face:
    """An image that already is an aligned face crop (a dataset crop, a SynthFACS face) as a :class:`Face`, with
    the template's landmarks and region masks; no detection."""
    return _as_crop(image, size, template, None)


def face_from_detection(
    image: np.ndarray, det: DetectedFace, size: tuple[int, int], template: str, landmarker: str = "mtcnn5"
) -> Face:
    """One detected face aligned to ``template`` at ``size``, with its landmarks and region masks (a video frame's
    detections are aligned once per model, each to its own template). With ``landmarker="mesh468"`` the regions are
    the fitted mesh's contours (the template's geometry where the mesh finds no face)."""
    crop, m = align_face(image, det.landmarks, size, template)
    crop_pts = apply_transform(m, det.landmarks)
    regions, mesh = None, None
    if _check_landmarker(landmarker) == "mesh468":
        from .mesh import fit_mesh, mesh_face_regions, transform_mesh

        fit = fit_mesh(image, det.box, det.landmarks[:2])
        if fit.is_face:
            mesh = transform_mesh(fit.points, m)
            regions = mesh_face_regions(mesh, size)
    return Face(
        crop=crop,
        box=det.box,
        landmarks=det.landmarks,
        crop_landmarks=crop_pts,
        score=det.score,
        used_as_crop=False,
        to_crop=m,
        regions=regions if regions is not None else region_masks(crop_pts, size),
        mesh=mesh,
    )


def _check_landmarker(name: str) -> str:
    from .mesh import LANDMARKERS, mesh_available

    if name not in LANDMARKERS:
        raise ValueError(f"unknown landmarker {name!r}; choose from {', '.join(LANDMARKERS)}")
    if name == "mesh468" and (reason := mesh_available()):
        raise ValueError(f"the mesh468 landmarker cannot run here: {reason}")
    return name


def find_faces(
    image: np.ndarray,
    size: tuple[int, int],
    template: str = "fer2013",
    detector: FaceDetector | None = None,
    max_faces: int = 16,
    landmarker: str = "mtcnn5",
) -> list[Face]:
    """Detect, align and mask every face (largest first, at most ``max_faces``).

    Small images (at most ``CROP_FALLBACK_MAX_SIDE`` px) that hold no detectable face, or one face filling most
    of the frame, are dataset-style crops (FER2013's 48 x 48): they are used as aligned crops, unwarped.

    Parameters
    ----------
    image
        (H, W, 3) uint8 RGB photo.
    size
        (height, width) of the crops: the model's input size.
    template
        Alignment template (a key of ``align.TEMPLATES``), the landmark layout the model was trained on.
    detector
        A shared detector; None uses the process-wide :func:`default_detector`.
    max_faces
        Most faces returned; the smaller ones beyond it are dropped.
    landmarker
        ``mtcnn5`` (regions from the 5 points and template geometry) or ``mesh468`` (regions from the 468-point
        mesh fitted inside each detected face; :mod:`fer_core.face.mesh`). An unknown name, or ``mesh468`` where
        the mesh cannot run, raises ValueError before detection.

    Returns
    -------
    list[Face]
        Largest face first; a single face for a small image taken as a crop.

    Raises
    ------
    FaceNotFoundError
        If a larger image contains no face.
    """
    _check_landmarker(landmarker)
    detector = detector or default_detector()
    h, w = image.shape[:2]
    detections = detector.detect(image) if min(h, w) >= 24 else []
    if max(h, w) <= CROP_FALLBACK_MAX_SIDE:
        largest = detections[0] if detections else None
        if largest is None or largest.box[2] * largest.box[3] >= CROP_FACE_FILL * h * w:
            return [_as_crop(image, size, template, largest)]
    if not detections:
        raise FaceNotFoundError(MSG_NO_FACE.format(w=w, h=h, limit=CROP_FALLBACK_MAX_SIDE))
    return [face_from_detection(image, d, size, template, landmarker) for d in detections[:max_faces]]


_DEFAULT: FaceDetector | None = None


def default_detector() -> FaceDetector:
    """A process-wide detector (loading the ONNX nets costs ~50 ms; the detector is thread-safe).

    Returns
    -------
    FaceDetector
        The same instance on every call, created with the default thresholds on the first.
    """
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = FaceDetector()
    return _DEFAULT
