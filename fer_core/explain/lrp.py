"""Layer-wise relevance propagation on canonised models: a fast batched engine and zennit as the reference."""

from __future__ import annotations

import torch
from torch import nn

from ..models.layers import ResidualSum
from ._base import MultiTargetExplainer
from .canonize import canonical_copy
from .lrp_engine import COMPOSITES, CompositeSpec, lrp_all_targets

ENGINES = ("fast", "zennit")


def _spec(composite: str) -> CompositeSpec:
    if composite not in COMPOSITES:
        raise ValueError(f"unknown LRP composite {composite!r}; choose from {', '.join(COMPOSITES)}")
    return COMPOSITES[composite]


def zennit_lrp(
    model: nn.Sequential,
    images: torch.Tensor,
    targets: torch.Tensor,
    composite: str,
    keep_bias: bool = False,
    low: torch.Tensor | None = None,
    high: torch.Tensor | None = None,
) -> torch.Tensor:
    """Reference LRP through zennit, all (image, target) rows in one batched call: (N, K, C, H, W).

    ``model`` must be canonical (BN folded, separable convs fused); the residual ResidualSum gets zennit's Norm
    rule, as zennit's own ResNet canonizer arranges for torchvision models.
    """
    import zennit.composites as zc
    from zennit.rules import Norm

    spec = _spec(composite)
    n, k = targets.shape
    kwargs = dict(layer_map=[(ResidualSum, Norm())], zero_params=None if keep_bias else "bias")
    if spec.zennit_name == "EpsilonGammaBox":
        shape = (n * k, *images.shape[1:])
        kwargs.update(low=low.expand(shape).to(images), high=high.expand(shape).to(images))
    comp = getattr(zc, spec.zennit_name)(**kwargs)
    x = images.repeat_interleave(k, 0).detach().requires_grad_(True)
    flat_targets = targets.reshape(-1)
    with comp.context(model) as hooked:
        out = hooked(x)
        seed = torch.zeros_like(out)
        seed[torch.arange(len(out)), flat_targets] = out.detach()[torch.arange(len(out)), flat_targets]
        (rel,) = torch.autograd.grad(out, x, seed)
    return rel.view(n, k, *images.shape[1:])


class LRPExplainer(MultiTargetExplainer):
    """LRP with a zennit composite's rules; every class of a face comes from one batched pass.

    Parameters
    ----------
    model
        A registry model (e.g. the mini-Xception); a canonical copy is made and the original is untouched.
    composite
        'epsilon_plus_flat' (default), 'epsilon_gamma_box' or 'epsilon_alpha2_beta1_flat'.
    engine
        'fast' (own batched engine, equal to zennit to 1e-4) or 'zennit' (hooks; the reference).
    keep_bias
        Give biases a share of relevance (zennit default); off, relevance is conserved to the input.
    bounds
        (low, high) input-space bounds per channel for ZBox; needed by 'epsilon_gamma_box'.

    Raises
    ------
    ValueError
        When ``engine`` is unknown, or 'epsilon_gamma_box' is asked for without ``bounds``.
    """

    def __init__(
        self,
        model: nn.Module,
        composite: str = "epsilon_plus_flat",
        engine: str = "fast",
        keep_bias: bool = False,
        bounds: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> None:
        self.spec = _spec(composite)
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
        if composite == "epsilon_gamma_box" and bounds is None:
            raise ValueError("epsilon_gamma_box needs bounds=(low, high); see models.preprocess.input_bounds")
        super().__init__(model)
        self.model = canonical_copy(self.model)
        self.engine, self.keep_bias = engine, keep_bias
        self.low, self.high = bounds if bounds is not None else (None, None)
        self.name = f"lrp:{composite}"

    def forward_relevance(self, images: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(logits, (N, K, C, H, W) relevance) for an (N, K) target matrix, in one pass of the chosen engine."""
        if self.engine == "zennit":
            rel = zennit_lrp(self.model, images, targets, self.spec.name, self.keep_bias, self.low, self.high)
            return self.logits(images), rel
        return lrp_all_targets(self.model, images, targets, self.spec, self.keep_bias, self.low, self.high)
