"""Video decoding on PyAV (FFmpeg in the wheel): frames sampled at a chosen rate with their true timestamps, display
rotation applied, one frame in memory at a time.

PyAV's wheel decodes H.264, HEVC, VP8/VP9, AV1, MPEG-4 and MJPEG in MP4, MOV, WebM/MKV and AVI, and reads a
phone's display matrix (``VideoFrame.rotation``). Only those containers are opened: an image or an audio file
under a video's name gets a message that says what it is, and a file cut short keeps the frames before the cut.
"""

from __future__ import annotations

import io
import logging
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import VideoError

logger = logging.getLogger(__name__)

MAX_VIDEO_BYTES = 500 * 1024 * 1024
MAX_DURATION_S = 30 * 60.0
MAX_FRAME_PIXELS = 36_000_000  # 8K; beyond this a frame is refused (its RGB copy alone would be 100 MB)
WORK_MAX_SIDE = 1280  # sampled frames are scaled to this long side for detection (720p stays as it is)
DEFAULT_FPS = 5.0
CUT_SHORT_S = 1.0  # the last frame this long before the declared duration: the file is truncated
#: FFmpeg demuxers we open (``av.open(...).format.name`` is a comma-separated list of the names it answers to)
ALLOWED_DEMUXERS = ("mov", "mp4", "matroska", "webm", "avi")
SUPPORTED = "MP4, MOV, WebM, MKV and AVI"

MSG_EMPTY = "the video file is empty (0 bytes)"
MSG_TOO_BIG = "the video is {size:.0f} MB; the limit is {limit:.0f} MB"
MSG_TOO_LONG = "the video lasts {s:.0f} s; the limit is {limit:.0f} s (cut it, e.g. with ffmpeg -t)"
MSG_NOT_VIDEO = "not a video we can read ({supported} are supported): {detail}"
MSG_IS_IMAGE = "this is a still image ({kind}), not a video: explain it on the Heatmaps page or with fer-core explain"
MSG_NO_STREAM = "the file holds no video stream (audio only?); {supported} with a video track are supported"
MSG_CORRUPT = "the video file is truncated or corrupt: {detail}"
MSG_NO_FRAMES = "no frame of the video could be decoded: {detail}"
NO_FRAME_DETAIL = "no frame decodes (an MP4 cut off before its index was written has none)"
MSG_FRAME_TOO_BIG = "the video's frames are {w} x {h} = {mp:.0f} MP; the limit is {limit:.0f} MP"
MSG_CUT_SHORT = "the video ends early at {t:.1f} s (the file is truncated or damaged there); the frames before are used"
MSG_BAD_FPS = "the sampling rate must be a positive number of frames per second, not {fps!r}"

_IMAGE_SIGNATURES = (
    (b"\x89PNG", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"GIF8", "GIF"),
    (b"BM", "BMP"),
    (b"RIFF", "WebP"),  # RIFF....WEBP; AVI is RIFF....AVI , told apart below
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
)

#: a video file's path, or its bytes (an upload kept in memory)
VideoSource = str | Path | bytes


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about the video stream.

    Parameters
    ----------
    width, height
        Displayed size in pixels (after rotation).
    duration
        Seconds, or None when the container does not say (a browser's MediaRecorder WebM).
    native_fps
        The stream's average frame rate (None when unknown).
    rotation
        Counter-clockwise degrees the stored frames are turned for display (0, 90, 180, 270).
    codec, container
        FFmpeg's names of the codec and the demuxer.
    frames
        Frame count the container declares (0 when it does not).
    """

    width: int
    height: int
    duration: float | None
    native_fps: float | None
    rotation: int
    codec: str
    container: str
    frames: int


@dataclass
class SampledFrame:
    """One sampled frame, upright, scaled to at most :data:`WORK_MAX_SIDE` on its long side.

    Parameters
    ----------
    index
        Position among the sampled frames (0, 1, ...).
    t
        Seconds from the stream's start, from the frame's own timestamp.
    image
        (H, W, 3) uint8 RGB.
    scale
        ``image`` pixels per displayed video pixel (1.0 unless the video is larger than the working size).
    """

    index: int
    t: float
    image: np.ndarray = field(repr=False)
    scale: float


def _as_file(source) -> tuple[object, int]:
    """A path or an in-memory file for PyAV, and its size in bytes."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return io.BytesIO(bytes(source)), len(source)
    path = Path(source)
    if not path.is_file():
        raise VideoError(f"no such video file: {path}")
    return str(path), path.stat().st_size


def _head(source) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source[:16])
    with open(source, "rb") as f:
        return f.read(16)


