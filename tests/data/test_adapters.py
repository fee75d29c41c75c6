"""Every adapter on a tiny fixture built here in that dataset's exact layout."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from fer_core.data.adapters import ADAPTERS, import_dataset, write_manifest
from fer_core.data.manifest import read_manifest, validate_manifest
from fer_core.errors import DatasetError


def _img(path: Path, value: int = 128) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.full((8, 8, 3), value, np.uint8))
    return path


def test_imagefolder_and_fer2013_folders(tmp_path):
    for split in ("train", "test"):
        for label in ("happy", "sad"):
            _img(tmp_path / split / label / f"{split}_{label}.png")
    df = import_dataset("fer2013-folders", tmp_path)
    assert sorted(zip(df["split"], df["label"])) == [
        ("test", "happy"),
        ("test", "sad"),
        ("train", "happy"),
        ("train", "sad"),
    ]
    validate_manifest(df, tmp_path)
    _img(tmp_path / "train" / "joy" / "x.png")
    with pytest.raises(DatasetError, match="joy"):
        import_dataset("fer2013-folders", tmp_path)


def test_fer2013_csv_writes_the_pixels(tmp_path):
    pixels = " ".join(str(v % 256) for v in range(48 * 48))
    pd.DataFrame({"emotion": [3, 0], "pixels": [pixels, pixels], "Usage": ["Training", "PrivateTest"]}).to_csv(
        tmp_path / "fer2013.csv", index=False
    )
    df = import_dataset("fer2013", tmp_path, out_images=tmp_path / "imgs")
    assert df["label"].tolist() == ["happy", "angry"] and df["split"].tolist() == ["train", "test"]
    img = cv2.imread(df["path"][0], cv2.IMREAD_GRAYSCALE)
    assert img.shape == (48, 48) and img[0, 5] == 5 and img[1, 0] == 48


def test_ferplus_majority_vote_and_dropped_rows(tmp_path):
    cols = [
        "Usage",
        "Image name",
        "neutral",
        "happiness",
        "surprise",
        "sadness",
        "anger",
        "disgust",
        "fear",
        "contempt",
        "unknown",
        "NF",
    ]
    rows = [
        ["Training", "fer0000000.png", 1, 8, 1, 0, 0, 0, 0, 0, 0, 0],
        ["PublicTest", "fer0000001.png", 0, 0, 0, 0, 0, 0, 0, 0, 0, 10],
        ["PrivateTest", "fer0000002.png", 2, 0, 0, 0, 0, 0, 0, 7, 1, 0],
    ]
    pd.DataFrame(rows, columns=cols).to_csv(tmp_path / "fer2013new.csv", index=False)
    df = import_dataset("ferplus", tmp_path)
    assert df["path"].tolist() == ["FER2013Train/fer0000000.png", "FER2013Test/fer0000002.png"]
    assert df["label"].tolist() == ["happy", "contempt"] and set(df["label_set"]) == {"basic8"}


def test_rafdb_labels_and_attributes(tmp_path):
    (tmp_path / "EmoLabel").mkdir()
    (tmp_path / "EmoLabel" / "list_patition_label.txt").write_text("train_00001.jpg 4\ntest_0001.jpg 7\n")
    _img(tmp_path / "Image" / "aligned" / "train_00001_aligned.jpg")
    _img(tmp_path / "Image" / "aligned" / "test_0001_aligned.jpg")
    ann = tmp_path / "Annotation" / "manual"
    ann.mkdir(parents=True)
    (ann / "train_00001_manu_attri.txt").write_text("1 2\n3 4\n5 6\n7 8\n9 10\n1\n2\n3\n")
    df = import_dataset("rafdb", tmp_path)
    assert df["label"].tolist() == ["happy", "neutral"] and df["split"].tolist() == ["train", "test"]
    assert (df["gender"][0], df["race"][0], df["age"][0]) == ("female", "asian", "40-69")
    validate_manifest(df, tmp_path)


def test_affectnet_npy_annotations(tmp_path):
    _img(tmp_path / "train_set" / "images" / "12.jpg")
    ann = tmp_path / "train_set" / "annotations"
    ann.mkdir(parents=True)
    np.save(ann / "12_exp.npy", np.array("3"))
    np.save(ann / "12_val.npy", np.array("0.25"))
    df = import_dataset("affectnet", tmp_path)
    assert df["label"].tolist() == ["surprise"] and df["valence"][0] == 0.25


def test_celeba_smiling_target_and_sensitive_attributes(tmp_path):
    (tmp_path / "list_attr_celeba.txt").write_text(
        "2\nAttractive Male Smiling Young\n000001.jpg 1 -1 1 1\n000002.jpg -1 1 -1 -1\n"
    )
    (tmp_path / "list_eval_partition.txt").write_text("000001.jpg 0\n000002.jpg 2\n")
    df = import_dataset("celeba", tmp_path)
    assert df["label"].tolist() == ["smiling", "not_smiling"] and df["split"].tolist() == ["train", "test"]
    assert df["gender"].tolist() == ["female", "male"] and df["age"].tolist() == ["young", "old"]
    assert df["attractive"].tolist() == [1, 0]
    validate_manifest(df)


def test_utkface_and_fairface_attributes(tmp_path):
    _img(tmp_path / "utk" / "25_1_2_20170116174525125.jpg.chip.jpg")
    _img(tmp_path / "utk" / "notes.jpg")
    df = import_dataset("utkface", tmp_path / "utk")
    assert len(df) == 1 and (df["age"][0], df["gender"][0], df["race"][0]) == (25, "female", "asian")
    ff = tmp_path / "ff"
    ff.mkdir()
    pd.DataFrame(
        {"file": ["train/1.jpg"], "age": ["20-29"], "gender": ["Male"], "race": ["East Asian"], "service_test": [True]}
    ).to_csv(ff / "fairface_label_train.csv", index=False)
    df = import_dataset("fairface", ff)
    assert df.loc[0, ["path", "gender", "race"]].tolist() == ["train/1.jpg", "male", "east_asian"]


def test_ckplus_and_jaffe_codes(tmp_path):
    emo = tmp_path / "ck" / "Emotion" / "S005" / "001"
    emo.mkdir(parents=True)
    (emo / "S005_001_00000011_emotion.txt").write_text("   3.0000000e+00\n")
    df = import_dataset("ckplus", tmp_path / "ck")
    assert df.loc[0, ["path", "label", "subject"]].tolist() == [
        "cohn-kanade-images/S005/001/S005_001_00000011.png",
        "disgust",
        "S005",
    ]
    _img(tmp_path / "jaffe" / "KA.HA2.30.tiff")
    _img(tmp_path / "jaffe" / "YM.SU1.58.tiff")
    df = import_dataset("jaffe", tmp_path / "jaffe")
    assert sorted(zip(df["subject"], df["label"])) == [("KA", "happy"), ("YM", "surprise")]


def test_au_csv_binarisation_rules(tmp_path):
    bp = {"path": ["a.jpg"], "subject": ["F001"]} | {f"AU{a}": [0] for a in (1, 2, 4, 6, 7, 10, 12, 14, 15, 17, 23, 24)}
    bp["AU12"], bp["AU6"], bp["AU4"] = [1], [9], [1]
    pd.DataFrame(bp).to_csv(tmp_path / "aus.csv", index=False)
    assert import_dataset("au-csv", tmp_path, au_set="bp4d")["aus"][0] == "4:1;12:1"  # 9 = unknown -> inactive
    disfa = {"path": ["b.png"], "subject": ["SN001"]} | {f"AU{a}": [1] for a in (1, 2, 4, 6, 9, 12, 25, 26)}
    disfa["AU25"], disfa["AU12"] = [2], [5]
    pd.DataFrame(disfa).to_csv(tmp_path / "aus.csv", index=False)
    assert import_dataset("au-csv", tmp_path, au_set="disfa")["aus"][0] == "12:1;25:1"  # intensity >= 2


def test_emonet_face_ratings_aggregate(tmp_path):
    pd.DataFrame(
        {
            "image": ["x.png"] * 4,
            "emotion": ["Positive High-Energy|Amusement", "Amusement", "Doubt", "Doubt"],
            "rating": [6, 4, "yes", "no"],
            "annotator": ["h1", "h2", "h1", "h2"],
        }
    ).to_csv(tmp_path / "ratings.csv", index=False)
    df = import_dataset("emonet-face", tmp_path)
    assert df["label"][0] == "Amusement" and df["intensities"][0] == "Amusement:5.00;Doubt:3.50"


def test_unknown_format_and_missing_layout(tmp_path):
    with pytest.raises(DatasetError, match="unknown dataset format"):
        import_dataset("mnist", tmp_path)
    with pytest.raises(DatasetError, match="list_patition_label"):
        import_dataset("rafdb", tmp_path)
    assert len(ADAPTERS) >= 13


def test_written_manifest_paths_resolve_from_its_own_folder(tmp_path):
    _img(tmp_path / "data" / "happy" / "a.png")
    df = import_dataset("imagefolder", tmp_path / "data", label_set="basic7")
    out = write_manifest(df, tmp_path / "manifests" / "m.csv", root=tmp_path / "data")
    again = read_manifest(out)
    assert again["path"][0] == "../data/happy/a.png"
    validate_manifest(again, out.parent)
