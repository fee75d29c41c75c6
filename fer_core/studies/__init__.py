"""Dataset-level studies over a labelled manifest, shared by the CLI, the dashboard and Python users:

* :func:`occlusion_study` — how much each class's probability depends on each face region (paper 5's question);
* :func:`region_relevance_study` — where the heatmaps put the evidence, per demographic group, with a test;
* :func:`localisation_benchmark` — which explanation methods find SynthFACS's planted evidence, and how faithful
  they are (relevance mass / rank accuracy, AOPC, ABPC);
* :func:`explanation_atlas` — one class's heatmaps over a dataset, clustered (SpRAy): the model's strategies, with
  the ones off the face or owned by one group flagged; :func:`reference_faces` shows what its top concepts respond to;
* :func:`compare_models` — two or more models (e.g. transfer runs from different bases) on the same faces: where
  each looks, with paired tests.
"""

from .atlas import AFFINITY, CLUSTER_COUNT, Atlas, AtlasCluster, explanation_atlas
from .compare_transfer import compare_models
from .concept_references import (
    ConceptReference,
    ConceptReferences,
    default_references_dir,
    reference_faces,
    references_cached,
)
from .localisation import LOCALISATION_METHODS, localisation_benchmark
from .occlusion import OcclusionStudy, occlusion_study
from .relevance import SHARE_REGIONS, RegionRelevanceStudy, region_relevance_study
from .transfer_comparison import TARGET_RULES, TransferComparison, format_p

__all__ = [
    "AFFINITY",
    "CLUSTER_COUNT",
    "Atlas",
    "AtlasCluster",
    "ConceptReference",
    "ConceptReferences",
    "default_references_dir",
    "explanation_atlas",
    "reference_faces",
    "references_cached",
    "LOCALISATION_METHODS",
    "OcclusionStudy",
    "RegionRelevanceStudy",
    "SHARE_REGIONS",
    "TARGET_RULES",
    "TransferComparison",
    "compare_models",
    "format_p",
    "localisation_benchmark",
    "occlusion_study",
    "region_relevance_study",
]
