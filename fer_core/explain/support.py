"""Which explanation methods apply to a model, and if not, why: the method picker and the CLI read this so that a
user's ONNX or EfficientNet model gets a reason instead of a crash."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

from ..models.vit import VisionTransformer

if TYPE_CHECKING:
    from ..models.checkpoint import LoadedModel

LRP_METHODS = ("lrp", "lrp_gamma_box", "lrp_alpha2_beta1")
GRADIENT_METHODS = ("ig", "saliency", "gradcam")
WHY_ONNX = "onnxruntime runs the graph without gradients, so only black-box methods (occlusion) apply"
WHY_SCRIPT_LRP = "LRP needs the model's layers and their rules; a TorchScript archive runs as compiled code"
WHY_SCRIPT_CAM = "Grad-CAM hooks a layer, and a TorchScript archive runs no Python hooks"
WHY_NO_RULES = (
    "{arch} has layers without a published LRP rule in fer_core ({layers}); use Integrated Gradients, Saliency, "
    "Grad-CAM or occlusion"
)
WHY_VIT_VARIANT = "{method} has no rules for transformers; 'lrp' (conservative propagation, CP-LRP) applies"
WHY_NO_CONV = "Grad-CAM needs a convolutional feature map, and this model has no Conv2d after its input"
UNRULED_LAYERS = ("SiLU", "Hardswish", "Sigmoid", "LayerNorm", "GELU", "SqueezeExcitation", "MultiheadAttention")


class MethodNotApplicable(ValueError):
    """The method cannot explain this model; the message says why and what applies instead."""


def cam_layer(model: nn.Module) -> nn.Module | None:
    """The layer Grad-CAM explains: the model's own ``cam_layer``, else its last Conv2d that is not the stem."""
    if hasattr(model, "cam_layer"):
        return model.cam_layer
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    return convs[-1] if len(convs) > 1 else None


def named_layer(model: nn.Module, name: str) -> nn.Module:
    """The module called ``name`` in ``model``; ValueError naming the convolutions there are, for a typo."""
    modules = dict(model.named_modules())
    if name in modules and name:
        return modules[name]
    convs = [n for n, m in modules.items() if isinstance(m, nn.Conv2d)]
    shown = ", ".join(convs[-5:]) if convs else "none"
    raise ValueError(f"the model has no layer {name!r}; its last convolutions are {shown}")


def lrp_ready(model: nn.Module) -> str:
    """'' when the fast LRP engine has rules for every layer of ``model``, else why not."""
    from ..models.mini_xception import MiniXception
    from .canonize_resnet import is_torchvision_resnet

    if isinstance(model, (MiniXception, VisionTransformer)) or is_torchvision_resnet(model):
        return ""
    kinds = sorted({type(m).__name__ for m in model.modules()} & set(UNRULED_LAYERS))
    layers = ", ".join(kinds) if kinds else "a graph the engine does not walk"
    return WHY_NO_RULES.format(arch=type(model).__name__, layers=layers)


def why_not(method: str, model: nn.Module) -> str:
    """'' when ``method`` applies to ``model``, else the reason (one sentence a user can act on).

    Parameters
    ----------
    method
        A key of ``fer_core.explain.METHODS``.
    model
        The network (an ``OnnxModule`` for a graph only onnxruntime runs).

    Returns
    -------
    str
        Empty when the method applies.
    """
    from ..models.formats.onnx_model import OnnxModule

    if method == "occlusion":
        return ""
    if isinstance(model, OnnxModule):
        return WHY_ONNX
    scripted = isinstance(model, torch.jit.ScriptModule)
    if method in LRP_METHODS:
        if scripted:
            return WHY_SCRIPT_LRP
        if isinstance(model, VisionTransformer):
            return "" if method == "lrp" else WHY_VIT_VARIANT.format(method=method)
        return lrp_ready(model)
    if method == "gradcam":
        if scripted:
            return WHY_SCRIPT_CAM
        return "" if cam_layer(model) is not None else WHY_NO_CONV
    return ""


def method_support(loaded: LoadedModel) -> dict[str, str]:
    """Every method of ``METHODS`` -> '' if it applies to ``loaded`` (a LoadedModel), else why not.

    Parameters
    ----------
    loaded
        The model and its card. Its ``note`` (why an ONNX graph was not converted) is said once beside this
        table by whoever shows it, not repeated in every reason.

    Returns
    -------
    dict[str, str]
        In the order of ``METHODS``.
    """
    from . import METHODS

    return {method: why_not(method, loaded.model) for method in METHODS}


def default_method(loaded: LoadedModel, preferred: str = "lrp") -> str:
    """``preferred`` where it applies to ``loaded``, else the first method that does (occlusion always does)."""
    support = method_support(loaded)
    return (
        preferred
        if not support.get(preferred, "") and preferred in support
        else next(m for m, why in support.items() if not why)
    )
