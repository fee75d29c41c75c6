"""The CLI contract: names, JSON keys, exit codes and messages that scripts rely on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests._cli import run_cli

ROOT = Path(__file__).resolve().parents[2]
PORTRAIT = ROOT / "assets" / "samples" / "astronaut_eileen_collins.png"


def run(*args: str) -> subprocess.CompletedProcess:
    """In this process (tests/_cli.py); ``run_process`` runs the real entry point."""
    return run_cli(*args)


def run_process(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "fer_core.cli", *args], capture_output=True, text=True, cwd=ROOT, timeout=300
    )


def test_explain_json_contract(tmp_path):
    proc = run_process("explain", str(PORTRAIT), "--json", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["model"] == "fer2013_mini_xception" and len(out["faces"]) == 1
    face = out["faces"][0]
    assert {"box", "landmarks", "probs", "pred", "region_share"} <= set(face)
    assert len(face["box"]) == 4 and set(face["landmarks"]) == {
        "left_eye",
        "right_eye",
        "nose",
        "mouth_left",
        "mouth_right",
    }
    assert face["pred"] == "happy" and abs(sum(face["probs"].values()) - 1) < 1e-4
    assert {"eyes", "mouth", "brows", "nose"} <= set(face["region_share"])
    png = cv2.imread(face["heatmap_png"])
    assert png is not None and png.shape[1] > 7 * png.shape[0] / 2  # a row of 8 tiles


@pytest.mark.parametrize("method", ["ig", "saliency", "gradcam"])
def test_explain_other_methods(method):
    proc = run("explain", str(PORTRAIT), "--method", method, "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["faces"][0]["pred"] == "happy"


def test_occlude_json_contract():
    proc = run("occlude", str(PORTRAIT), "--regions", "eyes,mouth", "--fill", "blur", "--json")
    assert proc.returncode == 0, proc.stderr
    face = json.loads(proc.stdout)["faces"][0]
    assert set(face["occluded"]) == {"eyes", "mouth"} and set(face["base"]) == set(face["occluded"]["mouth"])
    assert face["occluded"]["mouth"]["happy"] < face["base"]["happy"]


def test_bad_inputs_exit_nonzero_with_a_message(tmp_path):
    bad = tmp_path / "notes.jpg"
    bad.write_text("this is not a jpeg")
    for args in (
        ["explain", str(bad)],
        ["occlude", str(PORTRAIT), "--regions", "ears"],
        ["explain", str(PORTRAIT), "--model", "nope"],
    ):
        proc = run(*args)
        assert proc.returncode == 2 and proc.stderr.startswith("error:") and "Traceback" not in proc.stderr
    noise = tmp_path / "noise.png"
    cv2.imwrite(str(noise), np.random.default_rng(0).integers(0, 255, (300, 300, 3), dtype=np.uint8))
    proc = run("explain", str(noise))
    assert proc.returncode == 2 and "no face found" in proc.stderr


def test_evaluate_counts_rows_without_faces(tmp_path, fer_model):
    img = cv2.imread(str(PORTRAIT))
    cv2.imwrite(str(tmp_path / "smile.png"), img)
    cv2.imwrite(str(tmp_path / "smile_small.png"), cv2.resize(img[66:162, 176:272], (48, 48)))
    cv2.imwrite(str(tmp_path / "noise.png"), np.random.default_rng(0).integers(0, 255, (300, 300, 3), dtype=np.uint8))
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff broken")
    (tmp_path / "m.csv").write_text(
        f"path,label\nsmile.png,happy\nsmile_small.png,sad\nnoise.png,sad\n{tmp_path / 'broken.jpg'},angry\n"
    )
    proc = run("evaluate", "--data", str(tmp_path / "m.csv"), "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["n"] == 4 and out["n_evaluated"] == 2 and out["faces_found"] == 0.5
    assert out["no_face"] == [str(tmp_path / "noise.png")] and len(out["unreadable"]) == 1
    # both evaluated faces are predicted happy: one right, one wrong
    assert out["accuracy"] == 0.5 and out["per_class"]["happy"]["precision"] == 0.5
    assert out["per_class"]["happy"]["recall"] == 1.0 and out["per_class"]["sad"]["recall"] == 0.0
    assert out["macro_f1"] == pytest.approx((2 * 0.5 / 1.5 + 0) / 2, abs=1e-4)


def test_evaluate_rejects_unknown_labels(tmp_path):
    (tmp_path / "m.csv").write_text("path,label\nx.png,joyful\n")
    proc = run("evaluate", "--data", str(tmp_path / "m.csv"))
    assert proc.returncode == 2 and "'joyful' is not one of the model's labels" in proc.stderr


@pytest.mark.slow
def test_bench_reports_the_contract_keys():
    proc = run("bench", "--quick", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    for key in ("lrp_all_classes_vs_floor", "lrp_all_classes_vs_zennit_sequential", "max_rel_diff_vs_zennit"):
        assert key in out
    assert out["max_rel_diff_vs_zennit"] <= 1e-4
    users = out["user_models"]  # issue 17's figures: a user's ResNet-18 and ViT-S, ONNX against eager
    assert users["resnet18_lrp"]["max_rel_diff_vs_zennit"] <= 1e-3
    assert users["resnet18_lrp"]["conservation_min"] >= 0.99
    assert users["vit_small_lrp"]["lrp_all_classes_vs_floor"] > 0
    assert all(users["onnx"][f"batch_{b}"]["max_abs_diff"] < 1e-4 for b in (1, 64))


@pytest.mark.slow
def test_evaluate_a_run_by_group_matches_its_training_time_test_figures(tmp_path, tiny_run):
    """`fer-core evaluate RUN --data TEST --group-by ...` on the run's own test rows reproduces evaluation.json."""
    import pandas as pd

    from fer_core.data.sources import materialize
    from fer_core.runs import open_run

    info = open_run(tiny_run)
    manifest = materialize(info.config["data"]["manifest"], info.config["data"]["cache_dir"])
    table = pd.read_csv(manifest, dtype=str, keep_default_na=False)
    test_paths = set(pd.read_csv(tiny_run / "splits.csv").query("split == 'test'")["path"])
    table[table["path"].isin(test_paths)].to_csv(manifest.parent / "test_only.csv", index=False)
    proc = run(
        "evaluate",
        str(tiny_run),
        "--data",
        str(manifest.parent / "test_only.csv"),
        "--group-by",
        "skin_tone,gender",
        "--json",
        "--boot",
        "50",
        "--permutations",
        "50",
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    stored = info.evaluation()
    assert out["n_evaluated"] == stored["n"]
    assert out["accuracy"] == pytest.approx(stored["overall"]["accuracy"], abs=1e-4)
    for attr in ("skin_tone", "gender"):
        got, want = out["fairness"][attr]["by_group"], stored["attributes"][attr]["by_group"]
        assert {g: v["accuracy"] for g, v in got.items()} == pytest.approx({g: v["accuracy"] for g, v in want.items()})
        assert out["fairness"][attr]["probe"]["n"] == stored["n"]
    human = run(
        "evaluate",
        str(tiny_run),
        "--data",
        str(manifest.parent / "test_only.csv"),
        "--group-by",
        "skin_tone",
        "--boot",
        "20",
        "--permutations",
        "20",
    )
    assert "worst-group accuracy" in human.stdout and "linear probe guesses skin_tone" in human.stdout


def test_train_rejects_an_unknown_config_key_by_name(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("optim:\n  learning_rate: 0.1\n", encoding="utf-8")
    proc = run("train", "supervised", "--config", str(bad))
    assert proc.returncode == 2
    assert "unknown config key optim.'learning_rate'" in proc.stderr
    help_text = run("train", "--help").stdout
    assert "lambda_mmd" in help_text and "early_stopping_patience" in help_text


def test_occlusion_study_on_a_runs_test_set(tiny_run):
    from fer_core.runs import open_run

    proc = run("occlusion-study", str(tiny_run), "--fill", "mean,blur", "--group-by", "age", "--boot", "50", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    n_test = int((open_run(tiny_run).predictions()["split"] == "test").sum())
    assert out["n"] == out["n_faces"] == n_test  # the run's test rows, found again through its data source
    assert out["fills"] == ["mean", "blur"] and out["regions"] == ["eyes", "mouth", "brows", "nose"]
    assert len(out["overall"]) == 8 and {"drop", "drop_lo", "drop_hi", "n"} <= set(out["overall"][0])
    assert {r["age"] for r in out["by_group"]["age"]} <= {"young", "adult", "older"}
    human = run("occlusion-study", str(tiny_run), "--regions", "mouth", "--boot", "0")
    assert human.returncode == 0 and "mouth" in human.stdout and "all" in human.stdout
    bad = run("occlusion-study", str(tiny_run), "--fill", "sepia")
    assert bad.returncode != 0 and "unknown fill" in bad.stderr


def test_region_relevance_and_localisation_commands(tiny_run):
    proc = run("region-relevance", str(tiny_run), "--group-by", "age", "--boot", "50", "--permutations", "49", "--json")
    assert proc.returncode == 0, proc.stderr
    rep = json.loads(proc.stdout)["attributes"]["age"]
    assert rep["test"]["num_permutations"] == 49 and rep["by_group"]
    demo = ROOT / "assets" / "runs" / "synthfacs_bias_supervised"
    loc = run("localisation", str(demo), "--methods", "lrp,random", "--limit", "40", "--boot", "50")
    assert loc.returncode == 0, loc.stderr
    assert "LRP (epsilon-plus-flat)" in loc.stdout and "random map" in loc.stdout and "patch 4" in loc.stdout
