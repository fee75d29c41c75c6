"""How a claim is decided over seeds, checked against values worked out by hand."""
from __future__ import annotations

import math

import pytest

from fer_core.train.claim_stats import SeedCheck, t_interval, tolerance_from_spread


def test_t_interval_of_three_values_by_hand():
    # mean 2, sample sd 1, t(0.975, 2) = 4.302653, half-width 4.302653 / sqrt(3) = 2.484138
    lo, hi = t_interval([1.0, 2.0, 3.0])
    assert lo == pytest.approx(2 - 2.484138, abs=1e-6) and hi == pytest.approx(2 + 2.484138, abs=1e-6)
    assert t_interval([5.0]) == (None, None)


def test_a_check_holds_on_the_mean_and_says_on_which_seeds():
    check = SeedCheck("gain", "a - b", {0: 0.05, 1: 0.03, 2: -0.01}, ">", 0.0)
    assert check.holds and check.mean == pytest.approx(0.07 / 3)
    assert check.seeds_holding == [0, 1] and not check.clear  # the interval reaches below 0
    assert "holds on 2 of 3 seeds (0, 1)" in check.summary() and check.summary().startswith("[x]")
    clear = SeedCheck("drop", "a - b", {0: -0.2, 1: -0.21, 2: -0.19}, "<", 0.0)
    assert clear.holds and clear.clear and "clear of the bound" in clear.summary()
    fails = SeedCheck("drop", "a - b", {0: 0.1, 1: -0.01, 2: 0.0}, "<", 0.0)
    assert not fails.holds and fails.summary().startswith("[ ]")


def test_bad_checks_are_refused():
    with pytest.raises(ValueError, match="sense"):
        SeedCheck("x", "y", {0: 1.0}, "!=", 0.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no seeds"):
        SeedCheck("x", "y", {}, "<", 0.0)


def test_tolerance_is_three_seed_deviations_with_a_floor():
    assert tolerance_from_spread([0.80, 0.82, 0.84]) == pytest.approx(3 * 0.02)
    assert tolerance_from_spread([0.5, 0.5, 0.5]) == 0.005
    assert math.isclose(tolerance_from_spread([0.1]), 0.005)
