"""EmoNet-40: SynthFACS's EmoNet faces and simulated experts, the intensity cell format, the basic-8 / valence views,
the masked intensity loss, the EmoNet-Face layouts, and the emonet40 recipe end to end."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from fer_core.data.adapters import import_dataset
from fer_core.data.synthfacs import EMONET_PROTOTYPES, SynthSpec, generate, write_dataset
from fer_core.errors import DatasetError
from fer_core.taxonomy import BASIC8, EMONET40, basic8_scores, parse_intensities, valence_scores
from fer_core.train.emonet40 import _masked_bce, intensity_targets


def _drawn(seed: int, index: int) -> tuple[str, int]:
    """The category and level face ``index`` was drawn with, straight from the generator's uniform stream."""
    vals = np.random.default_rng([seed, 101, index]).random(48)
    names = tuple(EMONET_PROTOTYPES)
    return names[min(int(vals[1] * len(names)), len(names) - 1)], min(int(vals[2] * 7), 6) + 1


def test_synthfacs_emonet_faces_carry_their_drawn_category_and_level():
    spec = SynthSpec(n=600, size=48, seed=9, label_set="emonet40", habit_rate=0.5)
    for s in generate(spec, render=False):
        row = s.row()
        category, level = _drawn(9, s.index)
        values, known = parse_intensities(row["intensities"], row["rated"])
        assert row["label"] == category and row["label_set"] == "emonet40"
        assert known.all() and values[EMONET40.index(category)] == level
        assert values.sum() == level  # every other category is a known zero
        assert set(EMONET_PROTOTYPES[category]) <= {a for a, v in s.aus.items() if v >= 0.25}
    with pytest.raises(ValueError, match="basic-7"):
        SynthSpec(n=2, label_set="emonet40", label_noise=0.1)


def test_synthfacs_emonet_ratings_are_noisy_experts_around_the_truth(tmp_path):
    manifest = write_dataset(SynthSpec(n=60, size=48, seed=3, label_set="emonet40"), tmp_path)
    rows = pd.read_csv(manifest, dtype=str, keep_default_na=False)
    ratings = pd.read_csv(tmp_path / "ratings.csv")
    assert set(ratings.columns) >= {"image", "emotion", "annotator", "rating"}
    assert ratings["annotator"].nunique() == 4 and set(ratings["emotion"]) == set(EMONET_PROTOTYPES)
    assert ratings["rating"].between(0, 7).all()
    truth = {
        (r.path, c): v for r in rows.itertuples() for c, v in (kv.rsplit(":", 1) for kv in r.intensities.split(";"))
    }
    err = np.abs(ratings["rating"] - [float(truth[(i, e)]) for i, e in zip(ratings["image"], ratings["emotion"])])
    assert err.mean() < 1.2  # noise 0.8 plus a per-annotator offset, rounded and clipped


def test_intensity_cells_rated_all_versus_listed():
    v, k = parse_intensities("Positive High-Energy|Amusement:5;Doubt:0", "all")
    assert v[EMONET40.index("Amusement")] == 5 and k.all()
    v, k = parse_intensities("Amusement:5;Doubt:0", "")
    assert k.sum() == 2 and k[EMONET40.index("Doubt")] and v.sum() == 5
    with pytest.raises(DatasetError, match="unknown EmoNet-40 category 'Joy'"):
        parse_intensities("Joy:3")
    with pytest.raises(DatasetError, match="outside 0-7"):
        parse_intensities("Amusement:9")
    values, known = intensity_targets(pd.DataFrame({"intensities": ["Awe:2", "Awe:7"], "rated": ["all", ""]}))
    assert known.sum(1).tolist() == [40, 1] and values[:, EMONET40.index("Awe")].tolist() == [2, 7]


def test_basic8_and_valence_views_by_hand():
    x = np.zeros(40)
    x[EMONET40.index("Amusement")], x[EMONET40.index("Elation")], x[EMONET40.index("Anger")] = 3, 6, 2
    b = dict(zip(BASIC8, basic8_scores(x)))
    assert b["happy"] == 6 and b["angry"] == 2 and b["neutral"] == 1  # 7 - strongest
    assert dict(zip(("positive", "neutral", "negative"), valence_scores(x))) == {
        "positive": 6,
        "neutral": 0,
        "negative": 2,
    }
    assert basic8_scores(np.zeros((2, 40)))[:, BASIC8.index("neutral")].tolist() == [7, 7]


def test_masked_loss_ignores_unknown_cells():
    logits = torch.tensor([[0.3, -1.0, 2.0]], requires_grad=True)
    target = torch.tensor([[7.0, 0.0, 3.5]])
    known = torch.tensor([[1.0, 0.0, 1.0]])
    _masked_bce(logits, target, known).backward()
    expected = (torch.sigmoid(logits.detach()) - target / 7) / 2  # d BCE / d logit, mean over the 2 known cells
    assert logits.grad[0, 1] == 0
    torch.testing.assert_close(logits.grad[0, [0, 2]], expected[0, [0, 2]])


