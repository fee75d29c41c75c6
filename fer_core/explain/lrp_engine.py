"""A fast LRP engine: one forward at batch N, one modified backward at batch N x K for all K targets.

zennit computes LRP with hooks on a forward/backward over the whole (N x K) batch. Here the forward runs once
per face and every rule's denominators are evaluated at batch N, so all-class maps cost about one input-gradient
pass. Supported graph: the flat Sequentials that ``canonize.canonical_copy`` produces (Conv2d, Linear, ReLU,
SamePadMaxPool2d, residual blocks with a ResidualSum merge, AdaptiveAvgPool2d, Flatten, Identity).

A :class:`LayerCondition` turns the same pass into Concept Relevance Propagation (CRP): at one layer's output it
records the relevance of every channel and, given channel masks, fans each row out into one row per concept, so
the conditional heatmaps of M concepts cost one backward at batch N x K x M below that layer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from ..models.layers import ResidualSum, SamePadMaxPool2d
from . import lrp_rules
from .lrp_rules import STABILIZER, stabilize

Rule = Callable[..., torch.Tensor]


@dataclass(frozen=True)
class CompositeSpec:
    """Which rule each layer kind gets, mirroring a zennit composite."""

    name: str
    conv: Rule
    linear: Rule
    first: Rule
    zennit_name: str
    rule_kwargs: dict = field(default_factory=dict)


COMPOSITES: dict[str, CompositeSpec] = {
    "epsilon_plus_flat": CompositeSpec(
        "epsilon_plus_flat", lrp_rules.zplus, lrp_rules.epsilon, lrp_rules.flat, "EpsilonPlusFlat"
    ),
    "epsilon_alpha2_beta1_flat": CompositeSpec(
        "epsilon_alpha2_beta1_flat", lrp_rules.alpha_beta, lrp_rules.epsilon, lrp_rules.flat, "EpsilonAlpha2Beta1Flat"
    ),
    "epsilon_gamma_box": CompositeSpec(
        "epsilon_gamma_box", lrp_rules.gamma, lrp_rules.epsilon, lrp_rules.zbox, "EpsilonGammaBox"
    ),
}


@dataclass
class LayerCondition:
    """Where and how the backward pass is conditioned (CRP): ``module`` is a top-level layer of the canonical model
    (a conv, a linear layer or a residual block). ``masks`` (M, C) or (N * K, M, C) selects the channels of each of M
    concepts; None records the layer's relevance and, with ``stop``, ends the pass there (without, the pass goes on
    to the input unconditioned). ``relevance`` is filled with the relevance at the module's output, (N * K, C, ...),
    before masking."""

    module: nn.Module
    masks: torch.Tensor | None = None
    relevance: torch.Tensor | None = None
    stop: bool = True


class _ReachedLayer(Exception):
    """Ends a backward pass that only wanted the relevance at the condition's layer."""


