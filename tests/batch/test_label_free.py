"""``evaluate`` on photo sets without expression labels: detection per group, prediction rates and parity gaps
(hand-computed from the per-face probabilities), and the sweep of explanations over a dataset."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fer_core.workflows import evaluate_manifest, explain_dataset, explain_faces
from tests._cli import run_cli


@pytest.fixture(scope="module")
def mixed_report(fer_model, mixed_manifest):
    return evaluate_manifest(fer_model, mixed_manifest, group_by=["group"], n_boot=50, num_permutations=20)


def test_a_manifest_without_labels_is_audited_not_refused(mixed_report):
    r = mixed_report
    assert r["n"] == 9 and r["n_evaluated"] == 6 and r["n_labelled"] == 0
    assert r["accuracy"] is None and "fairness" not in r
    assert r["detection"] == {
        "n": 9, "detected": 6, "detected_share": 0.6667, "crop": 0, "crop_share": 0.0, "no_face": 2,
        "no_face_share": 0.2222, "unreadable": 1, "unreadable_share": 0.1111, "found_share": 0.6667,
    }  # fmt: skip
    det = r["audit"]["group"]["detection"]
    assert det["by_group"]["a"]["detected_share"] == 1.0 and det["by_group"]["b"]["detected_share"] == 0.4
    assert det["detected_gap"] == 0.6
    assert r["intervals"]["resampled"] == "image"


def test_prediction_rates_and_parity_match_a_hand_count(fer_model, mixed_manifest, mixed_report):
    from fer_core.face import find_faces, load_image

    probs = []
    for path in pd.read_csv(mixed_manifest)["path"][:6]:
        image = load_image(mixed_manifest.parent / path)
        # a dataset scan's default: 5 points (the mesh only when asked, or for pose_bin)
        face = find_faces(image, fer_model.card.input_size, fer_model.card.alignment, landmarker="mtcnn5")
        from fer_core.models.preprocess import predict_probs

        probs.append(predict_probs(fer_model.model, fer_model.card, [face[0].crop])[0])
    pred = np.asarray(probs).argmax(1)
    groups = np.array(["a"] * 4 + ["b"] * 2)
    audit = mixed_report["audit"]["group"]
    labels = fer_model.card.label_names
    for k, lab in enumerate(labels):
        rate_a, rate_b = (pred[groups == "a"] == k).mean(), (pred[groups == "b"] == k).mean()
        assert audit["by_group"]["a"]["prediction_rate"][lab] == pytest.approx(rate_a, abs=1e-4)
        assert audit["demographic_parity"][lab]["gap"] == pytest.approx(abs(rate_a - rate_b), abs=1e-4)
    conf_a = np.asarray(probs)[:4].max(1).mean()
    assert audit["by_group"]["a"]["mean_confidence"] == pytest.approx(conf_a, abs=1e-4)


def test_partly_labelled_manifest_measures_accuracy_on_the_labelled_rows(fer_model, crops_manifest, tmp_path):
    table = pd.read_csv(crops_manifest, keep_default_na=False)
    full = evaluate_manifest(fer_model, crops_manifest, aligned=True, n_boot=0)
    table.loc[table.index[150:], "label"] = ""
    table["path"] = [str(crops_manifest.parent / p) for p in table["path"]]
    part = tmp_path / "half.csv"
    table.to_csv(part, index=False)
    half = evaluate_manifest(fer_model, part, group_by=["gender"], aligned=True, n_boot=20, num_permutations=10)
    assert half["n_evaluated"] == 300 and half["n_labelled"] == 150
    assert half["audit"]["gender"]["n"] == 300  # the audit uses every face
    assert half["fairness"]["gender"]["overall"]["n"] == 150  # the labelled report only the labelled ones
    assert half["intervals"]["resampled"] == "subject"
    first = pd.read_csv(crops_manifest, keep_default_na=False).iloc[:150]
    from fer_core.batch import ClassifyJob, EngineOptions, run_job  # the same faces' predictions
    from fer_core.data import scan_manifest

    scan = scan_manifest(fer_model, crops_manifest, aligned=True)
    probs = run_job(scan, ClassifyJob(fer_model), EngineOptions()).outputs["probs"]
    labels = fer_model.card.label_names
    acc = np.mean([labels[p] == t for p, t in zip(probs[:150].argmax(1), first["label"])])
    assert half["accuracy"] == pytest.approx(acc, abs=1e-4) and full["n_labelled"] == 300


def test_evaluate_cli_prints_the_label_free_audit(fer_model, mixed_manifest):
    done = run_cli("evaluate", "--data", str(mixed_manifest), "--group-by", "group", "--boot", "20", "--workers", "0")
    assert done.returncode == 0, done.stderr
    assert "6 faces detected, 0 used as crops" in done.stdout and "2 without a face, 1 unreadable" in done.stdout
    assert "detection gap 60.0%" in done.stdout


def test_the_sweep_keeps_each_faces_maps_equal_to_explaining_it_alone(fer_model, crops_manifest, tmp_path):
    out = tmp_path / "sweep"
    result = explain_dataset(fer_model, crops_manifest, out, aligned=True)
    assert (out / "faces.csv").is_file() and len(result.faces) == 300
    from fer_core.data import scan_manifest

    scan = scan_manifest(fer_model, crops_manifest, aligned=True)
    for row in (0, 137, 299):
        (alone,) = explain_faces(fer_model, [scan.face(row)])
        maps = result.heatmaps_of(row)
        scale = np.abs(alone.heatmaps).max()
        np.testing.assert_allclose(maps, alone.heatmaps, rtol=0, atol=2e-3 * scale)  # stored as float16
        assert result.faces.loc[row, "pred"] == alone.pred
        assert result.faces.loc[row, "share_mouth"] == pytest.approx(alone.region_share()["mouth"], abs=1e-6)
    again = run_cli("explain", "--data", str(crops_manifest), "--aligned", "--out", str(out), "--json")
    assert again.returncode == 0, again.stderr  # resumes: every block is done, nothing recomputed
    assert '"crop": 300' in again.stdout