def test_emonet_face_layouts(tmp_path):
    pd.DataFrame(
        {
            "image": ["a.png", "a.png"],
            "annotator": ["h1", "h2"],
            "ratings": ["{'Positive High-Energy|Awe': 4}", "{'Awe': 6, 'Pain': 1}"],
        }
    ).to_csv(tmp_path / "hq.csv", index=False)
    hq = import_dataset("emonet-face", tmp_path, csv="hq.csv")
    assert hq["rated"][0] == "all" and hq["label"][0] == "Awe" and hq["intensities"][0] == "Awe:5.00;Pain:1.00"
    pd.DataFrame(
        {
            "image": ["b.png"] * 3,
            "emotion": ["Doubt", "Doubt", "Fear"],
            "annotator": ["h1", "h2", "h1"],
            "rating": ["yes", "yes", "no"],
        }
    ).to_csv(tmp_path / "binary.csv", index=False)
    binary = import_dataset("emonet-face", tmp_path, csv="binary.csv")
    assert binary["rated"][0] == "" and binary["intensities"][0] == "Doubt:7.00;Fear:0.00"
    pd.DataFrame({"image": ["c.png"], "Awe": [2], "Negative High-Energy Emotions|Fear": [5]}).to_csv(
        tmp_path / "big.csv", index=False
    )
    big = import_dataset("emonet-face", tmp_path, csv="big.csv", layout="big")
    assert big["label"][0] == "Fear" and big["rated"][0] == "all"
    pd.DataFrame({"image": ["d.png"], "emotion": ["Awe"], "rating": ["maybe"]}).to_csv(
        tmp_path / "bad.csv", index=False
    )
    with pytest.raises(DatasetError, match="0-7 or yes/no"):
        import_dataset("emonet-face", tmp_path, csv="bad.csv")


@pytest.fixture(scope="module")
def emonet_run(tmp_path_factory):
    from fer_core.train import config_from_dict, train

    out = tmp_path_factory.mktemp("emonet")
    cfg = config_from_dict(
        {
            "recipe": "emonet40",
            "name": "emo",
            "out_dir": str(out),
            "data": {
                "manifest": {"synthfacs": {"n": 240, "size": 48, "seed": 4, "label_set": "emonet40"}},
                "aligned": True,
                "cache_dir": str(out / "cache"),
            },
            "model": {"arch": "mini_xception", "input_size": 48, "arch_kwargs": {"widths": [8, 16, 32, 64]}},
            "optim": {"epochs": 4, "batch_size": 32, "lr": 0.003},
            "emonet": {"boot": 100},
            "trainer": {"seed": 0, "threads": 2},
        }
    )
    return train(cfg, progress=False)


@pytest.mark.slow
def test_emonet40_recipe_learns_intensities_and_reports_agreement(emonet_run):
    ev = emonet_run.evaluation
    assert emonet_run.status["status"] == "finished"
    # an untrained head says 3.5 for every category (sigmoid 0 x 7); most cells are 0, so learning shows as a
    # large drop of the error
    assert ev["intensity_mae"] < 1.5
    a = ev["agreement"]
    assert a["humans"] == ["human-1", "human-2", "human-3", "human-4"] and a["models"] == ["emo"]
    assert a["summary"]["human"]["mean"] > 0.3  # the simulated experts agree (a random rater scores ~0)
    assert set(a["verdicts"]["emo"]) >= {"p_value", "could_be_annotator"}
    preds = pd.read_csv(emonet_run.folder / "test_predictions.csv")
    assert {f"p_{c}" for c in EMONET40} <= set(preds.columns) and preds["p_Awe"].between(0, 1).all()
    on_disk = json.loads((emonet_run.folder / "evaluation.json").read_text())
    assert on_disk["recipe"] == "emonet40" and on_disk["n"] == len(preds)


@pytest.mark.slow
def test_explain_emonet_face_gives_intensities_and_top_heatmaps(emonet_run):
    from fer_core.face import aligned_crop
    from fer_core.runs import open_run
    from fer_core.workflows import explain_emonet_faces

    loaded = open_run(emonet_run.folder).model()
    face = next(generate(SynthSpec(n=1, size=48, seed=11, label_set="emonet40")))
    faces = [aligned_crop(face.image, loaded.card.input_size, loaded.card.template)]
    r = explain_emonet_faces(loaded, faces, top=3)[0]
    assert r.intensities.shape == (40,) and ((0 <= r.intensities) & (r.intensities <= 7)).all()
    assert list(r.top) == [EMONET40[k] for k in np.argsort(-r.intensities, kind="stable")[:3]]
    assert r.heatmaps.shape == (3, 48, 48) and np.isfinite(r.heatmaps).all()
    # the batched call (faces x top categories) gives each category its own map: the same as one call per category
    from fer_core.explain import create_explainer
    from fer_core.models.preprocess import to_model_input

    explainer = create_explainer("lrp", loaded.model, loaded.card)
    x = to_model_input([faces[0].crop], loaded.card)
    for j, c in enumerate(r.top):
        alone = explainer.attribute(x, target=EMONET40.index(c)).sum(1)[0].double().numpy()
        np.testing.assert_allclose(r.heatmaps[j], alone, rtol=1e-4, atol=1e-6)
    assert not np.allclose(r.heatmaps[0], r.heatmaps[1])
    assert set(r.to_json()["valence"]) == {"positive", "neutral", "negative"}
