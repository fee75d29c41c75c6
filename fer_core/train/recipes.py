"""The recipes: one list, and the contract every recipe implements (the timm / zennit registry pattern).

``RECIPES`` describes every recipe without importing Lightning, so the dashboard's launch form and the CLI's parser
read it cheaply. Each recipe's implementation lives in its own module, registers itself with
:func:`register_recipe`, and is imported on first use by :func:`get_recipe`.

A recipe owns: its config section (a typed dataclass of :mod:`fer_core.train.config`), the LightningDataModule
that serves its batches, the LightningModule it trains (built from a backbone and typed arguments, never the whole
config), its checkpoint metric, what its outputs mean (written into every model card it saves), what it writes at the
end (through :class:`fer_core.runs.RunFolder`) and the lines that summarise a finished run.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar, runtime_checkable

from ..errors import FerCoreError

if TYPE_CHECKING:
    import lightning as L

    from ..runs import RunFolder
    from .config import RunConfig

__all__ = [
    "OutputKind",
    "RecipeInfo",
    "Recipe",
    "RECIPES",
    "RECIPE_NAMES",
    "register_recipe",
    "get_recipe",
    "UnknownRecipeError",
]

OutputKind = Literal["softmax", "sigmoid", "regression", "embedding"]


@dataclass(frozen=True)
class RecipeInfo:
    """What is known of a recipe without importing it.

    Parameters
    ----------
    name
        The name in configs and on the command line.
    summary
        One line for ``--help`` and the launch form.
    output
        What the trained model's outputs mean (``ModelCard.output``).
    monitor
        The validation metric that picks the best checkpoint unless ``trainer.monitor`` says otherwise.
    section
        The config section with the recipe's own keys (None: only the shared sections).
    module
        The module that implements and registers it.
    """

    name: str
    summary: str
    output: OutputKind
    monitor: str
    section: str | None
    module: str

    @property
    def mode(self) -> Literal["min", "max"]:
        """Whether a lower or a higher ``monitor`` is better."""
        return "min" if self.monitor.endswith("loss") or self.monitor.endswith("mae") else "max"


RECIPES: dict[str, RecipeInfo] = {
    r.name: r
    for r in (
        RecipeInfo(
            "supervised",
            "cross-entropy classifier (label smoothing, class-balanced sampling)",
            "softmax",
            "val/acc",
            None,
            "fer_core.train.supervised",
        ),
        RecipeInfo(
            "fair_mmd",
            "classifier + shrinkage-MMD between groups' embeddings + an adversary (METHODS 1)",
            "softmax",
            "val/acc",
            "fair",
            "fer_core.train.fair_mmd",
        ),
        RecipeInfo(
            "transfer",
            "a base model trained on another target gets a new head (METHODS 5)",
            "softmax",
            "val/acc",
            "transfer",
            "fer_core.train.transfer",
        ),
        RecipeInfo(
            "semi_dtm",
            "semi-supervised: pseudo-labels through dynamic thresholds (METHODS 3)",
            "softmax",
            "val/acc",
            "semi",
            "fer_core.train.semi_dtm",
        ),
        RecipeInfo(
            "mae_pretrain",
            "masked-autoencoder pretraining of a ViT on unlabelled faces (METHODS 2.1)",
            "embedding",
            "val/loss",
            "mae",
            "fer_core.train.mae_pretrain",
        ),
        RecipeInfo(
            "au_iat",
            "action units with Identity Adversarial Training (METHODS 2)",
            "sigmoid",
            "val/au_f1",
            "au",
            "fer_core.train.au_iat",
        ),
        RecipeInfo(
            "emonet40",
            "the 40 EmoNet-Face intensities and agreement with experts (METHODS 4)",
            "sigmoid",
            "val/loss",
            "emonet",
            "fer_core.train.emonet40",
        ),
    )
}
RECIPE_NAMES: tuple[str, ...] = tuple(RECIPES)


class UnknownRecipeError(FerCoreError, ValueError):
    """A recipe name that is not in :data:`RECIPES`."""


@runtime_checkable
class Recipe(Protocol):
    """The contract of a recipe's implementation (one instance per recipe, registered by name)."""

    info: RecipeInfo

    def prepare(self, cfg: RunConfig) -> None:
        """Resolve what the config leaves open before data are loaded (e.g. the architecture of a base model)."""

    def datamodule(self, cfg: RunConfig, progress: bool) -> L.LightningDataModule:
        """The data module that loads, splits and batches this recipe's data."""

    def module(self, cfg: RunConfig, dm: Any) -> L.LightningModule:
        """The module to train: a backbone and typed arguments taken from ``cfg``'s sections."""

    def finish(self, run: RunFolder, cfg: RunConfig, trainer: L.Trainer, module: Any, dm: Any) -> dict:
        """Write the best weights with their card and the test figures into ``run``; return the evaluation."""

    def summary(self, evaluation: dict) -> list[str]:
        """Lines that tell a user how a finished run did."""


_IMPLEMENTATIONS: dict[str, Recipe] = {}
T = TypeVar("T")


def register_recipe(name: str) -> Callable[[type[T]], type[T]]:
    """Class decorator: ``name``'s implementation (instantiated once). The name must be in :data:`RECIPES`."""
    if name not in RECIPES:
        raise UnknownRecipeError(f"recipe {name!r} is not in fer_core.train.recipes.RECIPES; add its RecipeInfo")

    def register(cls: type[T]) -> type[T]:
        instance = cls()
        instance.info = RECIPES[name]  # type: ignore[attr-defined]
        if not isinstance(instance, Recipe):
            raise TypeError(f"{cls.__name__} does not implement the Recipe contract")
        _IMPLEMENTATIONS[name] = instance
        return cls

    return register


def get_recipe(name: str) -> Recipe:
    """The implementation of recipe ``name`` (its module is imported on first use; this imports Lightning).

    Parameters
    ----------
    name
        A key of :data:`RECIPES`.

    Returns
    -------
    Recipe
        The one registered instance of the recipe's class.

    Raises
    ------
    UnknownRecipeError
        For a name that is not a recipe, with the closest one.
    """
    info = RECIPES.get(name)
    if info is None:
        close = difflib.get_close_matches(str(name), RECIPE_NAMES, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise UnknownRecipeError(f"unknown recipe {name!r}{hint}; available: {', '.join(RECIPE_NAMES)}")
    if name not in _IMPLEMENTATIONS:
        importlib.import_module(info.module)
    return _IMPLEMENTATIONS[name]
