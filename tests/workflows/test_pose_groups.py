"""Head pose as a group: ``pose_bin`` is measured by the mesh on any photo set (no column needed), so evaluate, the
studies and the explain sweep can split their figures by it; 5 points cannot measure it and say so."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pandas as pd
import pytest

from fer_core.errors import DatasetError
from fer_core.face import mesh_available
from tests._cli import run_cli
from tests.conftest import PORTRAIT

pytestmark = pytest.mark.skipif(bool(mesh_available()), reason=mesh_available() or "mesh available")


@pytest.fixture(scope="module")
def photo_set(tmp_path_factory, portrait):
    """The portrait, its mirror image, a half-size copy and an image without a face, labelled 'happy'."""
    folder = tmp_path_factory.mktemp("pose_set")
    images = {
        "portrait.png": portrait,
        "mirror.png": np.ascontiguousarray(portrait[:, ::-1]),
        "small.png": cv2.resize(portrait, (256, 256), interpolation=cv2.INTER_AREA),
        "blank.png": np.full((300, 300, 3), 127, np.uint8),
    }
    for name, image in images.items():
        cv2.imwrite(str(folder / name), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    manifest = folder / "faces.csv"
    pd.DataFrame({"path": list(images), "label": "happy"}).to_csv(manifest, index=False)
    return manifest


def test_the_scan_measures_pose_bins_and_the_mirror_reads_the_opposite_yaw(fer_model, photo_set):
    from fer_core.workflows.evaluate import predict_manifest

    pm = predict_manifest(fer_model, photo_set, columns=("pose_bin",), require_labels=False)
    rows = pm.table.set_index("path")
    assert rows.loc["blank.png", "pose_bin"] == "no pose" and np.isnan(rows.loc["blank.png", "yaw"])
    faces = rows.drop("blank.png")
    assert (faces["pose_bin"] == "frontal").all(), faces
    assert abs(faces.at["portrait.png", "yaw"] + faces.at["mirror.png", "yaw"]) < 1.5, faces
    assert abs(faces.at["portrait.png", "roll"] + faces.at["mirror.png", "roll"]) < 1.5, faces
    assert abs(faces.at["portrait.png", "yaw"] - faces.at["small.png", "yaw"]) < 2, faces  # scale does not matter


def test_evaluate_groups_by_head_pose_from_the_command_line(fer_model, photo_set):
    done = run_cli("evaluate", "--data", str(photo_set), "--group-by", "pose_bin", "--boot", "20", "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["n"] == 4 and out["n_evaluated"] == 3
    assert "pose_bin" in out["audit"] and "pose_bin" in out["fairness"]
    audit = out["audit"]["pose_bin"]
    assert list(audit["by_group"]) == ["frontal"] and audit["by_group"]["frontal"]["n"] == 3
    # measured on the faces found: the blank photo has no pose, and no detection split true by construction
    assert audit["detection"] == {"by_group": {}, "detected_gap": None, "faces_only": True}
    text = run_cli("evaluate", "--data", str(photo_set), "--group-by", "pose_bin", "--boot", "20").stdout
    assert "  frontal      faces=3, mean confidence" in text, text


def test_pose_bins_need_the_mesh(fer_model, photo_set):
    from fer_core.data import scan_manifest

    with pytest.raises(DatasetError, match="pose_bin needs the mesh468 landmarker"):
        scan_manifest(fer_model, photo_set, columns=("pose_bin",), landmarker="mtcnn5")
    done = run_cli("evaluate", "--data", str(photo_set), "--group-by", "pose_bin", "--landmarker", "mtcnn5")
    assert done.returncode != 0 and "pose_bin needs the mesh468 landmarker" in done.stderr
    assert "Traceback" not in done.stderr


def test_occlusion_study_by_pose_with_finer_regions(fer_model, photo_set):
    from fer_core.studies import occlusion_study

    study = occlusion_study(fer_model, photo_set, "mouth,mouth_corners,left_cheek", "mean", group_by=("pose_bin",))
    assert list(study.faces["pose_bin"]) == ["frontal"] * 3
    assert study.regions == ["mouth", "mouth_corners", "left_cheek"]
    by_pose = study.to_json(n_boot=20)["by_group"]["pose_bin"]
    assert {c["region"] for c in by_pose} == {"mouth", "mouth_corners", "left_cheek"}
    assert {c["pose_bin"] for c in by_pose} == {"frontal"}


def test_the_explain_sweep_records_each_faces_pose_with_the_mesh(fer_model, photo_set, tmp_path):
    from fer_core.workflows import explain_dataset

    result = explain_dataset(fer_model, photo_set, tmp_path / "sweep", landmarker="mesh468")
    table = pd.read_csv(tmp_path / "sweep" / "faces.csv")
    table.index = [name.rsplit("/", 1)[-1] for name in table["path"]]
    assert list(table["pose_bin"]) == list(result.faces["pose_bin"])
    assert table.at["blank.png", "pose_bin"] == "no pose" and table.at["portrait.png", "pose_bin"] == "frontal"
    assert abs(table.at["portrait.png", "yaw"] + table.at["mirror.png", "yaw"]) < 1.5


def test_explain_json_names_the_landmarker_and_the_head_pose():
    meshed = json.loads(run_cli("explain", str(PORTRAIT), "--json").stdout)["faces"][0]
    assert meshed["landmarker"] == "mesh468" and meshed["pose"]["bin"] == "frontal"
    plain = json.loads(run_cli("explain", str(PORTRAIT), "--landmarker", "mtcnn5", "--json").stdout)["faces"][0]
    assert plain["landmarker"] == "mtcnn5" and "pose" not in plain
    text = run_cli("explain", str(PORTRAIT)).stdout
    assert "head frontal (yaw" in text, text


def test_a_manifests_own_pose_column_is_kept(fer_model, photo_set, tmp_path):
    from fer_core.workflows.evaluate import predict_manifest

    own = pd.read_csv(photo_set).assign(
        pose_bin="annotated", path=lambda t: [str(photo_set.parent / p) for p in t.path]
    )
    own.to_csv(tmp_path / "own.csv", index=False)
    pm = predict_manifest(
        fer_model, tmp_path / "own.csv", columns=("pose_bin",), require_labels=False, landmarker="mesh468"
    )
    assert (pm.table["pose_bin"] == "annotated").all()  # the user's column, not the mesh's
    assert np.isfinite(pm.table["yaw"]).sum() == 3  # the angles it lacked are still measured
