"""Canonical copies of models for LRP: separable convs fused, BatchNorm folded exactly, one flat Sequential.

LRP rules assume every linear map is followed by a non-linearity and that BN is part of the conv. A depthwise
conv followed directly by a pointwise conv (no ReLU between) loses relevance under ZPlus, and an unfolded BN is
skipped. Both are fixed here by exact rewriting on a *copy*: the caller's model is never touched, so the copy
is also safe to hook while other threads use the original.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from ..models.layers import SeparableConv2d
from ..models.mini_xception import explain_layers
from .bn_fold import fold_bn


def _canonize_sequential(seq: nn.Sequential) -> nn.Sequential:
    out: list[nn.Module] = []
    for module in seq:
        if isinstance(module, SeparableConv2d):
            module = module.fused()
        elif isinstance(module, nn.Sequential):
            module = _canonize_sequential(module)
        else:
            _canonize_children(module)
        if isinstance(module, nn.BatchNorm2d) and out and isinstance(out[-1], nn.Conv2d):
            out[-1] = fold_bn(out[-1], module)
            continue
        if isinstance(module, nn.BatchNorm2d):
            raise ValueError("a BatchNorm2d that does not follow a conv cannot be folded")
        # a Sequential(conv, bn) that collapsed to one conv is flattened into its parent
        if isinstance(module, nn.Sequential) and len(module) == 1:
            module = module[0]
        out.append(module)
    return nn.Sequential(*out)


def _canonize_children(module: nn.Module) -> None:
    for name, child in list(module.named_children()):
        if isinstance(child, nn.Sequential):
            setattr(module, name, _canonize_sequential(child))
        elif isinstance(child, SeparableConv2d):
            setattr(module, name, child.fused())
        else:
            _canonize_children(child)


@torch.no_grad()
def canonical_copy(model: nn.Module) -> nn.Sequential:
    """An eval-mode, gradient-free flat Sequential computing the same function as ``model``."""
    from .canonize_resnet import canonical_resnet, is_torchvision_resnet

    if is_torchvision_resnet(model):
        return canonical_resnet(model)
    layers = [copy.deepcopy(m) for m in explain_layers(model)]
    seq = _canonize_sequential(nn.Sequential(*layers)).eval()
    for p in seq.parameters():
        p.requires_grad_(False)
    return seq
