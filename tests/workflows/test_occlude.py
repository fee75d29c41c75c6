"""The typed occlusion result: its tables are the batched occlusion's numbers, and its JSON is the CLI's contract."""

from __future__ import annotations

import numpy as np
import pytest

from fer_core.explain import fill_region
from fer_core.models.preprocess import predict_probs
from fer_core.workflows import occlude_faces

REGIONS = ["eyes", "mouth"]


@pytest.fixture(scope="module")
def occluded(fer_model, portrait_faces):
    return occlude_faces(portrait_faces, fer_model, REGIONS, "black")


def test_scores_equal_classifying_each_filled_crop(occluded, fer_model, portrait_faces):
    face = portrait_faces[0]
    filled = [fill_region(face.crop, face.regions[r], "black") for r in REGIONS]
    truth = predict_probs(fer_model.model, fer_model.card, [face.crop, *filled])  # one crop at a time: the slow way
    result = occluded[0]
    np.testing.assert_allclose(result.base.to_numpy(), truth[0], atol=1e-6)
    np.testing.assert_allclose(result.occluded.loc[REGIONS].to_numpy(), truth[1:], atol=1e-6)
    assert list(result.base.index) == list(fer_model.card.label_names)
    assert result.pred == fer_model.card.label_names[int(truth[0].argmax())]


def test_changes_are_occluded_minus_intact(occluded):
    result = occluded[0]
    pred = result.pred
    np.testing.assert_allclose(result.change().to_numpy(), result.occluded[pred].to_numpy() - result.base[pred])
    long = result.changes()
    assert len(long) == len(REGIONS) * len(result.base) and set(long.columns) == {"region", "class", "change"}
    row = long[(long["region"] == "mouth") & (long["class"] == "sad")].iloc[0]
    assert row["change"] == pytest.approx(result.occluded.at["mouth", "sad"] - result.base["sad"])


def test_json_keeps_the_cli_contract(occluded):
    out = occluded[0].to_json()
    assert set(out) == {"box", "used_as_crop", "landmarker", "fill", "base", "occluded"} and out["fill"] == "black"
    assert out["landmarker"] == "mtcnn5"  # 5 points measure no head pose
    assert list(out["occluded"]) == REGIONS and set(out["occluded"]["mouth"]) == set(out["base"])
    assert out["base"]["happy"] == round(float(occluded[0].base["happy"]), 6)


def test_json_of_a_mesh_face_carries_its_head_pose(fer_model, portrait):
    from fer_core.face import find_faces, mesh_available

    if mesh_available():
        pytest.skip(mesh_available())
    faces = find_faces(portrait, fer_model.card.input_size, fer_model.card.template)  # default: the mesh here
    out = occlude_faces(faces, fer_model, REGIONS, "black")[0].to_json()
    assert out["landmarker"] == "mesh468" and set(out["pose"]) == {"yaw", "pitch", "roll", "bin"}
    assert out["pose"]["bin"] == "frontal"  # the portrait faces the camera (|yaw| < 10°, tested with the mesh)
