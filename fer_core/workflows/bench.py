"""Benchmarks as ratios against references measured in the same process (absolute times only as context)."""

from __future__ import annotations

import time
from collections.abc import Callable

import torch

from ..explain.lrp import LRPExplainer, zennit_lrp
from ..models import DEFAULT_MODEL, LoadedModel, ModelCard, create_model, load_model
from ..models.formats import default_normalisation
from ..models.runtime import relative_error


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


def gradient_floor(model: torch.nn.Module, x: torch.Tensor, k: int) -> Callable[[], None]:
    """One forward+backward over the face repeated once per class: the floor every all-class method is timed
    against."""

    def floor() -> None:
        xx = x.repeat(k, 1, 1, 1).requires_grad_(True)
        torch.autograd.grad(model(xx), xx, torch.eye(k))

    return floor


def bench_lrp(
    model_name: str = DEFAULT_MODEL,
    quick: bool = False,
    seed: int = 0,
    loaded: LoadedModel | None = None,
    repeats: int | None = None,
) -> dict:
    """All-class LRP for one face vs the forward+backward floor and vs zennit (batched and one call per class);
    ``loaded`` benchmarks a model in hand (a user's architecture) instead of ``model_name``."""
    torch.manual_seed(seed)
    loaded = loaded or load_model(model_name)
    model_name = loaded.name
    model = loaded.model
    c, (h, w), k = loaded.card.in_chans, loaded.card.input_size, loaded.card.num_classes
    x = torch.rand(1, c, h, w) * 2 - 1
    explainer = LRPExplainer(model, "epsilon_plus_flat")
    targets = torch.arange(k)[None]
    repeats = repeats or (10 if quick else 40)
    floor = gradient_floor(model, x, k)

    def ours() -> None:
        explainer.relevance(x, targets)

    def zennit_batched() -> None:
        zennit_lrp(explainer.model, x, targets, "epsilon_plus_flat")

    def zennit_sequential() -> None:
        for t in range(k):
            zennit_lrp(explainer.model, x, torch.tensor([[t]]), "epsilon_plus_flat")

    t_floor, t_ours = median_time(floor, repeats), median_time(ours, repeats)
    t_zb, t_zs = median_time(zennit_batched, repeats), median_time(zennit_sequential, max(2, repeats // 4))
    ref = zennit_lrp(explainer.model, x, targets, "epsilon_plus_flat")
    got = explainer.relevance(x, targets)
    rel_diff = relative_error(got, ref)
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


def seeded_user_model(arch: str, size: int = 112, seed: int = 0) -> LoadedModel:
    """A 7-class RGB registry architecture with seeded random weights, as a user's model would arrive."""
    torch.manual_seed(seed)
    extra = {"img_size": size} if arch.startswith("vit") else {}
    model = create_model(arch, num_classes=7, in_chans=3, **extra).eval()
    card = ModelCard(arch, (size, size), 3, *default_normalisation(3), tuple("abcdefg"))
    return LoadedModel(arch, model, card)


def bench_vit_lrp(quick: bool = False, size: int = 112) -> dict:
    """CP-LRP for all classes of one face on the registry ViT-S vs its forward+backward floor."""
    from ..explain import create_explainer

    loaded = seeded_user_model("vit_small", size)
    explainer = create_explainer("lrp", loaded.model, loaded.card)
    x, k = torch.rand(1, 3, size, size) * 2 - 1, 7
    repeats = 3 if quick else 20
    t_floor = median_time(gradient_floor(loaded.model, x, k), repeats, warmup=1)
    t_ours = median_time(lambda: explainer.explain(x), repeats, warmup=1)
    return {
        "model": f"vit_small@{size}",
        "lrp_all_classes_vs_floor": round(t_ours / t_floor, 3),
        "ms": {"floor": round(t_floor * 1e3, 2), "ours": round(t_ours * 1e3, 2)},
    }


def bench_onnx(quick: bool = False, size: int = 112) -> dict:
    """The same ResNet-18 through onnxruntime (CPU provider) and PyTorch eager, batch 1 and 64: time ratios."""
    import tempfile
    import warnings
    from pathlib import Path

    from ..models.formats.onnx_model import OnnxModule

    loaded = seeded_user_model("resnet18", size)
    out: dict = {"model": f"resnet18@{size}", "threads": torch.get_num_threads()}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "resnet18.onnx"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                loaded.model,
                (torch.zeros(1, 3, size, size),),
                str(path),
                dynamo=False,
                input_names=["input"],
                dynamic_axes={"input": {0: "n"}},
            )
        session = OnnxModule(path)
        for batch in (1, 64):
            x = torch.rand(batch, 3, size, size)
            repeats = (5 if quick else 40) if batch == 1 else (2 if quick else 8)
            with torch.no_grad():
                t_eager = median_time(lambda x=x: loaded.model(x), repeats, warmup=2)
                t_onnx = median_time(lambda x=x: session(x), repeats, warmup=2)
                diff = float((session(x) - loaded.model(x)).abs().max())
            out[f"batch_{batch}"] = {
                "onnxruntime_vs_eager": round(t_onnx / t_eager, 3),
                "ms": {"eager": round(t_eager * 1e3, 2), "onnxruntime": round(t_onnx * 1e3, 2)},
                "max_abs_diff": diff,
            }
    return out


def bench_user_models(quick: bool = False) -> dict:
    """Issue 17's figures: all-class LRP on ResNet-18 (112 px RGB) and the registry ViT-S; ONNX vs eager, batch 1
    and 64. ``quick`` (the test suite's smoke run) measures at 64 px with few repeats: its ratios are rough."""
    size = 64 if quick else 112
    resnet = bench_lrp(quick=quick, loaded=seeded_user_model("resnet18", size), repeats=3 if quick else None)
    return {
        "size": size,
        "resnet18_lrp": resnet,
        "vit_small_lrp": bench_vit_lrp(quick, size),
        "onnx": bench_onnx(quick, size),
    }


def run_all(quick: bool = False, user_models: bool = True) -> dict:
    """Every benchmark; the LRP figures sit at the top level (the CLI contract names them there)."""
    out = bench_lrp(quick=quick) | bench_synthfacs(quick=quick)
    if user_models:
        out["user_models"] = bench_user_models(quick)
    return out
