"""How long ``attribute_all`` will take, said before it starts: the method's count of model passes per face times
the time of one pass, measured once per explainer on this machine."""

from __future__ import annotations

import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from ._base import Explainer

TIMING_ROWS = 32  # rows per timed pass: the batch the fast occlusion and IG paths run at by default
MSG_FACES = "n_faces must be >= 0, got {n}"
MSG_SHAPE = "input_shape must be (C, H, W), got {shape}"


@dataclass(frozen=True)
class Work:
    """Model passes, counted in rows (one image through the model), that one face costs a method.

    Parameters
    ----------
    forwards
        Rows pushed forward through the model.
    backwards
        Vector-Jacobian products of one row (a backward pass, or one relevance pass of LRP).
    """

    forwards: int
    backwards: int


@dataclass(frozen=True)
class PassSeconds:
    """Measured seconds per row of the two kinds of pass :class:`Work` counts.

    Parameters
    ----------
    forward
        A forward pass without a graph (as occlusion runs it).
    backward
        A backward pass, plus the extra a forward pays for building its graph.
    """

    forward: float
    backward: float


_measured: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # explainer -> {input_shape: PassSeconds}


def _model_dtype(explainer: Explainer) -> torch.dtype:
    param = next(explainer.model.parameters(), None)
    return param.dtype if param is not None and param.is_floating_point() else torch.float32


def _time_once(model: torch.nn.Module, x: torch.Tensor, backward: bool = True) -> tuple[float, float]:
    start = time.perf_counter()
    with torch.no_grad():
        model(x)
    forward = time.perf_counter() - start
    if not backward:  # a method without gradients (occlusion), maybe on a model that has none (ONNX)
        return forward, 0.0
    start = time.perf_counter()
    xg = x.clone().requires_grad_(True)
    out = model(xg)
    torch.autograd.grad(out[:, 0].sum(), xg)
    return forward, max(0.0, time.perf_counter() - start - forward)


def measure_pass_seconds(
    explainer: Explainer, input_shape: Sequence[int], repeats: int = 2, backward: bool = True
) -> PassSeconds:
    """Time one forward and one backward of ``TIMING_ROWS`` random rows on the explainer's model (after a warm-up
    pass; the fastest of ``repeats``), per row. Remembered per explainer and input shape, so only the first
    estimate pays for it."""
    shape = tuple(int(s) for s in input_shape)
    cache = _measured.setdefault(explainer, {})
    if (shape, backward) not in cache:
        x = torch.rand(TIMING_ROWS, *shape, dtype=_model_dtype(explainer), device=explainer.device) * 2 - 1
        with explainer._lock:
            _time_once(explainer.model, x, backward)  # warm-up: allocator, kernels, lazy init
            runs = [_time_once(explainer.model, x, backward) for _ in range(max(1, repeats))]
        cache[shape, backward] = PassSeconds(
            min(r[0] for r in runs) / TIMING_ROWS, min(r[1] for r in runs) / TIMING_ROWS
        )
    return cache[shape, backward]


def estimate_seconds(explainer: Explainer, n_faces: int, input_shape: Sequence[int]) -> float:
    """Seconds that ``explainer.attribute_all`` should take for ``n_faces`` faces, before running it.

    Parameters
    ----------
    explainer
        Any explainer; its :meth:`~fer_core.explain.Explainer.work_per_face` says how many passes a face costs.
    n_faces
        Faces to explain.
    input_shape
        (C, H, W) of one model input.

    Returns
    -------
    float
        The estimate: passes per face x measured seconds per pass x faces. The first call per explainer runs a few
        small timed passes (well under a second for the shipped models).

    Raises
    ------
    ValueError
        For a negative ``n_faces`` or an ``input_shape`` that is not (C, H, W).
    """
    if n_faces < 0:
        raise ValueError(MSG_FACES.format(n=n_faces))
    if len(input_shape) != 3:
        raise ValueError(MSG_SHAPE.format(shape=tuple(input_shape)))
    if n_faces == 0:
        return 0.0
    k = explainer.num_classes(torch.zeros(1, *input_shape, dtype=_model_dtype(explainer)))
    work = explainer.work_per_face(k, input_shape)
    per_pass = measure_pass_seconds(explainer, input_shape, backward=work.backwards > 0)
    return n_faces * (work.forwards * per_pass.forward + work.backwards * per_pass.backward)


#: more model passes per face than this and a method is "slow": pages show an estimate and a progress bar first
SLOW_PASSES = 50


def is_slow(explainer: Explainer, input_shape: Sequence[int]) -> bool:
    """Whether one face costs ``explainer`` more than :data:`SLOW_PASSES` passes (IG and sliding-window occlusion
    do; LRP, saliency and Grad-CAM take one forward and one backward per class). Counted, not timed: free."""
    k = explainer.num_classes(torch.zeros(1, *input_shape, dtype=_model_dtype(explainer), device=explainer.device))
    work = explainer.work_per_face(k, input_shape)
    return work.forwards + work.backwards > SLOW_PASSES


__all__ = ["SLOW_PASSES", "PassSeconds", "Work", "estimate_seconds", "is_slow", "measure_pass_seconds"]
