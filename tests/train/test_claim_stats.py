"""How a claim is decided over seeds, checked against values worked out by hand."""

from __future__ import annotations

import math

import pytest

from fer_core.train.claim_stats import SeedCheck, mean_shift_tolerance, t_interval


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


def test_mean_shift_tolerance_by_hand():
    # recorded 0.80 0.82 0.84 (s = 0.02), fresh 0.81 0.81 0.81 (s = 0): se = sqrt(0.0004 / 3); t(0.995, 4) = 4.6041
    tol = mean_shift_tolerance([0.80, 0.82, 0.84], [0.81, 0.81, 0.81])
    assert tol == pytest.approx(4.604095 * math.sqrt(0.0004 / 3), rel=1e-5)
    assert mean_shift_tolerance([0.5, 0.5, 0.5], [0.5, 0.5, 0.5]) == 0.005  # the floor
    assert mean_shift_tolerance([0.5], [0.6]) == 0.005  # one seed: the floor only
    # a planted shift of 10 points on a spread of 1 point is far outside; one of 1 point is inside
    rec = [0.80, 0.81, 0.82]
    assert abs(0.91 - 0.81) > mean_shift_tolerance(rec, [0.90, 0.91, 0.92])
    assert abs(0.82 - 0.81) < mean_shift_tolerance(rec, [0.81, 0.82, 0.83])
