"""The all-class view of Integrated Gradients and occlusion shares work between classes; per class it must give
exactly what captum gives (the reference path: the base class's one row per (face, class))."""

from __future__ import annotations

import pytest
import torch

from fer_core.explain import (
    Explainer,
    IntegratedGradientsExplainer,
    LRPExplainer,
    OcclusionExplainer,
    SaliencyExplainer,
)
from fer_core.explain.captum_methods import window_masks


def _relative_gap(got: torch.Tensor, ref: torch.Tensor) -> float:
    return float((got.double() - ref.double()).abs().max() / ref.double().abs().max())


@pytest.fixture()
def faces() -> torch.Tensor:
    torch.manual_seed(1)
    return torch.rand(2, 1, 20, 20, dtype=torch.float64) * 2 - 1


@pytest.mark.parametrize(("window", "stride"), [(6, 3), (5, 4), (20, 1)])
def test_occlusion_all_classes_equals_captum_per_class(tiny_xception, faces, window, stride):
    explainer = OcclusionExplainer(tiny_xception, window=window, stride=stride, baseline=0.1)
    got = explainer.attribute_all(faces)
    ref = Explainer.attribute_all(explainer, faces)  # captum per (face, class) row
    assert got.shape == (2, 5, 1, 20, 20)
    assert _relative_gap(got, ref) < 1e-5


@pytest.mark.parametrize("batch_size", [1, 7, 1000])
def test_occlusion_batching_is_invisible(tiny_xception, faces, batch_size):
    explainer = OcclusionExplainer(tiny_xception, window=6, stride=3)
    torch.testing.assert_close(explainer.attribute_all(faces, batch_size=batch_size), explainer.attribute_all(faces))


def test_integrated_gradients_all_classes_equals_captum_per_class(tiny_xception, faces):
    explainer = IntegratedGradientsExplainer(tiny_xception, n_steps=16, baseline=-0.2)
    got = explainer.attribute_all(faces)
    ref = Explainer.attribute_all(explainer, faces)
    assert got.shape == (2, 5, 1, 20, 20)
    assert _relative_gap(got, ref) < 1e-4


@pytest.mark.parametrize("batch_size", [1, 5, 64])
def test_integrated_gradients_batching_is_invisible(tiny_xception, faces, batch_size):
    explainer = IntegratedGradientsExplainer(tiny_xception, n_steps=12)
    torch.testing.assert_close(explainer.attribute_all(faces, batch_size=batch_size), explainer.attribute_all(faces))


@pytest.mark.parametrize("method", ["ig", "occlusion"])
def test_the_shipped_model_matches_captum(fer_model, method):
    from fer_core.explain import create_explainer

    torch.manual_seed(2)
    x = torch.rand(1, fer_model.card.in_chans, *fer_model.card.input_size) * 2 - 1
    explainer = create_explainer(method, fer_model.model, fer_model.card)
    gap = _relative_gap(explainer.attribute_all(x), Explainer.attribute_all(explainer, x))
    assert gap < (1e-4 if method == "ig" else 1e-5)


def test_window_masks_follow_captums_placement_with_a_cut_last_window():
    masks = window_masks((10, 10), window=4, stride=4)  # offsets 0, 4, 8: the last window covers only 8..9
    assert masks.shape == (9, 10, 10)
    assert masks.flatten(1).sum(1).tolist() == [16, 16, 8, 16, 16, 8, 8, 8, 4]
    assert masks.any(0).all()


@pytest.mark.parametrize("make", [lambda m: OcclusionExplainer(m, window=6, stride=3), IntegratedGradientsExplainer])
def test_progress_counts_up_to_its_total(tiny_xception, faces, make):
    calls: list[tuple[int, int]] = []
    make(tiny_xception).attribute_all(faces, batch_size=8, progress=lambda i, n: calls.append((i, n)))
    total = calls[-1][1]
    assert [done for done, _ in calls] == list(range(1, total + 1))
    assert {t for _, t in calls} == {total} and total > 1


@pytest.mark.parametrize("make", [LRPExplainer, SaliencyExplainer])
def test_every_explainer_accepts_progress(tiny_xception, faces, make):
    explainer = make(tiny_xception)
    calls: list[tuple[int, int]] = []
    explainer.attribute_all(faces, progress=lambda done, total: calls.append((done, total)))
    assert calls and calls[-1][0] == calls[-1][1]
    calls.clear()
    logits, rel = explainer.explain(faces, progress=lambda done, total: calls.append((done, total)))
    assert calls and calls[-1][0] == calls[-1][1]
    assert rel.shape == (2, 5, 1, 20, 20)


def test_occlusion_rejects_a_stride_that_skips_pixels(tiny_xception, faces):
    with pytest.raises(ValueError, match="stride must be <= window"):
        OcclusionExplainer(tiny_xception, window=3, stride=5).attribute_all(faces)
