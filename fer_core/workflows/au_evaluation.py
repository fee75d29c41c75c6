"""Tables of ``au_iat`` runs' test figures (their ``evaluation.json``): per-AU F1 of one run, and several runs side
by side, with and without Identity Adversarial Training (AU F1 against how well a probe still tells people apart)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from ..taxonomy import au_title

__all__ = ["IAT_COMPARISON_COLUMNS", "au_runs_table", "per_au_table"]

#: the columns of :func:`au_runs_table`, in order
IAT_COMPARISON_COLUMNS = (
    "run",
    "IAT lambda",
    "mean AU F1 (0.5)",
    "mean AU F1 (tuned)",
    "identity probe (test people)",
    "identity probe (training people)",
    "probe chance",
    "test fold",
)


def per_au_table(evaluation: Mapping[str, Any]) -> pd.DataFrame:
    """One row per AU: F1 at 0.5, F1 at the run's tuned threshold (the column names it) and the share of test faces
    where the AU is active."""
    threshold = evaluation.get("threshold", 0.5)
    return pd.DataFrame(
        [
            {
                "AU": k,
                "movement (FACS)": au_title(k).removeprefix(k).strip(),
                "F1 at 0.5": v["f1_at_0.5"],
                f"F1 at {threshold:.2f}": v["f1_tuned"],
                "share active (test)": v["base_rate"],
            }
            for k, v in evaluation.get("per_au", {}).items()
        ]
    )


def _comparison_row(name: str, ev: Mapping[str, Any]) -> dict[str, Any]:
    probe = ev.get("identity_probe") or {}
    return {
        "run": name,
        "IAT lambda": ev.get("lambda_id"),
        "mean AU F1 (0.5)": ev.get("mean_f1_at_0.5"),
        "mean AU F1 (tuned)": ev.get("mean_f1_tuned"),
        "identity probe (test people)": probe.get("accuracy"),
        "identity probe (training people)": (ev.get("identity_probe_train_subjects") or {}).get("accuracy"),
        "probe chance": probe.get("chance"),
        "test fold": ev.get("fold"),
    }


def au_runs_table(evaluations: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """One row per run (``evaluations``: run name -> its evaluation), by test fold and then IAT strength, so the
    baseline without IAT (lambda 0) comes first."""
    rows = [_comparison_row(name, ev) for name, ev in evaluations.items()]
    rows.sort(key=lambda r: (r["test fold"] or 0, r["IAT lambda"] or 0))
    return pd.DataFrame(rows, columns=list(IAT_COMPARISON_COLUMNS))
