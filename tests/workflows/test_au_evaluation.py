"""The tables of action-unit runs: per-AU F1 of one run and several runs with and without IAT, baseline first."""

from __future__ import annotations

import math

from fer_core.workflows import IAT_COMPARISON_COLUMNS, au_runs_table, per_au_table


def _evaluation(lam: float, fold: int | None = 0, probe: float | None = 0.6) -> dict:
    return {
        "lambda_id": lam,
        "fold": fold,
        "threshold": 0.375,
        "mean_f1_at_0.5": 0.8,
        "mean_f1_tuned": 0.82,
        "per_au": {
            "AU1": {"f1_at_0.5": 0.9, "f1_tuned": 0.91, "base_rate": 0.4},
            "AU12": {"f1_at_0.5": 0.7, "f1_tuned": 0.72, "base_rate": 0.2},
        },
        "identity_probe": {"accuracy": probe, "chance": 0.1} if probe is not None else None,
        "identity_probe_train_subjects": {"accuracy": 0.5},
    }


def test_per_au_table_names_the_tuned_threshold():
    table = per_au_table(_evaluation(1.0))
    assert list(table.columns) == ["AU", "movement (FACS)", "F1 at 0.5", "F1 at 0.38", "share active (test)"]
    assert table["AU"].tolist() == ["AU1", "AU12"] and table["F1 at 0.38"].tolist() == [0.91, 0.72]  # 0.375 -> 0.38
    assert table["movement (FACS)"].tolist() == ["inner brow raiser", "lip corner puller"]
    assert per_au_table({}).empty


def test_runs_table_puts_the_baseline_first():
    table = au_runs_table({"iat2": _evaluation(2.0), "base": _evaluation(0.0), "iat1": _evaluation(1.0, probe=None)})
    assert list(table.columns) == list(IAT_COMPARISON_COLUMNS)
    assert table["run"].tolist() == ["base", "iat1", "iat2"]
    assert table["identity probe (training people)"].tolist() == [0.5, 0.5, 0.5]
    probe = table.set_index("run")["identity probe (test people)"]
    assert probe["base"] == 0.6 and (probe["iat1"] is None or math.isnan(probe["iat1"]))
