"""Safe image decoding: the formats we promise in, RGB uint8 out, or an ImageLoadError that says why.

Only an allow-list of Pillow's decoders is ever tried (JPEG, PNG, WebP, TIFF, GIF, BMP), so a file under a wrong
extension never reaches a decoder we do not vouch for (EPS would start Ghostscript; DDS, BLP and AVIF decoders raise
their own errors). Anything a decoder raises becomes an ImageLoadError, and wide pixel types (16-bit, 32-bit integer,
float) are narrowed strip by strip, so a small file that decodes to a large 16-bit image costs its 8-bit RGB result
and little more.
"""

from __future__ import annotations

import io
import logging
import math
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from ..errors import ImageLoadError

logger = logging.getLogger(__name__)

MAX_BYTES = 40 * 1024 * 1024  # also the dashboard's upload limit (.streamlit/config.toml)
MAX_PIXELS = 40_000_000  # decoded pixels; beyond this a file is refused before decoding (decompression bombs)
MIN_SIDE = 8
#: Pillow decoders we allow (the JPEG one also opens MPO, the multi-picture JPEG that cameras and phones write).
ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP", "TIFF", "GIF", "BMP")
SUPPORTED = "JPEG, PNG, WebP, TIFF, GIF (first frame) and BMP"
STRIP_PIXELS = 1 << 20  # wide pixel types are narrowed this many pixels at a time

MSG_EMPTY = "the file is empty (0 bytes)"
MSG_TOO_BIG = "the file is {size:.1f} MB; the limit is {limit:.0f} MB"
MSG_TOO_MANY_PIXELS = "the image is {w} x {h} = {mp:.0f} MP; the limit is {limit:.0f} MP (possible decompression bomb)"
MSG_NOT_IMAGE = f"not an image we can read ({SUPPORTED} are supported)"
MSG_UNSUPPORTED = "not an image we can read: this is {kind}; use " + SUPPORTED
MSG_TRUNCATED = "the image file is truncated or corrupt: {detail}"
MSG_MODE = "the image's colour mode {mode} is not supported; save it as 8-bit RGB or greyscale"
MSG_TOO_SMALL = "the image is too small ({w} x {h} px); faces need at least {min} px on each side"
MSG_NO_MEMORY = "the image is too large to decode in the memory available"

# Leading bytes of formats people upload by mistake, so the message can name what the file is.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"DDS ", "a DirectDraw (DDS) texture"),
    (b"BLP1", "a BLP texture"),
    (b"BLP2", "a BLP texture"),
    (b"%!PS", "a PostScript/EPS file"),
    (b"\xc5\xd0\xd3\xc6", "an EPS file"),
    (b"%PDF", "a PDF document"),
    (b"8BPS", "a Photoshop (PSD) file"),
    (b"icns", "an ICNS icon"),
    (b"qoif", "a QOI image"),
    (b"\x00\x00\x00\x0cjP  ", "a JPEG 2000 image"),
    (b"\xffO\xffQ", "a JPEG 2000 codestream"),
    (b"SIMPLE  =", "a FITS file"),
    (b"gimp xcf", "a GIMP (XCF) file"),
    (b"/* XPM */", "an XPM image"),
    (b"#define ", "an XBM image"),
    (b"\x00\x00\x01\x00", "a Windows icon (ICO)"),
    (b"\x00\x00\x02\x00", "a Windows cursor (CUR)"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"<svg", "an SVG drawing"),
    (b"<?xml", "an XML/SVG document"),
    (b"RIFF", "a RIFF file that is not a WebP image"),
    (b"\x1aE\xdf\xa3", "a WebM/Matroska video"),
)
_FTYP_BRANDS = {
    b"avif": "an AVIF image",
    b"avis": "an AVIF image sequence",
    b"heic": "a HEIC image",
    b"heix": "a HEIC image",
    b"mif1": "a HEIF image",
    b"msf1": "a HEIF image sequence",
}


def _as_bytes(source: bytes | str | Path) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    path = Path(source)
    try:
        if not path.is_file():
            raise ImageLoadError(f"no such file: {path}")
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ImageLoadError(MSG_TOO_BIG.format(size=size / 2**20, limit=MAX_BYTES / 2**20))
        return path.read_bytes()
    except OSError as exc:
        raise ImageLoadError(f"cannot read {path}: {exc.strerror or exc}") from exc


def sniff_kind(data: bytes) -> str | None:
    """What a file we do not decode is, from its first bytes (for the message), or None if we cannot tell."""
    head = data[:64]
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        return _FTYP_BRANDS.get(brand, "an MP4/QuickTime video or other ISO media file")
    stripped = head.lstrip()
    for magic, kind in _SIGNATURES:
        if head.startswith(magic) or stripped.startswith(magic):
            return kind
    if head[:2] in (b"P1", b"P2", b"P3", b"P4", b"P5", b"P6", b"P7") and head[2:3].isspace():
        return "a PNM (PBM/PGM/PPM) image"
    if stripped[:15].lower().startswith((b"<!doctype html", b"<html")):
        return "an HTML page"
    return None


