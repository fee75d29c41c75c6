"""Decoding odd files: extreme shapes, formats outside the allow-list, wide pixel types and broken EXIF (the fuzz
campaign's findings), each with an answer checked by hand."""

from __future__ import annotations

import io
import subprocess
import tracemalloc

import cv2
import numpy as np
import pytest
from PIL import Image

from fer_core.errors import FaceNotFoundError, ImageLoadError
from fer_core.face import find_faces, load_image
from tests.fuzz.corpus import _exif_jpeg, _save, _unsupported_files, _wide_png


@pytest.mark.parametrize("width, height", [(65500, 24), (24, 65500), (131072, 64)])
def test_very_wide_or_tall_images_decode_and_hold_no_face(width, height):
    rgb = load_image(_wide_png(width, height))
    assert rgb.shape == (height, width, 3) and rgb[0, 0].tolist() == [128, 128, 128]
    with pytest.raises(FaceNotFoundError, match=f"{width} x {height}"):
        find_faces(rgb, (64, 64))


def test_a_deflated_tiff_that_decodes_to_131072_by_64_is_no_crash():
    data = _save(Image.fromarray(np.full((64, 131072), 90, np.uint8)), "TIFF", compression="tiff_deflate")
    assert len(data) < 50_000
    with pytest.raises(FaceNotFoundError):
        find_faces(load_image(data), (48, 48))


@pytest.mark.parametrize(
    "name, kind",
    [
        ("flags0.dds", "DDS"),
        ("blp2.png", "BLP"),
        ("unsupported.avif", "AVIF"),
        ("unsupported.eps", "EPS"),
        ("as_png.png", "EPS"),
        ("heic.jpg", "HEIC"),
        ("unsupported.pdf", "PDF"),
        ("unsupported.jp2", "JPEG 2000"),
    ],
)
def test_formats_outside_the_allow_list_are_refused_by_name(name, kind, monkeypatch):
    """Refused before any decoder of theirs runs: EPS never reaches Ghostscript (no process is started)."""

    def no_process(*args, **kwargs):
        raise AssertionError(f"a decoder tried to start a process: {args[:1]}")

    monkeypatch.setattr(subprocess, "Popen", no_process)
    monkeypatch.setattr(subprocess, "check_call", no_process)
    data = dict(_unsupported_files())[name]
    with pytest.raises(ImageLoadError, match=kind) as err:
        load_image(data)
    assert "JPEG, PNG, WebP, TIFF" in str(err.value)


def test_sixteen_bit_png_decodes_without_a_float64_copy():
    """40000 of 65535 is 155.6 of 255. Memory traced while decoding stays below twice the 8-bit RGB result (a
    float64 copy of the image alone would be 2.7 times it)."""
    ok, buf = cv2.imencode(".png", np.full((3000, 3000), 40000, np.uint16))
    tracemalloc.start()
    rgb = load_image(buf.tobytes())
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert rgb.dtype == np.uint8 and rgb.shape == (3000, 3000, 3) and set(np.unique(rgb)) == {156}
    assert peak < 2 * rgb.nbytes, (peak, rgb.nbytes)


def test_int32_and_float_images_are_scaled_by_their_range():
    grey = np.tile(np.linspace(0, 1, 64, dtype=np.float32), (32, 1))
    unit = load_image(_save(Image.fromarray(grey, mode="F"), "TIFF"))
    assert unit[0, 0, 0] == 0 and unit[0, -1, 0] == 255 and abs(int(unit[0, 32, 0]) - round(32 / 63 * 255)) <= 1
    nan = grey.copy()
    nan[:, :8] = np.nan
    assert (load_image(_save(Image.fromarray(nan, mode="F"), "TIFF"))[:, :8] == 0).all()
    sixteen = Image.fromarray((grey * 65535).astype(np.int32), mode="I")
    assert load_image(_save(sixteen, "TIFF"))[0, -1, 0] == 255  # int32 holding 16-bit data
    small = Image.fromarray((grey * 200).astype(np.int32), mode="I")
    assert load_image(_save(small, "TIFF"))[0, -1, 0] == 200  # int32 within 8 bits is read as it is


@pytest.mark.parametrize("orientation", [0, 9, 255, 65535])
def test_invalid_exif_orientation_leaves_the_image_upright(orientation):
    import struct

    entry = struct.pack("<HHHII", 1, 0x0112, 3, 1, orientation) + b"\x00\x00\x00\x00"
    assert load_image(_exif_jpeg(entry)).shape == (96, 96, 3)


def test_exif_with_offsets_beyond_the_file_is_ignored():
    import struct

    assert load_image(_exif_jpeg(struct.pack("<HHHII", 1, 0x0112, 4, 1000, 0x7FFFFFF0) + bytes(4))).shape == (96, 96, 3)


def test_unreadable_path_is_an_image_load_error(tmp_path):
    folder = tmp_path / "a_folder.png"
    folder.mkdir()
    with pytest.raises(ImageLoadError, match="no such file"):
        load_image(folder)
    with pytest.raises(ImageLoadError, match="empty"):
        load_image(io.BytesIO().getvalue())
