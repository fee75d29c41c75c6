"""The atlas's parts against planted structure: the eigengap counts planted blobs (dense and sparse paths agree with
numpy's eigenvalues), the graph is symmetric, and the flags fire on a planted off-face cluster and a one-group
cluster but not on an ordinary one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.sparse.csgraph import laplacian

from fer_core.studies.atlas import _flags, eigengap, knn_affinity, normalised_maps


def _blobs(n_per: int, k: int, dim: int = 256, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 1, (k, dim))
    return np.concatenate([c + 0.15 * rng.normal(0, 1, (n_per, dim)) for c in centres])


@pytest.mark.parametrize("k", [2, 3, 5])
def test_eigengap_counts_planted_clusters(k):
    count, values = eigengap(knn_affinity(_blobs(60, k)))
    assert count == k
    assert values[:k] == pytest.approx([0.0] * k, abs=1e-6)  # k disconnected components: k zero eigenvalues


def test_sparse_eigenvalues_equal_the_dense_ones():
    graph = knn_affinity(_blobs(250, 4, dim=32, seed=1))  # 1000 points: the sparse path
    count, values = eigengap(graph)
    dense = np.clip(np.linalg.eigvalsh(laplacian(graph, normed=True).toarray())[: len(values)], 0, None)
    assert count == 4
    np.testing.assert_allclose(values, dense, atol=1e-5)


def test_affinity_is_a_symmetric_graph_without_self_loops():
    graph = knn_affinity(_blobs(20, 2, dim=8)).toarray()
    np.testing.assert_array_equal(graph, graph.T)
    assert np.all(np.diag(graph) == 0) and set(np.unique(graph)) == {0.0, 1.0}
    assert graph.sum(1).min() >= round(np.log2(40)) + 5  # every face keeps at least its own k neighbours


def test_maps_are_scaled_by_their_largest_absolute_value():
    maps = np.array([[[2.0, -4.0], [1.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]]])
    np.testing.assert_allclose(normalised_maps(maps), [[0.5, -1.0, 0.25, 0.0], [0, 0, 0, 0]])


def _faces(n: int, inside: float, group: str, start: int = 0) -> pd.DataFrame:
    return pd.DataFrame({"row": range(start, start + n), "inside": inside, "sex": group})


def test_flags_name_an_off_face_cluster_and_a_one_group_cluster_only():
    normal = pd.concat([_faces(50, 0.8, "f"), _faces(50, 0.8, "m", 50)])
    off_face = _faces(20, 0.3, "f", 100).assign(sex=["f", "m"] * 10)
    one_group = _faces(20, 0.8, "m", 200)
    everyone = pd.concat([normal, off_face, one_group], ignore_index=True)
    n = len(everyone)
    off = _flags(off_face, everyone, 0.3, ["sex"], n)
    assert len(off) == 1 and "only 30% of the relevance lies on the face's features" in off[0]
    group = _flags(one_group, everyone, 0.8, ["sex"], n)
    assert len(group) == 1 and group[0].startswith(
        "100% of these faces are sex = m (against 57%"
    )  # (50 + 10 + 20) / 140
    assert _flags(normal.iloc[25:75], everyone, 0.8, ["sex"], n) == []
    assert _flags(off_face.iloc[:4], everyone, 0.3, ["sex"], n) == []  # too small to flag
