"""A local Hugging Face ``transformers`` image-classification folder (``config.json`` + weights), read offline:
``local_files_only`` everywhere, so nothing is fetched, and ``.bin`` weights only through torch's safe loader."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from ...errors import CheckpointError

MSG_NO_TRANSFORMERS = (
    "reading a transformers folder needs the transformers package: pip install 'fer-explain[hf]' (or transformers)"
)


class TransformersLogits(nn.Module):
    """The transformers model with its output object reduced to the logits tensor every fer_core method reads."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.hf = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.hf(pixel_values=x).logits


def load_transformers(folder: str | Path) -> nn.Module:
    """The folder's ``AutoModelForImageClassification``, offline, in eval mode, returning logits."""
    folder = Path(folder)
    try:
        from transformers import AutoModelForImageClassification
    except ImportError as exc:
        raise CheckpointError(MSG_NO_TRANSFORMERS) from exc
    try:
        model = AutoModelForImageClassification.from_pretrained(str(folder), local_files_only=True)
    except Exception as exc:  # noqa: BLE001 - transformers raises OSError/ValueError/KeyError for bad folders
        raise CheckpointError(
            f"{folder.name} is not a loadable transformers folder: {str(exc).splitlines()[0]}"
        ) from exc
    return TransformersLogits(model).eval()


def transformers_card_fields(folder: str | Path) -> dict:
    """Card fields the folder states: labels in output order (``id2label``), image size, channels and the
    preprocessor's mean/std."""
    folder = Path(folder)
    try:
        config = json.loads((folder / "config.json").read_text())
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"{folder.name}/config.json is not readable JSON: {exc}") from exc
    fields: dict = {"arch": f"transformers/{config.get('model_type', 'unknown')}"}
    id2label = config.get("id2label") or {}
    if id2label:
        try:
            fields["label_names"] = tuple(id2label[k] for k in sorted(id2label, key=int))
        except (ValueError, TypeError):
            pass
    size = config.get("image_size")
    if isinstance(size, int):
        fields["input_size"] = (size, size)
    if config.get("num_channels") in (1, 3):
        fields["in_chans"] = config["num_channels"]
    pre = folder / "preprocessor_config.json"
    if pre.is_file():
        try:
            prep = json.loads(pre.read_text())
            if prep.get("image_mean") and prep.get("image_std"):
                fields["mean"], fields["std"] = tuple(prep["image_mean"]), tuple(prep["image_std"])
        except (OSError, ValueError):
            pass
    return fields
