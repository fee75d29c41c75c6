"""``fer-core ARGS`` run inside the test process: the same ``main()``, its exit status, stdout and stderr, without the
start-up of a fresh interpreter for every call (that cost most of the CLI tests' time)."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    from fer_core.cli import main

    out, err = io.StringIO(), io.StringIO()
    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exc:  # argparse's own errors
                code = exc.code if isinstance(exc.code, int) else 2
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return subprocess.CompletedProcess(["fer-core", *args], code, out.getvalue(), err.getvalue())
