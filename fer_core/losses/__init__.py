"""Training losses and pseudo-label thresholds.

Shrinkage-MMD (fairness), gradient reversal (adversarial heads), InfoNCE/SupCon (contrastive) and the
FixMatch/FlexMatch/FreeMatch/DTM confidence thresholds used by the semi-supervised recipe.
"""

from __future__ import annotations

from .grl import GradientReversal, GradReverse, grad_reverse
from .infonce import info_nce, supcon
from .mmd import group_mmd_loss, median_bandwidth, rbf_kernel, shrinkage_mmd2, shrinkage_weight
from .thresholds import DynamicThreshold, FixedThreshold, FlexMatchThreshold, FreeMatchThreshold

__all__ = [
    "GradReverse",
    "GradientReversal",
    "grad_reverse",
    "info_nce",
    "supcon",
    "group_mmd_loss",
    "median_bandwidth",
    "rbf_kernel",
    "shrinkage_mmd2",
    "shrinkage_weight",
    "DynamicThreshold",
    "FixedThreshold",
    "FlexMatchThreshold",
    "FreeMatchThreshold",
]