def _image_kind(head: bytes) -> str | None:
    for sig, kind in _IMAGE_SIGNATURES:
        if head.startswith(sig):
            if kind == "WebP" and head[8:12] != b"WEBP":
                continue
            return kind
    return None


def _looks_like_video(head: bytes) -> bool:
    """Whether the first bytes are those of an MP4/MOV (``ftyp``, ``moov``, ``mdat``), Matroska/WebM or AVI file."""
    return (
        head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free")
        or head.startswith(b"\x1a\x45\xdf\xa3")
        or (head.startswith(b"RIFF") and head[8:12] == b"AVI ")
    )


def _open(source):
    """The opened container and its first video stream, or a VideoError that says why not."""
    import av

    file, size = _as_file(source)
    if size == 0:
        raise VideoError(MSG_EMPTY)
    if size > MAX_VIDEO_BYTES:
        raise VideoError(MSG_TOO_BIG.format(size=size / 2**20, limit=MAX_VIDEO_BYTES / 2**20))
    kind = _image_kind(_head(source))
    if kind is not None:
        raise VideoError(MSG_IS_IMAGE.format(kind=kind))
    try:
        container = av.open(file, mode="r", metadata_errors="ignore")
    except (av.FFmpegError, UnicodeDecodeError, OSError) as exc:
        detail = re.sub(r"^\[Errno -?\d+\] ", "", str(exc).split(": '")[0])  # FFmpeg's text, not its number
        if _looks_like_video(_head(source)):  # a container's signature, then nothing that decodes: cut or damaged
            raise VideoError(MSG_CORRUPT.format(detail=detail)) from exc
        raise VideoError(MSG_NOT_VIDEO.format(supported=SUPPORTED, detail=detail)) from exc
    names = set(container.format.name.split(","))
    if not names & set(ALLOWED_DEMUXERS):
        long_name = container.format.long_name
        container.close()
        raise VideoError(MSG_NOT_VIDEO.format(supported=SUPPORTED, detail=f"this is {long_name}"))
    if not container.streams.video:
        container.close()
        raise VideoError(MSG_NO_STREAM.format(supported=SUPPORTED))
    return container, container.streams.video[0]


