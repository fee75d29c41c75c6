"""The batch engine: the same results for any worker count, block layout on resume and rank count; statuses of
every row; shards that resume and refuse another job's folder."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from fer_core.batch import ClassifyJob, EngineOptions, ShardsMismatchError, read_shards, run_job
from fer_core.data import scan_manifest
from fer_core.models.preprocess import predict_probs


def _run(model, manifest, **options):
    scan = scan_manifest(model, manifest, aligned=True, require_labels=False)
    return scan, run_job(scan, ClassifyJob(model), EngineOptions(**options))


def test_worker_processes_change_nothing(fer_model, crops_manifest):
    _, plain = _run(fer_model, crops_manifest, workers=0, block=128)
    _, pooled = _run(fer_model, crops_manifest, workers=2, block=128)
    assert len(plain.face_rows) == 300 and np.array_equal(plain.face_rows, np.arange(300))
    for key in ("probs", "embedding"):
        assert np.array_equal(plain.outputs[key], pooled.outputs[key]), key  # bit for bit


def test_scores_equal_the_models_own_forward_whatever_the_block(fer_model, crops_manifest):
    """Independent truth: the model's plain forward over the same crops (predict_probs); block sizes change only the
    last bits of a batched convolution."""
    scan, small = _run(fer_model, crops_manifest, block=64)
    _, large = _run(fer_model, crops_manifest, block=512)
    crops = [scan.face(i).crop for i in range(scan.n)]
    direct = predict_probs(fer_model.model, fer_model.card, crops)
    np.testing.assert_allclose(small.outputs["probs"], direct, rtol=0, atol=1e-6)
    np.testing.assert_allclose(large.outputs["probs"], direct, rtol=0, atol=1e-6)
    assert (small.outputs["probs"].argmax(1) == direct.argmax(1)).all()


def test_shards_resume_and_refuse_another_job(fer_model, crops_manifest, tmp_path):
    out = tmp_path / "shards"
    _, first = _run(fer_model, crops_manifest, block=100, out=out)
    assert sorted(p.name for p in out.glob("shard-*.parquet")) == [f"shard-{k:07d}.parquet" for k in range(3)]
    (out / "shard-0000001.parquet").unlink()  # a job stopped before its second block was written
    _, resumed = _run(fer_model, crops_manifest, block=100, out=out)
    assert resumed.resumed_blocks == 2
    assert np.array_equal(resumed.outputs["probs"], first.outputs["probs"])
    with pytest.raises(ShardsMismatchError, match="block"):
        _run(fer_model, crops_manifest, block=50, out=out)


def test_every_row_gets_a_status_and_the_skipped_rows_are_listed(fer_model, mixed_manifest):
    scan = scan_manifest(fer_model, mixed_manifest, require_labels=False)
    result = run_job(scan, ClassifyJob(fer_model), EngineOptions(block=4, workers=2))
    assert list(scan.status) == ["detected"] * 6 + ["no_face"] * 2 + ["unreadable"]
    assert scan.detection_counts() == {"detected": 6, "crop": 0, "no_face": 2, "unreadable": 1}
    assert np.array_equal(result.face_rows, np.arange(6))
    assert len(scan.no_face) == 2 and scan.unreadable[0]["path"].endswith("broken.jpg")


def test_a_block_without_any_face_keeps_its_statuses_in_the_shards(fer_model, mixed_manifest, tmp_path):
    """Rows 6-7 (blank photos) form a block of their own: its shard has statuses and no output columns."""
    scan = scan_manifest(fer_model, mixed_manifest, require_labels=False)
    result = run_job(scan, ClassifyJob(fer_model), EngineOptions(block=2, workers=0, out=tmp_path / "s"))
    rows, status, _, outputs, face_rows = read_shards(tmp_path / "s")
    assert list(status[6:8]) == ["no_face", "no_face"] and np.array_equal(face_rows, np.arange(6))
    assert outputs["probs"].shape == (6, 7) and np.array_equal(result.outputs["probs"], outputs["probs"])
    assert list(scan.status) == ["detected"] * 6 + ["no_face"] * 2 + ["unreadable"]


def test_two_ranks_on_gloo_equal_one(crops_manifest, tmp_path):
    """``--devices 2 --strategy ddp`` on CPU: two processes (gloo), blocks split between them, shards identical to a
    single process's."""
    outs = {}
    for devices in (1, 2):
        out = tmp_path / f"ranks{devices}"
        cmd = [
            sys.executable, "-m", "fer_core.cli", "evaluate", "--data", str(crops_manifest), "--aligned",
            "--device", "cpu", "--devices", str(devices), "--block", "64", "--workers", "0", "--shards", str(out),
            "--boot", "0", "--permutations", "10", "--json",
        ]  # fmt: skip
        if devices > 1:
            cmd += ["--strategy", "ddp"]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        report = json.loads(done.stdout)
        assert report["n_evaluated"] == 300 and report["accuracy"] is not None
        outs[devices] = (read_shards(out), report)
    (rows1, status1, _, out1, _), rep1 = outs[1]
    (rows2, status2, _, out2, _), rep2 = outs[2]
    assert np.array_equal(rows1, rows2) and list(status1) == list(status2)
    for key in out1:
        assert np.array_equal(out1[key], out2[key]), key
    assert rep1["accuracy"] == rep2["accuracy"] and rep1["per_class"] == rep2["per_class"]


def test_default_workers_follow_the_cores(monkeypatch):
    from fer_core.batch import auto_workers

    monkeypatch.setattr("os.sched_getaffinity", lambda _: set(range(16)), raising=False)
    assert (auto_workers(10_000), auto_workers(10_000, aligned=True), auto_workers(100)) == (8, 8, 0)
    monkeypatch.setattr("os.sched_getaffinity", lambda _: {0, 1}, raising=False)
    assert (auto_workers(10_000), auto_workers(10_000, 3)) == (0, 3)
    with pytest.raises(ValueError, match="0 or more"):
        auto_workers(10, -1)
