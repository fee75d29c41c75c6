"""Video: faces followed over time, their expression curves and episodes, heatmaps at the moments that matter.

:func:`analyse_video` decodes a clip (:mod:`.decode`, PyAV), samples frames at a chosen rate, detects and tracks
the faces (:mod:`.tracking`), scores every face with the expression model (and any AU or EmoNet-40 model), then
smooths each track's curves and finds its episodes (:mod:`.timeline`). :func:`explain_track_frame` and
:func:`apex_heatmaps` decode a frame again for its heatmaps; :func:`annotated_clip` draws the tracks on the clip.

Names load on first use, so ``fer-core --help`` does not import torch or OpenCV for this command.
"""

from __future__ import annotations

from .._utils.lazy import lazy_getattr

_EXPORTS: dict[str, str] = {
    "MIN_TRACK_FRAMES": ".analyse",
    "Track": ".analyse",
    "TrackFrame": ".analyse",
    "VideoAnalysis": ".analyse",
    "analyse_video": ".analyse",
    "apex_heatmaps": ".analyse",
    "explain_track_frame": ".analyse",
    "face_at": ".analyse",
    "annotated_clip": ".annotate",
    "track_colour": ".annotate",
    "DEFAULT_FPS": ".decode",
    "MAX_DURATION_S": ".decode",
    "MAX_VIDEO_BYTES": ".decode",
    "SUPPORTED": ".decode",
    "FrameStream": ".decode",
    "SampledFrame": ".decode",
    "VideoInfo": ".decode",
    "VideoSource": ".decode",
    "frame_at": ".decode",
    "probe_video": ".decode",
    "sample_frames": ".decode",
    "demo_clip": ".synthetic",
    "SMOOTH_WINDOW": ".timeline",
    "Episode": ".timeline",
    "Segment": ".timeline",
    "episodes": ".timeline",
    "segments": ".timeline",
    "smooth": ".timeline",
    "FaceTracker": ".tracking",
    "box_iou": ".tracking",
}
__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(__name__, _EXPORTS)
