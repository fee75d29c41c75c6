"""No input ends in a traceback: a seeded sample of the odd-file corpus through the CLI and the dashboard's own upload
path (the Heatmaps page in AppTest), each file answered with its result or a clear message. ``bench/fuzz_uploads.py``
runs the whole corpus with hang and memory figures."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.components.text import md
from fer_core.cli import main
from tests.fuzz.corpus import FuzzCase, corpus, sample

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "dashboard" / "app.py")
SAMPLE = sample(70, seed=15)
HAND_MADE = [c for c in corpus(0) if c.family in ("size", "unsupported", "header", "exif", "name", "polyglot")]


def _reject_nan(token: str) -> float:
    raise ValueError(f"{token} in JSON output")


def run_cli(path: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(["explain", str(path), "--json"])
    return rc, out.getvalue(), err.getvalue()


@pytest.mark.timeout(600)
def test_the_corpus_is_large_varied_and_seeded():
    every = corpus(0)
    assert len(every) >= 1000
    assert {c.family for c in every} >= {
        "valid",
        "size",
        "unsupported",
        "truncated",
        "bitflip",
        "random",
        "header",
        "polyglot",
        "exif",
        "name",
    }
    assert [c.data for c in sample(20, seed=3)] == [c.data for c in sample(20, seed=3)]


@pytest.mark.timeout(900)
@pytest.mark.parametrize("cases", [pytest.param(HAND_MADE, id="hand-made"), pytest.param(SAMPLE, id="sample")])
def test_cli_answers_every_odd_file_with_json_or_one_clear_line(tmp_path, cases: list[FuzzCase]):
    for i, case in enumerate(cases):
        path = tmp_path / f"{i:03d}{Path(case.name).suffix[:6]}"
        path.write_bytes(case.data)
        rc, out, err = run_cli(path)  # an exception escaping main() fails the test with its traceback
        assert "Traceback" not in out + err, case.name
        if rc == 0:
            faces = json.loads(out, parse_constant=_reject_nan)["faces"]
            assert faces and all(sum(f["probs"].values()) == pytest.approx(1, abs=1e-4) for f in faces), case.name
        else:
            lines = err.strip().splitlines()
            assert rc == 2 and len(lines) == 1 and lines[0].startswith("error: ") and len(lines[0]) > 20, (
                case.family,
                case.name,
                err,
            )


def _messages(at: AppTest) -> list[str]:
    return [e.value for e in (*at.error, *at.warning)]


DASHBOARD_CASES = [*SAMPLE, *[c for c in HAND_MADE if c.family in ("size", "unsupported", "name", "exif")]]


@pytest.mark.timeout(900)
@pytest.mark.parametrize(
    "page, key, cases",
    [
        pytest.param(None, "explain", DASHBOARD_CASES, id="heatmaps"),
        pytest.param("views/occlusion.py", "occlusion", DASHBOARD_CASES[::6], id="occlusion"),
        pytest.param("views/action_units.py", "au", DASHBOARD_CASES[1::9], id="action-units"),
    ],
)
def test_dashboard_upload_path_never_shows_a_traceback(page, key, cases):
    """Every file uploaded on a photo page gets its own result or its own message naming it; the page never
    raises. Batches of uploads, as a user drops several files at once."""
    at = AppTest.from_file(APP, default_timeout=300).run()
    if page:
        at.switch_page(page).run()
    at.radio(key=f"{key}_source").set_value("Upload photos").run()
    for start in range(0, len(cases), 25):
        batch = cases[start : start + 25]
        names = [f"{start + i:03d}_{c.name}" for i, c in enumerate(batch)]
        at.file_uploader(key=f"{key}_upload").set_value(
            [(n, c.data, "application/octet-stream") for n, c in zip(names, batch)]
        ).run()
        assert not at.exception, [e.value for e in at.exception]
        shown = [h.value for h in at.subheader]
        messages = _messages(at)
        for name, case in zip(names, batch):
            ok = md(name) in shown
            told = [m for m in messages if m.startswith(f"**{md(name)}**")]
            assert ok + len(told) == 1, (case.family, name, told)
            assert not any("Traceback" in m or "/work/" in m or "site-packages" in m for m in told), told
