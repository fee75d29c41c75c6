"""Dataset-level studies over a labelled manifest, shared by the CLI, the dashboard and Python users:

* :func:`occlusion_study` — how much each class's probability depends on each face region (paper 5's question);
* :func:`region_relevance_study` — where the heatmaps put the evidence, per demographic group, with a test;
* :func:`localisation_benchmark` — which explanation methods find SynthFACS's planted evidence, and how faithful
  they are (relevance mass / rank accuracy, AOPC, ABPC).
"""
from .localisation import localisation_benchmark
from .occlusion import OcclusionStudy, occlusion_study
from .relevance import SHARE_REGIONS, RegionRelevanceStudy, region_relevance_study

__all__ = ["OcclusionStudy", "RegionRelevanceStudy", "SHARE_REGIONS", "localisation_benchmark", "occlusion_study",
           "region_relevance_study"]
