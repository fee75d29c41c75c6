"""The analysed clip drawn back: each sampled frame with its faces' boxes, track ids and dominant expressions,
encoded as browser-playable H.264 MP4 in memory. It is a second decoding pass, so ids and labels are the final ones;
the MP4 is fragmented, because moving the index to the front (faststart) needs a file."""

from __future__ import annotations

import io
from collections.abc import Callable
from fractions import Fraction

import cv2
import numpy as np

from .analyse import VideoAnalysis
from .decode import FrameStream, VideoSource

CLIP_MAX_SIDE = 854  # 480p: enough to see who is who, a few hundred kB a minute
#: one colour per track id (RGB), cycled; ColorBrewer Dark2, readable on light and dark backgrounds
TRACK_COLOURS = ((27, 158, 119), (217, 95, 2), (117, 112, 179), (231, 41, 138), (102, 166, 30), (230, 171, 2))


def track_colour(track_id: int) -> tuple[int, int, int]:
    """The colour of a track in the clip, the timelines and the tables."""
    return TRACK_COLOURS[track_id % len(TRACK_COLOURS)]


def _labels_by_sample(analysis: VideoAnalysis) -> dict[int, list[tuple[int, tuple, str, float]]]:
    out: dict[int, list] = {}
    for track in analysis.tracks:
        sm = track.smoothed
        for i, f in enumerate(track.frames):
            k = int(sm[i].argmax())
            out.setdefault(f.sample, []).append((track.id, f.box, track.labels[k], float(sm[i, k])))
    return out


def draw_faces(image: np.ndarray, faces, scale: float) -> np.ndarray:
    """``image`` with a box and "person N: label p" for each (track id, box in video pixels, label, score)."""
    out = image.copy()
    thick = max(1, round(min(out.shape[:2]) / 240))
    for track_id, box, label, score in faces:
        x, y, w, h = (int(round(v * scale)) for v in box)
        colour = track_colour(track_id)
        cv2.rectangle(out, (x, y), (x + w, y + h), colour, thick, cv2.LINE_AA)
        text = f"person {track_id + 1}: {label} {score:.0%}"
        font_scale = max(0.4, min(out.shape[:2]) / 900)
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font_scale, 1)
        ty = max(th + base + 2, y - 4)
        cv2.rectangle(out, (x, ty - th - base - 2), (x + tw + 4, ty + 2), colour, -1)
        cv2.putText(
            out, text, (x + 2, ty - base + 1), cv2.FONT_HERSHEY_SIMPLEX, font_scale, (255, 255, 255), 1, cv2.LINE_AA
        )
    return out


def annotated_clip(
    source: VideoSource,
    analysis: VideoAnalysis,
    max_side: int = CLIP_MAX_SIDE,
    progress: Callable[[int, int], None] | None = None,
) -> bytes:
    """The sampled frames with their tracks drawn, as H.264 MP4 bytes (the moov atom first, so a browser can play
    it while it loads).

    Parameters
    ----------
    source
        The analysed video (path or bytes).
    analysis
        Its :func:`~fer_core.video.analyse.analyse_video` result.
    max_side
        Long side of the clip.
    progress
        Called with (frames done, total).

    Returns
    -------
    bytes
        An MP4 file at the sampling rate.
    """
    import av

    faces = _labels_by_sample(analysis)
    stream_in = FrameStream(source, analysis.fps, max_side)
    rate = Fraction(analysis.fps or stream_in.info.native_fps or 25).limit_denominator(1000)
    buf = io.BytesIO()
    out = av.open(buf, mode="w", format="mp4", options={"movflags": "frag_keyframe+empty_moov+default_base_moof"})
    stream = None
    total = max(analysis.samples, 1)
    for sampled in stream_in:
        image = draw_faces(sampled.image, faces.get(sampled.index, ()), sampled.scale)
        h, w = image.shape[:2]
        if stream is None:
            stream = out.add_stream("libx264", rate=rate)
            stream.width, stream.height, stream.pix_fmt = w // 2 * 2, h // 2 * 2, "yuv420p"
            stream.options = {"preset": "veryfast", "crf": "26"}
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image[: stream.height, : stream.width]), format="rgb24")
        for packet in stream.encode(frame):
            out.mux(packet)
        if progress is not None:
            progress(sampled.index + 1, total)
    if stream is not None:
        for packet in stream.encode():
            out.mux(packet)
    out.close()
    return buf.getvalue()
