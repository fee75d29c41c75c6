"""LRP for Vision Transformers by conservative propagation (CP-LRP; Ali et al., ICML 2022, "XAI for Transformers:
Better Explanations through Conservative Propagation").

Gradient x input through a transformer is not a relevance decomposition: softmax attention and LayerNorm's division
by the standard deviation make the function non-linear in ways that leak or create relevance. CP-LRP treats the
attention weights (AH rule) and the LayerNorm denominator (LN rule) as constants of the forward pass, and passes
relevance through GELU unchanged (the identity rule of AttnLRP, Achtibat et al. 2024). What is left is linear in the
input up to biases, so gradient x input of that network *is* LRP-0, computed by autograd in one backward pass per
target. Relevance is conserved: with biases, position embeddings and the class token at zero, the input relevance
sums to the explained logit (tested). zennit has no transformer rules, hence this module.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from ..models.vit import Attention, VisionTransformer
from ._base import MultiTargetExplainer

__all__ = ["TransformerLRPExplainer", "conservative_copy"]


class _ConstantAttention(nn.Module):
    """The same attention with its softmax weights detached (AH rule): relevance flows through the values only."""

    def __init__(self, attn: Attention) -> None:
        super().__init__()
        self.num_heads, self.scale, self.qkv, self.proj = attn.num_heads, attn.scale, attn.qkv, attn.proj

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.num_heads, c // self.num_heads).permute(2, 0, 3, 1, 4)
        weights = (q @ k.transpose(-2, -1) * self.scale).softmax(-1).detach()
        return self.proj((weights @ v).transpose(1, 2).reshape(b, n, c))


class _ConstantNormLayerNorm(nn.Module):
    """LayerNorm whose standard deviation is a constant of the forward pass (LN rule); centring stays linear."""

    def __init__(self, norm: nn.LayerNorm) -> None:
        super().__init__()
        self.weight, self.bias, self.eps = norm.weight, norm.bias, norm.eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        centred = x - x.mean(-1, keepdim=True)
        std = (centred.pow(2).mean(-1, keepdim=True) + self.eps).sqrt().detach()
        out = centred / std
        if self.weight is not None:
            out = out * self.weight
        return out + self.bias if self.bias is not None else out


class _IdentityRuleGELU(nn.Module):
    """GELU's value, with relevance passed through unchanged: y = x * (gelu(x) / x), the ratio held constant."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = nn.functional.gelu(x)
        safe = torch.where(x.abs() < 1e-12, torch.full_like(x, 1e-12), x)
        return x * (y / safe).detach()


def _make_conservative(module: nn.Module) -> None:
    """Swap, in place, attention, LayerNorm and GELU for their CP-LRP forms (same outputs, same parameters)."""
    for name, child in module.named_children():
        if isinstance(child, Attention):
            setattr(module, name, _ConstantAttention(child))
        elif isinstance(child, nn.LayerNorm):
            setattr(module, name, _ConstantNormLayerNorm(child))
        elif isinstance(child, nn.GELU):
            setattr(module, name, _IdentityRuleGELU())
        else:
            _make_conservative(child)


def _check_vit(model: nn.Module) -> None:
    if not isinstance(model, VisionTransformer):
        raise TypeError(f"conservative propagation is for the registry's VisionTransformer, got {type(model).__name__}")


def conservative_copy(model: VisionTransformer) -> VisionTransformer:
    """A copy of ``model`` whose forward gives the same outputs and whose gradient x input is CP-LRP relevance."""
    _check_vit(model)
    out = copy.deepcopy(model).eval()
    _make_conservative(out)
    return out


class TransformerLRPExplainer(MultiTargetExplainer):
    """CP-LRP heatmaps for a registry ViT (e.g. an ``au_iat`` run fine-tuned from ``mae_pretrain``).

    Every target of a face is one row of a single batched backward pass (the image repeated per target)."""

    name = "lrp:cp"

    def __init__(self, model: nn.Module) -> None:
        _check_vit(model)
        super().__init__(model)  # a private eval-mode copy, parameters frozen
        _make_conservative(self.model)

    def forward_relevance(self, images: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(logits (N, num_classes), relevance (N, K, C, H, W)) for an (N, K) target matrix, one pass."""
        n, k = targets.shape
        x = images.repeat_interleave(k, 0).detach().requires_grad_(True)
        with torch.enable_grad():
            out = self.model(x)
            picked = out.gather(1, targets.reshape(-1, 1).to(out.device)).sum()
            (grad,) = torch.autograd.grad(picked, x)
        return out.detach()[::k], (grad * x).detach().view(n, k, *images.shape[1:])

    def faces_per_pass(self, batch_size: int, num_targets: int) -> int:
        return batch_size // num_targets  # each face is repeated once per target
