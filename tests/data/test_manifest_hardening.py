"""Manifests that would silently lose rows or fail deep inside training are refused up front, naming the problem."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from fer_core.data.manifest import validate_manifest
from fer_core.errors import DatasetError
from fer_core.train.config import config_from_dict
from fer_core.train.data import load_crops


def _table(splits):
    return pd.DataFrame({"path": [f"{i}.png" for i in range(len(splits))], "label": "happy", "split": splits})


def test_a_split_outside_train_val_test_is_refused_with_its_count():
    with pytest.raises(DatasetError, match=r"'banana' \(2 rows\).*'Train' \(1 row\)"):
        validate_manifest(_table(["train", "banana", "banana", "Train", "test"]))


def test_an_empty_split_column_means_split_automatically_and_a_full_one_is_kept():
    assert len(validate_manifest(_table(["", "", ""]))) == 3
    assert len(validate_manifest(_table(["train", "val", "test"]))) == 3
    with pytest.raises(DatasetError, match="''"):  # some rows with a split and some without: ambiguous
        validate_manifest(_table(["train", "", "test"]))


def test_a_truncated_image_in_a_training_manifest_is_named(tmp_path):
    paths = []
    for i in range(3):
        path = tmp_path / f"face_{i}.png"
        Image.fromarray(np.full((32, 32, 3), 40 * i, np.uint8)).save(path)
        paths.append(path)
    data = paths[1].read_bytes()
    paths[1].write_bytes(data[: len(data) // 2])
    cfg = config_from_dict({"data": {"aligned": True}, "model": {"input_size": 32}})
    with pytest.raises(DatasetError, match="face_1.png.*truncated or corrupt"):
        load_crops(paths, cfg)


def test_aligned_crops_are_decoded_once_and_again_when_a_file_changes(tmp_path, monkeypatch):
    import os

    import fer_core.train.data as data

    paths = []
    for i in range(3):
        path = tmp_path / f"face_{i}.png"
        Image.fromarray(np.full((40, 40, 3), 50 * i, np.uint8)).save(path)
        paths.append(path)
    cfg = config_from_dict(
        {"data": {"aligned": True, "cache_dir": str(tmp_path / "cache")}, "model": {"input_size": 32}}
    )
    first = load_crops(paths, cfg)
    assert first.shape == (3, 32, 32, 3) and first[2, 0, 0, 0] == 100

    def no_decoding(path):
        raise AssertionError(f"decoded {path} again")

    monkeypatch.setattr(data, "load_image", no_decoding)
    np.testing.assert_array_equal(load_crops(paths, cfg), first)  # from the cache, nothing decoded
    monkeypatch.undo()
    Image.fromarray(np.full((40, 40, 3), 7, np.uint8)).save(paths[2])
    os.utime(paths[2], ns=(1, 1))  # another modification time, whatever the clock's resolution
    assert load_crops(paths, cfg)[2, 0, 0, 0] == 7
