"""Benchmarks as ratios against references measured in the same process (absolute times only as context)."""

from __future__ import annotations

import time
from collections.abc import Callable

import torch

from ..explain.lrp import LRPExplainer, zennit_lrp
from ..models import DEFAULT_MODEL, load_model


def median_time(fn: Callable[[], object], repeats: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2]


def bench_lrp(model_name: str = DEFAULT_MODEL, quick: bool = False, seed: int = 0) -> dict:
    """All-class LRP for one face vs the forward+backward floor and vs zennit (batched and one call per class)."""
    torch.manual_seed(seed)
    loaded = load_model(model_name)
    model = loaded.model
    c, (h, w), k = loaded.card.in_chans, loaded.card.input_size, loaded.card.num_classes
    x = torch.rand(1, c, h, w) * 2 - 1
    explainer = LRPExplainer(model, "epsilon_plus_flat")
    targets = torch.arange(k)[None]
    repeats = 10 if quick else 40

    def floor() -> None:
        xx = x.repeat(k, 1, 1, 1).requires_grad_(True)
        torch.autograd.grad(model(xx), xx, torch.eye(k))

    def ours() -> None:
        explainer.relevance(x, targets)

    def zennit_batched() -> None:
        zennit_lrp(explainer.model, x, targets, "epsilon_plus_flat")

    def zennit_sequential() -> None:
        for t in range(k):
            zennit_lrp(explainer.model, x, torch.tensor([[t]]), "epsilon_plus_flat")

    t_floor, t_ours = median_time(floor, repeats), median_time(ours, repeats)
    t_zb, t_zs = median_time(zennit_batched, repeats), median_time(zennit_sequential, max(3, repeats // 4))
    ref = zennit_lrp(explainer.model, x, targets, "epsilon_plus_flat")
    got = explainer.relevance(x, targets)
    rel_diff = float((got - ref).abs().max() / ref.abs().max())
    logits = explainer.logits(x)[0]
    conservation = (got[0].sum(dim=(1, 2, 3)) / logits).tolist()
    return {
        "model": model_name,
        "threads": torch.get_num_threads(),
        "classes": k,
        "lrp_all_classes_vs_floor": round(t_ours / t_floor, 3),
        "lrp_all_classes_vs_zennit_batched": round(t_ours / t_zb, 3),
        "lrp_all_classes_vs_zennit_sequential": round(t_ours / t_zs, 3),
        "zennit_batched_vs_floor": round(t_zb / t_floor, 3),
        "zennit_sequential_vs_floor": round(t_zs / t_floor, 3),
        "max_rel_diff_vs_zennit": rel_diff,
        "conservation_min": round(min(conservation), 4),
        "conservation_max": round(max(conservation), 4),
        "ms": {
            "floor": round(t_floor * 1e3, 2),
            "ours": round(t_ours * 1e3, 2),
            "zennit_batched": round(t_zb * 1e3, 2),
            "zennit_sequential": round(t_zs * 1e3, 2),
        },
    }


SYNTH_TARGET_FPS = 1000.0  # DESIGN.md section 6: SynthFACS >= 1,000 faces/s at 112 px on 2 cores


def bench_synthfacs(quick: bool = False) -> dict:
    """SynthFACS rendering speed (sampling + rendering, no file writing) with 1 and 2 worker processes."""
    from ..data.synthfacs import measure_speed

    n = 600 if quick else 3000
    one, two = measure_speed(n, workers=1), measure_speed(n, workers=2)
    return {
        "synthfacs_faces_per_s_1_worker": round(one),
        "synthfacs_faces_per_s_2_workers": round(two),
        "synthfacs_vs_target": round(two / SYNTH_TARGET_FPS, 3),
    }


def run_all(quick: bool = False) -> dict:
    """Every benchmark; the LRP figures sit at the top level (the CLI contract names them there)."""
    return bench_lrp(quick=quick) | bench_synthfacs(quick=quick)
