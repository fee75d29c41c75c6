"""``fer-dashboard``: start Streamlit on the app with the project's config (localhost, XSRF on, upload limit).

Port 8501 when it is free, else the next free one (a second app on 8501 must not stop a demo); the URL is printed
before Streamlit starts. ``fer-dashboard --server.port N`` chooses it yourself. The landing page's sample is
computed while the server starts (:mod:`dashboard.warmup`); a "Ready" line says when the first page is instant.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

DEFAULT_PORT = 8501
PORTS_TRIED = 100


def port_is_free(port: int, host: str = "localhost") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def choose_port(start: int = DEFAULT_PORT, tries: int = PORTS_TRIED) -> int:
    """The first free port from ``start`` on (OSError when none of ``tries`` is free)."""
    for port in range(start, start + tries):
        if port_is_free(port):
            return port
    raise OSError(f"no free port between {start} and {start + tries - 1}; pass --server.port N")


def main() -> None:
    root = Path(__file__).resolve().parents[1]
    os.chdir(root)  # Streamlit reads .streamlit/config.toml from the working directory
    from streamlit.web import cli as stcli

    args = sys.argv[1:]
    if not any(a.startswith("--server.port") for a in args):
        port = choose_port()
        if port != DEFAULT_PORT:
            print(f"port {DEFAULT_PORT} is taken; using {port}", flush=True)
        print(f"Dashboard: http://localhost:{port}", flush=True)
        args = ["--server.port", str(port), *args]
    sys.argv = ["streamlit", "run", str(root / "dashboard" / "app.py"), *args]
    if os.environ.get("FER_DASHBOARD_WARMUP", "1") != "0":
        from dashboard.warmup import start_warmup

        start_warmup(lambda line: print(line, flush=True))
    sys.exit(stcli.main())


if __name__ == "__main__":
    main()
