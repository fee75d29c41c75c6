"""Transfer comparison: two models explain the same faces for the same class; region shares and the paired test
are checked against models whose evidence is planted (one reads only the mouth, one only the eyes)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from fer_core.errors import DatasetError
from fer_core.face import load_image
from fer_core.face.pipeline import aligned_crop
from fer_core.models.card import ModelCard
from fer_core.models.checkpoint import LoadedModel
from fer_core.studies import compare_models
from fer_core.studies.transfer_comparison import _holm, paired_sign_flip

LABELS = ("closed", "open")


class RegionReader(nn.Module):
    """score = sum over pixels of weight x (channel-mean input); logits (-score, score). Its saliency map is |weight|
    wherever the weight is non-zero, for either class, whatever the face: the planted evidence."""

    def __init__(self, weight: np.ndarray) -> None:
        super().__init__()
        self.register_buffer("w", torch.from_numpy(weight.astype(np.float32)))
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        score = (x.mean(1) * self.w).sum((1, 2))
        return torch.stack([-score, score], 1) + 0 * self.dummy


def _template_regions() -> dict[str, np.ndarray]:
    return aligned_crop(np.zeros((48, 48, 3), np.uint8), (48, 48), "tight").regions


def _reader(name: str, parts: dict[str, float]) -> LoadedModel:
    """A model reading ``parts`` (region -> share of its total weight, spread evenly over the region's pixels)."""
    regions = _template_regions()
    weight = sum(share * regions[r] / regions[r].sum() for r, share in parts.items()) * 8.0
    card = ModelCard(
        arch=name,
        input_size=(48, 48),
        in_chans=3,
        mean=(0.5,) * 3,
        std=(0.5,) * 3,
        label_names=LABELS,
        template="tight",
    )
    return LoadedModel(name=name, model=RegionReader(weight).eval(), card=card)


@pytest.fixture(scope="module")
def crops(synth_manifest) -> list[np.ndarray]:
    table = pd.read_csv(synth_manifest)
    return [load_image(synth_manifest.parent / p) for p in table["path"][:30]]


def _expected_shares(parts: dict[str, float], regions: list[str]) -> np.ndarray:
    """Share of a map equal to the weight's magnitude in each region, from the masks alone."""
    masks = _template_regions()
    weight = sum(share * masks[r] / masks[r].sum() for r, share in parts.items())
    named = np.stack([masks[r] for r in regions[:-1]])
    inside = [weight[m].sum() for m in named] + [weight[~named.any(0)].sum()]
    return np.asarray(inside) / weight.sum()


def test_planted_regions_are_found_and_the_paired_test_flags_them(crops):
    mouth, eyes = _reader("mouth_reader", {"mouth": 1.0}), _reader("eyes_reader", {"eyes": 1.0})
    labels = ["open" if i % 3 else "closed" for i in range(len(crops))]
    cmp = compare_models({"mouth": mouth, "eyes": eyes}, crops, labels=labels, method="saliency", aligned=True)
    assert cmp.regions == ["eyes", "brows", "nose", "mouth", "cheeks", "forehead", "elsewhere"]
    assert cmp.target_rule == "true" and [cmp.labels[t] for t in cmp.targets] == labels  # the same class for both
    for name, parts in (("mouth", {"mouth": 1.0}), ("eyes", {"eyes": 1.0})):
        np.testing.assert_allclose(
            cmp.models[name].shares, np.tile(_expected_shares(parts, cmp.regions), (len(crops), 1)), atol=1e-5
        )
    table = cmp.table(n_boot=200).set_index(["model", "region"])
    assert table.loc[("mouth", "mouth"), "share"] == pytest.approx(1.0, abs=1e-5)
    assert table.loc[("eyes", "eyes"), "share"] == pytest.approx(1.0, abs=1e-5)
    diffs = cmp.differences(n_boot=200, num_permutations=999).set_index("region")
    assert diffs.loc["mouth", "diff"] == pytest.approx(1.0, abs=1e-5) and diffs.loc["mouth", "p_value"] < 0.01
    assert diffs.loc["eyes", "diff"] == pytest.approx(-1.0, abs=1e-5) and diffs.loc["eyes", "p_holm"] < 0.01
    assert diffs.loc["forehead", "p_value"] == 1.0  # neither model reads it: every face's difference is zero
    words = cmp.verdicts(differences=diffs.reset_index())
    assert words[0].startswith("mouth puts 100.0 points more of its relevance on the mouth than eyes") or words[
        0
    ].startswith("eyes puts 100.0 points more of its relevance on the eyes than mouth")
    # each model is right where its region decides: accuracy is computed against the given labels
    truth = np.array([LABELS.index(v) for v in labels])
    assert cmp.accuracy("mouth") == pytest.approx(float((cmp.models["mouth"].probs.argmax(1) == truth).mean()))


def test_a_model_compared_with_itself_differs_nowhere(crops):
    mixed = _reader("mixed", {"mouth": 0.7, "eyes": 0.3})
    cmp = compare_models({"a": mixed, "b": mixed}, crops[:12], method="saliency", aligned=True)
    diffs = cmp.differences(n_boot=100, num_permutations=499)
    assert (diffs["diff"] == 0).all() and (diffs["p_value"] == 1.0).all()
    assert cmp.verdicts(differences=diffs)[0].startswith("a and b put their relevance on the same regions")
    # 70 % of the weight on the mouth, 30 % on the eyes: the shares follow
    shares = cmp.table(n_boot=0).set_index("region").query("model == 'a'")["share"]
    assert shares["mouth"] == pytest.approx(0.7, abs=1e-5) and shares["eyes"] == pytest.approx(0.3, abs=1e-5)
    # no labels: one class per face for both models, the one the models find most likely on average
    assert cmp.target_rule == "consensus" and cmp.truth is None and cmp.accuracy("a") is None
    mean = (cmp.models["a"].probs + cmp.models["b"].probs) / 2
    np.testing.assert_array_equal(cmp.targets, mean.argmax(1))
    json.dumps(cmp.to_json(n_boot=50, num_permutations=99))  # JSON-ready
    # 4 faces: even a perfect difference gives p >= 2 / 2**4 per region, so the page says so instead of "the same"
    few = compare_models({"a": mixed, "b": _reader("m", {"mouth": 1.0})}, crops[:4], method="saliency", aligned=True)
    assert few.verdicts()[0].startswith("4 faces are too few to tell a and b apart")


def test_sign_flip_p_value_equals_the_exact_enumeration():
    rng = np.random.default_rng(3)
    d = rng.normal(0.4, 1.0, size=10)
    signs = np.array(list(itertools.product([-1, 1], repeat=10)))
    exact = (np.abs(signs @ d) >= abs(d.sum()) - 1e-12).mean()
    got = paired_sign_flip(d, num_permutations=20000, seed=1)[0]
    assert got == pytest.approx(exact, abs=0.01)
    assert paired_sign_flip(np.zeros((5, 2)))[0] == 1.0
    # Holm by hand: sorted 0.01 x 3 = 0.03, 0.03 x 2 = 0.06, 0.04 x 1 -> max(0.06, 0.04)
    np.testing.assert_allclose(_holm(np.array([0.01, 0.04, 0.03])), [0.03, 0.06, 0.06])


def test_bad_inputs_are_named(crops):
    mouth = _reader("mouth_reader", {"mouth": 1.0})
    with pytest.raises(ValueError, match="at least two models"):
        compare_models({"m": mouth}, crops[:2], aligned=True)
    other = LoadedModel(
        name="x",
        model=mouth.model,
        card=ModelCard(
            arch="x",
            input_size=(48, 48),
            in_chans=3,
            mean=(0.5,) * 3,
            std=(0.5,) * 3,
            label_names=("a", "b"),
            template="tight",
        ),
    )
    with pytest.raises(ValueError, match="same classes"):
        compare_models({"m": mouth, "x": other}, crops[:2], aligned=True)
    with pytest.raises(DatasetError, match="not one of the model's labels"):
        compare_models({"m": mouth, "n": mouth}, crops[:2], target="happy", aligned=True, method="saliency")


SHIPPED = ("synthfacs_transfer_from_age", "synthfacs_transfer_from_gender")


def test_cli_compares_the_shipped_runs_on_their_test_set(capsys):
    """Run names resolve to the shipped runs; the faces are a sample of the first run's test set, and each model's
    predictions on them equal the ones its run recorded when it was trained (an independent computation)."""
    from fer_core.cli import main
    from fer_core.models import ASSETS_DIR
    from fer_core.runs import open_run

    folder = ASSETS_DIR / "runs" / SHIPPED[0]
    assert (
        main(
            [
                "compare-transfer",
                str(folder),
                SHIPPED[1],
                "--n",
                "16",
                "--boot",
                "100",
                "--permutations",
                "200",
                "--json",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert [m["name"] for m in out["models"]] == list(SHIPPED) and out["n_faces"] == 16
    assert out["explained_class"] == "the true class" and len(out["faces"]) == 16
    for m in out["models"]:
        recorded = open_run(ASSETS_DIR / "runs" / m["name"]).predictions().set_index("rel_path")
        got = {Path(f["path"]).name: f["models"][m["name"]]["pred"] for f in out["faces"]}
        want = {Path(p).name: pred for p, pred in recorded["pred"].items()}
        assert all(want[name] == pred for name, pred in got.items())
        correct = np.mean([f["models"][m["name"]]["pred"] == f["label"] for f in out["faces"]])
        assert m["accuracy"] == pytest.approx(correct)
    shares = pd.DataFrame(out["shares"])
    assert set(shares["region"]) == set(out["regions"]) and (shares["share_lo"] <= shares["share"]).all()
    # the regions tile the face up to small overlaps: each face's shares sum to about one
    for f in out["faces"]:
        total = sum(v for v in f["models"][SHIPPED[0]]["shares"].values() if v is not None)
        assert total == pytest.approx(1.0, abs=0.15)
    assert len(out["differences"]) == len(out["regions"]) and out["verdicts"]


def test_cli_needs_data_when_the_first_model_is_not_a_run(capsys):
    from fer_core.cli import main

    assert main(["compare-transfer", "fer2013_mini_xception", SHIPPED[1], "--n", "4"]) == 2
    assert "--data" in capsys.readouterr().err


def test_faces_where_both_models_agree_with_the_explained_class_come_first(crops):
    mouth, mixed = _reader("mouth_reader", {"mouth": 1.0}), _reader("mixed", {"mouth": 0.5, "eyes": 0.5})
    labels = ["open", "closed"] * 10  # the dark lips and eyes of these faces make both models say "closed"
    cmp = compare_models({"m": mouth, "x": mixed}, crops[:20], labels=labels, method="saliency", aligned=True)
    agree = (cmp.models["m"].pred == cmp.targets) & (cmp.models["x"].pred == cmp.targets)
    assert agree.tolist() == [v == "closed" for v in labels]
    order = cmp.most_different_first()
    assert sorted(order.tolist()) == list(range(20)) and agree[order[:10]].all()  # agreeing faces first
    np.testing.assert_allclose(cmp.disagreement(), 0.5)  # half the relevance moved from the eyes to the mouth


def test_cli_on_a_folder_of_images_lists_what_it_could_not_read(tmp_path, synth_manifest, capsys):
    import shutil

    from fer_core.cli import main

    for p in pd.read_csv(synth_manifest)["path"][:4]:
        shutil.copy(synth_manifest.parent / p, tmp_path / Path(p).name)
    (tmp_path / "broken.png").write_text("not an image")
    assert (
        main(
            [
                "compare-transfer",
                *SHIPPED,
                "--images",
                str(tmp_path),
                "--aligned",
                "--boot",
                "50",
                "--permutations",
                "99",
                "--json",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["n_faces"] == 4 and out["explained_class"].startswith("the class the models find most likely")
    assert [u["path"] for u in out["unreadable"]] == [str(tmp_path / "broken.png")]
    assert all(Path(f["path"]).parent == tmp_path and "label" not in f for f in out["faces"])
    assert all(m["accuracy"] is None for m in out["models"])
