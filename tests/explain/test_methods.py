"""captum methods, region occlusion and helpers checked against hand-computed values on linear models."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from fer_core.explain import (
    FILLS,
    GradCamExplainer,
    IntegratedGradientsExplainer,
    OcclusionExplainer,
    SaliencyExplainer,
    colorize,
    fill_region,
    occlude_regions,
    region_share,
)
from fer_core.models import ModelCard


class LinearNet(nn.Module):
    def __init__(self, weight: torch.Tensor) -> None:
        super().__init__()
        self.fc = nn.Linear(weight.shape[1], weight.shape[0], bias=False)
        self.fc.weight.data = weight.clone()

    def forward(self, x):
        return self.fc(x.flatten(1))


@pytest.fixture()
def linear():
    torch.manual_seed(3)
    return LinearNet(torch.randn(3, 16)).double()


def test_saliency_and_integrated_gradients_on_a_linear_model(linear):
    x = torch.randn(2, 1, 4, 4, dtype=torch.float64)
    w = linear.fc.weight.view(3, 1, 4, 4)
    sal = SaliencyExplainer(linear).attribute(x, target=[0, 2])
    torch.testing.assert_close(sal, torch.stack([w[0].abs(), w[2].abs()]))
    ig = IntegratedGradientsExplainer(linear, baseline=0.0).attribute(x, target=1)
    torch.testing.assert_close(ig, x * w[1], rtol=1e-6, atol=1e-9)


def test_sliding_window_occlusion_on_a_linear_model(linear):
    x = torch.randn(1, 1, 4, 4, dtype=torch.float64)
    w = linear.fc.weight.view(3, 1, 4, 4)
    attr = OcclusionExplainer(linear, window=1, stride=1, baseline=0.0).attribute(x, target=2)
    torch.testing.assert_close(attr, x * w[2])  # hiding one pixel removes exactly its contribution
    with pytest.raises(ValueError, match="window must be <="):
        OcclusionExplainer(linear, window=8).attribute(x, target=0)


def test_region_occlusion_on_a_linear_model_matches_hand_computation():
    """Black fill on a grey 4x4 crop of a linear model: logits change by -w . x on the mask."""
    torch.manual_seed(4)
    weight = torch.randn(3, 16, dtype=torch.float64)
    model = LinearNet(weight)
    card = ModelCard(
        arch="linear", input_size=(4, 4), in_chans=1, mean=(0.5,), std=(0.25,), label_names=("a", "b", "c")
    )
    rng = np.random.default_rng(0)
    grey = rng.integers(0, 256, size=(4, 4), dtype=np.uint8)
    crop = np.repeat(grey[..., None], 3, axis=2)
    mask = np.zeros((4, 4), bool)
    mask[1:3, 0:2] = True
    base, occ = occlude_regions(model, card, [crop], [{"m": mask}], ["m"], fill="black")
    x = (grey / 255.0 - 0.5) / 0.25
    x_occ = np.where(mask, (0 - 0.5) / 0.25, x)

    def softmax(z):
        e = np.exp(z - z.max())
        return e / e.sum()

    np.testing.assert_allclose(base[0], softmax(weight.numpy() @ x.ravel()), atol=1e-6)
    np.testing.assert_allclose(occ[0, 0], softmax(weight.numpy() @ x_occ.ravel()), atol=1e-6)


@pytest.mark.parametrize("fill", FILLS)
def test_fills_change_only_the_masked_pixels(portrait_faces, fill):
    crop, mask = portrait_faces[0].crop, portrait_faces[0].regions["mouth"]
    out = fill_region(crop, mask, fill, seed=0)
    assert np.array_equal(out[~mask], crop[~mask]) and not np.array_equal(out[mask], crop[mask])
    np.testing.assert_array_equal(fill_region(crop, mask, fill, seed=0), out)  # deterministic
    with pytest.raises(ValueError, match="fill must be one of"):
        fill_region(crop, mask, "paint")


def test_hiding_the_mouth_lowers_happy_on_a_smiling_face(fer_model, portrait_faces):
    face = portrait_faces[0]
    happy = fer_model.card.label_names.index("happy")
    for fill in ("mean", "blur"):
        base, occ = occlude_regions(
            fer_model.model, fer_model.card, [face.crop], [face.regions], ["mouth", "eyes"], fill
        )
        assert base[0, happy] > 0.9
        assert occ[0, 0, happy] < base[0, happy] - 0.3  # mouth hidden
        assert occ[0, 0, happy] < occ[0, 1, happy]  # the mouth matters more than the eyes


@pytest.mark.parametrize("batch_size", [1, 2, 5])
def test_gradcam_shape_and_batch_invariance(fer_model, batch_size):
    torch.manual_seed(0)
    x = torch.rand(5, 1, 64, 64) * 2 - 1
    cam = GradCamExplainer(fer_model.model)
    out = cam.attribute(x, target=3, batch_size=batch_size)
    assert out.shape == x.shape
    torch.testing.assert_close(out, cam.attribute(x, target=3, batch_size=5))


def test_region_share_by_hand():
    rel = np.zeros((4, 4))
    rel[0, 0], rel[3, 3], rel[1, 1] = 3.0, 1.0, -5.0
    a = np.zeros((4, 4), bool)
    a[0, 0] = True
    b = np.zeros((4, 4), bool)
    b[1, 1] = True
    assert region_share(rel, {"a": a, "b": b}) == {"a": 0.75, "b": 0.0}


def test_colormap_is_centred_on_white():
    out = colorize(np.array([[-1.0, 0.0, 1.0]]), vmax=1.0)
    assert out[0, 1].tolist() == [255, 255, 255]
    assert out[0, 2, 0] > out[0, 2, 2] and out[0, 0, 2] > out[0, 0, 0]
