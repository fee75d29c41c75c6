"""timm-style registry: architectures are small decorated factories; weights are looked up by name."""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Callable
from pathlib import Path

from torch import nn

from ..errors import UnknownModelError

_ARCHS: dict[str, Callable[..., nn.Module]] = {}
# name prefix -> factory(name, **kwargs) for families too large to list (``timm/<any timm model>``)
_PREFIXES: dict[str, Callable[..., nn.Module]] = {}
# name -> (architecture, checkpoint path) for weights that ship with the product or were registered by a user.
_PRETRAINED: dict[str, tuple[str, Path]] = {}

ASSETS_DIR = Path(__file__).resolve().parents[2] / "assets"


def register_model(fn: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
    """Decorator: make ``fn`` constructible by its function name through :func:`create_model`."""
    if fn.__name__ in _ARCHS:
        warnings.warn(f"model {fn.__name__!r} registered twice; the later one wins", stacklevel=2)
    _ARCHS[fn.__name__] = fn
    return fn


def register_prefix(prefix: str, factory: Callable[..., nn.Module]) -> None:
    """Let ``create_model(prefix + name)`` build any member of a family: ``factory(full_name, **kwargs)``."""
    _PREFIXES[prefix] = factory


def register_pretrained(name: str, arch: str, path: str | Path) -> None:
    """Name a checkpoint so that ``load_model(name)`` finds it (used for shipped and user weights)."""
    _PRETRAINED[name] = (arch, Path(path))


def _unknown(name: str) -> UnknownModelError:
    known = sorted(set(_ARCHS) | set(_PRETRAINED))
    close = difflib.get_close_matches(name, known, n=3)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    return UnknownModelError(f"unknown model {name!r}.{hint} Known: {', '.join(known)}")


def list_models(pretrained: bool = False) -> list[str]:
    """Architecture names, or the names of loadable pretrained weights if ``pretrained``.

    Parameters
    ----------
    pretrained
        List the weights :func:`~fer_core.models.load_model` finds by name (shipped, registered by a user,
        ``run:<name>``) instead of the architectures :func:`create_model` builds.

    Returns
    -------
    list[str]
        The names, sorted.
    """
    return sorted(_PRETRAINED if pretrained else _ARCHS)


def create_model(name: str, **overrides) -> nn.Module:
    """Build a fresh (randomly initialised) architecture; ``None`` overrides are dropped so CLI defaults stay."""
    kwargs = {k: v for k, v in overrides.items() if v is not None}
    if name not in _ARCHS:
        factory = next((f for prefix, f in _PREFIXES.items() if name.startswith(prefix)), None)
        if factory is not None:  # e.g. any timm architecture, beyond the registered ones
            return factory(name, **kwargs)
        raise _unknown(name)
    return _ARCHS[name](**kwargs)


def pretrained_path(name: str) -> tuple[str, Path]:
    if name not in _PRETRAINED:
        raise _unknown(name)
    return _PRETRAINED[name]
