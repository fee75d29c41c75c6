"""Intervals that respect subjects: resampling whole clusters equals the plain bootstrap of the clusters' means
(equal-sized clusters), and is wider than treating near-identical frames as independent."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fer_core._utils.bootstrap import bootstrap_mean, cluster_bootstrap_means, cluster_ids
from fer_core.fairness import GroupMetrics


def test_resampling_clusters_equals_resampling_their_means():
    rng = np.random.default_rng(1)
    per_subject = rng.normal(size=(40, 2))
    frames = np.repeat(per_subject, 3, axis=0)  # 3 near-identical frames per subject, as CK+ sequences
    subjects = np.repeat([f"s{i:02d}" for i in range(40)], 3)  # sorted names: cluster k is subject k
    by_cluster = cluster_bootstrap_means(frames, subjects, 500, np.random.default_rng(7))
    by_subject_mean = cluster_bootstrap_means(per_subject, None, 500, np.random.default_rng(7))
    np.testing.assert_allclose(by_cluster, by_subject_mean, rtol=0, atol=1e-12)


def test_clusters_widen_the_interval_of_repeated_frames():
    values = np.repeat(np.random.default_rng(0).normal(size=60), 3)
    _, lo_rows, hi_rows = bootstrap_mean(values, 2000, seed=0)
    _, lo_cl, hi_cl = bootstrap_mean(values, 2000, seed=0, clusters=np.repeat(np.arange(60), 3))
    ratio = (hi_cl - lo_cl) / (hi_rows - lo_rows)
    assert 1.4 < ratio[0] < 2.1  # sqrt(3) = 1.73 for perfectly repeated frames


def test_group_accuracy_intervals_resample_subjects():
    rng = np.random.default_rng(2)
    right = np.repeat(rng.random(50) < 0.7, 4)
    y = np.zeros(200, int)
    p = np.where(right, 0, 1)
    groups = pd.Series(np.repeat(np.where(np.arange(50) < 25, "x", "y"), 4))
    subjects = np.repeat(np.arange(50), 4)
    plain = GroupMetrics(y_true=y, y_pred=p, groups=groups, labels=[0, 1], n_boot=1000, min_group_size=1)
    cl = GroupMetrics(
        y_true=y, y_pred=p, groups=groups, labels=[0, 1], n_boot=1000, min_group_size=1, clusters=subjects
    )
    width = lambda g: (g.by_group_ci["high"] - g.by_group_ci["low"]).to_numpy()  # noqa: E731
    assert (width(cl) > 1.4 * width(plain)).all()


def test_cluster_ids_prefer_subjects_then_images():
    table = pd.DataFrame({"path": ["a.png", "a.png", "b.png"], "subject": ["p1", "p1", "p2"]})
    assert cluster_ids(table)[1] == "subject"
    assert cluster_ids(table.drop(columns="subject"))[1] == "image"
    assert list(cluster_ids(table.assign(subject=["p1", "", "p2"]))[0]) == ["a.png", "a.png", "b.png"]
