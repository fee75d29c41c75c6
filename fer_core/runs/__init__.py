"""Run folders: what a training run leaves behind (``RunFolder``, the one owner of its layout: ``folder.py``), where
runs live, and runs started in the background. Nothing here imports Lightning."""

from __future__ import annotations

from .folder import RunFolder, RunNotFoundError, is_run_dir, open_run, read_status, write_status
from .launch import default_run_name, launch_run, resume_run, stop_run
from .listing import (
    list_runs,
    register_run_models,
    run_model_name,
    slim_for_sharing,
)
from .locations import EMBEDDED_RUNS_DIR, SHIPPED_CONFIGS_DIR, default_runs_dir
from .status import ACTIVE_STATES, STOPPED_GONE, process_gone, process_identity
from .summary import (
    RUNS_TABLE_COLUMNS,
    config_recipe,
    config_yaml,
    run_summary,
    runs_table,
    sensitive_columns,
    shipped_configs,
)

RunInfo = RunFolder  # the name earlier versions used

__all__ = [
    "ACTIVE_STATES",
    "EMBEDDED_RUNS_DIR",
    "RunFolder",
    "RunInfo",
    "RunNotFoundError",
    "RUNS_TABLE_COLUMNS",
    "SHIPPED_CONFIGS_DIR",
    "STOPPED_GONE",
    "config_recipe",
    "config_yaml",
    "default_run_name",
    "default_runs_dir",
    "is_run_dir",
    "launch_run",
    "list_runs",
    "open_run",
    "process_gone",
    "process_identity",
    "read_status",
    "register_run_models",
    "resume_run",
    "run_model_name",
    "run_summary",
    "runs_table",
    "sensitive_columns",
    "shipped_configs",
    "slim_for_sharing",
    "stop_run",
    "write_status",
]
