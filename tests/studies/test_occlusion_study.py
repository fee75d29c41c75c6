"""The dataset occlusion study: batched variants equal the per-image path, planted effects come out exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fer_core.explain.regions import fill_region, occlusion_probs
from fer_core.face import aligned_crop
from fer_core.models.preprocess import predict_probs
from fer_core.studies import occlusion_study


def test_batched_variants_equal_the_per_image_path(fer_model):
    rng = np.random.default_rng(0)
    size = fer_model.card.input_size
    faces = [
        aligned_crop(rng.integers(0, 256, (*size, 3), dtype=np.uint8), size, fer_model.card.template) for _ in range(5)
    ]
    crops, masks = [f.crop for f in faces], [f.regions for f in faces]
    regions, fills = ["eyes", "mouth", "nose"], ["mean", "blur", "black", "noise"]
    base, occ = occlusion_probs(
        fer_model.model, fer_model.card, crops, masks, regions, fills, batch_size=7, seeds=[10, 11, 12, 13, 14]
    )
    assert occ.shape == (5, 3, 4, fer_model.card.num_classes)
    np.testing.assert_allclose(base, predict_probs(fer_model.model, fer_model.card, crops), atol=1e-6)
    for ri, r in enumerate(regions):
        for fi, f in enumerate(fills):
            variants = [fill_region(c, m[r], f, seed=10 + i) for i, (c, m) in enumerate(zip(crops, masks))]
            ref = predict_probs(fer_model.model, fer_model.card, variants)
            np.testing.assert_allclose(occ[:, ri, fi], ref, atol=1e-5, err_msg=f"{r}/{f}")


def _manifest(tmp_path, crops, labels, groups) -> str:
    import cv2

    rows = []
    for i, (c, lab, g) in enumerate(zip(crops, labels, groups)):
        cv2.imwrite(str(tmp_path / f"{i}.png"), cv2.cvtColor(c, cv2.COLOR_RGB2BGR))
        rows.append({"path": f"{i}.png", "label": lab, "group": g})
    pd.DataFrame(rows).to_csv(tmp_path / "m.csv", index=False)
    return str(tmp_path / "m.csv")


def test_a_mouth_only_model_depends_on_the_mouth_by_the_hand_computed_amount(tmp_path, mouth_model):
    # faces: uniform grey 64 with a bright (255) mouth; the model's "open" score is 4 * mean input in the mouth
    mouth = aligned_crop(np.zeros((48, 48, 3), np.uint8), (48, 48), "tight").regions["mouth"]
    crops = []
    for _ in range(6):
        c = np.full((48, 48, 3), 64, np.uint8)
        c[mouth] = 255
        crops.append(c)
    path = _manifest(tmp_path, crops, ["open"] * 6, ["a", "a", "a", "b", "b", "b"])
    study = occlusion_study(
        mouth_model, path, regions="eyes,mouth", fills="mean,black", group_by=["group"], aligned=True
    )
    # by hand: intact score = 4 * (255/255 - .5)/.5 = 4 -> p(open) = 1 / (1 + e^-4)
    p_open = 1 / (1 + np.exp(-4.0))
    face_mean = np.round(64 + (255 - 64) * mouth.mean())  # the mean fill: the face's mean colour, rounded
    p_mean = 1 / (1 + np.exp(-4.0 * (face_mean / 255 - 0.5) / 0.5))
    p_black = 1 / (1 + np.exp(4.0))
    t = study.table(("label",), n_boot=50).set_index(["region", "fill"])
    assert t.loc[("eyes", "mean"), "drop"] == pytest.approx(0, abs=1e-9)  # eyes carry nothing
    assert t.loc[("eyes", "black"), "drop"] == pytest.approx(0, abs=1e-9)
    assert t.loc[("mouth", "mean"), "drop"] == pytest.approx(p_open - p_mean, abs=1e-6)
    assert t.loc[("mouth", "black"), "drop"] == pytest.approx(p_open - p_black, abs=1e-6)
    assert t.loc[("mouth", "black"), "correct_after"] == 0 and t.loc[("mouth", "black"), "flipped"] == 1
    by_group = study.table(("group",), n_boot=0)
    assert set(by_group["group"]) == {"a", "b"} and (by_group["n"] == 3).all()
    long = study.long()
    assert len(long) == 6 * 2 * 2 and {"drop_open", "drop_closed"} <= set(long.columns)
    # the per-class drops sum to zero (probabilities sum to one before and after)
    np.testing.assert_allclose(long["drop_open"] + long["drop_closed"], 0, atol=1e-9)


def test_bad_regions_and_fills_fail_before_any_image_is_read(tmp_path, mouth_model):
    path = _manifest(tmp_path, [np.zeros((48, 48, 3), np.uint8)], ["open"], ["a"])
    with pytest.raises(ValueError, match="unknown region"):
        occlusion_study(mouth_model, path, regions="eyes,ears", aligned=True)
    with pytest.raises(ValueError, match="unknown fill"):
        occlusion_study(mouth_model, path, fills="mean,sepia", aligned=True)
    with pytest.raises(Exception, match="no column"):
        occlusion_study(mouth_model, path, group_by=["age"], aligned=True)


def test_unreadable_rows_are_listed_not_fatal(tmp_path, mouth_model):
    path = _manifest(tmp_path, [np.zeros((48, 48, 3), np.uint8)] * 2, ["open", "closed"], ["a", "b"])
    (tmp_path / "1.png").write_bytes(b"not an image")
    study = occlusion_study(mouth_model, path, aligned=True)
    assert len(study.faces) == 1 and len(study.unreadable) == 1 and study.n_rows == 2


def test_synthfacs_classes_depend_on_their_prototype_regions(demo_model, synth_manifest):
    """Planted truth: SynthFACS draws happy with AU 6 + 12 (cheeks, lip corners) and surprise with AU 1 + 2 + 5 + 26
    (brows, lids, jaw): hiding the mouth must hurt happy more than hiding the eyes, and the other way round."""
    study = occlusion_study(demo_model, synth_manifest, regions="eyes,mouth", fills="blur", aligned=True)
    t = study.table(("label",), n_boot=200).set_index(["label", "region"])["drop"]
    assert t[("happy", "mouth")] > t[("happy", "eyes")] + 0.1
    assert t[("surprise", "eyes")] > t[("surprise", "mouth")]
