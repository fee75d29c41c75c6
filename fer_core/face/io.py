"""Safe image decoding: any common format and mode in, RGB uint8 out, or an ImageLoadError that says why."""
from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from ..errors import ImageLoadError

MAX_BYTES = 40 * 1024 * 1024  # also the dashboard's upload limit (.streamlit/config.toml)
MAX_PIXELS = 40_000_000  # decoded pixels; beyond this a file is refused before decoding (decompression bombs)
MSG_EMPTY = "the file is empty (0 bytes)"
MSG_TOO_BIG = "the file is {size:.1f} MB; the limit is {limit:.0f} MB"
MSG_TOO_MANY_PIXELS = "the image is {w} x {h} = {mp:.0f} MP; the limit is {limit:.0f} MP (possible decompression bomb)"
MSG_NOT_IMAGE = "not an image we can read (JPEG, PNG, WebP, TIFF, GIF, BMP are supported)"
MSG_TRUNCATED = "the image file is truncated or corrupt: {detail}"


def _as_bytes(source: bytes | str | Path) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    path = Path(source)
    if not path.is_file():
        raise ImageLoadError(f"no such file: {path}")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise ImageLoadError(MSG_TOO_BIG.format(size=size / 2**20, limit=MAX_BYTES / 2**20))
    return path.read_bytes()


def _to_rgb(img: Image.Image) -> np.ndarray:
    """Convert every PIL mode we meet (1, L, LA, P, RGBA, CMYK, I;16, I, F, YCbCr) to RGB uint8."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") or arr.max() > 255 else 255.0
        grey = np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2)
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"))
    return np.asarray(img.convert("RGB"))


def load_image(source: bytes | str | Path) -> np.ndarray:
    """Decode an image file or its bytes to an (H, W, 3) uint8 RGB array, honouring EXIF orientation.

    Only the first frame of animated images is used. Raises ImageLoadError for empty, oversized, truncated,
    non-image and decompression-bomb inputs; never lets a decoder exception escape.
    """
    data = _as_bytes(source)
    if not data:
        raise ImageLoadError(MSG_EMPTY)
    if len(data) > MAX_BYTES:
        raise ImageLoadError(MSG_TOO_BIG.format(size=len(data) / 2**20, limit=MAX_BYTES / 2**20))
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            w, h = img.size
            if w * h > MAX_PIXELS:
                raise ImageLoadError(MSG_TOO_MANY_PIXELS.format(w=w, h=h, mp=w * h / 1e6, limit=MAX_PIXELS / 1e6))
            img.seek(0)
            img.load()
            img = ImageOps.exif_transpose(img) or img
            rgb = _to_rgb(img)
    except ImageLoadError:
        raise
    except UnidentifiedImageError as exc:
        raise ImageLoadError(MSG_NOT_IMAGE) from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageLoadError(f"refused: {exc}") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageLoadError(MSG_TRUNCATED.format(detail=exc)) from exc
    if rgb.ndim != 3 or rgb.shape[0] < 8 or rgb.shape[1] < 8:
        raise ImageLoadError(f"the image is too small ({rgb.shape[1]} x {rgb.shape[0]} px); faces need >= 8 px")
    return np.ascontiguousarray(rgb)
