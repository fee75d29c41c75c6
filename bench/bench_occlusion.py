"""Dataset occlusion study vs the same number of plain forward passes at the best batch size (target: <= 1.2x).

The study composes every (face, region, fill) variant from normalised tensors and classifies them in batches
(``fer_core.explain.regions.occlusion_probs``); the reference classifies an already built tensor of the same number
of images, at whichever batch size is fastest on this machine. Also reports the per-image loop (``fill_region`` per
variant, then ``predict_probs``) the batched path replaces. Uses the shipped demo run's model on SynthFACS faces.
Prints JSON.

Usage: ``python bench/bench_occlusion.py [--n 256] [--threads 2]``
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from fer_core.data.synthfacs import SynthSpec, generate
from fer_core.explain.regions import fill_region, occlusion_probs
from fer_core.face import aligned_crop
from fer_core.models import ASSETS_DIR
from fer_core.models.preprocess import predict_probs, to_model_input
from fer_core.runs import open_run

REGIONS = ["eyes", "mouth", "brows", "nose"]
FILLS = ["mean", "blur"]


def best_of(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=256)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    loaded = open_run(ASSETS_DIR / "runs" / "synthfacs_bias_supervised").model()
    card, model = loaded.card, loaded.model.eval()
    faces = [
        aligned_crop(s.image, card.input_size, card.template) for s in generate(SynthSpec(n=args.n, size=48, seed=3))
    ]
    crops, masks = [f.crop for f in faces], [f.regions for f in faces]
    total = args.n * (1 + len(REGIONS) * len(FILLS))
    x = to_model_input(crops, card).repeat(1 + len(REGIONS) * len(FILLS), 1, 1, 1)[:total]

    def plain(bs: int):
        def run():
            with torch.no_grad():
                for i in range(0, total, bs):
                    model(x[i : i + bs])

        return run

    plain_times = {bs: best_of(plain(bs)) for bs in (32, 64, 128, 256)}
    best_bs = min(plain_times, key=plain_times.get)
    study_times = {
        bs: best_of(lambda bs=bs: occlusion_probs(model, card, crops, masks, REGIONS, FILLS, batch_size=bs))
        for bs in (64, 128)
    }
    study_bs = min(study_times, key=study_times.get)

    def loop():
        variants = list(crops)
        for crop, m in zip(crops, masks):
            variants += [fill_region(crop, m[r], f) for r in REGIONS for f in FILLS]
        predict_probs(model, card, variants, best_bs)

    t_loop = best_of(loop, 2)
    print(
        json.dumps(
            {
                "faces": args.n,
                "regions": REGIONS,
                "fills": FILLS,
                "images_classified": total,
                "threads": torch.get_num_threads(),
                "plain_forward_s_by_batch": {k: round(v, 3) for k, v in plain_times.items()},
                "best_batch": best_bs,
                "study_s_by_batch": {k: round(v, 3) for k, v in study_times.items()},
                "study_vs_best_plain_forwards": round(study_times[study_bs] / plain_times[best_bs], 3),
                "per_image_loop_vs_best_plain_forwards": round(t_loop / plain_times[best_bs], 3),
                "target": "study <= 1.2x plain forwards",
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
