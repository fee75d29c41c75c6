"""A track's probabilities over time: the smoothed curve, the dominant expression per segment, and each expression
episode's onset, apex and offset.

Smoothing is a centred moving average over ``window`` sampled frames (shorter at the ends): it removes frame-to-frame
flicker without the lag of an exponential average, so an episode's onset is not pushed later.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SMOOTH_WINDOW = 3  # sampled frames (0.6 s at 5 fps)
MIN_EPISODE_SECONDS = 0.5  # a shorter run of one dominant expression is flicker (or a transition), not an episode
APEX_PLATEAU = 0.01  # frames within this of the peak probability form the apex plateau; its middle is the apex
NEUTRAL = "neutral"


@dataclass(frozen=True)
class Segment:
    """A run of sampled frames with the same dominant (smoothed) expression; ``start`` and ``stop`` index frames,
    ``stop`` included."""

    label: str
    start: int
    stop: int


@dataclass(frozen=True)
class Episode:
    """One expression episode of a track: times in seconds, and the frame indices they come from.

    Parameters
    ----------
    label
        The expression.
    onset, apex, offset
        Seconds: the first frame it dominates, the middle of its peak, the last frame it dominates.
    peak
        Its highest smoothed probability in the episode.
    frames
        (onset, apex, offset) as indices into the track's frames.
    """

    label: str
    onset: float
    apex: float
    offset: float
    peak: float
    frames: tuple[int, int, int]

    def to_json(self) -> dict:
        return {
            "label": self.label,
            "onset": round(self.onset, 3),
            "apex": round(self.apex, 3),
            "offset": round(self.offset, 3),
            "peak": round(self.peak, 4),
        }


def smooth(probs: np.ndarray, window: int = SMOOTH_WINDOW) -> np.ndarray:
    """Centred moving average of (T, K) scores over ``window`` frames; the ends average what exists.

    Parameters
    ----------
    probs
        (T, K) one row per sampled frame.
    window
        Frames averaged (an even number is rounded up to the next odd one; 1 returns a copy).

    Returns
    -------
    numpy.ndarray
        (T, K) float64.
    """
    p = np.asarray(probs, dtype=np.float64)
    half = max(0, int(window) // 2)
    if half == 0 or len(p) == 0:
        return p.copy()
    c = np.concatenate([np.zeros((1, p.shape[1])), np.cumsum(p, axis=0)])
    idx = np.arange(len(p))
    lo, hi = np.maximum(0, idx - half), np.minimum(len(p), idx + half + 1)
    return (c[hi] - c[lo]) / (hi - lo)[:, None]


def segments(smoothed: np.ndarray, labels: Sequence[str]) -> list[Segment]:
    """Runs of frames with the same dominant expression, in time order."""
    if len(smoothed) == 0:
        return []
    top = np.asarray(smoothed).argmax(axis=1)
    cuts = np.flatnonzero(np.diff(top)) + 1
    starts = np.concatenate([[0], cuts])
    stops = np.concatenate([cuts - 1, [len(top) - 1]])
    return [Segment(labels[int(top[a])], int(a), int(b)) for a, b in zip(starts, stops)]


def episodes(
    times: Sequence[float],
    smoothed: np.ndarray,
    labels: Sequence[str],
    min_seconds: float = MIN_EPISODE_SECONDS,
    neutral: str = NEUTRAL,
) -> list[Episode]:
    """Each non-neutral segment lasting at least ``min_seconds`` as an episode.

    Onset and offset are the segment's first and last frames; the apex is the middle frame of the plateau where
    the expression's smoothed probability is within :data:`APEX_PLATEAU` of its peak (a saturated model holds its
    peak over several frames; their middle is where the expression is strongest for a symmetric rise and fall).

    Parameters
    ----------
    times
        (T,) seconds of the frames.
    smoothed
        (T, K) smoothed scores (:func:`smooth`).
    labels
        (K,) the scores' names.
    min_seconds
        Shortest run that counts: from its first frame to the end of its last (one median frame spacing after).
    neutral
        The label that is no expression (no episodes for it).

    Returns
    -------
    list[Episode]
        In time order.
    """
    out = []
    t = np.asarray(times, dtype=np.float64)
    spacing = float(np.median(np.diff(t))) if len(t) > 1 else 0.0
    for seg in segments(smoothed, labels):
        if seg.label == neutral or t[seg.stop] - t[seg.start] + spacing < min_seconds - 1e-9:
            continue
        k = list(labels).index(seg.label)
        curve = smoothed[seg.start : seg.stop + 1, k]
        peak = float(curve.max())
        plateau = np.flatnonzero(curve >= peak - APEX_PLATEAU)
        apex = seg.start + int(plateau[len(plateau) // 2])
        out.append(
            Episode(
                label=seg.label,
                onset=float(t[seg.start]),
                apex=float(t[apex]),
                offset=float(t[seg.stop]),
                peak=peak,
                frames=(seg.start, apex, seg.stop),
            )
        )
    return out
