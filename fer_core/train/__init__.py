"""Training recipes on Lightning (the only package that imports Lightning): supervised, fair_mmd, transfer, semi_dtm,
mae_pretrain, au_iat, emonet40.

``train(load_config(...))`` leaves a run folder (:class:`fer_core.runs.RunFolder`); ``resume(folder)`` continues a
stopped one. The config and the recipe list import without Lightning (the CLI builds its parser from them, the
dashboard its launch form); the training names load Lightning on first use.
"""

from __future__ import annotations

from typing import Any

from .config import ConfigError, RunConfig, config_from_dict, config_help, load_config
from .recipes import RECIPE_NAMES, RECIPES, Recipe, RecipeInfo, UnknownRecipeError, get_recipe, register_recipe

__all__ = [
    "ConfigError",
    "RECIPES",
    "RECIPE_NAMES",
    "Recipe",
    "RecipeInfo",
    "RunConfig",
    "RunExistsError",
    "TrainResult",
    "UnknownRecipeError",
    "config_from_dict",
    "config_help",
    "get_recipe",
    "load_config",
    "register_recipe",
    "resume",
    "train",
]

_LAZY = {"RunExistsError", "TrainResult", "resume", "train"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from . import run

        return getattr(run, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
