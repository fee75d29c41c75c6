"""``supervised``: plain cross-entropy (optional label smoothing and class-balanced sampling), the baseline of every
claim and the recipe most users train first."""

from __future__ import annotations

from .classifier import ClassifierRecipe
from .recipes import register_recipe

__all__ = ["SupervisedRecipe"]


@register_recipe("supervised")
class SupervisedRecipe(ClassifierRecipe):
    """:class:`FerModule` as it is."""
