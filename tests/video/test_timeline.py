"""Smoothing, segments and episodes against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from fer_core.video import FaceTracker, box_iou, episodes, segments, smooth

LABELS = ("happy", "neutral")


def test_smooth_is_a_centred_moving_average_shortened_at_the_ends():
    p = np.array([[0.0], [3.0], [6.0], [9.0]])
    assert smooth(p, 3)[:, 0].tolist() == pytest.approx([1.5, 3.0, 6.0, 7.5])
    assert smooth(p, 1)[:, 0].tolist() == [0.0, 3.0, 6.0, 9.0]


def _probs(happy):
    h = np.asarray(happy, dtype=float)
    return np.stack([h, 1 - h], axis=1)


def test_segments_and_episode_onset_apex_offset():
    happy = [0.1, 0.2, 0.7, 0.9, 0.95, 0.95, 0.95, 0.8, 0.3, 0.1]
    t = np.arange(10) * 0.2
    p = _probs(happy)
    assert [(s.label, s.start, s.stop) for s in segments(p, LABELS)] == [
        ("neutral", 0, 1),
        ("happy", 2, 7),
        ("neutral", 8, 9),
    ]
    (ep,) = episodes(t, p, LABELS)
    assert (ep.label, ep.frames) == ("happy", (2, 5, 7))  # the apex: the middle of the 0.95 plateau
    assert (ep.onset, ep.apex, ep.offset, ep.peak) == pytest.approx((0.4, 1.0, 1.4, 0.95))


def test_flicker_shorter_than_half_a_second_is_no_episode():
    happy = [0.1, 0.9, 0.9, 0.1, 0.1, 0.9, 0.9, 0.9, 0.1]  # 0.4 s, then 0.6 s at 5 fps
    (ep,) = episodes(np.arange(9) * 0.2, _probs(happy), LABELS)
    assert ep.frames[0] == 5 and ep.frames[2] == 7


def test_box_iou_by_hand():
    assert box_iou((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(50 / 150)
    assert box_iou((0, 0, 10, 10), (20, 0, 10, 10)) == 0.0


def _face(x, y, s=100.0):
    box = (x, y, s, s)
    marks = np.array(
        [
            [x + 0.3 * s, y + 0.4 * s],
            [x + 0.7 * s, y + 0.4 * s],
            [x + 0.5 * s, y + 0.6 * s],
            [x + 0.35 * s, y + 0.8 * s],
            [x + 0.65 * s, y + 0.8 * s],
        ]
    )
    return box, marks


def test_tracks_keep_their_ids_through_a_crossing_and_a_gap():
    tracker = FaceTracker(max_gap=1.0)
    seen = {0: [], 1: []}
    for i in range(21):  # A walks right, B walks left, 30 px lower; at the middle only B is seen for 0.6 s
        t = i * 0.2
        a, b = _face(100 + 40 * i, 100), _face(900 - 40 * i, 130)
        faces = [b] if 8 <= i <= 10 else [a, b]
        ids = tracker.update(t, [f[0] for f in faces], [f[1] for f in faces])
        for f, tid in zip(faces, ids):
            seen[tid].append(f[0][0])
    assert set(seen) == {0, 1}
    assert np.all(np.diff(seen[0]) > 0) and np.all(np.diff(seen[1]) < 0)  # each id kept one walker


def test_a_track_ends_when_its_face_is_gone_longer_than_the_gap():
    tracker = FaceTracker(max_gap=1.0)
    box, marks = _face(100, 100)
    assert tracker.update(0.0, [box], [marks]) == [0]
    assert tracker.update(0.8, [box], [marks]) == [0]
    assert tracker.update(2.0, [box], [marks]) == [1]  # 1.2 s unseen: a new person
