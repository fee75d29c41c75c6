"""Warm the landing page at start-up, so the first visitor sees the sample's heatmaps, not a spinner.

The Heatmaps page opens on the first bundled sample with the default model and LRP. Its model, detector, explainer,
heatmaps and faithfulness curves live in Streamlit's process-wide caches; computing them once, as soon as the server
runs, turns the first page load into cache hits. The warm-up runs beside the server (a thread), so the server is up
at once and a visitor who comes during the warm-up waits on the same computation, never a second one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

READY = "Ready"  # the start of the line printed when the sample is warm (the browser tests wait for it)
SKIPPED = "Warm-up skipped"  # ... or of the line that says why it did not run
THREAD = "fer-warmup"


class _WarmupThreadFilter(logging.Filter):
    """Drop Streamlit's "missing ScriptRunContext" notes from the warm-up thread: it has no page to draw on by
    design (the cached loaders' spinners are skipped there), so the note would only alarm whoever reads the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return threading.current_thread().name != THREAD


def warm_landing(device: str = "cpu") -> float:
    """Compute what the landing page shows (on ``device``); returns the seconds it took, imports included."""
    start = time.perf_counter()
    from dashboard import _resources as res
    from fer_core.models import DEFAULT_MODEL, resolve_device

    device = str(resolve_device(device))
    res.model_names()  # registers the runs' models, as the sidebar does first on every page
    first = next(iter(res.sample_files().values()))
    data = first.read_bytes()
    image_sha = res.sha(data)
    landmarker = res.landmarker_options()[0]  # what the sidebar starts on
    results = res.explain(image_sha, data, DEFAULT_MODEL, "lrp", device, landmarker=landmarker)
    for i in range(len(results)):
        res.faithfulness(image_sha, data, DEFAULT_MODEL, "lrp", i, device, landmarker)
    return time.perf_counter() - start


def _runtime_started(timeout: float) -> bool:
    from streamlit import runtime

    deadline = time.monotonic() + timeout
    while not runtime.exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def start_warmup(report: Callable[[str], None] = print, timeout: float = 120.0) -> threading.Thread:
    """Warm the landing page in a daemon thread once Streamlit's runtime exists (its caches are the ones the
    pages read); ``report`` gets one line when done, or why the warm-up was skipped (the app works either way)."""

    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(_WarmupThreadFilter())

    def run() -> None:
        if not _runtime_started(timeout):
            report(f"{SKIPPED}: the Streamlit server did not start")
            return
        try:
            seconds = warm_landing()
        except Exception as exc:  # noqa: BLE001 -- a failed warm-up only costs the first visitor time
            report(f"{SKIPPED}: {type(exc).__name__}: {exc}")
            return
        report(f"{READY}: the sample's heatmaps are warm ({seconds:.1f} s)")

    thread = threading.Thread(target=run, name=THREAD, daemon=True)
    thread.start()
    return thread
