"""The architectures users bring: torchvision and timm classifiers by name, built without downloading weights.

Short names (``resnet18``) are torchvision's builds; ``timm/<name>`` is any timm architecture (HSEmotion's
EfficientNets are timm models). Each is built with ``num_classes`` outputs and ``in_chans`` input channels, so a
state dict of a grey 7-class model loads strictly.
"""

from __future__ import annotations

from torch import nn

from ._registry import register_model, register_prefix

TORCHVISION_ARCHS: tuple[str, ...] = (
    "resnet18",
    "resnet50",
    "mobilenet_v3_small",
    "mobilenet_v3_large",
    "efficientnet_b0",
    "efficientnet_b2",
    "convnext_tiny",
)
TIMM_ARCHS: tuple[str, ...] = (
    "resnet18",
    "resnet50",
    "mobilenetv3_large_100",
    "efficientnet_b0",
    "efficientnet_b2",
    "tf_efficientnet_b0",
    "convnext_tiny",
    "vit_small_patch16_224",
)
TIMM_PREFIX = "timm/"


def _first_conv(model: nn.Module) -> tuple[nn.Module, str, nn.Conv2d]:
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d):
            parent_name, _, attr = name.rpartition(".")
            return model.get_submodule(parent_name) if parent_name else model, attr, module
    raise ValueError("the architecture has no Conv2d to take the input channels")


def _with_in_chans(model: nn.Module, in_chans: int) -> nn.Module:
    """torchvision builds take RGB only: swap the stem convolution for one of ``in_chans`` inputs."""
    if in_chans == 3:
        return model
    parent, attr, conv = _first_conv(model)
    new = nn.Conv2d(
        in_chans,
        conv.out_channels,
        conv.kernel_size,
        conv.stride,
        conv.padding,
        conv.dilation,
        conv.groups,
        conv.bias is not None,
        conv.padding_mode,
    )
    setattr(parent, attr, new)
    return model


def _torchvision(arch: str):
    def build(*, num_classes: int = 7, in_chans: int = 3, **overrides) -> nn.Module:
        import torchvision.models as tvm

        return _with_in_chans(getattr(tvm, arch)(weights=None, num_classes=num_classes, **overrides), in_chans)

    build.__name__ = arch
    build.__doc__ = f"torchvision ``{arch}`` (random weights; the user's state dict is loaded over them)."
    return build


for _arch in TORCHVISION_ARCHS:
    register_model(_torchvision(_arch))


def create_timm(name: str, *, num_classes: int = 7, in_chans: int = 3, **overrides) -> nn.Module:
    """Any timm architecture by name, never with pretrained weights (timm would download them).

    Parameters
    ----------
    name
        A timm model name (``timm.list_models()``), with or without the ``timm/`` prefix.
    num_classes
        Outputs of the classifier head.
    in_chans
        Input channels.
    **overrides
        Further ``timm.create_model`` arguments (``img_size`` for a ViT at another resolution).

    Returns
    -------
    nn.Module
        The architecture with random weights.

    Raises
    ------
    ValueError
        ``name`` is not a timm architecture (with the closest names).
    """
    import timm

    name = name.removeprefix(TIMM_PREFIX)
    if not timm.is_model(name):
        import difflib

        close = difflib.get_close_matches(name, timm.list_models(), n=3)
        raise ValueError(
            f"{name!r} is not a timm architecture" + (f"; did you mean {', '.join(close)}?" if close else "")
        )
    return timm.create_model(name, pretrained=False, num_classes=num_classes, in_chans=in_chans, **overrides)


def _timm(arch: str):
    def build(*, num_classes: int = 7, in_chans: int = 3, **overrides) -> nn.Module:
        return create_timm(arch, num_classes=num_classes, in_chans=in_chans, **overrides)

    build.__name__ = TIMM_PREFIX + arch
    build.__doc__ = f"timm ``{arch}`` (random weights; the user's state dict is loaded over them)."
    return build


for _arch in TIMM_ARCHS:
    register_model(_timm(_arch))
register_prefix(TIMM_PREFIX, create_timm)
