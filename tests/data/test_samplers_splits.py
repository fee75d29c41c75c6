from collections import Counter

import numpy as np
import pandas as pd
import pytest

from fer_core.data.samplers import ClassBalancedSampler, GroupBalancedBatchSampler
from fer_core.data.splits import read_split, subject_kfold, write_split
from fer_core.errors import DatasetError


def test_class_balanced_sampler_evens_out_a_skewed_set():
    labels = ["happy"] * 900 + ["sad"] * 90 + ["fear"] * 10
    idx = list(ClassBalancedSampler(labels, num_samples=30_000, seed=1))
    counts = Counter(labels[i] for i in idx)
    for c in ("happy", "sad", "fear"):
        assert abs(counts[c] / 30_000 - 1 / 3) < 0.015
    assert list(ClassBalancedSampler(labels, 50, seed=1)) == list(ClassBalancedSampler(labels, 50, seed=1))


def test_group_balanced_batches_hold_two_of_every_group():
    groups = ["a"] * 500 + ["b"] * 40 + ["c"] * 1  # a group of one is drawn with replacement
    sampler = GroupBalancedBatchSampler(groups, batch_size=16, per_group=2)
    batches = list(sampler)
    assert len(batches) == len(groups) // 16
    for batch in batches:
        assert len(batch) == 16
        counts = Counter(groups[i] for i in batch)
        assert min(counts[g] for g in "abc") >= 2
    with pytest.raises(ValueError, match="cannot hold"):
        GroupBalancedBatchSampler(groups, batch_size=4, per_group=2)


def test_subject_kfold_never_splits_a_subject_and_balances_rows():
    rng = np.random.default_rng(0)
    subjects = np.repeat([f"S{i:03d}" for i in range(30)], rng.integers(5, 50, size=30))
    folds = subject_kfold(subjects, k=3, seed=2)
    per_subject = pd.DataFrame({"s": subjects, "f": folds}).groupby("s")["f"].nunique()
    assert (per_subject == 1).all()
    sizes = np.bincount(folds)
    assert sizes.max() - sizes.min() <= 50
    with pytest.raises(DatasetError, match="cannot fill"):
        subject_kfold(["a", "b"], k=3)


def test_split_file_is_written_once_and_reused(tmp_path):
    m = pd.DataFrame({"path": [f"{i}.png" for i in range(12)], "subject": [f"S{i % 4}" for i in range(12)]})
    path = write_split(m, tmp_path, "toy", seed=0)
    first = path.read_text()
    assert write_split(m.assign(subject="X"), tmp_path, "toy", seed=0).read_text() == first  # kept
    folds = read_split(path, m)
    assert (pd.Series(folds).groupby(m["subject"]).nunique() == 1).all()
    with pytest.raises(DatasetError, match="not in split file"):
        read_split(path, pd.DataFrame({"path": ["new.png"]}))
