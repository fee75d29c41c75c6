"""The FER2013 mini-Xception (Arriaga et al. 2017) as a plain nn.Module, laid out to mirror the Keras graph."""

from __future__ import annotations

import torch
from torch import nn

from .layers import ResidualSum, SamePadMaxPool2d, SeparableConv2d


def _conv_bn(in_chans: int, out_chans: int, kernel: int, stride: int = 1) -> nn.Sequential:
    # Keras BatchNormalization default epsilon is 1e-3.
    return nn.Sequential(
        nn.Conv2d(in_chans, out_chans, kernel, stride=stride, bias=False), nn.BatchNorm2d(out_chans, eps=1e-3)
    )


class XceptionBlock(nn.Module):
    """sepconv-BN-ReLU-sepconv-BN-maxpool, plus a strided 1x1 conv-BN shortcut, summed."""

    def __init__(self, in_chans: int, out_chans: int) -> None:
        super().__init__()
        self.main = nn.Sequential(
            SeparableConv2d(in_chans, out_chans),
            nn.BatchNorm2d(out_chans, eps=1e-3),
            nn.ReLU(),
            SeparableConv2d(out_chans, out_chans),
            nn.BatchNorm2d(out_chans, eps=1e-3),
            SamePadMaxPool2d(3, 2),
        )
        self.shortcut = _conv_bn(in_chans, out_chans, 1, stride=2)
        self.merge = ResidualSum()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.merge(torch.stack([self.main(x), self.shortcut(x)], dim=-1))


class MiniXception(nn.Module):
    """Input (N, 1, 64, 64) in [-1, 1]; output logits (N, num_classes).

    ``forward_features`` gives the last block's map (N, 128, 4, 4); ``forward_head(pre_logits=True)`` the
    global-average-pooled 128-d embedding used by fairness and probing code.
    """

    def __init__(self, num_classes: int = 7, in_chans: int = 1, widths: tuple[int, ...] = (16, 32, 64, 128)) -> None:
        super().__init__()
        self.stem = nn.Sequential(_conv_bn(in_chans, 8, 3), nn.ReLU(), _conv_bn(8, 8, 3), nn.ReLU())
        chans = (8,) + tuple(widths)
        self.blocks = nn.Sequential(*[XceptionBlock(a, b) for a, b in zip(chans[:-1], chans[1:])])
        self.num_features = chans[-1]
        self.head = nn.Conv2d(self.num_features, num_classes, 3, padding=1, bias=True)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten(1)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(self.stem(x))

    def forward_head(self, feats: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        if pre_logits:
            return self.flatten(self.pool(feats))
        return self.flatten(self.pool(self.head(feats)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))

    def get_classifier(self) -> nn.Module:
        return self.head

    def layer_id(self, name: str) -> int:
        """Depth of a parameter for layer-wise learning-rate decay, as for a ViT: 0 = stem, i + 1 = block i,
        depth + 1 = the head."""
        if name.startswith("stem."):
            return 0
        if name.startswith("blocks."):
            return int(name.split(".")[1]) + 1
        return len(self.blocks) + 1

    def reset_classifier(self, num_classes: int) -> None:
        self.head = nn.Conv2d(self.num_features, num_classes, 3, padding=1, bias=True)

    @property
    def cam_layer(self) -> nn.Module:
        """Layer whose activations Grad-CAM weighs: the last block's output."""
        return self.blocks[-1]


def explain_layers(model: nn.Module) -> list[nn.Module]:
    """The model as a flat forward-ordered list of modules, for explainers that walk the graph."""
    if isinstance(model, MiniXception):
        return [model.stem, model.blocks, model.head, model.pool, model.flatten]
    raise TypeError(f"{type(model).__name__} does not expose its layers for LRP")