def _fan_out(r: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """(R, C, ...) relevance times (M, C) or (R, M, C) channel masks -> (R * M, C, ...), rows stay face-major."""
    m = masks if masks.ndim == 3 else masks[None]
    extra = (1,) * (r.ndim - 2)
    out = r[:, None] * m.to(r).reshape(*m.shape, *extra)
    return out.reshape(-1, *r.shape[1:])


def _is_residual(module: nn.Module) -> bool:
    return all(hasattr(module, a) for a in ("main", "shortcut", "merge")) and isinstance(module.merge, ResidualSum)


class _Walker:
    """Records inputs on the way forward, then replays the graph backwards applying the rules."""

    def __init__(
        self,
        spec: CompositeSpec,
        keep_bias: bool,
        low: torch.Tensor | None,
        high: torch.Tensor | None,
        condition: LayerCondition | None = None,
    ):
        self.spec, self.keep_bias, self.low, self.high = spec, keep_bias, low, high
        self.condition = condition
        self.first_seen = False

    def _conditioned(self, module: nn.Module, r: torch.Tensor) -> torch.Tensor:
        """The relevance at ``module``'s output, recorded and fanned out when ``module`` is the condition's layer."""
        cond = self.condition
        if cond is None or module is not cond.module:
            return r
        cond.relevance = r
        if cond.masks is not None:
            return _fan_out(r, cond.masks)
        if cond.stop:
            raise _ReachedLayer
        return r

    # ---- forward: returns output and a tape entry -------------------------------------------------------------
    def forward(self, module: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, tuple]:
        if isinstance(module, nn.Sequential):
            tape = []
            for child in module:
                x, entry = self.forward(child, x)
                tape.append(entry)
            return x, ("seq", tape)
        if _is_residual(module):
            a, ta = self.forward(module.main, x)
            b, tb = self.forward(module.shortcut, x)
            return a + b, ("res", x, a, b, ta, tb, module)
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            rule = self.spec.linear if isinstance(module, nn.Linear) else self.spec.conv
            if not self.first_seen:
                rule, self.first_seen = self.spec.first, True
            return module(x), ("lin", module, rule, x)
        if isinstance(module, SamePadMaxPool2d):
            padded = F.pad(x, module.pads(x.shape[-2], x.shape[-1]), value=float("-inf"))
            out, idx = F.max_pool2d(padded, module.kernel_size, module.stride, return_indices=True)
            return out, ("maxpool", module, x.shape, padded.shape, idx)
        if isinstance(module, nn.MaxPool2d):  # torchvision's stems: symmetric zero-free padding
            out, idx = F.max_pool2d(
                x, module.kernel_size, module.stride, module.padding, module.dilation, module.ceil_mode, True
            )
            return out, ("maxpool_plain", x.shape, idx)
        if isinstance(module, nn.AdaptiveAvgPool2d):
            if module.output_size not in (1, (1, 1)):
                raise TypeError("only global average pooling is supported")
            return module(x), ("gap", x)
        if isinstance(module, nn.Flatten):
            return module(x), ("reshape", x.shape)
        if isinstance(module, (nn.ReLU, nn.Identity, nn.Dropout)):
            return module(x), ("pass",)
        raise TypeError(f"the LRP engine does not support {type(module).__name__}")

    # ---- backward: r has batch N * K --------------------------------------------------------------------------
    def backward(self, entry: tuple, r: torch.Tensor, n: int) -> torch.Tensor:
        kind = entry[0]
        if kind == "seq":
            for sub in reversed(entry[1]):
                r = self.backward(sub, r, n)
            return r
        if kind == "res":
            _, x, a, b, ta, tb, module = entry
            r = self._conditioned(module, r)
            s = r.reshape(n, -1, *r.shape[1:]) / stabilize(a + b)[:, None]
            ra = (a[:, None] * s).reshape(r.shape)
            rb = (b[:, None] * s).reshape(r.shape)
            return self.backward(ta, ra, n) + self.backward(tb, rb, n)
        if kind == "lin":
            _, module, rule, x = entry
            r = self._conditioned(module, r)
            kwargs = {"low": self.low, "high": self.high} if rule is lrp_rules.zbox else {}
            return rule(module, x, r, keep_bias=self.keep_bias, **kwargs)
        if kind == "maxpool":
            _, module, in_shape, pad_shape, idx = entry
            k = r.shape[0] // n
            flat = r.new_zeros((r.shape[0], r.shape[1], pad_shape[-2] * pad_shape[-1]))
            flat.scatter_add_(2, idx.repeat_interleave(k, 0).flatten(2), r.flatten(2))
            left, _, top, _ = module.pads(in_shape[-2], in_shape[-1])
            full = flat.view(r.shape[0], r.shape[1], pad_shape[-2], pad_shape[-1])
            return full[..., top : top + in_shape[-2], left : left + in_shape[-1]]
        if kind == "maxpool_plain":  # winner takes all, as zennit's gradient pass-through
            _, in_shape, idx = entry
            k = r.shape[0] // n
            flat = r.new_zeros((r.shape[0], r.shape[1], in_shape[-2] * in_shape[-1]))
            flat.scatter_add_(2, idx.repeat_interleave(k, 0).flatten(2), r.flatten(2))
            return flat.view(r.shape[0], r.shape[1], in_shape[-2], in_shape[-1])
        if kind == "gap":
            x = entry[1]
            z = x.mean(dim=(2, 3), keepdim=True)
            s = r.reshape(n, -1, x.shape[1], 1, 1) / stabilize(z, STABILIZER)[:, None]
            return (x[:, None] * s / (x.shape[2] * x.shape[3])).reshape(r.shape[0], *x.shape[1:])
        if kind == "reshape":
            return r.reshape(r.shape[0], *entry[1][1:])
        return r  # pass


@torch.no_grad()
def lrp_all_targets(
    model: nn.Sequential,
    images: torch.Tensor,
    targets: torch.Tensor,
    spec: CompositeSpec,
    keep_bias: bool = False,
    low: torch.Tensor | None = None,
    high: torch.Tensor | None = None,
    condition: LayerCondition | None = None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Relevance maps for every (image, target) pair.

    Parameters
    ----------
    model
        Canonical Sequential (see ``canonize.canonical_copy``).
    images
        (N, C, H, W) model inputs.
    targets
        (N, K) long tensor of class indices to explain for each image.
    spec
        The composite's rule per layer kind (one of ``COMPOSITES``).
    keep_bias
        Give biases a share of relevance; off, relevance is conserved to the input.
    low
        Lowest input value for the first layer's ZBox rule, broadcastable to ``images`` (e.g. (1, C, 1, 1));
        None when the composite has no ZBox.
    high
        Highest input value, as ``low``.
    condition
        Condition the pass on one layer's channels (CRP); its ``relevance`` is filled in.

    Returns
    -------
    tuple[torch.Tensor, torch.Tensor | None]
        Logits (N, num_classes) and relevance (N, K, C, H, W), or (N, K, M, C, H, W) with M concept masks; the
        relevance of each target starts as its logit. None when the condition records its layer and stops there.

    Raises
    ------
    ValueError
        The condition names a layer the pass never reached (not a top-level layer of the canonical model).
    """
    n, k = targets.shape
    walker = _Walker(spec, keep_bias, low, high, condition)
    logits, tape = walker.forward(model, images)
    r = torch.zeros(n, k, logits.shape[1], dtype=logits.dtype, device=logits.device)
    r.scatter_(2, targets[..., None], logits.gather(1, targets)[..., None])
    try:
        rel = walker.backward(tape, r.reshape(n * k, -1), n)
    except _ReachedLayer:
        return logits, None
    if condition is not None and condition.relevance is None:
        raise ValueError("the condition's layer is not a top-level layer of the canonical model")
    if condition is None or condition.masks is None:
        return logits, rel.reshape(n, k, *images.shape[1:])
    return logits, rel.reshape(n, k, -1, *images.shape[1:])
