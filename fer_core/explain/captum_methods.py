"""captum's gradient, path and perturbation methods behind the shared ``attribute`` shape.

``attribute`` runs captum per (face, class) row. The all-class view (``attribute_all``) of Integrated Gradients and
occlusion shares the work between classes instead: one forward pass yields every class's logit, so occlusion needs
one sweep of windows and IG one forward per point of the path; the numbers are captum's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .._utils.progress import ProgressFn, progress_iter
from ._base import Explainer, check_images
from .estimate import Work

MSG_WINDOW = "window must be <= image size {hw}, got {window}"
MSG_STRIDE = "stride must be <= window {window} (else some pixels are never occluded), got {stride}"


class SaliencyExplainer(Explainer):
    """|d logit / d input| (captum Saliency, abs=True)."""

    name = "saliency"

    def __init__(self, model: nn.Module) -> None:
        super().__init__(model)
        from captum.attr import Saliency

        self._method = Saliency(self.model)

    def _attribute(self, images, targets):
        return self._method.attribute(images.clone().requires_grad_(True), target=targets, abs=True).detach()


class IntegratedGradientsExplainer(Explainer):
    """Integrated Gradients from a baseline (default: pixel value 0.5 grey, i.e. 0 in [-1, 1] inputs)."""

    name = "integrated_gradients"

    def __init__(self, model: nn.Module, n_steps: int = 32, baseline: float = 0.0) -> None:
        super().__init__(model)
        from captum.attr import IntegratedGradients

        self._method = IntegratedGradients(self.model)
        self.n_steps, self.baseline = n_steps, baseline

    def _attribute(self, images, targets):
        return self._method.attribute(
            images,
            baselines=self.baseline,
            target=targets,
            n_steps=self.n_steps,
            internal_batch_size=min(256, len(images) * self.n_steps),
        ).detach()

    def work_per_face(self, num_classes: int, input_shape: Sequence[int]) -> Work:
        """One forward per path point, and one backward per (point, class)."""
        return Work(forwards=self.n_steps, backwards=self.n_steps * num_classes)

    def attribute_all(
        self,
        images: torch.Tensor,
        batch_size: int = 32,
        show_progress: bool = False,
        progress: ProgressFn | None = None,
    ) -> torch.Tensor:
        """IG of every class, (N, K, C, H, W), equal to captum's per class (Gauss-Legendre, ``n_steps`` points).

        The classes share the path: each batch of path points goes forward once and back once per class (K
        backward passes on one retained graph, faster here than ``is_grads_batched``). ``batch_size`` caps the
        path points per forward pass (speed only); ``progress(done, total)`` counts backward passes.
        """
        images = check_images(images)
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        k = self.num_classes(images)
        step_sizes, alphas = gauss_legendre(self.n_steps)
        chunks = [slice(i, i + batch_size) for i in range(0, self.n_steps, batch_size)]
        jobs = [(face, chunk) for face in range(len(images)) for chunk in chunks]
        out = torch.zeros(len(images), k, *images.shape[1:], dtype=images.dtype, device=images.device)
        with self._lock:
            for i, (face, chunk) in enumerate(progress_iter(jobs, show_progress, desc=self.name)):
                x = images[face].to(self.device)
                grads = self._path_gradients(x, alphas[chunk], k, progress, done=i * k, total=len(jobs) * k)
                sizes = step_sizes[chunk].to(grads.device).view(1, -1, *[1] * x.dim())
                out[face] += (grads * sizes).sum(1).to(out)
        return out * (images - self.baseline)[:, None]

    def _path_gradients(
        self,
        x: torch.Tensor,
        alphas: Sequence[float],
        num_classes: int,
        progress: ProgressFn | None,
        done: int,
        total: int,
    ) -> torch.Tensor:
        """d logit_c / d input at ``baseline + alpha (x - baseline)`` for every alpha and class: (K, S, C, H, W);
        ``progress(done, total)`` after each class's backward pass."""
        path = torch.stack([self.baseline + a * (x - self.baseline) for a in alphas]).requires_grad_(True)
        logits = self.model(path)  # (S, K)
        grads = []
        for c in range(num_classes):
            grads.append(torch.autograd.grad(logits[:, c].sum(), path, retain_graph=c < num_classes - 1)[0])
            if progress is not None:
                progress(done + c + 1, total)
        return torch.stack(grads)


class GradCamExplainer(Explainer):
    """Grad-CAM on a convolution (captum LayerGradCam), upsampled bilinearly to the input size.

    ``layer`` is a module of ``model`` (default: its ``cam_layer``); the explainer's private copy hooks the
    matching module of the copy.
    """

    name = "gradcam"

    def __init__(self, model: nn.Module, layer: nn.Module | None = None) -> None:
        names = {id(m): n for n, m in model.named_modules()}
        layer = model.cam_layer if layer is None else layer
        if id(layer) not in names:
            raise ValueError("the Grad-CAM layer must be a module of the model")
        super().__init__(model)
        from captum.attr import LayerGradCam

        self._method = LayerGradCam(self.model, self.model.get_submodule(names[id(layer)]))

    def _attribute(self, images, targets):
        cam = self._method.attribute(images, target=targets, relu_attributions=False).detach()
        cam = F.interpolate(cam, size=images.shape[-2:], mode="bilinear", align_corners=False)
        return cam.expand_as(images).clone()


