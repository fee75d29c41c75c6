"""``fer-core video``: the JSON a script reads, the files --out writes, a folder of clips that resumes."""

from __future__ import annotations

import json

from tests._cli import run_cli
from tests.video.conftest import SYNTH_MODEL


def test_video_json_csv_and_apex_heatmaps(tmp_path, expression_clip):
    clip = expression_clip.save(tmp_path / "clip.mp4")
    out = tmp_path / "out"
    r = run_cli("video", str(clip), "--model", str(SYNTH_MODEL), "--json", "--out", str(out))
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["fps"] == 5 and doc["frames"] == 60 and len(doc["tracks"]) == 1
    track = doc["tracks"][0]
    assert set(track) >= {"id", "frames", "episodes"}
    assert set(track["frames"][0]) == {"t", "box", "probs"} and len(track["frames"][0]["probs"]) == 7
    assert [e["label"] for e in track["episodes"]] == ["happy", "surprise"]
    assert all(set(e) >= {"onset", "apex", "offset"} for e in track["episodes"])
    csv = (out / "track0.csv").read_text().splitlines()
    assert csv[0].startswith("t,x,y,w,h,dominant,p_angry") and len(csv) == 61
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert len(pngs) == 2 and pngs[0].startswith("track0_episode0_happy")
    saved = json.loads((out / "video.json").read_text())
    assert [e["label"] for e in saved["tracks"][0]["episodes"]] == ["happy", "surprise"]


def test_a_folder_of_clips_reports_each_and_resumes(tmp_path, expression_clip):
    folder = tmp_path / "clips"
    folder.mkdir()
    expression_clip.save(folder / "a.mp4")
    (folder / "broken.mp4").write_bytes(expression_clip.data[:5000])
    out = tmp_path / "out"
    args = ("video", str(folder), "--model", str(SYNTH_MODEL), "--fps", "2", "--json", "--out", str(out))
    first = run_cli(*args)
    assert first.returncode == 2  # one clip could not be read: said, and the other is done
    status = {e["video"].rsplit("/", 1)[-1]: e for e in json.loads(first.stdout)["videos"]}
    assert status["a.mp4"]["status"] == "done" and status["a.mp4"]["tracks"] == 1
    assert status["broken.mp4"]["status"] == "error" and "truncated" in status["broken.mp4"]["error"]
    again = json.loads(run_cli(*args).stdout)["videos"]
    assert [e["status"] for e in again] == ["done before", "error"]


def test_not_a_video_is_one_line_on_stderr(tmp_path):
    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video at all " * 10)
    r = run_cli("video", str(bad), "--model", str(SYNTH_MODEL))
    assert r.returncode == 2 and r.stderr.startswith("error: not a video we can read")
