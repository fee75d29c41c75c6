"""captum's gradient, path and perturbation methods behind the shared ``attribute`` shape."""

from __future__ import annotations

import torch.nn.functional as F
from torch import nn

from ._base import Explainer


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

    def _attribute(self, images, targets):
        c, h, w = images.shape[1:]
        if self.window > min(h, w):
            raise ValueError(f"window must be <= image size {(h, w)}, got {self.window}")
        return self._method.attribute(
            images,
            target=targets,
            sliding_window_shapes=(c, self.window, self.window),
            strides=(c, self.stride, self.stride),
            baselines=self.baseline,
            perturbations_per_eval=64,
        ).detach()


__all__ = ["GradCamExplainer", "IntegratedGradientsExplainer", "OcclusionExplainer", "SaliencyExplainer"]
