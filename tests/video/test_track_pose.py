"""A person's head pose where the mesh fitted some frames and not others: the CSV and JSON keep the same fields for
every frame (empty where there is no pose), and the CLI's summary counts the frames without one."""

from __future__ import annotations

import numpy as np

from fer_core.cli.video import _pose_line
from fer_core.face import NO_POSE, HeadPose
from fer_core.video import Track, TrackFrame

LABELS = ("happy", "neutral")
POSES = [HeadPose(2.0, -3.0, 1.0), None, HeadPose(-25.0, 0.0, 0.0), None]


def _track(with_pose: bool, poses=POSES) -> Track:
    frames = [
        TrackFrame(
            t=0.2 * i,
            sample=i,
            box=(10.0, 10.0, 50.0, 50.0),
            landmarks=np.zeros((5, 2)),
            score=0.99,
            probs=np.array([0.7, 0.3]),
            pose=pose,
        )
        for i, pose in enumerate(poses)
    ]
    return Track(0, frames, LABELS, with_pose=with_pose)


def test_frames_without_a_pose_keep_the_columns_empty():
    track = _track(with_pose=True)
    table = track.to_frame()
    assert list(table.columns[:10]) == ["t", "x", "y", "w", "h", "dominant", "yaw", "pitch", "roll", "pose_bin"]
    assert list(table["pose_bin"]) == ["frontal", NO_POSE, "left", NO_POSE]
    assert table["yaw"].isna().tolist() == [False, True, False, True]
    frames = track.to_json()["frames"]
    assert [f["pose"] is None for f in frames] == [False, True, False, True]
    assert frames[2]["pose"] == {"yaw": -25.0, "pitch": 0.0, "roll": 0.0, "bin": "left"}


def test_a_track_the_mesh_never_fitted_still_has_the_pose_columns():
    track = _track(with_pose=True, poses=[None] * 4)
    assert not track.has_pose and list(track.to_frame().columns[6:10]) == ["yaw", "pitch", "roll", "pose_bin"]
    assert _pose_line(track.to_json()["frames"]) == "no pose (the mesh found no face)"


def test_the_summary_shares_count_every_frame():
    line = _pose_line(_track(with_pose=True).to_json()["frames"])
    assert line == "yaw -25° to +2°, pitch -3° to +0°, roll +0° to +1°; no pose 50%, frontal 25%, left 25%", line


def test_without_the_mesh_there_are_no_pose_fields():
    track = _track(with_pose=False, poses=[None] * 4)
    assert "yaw" not in track.to_frame().columns and "pose" not in track.to_json()["frames"][0]
    assert _pose_line(track.to_json()["frames"]) == ""
