"""How far to trust one face's heatmap: pixel-flipping curves and relevance mass, for the page and the report."""

from __future__ import annotations

import numpy as np
import torch

from ..explain import region_perturbation, region_share
from ..models import LoadedModel
from ..models.preprocess import to_model_input
from .explain import FaceResult


def face_faithfulness(
    loaded: LoadedModel,
    result: FaceResult,
    label: str | None = None,
    patch: int | None = None,
    steps: int = 32,
    seed: int = 0,
) -> dict:
    """How far to trust one face's heatmap: its region-perturbation curves (most relevant patches first, least
    relevant first, and a random order as the floor), their AOPC, and its relevance mass inside eyes and mouth.

    Removed patches are filled with the image mean; a faithful heatmap makes the score drop fastest when the most
    relevant patches go first.

    Parameters
    ----------
    loaded
        The model that made ``result``.
    result
        One explained face (:func:`explain_faces`); a label it has no heatmap for raises KeyError.
    label
        The output whose heatmap is tested; None is the predicted one.
    patch
        Side in crop pixels of the square patches removed one per step; None is 1/12 of the crop height (at
        least 2).
    steps
        Patches removed along each curve (at most the number of patches in the crop).
    seed
        Seed of the random order.

    Returns
    -------
    dict
        JSON-ready: ``label``, ``patch``, ``steps``, ``fill``; ``removed``, the share of the crop's patches gone
        after each step; ``curves``, per order the drop in the label's score after each step; ``aopc``, per order
        the mean drop; ``mass``, the share of positive relevance inside ``eyes`` and ``mouth``.
    """
    label = label or result.pred
    k = result.labels.index(label)
    x = to_model_input([result.face.crop], loaded.card)
    heat = result.heatmap(label)[None]
    h, w = heat.shape[1:]
    patch = patch or max(2, h // 12)
    rand = np.random.default_rng(seed).random((1, h, w))
    curves = {
        name: region_perturbation(
            loaded.model, x, hm, torch.tensor([k]), patch=patch, steps=steps, order=order, card=loaded.card
        )
        for name, hm, order in (
            ("most relevant first", heat, "morf"),
            ("least relevant first", heat, "lerf"),
            ("random order", rand, "morf"),
        )
    }
    n_patches = -(-h // patch) * -(-w // patch)
    share = region_share(heat[0], result.face.regions)
    return {
        "label": result.labels[k],
        "patch": patch,
        "steps": steps,
        "fill": "mean",
        "removed": [(i + 1) / n_patches for i in range(curves["random order"].drops.shape[1])],
        "curves": {name: c.drops[0].tolist() for name, c in curves.items()},
        "aopc": {name: float(c.aopc[0]) for name, c in curves.items()},
        "mass": {r: share[r] for r in ("eyes", "mouth")},
    }