def _strips(img: Image.Image):
    """(row slice, array) strips of at most STRIP_PIXELS pixels: no full-size copy of a wide image."""
    w, h = img.size
    rows = max(1, STRIP_PIXELS // max(1, w))
    for top in range(0, h, rows):
        bottom = min(h, top + rows)
        yield slice(top, bottom), np.asarray(img.crop((0, top, w, bottom)))


def _wide_to_grey(img: Image.Image) -> np.ndarray:
    """16-bit, 32-bit integer and float greyscale -> uint8, strip by strip.

    16-bit data map 0..65535 to 0..255. 32-bit integers whose largest value exceeds 255 are read as 16-bit data
    (how 16-bit PNGs decode in some Pillow versions); floats within [0, 1] map 1.0 to 255. NaN reads as 0.
    """
    w, h = img.size
    out = np.empty((h, w), dtype=np.uint8)
    if img.mode.startswith("I;16"):
        lut = ((np.arange(65536, dtype=np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
        for rows, strip in _strips(img):
            out[rows] = lut[strip.astype(np.uint16, copy=False)]
        return out
    lo, hi = img.getextrema()
    hi = float(hi) if hi is not None and math.isfinite(float(hi)) else 255.0
    lo = float(lo) if lo is not None and math.isfinite(float(lo)) else 0.0
    if img.mode == "F" and 0.0 <= lo and hi <= 1.0:
        top = 1.0
    else:
        top = 65535.0 if hi > 255 else 255.0
    scale = np.float32(255.0 / top)
    for rows, strip in _strips(img):
        values = np.nan_to_num(strip.astype(np.float32, copy=False), nan=0.0, posinf=top, neginf=0.0)
        out[rows] = np.clip(values * scale + np.float32(0.5), 0, 255).astype(np.uint8)
    return out


def _to_rgb(img: Image.Image) -> np.ndarray:
    """Convert every PIL mode we meet (1, L, LA, P, RGBA, CMYK, I;16, I, F, YCbCr) to RGB uint8."""
    if img.mode.startswith("I;16") or img.mode in ("I", "F"):
        grey = _wide_to_grey(img)
        return np.repeat(grey[..., None], 3, axis=2)
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(white, rgba).convert("RGB"))
    try:
        return np.asarray(img.convert("RGB"))
    except ValueError as exc:  # LAB, HSV and other modes Pillow cannot convert to RGB
        raise ImageLoadError(MSG_MODE.format(mode=img.mode)) from exc


def _upright(img: Image.Image) -> Image.Image:
    """Apply the EXIF orientation; a broken EXIF block leaves the image as it is (it is only a hint)."""
    try:
        return ImageOps.exif_transpose(img) or img
    except Exception as exc:  # noqa: BLE001 - malformed EXIF raises many types; the pixels are still good
        logger.info("ignoring unreadable EXIF orientation: %s", exc)
        return img


def _decode(data: bytes) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        warnings.simplefilter("ignore", UserWarning)  # e.g. "Truncated File Read" notices of the TIFF plugin
        img = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
        w, h = img.size
        if w * h > MAX_PIXELS:
            raise ImageLoadError(MSG_TOO_MANY_PIXELS.format(w=w, h=h, mp=w * h / 1e6, limit=MAX_PIXELS / 1e6))
        if min(w, h) < MIN_SIDE:
            raise ImageLoadError(MSG_TOO_SMALL.format(w=w, h=h, min=MIN_SIDE))
        img.load()
        return _to_rgb(_upright(img))


def load_image(source: bytes | str | Path) -> np.ndarray:
    """Decode an image file or its bytes to an (H, W, 3) uint8 RGB array, honouring EXIF orientation.

    Only the first frame of animated or multi-page images is used.

    Parameters
    ----------
    source
        The file's bytes, or a path to it.

    Returns
    -------
    np.ndarray
        (H, W, 3) uint8 RGB, C-contiguous.

    Raises
    ------
    ImageLoadError
        For empty, oversized, unreadable, truncated, unsupported and decompression-bomb inputs, with a message that
        says which; no decoder exception ever escapes.
    """
    data = _as_bytes(source)
    if not data:
        raise ImageLoadError(MSG_EMPTY)
    if len(data) > MAX_BYTES:
        raise ImageLoadError(MSG_TOO_BIG.format(size=len(data) / 2**20, limit=MAX_BYTES / 2**20))
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        rgb = _decode(data)
    except ImageLoadError:
        raise
    except UnidentifiedImageError as exc:
        kind = sniff_kind(data)
        raise ImageLoadError(MSG_UNSUPPORTED.format(kind=kind) if kind else MSG_NOT_IMAGE) from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageLoadError(f"refused: {exc}") from exc
    except MemoryError as exc:
        raise ImageLoadError(MSG_NO_MEMORY) from exc
    except Exception as exc:  # noqa: BLE001 - decoders raise OSError, SyntaxError, struct.error, IndexError, ...
        detail = str(exc).strip() or type(exc).__name__
        raise ImageLoadError(MSG_TRUNCATED.format(detail=detail[:200])) from exc
    if rgb.ndim != 3 or rgb.shape[0] < MIN_SIDE or rgb.shape[1] < MIN_SIDE:
        raise ImageLoadError(MSG_TOO_SMALL.format(w=rgb.shape[1], h=rgb.shape[0], min=MIN_SIDE))
    return np.ascontiguousarray(rgb)
