"""What every claim test checks against the recorded figures (assets/claims/NAME.json)."""
from __future__ import annotations

from typing import Any, Sequence

import pytest

from fer_core.train.claim_stats import tolerance_from_spread


def assert_reproduces(fresh: dict[str, Any], recorded: dict[str, Any], keys: Sequence[str]) -> None:
    """Every seed's figures equal the recorded ones within 3 recorded seed-to-seed deviations (pinned numerics make
    them equal to the digit on any x86-64 machine with AVX2; the tolerance covers other floating-point paths, which
    behave like other seeds), and the verdict of every check is the recorded one."""
    assert fresh["seeds"] == recorded["seeds"]
    for variant, runs in recorded["figures"].items():
        for key in keys:
            tol = tolerance_from_spread([r[key] for r in runs.values()])
            for seed, figures in runs.items():
                got = fresh["figures"][variant][seed][key]
                assert got == pytest.approx(figures[key], abs=tol), (variant, seed, key, got, figures[key], tol)
    assert [c["holds"] for c in fresh["checks"]] == [c["holds"] for c in recorded["checks"]]
