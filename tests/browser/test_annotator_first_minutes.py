"""An annotator's first minutes in a real browser: an empty store, one click for the demo batch, a name, then the
keyboard (A accepts) and the progress counts the decision. The server gets a store and FER_CORE_HOME of its own,
so the test never touches the user's."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from ._server import CHROMIUM_FLAGS, chromium_path, dashboard_server

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    """A dashboard on an empty private store, and one browser page on its Review page."""
    if chromium_path() is None:
        pytest.skip("Debian's chromium is not installed (make test installs it with apt-get)")
    sync_api = pytest.importorskip("playwright.sync_api")
    tmp = tmp_path_factory.mktemp("annotator")
    db = tmp / "store.sqlite"
    private = {"FER_CORE_DB": str(db), "FER_CORE_HOME": str(tmp / "home")}  # the server's own store and home
    with dashboard_server(env=private) as url, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        pg = browser.new_page(viewport={"width": 1400, "height": 1700})
        pg.goto(f"{url}/review")
        yield {"page": pg, "db": db}
        browser.close()


def _shot(pg, name: str, tmp_path: Path) -> Path:
    folder = Path(os.environ.get("FER_SCREENSHOT_DIR", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    pg.screenshot(path=str(path), full_page=True)
    return path


def _progress(pg) -> str:
    return pg.get_by_text(re.compile(r"decisions made")).first.inner_text()


def test_demo_batch_then_the_a_key_records_a_decision(session, tmp_path):
    from fer_core.store import Store

    pg = session["page"]
    pg.get_by_text("No pseudo-label batches yet").wait_for(timeout=120_000)
    create_demo = pg.get_by_role("button", name=re.compile("Create the demo batch"))
    create_demo.wait_for(timeout=60_000)
    assert pg.get_by_text("Uploaded photos are saved to disk").count() == 0  # only beside the uploader
    _shot(pg, "review_empty.png", tmp_path)
    pg.get_by_text("Upload photos", exact=True).click()
    pg.get_by_text("Uploaded photos are saved to disk").wait_for(timeout=30_000)
    pg.locator("input[type=file]").wait_for(state="attached", timeout=30_000)  # the uploader itself is drawn
    pg.wait_for_timeout(500)
    _shot(pg, "review_create_form.png", tmp_path)

    create_demo.click()
    name_box = pg.get_by_label("Your name")
    name_box.wait_for(timeout=120_000)
    assert "0 of 8 decisions made" in _progress(pg)
    assert pg.get_by_text("8 faces of 8 images").count() == 1  # what went into the new batch
    name_box.fill("Ada")
    name_box.press("Enter")
    pg.get_by_text("Reviewing as").wait_for(timeout=60_000)
    pg.get_by_text(re.compile("^Proposed:")).wait_for(timeout=120_000)
    pg.get_by_text(re.compile("^LRP evidence for")).wait_for(timeout=120_000)
    pg.locator(".js-plotly-plot").first.wait_for(timeout=60_000)  # the proposal's top-3 bars
    assert pg.get_by_label("Your name").count() == 0  # no text field left to catch the decision keys
    _shot(pg, "review_face.png", tmp_path)
    first = pg.get_by_text(re.compile(r"^face #\d+$")).first.inner_text()

    pg.locator("h1").first.click()  # focus on the page, as after reading the face
    pg.keyboard.press("a")
    pg.wait_for_function(
        "() => [...document.querySelectorAll('*')].some(e => /1 of 8 decisions made/.test(e.textContent))",
        timeout=60_000,
    )
    pg.get_by_text(first, exact=True).wait_for(state="detached", timeout=60_000)  # the next face is shown
    assert "Reviewing as Ada" in pg.get_by_text("Reviewing as").first.inner_text()  # the name did not change
    assert pg.locator("text=Traceback").count() == 0 and pg.locator("text=error id").count() == 0
    with Store.open(session["db"]) as store:
        reviews = store.reviews("demo-synthfacs")
        assert list(reviews["decision"]) == ["accept"] and list(reviews["reviewer"]) == ["Ada"]
