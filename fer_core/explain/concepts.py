"""Concept Relevance Propagation (CRP) on the fast LRP engine: what the model recognised where, not only where.

A concept is one channel of a layer. Its relevance for a class is the LRP relevance arriving at that channel (summed
over space); its conditional heatmap is the input relevance when only that channel lets relevance through, as
zennit-crp's ``CondAttribution`` with ``ChannelConcept`` computes it. Here the top of the network runs once and each
row fans out into one row per concept at the layer (:class:`~fer_core.explain.lrp_engine.LayerCondition`), so the
heatmaps of M concepts cost one backward pass at batch M below the layer. Layers are the top-level convs, linear
layers and residual blocks of the canonical copy (names as its ``named_modules``): inside a residual branch the
other branch would need zennit-crp's ``exclude_parallel`` bookkeeping, at a block's output it is exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from .lrp import LRPExplainer
from .lrp_engine import LayerCondition, _is_residual, lrp_all_targets

MSG_LAYER = "no concept layer {name!r}; choose from {known}"
MSG_EXPLAINER = "concepts need the LRP explainer of a CNN (got {what})"


@dataclass(frozen=True)
class ConceptLayer:
    """A layer whose channels are concepts: ``name`` in the canonical model, its kind and its channel count."""

    name: str
    kind: str
    channels: int


@dataclass(frozen=True)
class ConceptExplanation:
    """The top concepts of one class on one face.

    ``concepts`` are channel indices in decreasing relevance, ``relevance`` their relevance, ``share`` their share of
    the layer's absolute relevance for the class (zennit-crp's ``abs_norm``), ``heatmaps`` (M, H, W) their
    conditional heatmaps summed over colour channels, and ``total`` the class's relevance at the layer.
    """

    layer: str
    target: int
    concepts: list[int]
    relevance: list[float]
    share: list[float]
    heatmaps: torch.Tensor
    total: float


def _check(explainer: object) -> LRPExplainer:
    if not isinstance(explainer, LRPExplainer):
        raise TypeError(MSG_EXPLAINER.format(what=type(explainer).__name__))
    return explainer


def _block_channels(block: nn.Module) -> int:
    convs = [m for m in block.main.modules() if isinstance(m, nn.Conv2d)]
    return int(convs[-1].out_channels)


def concept_layers(explainer: LRPExplainer) -> list[ConceptLayer]:
    """Every layer that can carry concepts, input to output; the classifier's own output layer is left out (its
    channels are the classes).

    Parameters
    ----------
    explainer
        An :class:`LRPExplainer`; the names refer to its canonical copy of the model.

    Returns
    -------
    list[ConceptLayer]
        The layers with their kind and channel count.
    """
    found: list[ConceptLayer] = []

    def walk(seq: nn.Sequential, prefix: str) -> None:
        for name, child in seq.named_children():
            path = f"{prefix}{name}"
            if isinstance(child, nn.Sequential):
                walk(child, f"{path}.")
            elif _is_residual(child):
                found.append(ConceptLayer(path, "block", _block_channels(child)))
            elif isinstance(child, nn.Conv2d):
                found.append(ConceptLayer(path, "conv", int(child.out_channels)))
            elif isinstance(child, nn.Linear):
                found.append(ConceptLayer(path, "linear", int(child.out_features)))

    walk(_check(explainer).model, "")
    return found[:-1]


def default_concept_layer(explainer: LRPExplainer) -> str:
    """The deepest concept layer: the most abstract features, still spatial in a CNN."""
    layers = concept_layers(explainer)
    if not layers:
        raise ValueError("this model has no layer before its classifier to take concepts from")
    return layers[-1].name


def _layer(explainer: LRPExplainer, name: str | None) -> tuple[nn.Module, ConceptLayer]:
    layers = {layer.name: layer for layer in concept_layers(explainer)}
    name = name or default_concept_layer(explainer)
    if name not in layers:
        raise ValueError(MSG_LAYER.format(name=name, known=", ".join(layers)))
    return dict(explainer.model.named_modules())[name], layers[name]


def _run(explainer: LRPExplainer, images: torch.Tensor, targets: torch.Tensor, condition: LayerCondition):
    device = explainer.device
    low = None if explainer.low is None else explainer.low.to(device)
    high = None if explainer.high is None else explainer.high.to(device)
    with explainer._lock:
        return lrp_all_targets(
            explainer.model,
            images.to(device),
            targets.to(device),
            explainer.spec,
            explainer.keep_bias,
            low,
            high,
            condition,
        )


def _targets(targets: int | Sequence[int] | torch.Tensor, n: int) -> torch.Tensor:
    t = torch.as_tensor(targets, dtype=torch.long)
    if t.ndim == 0:
        t = t.expand(n)
    return t.reshape(n, -1)


def concept_relevance(
    explainer: LRPExplainer,
    images: torch.Tensor,
    targets: int | Sequence[int] | torch.Tensor,
    layer: str | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The relevance of every channel of ``layer`` for each target: the backward pass stops at the layer.

    Parameters
    ----------
    explainer
        An :class:`LRPExplainer` (its composite and bias handling are used).
    images
        (N, C, H, W) model inputs.
    targets
        One class for all faces, one per face, or an (N, K) matrix.
    layer
        A name of :func:`concept_layers`; default the deepest.

    Returns
    -------
    tuple[torch.Tensor, torch.Tensor]
        Logits (N, num_classes) and relevance (N, K, channels), summed over the layer's positions.
    """
    cond = LayerCondition(_layer(_check(explainer), layer)[0])
    logits, _ = _run(explainer, images, _targets(targets, len(images)), cond)
    return logits.cpu(), _channel_sums(cond.relevance, len(images))


