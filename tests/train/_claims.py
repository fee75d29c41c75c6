"""What every claim test checks against the recorded figures (assets/claims/NAME.json)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fer_core.train.claim_stats import mean_shift_tolerance


def assert_reproduces(fresh: dict[str, Any], recorded: dict[str, Any], keys: Sequence[str]) -> None:
    """Every figure's mean over the seeds equals the recorded mean within what another floating-point path explains
    (a 99 % t bound from both runs' seed-to-seed spread, :func:`mean_shift_tolerance`): on the machine that recorded
    them the figures are equal to the digit, on another CPU they move like another set of seeds. The verdict of
    every check must be the recorded one."""
    assert fresh["seeds"] == recorded["seeds"]
    for variant, runs in recorded["figures"].items():
        for key in keys:
            rec = [r[key] for r in runs.values()]
            new = [fresh["figures"][variant][seed][key] for seed in runs]
            tol = mean_shift_tolerance(rec, new)
            shift = sum(new) / len(new) - sum(rec) / len(rec)
            assert abs(shift) <= tol, (variant, key, "per seed", new, "recorded", rec, "tolerance", tol)
    verdicts = {c["name"]: c["holds"] for c in fresh["checks"]}
    assert verdicts == {c["name"]: c["holds"] for c in recorded["checks"]}, fresh["summary"]
