"""Training recipes on Lightning (the only package that imports Lightning): supervised, fair_mmd, transfer, semi_dtm,
mae_pretrain, au_iat, emonet40.

``train(load_config(...))`` leaves a run folder (:mod:`fer_core.runs`); ``resume(folder)`` continues a stopped one.
The config names import without Lightning (the CLI builds its parser from them); the training names load Lightning
on first use.
"""
from __future__ import annotations

from typing import Any

from .config import ConfigError, RunConfig, config_from_dict, config_help, load_config

__all__ = ["ConfigError", "RECIPES", "RunConfig", "RunExistsError", "TrainResult", "config_from_dict", "config_help",
           "load_config", "resume", "train"]

_LAZY = {"RECIPES", "RunExistsError", "TrainResult", "resume", "train"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from . import run

        return getattr(run, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
