"""Gradient-reversal layer (Ganin & Lempitsky 2015), as used by FMAE-IAT's identity head (METHODS 2.3, 7.1).

Identity on the forward pass and -lambda * grad on the backward pass, so one optimiser step trains the adversary to
predict the nuisance (identity, group) while pushing the shared features to hide it.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

__all__ = ["GradReverse", "grad_reverse", "GradientReversal"]


def _check_lambd(lambd: Any) -> float:
    try:
        value = float(lambd)
    except (TypeError, ValueError):
        raise ValueError(f"lambd must be a real number >= 0, got {lambd!r}") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"lambd must be a finite number >= 0, got {value}")
    return value


class GradReverse(torch.autograd.Function):
    """autograd Function: forward identity, backward multiplies the incoming gradient by -lambd."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, lambd: float) -> torch.Tensor:  # type: ignore[override]
        ctx.lambd = lambd
        return x.view_as(x)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None]:  # type: ignore[override]
        return -ctx.lambd * grad, None


def grad_reverse(x: torch.Tensor, lambd: float = 1.0) -> torch.Tensor:
    """Functional form of the gradient-reversal layer."""
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"x must be a torch.Tensor, got {type(x).__name__}")
    return GradReverse.apply(x, _check_lambd(lambd))


class GradientReversal(nn.Module):
    """Module form; ``lambd`` may be changed between steps (e.g. the usual 0 -> 1 ramp)."""

    def __init__(self, lambd: float = 1.0) -> None:
        super().__init__()
        self.lambd = _check_lambd(lambd)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return grad_reverse(x, self.lambd)

    def extra_repr(self) -> str:
        return f"lambd={self.lambd}"
