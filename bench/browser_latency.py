"""What a browser user waits for, in headless Chromium, and where the time goes.

Usage: ``python bench/browser_latency.py [--repeats N]`` (needs Debian's chromium; ``make test`` installs it).

- **cold start**: ``fer-dashboard`` from a fresh process: seconds until the server answers, until the start-up
  warm-up says the landing page is ready, and the first page load (navigation to the sample's 7 heatmaps on
  screen, images decoded).
- **upload -> heatmaps**: a fresh page per photo, upload, until every heatmap is on screen, for 1-4 MP photos
  with one face and with two (the portrait twice, side by side). Each photo carries a unique 1-pixel mark, so no
  cache hit. Median per kind, with the sidebar's face landmarks on the 468-point mesh (the default where it runs)
  and on 5 points (``<faces>_face_<landmarker>``).
- **server share**: the same photos through the pipeline the page runs, in this process (decode, detection and
  alignment, all-class LRP, the faithfulness curves beside each face, the 7 overlays the page draws), so the
  browser's share (transfer, the websocket, image decode and layout) is the rest.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.browser._server import CHROMIUM_FLAGS, ROOT, chromium_path, dashboard_server, free_port  # noqa: E402

CAPTION = "text=/^(angry|disgust|fear|happy|sad|surprise|neutral) · \\d+%$/"
PORTRAIT = ROOT / "assets" / "samples" / "astronaut_eileen_collins.png"
MEGAPIXELS = (1.0, 2.0, 4.0)


def make_photos(folder: Path, faces: int, repeats: int) -> list[Path]:
    """``faces`` portraits side by side, rescaled to each target size, each with its own mark."""
    folder.mkdir(parents=True, exist_ok=True)
    base = cv2.imread(str(PORTRAIT))
    strip = np.concatenate([base] * faces, axis=1)
    paths = []
    for r in range(repeats):
        for mp in MEGAPIXELS:
            h = int((mp * 1e6 / faces) ** 0.5)
            img = cv2.resize(strip, (h * faces, h), interpolation=cv2.INTER_CUBIC)
            img[r, len(paths) + 100 * faces] = (r * 37 + faces) % 255  # unique content -> unique hash
            path = folder / f"portrait_{faces}face_{mp:.0f}mp_{r}.jpg"
            cv2.imwrite(str(path), img, [cv2.IMWRITE_JPEG_QUALITY, 90])
            paths.append(path)
    return paths


def heatmaps_on_screen(page, count: int, timeout_s: float = 120.0) -> None:
    deadline = time.perf_counter() + timeout_s
    captions = page.locator(CAPTION)
    while captions.count() < count and time.perf_counter() < deadline:
        time.sleep(0.02)
    page.wait_for_function("Array.from(document.images).every(im => im.complete)", timeout=60_000)


def cold_start(browser) -> dict:
    """A fresh ``fer-dashboard`` process: server up, warm-up done, first page drawn."""
    port = free_port()
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "dashboard.launch", "--server.headless", "true", "--server.port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://localhost:{port}"
    try:
        up = None
        while up is None:
            try:
                urllib.request.urlopen(url + "/_stcore/health", timeout=1)
                up = time.perf_counter() - start
            except OSError:
                time.sleep(0.1)
        for line in proc.stdout:
            if line.startswith(("Ready", "Warm-up skipped")):
                break
        ready = time.perf_counter() - start
        page = browser.new_page(viewport={"width": 1400, "height": 1600})
        t = time.perf_counter()
        page.goto(url)
        heatmaps_on_screen(page, 7)
        first = time.perf_counter() - t
        page.close()
    finally:
        proc.terminate()
        proc.wait(10)
    return {"server_up_s": round(up, 2), "warm_s": round(ready, 2), "first_page_s": round(first, 2)}


def choose_landmarker(page, landmarker: str) -> None:
    """Pick the sidebar's face landmarks (its first option, the mesh, is already chosen on a fresh page)."""
    from dashboard._resources import LANDMARKER_NAMES

    box = page.locator("[data-testid=stSidebar] [data-testid=stSelectbox]").filter(has_text="Face landmarks")
    if LANDMARKER_NAMES[landmarker] in box.inner_text():
        return
    box.click()
    page.get_by_role("option", name=LANDMARKER_NAMES[landmarker]).click()
    page.wait_for_timeout(300)
    heatmaps_on_screen(page, 7)


