"""Crops -> model input tensors, built from the model card (never from literals)."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import torch

from ..errors import CheckpointError
from .card import ModelCard
from .runtime import model_device, model_dtype


def to_model_input(crops: Sequence[np.ndarray], card: ModelCard) -> torch.Tensor:
    """(N, C, H, W) float32 normalised tensor from RGB uint8 crops (resized if not at the card's size)."""
    h, w = card.input_size
    out = np.empty((len(crops), card.in_chans, h, w), dtype=np.float32)
    for i, crop in enumerate(crops):
        if crop.shape[:2] != (h, w):
            crop = cv2.resize(crop, (w, h), interpolation=cv2.INTER_AREA)
        if card.in_chans == 1:
            out[i, 0] = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY).astype(np.float32) / 255.0
        else:
            out[i] = crop.transpose(2, 0, 1).astype(np.float32) / 255.0
    mean = np.asarray(card.mean, dtype=np.float32)[None, :, None, None]
    std = np.asarray(card.std, dtype=np.float32)[None, :, None, None]
    return torch.from_numpy((out - mean) / std)


def input_bounds(card: ModelCard) -> tuple[torch.Tensor, torch.Tensor]:
    """Lowest and highest input values per channel, (1, C, 1, 1): pixel 0 and pixel 1 after normalisation."""
    mean = torch.tensor(card.mean, dtype=torch.float32)[None, :, None, None]
    std = torch.tensor(card.std, dtype=torch.float32)[None, :, None, None]
    return (0 - mean) / std, (1 - mean) / std


MSG_NOT_FINITE = (
    "the model's outputs are NaN or infinite on this input: its weights overflow (a diverged or "
    "corrupt checkpoint?); no result is shown rather than a meaningless one"
)


@torch.no_grad()
def predict_probs(
    model: torch.nn.Module, card: ModelCard, crops: Sequence[np.ndarray], batch_size: int = 128
) -> np.ndarray:
    """(N, K) float64 scores for RGB uint8 crops (the card's output kind: softmax, sigmoid or values), in batches,
    in the model's own dtype."""
    model = model.eval()
    dtype, device = model_dtype(model), model_device(model)
    out = [
        card.probabilities(
            model(to_model_input(crops[i : i + batch_size], card).to(device, dtype)).double().cpu()
        ).numpy()
        for i in range(0, len(crops), batch_size)
    ]
    probs = np.concatenate(out) if out else np.zeros((0, card.num_classes))
    if not np.isfinite(probs).all():
        raise CheckpointError(MSG_NOT_FINITE)
    return probs
