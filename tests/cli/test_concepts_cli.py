"""``fer-core concepts`` and ``fer-core atlas``: JSON that agrees with the Python functions, the files of --out, and
one clear line for a wrong layer, class or model."""

from __future__ import annotations

import json

import pytest

from fer_core.explain import create_explainer, top_concepts
from fer_core.face import find_faces, load_image
from fer_core.models import DEFAULT_MODEL, load_model
from fer_core.models.preprocess import to_model_input
from fer_core.runs import EMBEDDED_RUNS_DIR
from tests._cli import run_cli

PORTRAIT = "assets/samples/astronaut_eileen_collins.png"


def test_concepts_json_equals_top_concepts_and_writes_the_grid(tmp_path):
    done = run_cli("concepts", PORTRAIT, "--class", "surprise", "--top", "5", "--json", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    face = json.loads(done.stdout)["faces"][0]
    loaded = load_model(DEFAULT_MODEL)
    crop = find_faces(load_image(PORTRAIT), loaded.card.input_size, loaded.card.alignment)[0].crop
    explainer = create_explainer("lrp", loaded.model, loaded.card)
    truth = top_concepts(
        explainer, to_model_input([crop], loaded.card), loaded.card.label_names.index("surprise"), top=5
    )
    assert face["class"] == "surprise" and face["pred"] == "happy" and face["layer"] == "1.3"
    assert [c["channel"] for c in face["concepts"]] == truth.concepts
    assert [c["share"] for c in face["concepts"]] == pytest.approx(truth.share, abs=1e-6)
    png = tmp_path / "astronaut_eileen_collins_face0_surprise_concepts_1.3.png"
    assert png.is_file() and face["concepts_png"] == str(png)
    assert load_image(png).shape[1] == 6 * 160  # the face and five concepts


def test_concepts_lists_layers_and_refuses_wrong_names_in_one_line():
    listed = run_cli("concepts", PORTRAIT, "--layers", "--json")
    assert [la["name"] for la in json.loads(listed.stdout)["layers"]] == ["0.0", "0.2", "1.0", "1.1", "1.2", "1.3"]
    bad = run_cli("concepts", PORTRAIT, "--layer", "9.9")
    assert bad.returncode == 2 and bad.stderr.strip() == (
        "error: no concept layer '9.9'; choose from 0.0, 0.2, 1.0, 1.1, 1.2, 1.3"
    )
    bad = run_cli("concepts", PORTRAIT, "--class", "calm")
    assert bad.returncode == 2 and "'calm' is not one of the model's classes" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_atlas_of_a_run_writes_its_clusters_concepts_and_references(tmp_path):
    run = str(EMBEDDED_RUNS_DIR / "synthfacs_bias_supervised")
    done = run_cli(
        "atlas",
        run,
        "--class",
        "happy",
        "--group-by",
        "age",
        "--limit",
        "300",
        "--references",
        "3",
        "--json",
        "--out",
        str(tmp_path),
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    sizes = [c["size"] for c in out["clusters"]]
    assert 2 <= len(sizes) <= 8 and sum(sizes) == out["n_faces"] >= 10
    assert all(set(c["groups"]) == {"age"} for c in out["clusters"])
    assert len(out["top_concepts"]) == 8 and out["layer"] == "1.3"
    names = {p.name for p in tmp_path.iterdir()}
    assert {"atlas.json", "faces.csv"} <= names
    assert {f"cluster{c['id']}_mean_heatmap.png" for c in out["clusters"]} <= names
    assert {f"concept{t['channel']}_references.png" for t in out["top_concepts"]} <= names
    assert load_image(tmp_path / f"concept{out['top_concepts'][0]['channel']}_references.png").shape == (96, 3 * 96, 3)
    bad = run_cli("atlas", run, "--class", "happy", "--group-by", "nope")
    assert bad.returncode == 2 and "has no column(s) ['nope']" in bad.stderr
