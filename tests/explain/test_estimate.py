"""The time estimate is passes per face x measured seconds per pass: the pass counts are checked by hand, the
timing only for being measured once and scaling with the number of faces (never against wall time)."""

from __future__ import annotations

import pytest
import torch

from fer_core.explain import (
    GradCamExplainer,
    IntegratedGradientsExplainer,
    LRPExplainer,
    OcclusionExplainer,
    SaliencyExplainer,
)
from fer_core.explain import estimate as est
from fer_core.explain.estimate import MSG_FACES, MSG_SHAPE, Work, estimate_seconds


def test_occlusion_counts_one_forward_per_window_plus_the_clean_face(tiny_xception):
    # 48 px, window 8, stride 4: offsets 0, 4, ..., 40 -> 11 per axis, 121 windows
    occ = OcclusionExplainer(tiny_xception, window=8, stride=4)
    assert occ.num_windows((1, 48, 48)) == 121
    assert occ.work_per_face(7, (1, 48, 48)) == Work(forwards=122, backwards=0)
    # 50 px: offsets 0..40 and one more at 44 whose window is cut at the edge -> 12 per axis
    assert OcclusionExplainer(tiny_xception, window=8, stride=4).num_windows((1, 50, 50)) == 144
    assert OcclusionExplainer(tiny_xception, window=6, stride=3).num_windows((1, 20, 12)) == 6 * 3


def test_gradient_methods_count_their_passes(tiny_xception):
    shape = (1, 48, 48)
    assert IntegratedGradientsExplainer(tiny_xception, n_steps=32).work_per_face(7, shape) == Work(32, 32 * 7)
    assert LRPExplainer(tiny_xception).work_per_face(7, shape) == Work(1, 7)
    assert SaliencyExplainer(tiny_xception).work_per_face(7, shape) == Work(7, 7)
    assert GradCamExplainer(tiny_xception).work_per_face(7, shape) == Work(7, 7)


def test_estimate_is_measured_once_and_scales_with_faces(tiny_xception, monkeypatch):
    calls = []
    real = est._time_once
    monkeypatch.setattr(est, "_time_once", lambda model, x, backward: calls.append(x.shape) or real(model, x, backward))
    explainer = IntegratedGradientsExplainer(tiny_xception, n_steps=8)
    one = estimate_seconds(explainer, 1, (1, 20, 20))
    measured = len(calls)
    three = estimate_seconds(explainer, 3, (1, 20, 20))
    assert len(calls) == measured > 0  # the second estimate reuses the timing
    assert one > 0 and three == pytest.approx(3 * one)
    assert estimate_seconds(explainer, 0, (1, 20, 20)) == 0.0
    assert calls[0][1:] == torch.Size([1, 20, 20])


def test_estimate_rejects_bad_arguments(tiny_xception):
    explainer = LRPExplainer(tiny_xception)
    with pytest.raises(ValueError, match=MSG_FACES.split("{")[0]):
        estimate_seconds(explainer, -1, (1, 20, 20))
    with pytest.raises(ValueError, match=MSG_SHAPE.split("{")[0].replace("(", r"\(").replace(")", r"\)")):
        estimate_seconds(explainer, 1, (20, 20))


def test_ig_and_occlusion_are_slow_and_the_one_pass_methods_are_not():
    from fer_core.explain import create_explainer, is_slow
    from fer_core.models import DEFAULT_MODEL, load_model

    loaded = load_model(DEFAULT_MODEL)
    shape = (loaded.card.in_chans, *loaded.card.input_size)
    slow = {m: is_slow(create_explainer(m, loaded.model, loaded.card), shape) for m in ("lrp", "saliency", "ig")}
    slow["occlusion"] = is_slow(create_explainer("occlusion", loaded.model, loaded.card), shape)
    # 7 classes: LRP 1 + 7 passes, saliency 7 + 7; IG 32 steps x 7 classes; occlusion one pass per window (225)
    assert slow == {"lrp": False, "saliency": False, "ig": True, "occlusion": True}


def test_a_gradient_free_method_is_estimated_without_a_backward_pass(tiny_xception, monkeypatch):
    """Occlusion on a model without gradients (an ONNX graph) must not time a backward pass it cannot run."""
    asked = []
    real = est._time_once
    monkeypatch.setattr(
        est, "_time_once", lambda model, x, backward: asked.append(backward) or real(model, x, backward)
    )
    explainer = OcclusionExplainer(tiny_xception, window=8, stride=4)
    assert estimate_seconds(explainer, 2, (1, 20, 20)) > 0
    assert asked and not any(asked)
