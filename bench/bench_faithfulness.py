"""Region-perturbation curves (MoRF, AOPC): fer_core's batched implementation vs Quantus on the same inputs.

Both compute the same curves (tests/explain/test_faithfulness.py checks equality); this prints the time of each
and the ratio, on the shipped mini-Xception with random inputs and maps. Prints JSON.

Usage: ``python bench/bench_faithfulness.py [--n 64] [--patch 8] [--steps 32] [--threads 2]``
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import quantus
import torch

from fer_core.explain.faithfulness import region_perturbation
from fer_core.models import DEFAULT_MODEL, load_model


def _fill(value: float):
    def perturb(arr, indices, **kwargs):
        arr = arr.copy()
        arr[np.arange(len(arr))[:, None], indices] = value
        return arr

    return perturb


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--patch", type=int, default=8)
    ap.add_argument("--steps", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    loaded = load_model(DEFAULT_MODEL)
    model = loaded.model.eval()
    h, w = loaded.card.input_size
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(args.n, loaded.card.in_chans, h, w, generator=gen) * 2 - 1
    heat = torch.randn(args.n, h, w, generator=gen).numpy()
    y = np.zeros(args.n, dtype=int)
    t0 = time.perf_counter()
    ours = region_perturbation(model, x, heat, y, patch=args.patch, steps=args.steps, fill=-1.0)
    t_ours = time.perf_counter() - t0
    metric = quantus.RegionPerturbation(
        patch_size=args.patch,
        order="morf",
        regions_evaluation=args.steps,
        normalise=False,
        perturb_func=_fill(-1.0),
        disable_warnings=True,
    )
    t0 = time.perf_counter()
    ref = np.asarray(
        metric(
            model=model,
            x_batch=x.numpy(),
            y_batch=y,
            a_batch=heat[:, None],
            softmax=True,
            channel_first=True,
            device="cpu",
            batch_size=args.n,
        )
    )
    t_ref = time.perf_counter() - t0
    print(
        json.dumps(
            {
                "images": args.n,
                "patch": args.patch,
                "steps": args.steps,
                "fill": -1.0,
                "ours_s": round(t_ours, 3),
                "quantus_s": round(t_ref, 3),
                "speedup": round(t_ref / t_ours, 2),
                "max_abs_diff": float(np.abs(ours.drops - ref).max()),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
