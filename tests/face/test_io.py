"""Bad and unusual images: every one gives RGB uint8 or an ImageLoadError with a clear message."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from fer_core.errors import ImageLoadError
from fer_core.face import io as fio
from fer_core.face import load_image


def _encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def test_zero_bytes_and_non_images():
    with pytest.raises(ImageLoadError, match="empty"):
        load_image(b"")
    with pytest.raises(ImageLoadError, match="not an image"):
        load_image(b"%PDF-1.4 definitely not a picture" * 10)


def test_truncated_jpeg_is_refused():
    data = _encode(Image.new("RGB", (200, 200), (200, 30, 30)), "JPEG")
    with pytest.raises(ImageLoadError, match="truncated or corrupt"):
        load_image(data[: len(data) // 2])


def test_decompression_bomb_is_refused_before_decoding():
    bomb = _encode(Image.new("1", (8000, 6000)), "PNG")  # 48 MP of zeros, a few KB on disk
    assert len(bomb) < 200_000
    with pytest.raises(ImageLoadError, match="decompression bomb"):
        load_image(bomb)


def test_oversized_file_is_refused(monkeypatch):
    monkeypatch.setattr(fio, "MAX_BYTES", 1000)
    with pytest.raises(ImageLoadError, match="limit"):
        load_image(_encode(Image.effect_noise((64, 64), 50).convert("RGB"), "PNG"))


def test_sixteen_bit_grey_is_scaled_not_clipped():
    arr = np.full((20, 20), 65535 // 2, dtype=np.uint16)
    rgb = load_image(_encode(Image.fromarray(arr), "PNG"))
    assert rgb.dtype == np.uint8 and rgb.shape == (20, 20, 3)
    assert abs(int(rgb[0, 0, 0]) - 128) <= 1


def test_cmyk_alpha_grey_and_palette_modes():
    cmyk = load_image(_encode(Image.new("CMYK", (16, 16), (0, 255, 255, 0)), "JPEG"))
    assert cmyk[8, 8, 0] > 200 and cmyk[8, 8, 1] < 60  # red
    rgba = Image.new("RGBA", (16, 16), (0, 0, 255, 0))
    assert load_image(_encode(rgba, "PNG"))[0, 0].tolist() == [255, 255, 255]  # transparent -> white
    grey = load_image(_encode(Image.new("L", (16, 16), 77), "PNG"))
    assert grey[0, 0].tolist() == [77, 77, 77]
    pal = load_image(_encode(Image.new("RGB", (16, 16), (10, 200, 10)).convert("P"), "GIF"))
    assert pal[0, 0, 1] > 150


@pytest.mark.parametrize("fmt", ["TIFF", "WEBP", "BMP"])
def test_other_formats(fmt):
    rgb = load_image(
        _encode(Image.new("RGB", (24, 20), (10, 20, 30)), fmt, **({"lossless": True} if fmt == "WEBP" else {}))
    )
    assert rgb.shape == (20, 24, 3) and rgb[5, 5].tolist() == [10, 20, 30]


def test_animated_gif_uses_first_frame():
    frames = [Image.new("RGB", (16, 16), (255, 0, 0)), Image.new("RGB", (16, 16), (0, 0, 255))]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    rgb = load_image(buf.getvalue())
    assert rgb[0, 0, 0] > 200 and rgb[0, 0, 2] < 50


def test_exif_orientation_is_honoured():
    img = Image.new("RGB", (40, 20), (0, 0, 0))
    img.paste((255, 255, 255), (0, 0, 10, 20))  # white stripe on the left
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    rgb = load_image(_encode(img, "JPEG", exif=exif.tobytes(), quality=95))
    assert rgb.shape == (40, 20, 3)  # width and height swapped
    assert rgb[2, 10].mean() > 200 and rgb[-3, 10].mean() < 60  # left stripe now on top


def test_missing_file_and_tiny_image(tmp_path):
    with pytest.raises(ImageLoadError, match="no such file"):
        load_image(tmp_path / "nope.png")
    with pytest.raises(ImageLoadError, match="too small"):
        load_image(_encode(Image.new("RGB", (4, 4)), "PNG"))
