"""Numbers as the pages write them."""

from __future__ import annotations

from dashboard.components.text import signed_percent


def test_small_changes_keep_a_decimal_and_no_change_reads_plus_minus_zero():
    assert [signed_percent(x) for x in (0.2345, -0.004, 0.0002, -0.0499)] == ["+23%", "-0.4%", "±0%", "-5%"]
