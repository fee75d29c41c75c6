"""End-to-end training on a small SynthFACS set: the run folder, its checkpoint and predictions, resume, errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
import yaml

from fer_core.errors import DatasetError
from fer_core.models import load_checkpoint
from fer_core.runs import list_runs, open_run
from fer_core.train import RunExistsError, resume, train
from tests.conftest import tiny_config

pytestmark = pytest.mark.slow


def test_run_folder_holds_everything_a_user_needs(tiny_run):
    run = open_run(tiny_run)
    for name in (
        "config.yaml",
        "run.json",
        "metrics.csv",
        "model.safetensors",
        "checkpoints/last.ckpt",
        "splits.csv",
        "test_predictions.csv",
        "test_embeddings.npy",
        "evaluation.json",
    ):
        assert (tiny_run / name).is_file(), name
    assert any((tiny_run / "tb").iterdir()), "no TensorBoard events"
    assert run.status["status"] == "finished"
    assert run.config["data"]["aligned"] is True  # what "auto" decided is recorded for evaluation
    loaded = load_checkpoint(tiny_run / "model.safetensors")
    assert loaded.card.label_names == tuple(run.status["labels"]) and loaded.card.input_size == (32, 32)
    assert loaded.card.extra["arch_kwargs"] == {"widths": [4, 8, 16, 16]} and loaded.card.template == "tight"
    preds = run.predictions()
    probs = preds[[f"p_{lab}" for lab in loaded.card.label_names]].to_numpy()
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-4)
    assert (preds["pred"] == [loaded.card.label_names[i] for i in probs.argmax(1)]).all()
    assert len(preds) == run.status["n_test"] and {"skin_tone", "gender"} <= set(preds.columns)
    assert run.embeddings().shape == (len(preds), 16)
    splits = pd.read_csv(tiny_run / "splits.csv")
    assert set(splits["split"]) == {"train", "val", "test"} and len(splits) == 240
    assert (preds["source"] == "manifest").all() and not preds["rel_path"].str.startswith("/").any()
    epochs = run.epoch_metrics()
    assert list(epochs["epoch"]) == [0, 1] and epochs["val/acc"].notna().all()
    ev = run.evaluation()
    # the report's overall accuracy is the accuracy of the stored predictions
    assert ev["overall"]["accuracy"] == pytest.approx(float((preds["pred"] == preds["target"]).mean()))
    assert set(ev["attributes"]) == {"skin_tone", "gender"}
    assert ev["attributes"]["skin_tone"]["mmd"]["pairs"] and "probe" in ev["attributes"]["gender"]
    assert tiny_run.resolve() in [r.folder.resolve() for r in list_runs(tiny_run.parent)]


def test_the_saved_model_reproduces_the_stored_predictions(tiny_run):
    """model.safetensors + its card give the probabilities written at the end of training (no hidden state)."""
    from fer_core.face import load_image
    from fer_core.workflows import embed_crops

    run = open_run(tiny_run)
    preds = run.predictions().head(20)
    loaded = run.model()
    crops = [load_image(p) for p in preds["path"]]
    probs, emb = embed_crops(loaded, crops)
    stored = preds[[f"p_{lab}" for lab in loaded.card.label_names]].to_numpy()
    np.testing.assert_allclose(probs, stored, atol=2e-3)
    np.testing.assert_allclose(emb, run.embeddings()[:20], rtol=1e-3, atol=1e-3)


def test_same_seed_same_run_and_existing_name_refused(tmp_path, tiny_run):
    cfg = tiny_config(tmp_path)
    again = train(cfg, progress=False)
    a = open_run(tiny_run).predictions()
    b = open_run(again.folder).predictions()
    np.testing.assert_allclose(a.filter(like="p_").to_numpy(), b.filter(like="p_").to_numpy(), atol=1e-6)
    with pytest.raises(RunExistsError, match="resume"):
        train(tiny_config(tmp_path), progress=False)


def test_dataset_label_mismatch_is_named(tmp_path):
    cfg = tiny_config(tmp_path, data={"labels": ["happy", "sad"]})
    with pytest.raises(DatasetError, match=r"label value\(s\) .* are not among the run's labels"):
        train(cfg, progress=False)
    cfg = tiny_config(tmp_path, name="t2", data={"sensitive": "ethnicity"})
    with pytest.raises(DatasetError, match="no column.*ethnicity"):
        train(cfg, progress=False)
    assert open_run(tmp_path / "runs" / "t2").status["status"] == "failed"


def _kill_mid_epoch(folder, proc, epoch: int) -> None:
    """SIGKILL the training process once it is inside ``epoch`` (past its first steps)."""
    deadline = time.time() + 300
    while time.time() < deadline:
        status_file = folder / "run.json"
        if status_file.is_file():
            try:
                s = json.loads(status_file.read_text())
            except json.JSONDecodeError:
                s = {}
            if s.get("epoch", -1) >= epoch and s.get("step", 0) % max(1, s.get("total_steps", 1) // 3) > 1:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                return
        if proc.poll() is not None:
            pytest.fail(f"training ended before it could be killed: {proc.stderr.read()}")
        time.sleep(0.05)
    proc.kill()
    pytest.fail("training never reached the epoch to kill it in")


def test_killed_run_resumes_to_the_same_result(tmp_path):
    """A run SIGKILLed mid-epoch and resumed ends with the same metrics as an uninterrupted run of the same seed."""
    sections = {"optim": {"epochs": 3, "batch_size": 16}}
    whole = train(tiny_config(tmp_path, name="whole", **sections), progress=False)
    cfg = tiny_config(tmp_path, name="killed", **sections)
    cfg_file = tmp_path / "killed.yaml"
    cfg_file.write_text(yaml.safe_dump(cfg.to_dict()), encoding="utf-8")
    env = os.environ | {"PYTHONPATH": os.getcwd()}
    proc = subprocess.Popen(
        [sys.executable, "-m", "fer_core.cli", "train", "supervised", "--config", str(cfg_file), "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    folder = tmp_path / "runs" / "killed"
    _kill_mid_epoch(folder, proc, epoch=1)
    run = open_run(folder)
    assert run.status["status"] == "stopped"  # the process died: the folder says so
    assert not run.has("model.safetensors")
    resumed = resume(folder, progress=False)
    assert resumed.status["status"] == "finished"
    a, b = whole.run.evaluation(), resumed.run.evaluation()
    assert a["overall"] == b["overall"]
    np.testing.assert_allclose(
        whole.run.predictions().filter(like="p_").to_numpy(),
        resumed.run.predictions().filter(like="p_").to_numpy(),
        atol=1e-6,
    )
    em = resumed.run.epoch_metrics()
    assert list(em["epoch"]) == [0, 1, 2]  # no duplicated or lost epochs in the curves
    np.testing.assert_allclose(em["val/acc"], whole.run.epoch_metrics()["val/acc"], atol=1e-6)


def test_ddp_on_two_cpu_processes(tmp_path):
    """Lightning's DDP (gloo on CPU) through the CLI: two processes share one run folder and shard the batches."""
    cfg = tiny_config(tmp_path, name="ddp")
    cfg_file = tmp_path / "ddp.yaml"
    cfg_file.write_text(yaml.safe_dump(cfg.to_dict()), encoding="utf-8")
    env = os.environ | {"PYTHONPATH": os.getcwd()}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "fer_core.cli",
            "train",
            "supervised",
            "--config",
            str(cfg_file),
            "--quiet",
            "--set",
            "trainer.strategy=ddp",
            "--set",
            "trainer.devices=2",
            "--set",
            "trainer.accelerator=cpu",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    run = open_run(tmp_path / "runs" / "ddp")
    assert run.status["status"] == "finished" and run.has("model.safetensors")
    steps_per_epoch = run.status["total_steps"] // run.status["epochs"]
    assert steps_per_epoch == run.status["n_train"] // (cfg.optim.batch_size * 2)  # each process: half the batches
