"""The one call shape shared by every explainer: ``attribute(images, target=..., batch_size=...)``."""

from __future__ import annotations

import copy
import threading
from collections.abc import Sequence

import torch
from torch import nn

from .._utils.progress import ProgressFn, progress_iter
from ..models.runtime import model_device
from .estimate import Work

Target = int | Sequence[int] | torch.Tensor | None
MSG_IMAGES = "images must be a float (N, C, H, W) tensor, got {what}"
MSG_TARGET = "target must be an int, a sequence of N ints or an (N,) tensor in [0, {k}), got {what}"


def check_images(images: torch.Tensor) -> torch.Tensor:
    if not isinstance(images, torch.Tensor) or images.ndim != 4 or not images.is_floating_point():
        what = f"{type(images).__name__} of shape {tuple(getattr(images, 'shape', ()))}"
        raise TypeError(MSG_IMAGES.format(what=what))
    return images


def resolve_targets(target: Target, n: int, num_classes: int) -> torch.Tensor:
    """captum's convention: int = same class for all rows, sequence/tensor = one per row (``None`` = the predicted
    class is resolved by the explainer, which needs a forward pass for it)."""
    if isinstance(target, int):
        t = torch.full((n,), target, dtype=torch.long)
    else:
        t = torch.as_tensor(target, dtype=torch.long).flatten()
    if t.numel() != n or (t < 0).any() or (t >= num_classes).any():
        raise ValueError(MSG_TARGET.format(k=num_classes, what=target))
    return t


