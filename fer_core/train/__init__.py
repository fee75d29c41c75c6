"""Training recipes on Lightning (the only package that imports Lightning): supervised, fair_mmd, transfer, semi_dtm.

``train(load_config(...))`` leaves a run folder (:mod:`fer_core.runs`); ``resume(folder)`` continues a stopped one.
"""
from __future__ import annotations

from .config import ConfigError, RunConfig, config_from_dict, config_help, load_config
from .run import RECIPES, RunExistsError, TrainResult, resume, train

__all__ = ["ConfigError", "RECIPES", "RunConfig", "RunExistsError", "TrainResult", "config_from_dict", "config_help",
           "load_config", "resume", "train"]
