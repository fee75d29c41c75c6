"""Start the real dashboard on a free localhost port and drive it with Playwright in Debian's Chromium."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from dashboard.warmup import READY, SKIPPED

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def dashboard_server(timeout: float = 90.0, warm: bool = False, env: dict | None = None):
    """Yield the base URL of a freshly started dashboard, started as users start it (``fer-dashboard``); stop it
    afterwards. ``warm``: also wait until the start-up warm-up says the landing page is ready."""
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "dashboard.launch",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
    ]
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=os.environ | {"PYTHONUNBUFFERED": "1"} | (env or {}),
    )
    log: list[str] = []
    ready = threading.Event()

    def read_log() -> None:  # drained all along: a full pipe would stop the server
        for line in proc.stdout:
            log.append(line)
            if line.startswith((READY, SKIPPED)):
                ready.set()

    threading.Thread(target=read_log, daemon=True).start()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                urllib.request.urlopen(url + "/_stcore/health", timeout=2)
                break
            except OSError:
                if proc.poll() is not None:
                    time.sleep(0.5)  # the reader thread collects the last lines
                    raise RuntimeError("dashboard exited: " + "".join(log)) from None
                time.sleep(0.5)
        else:
            raise TimeoutError("dashboard did not become healthy")
        if warm and not ready.wait(max(1.0, deadline - time.time())):
            raise TimeoutError("the landing page's warm-up did not finish: " + "".join(log))
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
