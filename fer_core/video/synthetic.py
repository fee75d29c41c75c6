"""Clips whose truth is known: SynthFACS faces that move and change expression on a script, encoded by PyAV.

The tests, the benchmark and the Video page's sample clip use them. Each expression rises from neutral to full
intensity and falls back (a triangle in time), so its planted onset and offset are where the renderer's own label
(the EMFACS rule on the AU intensities) turns to it and back, and its apex is the peak.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from ..data.synthfacs.identity import FaceParams, make_identity
from ..data.synthfacs.labels import label_from_aus
from ..data.synthfacs.render import render_face
from ..data.synthfacs.tables import EMFACS_PROTOTYPES

BACKGROUND_RGB = (112.0, 122.0, 132.0)
#: container -> (PyAV format, codec): the four the decoder promises
FORMATS = {"mp4": ("mp4", "libx264"), "mov": ("mov", "libx264"), "webm": ("webm", "libvpx"), "avi": ("avi", "mpeg4")}


@dataclass(frozen=True)
class Expression:
    """One planted expression over [start, stop] seconds: a rise from neutral over ``ramp`` seconds, ``peak``
    intensity held, and the same fall.

    The default peak, 0.6, is the top of the intensities the demo runs were trained on (0.25-0.6): beyond it their
    confidence no longer grows with intensity, and the apex would not be where the model is most sure.
    """

    label: str
    start: float
    stop: float
    peak: float = 0.6
    ramp: float | None = None  # seconds from neutral to the peak; None: half the episode (a triangle)

    def intensity(self, t: float) -> float:
        ramp = self.ramp if self.ramp is not None else (self.stop - self.start) / 2
        if ramp <= 0:
            return self.peak if self.start <= t <= self.stop else 0.0
        return self.peak * min(1.0, max(0.0, min(t - self.start, self.stop - t) / ramp))


@dataclass(frozen=True)
class Person:
    """A SynthFACS identity on the clip: where its face is (centre in frame pixels, a function of time), how large,
    and its expressions."""

    subject: int
    centre: Callable[[float], tuple[float, float]]
    face_px: int = 160
    expressions: tuple[Expression, ...] = ()
    seed: int = 7
    roll: Callable[[float], float] | None = None  # head roll in degrees at t (clockwise as seen); None: upright

    def roll_at(self, t: float) -> float:
        return float(self.roll(t)) if self.roll is not None else 0.0

    def aus(self, t: float) -> dict[int, float]:
        out: dict[int, float] = {}
        for e in self.expressions:
            level = e.intensity(t)
            if level > 0:
                for au in EMFACS_PROTOTYPES[e.label][0]:
                    out[au] = max(out.get(au, 0.0), level)
        return out


@dataclass
class PlantedFrame:
    """What was drawn for one person at one frame: time, the renderer's label, the face's square in the frame and
    its head roll (degrees)."""

    t: float
    label: str
    intensity: float
    box: tuple[float, float, float, float]
    roll: float = 0.0


@dataclass
class Clip:
    """An encoded clip and its truth: ``planted[i]`` lists person ``i``'s frames in time order."""

    data: bytes = field(repr=False)
    fps: float
    size: tuple[int, int]
    planted: list[list[PlantedFrame]]

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_bytes(self.data)
        return path


def still(x: float, y: float) -> Callable[[float], tuple[float, float]]:
    """A face that stays at (x, y)."""
    return lambda t: (x, y)


def moving(
    start: tuple[float, float], stop: tuple[float, float], seconds: float
) -> Callable[[float], tuple[float, float]]:
    """A face that moves at constant speed from ``start`` to ``stop`` over ``seconds``."""

    def at(t: float) -> tuple[float, float]:
        a = min(1.0, max(0.0, t / seconds))
        return start[0] + a * (stop[0] - start[0]), start[1] + a * (stop[1] - start[1])

    return at


def _face_tile(person: Person, t: float, renders: dict) -> tuple[np.ndarray, str, float]:
    aus, roll = person.aus(t), round(person.roll_at(t), 2)
    key = (person.subject, person.seed, person.face_px, tuple(sorted((a, round(v, 3)) for a, v in aus.items())), roll)
    if key not in renders:
        idn = make_identity(person.seed, person.subject)
        params = FaceParams(
            identity=idn,
            aus=tuple(sorted(aus.items())),
            size=person.face_px,
            roll_deg=roll,
            background=(BACKGROUND_RGB, BACKGROUND_RGB),
        )
        renders[key] = render_face(params)[0]
    level = max((e.intensity(t) for e in person.expressions), default=0.0)
    return renders[key], label_from_aus(aus), level


def render_frame(people: Sequence[Person], t: float, size: tuple[int, int], renders: dict | None = None):
    """The frame at ``t`` (width, height ``size``) and each person's planted truth; later people are in front."""
    w, h = size
    frame = np.empty((h, w, 3), np.uint8)
    frame[:] = np.array(BACKGROUND_RGB, np.uint8)
    truth = []
    renders = {} if renders is None else renders
    for person in people:
        tile, label, level = _face_tile(person, t, renders)
        cx, cy = person.centre(t)
        s = tile.shape[0]
        x0, y0 = int(round(cx - s / 2)), int(round(cy - s / 2))
        xa, ya, xb, yb = max(0, x0), max(0, y0), min(w, x0 + s), min(h, y0 + s)
        if xb > xa and yb > ya:
            frame[ya:yb, xa:xb] = tile[ya - y0 : yb - y0, xa - x0 : xb - x0]
        box = (float(x0), float(y0), float(s), float(s))
        truth.append(PlantedFrame(t=t, label=label, intensity=level, box=box, roll=person.roll_at(t)))
    return frame, truth


