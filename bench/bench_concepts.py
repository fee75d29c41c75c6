"""Concepts and the atlas: the conditional heatmaps of one face's top 8 concepts (at the deepest layer of the shipped
FER2013 model) timed against one all-class LRP pass of the same face and against zennit-crp's ``CondAttribution``
on the same inputs and conditions, all in this run; then an explanation atlas of 5,000 SynthFACS faces: total time,
its stages and the process's peak memory.

Usage: ``python bench/bench_concepts.py [--quick]`` (quick: 1,000 faces). Prints JSON.

- **top8_s / all_class_s**: median seconds of :func:`fer_core.explain.top_concepts` (channel relevance, then the 8
  conditional maps in one pass) and of one all-class LRP pass; **ratio_to_all_class** = top8_s / all_class_s.
- **zennit_crp_s**: the same 8 conditional maps from zennit-crp (its composite hooks, 8 conditions in one batch);
  **speedup_vs_zennit_crp** = zennit_crp_s / top8_s; **max_rel_diff** between the two.
- **atlas**: every face's 'happy' map (``faces="all"``, so all 5,000 are clustered): seconds (the batch engine's LRP
  sweep, then the k-NN graph, eigengap, spectral clustering and t-SNE), faces per second, and the peak resident
  memory of the process (``ru_maxrss``) before and after.
"""

from __future__ import annotations

import json
import resource
import statistics
import sys
import time

import torch

from fer_core.data.sources import materialize
from fer_core.explain import create_explainer, top_concepts
from fer_core.face import find_faces, load_image
from fer_core.models import DEFAULT_MODEL, load_model
from fer_core.models.layers import ResidualSum
from fer_core.models.preprocess import to_model_input
from fer_core.runs import EMBEDDED_RUNS_DIR, open_run
from fer_core.studies import explanation_atlas

PORTRAIT = "assets/samples/astronaut_eileen_collins.png"
REPEATS = 15


def _median(fn, repeats: int = REPEATS) -> float:
    fn()  # warm
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def one_face() -> dict:
    loaded = load_model(DEFAULT_MODEL)
    crop = find_faces(load_image(PORTRAIT), loaded.card.input_size, loaded.card.alignment)[0].crop
    x = to_model_input([crop], loaded.card)
    explainer = create_explainer("lrp", loaded.model, loaded.card)
    happy = loaded.card.label_names.index("happy")
    found = top_concepts(explainer, x, happy, top=8)
    out = {
        "layer": found.layer,
        "top8_s": round(_median(lambda: top_concepts(explainer, x, happy, top=8)), 5),
        "all_class_s": round(_median(lambda: explainer.explain(x)), 5),
    }
    out["ratio_to_all_class"] = round(out["top8_s"] / out["all_class_s"], 2)
    try:
        from crp.attribution import CondAttribution
        from zennit.composites import EpsilonPlusFlat
        from zennit.rules import Norm
    except ImportError:
        out["zennit_crp"] = "not installed (make setup installs it)"
        return out
    comp = EpsilonPlusFlat(layer_map=[(ResidualSum, Norm())], zero_params="bias")
    attr = CondAttribution(explainer.model)
    conds = [{"y": [happy], found.layer: [c]} for c in found.concepts]

    def crp() -> torch.Tensor:
        return attr(x.clone().requires_grad_(True), conds, comp, record_layer=[found.layer]).heatmap

    ref = crp()
    out["zennit_crp_s"] = round(_median(crp), 5)
    out["speedup_vs_zennit_crp"] = round(out["zennit_crp_s"] / out["top8_s"], 2)
    out["max_rel_diff"] = float((found.heatmaps - ref).abs().max() / ref.abs().max())
    return out


def atlas(n: int) -> dict:
    run = open_run(EMBEDDED_RUNS_DIR / "synthfacs_bias_supervised")
    manifest = materialize({"synthfacs": {"n": n, "size": 64, "seed": 5}}, progress=True)
    loaded = run.model()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    result = explanation_atlas(loaded, manifest, "happy", group_by=["age", "skin_tone"], faces="all", aligned=True)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "images": n,
        "faces_in_atlas": len(result.faces),
        "clusters": len(result.clusters),
        "flagged": len(result.flagged),
        "seconds": round(seconds, 2),
        "images_per_s": round(n / seconds, 1),
        "peak_rss_mib_before": round(before),
        "peak_rss_mib": round(peak),
    }


def main(quick: bool) -> dict:
    return {
        "threads": torch.get_num_threads(),
        "one_face": one_face(),
        "atlas": atlas(1000 if quick else 5000),
    }


if __name__ == "__main__":
    print(json.dumps(main("--quick" in sys.argv), indent=2))
