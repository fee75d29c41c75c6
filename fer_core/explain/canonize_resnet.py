"""torchvision ResNets as the flat graph the fast LRP engine walks: BatchNorm folded into each conv, every block a
``main`` + ``shortcut`` pair merged by a :class:`ResidualSum` (zennit's ResNetCanonizer does the same with hooks,
and gives the sum zennit's Norm rule, as the engine does)."""

from __future__ import annotations

import copy
import sys

import torch
from torch import nn

from ..models.layers import ResidualSum
from .bn_fold import fold_bn


class Residual(nn.Module):
    """``main(x) + shortcut(x)``: the shape ``lrp_engine`` recognises as a residual block."""

    def __init__(self, main: nn.Module, shortcut: nn.Module) -> None:
        super().__init__()
        self.main, self.shortcut, self.merge = main, shortcut, ResidualSum()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.merge(torch.stack([self.main(x), self.shortcut(x)], dim=-1))


def is_torchvision_resnet(model: nn.Module) -> bool:
    """Whether ``model`` is a torchvision ResNet, without importing torchvision's models (1-2 s, most of a
    single-photo command's start-up) for a model that cannot be one: no torchvision ResNet exists before that
    module is loaded."""
    resnet = sys.modules.get("torchvision.models.resnet")
    return resnet is not None and isinstance(model, resnet.ResNet)


def _fold(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    return fold_bn(conv, bn)


def _block(block: nn.Module) -> list[nn.Module]:
    from torchvision.models.resnet import BasicBlock, Bottleneck

    if isinstance(block, BasicBlock):
        main = [_fold(block.conv1, block.bn1), nn.ReLU(), _fold(block.conv2, block.bn2)]
    elif isinstance(block, Bottleneck):
        main = [
            _fold(block.conv1, block.bn1),
            nn.ReLU(),
            _fold(block.conv2, block.bn2),
            nn.ReLU(),
            _fold(block.conv3, block.bn3),
        ]
    else:
        raise TypeError(f"unknown ResNet block {type(block).__name__}")
    ds = block.downsample
    shortcut = nn.Identity() if ds is None else _fold(ds[0], ds[1])
    return [Residual(nn.Sequential(*main), shortcut), nn.ReLU()]


@torch.no_grad()
def canonical_resnet(model: nn.Module) -> nn.Sequential:
    """An eval-mode, gradient-free flat Sequential computing the same function as a torchvision ResNet."""
    model = copy.deepcopy(model).eval()
    layers: list[nn.Module] = [_fold(model.conv1, model.bn1), nn.ReLU(), model.maxpool]
    for stage in (model.layer1, model.layer2, model.layer3, model.layer4):
        for block in stage:
            layers += _block(block)
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(1), model.fc]
    seq = nn.Sequential(*layers).eval()
    for p in seq.parameters():
        p.requires_grad_(False)
    return seq
