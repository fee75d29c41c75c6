"""The dashboard never shows a traceback, a server path or a user's text as markup, and its image cache is bounded
by bytes."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import tomllib
from streamlit.testing.v1 import AppTest

from dashboard._lru import ByteBoundedLRU
from dashboard.components.text import md

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "dashboard" / "app.py")


def test_error_details_are_off_and_the_page_icon_is_served_by_the_app():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["client"]["showErrorDetails"] == "none"
    app = (ROOT / "dashboard" / "app.py").read_text(encoding="utf-8")
    assert ":material/" not in app.split("st.set_page_config", 1)[1].split(")", 1)[0]
    assert (ROOT / "dashboard" / "icon.png").is_file()


def test_an_unexpected_error_shows_a_short_message_with_an_id(monkeypatch, caplog):
    from dashboard import _resources as res

    def broken(*args, **kwargs):
        raise RuntimeError("secret detail at /srv/private/path.py")

    monkeypatch.setattr(res, "explain", broken)
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception
    shown = " ".join(e.value for e in at.error)
    assert "error id" in shown and "secret detail" not in shown and "/srv/" not in shown
    error_id = shown.split("error id `", 1)[1][:8]
    assert any(error_id in r.getMessage() and "secret detail" in r.getMessage() for r in caplog.records)


def test_a_whole_page_failing_is_caught_by_its_boundary(monkeypatch):
    from dashboard import _resources as res

    monkeypatch.setattr(res, "run_folders", lambda: (_ for _ in ()).throw(OSError("disk gone at /mnt/x")))
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page("views/runs.py").run()
    assert not at.exception
    assert any("error id" in e.value for e in at.error) and not any("/mnt/x" in e.value for e in at.error)


@pytest.mark.parametrize(
    "text",
    [
        "![t](http://127.0.0.1:9/x.png)",
        "<img src=x onerror=alert(1)>",
        "$x^2$",
        ":material/face: :red[alert]",
        "**bold** _it_ `code` [a](b) # h",
        "back\\slash",
    ],
)
def test_md_escapes_every_markup_character(text):
    """Once every backslash pair is removed, no markup character is left: each one was escaped."""
    import re

    bare = re.sub(r"\\.", "", md(text))
    assert not set(bare) & set("![]()<>$:*_`#\\"), bare
    assert "\n" not in md("two\nlines")


def test_byte_bounded_cache_keeps_at_most_its_budget_and_drops_the_oldest():
    cache = ByteBoundedLRU(3_000)
    for i in range(5):
        cache.get_or_compute(i, lambda i=i: np.full(1_000, i, np.uint8))
    assert cache.nbytes <= 3_000 and len(cache) == 3
    calls = []
    cache.get_or_compute(4, lambda: calls.append(1) or np.zeros(1, np.uint8))
    assert not calls  # the newest is still there, handed out without recomputing
    cache.get_or_compute(0, lambda: np.zeros(1_000, np.uint8))  # the oldest was dropped: computed again
    big = cache.get_or_compute("big", lambda: np.zeros(10_000, np.uint8))
    assert big.nbytes == 10_000 and "big" not in cache._items and cache.nbytes <= 3_000
    assert not big.flags.writeable  # shared values cannot be changed by one session for all


def test_decoded_uploads_never_hold_more_than_the_budget(monkeypatch):
    """Six small 16-bit PNGs that each decode to 27 MB: the shared cache stays within its 64 MB."""
    from dashboard import _resources as res

    monkeypatch.setattr(res, "DECODED", ByteBoundedLRU(64 * 2**20))
    for value in range(6):
        ok, buf = cv2.imencode(".png", np.full((3000, 3000), 1000 * value, np.uint16))
        data = buf.tobytes()
        assert len(data) < 200_000
        assert res.decode(res.sha(data), data).shape == (3000, 3000, 3)
        assert res.DECODED.nbytes <= 64 * 2**20
