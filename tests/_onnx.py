"""Models written as ONNX graphs the way users' tools write them: torch's TorchScript-based exporter, the batch axis
symbolic unless a test wants a graph fixed at batch 1."""

from __future__ import annotations

import warnings
from pathlib import Path

import torch


def export_onnx(model: torch.nn.Module, path: Path, shape: tuple[int, ...], batch_dynamic: bool = True, **kw) -> Path:
    """``model`` exported to ``path`` for inputs of ``shape`` (exporter warnings silenced); ``kw`` go to the
    exporter (``opset_version``, ``output_names``)."""
    axes = {"dynamic_axes": {"input": {0: "n"}}} if batch_dynamic else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (torch.zeros(shape),), str(path), dynamo=False, input_names=["input"], **axes, **kw)
    return path
