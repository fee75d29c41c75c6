"""The report's face images: every image file of a folder, or (name, bytes) pairs held in memory (uploads)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import FerCoreError
from ..face import load_image
from .data import SkippedInput

__all__ = ["IMAGE_SUFFIXES", "ImageInput", "ReportError", "images_from_folder", "as_inputs"]

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".gif", ".bmp")
MSG_NO_DIR = "image folder {path} does not exist; pass --images DIR, a folder of face photos"
MSG_NOT_DIR = "{path} is a file, not a folder; pass --images DIR, a folder of face photos"
MSG_NO_IMAGES = "no image files ({suffixes}) in {path}"
MSG_NO_INPUTS = "no images given: upload photos or pick samples"
MSG_NOT_IMAGE_FILE = "not an image file type ({suffixes})"


class ReportError(FerCoreError, ValueError):
    """The report cannot be built from what was given (no folder, no images, no usable face, unknown run)."""


@dataclass(frozen=True)
class ImageInput:
    """One user image: the name to show (a file name) and its file path or bytes (kept in memory)."""

    name: str
    source: Path | bytes

    def decode(self) -> np.ndarray:
        """(H, W, 3) uint8 RGB; raises ImageLoadError for anything unreadable."""
        return load_image(self.source)


def images_from_folder(folder: str | Path) -> tuple[list[ImageInput], list[SkippedInput]]:
    """Image files directly inside ``folder`` (sorted by name), and the other files, listed as skipped.

    Parameters
    ----------
    folder
        The folder to read; subfolders and hidden files are ignored.

    Returns
    -------
    tuple[list[ImageInput], list[SkippedInput]]
        The images (by suffix, not yet decoded) and the non-image files with the reason they were skipped.

    Raises
    ------
    ReportError
        If the folder does not exist, is a file, or holds no image file.
    """
    path = Path(folder)
    if not path.exists():
        raise ReportError(MSG_NO_DIR.format(path=path))
    if not path.is_dir():
        raise ReportError(MSG_NOT_DIR.format(path=path))
    images, skipped = [], []
    for item in sorted(path.iterdir(), key=lambda p: p.name):
        if item.name.startswith(".") or not item.is_file():
            continue
        if item.suffix.lower() in IMAGE_SUFFIXES:
            images.append(ImageInput(item.name, item))
        else:
            skipped.append(SkippedInput(item.name, MSG_NOT_IMAGE_FILE.format(suffixes=", ".join(IMAGE_SUFFIXES))))
    if not images:
        raise ReportError(MSG_NO_IMAGES.format(suffixes=", ".join(IMAGE_SUFFIXES), path=path))
    return images, skipped


def as_inputs(
    images: str | Path | Iterable[ImageInput | tuple[str, bytes | Path]],
) -> tuple[list[ImageInput], list[SkippedInput]]:
    """Normalise what a caller passes as the report's images: a folder, or (name, bytes | path) pairs."""
    if isinstance(images, (str, Path)):
        return images_from_folder(images)
    out = [item if isinstance(item, ImageInput) else ImageInput(str(item[0]), item[1]) for item in images]
    if not out:
        raise ReportError(MSG_NO_INPUTS)
    return out, []
