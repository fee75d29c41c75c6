"""What a list of runs shows: one summary row per run (recipe, status, epoch, headline test figures, start time), the
shipped configs a run can start from, and a run's resolved config as YAML text. Shared by the dashboard's Runs page
and anyone listing runs from Python."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from .folder import RunFolder, open_run
from .locations import SHIPPED_CONFIGS_DIR

__all__ = [
    "RUNS_TABLE_COLUMNS",
    "config_recipe",
    "config_yaml",
    "run_summary",
    "runs_table",
    "sensitive_columns",
    "shipped_configs",
]

#: the columns of :func:`runs_table`, in order
RUNS_TABLE_COLUMNS = (
    "run",
    "recipe",
    "status",
    "epoch",
    "test accuracy",
    "test macro-F1",
    "other test figures",
    "started",
)


def _figure(name: str, value: Any) -> str:
    return f"{name.replace('_', ' ')} {value:.3g}" if isinstance(value, float) else f"{name} {value}"


def run_summary(run: RunFolder | str | Path) -> dict[str, Any]:
    """One run as a row: name, recipe, status text, ``epoch`` as "done/total" (blank before the first epoch count is
    known), test accuracy and macro-F1 (None for recipes without them), the other headline test figures as text, and
    the start time (UTC, minutes)."""
    run = run if isinstance(run, RunFolder) else open_run(run)
    s = run.status
    test = s.get("test") or {}
    epochs = s.get("epochs")
    return {
        "run": run.name,
        "recipe": s.get("recipe"),
        "status": s.get("status_text"),
        "epoch": f"{min(s.get('epoch', 0) + 1, epochs or 0)}/{s.get('epochs', '?')}" if epochs else "",
        "test accuracy": test.get("accuracy"),
        "test macro-F1": test.get("macro_f1"),
        "other test figures": ", ".join(_figure(k, v) for k, v in test.items() if k not in ("accuracy", "macro_f1")),
        "started": pd.to_datetime(s.get("started", 0), unit="s").strftime("%Y-%m-%d %H:%M"),
    }


def runs_table(runs: Iterable[RunFolder | str | Path]) -> pd.DataFrame:
    """:func:`run_summary` of every run, one row each, in the given order (columns :data:`RUNS_TABLE_COLUMNS`)."""
    return pd.DataFrame([run_summary(r) for r in runs], columns=list(RUNS_TABLE_COLUMNS))


def shipped_configs() -> dict[str, Path]:
    """The training configs that ship with fer_core (``assets/configs/*.yaml``), by file name, sorted."""
    return {p.name: p for p in sorted(SHIPPED_CONFIGS_DIR.glob("*.yaml"))}


def config_recipe(path: str | Path, default: str = "supervised") -> str:
    """The recipe a YAML config names (its ``recipe:`` key), or ``default`` when it names none."""
    import yaml

    return (yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}).get("recipe", default)


def config_yaml(run: RunFolder | str | Path) -> str:
    """A run's resolved config as YAML text, keys in the run's order (empty mapping: ``{}``)."""
    import yaml

    run = run if isinstance(run, RunFolder) else open_run(run)
    return yaml.safe_dump(run.config, sort_keys=False)


def sensitive_columns(run: RunFolder | str | Path) -> list[str]:
    """The sensitive-attribute columns a run was trained and tested with (its config's ``data.sensitive``)."""
    run = run if isinstance(run, RunFolder) else open_run(run)
    return list((run.config.get("data") or {}).get("sensitive") or [])
