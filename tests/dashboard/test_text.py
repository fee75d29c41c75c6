"""Numbers as the pages write them."""

from __future__ import annotations

from dashboard.components.text import signed_percent


def test_small_changes_keep_a_decimal_and_no_change_reads_plus_minus_zero():
    assert [signed_percent(x) for x in (0.2345, -0.004, 0.0002, -0.0499)] == ["+23%", "-0.4%", "±0%", "-5%"]


def test_every_statistic_the_pages_name_has_a_plain_tooltip():
    from dashboard.components.glossary import GLOSSARY, tip

    for name in ("aopc", "relevance_mass", "mmd", "probe", "kappa", "alpha", "holm", "parity_gap", "cancellation"):
        text = tip(name)
        assert 40 < len(text) < 300 and text.endswith((".", ")")), name  # one or two sentences, not a manual
    assert all("METHODS" not in t and "paper" not in t.lower() for t in GLOSSARY.values())  # no unseen documents
