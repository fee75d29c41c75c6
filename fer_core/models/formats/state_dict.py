"""Bare state dicts of registry architectures (``.pt``/``.pth``/``.bin`` read with ``weights_only=True``, or a
safetensors file without a fer_core card), and guessing which architecture, how many outputs and input channels
they hold, so the add form can fill itself in."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ...errors import CheckpointError
from .._registry import create_model, list_models

# Training scripts wrap the weights: {"state_dict": ...} (Lightning), {"model": ...}, {"model_state_dict": ...}.
CONTAINER_KEYS = ("state_dict", "model_state_dict", "model", "net", "weights")
# ...and prefix the keys: DataParallel's "module.", Lightning modules' "model.", torch.compile's "_orig_mod.".
KEY_PREFIXES = ("module.", "model.", "_orig_mod.", "net.")
HEAD_NAMES = ("fc", "head", "classifier", "logits")


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """The tensors of a weights file, never unpickling code: safetensors, or ``torch.load(weights_only=True)``.

    Parameters
    ----------
    path
        A ``.safetensors``, ``.pt``, ``.pth`` or ``.bin`` file holding a state dict (possibly inside a training
        checkpoint's ``state_dict``/``model`` entry, with DataParallel or Lightning key prefixes).

    Returns
    -------
    dict[str, torch.Tensor]
        Parameter and buffer names (prefixes removed) to tensors.

    Raises
    ------
    CheckpointError
        The file is unreadable, needs a full pickle (a whole pickled model: see ``--trust-pickle``), or holds no
        tensors.
    """
    path = Path(path)
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            raw = load_file(str(path))
        else:
            raw = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - torch raises UnpicklingError, RuntimeError, EOFError... all mean "not this"
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "weights_only" in str(exc) or "Unsupported global" in str(exc):
            raise CheckpointError(
                f"{path.name} is a full pickle (a whole model object, not only its weights): loading it would run "
                "code from the file. Save its state_dict instead, export TorchScript/ONNX, or, if you trust whoever "
                "made it, add it with --trust-pickle"
            ) from exc
        raise CheckpointError(f"{path.name} is not a readable weights file: {text}") from exc
    return clean_state_dict(raw, path.name)


def clean_state_dict(raw: object, what: str = "the file") -> dict[str, torch.Tensor]:
    """Unwrap a training checkpoint and strip wrapper prefixes, so keys match a freshly built architecture."""
    for _ in range(3):
        if isinstance(raw, dict) and not any(isinstance(v, torch.Tensor) for v in raw.values()):
            inner = next((raw[k] for k in CONTAINER_KEYS if isinstance(raw.get(k), dict)), None)
            if inner is None:
                break
            raw = inner
    if not isinstance(raw, dict) or not raw:
        raise CheckpointError(f"{what} holds no state dict (got {type(raw).__name__})")
    state = {str(k): v for k, v in raw.items() if isinstance(v, torch.Tensor)}
    if not state:
        raise CheckpointError(f"{what} holds no tensors")
    for prefix in KEY_PREFIXES:
        if all(k.startswith(prefix) for k in state):
            state = {k[len(prefix) :]: v for k, v in state.items()}
    return state


def expected_shapes(arch: str, num_classes: int, in_chans: int, **arch_kwargs) -> dict[str, tuple[int, ...]]:
    """The state-dict shapes of ``arch`` built on the meta device (no memory, no weights)."""
    with torch.device("meta"):
        model = create_model(arch, num_classes=num_classes, in_chans=in_chans, **arch_kwargs)
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def mismatch(expected: dict[str, tuple[int, ...]], state: dict[str, torch.Tensor]) -> str:
    """'' when ``state`` has exactly ``expected``'s tensors and shapes, else what differs (first examples named)."""
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = sorted(k for k in set(expected) & set(state) if tuple(state[k].shape) != expected[k])
    parts = [
        f"{len(missing)} tensor(s) missing (e.g. {missing[0]})" if missing else "",
        f"{len(unexpected)} unexpected (e.g. {unexpected[0]})" if unexpected else "",
        f"{len(wrong)} of another shape (e.g. {wrong[0]}: file {tuple(state[wrong[0]].shape)}, "
        f"architecture {expected[wrong[0]]})"
        if wrong
        else "",
    ]
    return "; ".join(p for p in parts if p)


def io_sizes(state: dict[str, torch.Tensor]) -> tuple[int | None, int | None]:
    """(outputs, input channels) read off the weights, whatever order the file keeps its keys in (safetensors
    sorts them): the classifier's rows (a 2-D weight named like a head, else the last 2-D one), and 3 when any
    convolution takes 3 channels, else 1 when one takes 1 (depthwise convolutions take 1 in every model)."""
    weights = [(k, v) for k, v in state.items() if k.endswith("weight")]
    linear = [(k, v) for k, v in weights if v.ndim == 2]
    heads = [(k, v) for k, v in linear if any(h in k.lower() for h in HEAD_NAMES)]
    head = (heads or linear or [(None, None)])[-1][1]
    conv_inputs = {int(v.shape[1]) for _, v in weights if v.ndim == 4}
    chans = 3 if 3 in conv_inputs else 1 if 1 in conv_inputs else None
    return (int(head.shape[0]) if head is not None else None), chans


def guess_arch(state: dict[str, torch.Tensor]) -> list[str]:
    """Registry architectures whose build has exactly this state dict's keys and shapes (usually one)."""
    outputs, in_chans = io_sizes(state)
    if outputs is None or in_chans not in (1, 3):
        return []
    fits = []
    for arch in list_models():
        try:
            if not mismatch(expected_shapes(arch, outputs, in_chans), state):
                fits.append(arch)
        except Exception:  # noqa: BLE001, S112 - an architecture that cannot take these sizes does not fit
            continue
    return fits


def build_from_state_dict(
    arch: str, state: dict[str, torch.Tensor], num_classes: int, in_chans: int, what: str, **arch_kwargs
) -> nn.Module:
    """``arch`` with ``state`` loaded strictly; a mismatch names the architecture, the sizes and what differs."""
    try:
        expected = expected_shapes(arch, num_classes, in_chans, **arch_kwargs)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{what}: cannot build {arch!r} with {arch_kwargs}: {exc}") from exc
    problem = mismatch(expected, state)
    outputs, chans = io_sizes(state)
    if problem and outputs is not None and outputs != num_classes:
        raise CheckpointError(f"{what}: the card names {num_classes} labels but the weights have {outputs} outputs")
    if problem and chans is not None and chans != in_chans:
        raise CheckpointError(
            f"{what}: the card says {in_chans} input channel(s) but the weights' first convolution takes {chans}"
        )
    if problem:
        raise CheckpointError(
            f"{what} does not fit {arch!r} with {num_classes} outputs and {in_chans} input channel(s) "
            f"(the file looks like {outputs} outputs, {chans} channel(s)): {problem}"
        )
    model = create_model(arch, num_classes=num_classes, in_chans=in_chans, **arch_kwargs)
    model.load_state_dict(state, strict=True)
    return model.eval()
