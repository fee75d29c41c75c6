"""Photo -> aligned face crops with landmarks and region masks, the input of every explanation."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import cv2
import numpy as np

from ..errors import FaceNotFoundError
from .align import align_face, apply_transform, template_points
from .detect import DetectedFace, FaceDetector
from .mesh import resolve_landmarker
from .pose import HeadPose
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
    pose
        Head yaw, pitch and roll from the mesh (:func:`fer_core.face.head_pose`), else None.
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
    pose: HeadPose | None = None

    @property
    def landmarker(self) -> str:
        """Which landmarker the regions came from: ``mesh468`` or ``mtcnn5`` (5 points, or the template's)."""
        return "mtcnn5" if self.mesh is None else "mesh468"

    def landmarks_json(self) -> dict:
        """``landmarker`` and, where the mesh fitted the face, ``pose`` (yaw, pitch, roll in degrees and the pose
        bin): what the CLI's JSON and the report say of how the face was found."""
        return {"landmarker": self.landmarker, **({"pose": self.pose.as_dict()} if self.pose is not None else {})}


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


def _fitted_mesh(image: np.ndarray, box: tuple[float, float, float, float], eyes: np.ndarray) -> np.ndarray | None:
    """The mesh (photo pixels) fitted in ``box``, or None where it finds no face there."""
    from .mesh import fit_mesh

    fit = fit_mesh(image, box, eyes)
    return fit.points if fit.is_face else None


def _with_mesh(face: Face, mesh_photo: np.ndarray | None, size: tuple[int, int]) -> Face:
    """``face`` with the regions, crop-pixel mesh and head pose of a mesh fitted on the photo (unchanged if None)."""
    if mesh_photo is None:
        return face
    from .mesh import transform_mesh
    from .mesh_regions import mesh_face_regions
    from .pose import head_pose

    face.mesh = transform_mesh(mesh_photo, face.to_crop)
    face.regions = mesh_face_regions(face.mesh, size)
    face.pose = head_pose(mesh_photo)
    return face


def with_mesh(face: Face, image: np.ndarray) -> Face:
    """``face``, its crop and alignment unchanged, with the regions, mesh and head pose of the mesh fitted in its box
    of ``image`` (unchanged where the mesh finds no face there): a face already scored by its own points, such as a
    video frame's, gets the mesh's regions without moving the crop the scores came from."""
    return _with_mesh(face, _fitted_mesh(image, face.box, face.landmarks[:2]), face.crop.shape[:2])


def _template_box(points: np.ndarray) -> tuple[float, float, float, float]:
    """A detector-like face box round five landmarks (about 2.6 eye distances square, as MTCNN's boxes are)."""
    d = float(np.hypot(*(points[1] - points[0])))
    cx, cy = points.mean(0)
    side = 2.6 * d
    return (float(cx - side / 2), float(cy - side / 2), side, side)


def _as_crop(
    image: np.ndarray, size: tuple[int, int], template: str, det: DetectedFace | None, landmarker: str = "mtcnn5"
) -> Face:
    """The whole image, resized, as the model input; landmarks from the detector if it found any, else the
    template's (a dataset crop is already aligned to roughly that template). With the mesh, regions and pose come
    from the mesh fitted where those landmarks put the face, if it finds one there."""
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
    photo_pts = apply_transform(inv, pts)
    face = Face(
        crop=crop,
        box=(0.0, 0.0, float(w), float(h)),
        landmarks=photo_pts,
        crop_landmarks=pts,
        score=det.score if det is not None else float("nan"),
        used_as_crop=True,
        to_crop=to_crop,
        regions=regions,
    )
    if resolve_landmarker(landmarker) == "mesh468":
        box = det.box if det is not None else _template_box(photo_pts)
        face = _with_mesh(face, _fitted_mesh(image, box, photo_pts[:2]), size)
    return face


def aligned_crop(image: np.ndarray, size: tuple[int, int], template: str = "tight", landmarker: str = "mtcnn5") -> Face:
    """An image that already is an aligned face crop (a dataset crop, a SynthFACS face) as a :class:`Face`, with
    the template's landmarks and region masks; no detection. With ``landmarker="mesh468"`` (or ``auto`` where the
    mesh runs) the regions and pose are the mesh's when it finds the face where the template puts it."""
    return _as_crop(image, size, template, None, landmarker)


def face_from_detection(
    image: np.ndarray, det: DetectedFace, size: tuple[int, int], template: str, landmarker: str = "mtcnn5"
) -> Face:
    """One detected face aligned to ``template`` at ``size``, with its landmarks and region masks (a video frame's
    detections are aligned once per model, each to its own template). With ``landmarker="mesh468"`` the mesh is
    fitted inside the detector's box: the five alignment points, the regions and the head pose come from it (the
    detector's points and the template's geometry where the mesh finds no face)."""
    mesh_photo = None
    if resolve_landmarker(landmarker) == "mesh468":
        mesh_photo = _fitted_mesh(image, det.box, det.landmarks[:2])
    if mesh_photo is not None:
        from .mesh_regions import mesh_landmarks

        landmarks = mesh_landmarks(mesh_photo)
    else:
        landmarks = det.landmarks
    crop, m = align_face(image, landmarks, size, template)
    crop_pts = apply_transform(m, landmarks)
    face = Face(
        crop=crop,
        box=det.box,
        landmarks=landmarks,
        crop_landmarks=crop_pts,
        score=det.score,
        used_as_crop=False,
        to_crop=m,
        regions=region_masks(crop_pts, size) if mesh_photo is None else {},
    )
    return _with_mesh(face, mesh_photo, size)


def find_faces(
    image: np.ndarray,
    size: tuple[int, int],
    template: str = "fer2013",
    detector: FaceDetector | None = None,
    max_faces: int = 16,
    landmarker: str = "auto",
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
        ``mtcnn5`` (alignment and regions from the 5 points and template geometry), ``mesh468`` (the 468-point
        mesh fitted inside each detected face gives the alignment points, the regions and the head pose;
        :mod:`fer_core.face.mesh`) or ``auto``, the default (the mesh where it can run, else the 5 points). An
        unknown name, or ``mesh468`` where the mesh cannot run, raises ValueError before detection.

    Returns
    -------
    list[Face]
        Largest face first; a single face for a small image taken as a crop.

    Raises
    ------
    FaceNotFoundError
        If a larger image contains no face.
    """
    resolve_landmarker(landmarker)
    detector = detector or default_detector()
    h, w = image.shape[:2]
    detections = detector.detect(image) if min(h, w) >= 24 else []
    if max(h, w) <= CROP_FALLBACK_MAX_SIDE:
        largest = detections[0] if detections else None
        if largest is None or largest.box[2] * largest.box[3] >= CROP_FACE_FILL * h * w:
            return [_as_crop(image, size, template, largest, landmarker)]
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
