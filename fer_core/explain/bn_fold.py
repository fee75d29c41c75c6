"""BatchNorm folded into the convolution before it: the exact rewrite every LRP canonizer starts from."""

from __future__ import annotations

import torch
from torch import nn


def fold_bn(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    """conv followed by eval-mode BN as one conv: W' = W * g / sqrt(var + eps), b' = (b - mean) g / sqrt + beta."""
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    fused = nn.Conv2d(
        conv.in_channels,
        conv.out_channels,
        conv.kernel_size,
        stride=conv.stride,
        padding=conv.padding,
        dilation=conv.dilation,
        groups=conv.groups,
        bias=True,
        dtype=conv.weight.dtype,
        device=conv.weight.device,
    )
    bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
    fused.weight.data.copy_(conv.weight * scale[:, None, None, None])
    fused.bias.data.copy_((bias - bn.running_mean) * scale + bn.bias)
    return fused
