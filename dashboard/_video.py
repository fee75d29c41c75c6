"""The Video page's cached work: a clip's analysis, its annotated copy, and the heatmaps of a chosen frame.

Clips arrive as bytes and stay in memory (PyAV reads them from a BytesIO); results are keyed on the bytes' hash.
The analysis and the annotated clip report progress, so they live in the shared LRU of ``_resources._memo`` (kept
few: a clip's analysis holds only figures, but its annotated copy is a video)."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from dashboard import _resources as res
from fer_core.models import LoadedModel
from fer_core.video import VideoAnalysis, analyse_video, annotated_clip, explain_track_frame
from fer_core.workflows import FaceResult

KEEP = 4  # analysed clips kept in memory across sessions


@st.cache_resource(show_spinner="Rendering the sample clip…")
def sample_clip() -> bytes:
    """The SynthFACS demo clip (two people, known expressions), rendered once per process."""
    from fer_core.video import demo_clip

    return demo_clip().data


def _models(model_name: str, extra_runs: tuple[str, ...]) -> tuple[LoadedModel, dict[str, LoadedModel]]:
    from pathlib import Path

    return res.load_model(model_name), {Path(f).name: res.run_model(f) for f in extra_runs}


def analysis_key(video_sha: str, model_name: str, fps: float, extra_runs: tuple[str, ...]) -> tuple:
    return ("video", video_sha, model_name, fps, extra_runs, res.device_choice(), res.landmarker_choice())


def has_analysis(video_sha: str, model_name: str, fps: float, extra_runs: tuple[str, ...]) -> bool:
    """Whether this clip was analysed with these settings already (then the page shows it without a Run click)."""
    return res._memo_has(analysis_key(video_sha, model_name, fps, extra_runs))


def analyse(
    video_sha: str,
    data: bytes,
    model_name: str,
    fps: float,
    extra_runs: tuple[str, ...] = (),
    progress: Callable[[int, int], None] | None = None,
) -> VideoAnalysis:
    """The clip's tracks, curves and episodes (:func:`fer_core.video.analyse_video`), each face landmarked by the
    sidebar's choice (the mesh adds the head pose at every sampled frame)."""
    landmarker = res.landmarker_choice()

    def compute() -> VideoAnalysis:
        loaded, extra = _models(model_name, extra_runs)
        return analyse_video(
            data, loaded, fps=fps, detector=res.detector(), extra=extra, progress=progress, landmarker=landmarker
        )

    return res._memo(analysis_key(video_sha, model_name, fps, extra_runs), compute, keep=KEEP)


def annotated(video_sha: str, data: bytes, analysis: VideoAnalysis, key: tuple, progress=None) -> bytes:
    """The clip with boxes and person numbers, H.264 for the browser's player."""
    return res._memo(("video_clip", *key), lambda: annotated_clip(data, analysis, progress=progress), keep=KEEP)


@st.cache_data(max_entries=64, show_spinner="Computing the frame's heatmaps…")
def frame_result(
    video_sha: str, _data: bytes, _analysis: VideoAnalysis, key: tuple, track_id: int, index: int, method: str
) -> FaceResult:
    """One face at one frame with every class's heatmap (the frame is decoded again by seeking)."""
    loaded = res.load_model(key[2])
    track = _analysis.track(track_id)
    explainer = res.explainer(key[2], method)
    return explain_track_frame(_data, track, index, loaded, method, explainer, _analysis.landmarker)
