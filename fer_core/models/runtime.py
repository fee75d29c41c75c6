"""Where a model runs and in what dtype, for models with parameters and for those without (an ONNX session)."""

from __future__ import annotations

import torch
from torch import nn

MSG_NO_CUDA = "--device {spec}: no CUDA device is visible to torch here (torch.cuda.is_available() is False)"
MSG_NO_MPS = "--device mps: this torch build has no Apple Metal (MPS) support on this machine"
MSG_DEVICE = "--device must be auto, cpu, cuda, cuda:N or mps, got {spec!r}"


def resolve_device(spec: str | torch.device | None = "auto") -> torch.device:
    """``auto``: the first CUDA GPU when there is one, else Apple's MPS, else the CPU; ``cuda:N`` is checked to
    exist, so a typo fails here with the devices named instead of deep inside a forward pass.

    Parameters
    ----------
    spec
        ``auto``, ``cpu``, ``cuda``, ``cuda:N`` or ``mps`` (None means ``auto``).

    Returns
    -------
    torch.device
        The device to run on.

    Raises
    ------
    ValueError
        An unknown spec, or a device that this machine does not have.
    """
    if isinstance(spec, torch.device):
        return spec
    spec = (spec or "auto").strip().lower()
    if spec == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", 0)
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if spec == "cpu":
        return torch.device("cpu")
    if spec == "mps":
        if getattr(torch.backends, "mps", None) is None or not torch.backends.mps.is_available():
            raise ValueError(MSG_NO_MPS)
        return torch.device("mps")
    if spec == "cuda" or spec.startswith("cuda:"):
        index_text = spec.partition(":")[2] or "0"
        if not index_text.isdigit():
            raise ValueError(MSG_DEVICE.format(spec=spec))
        if not torch.cuda.is_available():
            raise ValueError(MSG_NO_CUDA.format(spec=spec))
        index, count = int(index_text), torch.cuda.device_count()
        if index >= count:
            raise ValueError(f"--device {spec}: this machine has {count} CUDA device(s), cuda:0-cuda:{count - 1}")
        return torch.device("cuda", index)
    raise ValueError(MSG_DEVICE.format(spec=spec))


def model_dtype(model: nn.Module) -> torch.dtype:
    """The dtype inputs must have: the first floating parameter's or buffer's, float32 for a model with none."""
    for tensor in (*model.parameters(), *model.buffers()):
        if tensor.is_floating_point():
            return tensor.dtype
    return torch.float32


def model_device(model: nn.Module) -> torch.device:
    """Where inputs must go: the first parameter's or buffer's device (an ONNX session takes CPU tensors)."""
    for tensor in (*model.parameters(), *model.buffers()):
        return tensor.device
    return torch.device("cpu")


def count_parameters(model: nn.Module) -> int:
    """Weights in the model: its parameters, or the initialisers of an ONNX graph (``num_weights``)."""
    own = getattr(model, "num_weights", None)
    return int(own) if own is not None else sum(p.numel() for p in model.parameters())


def relative_error(got: torch.Tensor, want: torch.Tensor) -> float:
    """Largest absolute difference over the largest reference value: how a conversion is judged equal."""
    return float((got - want).abs().max() / want.abs().max().clamp_min(1e-12))


def frozen(model: nn.Module) -> nn.Module:
    """``model`` with every parameter's gradient switched off (it is explained, never trained)."""
    for p in model.parameters():
        p.requires_grad_(False)
    return model
