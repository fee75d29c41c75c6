"""Fairness statistics on model outputs and embeddings.

Each submodule re-exports its public names here, one block per module; add a block when adding a module.
"""

from __future__ import annotations

# --- group_metrics: per-group accuracy, TPR, gaps, bootstrap intervals (fairlearn MetricFrame underneath)
from .group_metrics import GroupMetrics, SmallGroupWarning, group_report

# --- label_free: audits without expression labels (detection, prediction rates, parity, confidence per group)
from .label_free import audit_summary, detection_report, label_free_report, prediction_audit

# --- mmd_stats: corpus-scale MMD between groups of embeddings (linear-time RFF, exact chunked, permutation test)
from .mmd_stats import MMDTestResult, exact_mmd2, median_bandwidth_np, mmd_permutation_test, rff_mmd2

# --- probe: can a linear model guess the group from the embeddings?
from .probe import probe_accuracy

# --- report: one report per attribute (JSON-ready) and its summary lines
from .report import fairness_report, fairness_summary, mmd_matrix

# --- result: typed read-only views of those dicts (MetricFrame-shaped: .overall, .by_group, .mmd tables)
from .result import AttributeReport, EvaluationReport, ProbeResult, shared_attributes

__all__ = [
    # label_free
    "audit_summary",
    "detection_report",
    "label_free_report",
    "prediction_audit",
    # mmd_stats
    "MMDTestResult",
    "exact_mmd2",
    "median_bandwidth_np",
    "mmd_permutation_test",
    "rff_mmd2",
    # group_metrics
    "GroupMetrics",
    "SmallGroupWarning",
    "group_report",
    # probe
    "probe_accuracy",
    # report
    "fairness_report",
    "fairness_summary",
    "mmd_matrix",
    # result
    "AttributeReport",
    "EvaluationReport",
    "ProbeResult",
    "shared_attributes",
]
