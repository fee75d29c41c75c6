"""The stakeholder report: self-contained HTML whose numbers are those of the fer_core functions it reports on."""

from __future__ import annotations

import base64
import io
import re
import shutil
from dataclasses import replace
from html import escape
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fer_core._utils.bootstrap import cluster_ids
from fer_core.face import load_image
from fer_core.fairness.report import fairness_report
from fer_core.report import (
    DEFAULT_REGIONS,
    PdfRendererNotFoundError,
    ReportError,
    build_report,
    fairness_section,
    find_pdf_renderer,
    html_to_pdf,
    render_html,
)
from fer_core.runs import EMBEDDED_RUNS_DIR, open_run
from fer_core.workflows import face_faithfulness, occlude_image

ROOT = Path(__file__).resolve().parents[2]
PORTRAIT = ROOT / "assets" / "samples" / "astronaut_eileen_collins.png"
SYNTH = ROOT / "assets" / "synthfacs_sample" / "images"
RUN = "synthfacs_bias_supervised"
EVIL = "<script>alert(1)<script>.png"  # a user's file name ('/' cannot be in a file name)
FAITH_STEPS = 8  # short pixel-flipping curves keep the test fast; the numbers are compared at the same setting


class _Tags(HTMLParser):
    """Every start tag with its attributes, and the text of the whole page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


def _row_values(html: str, attr: str, value: str) -> list[float]:
    """The data-value numbers of the first table row with ``attr="value"``."""
    start = html.index(f'<tr {attr}="{value}"')
    row = html[start : html.index("</tr>", start)]
    return [float(v) for v in re.findall(r'data-value="([^"]+)"', row)]


@pytest.fixture(scope="module")
def faces_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("faces")
    shutil.copy(PORTRAIT, folder / PORTRAIT.name)
    shutil.copy(SYNTH / "000006.png", folder / EVIL)  # a real (SynthFACS) face under a hostile name
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    (folder / "notes.txt").write_text("not a photo")
    return folder


@pytest.fixture(scope="module")
def report(faces_dir):
    return build_report(faces_dir, "fer2013_mini_xception", RUN, faithfulness_steps=FAITH_STEPS, localisation_limit=12)


@pytest.fixture(scope="module")
def html(report) -> str:
    return render_html(report)


def test_html_is_self_contained_and_every_image_is_an_embedded_png(html):
    tags = _tags(html)
    for tag, attrs in tags:
        for key in ("src", "href", "srcset", "action", "poster", "data"):
            value = (attrs.get(key) or "").strip().lower()
            assert not value.startswith(("http:", "https:", "//")), (tag, key, value[:80])
    assert not re.search(r"(src|href)\s*=\s*[\"']?\s*https?://", html, re.I)
    assert not re.search(r"<script", html, re.I) and not re.search(r"<link\b", html, re.I)
    assert "@import" not in html and not re.search(r"url\(\s*['\"]?\s*https?:", html, re.I)
    images = [attrs["src"] for tag, attrs in tags if tag == "img"]
    assert len(images) >= 2 * 2 + 2  # a grid and a probability chart per face, plus the section charts
    for src in images:
        assert src.startswith("data:image/png;base64,")
        png = base64.b64decode(src.split(",", 1)[1], validate=True)
        assert png.startswith(b"\x89PNG\r\n\x1a\n")
        with Image.open(io.BytesIO(png)) as im:
            im.verify()  # a complete, valid PNG
        with Image.open(io.BytesIO(png)) as im:
            assert im.width >= 100 and im.height >= 50


def test_report_has_the_five_sections_a_header_and_a_summary_each(report, html):
    for anchor in ("model", "faces", "occlusion", "fairness", "faithfulness"):
        start = html.index(f'<section id="{anchor}"')
        assert '<p class="summary">' in html[start : html.index("</section>", start)]
    header = html[: html.index('<section id="model"')]
    assert report.created.strftime("%d %B %Y") in header
    assert "fer2013_mini_xception" in header and RUN in header
    card = report.card
    for text in (card.arch, card.licence, card.origin, card.template, "64 × 64 px, grey", "FER2013"):
        assert escape(text) in html
    assert "planted bias: age = older → sad" in html  # the run's config summary


def test_inputs_the_report_cannot_use_are_listed_and_skipped(report):
    assert [f.source for f in report.faces] == sorted([PORTRAIT.name, EVIL])
    reasons = {s.name: s.reason for s in report.skipped}
    assert set(reasons) == {"broken.jpg", "notes.txt"}
    assert reasons["broken.jpg"].startswith("unreadable") and "not an image file type" in reasons["notes.txt"]


def test_a_hostile_file_name_is_escaped(html):
    assert EVIL not in html and "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;script&gt;.png" in html


def test_occlusion_table_equals_occlude_image_on_the_same_photos(report, html, faces_dir, fer_model):
    direct_changes = []
    for i, face in enumerate(report.faces):
        direct = occlude_image(load_image(faces_dir / face.source), fer_model, DEFAULT_REGIONS, "mean")[0].to_json()
        pred = max(direct["base"], key=direct["base"].get)
        change = [direct["occluded"][r][pred] - direct["base"][pred] for r in DEFAULT_REGIONS]
        assert face.occlusion == direct
        # the table row: probability intact, then the change per region, exact values in data-value
        assert _row_values(html, "data-face", str(i))[: 1 + len(DEFAULT_REGIONS)] == [direct["base"][pred], *change]
        direct_changes.append(change)
    mean = _row_values(html, "data-face", "mean")
    np.testing.assert_allclose(mean, np.mean(direct_changes, 0), rtol=0, atol=1e-12)
    portrait = next(f for f in report.faces if f.source == PORTRAIT.name)
    assert portrait.pred == "happy" and portrait.occlusion_change()["mouth"] < -0.3  # a smile without a mouth
    assert "fill <b>mean</b>" in html


def _assert_close(a, b, path="") -> None:
    """Equal structure and values; floats to 1e-6 relative (float32 MMD sums round differently by thread count)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), path
        for k in a:
            _assert_close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_close(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert a == pytest.approx(b, rel=1e-6, abs=1e-12, nan_ok=True), path
    else:
        assert a == b, path


def test_fairness_figures_equal_fer_core_fairness_on_the_runs_test_predictions(report, html):
    run = open_run(EMBEDDED_RUNS_DIR / RUN)
    preds, emb = run.predictions(), run.embeddings()
    labels = [c[2:] for c in preds.columns if c.startswith("p_")]
    truth = fairness_report(preds["target"], preds["pred"], labels, preds[["gender"]], emb, seed=0)["attributes"][
        "gender"
    ]
    assert report.fairness.attributes == ["age", "skin_tone", "gender"]
    _assert_close(report.fairness.report["attributes"]["gender"], truth)  # MMD sums round by thread count
    for group, m in truth["by_group"].items():
        assert _row_values(html, "data-group", group) == [m["n"], m["accuracy"], m["macro_f1"]]
    (pair,) = truth["mmd"]["pairs"]
    _assert_close(
        [float(v) for v in _row_values(html, "data-pair", f"{pair['a']}|{pair['b']}")],
        [float(pair["n_a"]), float(pair["n_b"]), float(pair["mmd2"]), float(pair["p_value"])],
    )


def test_fairness_is_computed_from_the_predictions_when_the_run_has_no_evaluation(tmp_path):
    """A copy of the shipped run without evaluation.json and embeddings: the report computes the figures itself."""
    folder = tmp_path / RUN
    shutil.copytree(
        EMBEDDED_RUNS_DIR / RUN,
        folder,
        ignore=shutil.ignore_patterns("evaluation.json", "test_embeddings.npy", "model.safetensors"),
    )
    preds = open_run(folder).predictions()
    labels = [c[2:] for c in preds.columns if c.startswith("p_")]
    clusters, kind = cluster_ids(preds)  # intervals resample source images (subjects when the run recorded them)
    truth = fairness_report(
        preds["target"],
        preds["pred"],
        labels,
        preds[["age", "skin_tone", "gender"]],
        None,
        seed=0,
        clusters=clusters,
        cluster_kind=kind,
    )
    section = fairness_section(open_run(folder))
    assert section.source == "computed" and section.report == truth
    assert "mmd" not in section.report["attributes"]["age"]  # no embeddings, so no MMD (and no made-up numbers)


def test_faithfulness_figures_are_face_faithfulness_and_the_planted_truth_beats_random(report, html, fer_model):
    face = report.faces[0]
    direct = face_faithfulness(fer_model, face.result, steps=FAITH_STEPS)
    assert face.faithfulness["aopc"] == direct["aopc"]
    start = html.index('<section id="faithfulness"')
    values = _row_values(html[start:], "data-face", "0")
    assert values == [direct["aopc"][k] for k in ("most relevant first", "random order", "least relevant first")]
    loc = report.localisation.result
    rows = {m["method"]: m for m in loc["methods"]}
    assert 0 < loc["n_faces"] <= 12 and set(rows) == {"lrp", "random"}
    assert rows["lrp"]["mass_accuracy"] > rows["random"]["mass_accuracy"]  # LRP finds the evidence SynthFACS drew
    assert abs(rows["random"]["mass_accuracy"] - loc["mask_share"]) < 0.1  # a random map scores the mask's share


def test_without_a_run_the_report_says_no_labelled_test_set_was_given(report):
    page = render_html(replace(report, run=None, fairness=None, localisation=None, notes=[]))
    start = page.index('<section id="fairness"')
    assert "No labelled test set was given" in page[start : page.index("</section>", start)]
    assert "data-group=" not in page and "Run</dt><dd>none" in page


def test_max_faces_caps_the_faces_and_lists_the_rest(faces_dir):
    data = build_report(faces_dir, max_faces=1, faithfulness_steps=2)
    assert len(data.faces) == 1 and data.run is None and data.fairness is None
    assert any(s.name == PORTRAIT.name and "at most 1 faces" in s.reason for s in data.skipped)


def test_bad_folders_give_clear_errors(tmp_path):
    with pytest.raises(ReportError, match="does not exist"):
        build_report(tmp_path / "missing")
    with pytest.raises(ReportError, match="no image files"):
        build_report(tmp_path)
    Image.new("RGB", (320, 320), (128, 128, 128)).save(tmp_path / "wall.png")
    (tmp_path / "holiday.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(ReportError, match="no usable face in any of the 2 image") as err:
        build_report(tmp_path)
    assert "wall.png: no face found" in str(err.value) and "holiday.jpg: unreadable" in str(err.value)
    with pytest.raises(ReportError, match="unknown run 'nope'"):
        build_report(tmp_path, run="nope")


def test_cli_reports_bad_input_without_a_traceback(tmp_path, capsys):
    from fer_core.cli import main

    out = tmp_path / "r.html"
    assert main(["report", "--images", str(tmp_path / "missing"), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: image folder") and "Traceback" not in err and not out.exists()


def test_pdf_is_printed_by_chromium(html, tmp_path):
    if find_pdf_renderer() is None:
        pytest.skip("no offline PDF renderer: chromium is not on PATH")
    out = tmp_path / "report.pdf"
    data = html_to_pdf(html, out)
    assert data.startswith(b"%PDF") and len(data) > 50_000 and out.read_bytes() == data
    assert len(re.findall(rb"/Type\s*/Page\b", data)) >= 5  # a page per section at least


def test_no_pdf_renderer_is_a_clear_error(monkeypatch):
    monkeypatch.setattr("fer_core.report.pdf.shutil.which", lambda name: None)
    with pytest.raises(PdfRendererNotFoundError, match="no offline PDF renderer found"):
        html_to_pdf("<p>x</p>")


def test_the_run_follows_from_a_runs_model_and_the_model_from_the_run():
    from fer_core.report import resolve_model, resolve_run

    run = resolve_run(None, f"run:{RUN}")
    assert run is not None and run.name == RUN
    assert resolve_run(None, "fer2013_mini_xception") is None
    assert resolve_run(str(EMBEDDED_RUNS_DIR / RUN)).folder == EMBEDDED_RUNS_DIR / RUN
    loaded = resolve_model(None, run)  # no --model: the run's own weights, named as in the dashboard's picker
    assert loaded.name == f"run:{RUN}" and loaded.card.extra["run"] == RUN
