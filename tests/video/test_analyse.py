"""End to end on clips made here: episodes where they were planted, ids kept through a crossing, a rotated clip
read as the upright one, heatmaps of a frame decoded again equal to the analysis's own scores."""

from __future__ import annotations

import numpy as np

from fer_core.video import analyse_video, annotated_clip, apex_heatmaps, box_iou, explain_track_frame, probe_video
from fer_core.video.synthetic import planted_episodes

FPS = 5
TOLERANCE_FRAMES = 2


def _planted(clip, person=0):
    step = round(clip.fps / FPS)
    return planted_episodes(clip.planted[person][::step])


def test_episodes_are_found_within_two_frames_of_the_planted_ones(expression_clip, expression_analysis):
    (track,) = expression_analysis.tracks
    assert len(track.frames) == expression_analysis.samples == 60
    planted = _planted(expression_clip)
    found = [(e.label, e.onset, e.apex, e.offset) for e in track.episodes]
    assert [p[0] for p in planted] == [f[0] for f in found] == ["happy", "surprise"]
    error = np.abs(np.array([p[1:] for p in planted]) - np.array([f[1:] for f in found])) * FPS
    assert error.max() <= TOLERANCE_FRAMES, (planted, found)
    assert [s.label for s in track.segments] == ["neutral", "happy", "neutral", "surprise", "neutral"]


def test_a_clip_rotated_by_metadata_gives_the_upright_clips_results(rotated_clip, expression_analysis, synth_model):
    rotated = analyse_video(rotated_clip.data, synth_model, fps=FPS)
    assert rotated.info.rotation == 90 and (rotated.info.width, rotated.info.height) == (480, 270)
    (a,), (b,) = expression_analysis.tracks, rotated.tracks
    assert [f.t for f in a.frames] == [f.t for f in b.frames]
    # boxes in the displayed frame's pixels; stored turned, the frames carry other compression noise, and the
    # detector's boxes move by a few pixels with it
    assert min(box_iou(fa.box, fb.box) for fa, fb in zip(a.frames, b.frames)) > 0.75
    assert np.abs(a.smoothed - b.smoothed).mean() < 0.03
    planted = np.array([p[1:] for p in _planted(rotated_clip)])
    assert [e.label for e in b.episodes] == [e.label for e in a.episodes]
    assert np.abs(planted - [(e.onset, e.apex, e.offset) for e in b.episodes]).max() * FPS <= TOLERANCE_FRAMES


def test_two_people_keep_their_ids_through_a_crossing(crossing_clip, synth_model):
    result = analyse_video(crossing_clip.data, synth_model, fps=FPS)
    assert len(result.tracks) == 2
    for track in result.tracks:
        person = []
        for f in track.frames:
            i = round(f.t * crossing_clip.fps)
            person.append(int(np.argmax([box_iou(f.box, crossing_clip.planted[p][i].box) for p in range(2)])))
        assert len(set(person)) == 1, person  # a track never jumps to the other walker
        assert len(track.frames) >= 0.8 * result.samples  # and follows its walker through the clip
    assert {p for p in range(2)} == {
        int(np.argmax([box_iou(t.frames[0].box, crossing_clip.planted[p][0].box) for p in range(2)]))
        for t in result.tracks
    }


def test_a_frames_heatmaps_come_from_the_same_face_the_analysis_scored(
    expression_clip, expression_analysis, synth_model
):
    (track,) = expression_analysis.tracks
    ep = track.episodes[0]
    r = explain_track_frame(expression_clip.data, track, ep.frames[1], synth_model)
    assert np.allclose(r.probs, track.frames[ep.frames[1]].probs, atol=1e-5)
    assert r.pred == ep.label and r.heatmaps.shape == (7, 48, 48)
    heat = apex_heatmaps(expression_clip.data, expression_analysis, synth_model)
    assert sorted(heat) == [(0, 0), (0, 1)] and heat[(0, 1)].pred == "surprise"


def test_the_annotated_clip_plays_at_the_sampling_rate(expression_clip, expression_analysis):
    data = annotated_clip(expression_clip.data, expression_analysis)
    info = probe_video(data)
    assert info.native_fps == FPS and info.codec == "h264" and (info.width, info.height) == (480, 270)


def test_extra_models_add_their_curves(expression_clip, synth_model):
    from fer_core.models import load_model
    from tests.video.conftest import ROOT

    au = load_model(str(ROOT / "assets" / "runs" / "synthfacs_au_iat" / "model.safetensors"))
    short = expression_clip.data
    result = analyse_video(short, synth_model, fps=1, extra={"au": au})
    (track,) = result.tracks
    curve = track.curve("au")
    assert curve.shape == (len(track.frames), au.card.num_classes)
    k12 = list(au.card.label_names).index("AU12")  # lip corner puller: up during the planted smile only
    t = track.times
    smiling = (t >= 2.6) & (t <= 3.8)
    assert curve[smiling, k12].min() > curve[~((t >= 2.0) & (t <= 4.4)), k12].max()
