"""Upload -> all-class heatmaps on screen, in headless Chromium, for 1-4 MP photos (median of several uploads).

Usage: ``python bench/browser_latency.py`` (needs Debian's chromium; ``make test`` installs it).
Each photo is the bundled portrait rescaled to the target size with a different 1-pixel mark, so no cache hits.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.browser._server import CHROMIUM_FLAGS, ROOT, chromium_path, dashboard_server  # noqa: E402

CAPTION = "text=/^(angry|disgust|fear|happy|sad|surprise|neutral) · \\d+%$/"


def make_photos(folder: Path, megapixels=(1.0, 2.0, 3.0, 4.0), repeats: int = 2) -> list[Path]:
    base = cv2.imread(str(ROOT / "assets" / "samples" / "astronaut_eileen_collins.png"))
    paths = []
    for r in range(repeats):
        for mp in megapixels:
            side = int((mp * 1e6) ** 0.5)
            img = cv2.resize(base, (side, side), interpolation=cv2.INTER_CUBIC)
            img[r, len(paths)] = (r * 37) % 255  # unique content -> unique hash
            path = folder / f"portrait_{mp:.0f}mp_{r}.jpg"
            cv2.imwrite(str(path), img, [cv2.IMWRITE_JPEG_QUALITY, 90])
            paths.append(path)
    return paths


def main() -> dict:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, dashboard_server() as url, sync_playwright() as p:
        photos = make_photos(Path(tmp))
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1600})
        page.goto(url)
        page.wait_for_selector("text=Face 1", timeout=120_000)  # models and explainer loaded (warm start)
        times = {}
        for photo in photos:
            page.goto(url)  # a fresh page per photo: each upload measured alone, as a user with one photo sees it
            page.wait_for_selector("text=Face 1", timeout=60_000)
            page.get_by_text("Upload photos").click()
            captions = page.locator(CAPTION)
            clear_deadline = time.perf_counter() + 20
            while captions.count() and time.perf_counter() < clear_deadline:
                time.sleep(0.05)
            start = time.perf_counter()
            page.locator("input[type=file]").set_input_files(str(photo))
            deadline = start + 60
            while captions.count() < 7 and time.perf_counter() < deadline:
                time.sleep(0.02)
            page.wait_for_function("Array.from(document.images).every(im => im.complete)", timeout=30_000)
            times[photo.name] = round(time.perf_counter() - start, 3)
        browser.close()
    return {
        "upload_to_heatmaps_s": times,
        "median_s": statistics.median(times.values()),
        "photo_sizes_mp": [1, 2, 3, 4],
    }


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
