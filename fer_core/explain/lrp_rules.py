"""LRP rules for conv/linear layers, evaluated for K output relevances of one input in one batched pass.

Each rule reproduces the zennit rule of the same name (same stabiliser, same bias handling) so that maps are
interchangeable; ``tests/explain/test_lrp.py`` checks that against zennit itself. ``x`` has shape (N, ...), the
relevance ``r`` has shape (N * K, ...) ordered face-major; quantities that depend only on ``x`` are computed once
at batch N and broadcast over K.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.grad import conv2d_input

STABILIZER = 1e-6


def stabilize(z: torch.Tensor, eps: float = STABILIZER) -> torch.Tensor:
    """zennit's stabiliser: shift by eps in the direction of the sign, zeros count as positive."""
    return z + eps * ((z == 0).to(z) + z.sign())


@dataclass(frozen=True)
class LayerOps:
    """Forward and input-gradient of one conv or linear layer with substitutable weights."""

    layer: nn.Module

    def fwd(self, x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None = None) -> torch.Tensor:
        if isinstance(self.layer, nn.Conv2d):
            c = self.layer
            return F.conv2d(x, w, b, c.stride, c.padding, c.dilation, c.groups)
        return F.linear(x, w, b)

    def grad(self, shape: torch.Size, w: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        if isinstance(self.layer, nn.Conv2d):
            c = self.layer
            return conv2d_input(shape, w, g, c.stride, c.padding, c.dilation, c.groups)
        return g @ w


def _k_view(t: torch.Tensor, n: int) -> torch.Tensor:
    return t.reshape(n, -1, *t.shape[1:])  # (N*K, ...) -> (N, K, ...)


def _bias(layer: nn.Module, keep_bias: bool) -> torch.Tensor | None:
    return layer.bias if keep_bias and getattr(layer, "bias", None) is not None else None


def _shape(x: torch.Tensor, rows: int) -> torch.Size:
    return torch.Size((rows, *x.shape[1:]))


def _backprop(ops: LayerOps, x: torch.Tensor, w: torch.Tensor, r: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """x-side factor: grad of sum(z_mod * s) wrt input for s = r / stab(z); returns (N*K, ...)."""
    n = x.shape[0]
    s = (_k_view(r, n) / stabilize(z)[:, None]).reshape(r.shape)
    return ops.grad(_shape(x, r.shape[0]), w, s)


def _times(x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    n = x.shape[0]
    return (x[:, None] * _k_view(g, n)).reshape(g.shape)


def epsilon(layer, x, r, keep_bias=False, eps=STABILIZER):
    ops = LayerOps(layer)
    z = ops.fwd(x, layer.weight, _bias(layer, keep_bias))
    return _times(x, _backprop(ops, x, layer.weight, r, z))


def zplus(layer, x, r, keep_bias=False):
    ops = LayerOps(layer)
    wp, wn = layer.weight.clamp(min=0), layer.weight.clamp(max=0)
    b = _bias(layer, keep_bias)
    xp, xn = x.clamp(min=0), x.clamp(max=0)
    z = ops.fwd(xp, wp, None if b is None else b.clamp(min=0))
    if not bool((x < 0).any()):  # after a ReLU (most layers): the negative half is exactly zero, skip its N*K pass
        return _times(xp, _backprop(ops, x, wp, r, z))
    z = z + ops.fwd(xn, wn)
    return _times(xp, _backprop(ops, x, wp, r, z)) + _times(xn, _backprop(ops, x, wn, r, z))


def alpha_beta(layer, x, r, keep_bias=False, alpha=2.0, beta=1.0):
    ops = LayerOps(layer)
    wp, wn = layer.weight.clamp(min=0), layer.weight.clamp(max=0)
    b = _bias(layer, keep_bias)
    xp, xn = x.clamp(min=0), x.clamp(max=0)
    if not bool((x < 0).any()):  # non-negative inputs: the terms of the negative inputs are exactly zero
        z_pos = ops.fwd(xp, wp, None if b is None else b.clamp(min=0))
        z_neg = ops.fwd(xp, wn, None if b is None else b.clamp(max=0))
        return alpha * _times(xp, _backprop(ops, x, wp, r, z_pos)) - beta * _times(xp, _backprop(ops, x, wn, r, z_neg))
    z_pos = ops.fwd(xp, wp, None if b is None else b.clamp(min=0)) + ops.fwd(xn, wn)
    z_neg = ops.fwd(xp, wn, None if b is None else b.clamp(max=0)) + ops.fwd(xn, wp)
    pos = _times(xp, _backprop(ops, x, wp, r, z_pos)) + _times(xn, _backprop(ops, x, wn, r, z_pos))
    neg = _times(xp, _backprop(ops, x, wn, r, z_neg)) + _times(xn, _backprop(ops, x, wp, r, z_neg))
    return alpha * pos - beta * neg


def gamma(layer, x, r, keep_bias=False, gamma=0.25):
    ops = LayerOps(layer)
    w = layer.weight
    b = _bias(layer, keep_bias)
    w_up, w_dn = w + gamma * w.clamp(min=0), w + gamma * w.clamp(max=0)
    b_up = None if b is None else b + gamma * b.clamp(min=0)
    b_dn = None if b is None else b + gamma * b.clamp(max=0)
    xp, xn = x.clamp(min=0), x.clamp(max=0)
    out = ops.fwd(x, w, layer.bias)  # zennit decides the sign with the unmodified layer, bias included
    n = x.shape[0]
    z_pos = ops.fwd(xp, w_up, b_up) + ops.fwd(xn, w_dn)
    z_neg = ops.fwd(xp, w_dn, b_dn) + ops.fwd(xn, w_up)
    r_pos = (_k_view(r, n) * (out > 0)[:, None]).reshape(r.shape)
    r_neg = (_k_view(r, n) * (out < 0)[:, None]).reshape(r.shape)
    return (
        _times(xp, _backprop(ops, x, w_up, r_pos, z_pos))
        + _times(xn, _backprop(ops, x, w_dn, r_pos, z_pos))
        + _times(xp, _backprop(ops, x, w_dn, r_neg, z_neg))
        + _times(xn, _backprop(ops, x, w_up, r_neg, z_neg))
    )


def flat(layer, x, r, keep_bias=False):
    ops = LayerOps(layer)
    ones_w = torch.ones_like(layer.weight)
    z = ops.fwd(torch.ones_like(x), ones_w)
    return _backprop(ops, x, ones_w, r, z)


def zbox(layer, x, r, keep_bias=False, low=None, high=None):
    ops = LayerOps(layer)
    w, b = layer.weight, _bias(layer, keep_bias)
    wp, wn = w.clamp(min=0), w.clamp(max=0)
    lo, hi = low.expand_as(x).to(x), high.expand_as(x).to(x)
    z = (
        ops.fwd(x, w, b)
        - ops.fwd(lo, wp, None if b is None else b.clamp(min=0))
        - ops.fwd(hi, wn, None if b is None else b.clamp(max=0))
    )
    return (
        _times(x, _backprop(ops, x, w, r, z))
        - _times(lo, _backprop(ops, x, wp, r, z))
        - _times(hi, _backprop(ops, x, wn, r, z))
    )