class OcclusionExplainer(Explainer):
    """Sliding-window occlusion (captum Occlusion): drop of the target logit when a window is set to baseline."""

    name = "occlusion"

    def __init__(self, model: nn.Module, window: int = 8, stride: int = 4, baseline: float = 0.0) -> None:
        super().__init__(model)
        from captum.attr import Occlusion

        self._method = Occlusion(self.model)
        self.window, self.stride, self.baseline = window, stride, baseline

    def _check_window(self, h: int, w: int) -> None:
        if self.window > min(h, w):
            raise ValueError(MSG_WINDOW.format(hw=(h, w), window=self.window))
        if self.stride > self.window and self.window < max(h, w):
            raise ValueError(MSG_STRIDE.format(window=self.window, stride=self.stride))

    def num_windows(self, input_shape: Sequence[int]) -> int:
        """Window positions per face for a (C, H, W) input (captum's count, a cut window at each far edge)."""
        h, w = input_shape[-2:]
        self._check_window(h, w)
        return len(window_starts(h, self.window, self.stride)) * len(window_starts(w, self.window, self.stride))

    def work_per_face(self, num_classes: int, input_shape: Sequence[int]) -> Work:
        """One forward per window position, plus the unoccluded face; no backward."""
        return Work(forwards=self.num_windows(input_shape) + 1, backwards=0)

    def attribute_all(
        self,
        images: torch.Tensor,
        batch_size: int = 32,
        show_progress: bool = False,
        progress: ProgressFn | None = None,
    ) -> torch.Tensor:
        """Occlusion of every class, (N, K, C, H, W), from one sweep of windows (each forward gives all K logits).

        Equal per class to captum's ``Occlusion.attribute``: per pixel, the mean over the windows covering it of
        ``f(x)_c - f(x occluded)_c``. ``batch_size`` is the occluded copies per forward pass (speed only);
        ``progress(done, total)`` counts forward passes.
        """
        images = check_images(images)
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        n, c, h, w = images.shape
        self._check_window(h, w)
        masks = window_masks((h, w), self.window, self.stride, self.device)  # (P, H, W) bool
        weights = masks.flatten(1).to(images.dtype)  # (P, H*W)
        chunks = [slice(i, i + batch_size) for i in range(0, len(masks), batch_size)]
        jobs = [(face, chunk) for face in range(n) for chunk in chunks]
        k = self.num_classes(images)
        total = torch.zeros(n, k, h * w, dtype=images.dtype, device=self.device)
        with self._lock, torch.no_grad():
            clean = torch.cat([self.model(images[i : i + batch_size].to(self.device)) for i in range(0, n, batch_size)])
            for face, chunk in progress_iter(jobs, show_progress, desc=self.name, callback=progress):
                x = images[face].to(self.device)  # (C, H, W)
                occluded = torch.where(masks[chunk, None], torch.as_tensor(self.baseline).to(x), x)  # (P', C, H, W)
                drop = clean[face] - self.model(occluded)  # (P', K)
                total[face] += drop.T.to(weights) @ weights[chunk]  # (K, H*W)
        attr = (total / weights.sum(0)).view(n, k, 1, h, w).expand(n, k, c, h, w)
        return attr.to(images.device).clone()

    def _attribute(self, images, targets):
        c, h, w = images.shape[1:]
        self._check_window(h, w)
        return self._method.attribute(
            images,
            target=targets,
            sliding_window_shapes=(c, self.window, self.window),
            strides=(c, self.stride, self.stride),
            baselines=self.baseline,
            perturbations_per_eval=64,
        ).detach()


def gauss_legendre(n_steps: int) -> tuple[torch.Tensor, list[float]]:
    """captum's default IG rule: step weights (float32, summing to 1) and path points alpha in (0, 1)."""
    if n_steps < 1:
        raise ValueError(f"n_steps must be >= 1, got {n_steps}")
    nodes, weights = np.polynomial.legendre.leggauss(n_steps)
    return torch.tensor((0.5 * weights).tolist()).float(), (0.5 * (1 + nodes)).tolist()


def window_starts(size: int, window: int, stride: int) -> list[int]:
    """Window offsets along one axis, as captum places them: every ``stride`` from 0, and one more when the last
    step overshoots (that window is cut at the edge)."""
    return [i * stride for i in range(math.ceil((size - window) / stride) + 1)]


def window_masks(hw: tuple[int, int], window: int, stride: int, device: torch.device | None = None) -> torch.Tensor:
    """(P, H, W) bool: one mask per window position, rows first then columns."""
    h, w = hw
    ys, xs = window_starts(h, window, stride), window_starts(w, window, stride)
    masks = torch.zeros(len(ys) * len(xs), h, w, dtype=torch.bool, device=device)
    for i, (y, x) in enumerate((y, x) for y in ys for x in xs):
        masks[i, y : y + window, x : x + window] = True
    return masks


__all__ = ["GradCamExplainer", "IntegratedGradientsExplainer", "OcclusionExplainer", "SaliencyExplainer"]
