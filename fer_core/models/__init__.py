"""Model registry, architectures, model cards and checkpoints."""

from __future__ import annotations

from ..names import DEFAULT_MODEL
from ._registry import ASSETS_DIR, create_model, list_models, register_model, register_pretrained
from .card import ModelCard
from .checkpoint import LoadedModel, load_checkpoint, load_foreign, load_model, read_card, save_checkpoint
from .domain import (
    DOMAIN_NAMES,
    FIGURE_NAMES,
    DomainNote,
    documented,
    domain_notes,
    group_rows,
    performance_from_evaluation,
)
from .formats import guess_card_fields
from .mini_xception import MiniXception
from .runtime import count_parameters, resolve_device
from .user_models import UserModel, add_model, build_card, get_user_model, list_user_models, models_dir, remove_model
from .vit import PRESETS as VIT_PRESETS
from .vit import VisionTransformer


@register_model
def mini_xception(*, num_classes: int = 7, in_chans: int = 1, **overrides) -> MiniXception:
    return MiniXception(num_classes=num_classes, in_chans=in_chans, **overrides)


def _vit(preset: str, **overrides) -> VisionTransformer:
    return VisionTransformer(**(VIT_PRESETS[preset] | overrides))


@register_model
def vit_tiny(*, num_classes: int = 7, in_chans: int = 3, img_size: int = 48, **overrides) -> VisionTransformer:
    return _vit("tiny", num_classes=num_classes, in_chans=in_chans, img_size=img_size, **overrides)


@register_model
def vit_small(*, num_classes: int = 7, in_chans: int = 3, img_size: int = 48, **overrides) -> VisionTransformer:
    return _vit("small", num_classes=num_classes, in_chans=in_chans, img_size=img_size, **overrides)


@register_model
def vit_base(*, num_classes: int = 7, in_chans: int = 3, img_size: int = 48, **overrides) -> VisionTransformer:
    return _vit("base", num_classes=num_classes, in_chans=in_chans, img_size=img_size, **overrides)


from . import zoo  # noqa: E402,F401 - registers the torchvision and timm architectures

register_pretrained(DEFAULT_MODEL, "mini_xception", ASSETS_DIR / "models" / f"{DEFAULT_MODEL}.safetensors")

__all__ = [
    "DEFAULT_MODEL",
    "DOMAIN_NAMES",
    "FIGURE_NAMES",
    "DomainNote",
    "documented",
    "domain_notes",
    "group_rows",
    "performance_from_evaluation",
    "LoadedModel",
    "MiniXception",
    "VIT_PRESETS",
    "VisionTransformer",
    "ModelCard",
    "create_model",
    "list_models",
    "load_checkpoint",
    "load_foreign",
    "UserModel",
    "count_parameters",
    "guess_card_fields",
    "resolve_device",
    "add_model",
    "build_card",
    "get_user_model",
    "list_user_models",
    "models_dir",
    "remove_model",
    "load_model",
    "read_card",
    "register_model",
    "register_pretrained",
    "save_checkpoint",
]
