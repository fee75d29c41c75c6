"""Explanations with one call shape: ``create_explainer(method, model).attribute(images, target=...)``."""

from __future__ import annotations

from torch import nn

from ..models.card import ModelCard
from ..models.preprocess import input_bounds
from ..models.vit import VisionTransformer
from ..names import METHODS
from ._base import Explainer, resolve_targets
from .canonize import canonical_copy
from .captum_methods import GradCamExplainer, IntegratedGradientsExplainer, OcclusionExplainer, SaliencyExplainer
from .concepts import (
    ConceptExplanation,
    ConceptLayer,
    concept_layers,
    concept_relevance,
    conditional_heatmaps,
    default_concept_layer,
    top_concepts,
)
from .estimate import SLOW_PASSES, Work, estimate_seconds, is_slow
from .faithfulness import (
    PerturbationCurves,
    abpc,
    aopc,
    randomisation_check,
    region_perturbation,
    relevance_mass_accuracy,
    relevance_rank_accuracy,
)
from .lrp import LRPExplainer, zennit_lrp
from .regions import (
    FILLS,
    MOSTLY_NEGATIVE,
    UNSTABLE_CANCELLATION,
    cancellation,
    fill_region,
    occlude_regions,
    positive_fraction,
    region_share,
)
from .support import MethodNotApplicable, cam_layer, default_method, method_support, named_layer, why_not
from .transformer_lrp import TransformerLRPExplainer
from .visualize import class_grid, colorize, overlay, to_heatmap

MSG_METHOD = "unknown explanation method {name!r}; choose from {known}"


def create_explainer(method: str, model: nn.Module, card: ModelCard, layer: str | None = None) -> Explainer:
    """Build the explainer for ``method`` (a key of :data:`METHODS`) on a private copy of ``model``.

    Parameters
    ----------
    method
        A key of :data:`METHODS`. For a :class:`~fer_core.models.VisionTransformer` ``lrp`` is conservative
        propagation (CP-LRP), the only LRP variant with rules for transformers.
    model
        The network to explain; copied, never changed.
    card
        Its model card: ``lrp_gamma_box`` takes its pixel bounds from the normalisation, ``occlusion`` its window
        and stride from the input size.
    layer
        Grad-CAM only: the name of the module to explain (``model.named_modules()``, e.g. ``layer3.1.conv2``);
        default the model's ``cam_layer``, else its last Conv2d.

    Returns
    -------
    Explainer
        Ready for ``attribute(images, target=...)`` and ``explain(images, targets)``.

    Raises
    ------
    ValueError
        For an unknown method.
    MethodNotApplicable
        A ValueError for a method that does not apply to this model (an LRP variant on a ViT, gradients through
        onnxruntime, LRP on layers without rules), saying why.
    """
    if method not in METHODS:
        raise ValueError(MSG_METHOD.format(name=method, known=", ".join(METHODS)))
    reason = why_not(method, model)
    if reason:
        raise MethodNotApplicable(f"{METHODS[method]} does not apply to this model: {reason}")
    if isinstance(model, VisionTransformer) and method == "lrp":
        return TransformerLRPExplainer(model)
    if method == "lrp":
        return LRPExplainer(model, "epsilon_plus_flat")
    if method == "lrp_alpha2_beta1":
        return LRPExplainer(model, "epsilon_alpha2_beta1_flat")
    if method == "lrp_gamma_box":
        return LRPExplainer(model, "epsilon_gamma_box", bounds=input_bounds(card))
    if method == "ig":
        return IntegratedGradientsExplainer(model)
    if method == "saliency":
        return SaliencyExplainer(model)
    if method == "gradcam":
        return GradCamExplainer(model, layer=cam_layer(model) if layer is None else named_layer(model, layer))
    if method == "occlusion":
        return OcclusionExplainer(
            model, window=max(4, card.input_size[0] // 8), stride=max(2, card.input_size[0] // 16)
        )
    raise ValueError(MSG_METHOD.format(name=method, known=", ".join(METHODS)))


__all__ = [
    "ConceptExplanation",
    "ConceptLayer",
    "concept_layers",
    "concept_relevance",
    "conditional_heatmaps",
    "default_concept_layer",
    "top_concepts",
    "Explainer",
    "FILLS",
    "GradCamExplainer",
    "IntegratedGradientsExplainer",
    "LRPExplainer",
    "METHODS",
    "MethodNotApplicable",
    "default_method",
    "method_support",
    "OcclusionExplainer",
    "SaliencyExplainer",
    "TransformerLRPExplainer",
    "canonical_copy",
    "class_grid",
    "colorize",
    "create_explainer",
    "estimate_seconds",
    "is_slow",
    "SLOW_PASSES",
    "Work",
    "fill_region",
    "occlude_regions",
    "positive_fraction",
    "MOSTLY_NEGATIVE",
    "cancellation",
    "UNSTABLE_CANCELLATION",
    "overlay",
    "region_share",
    "resolve_targets",
    "to_heatmap",
    "zennit_lrp",
    "PerturbationCurves",
    "abpc",
    "aopc",
    "randomisation_check",
    "region_perturbation",
    "relevance_mass_accuracy",
    "relevance_rank_accuracy",
]