def make_clip(
    people: Sequence[Person],
    seconds: float,
    fps: float = 10.0,
    size: tuple[int, int] = (640, 360),
    container: str = "mp4",
    rotation: int = 0,
    times: Sequence[float] | None = None,
) -> Clip:
    """Render and encode a clip of ``people``.

    Parameters
    ----------
    people
        The faces, back to front.
    seconds
        Length of the clip.
    fps
        Frames per second of the encoded stream.
    size
        (width, height) as displayed.
    container
        ``mp4``, ``mov``, ``webm`` or ``avi`` (H.264, H.264, VP8, MPEG-4).
    rotation
        Display rotation to write: the frames are stored turned by ``-rotation`` and the container's display matrix
        turns them back, as a phone records a portrait video.
    times
        Explicit frame times in seconds (variable frame rate); default every ``1 / fps``.

    Returns
    -------
    Clip
        The bytes, and what was planted per person and frame.
    """
    explicit = times is not None
    times = list(times) if explicit else [i / fps for i in range(int(round(seconds * fps)))]
    planted: list[list[PlantedFrame]] = [[] for _ in people]
    renders: dict = {}

    def frames() -> Iterator[tuple[float, np.ndarray]]:
        for t in times:
            frame, truth = render_frame(people, t, size, renders)
            for i, p in enumerate(truth):
                planted[i].append(p)
            yield t, frame

    data = encode_frames(frames(), size, fps, container, rotation, variable_rate=explicit)
    return Clip(data=data, fps=fps, size=size, planted=planted)


def encode_frames(
    frames: Iterable[tuple[float, np.ndarray]],
    size: tuple[int, int],
    fps: float = 10.0,
    container: str = "mp4",
    rotation: int = 0,
    variable_rate: bool = False,
) -> bytes:
    """Encode ``(t, frame)`` pairs, (H, W, 3) uint8 RGB frames of ``size`` (width, height) as displayed, into a clip
    in memory: any frames (a photo moved or turned over time, a render), in the containers the decoder promises.

    Parameters
    ----------
    frames
        Seconds and frame, in time order.
    size
        (width, height) of every frame.
    fps
        The stream's nominal rate (with ``variable_rate`` False, ``t`` should be multiples of ``1 / fps``).
    container
        ``mp4``, ``mov``, ``webm`` or ``avi`` (H.264, H.264, VP8, MPEG-4).
    rotation
        Display rotation to write: frames are stored turned by ``-rotation`` and the container's display matrix
        turns them back.
    variable_rate
        Keep each frame's own ``t`` on a millisecond clock (a variable frame rate).

    Returns
    -------
    bytes
        The encoded clip.
    """
    import av

    fmt, codec = FORMATS[container]
    k = (rotation // 90) % 4
    w, h = size
    stored_w, stored_h = (h, w) if k % 2 else (w, h)
    buf = io.BytesIO()
    out = av.open(buf, mode="w", format=fmt)
    stream = out.add_stream(codec, rate=Fraction(fps).limit_denominator(1000))
    stream.width, stream.height, stream.pix_fmt = stored_w, stored_h, "yuv420p"
    # explicit times need a fine clock; a constant rate keeps the stream's own (AVI has no timestamps of its own)
    stream.codec_context.time_base = Fraction(1, 1000) if variable_rate else 1 / stream.codec_context.framerate
    if codec == "libx264":
        stream.options = {"preset": "veryfast", "crf": "14"}
    if rotation:
        stream.set_display_rotation(rotation)
    vf_tick = float(stream.codec_context.time_base)
    for t, frame in frames:
        stored = np.ascontiguousarray(np.rot90(frame, -k)) if k else frame
        vf = av.VideoFrame.from_ndarray(stored, format="rgb24")
        vf.pts = int(round(t / vf_tick))
        vf.time_base = stream.codec_context.time_base
        for packet in stream.encode(vf):
            out.mux(packet)
    for packet in stream.encode():
        out.mux(packet)
    out.close()
    return buf.getvalue()


def planted_episodes(frames: Sequence[PlantedFrame]) -> list[tuple[str, float, float, float]]:
    """(label, onset, apex, offset) in seconds of every non-neutral run of the renderer's label; the apex is the
    middle of the frames at the highest intensity."""
    out = []
    i = 0
    while i < len(frames):
        j = i
        while j + 1 < len(frames) and frames[j + 1].label == frames[i].label:
            j += 1
        if frames[i].label != "neutral":
            run = frames[i : j + 1]
            top = max(f.intensity for f in run)
            held = [f for f in run if f.intensity >= top - 1e-9]
            out.append((frames[i].label, frames[i].t, held[len(held) // 2].t, frames[j].t))
        i = j + 1
    return out


def demo_clip() -> Clip:
    """The Video page's sample: one person going neutral -> happy -> neutral -> surprise -> neutral, their head
    swaying side to side (a roll of up to 8°), while a second, sad for a while, walks across in front of them; 12 s
    of 640 x 360 at 10 fps (about 180 kB)."""
    still_person = Person(
        subject=9,
        centre=still(250, 140),
        expressions=(Expression("happy", 1.5, 4.5), Expression("surprise", 7.0, 10.0)),
        roll=lambda t: 8.0 * math.sin(2 * math.pi * t / 6.0),
    )
    walker = Person(
        subject=13,
        centre=moving((570, 285), (70, 285), 12.0),
        face_px=120,
        expressions=(Expression("sad", 3.0, 8.0, ramp=1.0),),
    )
    return make_clip([still_person, walker], seconds=12.0, fps=10.0)
