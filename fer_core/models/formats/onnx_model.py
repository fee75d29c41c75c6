"""ONNX graphs: run by onnxruntime behind an ``nn.Module`` face (so every forward-only method takes them), and
converted to PyTorch by onnx2torch where the converted graph gives onnxruntime's outputs (then gradients apply)."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ...errors import CheckpointError
from ..runtime import frozen, relative_error

CONVERSION_TOLERANCE = 1e-5


def providers(device: torch.device | str = "cpu") -> list[str]:
    """onnxruntime's execution providers for ``device``: CUDA first when asked for and installed, CPU always."""
    import onnxruntime as ort

    available = ort.get_available_providers()
    wanted = ["CUDAExecutionProvider"] if str(device).startswith("cuda") else []
    return [p for p in wanted if p in available] + ["CPUExecutionProvider"]


class OnnxModule(nn.Module):
    """An onnxruntime session called like a model: (N, C, H, W) float tensor in, (N, K) logits out.

    It gives no gradients (onnxruntime has none), so gradient and LRP methods say they do not apply, while
    occlusion, faithfulness curves, studies and fairness reports run as on any model.

    Parameters
    ----------
    path
        The ``.onnx`` file.
    device
        ``cuda`` uses onnxruntime's CUDA provider when it is installed; the CPU provider otherwise.

    Raises
    ------
    CheckpointError
        The file is not a loadable ONNX graph, or takes more than one input.
    """

    def __init__(self, path: str | Path, device: torch.device | str = "cpu") -> None:
        super().__init__()
        import onnxruntime as ort

        self.path = Path(path)
        self.device_type = "cuda" if str(device).startswith("cuda") else "cpu"
        try:
            options = ort.SessionOptions()
            options.log_severity_level = 3
            self.session = ort.InferenceSession(str(self.path), options, providers=providers(device))
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own Fail/InvalidGraph/... types
            raise CheckpointError(f"{self.path.name} is not a loadable ONNX model: {str(exc).splitlines()[0]}") from exc
        inputs = self.session.get_inputs()
        if len(inputs) != 1:
            raise CheckpointError(
                f"{self.path.name} takes {len(inputs)} inputs ({', '.join(i.name for i in inputs)}); "
                "an image classifier takes one (N, C, H, W) image tensor"
            )
        self.input_name = inputs[0].name
        self.input_shape = tuple(inputs[0].shape)
        self.num_weights = _count_initialisers(self.path)
        if self.device_type == "cuda" and "CUDAExecutionProvider" not in self.session.get_providers():
            self.device_type = "cpu"  # onnxruntime without CUDA: it runs on the CPU and says so in the note

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        array = x.detach().to("cpu", torch.float32).contiguous().numpy()
        fixed = self.input_shape[0] if self.input_shape and isinstance(self.input_shape[0], int) else None
        if fixed and fixed > 0 and len(array) != fixed:  # a graph exported for one batch size: run it in its size
            rows = [self._run(array[i : i + fixed]) for i in range(0, len(array), fixed)]
            if len(array) % fixed:
                raise ValueError(f"{self.path.name} takes batches of exactly {fixed}; got {len(array)} rows")
            return torch.from_numpy(np.concatenate(rows)).to(x.device)
        return torch.from_numpy(self._run(array)).to(x.device)

    def _run(self, array: np.ndarray) -> np.ndarray:
        (out, *_) = self.session.run(None, {self.input_name: array})
        return np.asarray(out, dtype=np.float32)

    def __deepcopy__(self, memo: dict) -> OnnxModule:
        """Explainers copy their model; the session is not copyable, but onnxruntime sessions are safe to share."""
        clone = copy.copy(self)
        clone._modules, clone._parameters, clone._buffers = {}, {}, {}
        memo[id(self)] = clone
        return clone

    def declared_input(self) -> tuple[int | None, int | None, int | None]:
        """(channels, height, width) the graph declares; None where it is symbolic (any size)."""
        dims = list(self.input_shape) + [None] * 4
        return tuple(d if isinstance(d, int) and d > 0 else None for d in dims[1:4])


def _count_initialisers(path: Path) -> int | None:
    try:
        import onnx

        graph = onnx.load(str(path), load_external_data=False).graph
        return int(sum(int(np.prod(t.dims)) for t in graph.initializer))
    except Exception:  # noqa: BLE001 - a count for display only
        return None


def convert_to_torch(session_model: OnnxModule, probe: torch.Tensor) -> tuple[nn.Module | None, str]:
    """onnx2torch's PyTorch graph, kept only where it gives onnxruntime's outputs on ``probe`` within
    :data:`CONVERSION_TOLERANCE` (relative to the largest output); else None and why."""
    try:
        import onnx
        from onnx2torch import convert
    except ImportError:
        return None, "onnx2torch is not installed, so this ONNX graph runs only in onnxruntime"
    try:
        converted = convert(onnx.load(str(session_model.path))).eval()
        with torch.no_grad():
            got, want = converted(probe), session_model(probe)
    except Exception as exc:  # noqa: BLE001 - any operator onnx2torch lacks
        import re

        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        op = re.search(r"operation_type='([^']+)', version=(\d+)", text)
        why = f"it has no converter for {op[1]} (opset {op[2]})" if op else text[:160]
        return None, f"onnx2torch cannot convert this graph: {why}"
    if not isinstance(got, torch.Tensor) or got.shape != want.shape:
        return None, "onnx2torch's conversion gives outputs of another shape than onnxruntime's"
    error = relative_error(got, want)
    if not error <= CONVERSION_TOLERANCE:
        return None, f"onnx2torch's conversion differs from onnxruntime by {error:.1e} (over {CONVERSION_TOLERANCE:g})"
    return frozen(converted), ""
