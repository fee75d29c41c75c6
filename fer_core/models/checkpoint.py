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
from .card import CARD_KEY, ModelCard


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
    note
        What a user should know about how it runs (an ONNX graph that only onnxruntime runs, and why).
    """

    name: str
    model: nn.Module
    card: ModelCard
    note: str = ""

    @property
    def key(self) -> str:
        return f"{self.name}:{self.card.arch}:{self.card.input_size}:{self.device}"

    @property
    def runtime(self) -> str:
        """``pytorch``, ``torchscript`` or ``onnxruntime``: which explanation methods apply depends on it."""
        from .formats.onnx_model import OnnxModule

        if isinstance(self.model, OnnxModule):
            return "onnxruntime"
        if isinstance(self.model, torch.jit.ScriptModule):
            return "torchscript"
        return "pytorch"

    @property
    def device(self) -> torch.device:
        from .runtime import model_device

        return model_device(self.model)

    def to(self, device: torch.device | str) -> LoadedModel:
        """The model on ``device`` (``auto``, ``cpu``, ``cuda[:N]``, ``mps``); an ONNX session picks its provider."""
        from .formats.onnx_model import OnnxModule
        from .runtime import resolve_device

        target = resolve_device(device)
        if isinstance(self.model, OnnxModule):
            if target.type == "cuda" and self.model.device_type != "cuda":
                return LoadedModel(self.name, OnnxModule(self.model.path, target), self.card, self.note)
            return self
        return LoadedModel(self.name, self.model.to(target), self.card, self.note)


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


def load_foreign(
    path: str | Path, card: ModelCard, name: str | None = None, trust_pickle: bool = False, convert_onnx: bool = True
) -> LoadedModel:
    """A model file in a user's format (state dict, TorchScript, ONNX, transformers, trusted pickle) with its card.

    Parameters
    ----------
    path
        The weights file or transformers folder.
    card
        Its card (``format`` decides the loader); the file is checked against it.
    name
        What to call it (default: the file stem).
    trust_pickle
        Allow a full pickle (runs code from the file).
    convert_onnx
        Convert an ONNX graph to PyTorch with onnx2torch where the result equals onnxruntime (gradients then
        apply); False keeps it in onnxruntime.

    Returns
    -------
    LoadedModel
        The model in eval mode, with a note on how it runs.
    """
    from .formats import load_network

    model, note = load_network(path, card, trust_pickle=trust_pickle, convert_onnx=convert_onnx)
    return LoadedModel(name=name or Path(path).stem, model=model.eval(), card=card, note=note)


def load_model(name_or_path: str | Path, device: torch.device | str = "cpu", trust_pickle: bool = False) -> LoadedModel:
    """Load shipped/registered weights by name, or any fer_core checkpoint by path.

    The weights are loaded strictly and checked (every tensor present, of the card's shapes, finite): an unknown
    name raises UnknownModelError (with the closest names), a missing or broken checkpoint CheckpointError.

    Parameters
    ----------
    name_or_path
        A name of ``list_models(pretrained=True)`` (``run:<name>`` once the runs' models are registered), a model
        added with ``fer-core models add``, or a path: a fer_core checkpoint, or any model file with a sidecar
        ``PATH.card.yaml``.
    device
        ``auto``, ``cpu``, ``cuda[:N]`` or ``mps``.
    trust_pickle
        Allow a full pickle (a path with a sidecar card whose format is ``pickle``; runs code from the file).

    Returns
    -------
    LoadedModel
        The model in eval mode with its card, named ``name_or_path`` (a path: its file stem).
    """
    return _load(name_or_path, trust_pickle).to(device)


def _load(name_or_path: str | Path, trust_pickle: bool) -> LoadedModel:
    from .formats import detect_format
    from .user_models import card_for_file, get_user_model

    candidate = Path(name_or_path)
    if candidate.exists():  # a path: fer_core's own checkpoint, or a user's file with a sidecar card
        if candidate.is_file() and detect_format(candidate) == "safetensors":
            return load_checkpoint(candidate)
        return load_foreign(candidate, card_for_file(candidate), trust_pickle=trust_pickle)
    if candidate.suffix == ".safetensors":
        return load_checkpoint(candidate)  # says the checkpoint is not found
    try:
        _, path = pretrained_path(str(name_or_path))
    except UnknownModelError:
        try:
            user = get_user_model(str(name_or_path))
        except UnknownModelError:
            raise _unknown_anywhere(str(name_or_path)) from None
        return load_foreign(
            user.weights, user.card, name=user.name, trust_pickle=trust_pickle or user.card.format == "pickle"
        )
    with torch.no_grad():
        return load_checkpoint(path, name=str(name_or_path))


def _unknown_anywhere(name: str) -> UnknownModelError:
    """Unknown among shipped, run and added models: the closest names of all of them."""
    import difflib

    from ._registry import list_models
    from .user_models import list_user_models

    known = sorted(set(list_models(pretrained=True)) | {m.name for m in list_user_models()})
    close = difflib.get_close_matches(name, known, n=3)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    return UnknownModelError(
        f"unknown model {name!r}.{hint} Known: {', '.join(known)} (add yours: fer-core models add)"
    )
