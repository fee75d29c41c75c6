"""Video: each person's expressions over time, the moments they peak, and why the model said so there."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import _resources as res
from dashboard import _state as keys
from dashboard import _video as vid
from dashboard.components.errors import user_errors
from dashboard.components.figures import heatmap_grid, probability_chart
from dashboard.components.text import md
from dashboard.components.video_views import episodes_table, pose_chart, timeline
from fer_core.explain import overlay
from fer_core.models import domain_notes
from fer_core.video import DEFAULT_FPS, MAX_VIDEO_BYTES, MIN_TRACK_FRAMES, SUPPORTED, probe_video

SAMPLE, UPLOAD = "Sample clip (SynthFACS)", "Upload a clip"
SAMPLE_MODEL = "run:synthfacs_bias_supervised"  # the sample's faces are SynthFACS renders: a model trained on them
VIDEO_TYPES = ["mp4", "m4v", "mov", "webm", "mkv", "avi"]
FPS_CHOICES = [1, 2, 3, 5, 10, 15]

st.title("Video")
st.caption(
    "Every person in a clip followed over time: their expression curves, the episodes where an expression "
    "dominates (onset, apex, offset), and the heatmaps at each apex or at any moment you pick."
)
left, right = st.columns([3, 2])
with left:
    source = st.radio("Clip", [SAMPLE, UPLOAD], horizontal=True, key=keys.VIDEO_SOURCE)
    if source == UPLOAD:
        upload = st.file_uploader(
            f"A video ({SUPPORTED}, up to {MAX_VIDEO_BYTES // 2**20} MB). It stays in this app's memory and is "
            "never written to disk; it is dropped when you remove it or close the tab.",
            type=VIDEO_TYPES,
            key=keys.VIDEO_UPLOAD,
            max_upload_size=MAX_VIDEO_BYTES // 2**20,
        )
        name, data = (upload.name, upload.getvalue()) if upload is not None else (None, None)
    else:
        name, data = "sample.mp4", vid.sample_clip()
names = res.model_names()
with right:
    preferred = SAMPLE_MODEL if source == SAMPLE and SAMPLE_MODEL in names else st.session_state[keys.MODEL]
    model_name = st.selectbox(
        "Expression model",
        names,
        index=names.index(preferred) if preferred in names else 0,
        key=f"{keys.VIDEO_MODEL}_{source == SAMPLE}",
        help="The sample clip is analysed with a model trained on SynthFACS; uploads with the sidebar's model.",
    )
    fps = st.select_slider("Frames sampled per second", FPS_CHOICES, value=int(DEFAULT_FPS), key=keys.VIDEO_FPS)
    au_runs, emo_runs = res.recipe_runs("au_iat"), res.recipe_runs("emonet40")
    extra_runs = tuple(
        st.multiselect(
            "Also draw curves of",
            au_runs + emo_runs,
            format_func=lambda f: f.rsplit("/", 1)[-1],
            key=keys.VIDEO_EXTRA,
            help="Action-unit or EmoNet-40 runs, scored on the same faces at every sampled frame.",
        )
    )

if data is None:
    st.info(f"Upload a clip ({SUPPORTED}) to follow its faces over time, or pick the sample clip.")
    st.stop()

video_sha = res.sha(data)
with user_errors(name):
    info = probe_video(data)
    length = f"{info.duration:.1f} s" if info.duration else "unknown length"
    st.caption(
        f"**{md(name)}**: {info.width} x {info.height}, {length}, {info.codec}"
        + (f", turned {info.rotation}° for display" if info.rotation else "")
    )
    loaded = res.load_model(model_name)
    kind = "synthfacs" if source == SAMPLE else "photo"
    for note in domain_notes(loaded.card, input_kind=kind, image_shape=(info.height, info.width, 3)):
        (st.warning if note.severity == "warning" else st.caption)(note.text)
    ready = vid.has_analysis(video_sha, model_name, fps, extra_runs)
    if not ready and source == UPLOAD and not st.button("Analyse the clip", type="primary", key=keys.VIDEO_RUN):
        if info.duration:
            st.caption(f"About {int(info.duration * fps)} frames to analyse.")
        st.stop()
    bar = st.progress(0.0, text="Analysing frames…") if not ready else None

    def step(done: int, total: int) -> None:
        if bar is not None:
            bar.progress(min(1.0, done / max(total, 1)), text=f"Analysing frames: {done} of {total}")

    analysis = vid.analyse(video_sha, data, model_name, fps, extra_runs, progress=step)
    key = vid.analysis_key(video_sha, model_name, fps, extra_runs)
    clip = vid.annotated(video_sha, data, analysis, key)
    if bar is not None:
        bar.empty()

    for warning in analysis.warnings:
        st.warning(warning)
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("People", len(analysis.tracks))
    c2.metric("Frames analysed", analysis.samples, help=f"sampled at {fps} per second")
    c3.metric(
        "Speed",
        f"{analysis.realtime_factor:.1f}x real time",
        help="Seconds of video analysed per second of computing (decode, detect, classify).",
    )
    c4.metric(
        "Short tracks dropped", analysis.dropped, help=f"faces seen in fewer than {MIN_TRACK_FRAMES} sampled frames"
    )
    v_left, v_right = st.columns([3, 2])
    with v_left:
        st.video(clip, format="video/mp4")
        st.caption(
            "The sampled frames with each person's box, number and dominant (smoothed) expression. The curves are "
            "smoothed by a centred moving average over 3 sampled frames."
            + (
                " Faces are landmarked by the 468-point mesh (sidebar: Face landmarks): each person's head pose is "
                "drawn under their curves."
                if analysis.landmarker == "mesh468"
                else ""
            )
        )
    if not analysis.tracks:
        st.info(f"No face was followed for long enough in this clip (a face needs {MIN_TRACK_FRAMES} sampled frames).")
        st.stop()

    method = res.usable_method(model_name)
    for track in analysis.tracks:
        st.subheader(f"Person {track.id + 1}")
        slider_key = f"{keys.VIDEO_TIME}_{track.id}"
        clicked_key = f"{keys.VIDEO_CLICKED}_{track.id}"
        times = [round(float(t), 2) for t in track.times]
        if slider_key not in st.session_state or st.session_state[slider_key] not in times:
            eps = track.episodes
            st.session_state[slider_key] = times[eps[0].frames[1]] if eps else times[0]
        clicked = timeline(track, f"{keys.VIDEO_TIMELINE}_{track.id}", st.session_state[slider_key])
        if clicked is not None and clicked != st.session_state.get(clicked_key):
            st.session_state[clicked_key] = clicked  # only a new click moves the scrubber
            st.session_state[slider_key] = times[track.nearest(clicked)]
            st.rerun()
        if track.has_pose:
            pose_chart(track, f"{keys.VIDEO_POSE}_{track.id}", st.session_state[slider_key])
        episodes = track.episodes
        if episodes:
            st.dataframe(episodes_table(track), hide_index=True, width="stretch")
            st.markdown("**At each apex**: the evidence for the expression (red), against it (blue)")
            cols = st.columns(min(6, len(episodes)))
            for n, ep in enumerate(episodes):
                r = vid.frame_result(video_sha, data, analysis, key, track.id, ep.frames[1], method)
                with cols[n % len(cols)]:
                    st.image(
                        overlay(r.face.crop, r.heatmap(ep.label), size=160),
                        caption=f"{ep.label} at {ep.apex:.1f} s · {r.probs[r.labels.index(ep.label)]:.0%}",
                    )
        else:
            st.caption("No expression other than neutral held for half a second.")
        t = st.select_slider("Frame (seconds)", times, key=slider_key, help="Or click a point on the timeline.")
        index = times.index(t)
        r = vid.frame_result(video_sha, data, analysis, key, track.id, index, method)
        f_left, f_right = st.columns([1, 2])
        pose = track.frames[index].pose
        with f_left:
            st.image(
                r.face.crop,
                caption=f"person {track.id + 1} at {t:.2f} s" + (f" · head {pose.text()}" if pose else ""),
                width=160,
            )
            probability_chart(r.labels, r.probs, f"{keys.VIDEO_PROBS}_{track.id}")
        with f_right:
            heatmap_grid(r, shared_scale=True)
        st.download_button(
            f"Download person {track.id + 1}'s curves (CSV)",
            track.to_frame(analysis.extra_labels).to_csv(index=False).encode(),
            file_name=f"{name.rsplit('.', 1)[0]}_person{track.id + 1}.csv",
            mime="text/csv",
            key=f"{keys.VIDEO_CSV}_{track.id}",
        )
        for curve_name, labels in analysis.extra_labels.items():
            with st.expander(f"{curve_name}: curves of person {track.id + 1}"):
                values = track.curve(curve_name)
                st.line_chart(pd.DataFrame(values, index=track.times, columns=list(labels)), height=240)