def _channel_sums(r: torch.Tensor, n: int) -> torch.Tensor:
    """(N * K, C, ...) relevance at a layer -> (N, K, C), summed over the layer's positions."""
    return r.reshape(n, -1, r.shape[1], *r.shape[2:]).flatten(3).sum(3).cpu()


def relevance_with_concepts(
    explainer: LRPExplainer,
    images: torch.Tensor,
    targets: int | Sequence[int] | torch.Tensor,
    layer: str | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The input relevance of each target and the channel relevance at ``layer``, from one pass (the atlas needs
    both for every face).

    Parameters
    ----------
    explainer
        An :class:`LRPExplainer`.
    images
        (N, C, H, W) model inputs.
    targets
        One class for all faces, one per face, or an (N, K) matrix.
    layer
        A name of :func:`concept_layers`; default the deepest.

    Returns
    -------
    tuple[torch.Tensor, torch.Tensor, torch.Tensor]
        Logits (N, num_classes), input relevance (N, K, C, H, W) and channel relevance (N, K, channels); equal to
        the explainer's plain LRP and to :func:`concept_relevance`.
    """
    cond = LayerCondition(_layer(_check(explainer), layer)[0], stop=False)
    logits, rel = _run(explainer, images, _targets(targets, len(images)), cond)
    return logits.cpu(), rel.cpu(), _channel_sums(cond.relevance, len(images))


def concept_masks(concepts: Sequence[int | Sequence[int]], channels: int) -> torch.Tensor:
    """(M, channels) 0/1 masks: one per concept, a concept being a channel index or a set of them."""
    masks = torch.zeros(len(concepts), channels)
    for i, c in enumerate(concepts):
        idx = [c] if isinstance(c, int) else list(c)
        if not idx or min(idx) < 0 or max(idx) >= channels:
            raise ValueError(f"concept {c!r} is not a set of channels in [0, {channels})")
        masks[i, idx] = 1.0
    return masks


def conditional_heatmaps(
    explainer: LRPExplainer,
    images: torch.Tensor,
    targets: int | Sequence[int] | torch.Tensor,
    concepts: Sequence[int | Sequence[int]] | torch.Tensor,
    layer: str | None = None,
) -> torch.Tensor:
    """Input relevance of each concept for one target per face, all concepts in one pass.

    Parameters
    ----------
    explainer
        An :class:`LRPExplainer`.
    images
        (N, C, H, W) model inputs.
    targets
        One class for all faces or one per face.
    concepts
        M concepts shared by every face (channel indices or channel sets), or an (N, M, channels) mask tensor with
        each face's own.
    layer
        A name of :func:`concept_layers`; default the deepest.

    Returns
    -------
    torch.Tensor
        (N, M, C, H, W) relevance, colour channels kept.

    Raises
    ------
    ValueError
        More than one target per face, an unknown layer or a concept outside the layer's channels.
    """
    module, info = _layer(_check(explainer), layer)
    masks = concepts if isinstance(concepts, torch.Tensor) else concept_masks(concepts, info.channels)
    n = len(images)
    t = _targets(targets, n)
    if t.shape[1] != 1:
        raise ValueError("conditional heatmaps take one target per face")
    _, rel = _run(explainer, images, t, LayerCondition(module, masks))
    return rel[:, 0].cpu()


def top_concepts(
    explainer: LRPExplainer,
    image: torch.Tensor,
    target: int,
    layer: str | None = None,
    top: int = 8,
) -> ConceptExplanation:
    """The ``top`` concepts of ``target`` on one face, ranked by relevance, with their conditional heatmaps.

    Parameters
    ----------
    explainer
        An :class:`LRPExplainer`.
    image
        (1, C, H, W) or (C, H, W) model input.
    target
        The class to explain.
    layer
        A name of :func:`concept_layers`; default the deepest.
    top
        How many concepts.

    Returns
    -------
    ConceptExplanation
        The ranked concepts, their relevance and share, and their heatmaps.
    """
    image = image if image.ndim == 4 else image[None]
    name = layer or default_concept_layer(explainer)
    _, rel = concept_relevance(explainer, image, target, name)
    r = rel[0, 0]
    order = torch.argsort(r, descending=True)[: max(1, min(top, len(r)))]
    heat = conditional_heatmaps(explainer, image, target, [int(c) for c in order], name)[0].sum(1)
    norm = float(r.abs().sum()) or 1.0
    return ConceptExplanation(
        layer=name,
        target=int(target),
        concepts=[int(c) for c in order],
        relevance=[float(r[c]) for c in order],
        share=[float(r[c]) / norm for c in order],
        heatmaps=heat,
        total=float(r.sum()),
    )
