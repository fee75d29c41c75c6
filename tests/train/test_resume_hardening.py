"""A stopped run whose trainer checkpoint is empty, truncated or random bytes is refused by name; a run whose
process died without saying so reads as stopped (process gone)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys

import pytest

from fer_core.errors import CheckpointError
from fer_core.runs import STOPPED_GONE, open_run, process_identity, write_status
from fer_core.train import resume

pytestmark = pytest.mark.slow


@pytest.fixture()
def stopped_run(tiny_run, tmp_path):
    folder = tmp_path / "stopped"
    shutil.copytree(tiny_run, folder)
    write_status(folder, status="stopped")
    return folder


@pytest.mark.parametrize("damage", ["empty", "truncated", "random", "pickle"])
def test_resume_from_a_damaged_checkpoint_names_the_file(stopped_run, damage):
    ckpt = stopped_run / "checkpoints" / "last.ckpt"
    data = ckpt.read_bytes()
    ckpt.write_bytes(
        {
            "empty": b"",
            "truncated": data[: len(data) // 3],
            "random": os.urandom(5000),
            "pickle": b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x94\x8c\x06system\x94\x93.",
        }[damage]
    )
    with pytest.raises(CheckpointError) as err:
        resume(stopped_run, progress=False)
    message = str(err.value)
    assert str(ckpt) in message and "delete" in message
    assert "weights_only" not in message  # never PyTorch's advice to turn the safe loader off


def test_resume_command_prints_one_clear_line(stopped_run, capsys):
    from fer_core.cli import main

    (stopped_run / "checkpoints" / "last.ckpt").write_bytes(b"")
    rc = main(["train", "--resume", str(stopped_run), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err
    assert err.strip().startswith("error: cannot resume:") and "is empty" in err


def test_a_run_whose_process_was_killed_reads_as_stopped_process_gone(tiny_run, tmp_path):
    folder = tmp_path / "killed"
    shutil.copytree(tiny_run, folder)
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    write_status(folder, status="running", **process_identity(child.pid))
    assert open_run(folder).status["status"] == "running"  # alive: believed
    child.kill()
    child.wait()
    s = open_run(folder).status
    assert s["status"] == "stopped" and s["status_text"] == STOPPED_GONE


def test_a_reused_pid_is_not_taken_for_the_training_process(tiny_run, tmp_path):
    folder = tmp_path / "reused"
    shutil.copytree(tiny_run, folder)
    me = process_identity()
    write_status(folder, status="running", **(me | {"pid_start": "1"}))  # our pid, but it started at boot + 1 tick
    assert open_run(folder).status["status_text"] == STOPPED_GONE
    write_status(folder, status="running", **(me | {"host": socket.gethostname() + "-elsewhere", "pid": 1}))
    assert open_run(folder).status["status"] == "running"  # another host's run is never judged from here
