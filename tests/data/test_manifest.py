"""Manifest reading and validation: each failure raises DatasetError with its documented message."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from fer_core.data import manifest as mf
from fer_core.data import read_manifest, validate_manifest
from fer_core.errors import DatasetError

SAMPLE = Path(__file__).resolve().parents[2] / "assets" / "synthfacs_sample"


def _files(root: Path, n: int) -> list[str]:
    paths = []
    for i in range(n):
        p = root / f"img{i}.png"
        p.write_bytes(b"x")
        paths.append(p.name)
    return paths


def test_shipped_sample_is_valid_and_has_the_canonical_columns():
    df = read_manifest(SAMPLE / "manifest.csv")
    validate_manifest(df, SAMPLE)
    for col in (
        "path",
        "split",
        "label",
        "label_set",
        "aus",
        "subject",
        "gender",
        "age",
        "race",
        "skin_tone",
        "lighting",
        "occluder",
        "mask_path",
        "source",
    ):
        assert col in df.columns
    assert len(df) == 8 and set(df.label) == {"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"}
    assert (df.occluder != "none").sum() >= 1 and set(df.source) == {"synthfacs"}
    assert (df.aus[df.label == "neutral"] == "").all()  # empty cells stay empty strings


def test_csv_and_parquet_read_the_same(tmp_path):
    df = pd.DataFrame({"path": _files(tmp_path, 2), "label": ["happy", "sad"], "subject": ["007", "008"]})
    df.to_csv(tmp_path / "m.csv", index=False)
    got = read_manifest(tmp_path / "m.csv")
    assert list(got.subject) == ["007", "008"]
    try:
        df.to_parquet(tmp_path / "m.parquet")
    except ImportError:
        pytest.skip("no parquet engine installed")
    pd.testing.assert_frame_equal(read_manifest(tmp_path / "m.parquet"), got)


def test_missing_manifest_and_bad_suffix(tmp_path):
    with pytest.raises(DatasetError) as e:
        read_manifest(tmp_path / "nope.csv")
    assert str(e.value) == mf.MSG_NOT_FOUND.format(path=tmp_path / "nope.csv")
    (tmp_path / "m.txt").write_text("path,label\n")
    with pytest.raises(DatasetError) as e:
        read_manifest(tmp_path / "m.txt")
    assert str(e.value) == mf.MSG_FORMAT.format(path=tmp_path / "m.txt")


def test_missing_required_columns():
    with pytest.raises(DatasetError) as e:
        validate_manifest(pd.DataFrame({"file": ["a.png"]}))
    assert str(e.value) == mf.MSG_MISSING_COLUMNS.format(missing="path, label", required="path, label")


def test_missing_files_listed_first_ten_and_counted(tmp_path):
    present = _files(tmp_path, 1)
    absent = [f"gone{i}.png" for i in range(13)]
    df = pd.DataFrame({"path": present + absent, "label": ["happy"] * 14})
    with pytest.raises(DatasetError) as e:
        validate_manifest(df, tmp_path)
    assert str(e.value) == mf.MSG_MISSING_FILES.format(
        count=13, root=tmp_path, listed=", ".join(absent[:10]), more=" (and 3 more)"
    )
    assert "gone10.png" not in str(e.value)


def test_unknown_labels_named_against_the_label_set(tmp_path):
    df = pd.DataFrame({"path": _files(tmp_path, 3), "label": ["happy", "joy", "contempt"], "label_set": "basic7"})
    with pytest.raises(DatasetError) as e:
        validate_manifest(df, tmp_path)
    known = ", ".join(("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"))
    assert str(e.value) == mf.MSG_UNKNOWN_LABELS.format(labels="'contempt', 'joy'", name="basic7", known=known)
    # the same labels are fine for basic8 except 'joy'; the argument is used when the column is absent
    with pytest.raises(DatasetError, match="'joy'"):
        validate_manifest(df.drop(columns="label_set"), tmp_path, label_set="basic8")
    validate_manifest(df.drop(columns="label_set").iloc[[0, 2]], tmp_path, label_set="basic8")


def test_mixed_taxonomies_and_conflicts_refused(tmp_path):
    df = pd.DataFrame({"path": _files(tmp_path, 2), "label": ["happy", "happy"], "label_set": ["basic7", "affectnet8"]})
    with pytest.raises(DatasetError) as e:
        validate_manifest(df, tmp_path)
    assert str(e.value) == mf.MSG_MIXED_TAXONOMIES.format(names="affectnet8, basic7")
    one = df.assign(label_set="basic7")
    with pytest.raises(DatasetError) as e:
        validate_manifest(one, tmp_path, label_set="affectnet8")
    assert str(e.value) == mf.MSG_LABEL_SET_CONFLICT.format(found="basic7", wanted="affectnet8")
    with pytest.raises(DatasetError) as e:
        validate_manifest(one.assign(label_set="emo9"), tmp_path)
    assert str(e.value).startswith("unknown label set 'emo9'")


def test_empty_manifest_refused():
    with pytest.raises(DatasetError) as e:
        validate_manifest(pd.DataFrame({"path": [], "label": []}))
    assert str(e.value) == mf.MSG_EMPTY
