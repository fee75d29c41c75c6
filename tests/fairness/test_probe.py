"""The linear group probe: chance on embeddings that carry no group, ~1.0 when the group is planted."""

from __future__ import annotations

import numpy as np
import pytest

from fer_core.fairness.probe import MSG_ONE_GROUP, MSG_TOO_FEW, probe_accuracy


def _embeddings(n: int = 1000, dim: int = 16, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, dim)), np.array(["f", "m"])[rng.integers(0, 2, n)]


def test_random_embeddings_give_chance():
    x, g = _embeddings()
    out = probe_accuracy(x, g)
    assert out["n"] == 1000
    assert out["chance"] == pytest.approx(max(np.mean(g == "f"), np.mean(g == "m")))
    assert abs(out["accuracy"] - out["chance"]) < 0.06  # CV on pure noise may land a little below chance


def test_planted_group_shift_is_found():
    x, g = _embeddings()
    x[g == "m", 3] += 4.0  # one direction separates the groups
    assert probe_accuracy(x, g)["accuracy"] > 0.95


def test_three_imbalanced_groups_chance_is_majority_share():
    rng = np.random.default_rng(1)
    g = np.repeat([0, 1, 2], [200, 60, 40])
    x = rng.normal(size=(300, 8))
    out = probe_accuracy(x, g, folds=4)
    assert out["chance"] == pytest.approx(200 / 300)
    assert out["accuracy"] < out["chance"] + 0.08
    shifted = x + np.eye(8)[g] * 5.0
    assert probe_accuracy(shifted, g, folds=4)["accuracy"] > 0.95


def test_seeded_and_deterministic():
    x, g = _embeddings(seed=2)
    assert probe_accuracy(x, g, seed=3) == probe_accuracy(x, g, seed=3)


def test_bad_input_raises_value_error():
    x, g = _embeddings(n=20)
    with pytest.raises(ValueError, match=MSG_ONE_GROUP.split("{")[0]):
        probe_accuracy(x, np.zeros(20))
    with pytest.raises(ValueError, match=MSG_TOO_FEW.split("{")[0]):
        probe_accuracy(x, np.array([0] * 18 + [1] * 2), folds=5)
    with pytest.raises(ValueError, match="same length"):
        probe_accuracy(x, g[:10])
    with pytest.raises(ValueError, match="2-D"):
        probe_accuracy(x[:, 0], g)
    with pytest.raises(ValueError, match="folds"):
        probe_accuracy(x, g, folds=1)
