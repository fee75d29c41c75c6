"""safetensors checkpoints that carry their model card; nothing is ever unpickled."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from ..errors import CheckpointError, UnknownModelError
from ._registry import create_model, pretrained_path
from .card import ModelCard

CARD_KEY = "fer_core.model_card"


@dataclass
class LoadedModel:
    """A model in eval mode together with its card and a stable key for caches.

    Parameters
    ----------
    name
        What the model was loaded as: its registered name (``run:<name>`` for a run's model) or the checkpoint's
        file stem.
    model
        The network, in eval mode.
    card
        Its model card: preprocessing, label order and what the outputs mean.
    """

    name: str
    model: nn.Module
    card: ModelCard

    @property
    def key(self) -> str:
        return f"{self.name}:{self.card.arch}:{self.card.input_size}"


def save_checkpoint(model: nn.Module, card: ModelCard, path: str | Path) -> Path:
    """Write ``model``'s state dict and ``card`` into one safetensors file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    save_file(state, str(path), metadata={CARD_KEY: card.to_json()})
    return path


def read_card(path: str | Path) -> ModelCard:
    """The model card stored in a checkpoint, without loading the tensors (only the safetensors header is read).

    Parameters
    ----------
    path
        A safetensors checkpoint written by :func:`save_checkpoint`.

    Returns
    -------
    ModelCard
        The card, validated.

    Raises
    ------
    CheckpointError
        The file is not a readable safetensors checkpoint, carries no fer_core model card, or its card is invalid.
    """
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path} is not a readable safetensors checkpoint: {exc}") from exc
    if CARD_KEY not in meta:
        raise CheckpointError(f"{path} has no fer_core model card; was it written by fer_core.save_checkpoint?")
    try:
        return ModelCard.from_json(meta[CARD_KEY])
    except (ValueError, TypeError, KeyError) as exc:
        raise CheckpointError(f"{path}: the model card is invalid: {exc}") from exc


def load_checkpoint(path: str | Path, name: str | None = None) -> LoadedModel:
    """Build the card's architecture and load the weights strictly; every failure is a CheckpointError."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    card = read_card(path)
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path} is corrupt: {exc}") from exc
    arch_kwargs = card.extra.get("arch_kwargs", {}) if isinstance(card.extra, dict) else {}
    if not isinstance(arch_kwargs, dict):
        raise CheckpointError(f"{path}: the card's arch_kwargs must be a mapping, got {arch_kwargs!r}")
    bad = sorted(k for k, v in state.items() if v.is_floating_point() and not bool(torch.isfinite(v).all()))
    if bad:
        listed = ", ".join(bad[:5]) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
        raise CheckpointError(
            f"{path}: the weights contain NaN or infinite values ({listed}); the file is broken "
            "(a diverged training run?)"
        )
    _check_shapes(path, card, arch_kwargs, state)  # before allocating: a card may name a huge architecture
    model = _build(path, card, arch_kwargs)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise CheckpointError(f"{path} does not fit architecture {card.arch!r}: {exc}".splitlines()[0]) from exc
    return LoadedModel(name=name or path.stem, model=model.eval(), card=card)


def _build(path: Path, card: ModelCard, arch_kwargs: dict) -> nn.Module:
    try:
        return create_model(card.arch, num_classes=card.num_classes, in_chans=card.in_chans, **arch_kwargs)
    except UnknownModelError:
        raise
    except (TypeError, ValueError, RuntimeError, OverflowError) as exc:  # e.g. negative widths: torch refuses
        raise CheckpointError(
            f"{path}: the card's architecture arguments {arch_kwargs} do not fit {card.arch!r}: "
            f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        ) from exc


def _check_shapes(path: Path, card: ModelCard, arch_kwargs: dict, state: dict[str, torch.Tensor]) -> None:
    """The card's architecture, built on the meta device (no memory), must have exactly the file's tensors."""
    with torch.device("meta"):
        expected = {k: tuple(v.shape) for k, v in _build(path, card, arch_kwargs).state_dict().items()}
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = sorted(k for k in set(expected) & set(state) if tuple(state[k].shape) != expected[k])
    if missing or unexpected or wrong:
        parts = [
            f"{len(missing)} tensor(s) missing (e.g. {missing[0]})" if missing else "",
            f"{len(unexpected)} unexpected (e.g. {unexpected[0]})" if unexpected else "",
            f"{len(wrong)} of another shape (e.g. {wrong[0]}: file {tuple(state[wrong[0]].shape)}, "
            f"card {expected[wrong[0]]})"
            if wrong
            else "",
        ]
        raise CheckpointError(
            f"{path} does not fit the architecture its card names ({card.arch!r}, "
            f"{card.num_classes} outputs, {card.in_chans} input channel(s)): " + "; ".join(p for p in parts if p)
        )


def load_model(name_or_path: str | Path) -> LoadedModel:
    """Load shipped/registered weights by name, or any fer_core checkpoint by path.

    The weights are loaded strictly and checked (every tensor present, of the card's shapes, finite): an unknown
    name raises UnknownModelError (with the closest names), a missing or broken checkpoint CheckpointError.

    Parameters
    ----------
    name_or_path
        A name of ``list_models(pretrained=True)`` (``run:<name>`` once the runs' models are registered), or a
        checkpoint path: anything ending in ``.safetensors`` or naming an existing file is read as one.

    Returns
    -------
    LoadedModel
        The model in eval mode with its card, named ``name_or_path`` (a checkpoint path: its file stem).
    """
    candidate = Path(name_or_path)
    if candidate.suffix == ".safetensors" or candidate.is_file():
        return load_checkpoint(candidate)
    _, path = pretrained_path(str(name_or_path))
    with torch.no_grad():
        return load_checkpoint(path, name=str(name_or_path))
