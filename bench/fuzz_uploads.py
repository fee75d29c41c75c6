"""Every file of the odd-image corpus (tests/fuzz/corpus.py, over 1,000) through the two upload paths, with the
figure the hardening issue asks for: tried / clear / traceback / hang / peak memory.

- CLI: ``fer-core explain FILE --json`` in worker processes, one case at a time with a time limit (a case that
  exceeds it is a hang and its worker is replaced). Clear = JSON with finite numbers, or exit 2 with one
  ``error: ...`` line. Peak memory per case is the worker's resident-set peak, reset before each case.
- Dashboard: the Heatmaps page in Streamlit's AppTest, the files uploaded 25 at a time. Clear = each file shows
  its result or one message naming it, and the page raises nothing.

    python bench/fuzz_uploads.py [--limit N] [--timeout S] [--workers K] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import multiprocessing as mp
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _rss_peak_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _reset_peak() -> None:
    with contextlib.suppress(OSError):
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")  # resets VmHWM to the current resident set (Linux >= 4.0)


def _cli_case(path: str) -> dict:
    """One CLI run inside a worker: its verdict and the memory it took above the worker's resting size."""
    from fer_core.cli import main

    _reset_peak()
    base = _rss_peak_mb()
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = main(["explain", path, "--json"])
        if rc == 0:
            json.loads(out.getvalue(), parse_constant=lambda t: (_ for _ in ()).throw(ValueError(t)))
            verdict = "clear"
        else:
            lines = err.getvalue().strip().splitlines()
            verdict = "clear" if len(lines) == 1 and lines[0].startswith("error: ") else "unclear"
    except BaseException as exc:  # noqa: BLE001 - this is what the bench counts
        verdict, rc = "traceback", repr(exc)[:200]
    return {"verdict": verdict, "rc": rc, "peak_mb": max(0.0, _rss_peak_mb() - base)}


def _warm() -> None:
    from fer_core.models import load_model

    load_model("fer2013_mini_xception")


def run_cli(cases, timeout: float, workers: int) -> list[dict]:
    ctx = mp.get_context("spawn")
    tmp = Path(tempfile.mkdtemp(prefix="fer_fuzz_"))
    paths = []
    for i, case in enumerate(cases):
        path = tmp / f"{i:04d}{Path(case.name).suffix[:8]}"
        path.write_bytes(case.data)
        paths.append(str(path))
    results: list[dict | None] = [None] * len(cases)
    pending = list(range(len(cases)))
    while pending:
        with ctx.Pool(workers, initializer=_warm, maxtasksperchild=200) as pool:
            jobs = [(i, pool.apply_async(_cli_case, (paths[i],))) for i in pending]
            for i, job in jobs:  # in submission order: a case's wait starts when the one before it returned
                try:
                    results[i] = job.get(timeout=timeout)
                except mp.TimeoutError:
                    results[i] = {"verdict": "hang", "rc": None, "peak_mb": float("nan")}
                    break  # the pool holds a stuck worker: replace it, resubmit what is left
            pool.terminate()
        pending = [i for i in pending if results[i] is None]
    return [r | {"family": c.family, "name": c.name} for r, c in zip(results, cases)]


def run_dashboard(cases) -> list[dict]:
    from streamlit.testing.v1 import AppTest

    from dashboard.components.text import md

    at = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=600).run()
    at.radio(key="explain_source").set_value("Upload photos").run()
    out = []
    for start in range(0, len(cases), 25):
        batch = cases[start : start + 25]
        names = [f"{start + i:04d}_{c.name}" for i, c in enumerate(batch)]
        t = time.time()
        try:
            at.file_uploader(key="explain_upload").set_value(
                [(n, c.data, "application/octet-stream") for n, c in zip(names, batch)]
            ).run()
            raised = [e.value for e in at.exception]
        except Exception as exc:  # noqa: BLE001 - AppTest's own timeout: the batch hung
            raised = [f"hang: {exc}"]
        shown = {h.value for h in at.subheader}
        messages = [e.value for e in (*at.error, *at.warning)]
        for name, case in zip(names, batch):
            told = [m for m in messages if m.startswith(f"**{md(name)}**")]
            ok = (md(name) in shown) + len(told) == 1 and not any("Traceback" in m for m in told)
            verdict = "traceback" if raised else ("clear" if ok else "unclear")
            out.append(
                {
                    "family": case.family,
                    "name": case.name,
                    "verdict": verdict,
                    "seconds": (time.time() - t) / len(batch),
                }
            )
    return out


def _summary(rows: list[dict]) -> dict:
    counts = {k: sum(r["verdict"] == k for r in rows) for k in ("clear", "unclear", "traceback", "hang")}
    peaks = [r["peak_mb"] for r in rows if r.get("peak_mb") == r.get("peak_mb") and "peak_mb" in r]
    return {
        "tried": len(rows),
        **counts,
        "peak_mb_max": round(max(peaks), 1) if peaks else None,
        "peak_mb_median": round(sorted(peaks)[len(peaks) // 2], 1) if peaks else None,
        "worst": sorted((r for r in rows if "peak_mb" in r), key=lambda r: -(r["peak_mb"] or 0))[:3] if peaks else [],
        "not_clear": [(r["family"], r["name"], r["verdict"]) for r in rows if r["verdict"] != "clear"][:20],
    }


def main() -> int:
    from tests.fuzz.corpus import corpus, iter_families

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--limit", type=int, help="only the first N cases")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds before a CLI case counts as a hang")
    p.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    p.add_argument("--skip-dashboard", action="store_true")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    cases = corpus(0)[: args.limit]
    t0 = time.time()
    cli = _summary(run_cli(cases, args.timeout, args.workers))
    cli["seconds"] = round(time.time() - t0, 1)
    report = {"families": dict(iter_families(cases)), "cli": cli}
    if not args.skip_dashboard:
        t0 = time.time()
        report["dashboard"] = _summary(run_dashboard(cases)) | {"seconds": round(time.time() - t0, 1)}
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        print(f"{len(cases)} files: " + ", ".join(f"{k} {v}" for k, v in report["families"].items()))
        for path, r in (
            ("CLI (fer-core explain --json)", cli),
            ("dashboard upload (Heatmaps page)", report.get("dashboard")),
        ):
            if r is None:
                continue
            peak = (
                f"; peak memory per case: median {r['peak_mb_median']} MB, max {r['peak_mb_max']} MB"
                if r.get("peak_mb_max") is not None
                else ""
            )
            print(
                f"{path}: tried {r['tried']}, clear {r['clear']}, unclear {r['unclear']}, traceback "
                f"{r['traceback']}, hang {r['hang']}{peak} ({r['seconds']} s)"
            )
            for fam, name, verdict in r["not_clear"]:
                print(f"  {verdict}: {fam} {name}")
    bad = sum(r["unclear"] + r["traceback"] + r["hang"] for r in (cli, report.get("dashboard") or cli))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
