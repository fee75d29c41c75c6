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


def test_group_class_balanced_batches_give_every_group_the_same_label_mix():
    from fer_core.data.samplers import GroupClassBalancedBatchSampler

    rng = np.random.default_rng(0)
    groups = np.array(["a"] * 600 + ["b"] * 300 + ["c"] * 100)
    # a planted bias: group a is 80 % class 0, the others are uniform over 4 classes
    labels = np.where((groups == "a") & (rng.random(1000) < 0.8), 0, rng.integers(0, 4, 1000))
    sampler = GroupClassBalancedBatchSampler(groups, labels, batch_size=60, seed=1)
    counts = Counter()
    for batch in sampler:
        assert len(batch) == 60
        per_group = Counter(groups[batch])
        assert set(per_group.values()) == {20}  # equal rows per group in every batch
        counts.update(zip(groups[batch], labels[batch]))
    for g in "abc":
        shares = np.array([counts[(g, c)] for c in range(4)], dtype=float)
        shares /= shares.sum()
        np.testing.assert_allclose(shares, 0.25, atol=0.05)  # the bias is gone from what the model sees
    sampler.set_epoch(1)
    first = next(iter(sampler))
    sampler.set_epoch(1)
    assert next(iter(sampler)) == first  # (seed, epoch) decides the draw, so a resumed run sees the same batches
    with pytest.raises(ValueError, match="cannot hold 2"):
        GroupClassBalancedBatchSampler(groups, labels, batch_size=5)
