"""Confidence thresholds for pseudo-labelling: which unlabeled predictions are trusted enough to train on.

All classes share one protocol: ``update(probs, indices=None)`` feeds a batch of softmax outputs (B, C) into the
state, ``thresholds()`` returns the current per-class thresholds T (C,), and ``mask(probs)`` is
``max(probs) >= T[argmax(probs)]``. They are plain stateful objects, not nn.Modules: their state is bookkeeping, not
parameters, and must not follow the model to another device or into its state_dict.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

__all__ = ["FixedThreshold", "FlexMatchThreshold", "FreeMatchThreshold", "DynamicThreshold"]


def _check_probs(probs: torch.Tensor, num_classes: int | None) -> torch.Tensor:
    if not isinstance(probs, torch.Tensor) or probs.dim() != 2 or not probs.is_floating_point():
        shape = tuple(probs.shape) if isinstance(probs, torch.Tensor) else type(probs).__name__
        raise ValueError(f"probs must be a 2-D floating-point (B, C) tensor of class probabilities, got {shape}")
    if num_classes is not None and probs.shape[1] != num_classes:
        raise ValueError(f"probs has {probs.shape[1]} classes, this threshold was built for {num_classes}")
    p = probs.detach()
    if p.numel() and (not bool(torch.isfinite(p).all()) or float(p.min()) < 0 or float(p.max()) > 1):
        raise ValueError("probs must be probabilities in [0, 1] (apply softmax to logits first)")
    return p


def _check_unit(name: str, value: float, low_open: bool = False) -> float:
    v = float(value)
    ok = math.isfinite(v) and (0 < v if low_open else 0 <= v) and v <= 1
    if not ok:
        raise ValueError(f"{name} must lie in {'(0' if low_open else '[0'}, 1], got {value!r}")
    return v


def _check_count(name: str, value: int, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return value


class _Threshold:
    """Shared mask logic; subclasses keep the state and compute thresholds()."""

    num_classes: int | None

    def thresholds(self) -> torch.Tensor:
        raise NotImplementedError

    def update(self, probs: torch.Tensor, indices: torch.Tensor | None = None) -> None:
        raise NotImplementedError

    def mask(self, probs: torch.Tensor) -> torch.Tensor:
        """True where the prediction's confidence reaches its predicted class's threshold."""
        p = _check_probs(probs, self.num_classes)
        max_p, pred = p.max(dim=1)
        return max_p >= self.thresholds().to(device=p.device, dtype=p.dtype)[pred]


class FixedThreshold(_Threshold):
    """FixMatch's constant threshold (tau = 0.95), the baseline every dynamic scheme is compared with."""

    def __init__(self, tau: float = 0.95, num_classes: int | None = None) -> None:
        self.tau = _check_unit("tau", tau)
        self.num_classes = None if num_classes is None else _check_count("num_classes", num_classes, 1)

    def update(self, probs: torch.Tensor, indices: torch.Tensor | None = None) -> None:
        """Stateless apart from learning C from the first batch (so thresholds() can have shape (C,))."""
        p = _check_probs(probs, self.num_classes)
        self.num_classes = p.shape[1]

    def mask(self, probs: torch.Tensor) -> torch.Tensor:
        p = _check_probs(probs, self.num_classes)
        return p.max(dim=1).values >= self.tau

    def thresholds(self) -> torch.Tensor:
        if self.num_classes is None:
            raise ValueError("FixedThreshold does not know the number of classes yet: pass num_classes or update()")
        return torch.full((self.num_classes,), self.tau)


class FlexMatchThreshold(_Threshold):
    """FlexMatch curriculum pseudo-labelling (METHODS 3.3, USB flexmatch).

    sigma(c) = number of unlabeled samples whose latest confident (>= tau) prediction is c;
    beta(c) = sigma(c) / max(max_c' sigma(c'), N_unused) with warm-up (N_unused = never-confident samples), or
    sigma(c) / max_c' sigma(c') without; T(c) = tau * beta / (2 - beta). Thresholds start near 0 and rise as classes
    are learned, so hard classes get low thresholds for longer.
    """

    def __init__(self, num_classes: int, num_unlabeled: int, tau: float = 0.95, warmup: bool = True) -> None:
        self.num_classes = _check_count("num_classes", num_classes, 1)
        self.num_unlabeled = _check_count("num_unlabeled", num_unlabeled, 1)
        self.tau = _check_unit("tau", tau)
        self.warmup = bool(warmup)
        self.selected_label = torch.full((num_unlabeled,), -1, dtype=torch.long)

    def update(self, probs: torch.Tensor, indices: torch.Tensor | None = None) -> None:
        """Record each sample's prediction if it is confident; ``indices`` are positions in the unlabeled set."""
        p = _check_probs(probs, self.num_classes)
        if indices is None:
            raise ValueError("FlexMatchThreshold.update needs the unlabeled samples' indices")
        idx = torch.as_tensor(indices).detach().to("cpu", torch.long).reshape(-1)
        if idx.shape[0] != p.shape[0]:
            raise ValueError(f"indices must have one entry per row of probs ({p.shape[0]}), got {idx.shape[0]}")
        if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= self.num_unlabeled):
            raise ValueError(f"indices must lie in [0, {self.num_unlabeled}), got {int(idx.min())}..{int(idx.max())}")
        max_p, pred = p.cpu().max(dim=1)
        confident = max_p >= self.tau
        self.selected_label[idx[confident]] = pred[confident]

    def class_status(self) -> torch.Tensor:
        """beta(c), the normalised learning effect of each class."""
        sigma = torch.bincount(self.selected_label[self.selected_label >= 0], minlength=self.num_classes).double()
        denom = sigma.max()
        if self.warmup:
            denom = torch.maximum(denom, (self.selected_label < 0).sum().double())
        return sigma / denom if denom > 0 else torch.zeros_like(sigma)

    def thresholds(self) -> torch.Tensor:
        beta = self.class_status()
        return (self.tau * beta / (2.0 - beta)).float()


