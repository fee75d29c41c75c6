"""The first minutes of a presenter and of a manager, in headless Chromium against the dashboard started as users
start it (``fer-dashboard``, which warms the landing page). The annotator's are in test_annotator_first_minutes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ._server import CHROMIUM_FLAGS, ROOT, chromium_path, dashboard_server

pytestmark = pytest.mark.browser
PORTRAIT = ROOT / "assets" / "samples" / "astronaut_eileen_collins.png"
HEATMAP_CAPTION = "text=/^(angry|disgust|fear|happy|sad|surprise|neutral) · \\d+%$/"
# records every spinner text the page ever shows, from the first paint on
SPINNER_WATCH = """
window.__spinners = [];
new MutationObserver(() => {
  for (const el of document.querySelectorAll('[data-testid="stSpinner"]')) window.__spinners.push(el.innerText);
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


@pytest.fixture(scope="module")
def browser():
    if chromium_path() is None:
        pytest.skip("Debian's chromium is not installed (make test installs it with apt-get)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with dashboard_server(warm=True) as url, sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        yield b, url
        b.close()


def _page(browser):
    b, url = browser
    page = b.new_page(viewport={"width": 1400, "height": 1600})
    page.add_init_script(SPINNER_WATCH)
    return page, url


def _shot(page, name: str, tmp_path: Path) -> None:
    folder = Path(os.environ.get("FER_SCREENSHOT_DIR", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / name), full_page=True)


def _choose(page, box, option: str) -> None:
    """Pick ``option`` in a select box by typing it, as a keyboard user would (a click on the box may land while a
    rerun redraws it, and the list then never opens)."""
    field = box.locator("input")
    for _ in range(3):
        field.click()
        field.fill(option)
        try:
            page.get_by_role("option", name=option).click(timeout=10_000)
            return
        except Exception:  # noqa: BLE001 -- redrawn under the cursor: try again
            page.keyboard.press("Escape")
    raise AssertionError(f"could not choose {option!r}")


def _sidebar(page, title: str) -> None:
    page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()


def test_presenter_opens_on_warm_heatmaps_and_keeps_an_uploaded_photo_across_pages(browser, tmp_path):
    page, url = _page(browser)
    page.goto(url)
    page.locator(HEATMAP_CAPTION).nth(6).wait_for(timeout=30_000)
    assert page.locator(HEATMAP_CAPTION).count() == 7
    # warmed at start-up: the first visitor's page never computed anything (no "Computing heatmaps…" spinner)
    assert not [s for s in page.evaluate("window.__spinners") if "Computing" in s or "Loading" in s]
    _shot(page, "presenter_landing.png", tmp_path)

    page.get_by_text("Upload photos").click()
    page.locator("input[type=file]").set_input_files(str(PORTRAIT))
    page.get_by_text("astronaut_eileen_collins.png").first.wait_for(timeout=60_000)
    page.wait_for_selector("text=Face 1: happy", timeout=60_000)
    _sidebar(page, "Occlusion")  # one click: the photo is still chosen there, no second upload
    page.get_by_text("uploaded earlier in this session").wait_for(timeout=60_000)
    page.get_by_text("intact", exact=False).first.wait_for(timeout=60_000)
    assert page.get_by_text("astronaut_eileen_collins.png").count() >= 1
    _shot(page, "presenter_occlusion_same_photo.png", tmp_path)
    assert page.locator("text=error id").count() == 0
    page.close()


def _click_first_bar(page, expect: str, tries: int = 4) -> None:
    """Click the first bar of the first chart where it shows inside the plot area, until `expect` appears.

    A bar can reach below the axis floor (taller than the view), and a click that lands while Plotly is still
    binding its handlers selects nothing: so click the visible middle of the bar, and again if nothing came.
    """
    chart = page.locator(".js-plotly-plot").first
    chart.scroll_into_view_if_needed()
    for attempt in range(tries):
        bar = chart.locator("g.point path").first.bounding_box()
        area = chart.locator(".nsewdrag").first.bounding_box()
        top, bottom = max(bar["y"], area["y"]), min(bar["y"] + bar["height"], area["y"] + area["height"])
        page.mouse.click(bar["x"] + bar["width"] / 2, (top + bottom) / 2)
        try:
            page.get_by_text(expect).first.wait_for(timeout=20_000)
            return
        except pytest.importorskip("playwright.sync_api").TimeoutError:
            if attempt == tries - 1:
                raise


def test_manager_reaches_a_fairness_comparison_and_an_occlusion_study_in_three_clicks(browser, tmp_path):
    page, url = _page(browser)
    page.goto(url)
    page.wait_for_selector("text=Face 1", timeout=60_000)
    _sidebar(page, "Fairness")  # click 1: the two demo runs side by side, a summary table and per-group bars
    page.get_by_text("Summary by", exact=False).wait_for(timeout=60_000)
    for run in ("synthfacs_bias_supervised", "synthfacs_bias_fair_mmd"):
        page.get_by_role("heading", name=run).first.wait_for(timeout=60_000)
    _shot(page, "manager_fairness.png", tmp_path)
    # a bar click and the Group box pick the same group, whichever came last
    group_box = page.locator('[data-testid="stSelectbox"]').filter(has=page.get_by_text("Group", exact=True))
    _click_first_bar(page, "age = adult, most confident mistakes")  # the "adult" bar of the first run
    assert group_box.locator("input").input_value() == "adult"
    _choose(page, group_box, "young")
    page.get_by_text("age = young, most confident mistakes").first.wait_for(timeout=60_000)
    page.wait_for_timeout(1500)  # a rerun that re-applied the old click would switch back here
    assert group_box.locator("input").input_value() == "young"
    assert page.get_by_text("age = adult, most confident mistakes").count() == 0

    _sidebar(page, "Occlusion study")  # click 2: it opens on an expression model, not on an error
    page.get_by_role("button", name="Run study").wait_for(timeout=60_000)
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0
    page.get_by_role("button", name="Run study").click()  # click 3
    page.get_by_role("tab", name="fill: mean").wait_for(timeout=240_000)
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0
    assert page.locator("text=error id").count() == 0
    _shot(page, "manager_occlusion_study.png", tmp_path)
    page.close()


def test_manager_opens_a_strategy_of_the_atlas_by_clicking_one_of_its_faces(browser, tmp_path):
    """Explanation atlas: Build, then a click on a dot of the map opens that dot's cluster (its mean heatmap)."""
    page, url = _page(browser)
    page.goto(url)
    page.wait_for_selector("text=Face 1", timeout=60_000)
    _sidebar(page, "Explanation atlas")
    page.get_by_role("button", name="Build atlas").click()
    page.get_by_text("strategies (clusters)", exact=False).wait_for(timeout=240_000)
    cluster_box = page.locator('[data-testid="stSelectbox"]').filter(has=page.get_by_text("Cluster", exact=True))
    first = cluster_box.locator("input").input_value()
    chart = page.locator(".js-plotly-plot").first
    chart.scroll_into_view_if_needed()
    traces = chart.locator("g.trace")
    assert traces.count() >= 2  # one trace per cluster
    target = next(i for i in range(traces.count()) if not first.startswith(f"{i}:"))  # a cluster not yet open
    for _ in range(4):  # a click landing while Plotly binds its handlers selects nothing: click again
        dot = traces.nth(target).locator("path.point").first.bounding_box()
        page.mouse.click(dot["x"] + dot["width"] / 2, dot["y"] + dot["height"] / 2)
        try:
            page.get_by_text(f"mean heatmap of cluster {target} ", exact=False).wait_for(timeout=20_000)
            break
        except pytest.importorskip("playwright.sync_api").TimeoutError:
            continue
    assert cluster_box.locator("input").input_value().startswith(f"{target}:")
    assert page.locator("text=error id").count() == 0
    _shot(page, "manager_atlas_cluster.png", tmp_path)
    page.close()