def upload_times(browser, url: str, photos: list[Path], faces: int, landmarker: str) -> dict[str, float]:
    times = {}
    for photo in photos:
        page = browser.new_page(viewport={"width": 1400, "height": 1600})
        page.goto(url)  # a fresh page per photo: each upload measured alone, as a user with one photo sees it
        heatmaps_on_screen(page, 7)
        choose_landmarker(page, landmarker)
        page.get_by_text("Upload photos").click()
        page.get_by_text("Face photos").wait_for(timeout=30_000)
        start = time.perf_counter()
        page.locator("input[type=file]").set_input_files(str(photo))
        page.get_by_text(photo.name).first.wait_for(timeout=60_000)
        page.get_by_text(f"Face {faces}:").first.wait_for(timeout=60_000)
        heatmaps_on_screen(page, 7 * faces)
        times[photo.name] = round(time.perf_counter() - start, 3)
        page.close()
    return times


def server_share(photos: list[Path], landmarker: str) -> dict[str, float]:
    """Median seconds of each step the page's server side runs for these photos (in this process, warm)."""
    from fer_core.explain import create_explainer, overlay
    from fer_core.face import default_detector, find_faces, load_image
    from fer_core.models import DEFAULT_MODEL, load_model
    from fer_core.workflows import explain_faces, face_faithfulness

    loaded = load_model(DEFAULT_MODEL)
    explainer = create_explainer("lrp", loaded.model, loaded.card)
    detector = default_detector()
    steps: dict[str, list[float]] = {
        "decode": [],
        "detect_align": [],
        "lrp_all_classes": [],
        "faithfulness_curves": [],
        "overlays": [],
    }
    for photo in [photos[0], *photos]:  # the first one again at the start: a warm-up, dropped below
        data = photo.read_bytes()
        t0 = time.perf_counter()
        image = load_image(data)
        t1 = time.perf_counter()
        faces = find_faces(image, loaded.card.input_size, loaded.card.alignment, detector, landmarker=landmarker)
        t2 = time.perf_counter()
        results = explain_faces(loaded, faces, "lrp", explainer)
        t3 = time.perf_counter()
        for r in results:
            for heat in r.heatmaps:
                cv2.imencode(".png", overlay(r.face.crop, heat, size=192))
        t4 = time.perf_counter()
        for r in results:
            face_faithfulness(loaded, r)
        t5 = time.perf_counter()
        for key, value in zip(steps, (t1 - t0, t2 - t1, t3 - t2, t5 - t4, t4 - t3)):
            steps[key].append(value)
    return {k: round(statistics.median(v[1:]), 3) for k, v in steps.items()}


def main(repeats: int) -> dict:
    from playwright.sync_api import sync_playwright

    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        out["cold_start"] = cold_start(browser)
        with dashboard_server(warm=True) as url:
            for faces, landmarker in ((1, "mesh468"), (1, "mtcnn5"), (2, "mesh468"), (2, "mtcnn5")):
                photos = make_photos(Path(tmp) / landmarker, faces, repeats)
                times = upload_times(browser, url, photos, faces, landmarker)
                server = server_share(photos, landmarker)
                median = statistics.median(times.values())
                out[f"{faces}_face_{landmarker}"] = {
                    "upload_to_heatmaps_s": times,
                    "median_s": median,
                    "server_s": server,
                    "browser_and_transfer_s": round(median - sum(server.values()), 3),
                }
        browser.close()
    out["photo_sizes_mp"] = list(MEGAPIXELS)
    out["goal_one_face_median_s"] = 0.5
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2, help="photos per size and face count")
    print(json.dumps(main(parser.parse_args().repeats), indent=2))
