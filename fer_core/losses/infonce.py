"""Contrastive losses on embeddings: SimCLR's NT-Xent (InfoNCE) and supervised contrastive (SupCon).

Whether Yu et al. use a contrastive term, and with which positives, is not confirmed (METHODS 3.2/3.3); both common
choices are offered so the semi-supervised recipe can try either.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = ["info_nce", "supcon"]


def _check_temperature(temperature: float) -> float:
    value = float(temperature)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"temperature must be a finite number > 0, got {temperature!r}")
    return value


def _check_embeddings(name: str, z: torch.Tensor) -> None:
    if not isinstance(z, torch.Tensor) or z.dim() != 2 or not z.is_floating_point():
        shape = tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__
        raise ValueError(f"{name} must be a 2-D floating-point (N, D) tensor, got {shape}")


def info_nce(z1: torch.Tensor, z2: torch.Tensor, temperature: float = 0.1) -> torch.Tensor:
    """SimCLR NT-Xent: row i of z1 and row i of z2 are positives, every other row of both views is a negative.

    Cosine similarity over the 2N stacked embeddings, self-similarity excluded, mean over all 2N anchors.
    """
    _check_embeddings("z1", z1)
    _check_embeddings("z2", z2)
    if z1.shape != z2.shape:
        raise ValueError(f"z1 and z2 must have the same shape, got {tuple(z1.shape)} and {tuple(z2.shape)}")
    if z1.shape[0] < 2:
        raise ValueError(f"info_nce needs at least 2 rows (otherwise there are no negatives), got {z1.shape[0]}")
    t = _check_temperature(temperature)
    n = z1.shape[0]
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    logits = (z @ z.T) / t
    logits = logits.masked_fill(torch.eye(2 * n, dtype=torch.bool, device=z.device), float("-inf"))
    targets = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
    return F.cross_entropy(logits, targets)


def supcon(z: torch.Tensor, labels: torch.Tensor, temperature: float = 0.1) -> torch.Tensor:
    """Supervised contrastive loss (Khosla et al. 2020, L_out): positives are the other rows with the same label.

    Anchors without any positive are skipped; if no anchor has one, the loss is a zero that still carries a graph.
    """
    _check_embeddings("z", z)
    labels = torch.as_tensor(labels, device=z.device)
    if labels.dim() != 1 or labels.shape[0] != z.shape[0]:
        raise ValueError(f"labels must be one label per row of z ({z.shape[0]}), got shape {tuple(labels.shape)}")
    t = _check_temperature(temperature)
    n = z.shape[0]
    zn = F.normalize(z, dim=1)
    self_mask = torch.eye(n, dtype=torch.bool, device=z.device)
    logits = ((zn @ zn.T) / t).masked_fill(self_mask, float("-inf"))
    log_prob = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    positives = (labels.unsqueeze(0) == labels.unsqueeze(1)) & ~self_mask
    n_pos = positives.sum(1)
    has_pos = n_pos > 0
    if not bool(has_pos.any()):
        return z.sum() * 0.0
    pos_log_prob = log_prob.masked_fill(~positives, 0.0).sum(1)
    return -(pos_log_prob[has_pos] / n_pos[has_pos]).mean()
