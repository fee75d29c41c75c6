"""All-class Integrated Gradients and occlusion for one face: the shared-work path against captum per (face, class)
row, measured in the same run, and the time estimate given before the run against the time measured.

Usage: ``python bench/bench_explain_methods.py [--quick]``. Prints JSON.

- **old_s**: ``Explainer.attribute_all`` of the base class (the face repeated once per class, captum per row), as
  before the shared-work paths.
- **new_s**: the method's own ``attribute_all`` (occlusion: one sweep of windows; IG: one forward per path point).
- **explain_faces_s**: the dashboard's call, ``fer_core.workflows.explain_faces`` with the same explainer.
- **estimate_s**: ``estimate_seconds`` for one face, asked of a fresh explainer before anything ran on it;
  ``estimate_over_measured`` is that divided by ``new_s``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import torch

from fer_core.explain import Explainer, create_explainer
from fer_core.explain.estimate import estimate_seconds
from fer_core.face import find_faces, load_image
from fer_core.models import DEFAULT_MODEL, load_model
from fer_core.models.preprocess import to_model_input
from fer_core.models.runtime import relative_error
from fer_core.workflows import explain_faces
from fer_core.workflows.bench import median_time

ROOT = Path(__file__).resolve().parents[1]
PORTRAIT = ROOT / "assets" / "samples" / "astronaut_eileen_collins.png"
METHODS = ("ig", "occlusion")


def bench_method(loaded, faces, method: str, repeats: int) -> dict:
    x = to_model_input([f.crop for f in faces], loaded.card)
    explainer = create_explainer(method, loaded.model, loaded.card)
    start = time.perf_counter()
    estimate = estimate_seconds(explainer, len(x), x.shape[1:])
    estimate_cost = time.perf_counter() - start
    # the reference first: what it leaves warm (allocator, kernels) would otherwise flatter whichever runs second
    old_s = median_time(lambda: Explainer.attribute_all(explainer, x), max(1, repeats // 2), warmup=1)
    new_s = median_time(lambda: explainer.attribute_all(x), repeats, warmup=2)
    faces_s = median_time(lambda: explain_faces(loaded, faces, explainer=explainer), repeats, warmup=0)
    gap = relative_error(explainer.attribute_all(x), Explainer.attribute_all(explainer, x))
    return {
        "old_s": round(old_s, 3),
        "new_s": round(new_s, 3),
        "old_over_new": round(old_s / new_s, 2),
        "explain_faces_s": round(faces_s, 3),
        "estimate_s": round(estimate, 3),
        "estimate_over_measured": round(estimate / new_s, 2),
        "estimate_cost_s": round(estimate_cost, 3),
        "new_vs_old_relative_error": float(f"{gap:.2e}"),
    }


def main(quick: bool = False) -> dict:
    torch.manual_seed(0)
    loaded = load_model(DEFAULT_MODEL)
    faces = find_faces(load_image(PORTRAIT), loaded.card.input_size, loaded.card.template)[:1]
    repeats = 2 if quick else 5
    shape = (loaded.card.in_chans, *loaded.card.input_size)
    ig, occlusion = (create_explainer(m, loaded.model, loaded.card) for m in METHODS)  # their settings, for context
    return {
        "context": {
            "model": loaded.name,
            "input": list(shape),
            "classes": loaded.card.num_classes,
            "faces": len(faces),
            "cpu_threads": torch.get_num_threads(),
            "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
            "ig_n_steps": ig.n_steps,
            "occlusion_window_stride": [occlusion.window, occlusion.stride],
            "occlusion_windows": occlusion.num_windows(shape),
        },
        **{m: bench_method(loaded, faces, m, repeats) for m in METHODS},
    }


if __name__ == "__main__":
    print(json.dumps(main(quick="--quick" in sys.argv), indent=2))
