"""A video's faces over time: decode -> detect -> track -> classify each sampled frame, then each track's smoothed
curves, segments and episodes; heatmaps of any frame on demand, and at each episode's apex.

With the 468-point mesh (``landmarker="mesh468"``) each face is also fitted with the mesh once per sampled frame:
every model aligns by the mesh's five points and the frame keeps the head pose (yaw, pitch, roll); a frame where the
mesh finds no face in the detector's box keeps the detector's points and has no pose.

Only figures are kept per frame (box, landmarks, scores, pose), never the frames: a frame is decoded again, by seeking,
when its heatmaps are asked for. Memory therefore grows with the number of faces times frames, by a few hundred
bytes each, whatever the video's resolution.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..explain import Explainer
from ..face import (
    DetectedFace,
    Face,
    FaceDetector,
    default_detector,
    face_from_detection,
    resolve_landmarker,
    with_mesh,
)
from ..face.pose import HeadPose, pose_columns
from ..models import LoadedModel
from ..models.preprocess import predict_probs
from ..workflows.explain import FaceResult, explain_faces
from .decode import DEFAULT_FPS, WORK_MAX_SIDE, FrameStream, VideoInfo, VideoSource, frame_at
from .timeline import SMOOTH_WINDOW, Episode, Segment, episodes, segments, smooth
from .tracking import FaceTracker

MIN_TRACK_FRAMES = 3  # shorter tracks (a face glimpsed, a false detection) are dropped and counted
MAX_FACES = 8  # faces per frame, largest first


@dataclass
class TrackFrame:
    """One face at one sampled frame.

    Parameters
    ----------
    t
        Seconds.
    sample
        The sampled frame's index.
    box
        (x, y, w, h) in the displayed video's pixels.
    landmarks
        (5, 2) in the displayed video's pixels.
    score
        Detector confidence.
    probs
        (K,) the expression model's scores.
    extra
        Curve name -> (K',) scores of each additional model (action units, EmoNet-40).
    pose
        The head pose measured by the mesh; None with the 5 points, or where the mesh found no face.
    """

    t: float
    sample: int
    box: tuple[float, float, float, float]
    landmarks: np.ndarray = field(repr=False)
    score: float
    probs: np.ndarray = field(repr=False)
    extra: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    pose: HeadPose | None = None


@dataclass
class Track:
    """One person's face through the video, its curves and its expression episodes.

    Parameters
    ----------
    id
        Stable id, 0, 1, ... in order of first appearance.
    frames
        The sampled frames it was seen in, in time order.
    labels
        The expression model's output names.
    window
        Frames of the centred moving average (:func:`fer_core.video.timeline.smooth`).
    with_pose
        The analysis measured head poses (the mesh): every frame then has pose fields in the CSV and JSON, empty
        where the mesh found no face, so every person's table has the same columns.
    """

    id: int
    frames: list[TrackFrame]
    labels: tuple[str, ...]
    window: int = SMOOTH_WINDOW
    with_pose: bool = False

    @property
    def times(self) -> np.ndarray:
        return np.array([f.t for f in self.frames])

    @property
    def probs(self) -> np.ndarray:
        """(T, K) the raw scores per frame."""
        return np.stack([f.probs for f in self.frames])

    @property
    def smoothed(self) -> np.ndarray:
        """(T, K) the scores after the centred moving average."""
        return smooth(self.probs, self.window)

    def curve(self, name: str) -> np.ndarray:
        """(T, K') an additional model's scores per frame."""
        return np.stack([f.extra[name] for f in self.frames])

    @property
    def has_pose(self) -> bool:
        """Whether any frame has a head pose (the analysis used the mesh and it fitted)."""
        return any(f.pose is not None for f in self.frames)

    @property
    def poses(self) -> np.ndarray:
        """(T, 3) yaw, pitch and roll in degrees per frame; NaN where there is no pose."""
        return np.array([(f.pose.yaw, f.pose.pitch, f.pose.roll) if f.pose else (np.nan,) * 3 for f in self.frames])

    @property
    def segments(self) -> list[Segment]:
        return segments(self.smoothed, self.labels)

    @property
    def episodes(self) -> list[Episode]:
        return episodes(self.times, self.smoothed, self.labels)

    def nearest(self, t: float) -> int:
        """Index of the track's frame closest to ``t`` seconds."""
        return int(np.abs(self.times - t).argmin())

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "frames": [
                {
                    "t": round(f.t, 3),
                    "box": [round(v, 1) for v in f.box],
                    "probs": {lab: round(float(p), 5) for lab, p in zip(self.labels, f.probs)},
                    **({"pose": f.pose.as_dict() if f.pose is not None else None} if self.with_pose else {}),
                }
                for f in self.frames
            ],
            "episodes": [e.to_json() for e in self.episodes],
        }

    def to_frame(self, extra_labels: Mapping[str, Sequence[str]] | None = None) -> pd.DataFrame:
        """One row per frame: time, box, the head pose where the mesh measured it, the raw and smoothed scores, the
        dominant expression and any extra curves (the per-track CSV)."""
        raw, sm = self.probs, self.smoothed
        df = pd.DataFrame(
            {
                "t": self.times,
                "x": [f.box[0] for f in self.frames],
                "y": [f.box[1] for f in self.frames],
                "w": [f.box[2] for f in self.frames],
                "h": [f.box[3] for f in self.frames],
                "dominant": [self.labels[k] for k in sm.argmax(1)],
            }
        )
        if self.with_pose:
            for name, values in pose_columns(self.poses).items():
                df[name] = values
        for k, lab in enumerate(self.labels):
            df[f"p_{lab}"] = raw[:, k]
        for k, lab in enumerate(self.labels):
            df[f"smooth_{lab}"] = sm[:, k]
        for name, names in (extra_labels or {}).items():
            values = self.curve(name)
            for k, lab in enumerate(names):
                df[f"{name}_{lab}"] = values[:, k]
        return df


@dataclass
class VideoAnalysis:
    """What :func:`analyse_video` found.

    Parameters
    ----------
    info
        The video's size, duration, rate and rotation.
    fps
        The sampling rate used (None: every frame).
    samples
        Sampled frames processed.
    tracks
        People kept, ids renumbered 0, 1, ... by first appearance.
    dropped
        Tracks shorter than the minimum, not kept.
    labels
        The expression model's output names.
    extra_labels
        Curve name -> output names of each additional model.
    model
        The expression model's name.
    seconds
        Time spent per stage: ``decode``, ``detect``, ``model``, ``mesh`` (with the mesh) and ``total``.
    warnings
        What the user should know (a file cut short).
    landmarker
        How faces were landmarked: ``mtcnn5`` (the detector's 5 points) or ``mesh468`` (with head pose).
    """

    info: VideoInfo
    fps: float | None
    samples: int
    tracks: list[Track]
    dropped: int
    labels: tuple[str, ...]
    extra_labels: dict[str, tuple[str, ...]]
    model: str
    seconds: dict[str, float]
    warnings: list[str] = field(default_factory=list)
    landmarker: str = "mtcnn5"

    def track(self, track_id: int) -> Track:
        for tr in self.tracks:
            if tr.id == track_id:
                return tr
        raise KeyError(f"no track {track_id}; tracks: {', '.join(str(t.id) for t in self.tracks) or 'none'}")

    @property
    def realtime_factor(self) -> float:
        """Seconds of video analysed per second of compute (above 1: faster than real time)."""
        duration = self.info.duration or (self.samples / self.fps if self.fps else 0.0)
        return duration / self.seconds["total"] if self.seconds.get("total") else float("nan")

    def to_json(self) -> dict:
        return {
            "model": self.model,
            "landmarker": self.landmarker,
            "fps": self.fps,
            "frames": self.samples,
            "info": {
                "width": self.info.width,
                "height": self.info.height,
                "duration": self.info.duration,
                "native_fps": self.info.native_fps,
                "rotation": self.info.rotation,
                "codec": self.info.codec,
            },
            "smoothing": f"centred moving average over {SMOOTH_WINDOW} sampled frames",
            "dropped_tracks": self.dropped,
            "warnings": list(self.warnings),
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
            "tracks": [t.to_json() for t in self.tracks],
        }


def _mesh_detections(
    image: np.ndarray, dets: Sequence[DetectedFace]
) -> tuple[list[DetectedFace], list[HeadPose | None]]:
    """Each detection with the mesh's five points in place of the detector's, and its head pose (the detection
    unchanged, and no pose, where the mesh finds no face in the box). One fit serves every model of the frame."""
    from ..face import fit_mesh, head_pose
    from ..face.mesh_regions import mesh_landmarks

    out, poses = [], []
    for d in dets:
        fit = fit_mesh(image, d.box, d.landmarks[:2])
        if fit.is_face:
            out.append(DetectedFace(box=d.box, score=d.score, landmarks=mesh_landmarks(fit.points)))
            poses.append(head_pose(fit.points))
        else:
            out.append(d)
            poses.append(None)
    return out, poses


def _scores(loaded: LoadedModel, image: np.ndarray, dets: Sequence[DetectedFace]) -> np.ndarray:
    card = loaded.card
    crops = [face_from_detection(image, d, card.input_size, card.alignment).crop for d in dets]
    return predict_probs(loaded.model, card, crops, batch_size=64)


def analyse_video(
    source: VideoSource,
    loaded: LoadedModel,
    fps: float | None = DEFAULT_FPS,
    detector: FaceDetector | None = None,
    extra: Mapping[str, LoadedModel] | None = None,
    min_track_frames: int = MIN_TRACK_FRAMES,
    max_faces: int = MAX_FACES,
    max_side: int = WORK_MAX_SIDE,
    progress: Callable[[int, int], None] | None = None,
    landmarker: str = "mtcnn5",
) -> VideoAnalysis:
    """Every face of a video over time: tracks with scores per sampled frame, smoothed curves and episodes.

    Parameters
    ----------
    source
        A video path, or its bytes (an upload kept in memory).
    loaded
        The expression model.
    fps
        Frames sampled per second of video (default 5); None: every frame.
    detector
        A shared face detector; None uses the process-wide one.
    extra
        Curve name -> another model scored on the same faces (an AU or EmoNet-40 run), each with its own alignment.
    min_track_frames
        Tracks seen in fewer sampled frames are dropped (and counted in ``dropped``).
    max_faces
        Faces per frame, largest first.
    max_side
        Long side frames are scaled to for detection.
    progress
        Called with (sampled frames done, expected total; 0 when the container gives no duration).
    landmarker
        ``mtcnn5`` (default: the detector's 5 points, fastest), ``mesh468`` (the mesh fitted once per face and
        frame: alignment by its points, and each frame's head pose; about 25 ms per face on a CPU core, and the
        detector's points for a frame where it finds no face) or ``auto`` (the mesh where it can run).

    Returns
    -------
    VideoAnalysis
        Tracks, their episodes, and where the time went. A file that is not a video we read, or is over a limit,
        raises :class:`~fer_core.errors.VideoError` before any frame is processed.
    """
    detector = detector or default_detector()
    use_mesh = resolve_landmarker(landmarker) == "mesh468"  # an unknown name fails before the video is opened
    extra = dict(extra or {})
    stream = FrameStream(source, fps, max_side)
    total = stream.expected_samples or 0
    tracker = FaceTracker()
    by_id: dict[int, list[TrackFrame]] = {}
    spent = {"decode": 0.0, "detect": 0.0, "model": 0.0} | ({"mesh": 0.0} if use_mesh else {})
    t_start = time.perf_counter()
    frames = iter(stream)
    samples = 0
    while True:
        t0 = time.perf_counter()
        sampled = next(frames, None)
        t1 = time.perf_counter()
        spent["decode"] += t1 - t0
        if sampled is None:
            break
        dets = detector.detect(sampled.image)[:max_faces]
        t2 = time.perf_counter()
        spent["detect"] += t2 - t1
        poses: list[HeadPose | None] = [None] * len(dets)
        if dets and use_mesh:
            dets, poses = _mesh_detections(sampled.image, dets)
            spent["mesh"] += time.perf_counter() - t2
            t2 = time.perf_counter()
        if dets:
            probs = _scores(loaded, sampled.image, dets)
            curves = {name: _scores(m, sampled.image, dets) for name, m in extra.items()}
            inv = 1.0 / sampled.scale
            boxes = [tuple(v * inv for v in d.box) for d in dets]
            marks = [d.landmarks * inv for d in dets]
            ids = tracker.update(sampled.t, boxes, marks)
            for i, tid in enumerate(ids):
                by_id.setdefault(tid, []).append(
                    TrackFrame(
                        t=sampled.t,
                        sample=sampled.index,
                        box=boxes[i],
                        landmarks=marks[i],
                        score=dets[i].score,
                        probs=probs[i],
                        extra={name: c[i] for name, c in curves.items()},
                        pose=poses[i],
                    )
                )
        else:
            tracker.update(sampled.t, [], [])
        spent["model"] += time.perf_counter() - t2
        samples += 1
        if progress is not None:
            progress(samples, max(total, samples))
    spent["total"] = time.perf_counter() - t_start
    kept = [frames_ for _, frames_ in sorted(by_id.items()) if len(frames_) >= min_track_frames]
    labels = loaded.card.label_names
    return VideoAnalysis(
        info=stream.info,
        fps=fps,
        samples=samples,
        tracks=[Track(i, fr, labels, with_pose=use_mesh) for i, fr in enumerate(kept)],
        dropped=len(by_id) - len(kept),
        labels=labels,
        extra_labels={name: m.card.label_names for name, m in extra.items()},
        model=loaded.name,
        seconds=spent,
        warnings=list(stream.warnings),
        landmarker="mesh468" if use_mesh else "mtcnn5",
    )


def face_at(
    source: VideoSource,
    track: Track,
    index: int,
    loaded: LoadedModel,
    max_side: int = WORK_MAX_SIDE,
    landmarker: str = "mtcnn5",
) -> Face:
    """The aligned :class:`~fer_core.face.Face` of ``track``'s frame ``index``, decoded again from ``source``.

    Parameters
    ----------
    source
        The video the track comes from.
    track
        A track of its analysis.
    index
        Position in ``track.frames``.
    loaded
        The model whose input size and alignment the crop follows.
    max_side
        As in the analysis (the landmarks are mapped to that scale).
    landmarker
        As in the analysis (``VideoAnalysis.landmarker``): with the mesh, the face gets its regions, and the head
        pose the analysis measured at that frame.

    Returns
    -------
    fer_core.face.Face
        Aligned as the analysis aligned it, with region masks.
    """
    tf = track.frames[index]
    frame = frame_at(source, tf.t, max_side)
    s = frame.scale
    det = DetectedFace(box=tuple(v * s for v in tf.box), score=tf.score, landmarks=tf.landmarks * s)
    face = face_from_detection(frame.image, det, loaded.card.input_size, loaded.card.alignment)
    if resolve_landmarker(landmarker) == "mesh468":
        face = with_mesh(face, frame.image)
        face.pose = tf.pose  # the pose the analysis measured and shows, not a second fit's
    return face


def explain_track_frame(
    source: VideoSource,
    track: Track,
    index: int,
    loaded: LoadedModel,
    method: str = "lrp",
    explainer: Explainer | None = None,
    landmarker: str = "mtcnn5",
) -> FaceResult:
    """All-class heatmaps of one face at one frame (the frame is decoded again, by seeking).

    Parameters
    ----------
    source
        The video the track comes from.
    track
        A track of its analysis.
    index
        Position in ``track.frames``.
    loaded
        The expression model.
    method
        Attribution method; ignored when ``explainer`` is given.
    explainer
        A shared explainer of ``loaded.model``.
    landmarker
        As in the analysis (``VideoAnalysis.landmarker``).

    Returns
    -------
    fer_core.workflows.explain.FaceResult
        Scores and one heatmap per class.
    """
    face = face_at(source, track, index, loaded, landmarker=landmarker)
    return explain_faces(loaded, [face], method, explainer)[0]


def apex_heatmaps(
    source: VideoSource,
    analysis: VideoAnalysis,
    loaded: LoadedModel,
    method: str = "lrp",
    explainer: Explainer | None = None,
) -> dict:
    """(track id, episode number) -> the all-class heatmaps at that episode's apex."""
    out = {}
    for track in analysis.tracks:
        for n, ep in enumerate(track.episodes):
            out[(track.id, n)] = explain_track_frame(
                source, track, ep.frames[1], loaded, method, explainer, analysis.landmarker
            )
    return out
