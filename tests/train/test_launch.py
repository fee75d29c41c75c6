"""Background runs as the Runs page starts them: launch, stop (SIGTERM), resume to a finished run."""

from __future__ import annotations

import time

import pytest
import yaml

from fer_core.runs import launch_run, open_run, resume_run, stop_run
from tests.conftest import tiny_config

pytestmark = pytest.mark.slow


def _wait(folder, predicate, timeout=240.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        status = open_run(folder).status
        if predicate(status):
            return status
        time.sleep(0.1)
    raise AssertionError(
        f"timed out; last status {open_run(folder).status}; log:\n{(folder / 'train.log').read_text()}"
    )


def test_launch_stop_resume(tmp_path):
    cfg = tiny_config(tmp_path, optim={"epochs": 4, "batch_size": 8})
    cfg_file = tmp_path / "tiny.yaml"
    cfg_file.write_text(yaml.safe_dump(cfg.to_dict()), encoding="utf-8")
    folder = launch_run("supervised", cfg_file, ["optim.epochs=4"], name="bg", out_dir=tmp_path / "runs")
    _wait(folder, lambda s: s.get("status") == "running" and s.get("epoch", 0) >= 1)
    assert stop_run(folder)
    status = _wait(folder, lambda s: s.get("status") in ("stopped", "failed", "finished"))
    assert status["status"] == "stopped", status
    assert not stop_run(folder)  # nothing to stop any more
    resume_run(folder)
    status = _wait(folder, lambda s: s.get("status") in ("finished", "failed"))
    assert status["status"] == "finished", (folder / "train.log").read_text()
    assert open_run(folder).epoch_metrics()["epoch"].tolist() == [0, 1, 2, 3]
