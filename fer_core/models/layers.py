"""Small layers that make Keras-trained graphs exact in PyTorch and explicit for LRP."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def tf_same_pads(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """(before, after) padding of TensorFlow's 'SAME' mode: the extra pixel, if any, goes after."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class SamePadMaxPool2d(nn.Module):
    """Max pooling with TensorFlow 'SAME' padding (asymmetric, padded with -inf), as Keras computes it."""

    def __init__(self, kernel_size: int = 3, stride: int = 2) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride

    def pads(self, height: int, width: int) -> tuple[int, int, int, int]:
        top, bottom = tf_same_pads(height, self.kernel_size, self.stride)
        left, right = tf_same_pads(width, self.kernel_size, self.stride)
        return left, right, top, bottom

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(x, self.pads(x.shape[-2], x.shape[-1]), value=float("-inf"))
        return F.max_pool2d(x, self.kernel_size, self.stride)


class SeparableConv2d(nn.Module):
    """Depthwise k x k followed by pointwise 1 x 1, no bias (Keras SeparableConv2D, depth_multiplier 1)."""

    def __init__(self, in_chans: int, out_chans: int, kernel_size: int = 3) -> None:
        super().__init__()
        self.depthwise = nn.Conv2d(
            in_chans, in_chans, kernel_size, padding=kernel_size // 2, groups=in_chans, bias=False
        )
        self.pointwise = nn.Conv2d(in_chans, out_chans, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))

    def fused(self) -> nn.Conv2d:
        """One dense conv equal to this pair: W[o, i] = P[o, i] * D[i] (exact; LRP needs no linear-linear pair)."""
        dw, pw = self.depthwise, self.pointwise
        conv = nn.Conv2d(
            dw.in_channels,
            pw.out_channels,
            dw.kernel_size,
            padding=dw.padding,
            bias=False,
            dtype=dw.weight.dtype,
            device=dw.weight.device,
        )
        weight = pw.weight[:, :, 0, 0, None, None] * dw.weight[:, 0][None]  # [O, I, k, k]
        conv.weight.data.copy_(weight)
        return conv


class ResidualSum(nn.Module):
    """Sum of branches stacked on the last dim; an explicit module so LRP can split relevance by contribution."""

    def forward(self, stacked: torch.Tensor) -> torch.Tensor:
        return stacked.sum(dim=-1)
