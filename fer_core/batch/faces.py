"""The faces of a list of image paths as a map-style ``Dataset``: decoding, detection and alignment run wherever
the DataLoader runs it (its worker processes, or in-process with ``workers=0``).

Each item is a :class:`FaceRecord`: the row, what happened to it (``detected``, ``crop``: a small image taken as an
aligned crop without detection, ``no_face``, ``unreadable``) and the aligned face. A row that fails never stops the
job and is never dropped: it is a record with its reason.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import FaceNotFoundError, ImageLoadError
from ..face import Face, FaceDetector, aligned_crop, find_faces, load_image
from ..names import STATUSES

__all__ = ["STATUSES", "FaceRecord", "FaceRows"]


@dataclass
class FaceRecord:
    """One manifest row after loading: ``face`` is None unless ``status`` is ``detected`` or ``crop``."""

    row: int
    status: str
    face: Face | None = None
    error: str = ""


class FaceRows:
    """Map-style dataset over ``paths`` (``torch.utils.data.Dataset`` protocol, without importing torch); faces
    are landmarked by ``landmarker`` (:data:`fer_core.face.LANDMARKERS`).

    A worker process builds its own detector on first use (OpenCV's nets and the detector's lock do not cross
    processes); in the process that made the dataset, ``detector`` (or the process-wide default) is used.
    """

    def __init__(
        self,
        paths: Sequence[str | Path],
        size: tuple[int, int],
        template: str,
        aligned: bool,
        detector: FaceDetector | None = None,
        landmarker: str = "mtcnn5",
    ) -> None:
        self.paths = [str(p) for p in paths]
        self.size, self.template, self.aligned = tuple(size), template, bool(aligned)
        self.landmarker = landmarker
        self._detector = detector
        self._detector_settings = (detector.min_confidence, detector.max_side) if detector is not None else None
        self._pid = os.getpid()

    def __len__(self) -> int:
        return len(self.paths)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_detector"] = None  # rebuilt in the worker from _detector_settings
        return state

    def detector(self) -> FaceDetector:
        """This process's detector: the one given (in the process that made the dataset), else one built here."""
        if self._detector is None or os.getpid() != self._pid:
            from ..face import default_detector

            if self._detector_settings is None:
                self._detector = default_detector()
            else:
                self._detector = FaceDetector(*self._detector_settings)
            self._pid = os.getpid()
        return self._detector

    def __getitem__(self, row: int) -> FaceRecord:
        try:
            image = load_image(self.paths[row])
            if self.aligned:
                return FaceRecord(row, "crop", aligned_crop(image, self.size, self.template, self.landmarker))
            face = find_faces(image, self.size, self.template, self.detector(), 1, self.landmarker)[0]
        except FaceNotFoundError:
            return FaceRecord(row, "no_face")
        except ImageLoadError as exc:
            return FaceRecord(row, "unreadable", error=str(exc))
        return FaceRecord(row, "crop" if face.used_as_crop else "detected", face)
