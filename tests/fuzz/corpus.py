"""A seeded corpus of malformed and odd image files for the upload paths (issue: no traceback for any input).

``corpus(seed)`` makes every file in memory (nothing is committed): valid faces in every format and mode, extreme
sizes, formats we do not decode, truncations at random offsets, random byte flips, random bytes behind real magic
numbers, headers that claim huge sizes, polyglots, broken EXIF and hostile file names. ``sample(k, seed)`` draws a
stratified subset for the fast tests; ``bench/fuzz_uploads.py`` drives all of them.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

PORTRAIT = Path(__file__).resolve().parents[2] / "assets" / "samples" / "astronaut_eileen_collins.png"


@dataclass(frozen=True)
class FuzzCase:
    """One upload: the name a user's browser would send, its bytes, and the family it was made in."""

    name: str
    data: bytes
    family: str


@lru_cache(maxsize=1)
def _face() -> Image.Image:
    """The bundled portrait around its face (the valid files should reach detection and explanation)."""
    img = Image.open(PORTRAIT).convert("RGB")
    w, h = img.size
    side = min(w, h)
    return img.crop(((w - side) // 2, 0, (w + side) // 2, side)).resize((320, 320), Image.Resampling.LANCZOS)


def _save(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def _png_header(w: int, h: int, depth: int = 8, colour: int = 2, idat: bytes = b"") -> bytes:
    ihdr = struct.pack(">IIBBBBB", w, h, depth, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def _wide_png(w: int, h: int) -> bytes:
    """A flat grey PNG of any size, written by hand so a 65,500-px side costs kilobytes, not a decoder run."""
    row = b"\x00" + b"\x80" * w
    raw = zlib.compress(row * h, 9)
    return _png_header(w, h, 8, 0, raw)


def _sixteen_bit_png(side: int) -> bytes:
    ok, buf = cv2.imencode(".png", np.full((side, side), 40000, np.uint16), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    assert ok
    return buf.tobytes()


def _exif_jpeg(orientation_bytes: bytes) -> bytes:
    """A JPEG whose APP1 EXIF block carries the given orientation IFD bytes (valid or not)."""
    jpeg = _save(_face().resize((96, 96)), "JPEG")
    tiff = b"II*\x00\x08\x00\x00\x00" + orientation_bytes
    app1 = b"Exif\x00\x00" + tiff
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + jpeg[2:]


def _valid_files() -> list[tuple[str, bytes]]:
    face = _face()
    small, grey = face.resize((120, 120)), face.convert("L")
    out: list[tuple[str, bytes]] = []
    for size in (320, 200, 96, 48):
        im = face.resize((size, size))
        out += [(f"face_{size}.jpg", _save(im, "JPEG", quality=85)), (f"face_{size}.png", _save(im, "PNG"))]
    out += [
        ("grey.jpg", _save(grey, "JPEG")),
        ("cmyk.jpg", _save(face.convert("CMYK"), "JPEG")),
        ("progressive.jpg", _save(face, "JPEG", progressive=True)),
        ("q1.jpg", _save(face, "JPEG", quality=1)),
        ("mpo.jpg", _save(face, "MPO", save_all=True, append_images=[small.resize((320, 320))])),
    ]
    for mode in ("1", "L", "LA", "P", "RGB", "RGBA", "I;16"):
        im = face.convert("L").convert(mode) if mode in ("I;16", "I") else face.convert(mode)
        out.append((f"mode_{mode.replace(';', '')}.png", _save(im, "PNG")))
    pal = face.convert("P")
    pal.info["transparency"] = 0
    out.append(("palette_transparent.png", _save(pal, "PNG")))
    ok, buf = cv2.imencode(".png", (np.asarray(face)[..., ::-1].astype(np.uint16) * 257))
    out.append(("rgb16.png", buf.tobytes()))
    out += [
        ("lossy.webp", _save(face, "WEBP", quality=60)),
        ("lossless.webp", _save(face.convert("RGBA"), "WEBP", lossless=True)),
        ("animated.webp", _save(face, "WEBP", save_all=True, append_images=[small.resize((320, 320))])),
    ]
    for mode in ("1", "L", "RGB", "RGBA", "CMYK", "I;16", "I", "F", "LAB", "YCbCr"):
        im = {
            "I;16": grey.convert("I;16"),
            "I": grey.convert("I"),
            "F": grey.convert("F"),
            "LAB": face.convert("LAB"),
            "YCbCr": face.convert("YCbCr"),
        }.get(mode) or face.convert(mode)
        out.append((f"mode_{mode.replace(';', '')}.tiff", _save(im, "TIFF")))
    unit = Image.fromarray(np.asarray(grey, dtype=np.float32) / 255.0, mode="F")
    nan = np.asarray(grey, dtype=np.float32)
    nan[::7, ::5] = np.nan
    out += [("float_unit.tiff", _save(unit, "TIFF")), ("float_nan.tiff", _save(Image.fromarray(nan, mode="F"), "TIFF"))]
    for comp in ("tiff_lzw", "tiff_deflate", "packbits", "jpeg", "tiff_adobe_deflate"):
        out.append((f"comp_{comp}.tif", _save(face, "TIFF", compression=comp)))
    out.append(("multipage.tiff", _save(face, "TIFF", save_all=True, append_images=[grey.convert("RGB")])))
    out += [
        ("still.gif", _save(face, "GIF")),
        ("animated.gif", _save(face, "GIF", save_all=True, append_images=[grey.convert("RGB")], loop=0)),
        ("transparent.gif", _save(pal, "GIF", transparency=0)),
    ]
    for mode in ("1", "L", "P", "RGB", "RGBA"):
        out.append((f"mode_{mode}.bmp", _save(face.convert(mode), "BMP")))
    ok, buf = cv2.imencode(".bmp", np.asarray(face)[..., ::-1])
    out.append(("opencv.bmp", buf.tobytes()))
    return out


def _size_files() -> list[tuple[str, bytes]]:
    face = _face()
    deflated = Image.fromarray(np.full((64, 131072), 90, np.uint8))
    return [
        ("wide_65500x24.png", _wide_png(65500, 24)),
        ("tall_24x65500.png", _wide_png(24, 65500)),
        ("wide_131072x64.tiff", _save(deflated, "TIFF", compression="tiff_deflate")),
        ("one_pixel.png", _wide_png(1, 1)),
        ("seven.png", _wide_png(7, 7)),
        ("eight.png", _wide_png(8, 8)),
        ("strip_9x300.png", _wide_png(9, 300)),
        ("strip_300x9.png", _wide_png(300, 9)),
        ("face_23.png", _save(face.resize((23, 23)), "PNG")),
        ("face_24.png", _save(face.resize((24, 24)), "PNG")),
        ("face_161.png", _save(face.resize((161, 161)), "PNG")),
        ("face_160x20.png", _save(face.resize((160, 20)), "PNG")),
        ("grey16_6000.png", _sixteen_bit_png(6000)),
        ("over_limit_6400.png", _wide_png(6400, 6400)),
        (
            "noise_640x480.jpg",
            _save(Image.fromarray(np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)), "JPEG"),
        ),
        ("zero_0x0.png", _png_header(0, 0)),
        ("huge_ihdr.png", _png_header(100_000, 100_000)),
        ("max_ihdr.png", _png_header(2**31 - 1, 1)),
    ]


def _unsupported_files() -> list[tuple[str, bytes]]:
    im = Image.new("RGB", (32, 32), (200, 100, 50))
    out = []
    for fmt, ext in (
        ("DDS", "dds"),
        ("AVIF", "avif"),
        ("ICNS", "icns"),
        ("ICO", "ico"),
        ("IM", "im"),
        ("JPEG2000", "jp2"),
        ("PCX", "pcx"),
        ("PDF", "pdf"),
        ("PPM", "ppm"),
        ("QOI", "qoi"),
        ("SGI", "sgi"),
        ("TGA", "tga"),
        ("EPS", "eps"),
        ("DIB", "dib"),
    ):
        out.append((f"unsupported.{ext}", _save(im, fmt)))
    out += [
        ("as_png.png", _save(im, "EPS")),
        ("as_jpg.jpg", _save(im, "DDS")),
        ("avif_as.webp", _save(im, "AVIF")),
        ("xbm.png", _save(im.convert("1"), "XBM")),
        ("msp.bmp", _save(im.convert("1"), "MSP")),
        ("spider.tif", _save(im.convert("F"), "SPIDER")),
    ]
    dds = bytearray(_save(im, "DDS"))
    dds[80:84] = b"\x00\x00\x00\x00"  # pixel-format flags 0: the decoder raises NotImplementedError
    out += [
        ("flags0.dds", bytes(dds)),
        ("flags0_as.png", bytes(dds)),
        ("blp2.png", b"BLP2" + struct.pack("<IBBBB", 1, 2, 8, 7, 0) + struct.pack("<II", 32, 32) + bytes(2000)),
        ("blp1.jpg", b"BLP1" + struct.pack("<III", 0, 8, 32) + struct.pack("<III", 32, 5, 0) + bytes(2000)),
        ("heic.jpg", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64)),
        ("video.png", b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2mp41" + bytes(256)),
        ("drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><image href="http://127.0.0.1:9/x.png"/></svg>'),
        ("page.png", b"<!DOCTYPE html><html><img src=http://127.0.0.1:9/x.png></html>"),
        ("notes.jpg", b"just some text, not a picture\n" * 20),
        ("archive.png", b"PK\x03\x04" + bytes(100)),
        ("elf.bmp", b"\x7fELF\x02\x01\x01" + bytes(200)),
        ("psd.png", b"8BPS\x00\x01" + bytes(100)),
        ("gz.tif", zlib.compress(b"x" * 1000)),
    ]
    return out


def _header_files() -> list[tuple[str, bytes]]:
    gif = (
        b"GIF89a"
        + struct.pack("<HHBBB", 65535, 65535, 0xF7, 0, 0)
        + bytes(768)
        + b","
        + struct.pack("<HHHHB", 0, 0, 65535, 65535, 0)
        + b"\x08\x02\x4c\x01\x00;"
    )
    bmp = lambda w, h, bpp: (
        b"BM"
        + struct.pack("<IHHI", 1000, 0, 0, 54)
        + struct.pack("<IiiHHIIiiII", 40, w, h, 1, bpp, 0, 0, 0, 0, 0, 0)
        + bytes(64)
    )  # noqa: E731
    sof = lambda w, h: (
        b"\xff\xd8\xff\xc0\x00\x11\x08" + struct.pack(">HH", h, w) + b"\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01\xff\xd9"
    )  # noqa: E731
    tiff = lambda w, h: (
        b"II*\x00\x08\x00\x00\x00"
        + struct.pack("<H", 4)
        + struct.pack("<HHII", 256, 4, 1, w)
        + struct.pack("<HHII", 257, 4, 1, h)
        + struct.pack("<HHII", 258, 3, 1, 8)
        + struct.pack("<HHII", 273, 4, 1, 8)
        + b"\x00\x00\x00\x00"
    )  # noqa: E731
    vp8x = (
        b"RIFF"
        + struct.pack("<I", 30)
        + b"WEBPVP8X"
        + struct.pack("<I", 10)
        + b"\x00\x00\x00\x00"
        + (16383).to_bytes(3, "little")
        + (16383).to_bytes(3, "little")
    )
    return [
        ("gif_65535.gif", gif),
        ("bmp_50000.bmp", bmp(50000, 50000, 24)),
        ("bmp_negative.bmp", bmp(64, -64, 24)),
        ("bmp_zero.bmp", bmp(0, 64, 24)),
        ("bmp_bpp0.bmp", bmp(64, 64, 0)),
        ("bmp_bpp7.bmp", bmp(64, 64, 7)),
        ("jpeg_65500.jpg", sof(65500, 65500)),
        ("jpeg_0x0.jpg", sof(0, 0)),
        ("tiff_2g.tif", tiff(2**31, 2)),
        ("tiff_zero.tif", tiff(0, 0)),
        ("tiff_huge.tif", tiff(60000, 60000)),
        ("webp_canvas.webp", vp8x),
        ("png_depth3.png", _png_header(64, 64, 3, 2)),
        ("png_colour9.png", _png_header(64, 64, 8, 9)),
    ]


def _polyglot_files() -> list[tuple[str, bytes]]:
    png, jpeg = _save(_face().resize((96, 96)), "PNG"), _save(_face().resize((96, 96)), "JPEG")
    return [
        ("png_zip.png", png + b"PK\x03\x04" + bytes(60)),
        ("jpeg_html.jpg", jpeg + b"<script>alert(1)</script>"),
        ("gif_js.gif", b"GIF89a/*" + bytes(20) + b"*/=alert(1);"),
        ("pdf_png.png", b"%PDF-1.4\n" + png),
        ("html_png.png", b"<html>" + png),
        ("jpeg_php.jpg", jpeg[:20] + b"<?php system($_GET['c']); ?>" + jpeg[20:]),
        ("two_pngs.png", png + png),
        ("png_in_jpeg.jpg", jpeg[:2] + b"\xff\xfe\x00\x10" + png[:14] + jpeg[2:]),
    ]


def _exif_files() -> list[tuple[str, bytes]]:
    entry = lambda value, kind=3, count=1: struct.pack("<HHHII", 1, 0x0112, kind, count, value)  # noqa: E731
    out = []
    for value in (0, 1, 3, 6, 8, 9, 255, 65535):
        out.append((f"exif_orientation_{value}.jpg", _exif_jpeg(entry(value) + b"\x00\x00\x00\x00")))
    out += [
        ("exif_bad_offset.jpg", _exif_jpeg(struct.pack("<HHHII", 1, 0x0112, 4, 1000, 0x7FFFFFF0) + bytes(4))),
        ("exif_huge_count.jpg", _exif_jpeg(struct.pack("<H", 65535) + bytes(12))),
        ("exif_rational.jpg", _exif_jpeg(struct.pack("<HHHII", 1, 0x0112, 5, 1, 4) + bytes(4))),
        ("exif_loop.jpg", _exif_jpeg(entry(6) + struct.pack("<I", 8))),
        ("exif_truncated.jpg", _exif_jpeg(b"\x05")),
    ]
    im = _face().resize((96, 96))
    exif = Image.Exif()
    exif[0x0112] = 6
    out += [
        ("exif_rotated.png", _save(im, "PNG", exif=exif)),
        ("exif_rotated.webp", _save(im, "WEBP", exif=exif)),
        ("exif_garbage.webp", _save(im, "WEBP", exif=b"Exif\x00\x00garbage")),
    ]
    return out


def _name_files() -> list[tuple[str, bytes]]:
    jpeg = _save(_face().resize((96, 96)), "JPEG")
    names = [
        "![t](http://127.0.0.1:9/x.png).jpg",
        "<img src=x onerror=alert(1)>.jpg",
        "**bold** _it_ `code`.jpg",
        "[link](javascript:alert(1)).jpg",
        "$\\frac{a}{b}$.jpg",
        ":material/face: :smile:.jpg",
        "émoji 😀 ünïcødé.jpg",
        "x" * 300 + ".jpg",
        "..%2F..%2Fetc%2Fpasswd.jpg",
        "no_extension",
        "upper.JPG",
        "double.png.jpg",
        "   spaces   .jpg",
        "<script>.png",
        "#heading.jpg",
    ]
    return [(n, jpeg) for n in names]


def _mutants(
    base: list[tuple[str, bytes]],
    rng: np.random.Generator,
    count: int,
    family: str,
    mutate: Callable[[bytes, np.random.Generator], bytes],
) -> list[tuple[str, bytes, str]]:
    out = []
    for i in range(count):
        name, data = base[int(rng.integers(len(base)))]
        out.append((f"{family}_{i:03d}_{name}", mutate(data, rng), family))
    return out


def _truncate(data: bytes, rng: np.random.Generator) -> bytes:
    return data[: int(rng.integers(1, max(2, len(data))))]


def _flip(data: bytes, rng: np.random.Generator) -> bytes:
    buf = bytearray(data)
    head = min(len(buf), 512)  # most damage where the structure is: the first half-kilobyte
    for _ in range(int(rng.integers(1, 24))):
        pos = int(rng.integers(head)) if rng.random() < 0.7 else int(rng.integers(len(buf)))
        buf[pos] = int(rng.integers(256))
    return bytes(buf)


def _random_behind_magic(data: bytes, rng: np.random.Generator) -> bytes:
    keep = int(rng.integers(0, 33))
    return data[:keep] + rng.integers(0, 256, int(rng.integers(1, 4096)), dtype=np.uint8).tobytes()


@lru_cache(maxsize=2)
def corpus(seed: int = 0) -> list[FuzzCase]:
    """Every case, in a fixed order for a seed (more than 1,000 files, about 75 MB in all; made once per process)."""
    rng = np.random.default_rng(seed)
    valid = _valid_files()
    cases = [(n, d, "valid") for n, d in valid]
    for family, files in (
        ("size", _size_files()),
        ("unsupported", _unsupported_files()),
        ("header", _header_files()),
        ("polyglot", _polyglot_files()),
        ("exif", _exif_files()),
        ("name", _name_files()),
    ):
        cases += [(n, d, family) for n, d in files]
    small = [(n, d) for n, d in valid if len(d) < 400_000]
    cases += _mutants(small, rng, 300, "truncated", _truncate)
    cases += _mutants(small, rng, 420, "bitflip", _flip)
    cases += _mutants(small, rng, 150, "random", _random_behind_magic)
    return [FuzzCase(n, d, f) for n, d, f in cases]  # a cached list: do not change it


def sample(k: int, seed: int = 0) -> list[FuzzCase]:
    """``k`` cases drawn with ``seed``: every hand-made family in full proportion, mutants for the rest."""
    every = corpus(0)
    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(every))[:k]
    return [every[i] for i in sorted(idx)]


def iter_families(cases: list[FuzzCase]) -> Iterator[tuple[str, int]]:
    """(family, count) of a list of cases, for reports."""
    names, counts = np.unique([c.family for c in cases], return_counts=True)
    yield from zip(names.tolist(), counts.tolist())
