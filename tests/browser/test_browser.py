"""Real browser: headless Debian Chromium driven by Playwright against the running dashboard."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ._server import CHROMIUM_FLAGS, ROOT, chromium_path, dashboard_server

pytestmark = pytest.mark.browser
PORTRAIT = ROOT / "assets" / "samples" / "astronaut_eileen_collins.png"
HEATMAP_CAPTION = "text=/^(angry|disgust|fear|happy|sad|surprise|neutral) · \\d+%$/"


@pytest.fixture(scope="module")
def session():
    """One dashboard and one browser page for the module; every request the page makes is recorded from the
    first load on."""
    if chromium_path() is None:
        pytest.skip("Debian's chromium is not installed (make test installs it with apt-get)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with dashboard_server() as url, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        pg = browser.new_page(viewport={"width": 1400, "height": 1600})
        requests: list[str] = []
        pg.on("request", lambda r: requests.append(r.url))
        pg.goto(url)
        pg.wait_for_selector("text=Face 1", timeout=120_000)
        yield {"page": pg, "url": url, "requests": requests}
        browser.close()


@pytest.fixture()
def page(session):
    return session["page"]


def _shot(pg, name: str, tmp_path: Path) -> Path:
    folder = Path(os.environ.get("FER_SCREENSHOT_DIR", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    pg.screenshot(path=str(path), full_page=True)
    return path


def test_upload_portrait_shows_seven_heatmaps(page, tmp_path):
    page.get_by_text("Upload photos").click()
    page.locator("input[type=file]").set_input_files(str(PORTRAIT))
    page.wait_for_selector("text=Face 1: happy", timeout=60_000)
    page.wait_for_function("document.querySelectorAll('img').length >= 9", timeout=60_000)
    captions = page.locator(HEATMAP_CAPTION)
    captions.first.wait_for(timeout=60_000)
    assert captions.count() == 7
    assert page.locator("text=happy · 100%").count() == 1
    assert _shot(page, "explain_upload.png", tmp_path).stat().st_size > 50_000


def test_corrupt_upload_gives_a_message_not_a_traceback(page, tmp_path):
    bad = tmp_path / "holiday.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 truncated jpeg")
    page.locator("input[type=file]").set_input_files(str(bad))
    page.wait_for_selector("text=could not be used", timeout=60_000)
    assert page.locator("text=Traceback").count() == 0
    _shot(page, "explain_bad_upload.png", tmp_path)


def test_nothing_leaves_the_machine_and_names_stay_text(session):
    """Every request the browser made, on every page and for an upload named like a markdown image, went to the
    dashboard's own host and port: no CDN icon or font, and a file name never becomes a fetched image. The page
    icon is the app's own file. Runs last in the module, over the traffic of the tests before it too."""
    from urllib.parse import urlsplit

    pg, url = session["page"], session["url"]
    trap = "http://127.0.0.1:9/x.png"
    hostile = {"name": f"![t]({trap}).png", "mimeType": "image/png", "buffer": PORTRAIT.read_bytes()}
    pg.goto(url)
    pg.wait_for_selector("text=Face 1", timeout=120_000)
    pg.get_by_text("Upload photos").click()
    pg.locator("input[type=file]").set_input_files([hostile])
    # wait for the upload's own name: "Face 1: happy" of the sample shown before the upload would match at once
    pg.get_by_text(f"![t]({trap}).png", exact=True).first.wait_for(timeout=60_000)  # shown as typed, not an image
    pg.wait_for_selector("text=Face 1: happy", timeout=60_000)
    icon = pg.evaluate("() => [...document.querySelectorAll('link[rel*=icon]')].map(l => l.href)")
    for view in (
        "occlusion",
        "occlusion_study",
        "action_units",
        "emonet",
        "fairness",
        "review",
        "model_card",
        "runs",
        "transfer",
        "report",
    ):
        pg.goto(f"{url}/{view}")
        pg.wait_for_selector("h1", timeout=120_000)
        pg.wait_for_timeout(1000)
        assert pg.locator("text=error id").count() == 0, view
    own = urlsplit(url).netloc
    outside = sorted(
        {
            u
            for u in session["requests"]
            if urlsplit(u).scheme in ("http", "https", "ws", "wss") and urlsplit(u).netloc != own
        }
    )
    assert not outside, outside
    assert icon and all(urlsplit(h).netloc == own for h in icon), icon
    assert len(session["requests"]) > 20  # the listener saw the app's own traffic