def _duration(container, stream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000  # AV_TIME_BASE
    return None


def _info(container, stream, rotation: int) -> VideoInfo:
    w, h = stream.codec_context.width, stream.codec_context.height
    if rotation in (90, 270):
        w, h = h, w
    rate = stream.average_rate
    return VideoInfo(
        width=int(w),
        height=int(h),
        duration=_duration(container, stream),
        native_fps=float(rate) if rate else None,
        rotation=rotation,
        codec=stream.codec_context.name,
        container=container.format.name,
        frames=int(stream.frames or 0),
    )


def _check_limits(container, stream) -> None:
    duration = _duration(container, stream)
    if duration is not None and duration > MAX_DURATION_S:
        raise VideoError(MSG_TOO_LONG.format(s=duration, limit=MAX_DURATION_S))
    w, h = stream.codec_context.width, stream.codec_context.height
    if w * h > MAX_FRAME_PIXELS:
        raise VideoError(MSG_FRAME_TOO_BIG.format(w=w, h=h, mp=w * h / 1e6, limit=MAX_FRAME_PIXELS / 1e6))


def _rotation(frame) -> int:
    """The frame's display rotation, snapped to a quarter turn (counter-clockwise degrees, 0-270)."""
    degrees = getattr(frame, "rotation", 0) or 0
    return int(round(degrees / 90.0)) % 4 * 90


def probe_video(source: VideoSource) -> VideoInfo:
    """What a video is (size, duration, rate, rotation, codec), from its header and first frame.

    Parameters
    ----------
    source
        A path, or the file's bytes (an upload kept in memory).

    Returns
    -------
    VideoInfo
        The displayed size (rotation applied) and the container's figures.

    Raises
    ------
    VideoError
        The file is not a video we read, is over a limit, or no frame of it decodes.
    """
    container, stream = _open(source)
    try:
        _check_limits(container, stream)
        try:
            first = next(container.decode(stream))
        except StopIteration:
            raise VideoError(MSG_CORRUPT.format(detail=NO_FRAME_DETAIL)) from None
        except Exception as exc:  # noqa: BLE001 - FFmpeg raises many kinds; all mean the same to a user
            raise VideoError(MSG_NO_FRAMES.format(detail=str(exc))) from exc
        return _info(container, stream, _rotation(first))
    finally:
        container.close()


def _work_size(w: int, h: int, max_side: int) -> tuple[int, int, float]:
    scale = min(1.0, max_side / max(w, h))
    return max(2, round(w * scale)) // 2 * 2, max(2, round(h * scale)) // 2 * 2, scale


@dataclass
class FrameStream:
    """The sampled frames of a video, decoded as they are iterated (never the whole video in memory).

    ``info`` is read on creation; ``warnings`` collects what the user should know once iteration ends (a file cut
    short). Iterate once.

    Parameters
    ----------
    source
        A path, or the file's bytes.
    fps
        Frames sampled per second of video; None or at least the native rate keeps every frame.
    max_side
        Long side of the sampled frames' images (a larger video is scaled down; boxes are mapped back).
    """

    source: VideoSource
    fps: float | None = DEFAULT_FPS
    max_side: int = WORK_MAX_SIDE
    info: VideoInfo = field(init=False)
    warnings: list[str] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        if self.fps is not None and not (
            isinstance(self.fps, (int, float)) and math.isfinite(self.fps) and self.fps > 0
        ):
            raise VideoError(MSG_BAD_FPS.format(fps=self.fps))
        self.info = probe_video(self.source)

    @property
    def expected_samples(self) -> int | None:
        """About how many frames iteration yields (for a progress bar); None when the duration is unknown."""
        d, native = self.info.duration, self.info.native_fps
        if d is None:
            return None
        rate = native if self.fps is None or (native and self.fps >= native) else self.fps
        return max(1, math.ceil(d * rate - 1e-6)) if rate else None

    def __iter__(self) -> Iterator[SampledFrame]:
        import av

        container, stream = _open(self.source)
        stream.thread_type = "AUTO"  # frame-threaded decoding: several cores for H.264/VP9
        start = float(stream.start_time * stream.time_base) if stream.start_time is not None else None
        period = None if self.fps is None else 1.0 / self.fps
        next_t, index, decoded, last_t = -math.inf, 0, 0, 0.0
        try:
            _check_limits(container, stream)
            frames = container.decode(stream)
            while True:
                try:
                    frame = next(frames)
                except StopIteration:
                    break
                except (av.FFmpegError, EOFError, OSError) as exc:
                    if index == 0:
                        raise VideoError(MSG_NO_FRAMES.format(detail=str(exc))) from exc
                    self.warnings.append(MSG_CUT_SHORT.format(t=last_t))
                    logger.warning("decoding stopped at %.2f s: %s", last_t, exc)
                    break
                decoded += 1
                t = self._time(frame, stream, decoded - 1, start)
                if start is None:
                    start, t = t, 0.0
                if t > MAX_DURATION_S:
                    raise VideoError(MSG_TOO_LONG.format(s=t, limit=MAX_DURATION_S))
                last_t = t
                if period is not None and t < next_t - 1e-6:
                    continue
                if period is not None:  # the next point of the grid k / fps: samples do not drift off the rate
                    next_t = (math.floor(t / period + 1e-6) + 1) * period
                yield _to_sample(frame, index, t, self.max_side)
                index += 1
            declared = self.info.duration
            if declared is not None and not self.warnings and last_t + CUT_SHORT_S < declared:
                self.warnings.append(MSG_CUT_SHORT.format(t=last_t))  # the header says longer: the file lost its end
        finally:
            container.close()

    @staticmethod
    def _time(frame, stream, n: int, start: float | None) -> float:
        """Seconds from the stream's start, from the frame's timestamp (its position at the average rate if none)."""
        if frame.pts is not None and stream.time_base is not None:
            return float(frame.pts * stream.time_base) - (start or 0.0)
        rate = float(stream.average_rate) if stream.average_rate else 25.0
        return n / rate


def _to_sample(frame, index: int, t: float, max_side: int) -> SampledFrame:
    """A decoded frame upright and scaled (swscale does the scaling while it converts to RGB)."""
    k = _rotation(frame) // 90
    stored_w, stored_h = frame.width, frame.height
    shown_w, shown_h = (stored_h, stored_w) if k % 2 else (stored_w, stored_h)
    w, h, _ = _work_size(shown_w, shown_h, max_side)
    sw, sh = (h, w) if k % 2 else (w, h)
    image = frame.to_ndarray(format="rgb24", width=sw, height=sh)
    if k:
        image = np.ascontiguousarray(np.rot90(image, k))  # np.rot90 turns counter-clockwise, as the matrix does
    return SampledFrame(index=index, t=round(t, 6), image=image, scale=image.shape[1] / shown_w)


def sample_frames(source: VideoSource, fps: float | None = DEFAULT_FPS, max_side: int = WORK_MAX_SIDE) -> FrameStream:
    """The frames of a video sampled at ``fps``, upright, decoded one at a time.

    Parameters
    ----------
    source
        A path, or the file's bytes (an upload kept in memory).
    fps
        Frames per second of video to keep (default 5); None keeps every frame.
    max_side
        Long side of the returned images; larger videos are scaled down for speed.

    Returns
    -------
    FrameStream
        Iterable of :class:`SampledFrame`; its ``info`` is known at once, its ``warnings`` after iteration. Creating
        it raises :class:`~fer_core.errors.VideoError` for a file that is not a video we read or is over a limit.
    """
    return FrameStream(source, fps, max_side)


def frame_at(source: VideoSource, t: float, max_side: int = WORK_MAX_SIDE) -> SampledFrame:
    """The frame shown at ``t`` seconds (the last one starting at or before it), as :class:`FrameStream` samples it.

    Seeks to the keyframe before ``t`` and decodes forward, so a frame of a long video costs a fraction of a second.

    Parameters
    ----------
    source
        A path, or the file's bytes.
    t
        Seconds from the stream's start (a sampled frame's ``t``).
    max_side
        Long side of the returned image, as in the analysis that produced ``t``.

    Returns
    -------
    SampledFrame
        Its ``index`` is 0 (it is not part of a sampling).

    Raises
    ------
    VideoError
        No frame decodes at or before ``t``.
    """
    container, stream = _open(source)
    try:
        start = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
        if stream.time_base is not None:
            container.seek(max(0, int((t + start) / stream.time_base)), stream=stream, backward=True)
        best = None
        for n, frame in enumerate(container.decode(stream)):
            ft = FrameStream._time(frame, stream, n, start)
            if ft > t + 1e-6 and best is not None:
                break
            best = (frame, ft)
        if best is None:
            raise VideoError(MSG_NO_FRAMES.format(detail=f"nothing at {t:.2f} s"))
        return _to_sample(best[0], 0, best[1], max_side)
    finally:
        container.close()