class Explainer:
    """Base class: owns a private eval-mode copy of the model so hooks never touch a shared (cached) model.

    Subclasses implement ``_attribute(images, targets) -> (N, C, H, W)``; batching, target resolution and the
    all-classes view are handled here. A lock serialises calls, so one explainer can serve several threads.

    Parameters
    ----------
    model
        The network to explain. It is deep-copied (eval mode, weights frozen), so the caller's model is never
        hooked or changed.
    """

    name = "base"

    def __init__(self, model: nn.Module) -> None:
        self.model = copy.deepcopy(model).eval()
        for p in self.model.parameters():
            if p.is_leaf:  # a copied TorchScript archive's parameters may not be leaves; autograd skips them anyway
                p.requires_grad_(False)
        self._lock = threading.Lock()

    @property
    def device(self) -> torch.device:
        """Where the model runs; inputs go there and results come back to the caller's device."""
        return model_device(self.model)

    @torch.no_grad()
    def logits(self, images: torch.Tensor) -> torch.Tensor:
        return self.model(images.to(self.device)).to(images.device)

    def num_classes(self, images: torch.Tensor) -> int:
        """Output size, from one forward pass of a single row (measured once, then remembered)."""
        if getattr(self, "_num_classes", None) is None:
            self._num_classes = int(self.logits(images[:1]).shape[1])
        return self._num_classes

    def _attribute(self, images: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def work_per_face(self, num_classes: int, input_shape: Sequence[int]) -> Work:
        """Model passes :meth:`attribute_all` spends on one face (what :func:`estimate_seconds` multiplies): here one
        forward and one backward per class row."""
        return Work(forwards=num_classes, backwards=num_classes)

    def attribute(
        self,
        images: torch.Tensor,
        target: Target = None,
        batch_size: int = 32,
        show_progress: bool = False,
        progress: ProgressFn | None = None,
    ) -> torch.Tensor:
        """Attributions shaped like ``images`` for ``target`` (see :func:`resolve_targets`); ``progress(done,
        total)`` is called after each batch of rows."""
        images = check_images(images)
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        targets = (
            self.logits(images).argmax(1)
            if target is None
            else resolve_targets(target, len(images), self.num_classes(images))
        )
        out = torch.empty_like(images)
        starts = range(0, len(images), batch_size)
        with self._lock:
            for start in progress_iter(starts, show_progress, desc=self.name, callback=progress):
                sl = slice(start, start + batch_size)
                out[sl] = self._attribute(images[sl].to(self.device), targets[sl].to(self.device)).to(out)
        return out

    def attribute_all(
        self,
        images: torch.Tensor,
        batch_size: int = 32,
        show_progress: bool = False,
        progress: ProgressFn | None = None,
    ) -> torch.Tensor:
        """Attributions for every class: (N, K, C, H, W). Subclasses may batch the classes (LRP, Integrated
        Gradients and occlusion do); this one repeats each face once per class, and stays as their reference."""
        images = check_images(images)
        k = self.num_classes(images)
        n = len(images)
        rows = images.repeat_interleave(k, 0)
        targets = torch.arange(k).repeat(n)
        rel = self.attribute(rows, targets, batch_size=batch_size * k, show_progress=show_progress, progress=progress)
        return rel.view(n, k, *images.shape[1:])

    def explain(
        self,
        images: torch.Tensor,
        targets: torch.Tensor | None = None,
        batch_size: int = 32,
        progress: ProgressFn | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """zennit's ``(output, attribution)`` shape: the model's logits (N, num_classes) and the attributions of
        ``targets`` (an (N, T) matrix of output indices; default every output), (N, T, C, H, W).

        Methods whose relevance pass is a forward pass (LRP) return that pass's logits; the others run one forward
        for them, so the probabilities shown beside a map always come from the model the map explains.
        ``progress(done, total)`` reports the attribution work as it proceeds.
        """
        images = check_images(images)
        logits = self.logits(images)
        if targets is None:
            return logits, self.attribute_all(images, batch_size=batch_size, progress=progress)
        n, t = targets.shape
        rows = images.repeat_interleave(t, 0)
        rel = self.attribute(rows, targets.reshape(-1), batch_size=batch_size * t, progress=progress)
        return logits, rel.view(n, t, *images.shape[1:])


class MultiTargetExplainer(Explainer):
    """An explainer that computes several targets of a face in one pass: ``relevance(images, (N, K) targets)`` ->
    (N, K, C, H, W). The all-classes view then needs no repeated rows."""

    def relevance(self, images: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return self.forward_relevance(images, targets)[1]

    def forward_relevance(self, images: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(logits (N, num_classes), relevance (N, K, C, H, W)) from the same pass."""
        raise NotImplementedError

    def work_per_face(self, num_classes: int, input_shape: Sequence[int]) -> Work:
        """One forward pass and one relevance (backward) pass per class."""
        return Work(forwards=1, backwards=num_classes)

    def explain(
        self,
        images: torch.Tensor,
        targets: torch.Tensor | None = None,
        batch_size: int = 32,
        progress: ProgressFn | None = None,
        show_progress: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        images = check_images(images)
        if targets is None:
            k = self.num_classes(images)
            targets = torch.arange(k).expand(len(images), k)
        step = max(1, self.faces_per_pass(batch_size, targets.shape[1]))
        starts = range(0, len(images), step)
        logits, rel = [], []
        with self._lock:
            for start in progress_iter(starts, show_progress, desc=self.name, callback=progress):
                sl = slice(start, start + step)
                out, r = self.forward_relevance(images[sl].to(self.device), targets[sl].to(self.device))
                logits.append(out.detach().to(images.device))
                rel.append(r.detach().to(images))
        return torch.cat(logits), torch.cat(rel)

    def faces_per_pass(self, batch_size: int, num_targets: int) -> int:
        """Faces per ``forward_relevance`` call in :meth:`explain` (each brings all its targets)."""
        return batch_size

    def _attribute(self, images: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return self.relevance(images, targets[:, None])[:, 0]

    def attribute_all(
        self,
        images: torch.Tensor,
        batch_size: int = 32,
        show_progress: bool = False,
        progress: ProgressFn | None = None,
    ) -> torch.Tensor:
        """Every class in one pass per batch of faces: the relevance half of :meth:`explain`."""
        return self.explain(images, batch_size=batch_size, progress=progress, show_progress=show_progress)[1]
