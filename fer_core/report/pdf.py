"""HTML -> PDF with an offline renderer: headless Chromium when one is installed, else a clear error.

The HTML is written to a private temporary folder (Chromium reads files, and a report of a few MB is too long for
a command line) together with Chromium's throw-away profile; the folder is removed when the PDF is read back, so
nothing but the requested PDF stays on disk. Network access is blocked: the report needs none.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from .inputs import ReportError

__all__ = ["MSG_NO_RENDERER", "PdfRendererNotFoundError", "find_pdf_renderer", "html_to_pdf"]

RENDERERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
MSG_NO_RENDERER = (
    "no offline PDF renderer found (looked for {names} on PATH). Install Chromium (e.g. `apt-get "
    "install chromium`), or open the HTML report in a browser and print it to PDF"
)
MSG_FAILED = "Chromium did not write a PDF (exit code {code}): {detail}"
MSG_TIMEOUT = (
    "Chromium took longer than {timeout:.0f} s to print the report; try again, or print the HTML from a browser"
)
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=127.0.0.1:9",
    "--no-pdf-header-footer",
    "--run-all-compositor-stages-before-draw",
)


class PdfRendererNotFoundError(ReportError):
    """No offline HTML-to-PDF renderer (Chromium) is installed."""


def find_pdf_renderer() -> str | None:
    """Path of a Chromium executable on PATH, or None."""
    return next((found for name in RENDERERS if (found := shutil.which(name))), None)


def html_to_pdf(html: str, out: str | Path | None = None, timeout: float = 120.0) -> bytes:
    """Print ``html`` to PDF with headless Chromium; returns the PDF bytes and writes them to ``out`` if given.

    Parameters
    ----------
    html
        A self-contained HTML page: Chromium runs with the network blocked, so external resources don't load.
    out
        Where to write the PDF too; None only returns it.
    timeout
        Seconds Chromium may take before it is killed.

    Returns
    -------
    bytes
        The PDF file.

    Raises
    ------
    PdfRendererNotFoundError
        If no Chromium is installed.
    ReportError
        If Chromium fails or exceeds ``timeout`` seconds.
    """
    exe = find_pdf_renderer()
    if exe is None:
        raise PdfRendererNotFoundError(MSG_NO_RENDERER.format(names=", ".join(RENDERERS)))
    with tempfile.TemporaryDirectory(prefix="fer_report_") as tmp:
        src, pdf = Path(tmp) / "report.html", Path(tmp) / "report.pdf"
        src.write_text(html, encoding="utf-8")
        cmd = [exe, *FLAGS, f"--user-data-dir={Path(tmp) / 'profile'}", f"--print-to-pdf={pdf}", src.as_uri()]
        proc = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, start_new_session=True
        )
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # Chromium's own helper processes too (its session only)
            proc.communicate()
            raise ReportError(MSG_TIMEOUT.format(timeout=timeout)) from None
        data = pdf.read_bytes() if pdf.is_file() else b""
    if not data.startswith(b"%PDF"):
        detail = err.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise ReportError(MSG_FAILED.format(code=proc.returncode, detail=detail[0]))
    if out is not None:
        Path(out).write_bytes(data)
    return data
