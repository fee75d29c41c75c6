"""Decoding: true timestamps, the four containers, display rotation, and clear messages for what is not a video."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from fer_core.errors import VideoError
from fer_core.video import decode, frame_at, probe_video, sample_frames
from fer_core.video.synthetic import Person, make_clip, still

SMALL = dict(seconds=2.0, size=(320, 240))


def _clip(**kw):
    return make_clip([Person(subject=9, centre=still(160, 120), face_px=120)], **{**SMALL, **kw})


def test_timestamps_are_the_containers_own_also_at_a_variable_rate():
    planted = [0.0, 0.1, 0.25, 0.31, 0.62, 0.9, 1.333, 1.5, 1.98]  # irregular: a phone's variable frame rate
    clip = _clip(times=planted)
    every = [f.t for f in sample_frames(clip.data, fps=None)]
    assert every == pytest.approx(planted, abs=1e-6)
    # at 2 fps: the first frame at or after each 0.5 s grid point
    assert [f.t for f in sample_frames(clip.data, fps=2)] == pytest.approx([0.0, 0.62, 1.333, 1.5], abs=1e-6)


@pytest.mark.parametrize("container", ["mp4", "mov", "webm", "avi"])
def test_the_four_containers_decode_to_the_same_frames(container):
    reference = [f.image for f in sample_frames(_clip().data, fps=5)]
    frames = list(sample_frames(_clip(container=container).data, fps=5))
    assert [f.t for f in frames] == pytest.approx([0.0, 0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6, 1.8])
    for f, ref in zip(frames, reference):  # lossy codecs: equal up to compression noise
        assert f.image.shape == (240, 320, 3)
        assert np.abs(f.image.astype(int) - ref).mean() < 4


def test_display_rotation_is_applied_like_opencvs_autorotate(tmp_path):
    clip = _clip(rotation=90)
    info = probe_video(clip.data)
    assert (info.width, info.height, info.rotation) == (320, 240, 90)
    ours = next(iter(sample_frames(clip.data))).image
    cap = cv2.VideoCapture(str(clip.save(tmp_path / "r.mp4")))  # OpenCV honours the display matrix by itself
    ok, bgr = cap.read()
    assert ok and bgr.shape == ours.shape
    assert np.abs(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB).astype(int) - ours).mean() < 3
    upright = next(iter(sample_frames(_clip().data))).image
    assert np.abs(upright.astype(int) - ours).mean() < 3


def test_frame_at_returns_the_sampled_frame():
    clip = _clip()
    sampled = {f.t: f.image for f in sample_frames(clip.data, fps=5)}
    for t in (0.0, 0.8, 1.8):
        got = frame_at(clip.data, t)
        assert got.t == pytest.approx(t) and np.array_equal(got.image, sampled[t])


def test_large_frames_are_scaled_for_work_and_boxes_map_back():
    clip = make_clip([Person(subject=9, centre=still(640, 360), face_px=240)], seconds=0.5, size=(1280, 720))
    f = next(iter(sample_frames(clip.data, max_side=640)))
    assert f.image.shape == (360, 640, 3) and f.scale == pytest.approx(0.5)


def test_what_is_not_a_video_gets_a_message_that_says_what_it_is(tmp_path):
    png = cv2.imencode(".png", np.zeros((32, 32, 3), np.uint8))[1].tobytes()
    with pytest.raises(VideoError, match="still image \\(PNG\\)"):
        probe_video(png)
    with pytest.raises(VideoError, match="empty"):
        probe_video(b"")
    with pytest.raises(VideoError, match="not a video we can read"):
        probe_video(b"hello, this is a text file and nothing else" * 20)
    with pytest.raises(VideoError, match="no such video file"):
        probe_video(tmp_path / "missing.mp4")


def test_a_truncated_file_says_so_or_keeps_the_frames_before_the_cut():
    mp4 = _clip().data
    with pytest.raises(VideoError, match="truncated or corrupt"):  # the index (moov) is at the end: it is lost
        probe_video(mp4[: len(mp4) // 2])
    webm = _clip(container="webm", seconds=4.0).data  # a stream format: what was written before the cut plays
    stream = sample_frames(webm[: int(len(webm) * 0.9)], fps=5)
    frames = list(stream)
    assert 3 <= len(frames) < 20
    assert stream.warnings and "ends early" in stream.warnings[0]
    complete = [f.t for f in sample_frames(webm, fps=5)]
    assert [f.t for f in frames] == complete[: len(frames)]


def test_limits_are_checked_before_decoding(monkeypatch):
    data = _clip().data
    monkeypatch.setattr(decode, "MAX_DURATION_S", 1.0)
    with pytest.raises(VideoError, match="lasts 2 s; the limit is 1 s"):
        probe_video(data)
    monkeypatch.setattr(decode, "MAX_VIDEO_BYTES", 100)
    with pytest.raises(VideoError, match="the limit is"):
        probe_video(data)
    with pytest.raises(VideoError, match="positive number"):
        sample_frames(data, fps=0)
