"""Faithfulness and localisation metrics against Quantus (the reference) on the same inputs, and on planted truth."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fer_core.explain.faithfulness import abpc, region_perturbation, relevance_mass_accuracy, relevance_rank_accuracy
from fer_core.models import create_model

quantus = pytest.importorskip("quantus")


@pytest.fixture(scope="module")
def sample():
    torch.manual_seed(0)
    model = create_model("mini_xception", num_classes=5, in_chans=1, widths=(8, 16)).eval()
    x = torch.randn(6, 1, 32, 32)
    heat = torch.randn(6, 32, 32).numpy()
    y = torch.randint(0, 5, (6,)).numpy()
    return model, x, heat, y


def _const_fill(value):
    def perturb(arr, indices, **kwargs):
        arr = arr.copy()
        arr[np.arange(len(arr))[:, None], indices] = value
        return arr

    return perturb


@pytest.mark.parametrize("order", ["morf", "lerf"])
def test_region_perturbation_equals_quantus(sample, order):
    model, x, heat, y = sample
    ours = region_perturbation(model, x, heat, y, patch=8, steps=10, order=order, fill=-1.0)
    metric = quantus.RegionPerturbation(
        patch_size=8,
        order=order,
        regions_evaluation=10,
        normalise=False,
        perturb_func=_const_fill(-1.0),
        disable_warnings=True,
    )
    ref = np.asarray(
        metric(
            model=model,
            x_batch=x.numpy(),
            y_batch=y,
            a_batch=heat[:, None],
            softmax=True,
            channel_first=True,
            device="cpu",
        )
    )
    np.testing.assert_allclose(ours.drops, ref, atol=1e-5)


def test_localisation_metrics_equal_quantus(sample):
    model, x, heat, y = sample
    masks = np.zeros((6, 1, 32, 32), dtype=bool)
    masks[:, :, 8:20, 4:16] = True
    masks[1, :, :, :] = False
    masks[1, :, 0:4, 0:4] = True
    mass = quantus.RelevanceMassAccuracy(abs=True, normalise=False, disable_warnings=True)(
        model=model, x_batch=x.numpy(), y_batch=y, a_batch=heat[:, None], s_batch=masks, channel_first=True
    )
    rank = quantus.RelevanceRankAccuracy(abs=False, normalise=False, disable_warnings=True)(
        model=model, x_batch=x.numpy(), y_batch=y, a_batch=heat[:, None], s_batch=masks, channel_first=True
    )
    np.testing.assert_allclose(relevance_mass_accuracy(heat, masks[:, 0], relevance="absolute"), mass, atol=1e-9)
    np.testing.assert_allclose(relevance_rank_accuracy(heat, masks[:, 0]), rank, atol=1e-9)


def test_planted_truth_orders_the_curves():
    """A model that only reads one patch: the map that points at it has a steep MoRF curve, a flat LeRF curve and
    a large ABPC; a map pointing elsewhere does not."""

    class OnePatch(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))

        def forward(self, x):
            s = x[:, 0, 8:16, 8:16].mean((1, 2)) * 10 + self.w
            return torch.stack([s, -s], 1)

    x = torch.ones(4, 1, 32, 32)
    good = np.zeros((4, 32, 32))
    good[:, 8:16, 8:16] = 1.0
    bad = np.zeros((4, 32, 32))
    bad[:, 24:32, 24:32] = 1.0
    y = np.zeros(4, dtype=int)
    kw = dict(patch=8, steps=4, fill=0.0)
    g_morf = region_perturbation(OnePatch(), x, good, y, order="morf", **kw)
    g_lerf = region_perturbation(OnePatch(), x, good, y, order="lerf", **kw)
    b_morf = region_perturbation(OnePatch(), x, bad, y, order="morf", **kw)
    assert g_morf.drops[:, 0].min() > 0.45 and np.abs(g_lerf.drops).max() < 1e-9  # p: 1.0 -> 0.5
    assert abpc(g_lerf, g_morf) > 0.45 and g_morf.aopc.mean() > b_morf.aopc.mean() + 0.3
    mask = good > 0
    assert relevance_mass_accuracy(good, mask).tolist() == [1.0] * 4
    assert relevance_rank_accuracy(bad, mask).tolist() == [0.0] * 4


def test_randomisation_check_separates_model_dependent_maps_from_input_copies(fer_model, portrait_faces):
    """Cascading weight randomisation (Adebayo et al.): LRP and Saliency maps decorrelate from the trained model's
    as more layers are destroyed; a 'method' that only copies the input stays perfectly correlated (and is caught)."""
    import pandas as pd

    from fer_core.explain import create_explainer, randomisation_check
    from fer_core.face import load_image
    from fer_core.models.preprocess import to_model_input
    from tests.conftest import ROOT

    sample = ROOT / "assets" / "synthfacs_sample"
    crops = [f.crop for f in portrait_faces] + [
        load_image(sample / p) for p in pd.read_csv(sample / "manifest.csv")["path"][:5]
    ]
    x = to_model_input(crops, fer_model.card)
    target = fer_model.model(x).argmax(1)

    def maps(method):
        return lambda m: create_explainer(method, m, fer_model.card).attribute(x, target=target).sum(1).numpy()

    lrp = randomisation_check(fer_model.model, maps("lrp"))
    assert lrp["stages"][0] == "head" and lrp["stages"][-1].startswith("stem") and "blocks.0" in lrp["stages"]
    assert lrp["spearman"][-1] < 0.6 and lrp["spearman"][-1] < lrp["spearman"][0]
    assert randomisation_check(fer_model.model, maps("saliency"))["spearman"][-1] < 0.3
    copy_input = randomisation_check(fer_model.model, lambda m: x.sum(1).numpy())
    assert min(copy_input["spearman"]) > 0.999
    # the trained model itself is untouched
    assert torch.equal(fer_model.model(x).argmax(1), target)


def test_face_faithfulness_of_the_portrait(fer_model, portrait_faces):
    from fer_core.workflows import explain_faces, face_faithfulness

    result = explain_faces(fer_model, portrait_faces[:1])[0]
    f = face_faithfulness(fer_model, result)
    assert f["label"] == result.pred and set(f["curves"]) == {
        "most relevant first",
        "least relevant first",
        "random order",
    }
    assert len(f["removed"]) == f["steps"] == len(f["curves"]["random order"])
    # LRP ranks patches the way the model uses them: removing its top patches hurts more than its bottom ones
    assert f["aopc"]["most relevant first"] > f["aopc"]["least relevant first"]
    assert f["mass"]["mouth"] == pytest.approx(result.region_share()["mouth"])