class FreeMatchThreshold(_Threshold):
    """FreeMatch self-adaptive thresholds (METHODS 3.3): EMA global confidence times normalised class EMA.

    tau_t = m tau + (1 - m) mean max(q); p_t(c) = m p(c) + (1 - m) mean q(c); T(c) = tau_t p_t(c) / max p_t.
    Initialised to 1/C as in the paper (USB initialises with ones, a known difference).
    """

    def __init__(self, num_classes: int, momentum: float = 0.999) -> None:
        self.num_classes = _check_count("num_classes", num_classes, 1)
        m = float(momentum)
        if not (math.isfinite(m) and 0 <= m < 1):
            raise ValueError(f"momentum must lie in [0, 1), got {momentum!r}")
        self.momentum = m
        self.global_tau = torch.tensor(1.0 / num_classes, dtype=torch.float64)
        self.local_p = torch.full((num_classes,), 1.0 / num_classes, dtype=torch.float64)

    def update(self, probs: torch.Tensor, indices: torch.Tensor | None = None) -> None:
        p = _check_probs(probs, self.num_classes).double().cpu()
        if p.shape[0] == 0:
            return
        m = self.momentum
        self.global_tau = m * self.global_tau + (1 - m) * p.max(dim=1).values.mean()
        self.local_p = m * self.local_p + (1 - m) * p.mean(dim=0)

    def thresholds(self) -> torch.Tensor:
        return (self.global_tau * self.local_p / self.local_p.max()).float()


class DynamicThreshold(_Threshold):
    """Our Dynamic Threshold Module (DTM): per class AND per training stage.

    Yu et al. (ABAW5) only state that their DTM varies the threshold by class and by stage; the exact equations are
    not confirmed (METHODS 3.2), so this is our design (METHODS 3.3): at stage k, over the predictions fed to
    ``update`` (the model's pass over the unlabeled pool), T_k(c) = max(t_min, quantile_{q_k} of the max-probability
    of samples predicted c), with q_k rising along ``schedule`` so later, better models keep a more selective share.
    A class nobody predicted this stage gets threshold 1.0 (no evidence: accept only saturated predictions).
    """

    def __init__(self, num_classes: int, schedule: Sequence[float] = (0.5, 0.7, 0.9), t_min: float = 0.5) -> None:
        self.num_classes = _check_count("num_classes", num_classes, 1)
        qs = tuple(float(q) for q in schedule)
        if not qs or any(not (math.isfinite(q) and 0 <= q <= 1) for q in qs):
            raise ValueError(f"schedule must be a non-empty sequence of quantiles in [0, 1], got {schedule!r}")
        if any(b < a for a, b in zip(qs, qs[1:])):
            raise ValueError(f"schedule must be non-decreasing (stricter at later stages), got {schedule!r}")
        self.schedule = qs
        self.t_min = _check_unit("t_min", t_min)
        self.stage = 0
        self._max_p: list[torch.Tensor] = []
        self._pred: list[torch.Tensor] = []
        self._cache: torch.Tensor | None = None

    @property
    def quantile(self) -> float:
        return self.schedule[self.stage]

    def set_stage(self, k: int) -> None:
        """Move to stage k; the collected predictions belong to the previous model, so they are dropped."""
        if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k < len(self.schedule):
            raise ValueError(f"stage must be an int in [0, {len(self.schedule)}), got {k!r}")
        self.stage = k
        self.reset()

    def reset(self) -> None:
        self._max_p, self._pred, self._cache = [], [], None

    def update(self, probs: torch.Tensor, indices: torch.Tensor | None = None) -> None:
        max_p, pred = _check_probs(probs, self.num_classes).float().cpu().max(dim=1)
        self._max_p.append(max_p)
        self._pred.append(pred)
        self._cache = None

    def thresholds(self) -> torch.Tensor:
        if self._cache is None:
            out = torch.ones(self.num_classes)
            if self._max_p:
                max_p, pred = torch.cat(self._max_p), torch.cat(self._pred)
                for c in range(self.num_classes):
                    values = max_p[pred == c]
                    if values.numel():
                        # numpy: torch.quantile refuses inputs above 16M elements, a real pool size.
                        out[c] = max(self.t_min, float(np.quantile(values.double().numpy(), self.quantile)))
            self._cache = out
        return self._cache.clone()
