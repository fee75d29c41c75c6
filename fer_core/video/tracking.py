"""Faces followed across sampled frames with stable ids: each track's box is moved on by its velocity, detections
are matched to tracks by box overlap and landmark distance (Hungarian assignment), a track survives a gap of up to
``max_gap`` seconds (a turned head, a face passing behind another) and ends when its face has been gone longer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

MAX_GAP_S = 1.5  # seconds a track may go unseen before it ends
MAX_COST = 1.5  # above this (no overlap, landmarks more than ~a face apart) a detection starts a new track
LANDMARK_WEIGHT = 1.0  # landmark distance, in face diagonals, weighs like (1 - IoU)
VELOCITY_SMOOTHING = 0.5  # the velocity estimate's weight on the newest displacement


def box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = iw * ih
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


@dataclass
class _Live:
    id: int
    box: np.ndarray  # (4,) x, y, w, h at ``t``
    landmarks: np.ndarray  # (5, 2)
    t: float
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2))  # px per second of the box's corner

    def predicted(self, t: float) -> tuple[np.ndarray, np.ndarray]:
        shift = self.velocity * (t - self.t)
        box = self.box.copy()
        box[:2] += shift
        return box, self.landmarks + shift


class FaceTracker:
    """Assigns each frame's detections to tracks; ids are 0, 1, ... in order of first appearance.

    Parameters
    ----------
    max_gap
        Seconds a face may be missing before its track ends.
    max_cost
        Highest match cost, ``(1 - IoU) + LANDMARK_WEIGHT * mean landmark distance / face diagonal``, still taken
        as the same face (both measured against the track's position moved on by its velocity).
    """

    def __init__(self, max_gap: float = MAX_GAP_S, max_cost: float = MAX_COST) -> None:
        self.max_gap = max_gap
        self.max_cost = max_cost
        self._live: list[_Live] = []
        self._next_id = 0

    def _cost(self, track: _Live, t: float, box: np.ndarray, landmarks: np.ndarray) -> float:
        pbox, plm = track.predicted(t)
        diagonal = float(np.hypot(pbox[2], pbox[3])) or 1.0
        distance = float(np.linalg.norm(landmarks - plm, axis=1).mean()) / diagonal
        return (1.0 - box_iou(pbox, box)) + LANDMARK_WEIGHT * distance

    def update(self, t: float, boxes: Sequence[Sequence[float]], landmarks: Sequence[np.ndarray]) -> list[int]:
        """The track id of each detection at time ``t`` (new ids for faces that match no live track).

        Parameters
        ----------
        t
            The frame's time in seconds (later than the previous call's).
        boxes
            One (x, y, w, h) per detected face.
        landmarks
            One (5, 2) array per detected face, in the boxes' pixels.

        Returns
        -------
        list[int]
            A track id per detection, in input order.
        """
        boxes_a = [np.asarray(b, dtype=np.float64) for b in boxes]
        marks_a = [np.asarray(m, dtype=np.float64) for m in landmarks]
        ids = [-1] * len(boxes_a)
        self._live = [tr for tr in self._live if t - tr.t <= self.max_gap + 1e-9]  # gone too long: ended
        if self._live and boxes_a:
            cost = np.array([[self._cost(tr, t, b, m) for b, m in zip(boxes_a, marks_a)] for tr in self._live])
            rows, cols = linear_sum_assignment(cost)
            for r, c in zip(rows, cols):
                if cost[r, c] <= self.max_cost:
                    self._move(self._live[r], t, boxes_a[c], marks_a[c])
                    ids[c] = self._live[r].id
        for c, (b, m) in enumerate(zip(boxes_a, marks_a)):
            if ids[c] < 0:
                self._live.append(_Live(id=self._next_id, box=b, landmarks=m, t=t))
                ids[c] = self._next_id
                self._next_id += 1
        return ids

    @staticmethod
    def _move(track: _Live, t: float, box: np.ndarray, landmarks: np.ndarray) -> None:
        dt = t - track.t
        if dt > 0:
            step = (box[:2] - track.box[:2]) / dt
            track.velocity = VELOCITY_SMOOTHING * step + (1 - VELOCITY_SMOOTHING) * track.velocity
        track.box, track.landmarks, track.t = box, landmarks, t
