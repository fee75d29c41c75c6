"""Where runs live: the user's runs folder (``$FER_CORE_RUNS``, else ``runs``), the demo runs and configs that ship
in ``assets/``. A module of its own so the run folder and the listing both read it without importing each other."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["ASSETS_DIR", "EMBEDDED_RUNS_DIR", "SHIPPED_CONFIGS_DIR", "default_runs_dir"]

ASSETS_DIR = Path(__file__).resolve().parents[2] / "assets"
EMBEDDED_RUNS_DIR = ASSETS_DIR / "runs"
SHIPPED_CONFIGS_DIR = ASSETS_DIR / "configs"


def default_runs_dir() -> Path:
    """The folder new runs go to and the dashboard lists first: ``$FER_CORE_RUNS``, else ``./runs``."""
    return Path(os.environ.get("FER_CORE_RUNS") or "runs")
