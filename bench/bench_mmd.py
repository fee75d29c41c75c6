"""MMD between two groups of 100,000 x 512 embeddings: linear-time RFF + permutation test vs exact chunked sums.

DESIGN 6 asks for <= 10 s and <= 2 GiB on 2 cores, never an n x n matrix, with the linear estimator validated against
the exact value on 20,000-sample subsets (difference well inside the permutation null's spread). Prints JSON.

Usage: ``python bench/bench_mmd.py [--n 100000] [--dim 512] [--exact-n 20000] [--permutations 100] [--threads 2]``
``--exact-n`` is the size of EACH group's subset for the exact check (DESIGN's 38 s reference used two groups of
20,000).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time

import numpy as np
import torch

from fer_core.fairness import exact_mmd2, median_bandwidth_np, mmd_permutation_test


def _peak_rss_mb() -> float:
    scale = 1 / 1024 if sys.platform != "darwin" else 1 / 2**20  # ru_maxrss is KiB on Linux, bytes on macOS
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def _embeddings(n: int, dim: int, shift: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two groups of 'embeddings': correlated Gaussian features, group b mean-shifted by ``shift`` per dimension."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, dim), dtype=np.float32)
    mix = (rng.standard_normal((dim, dim)) / np.sqrt(dim)).astype(np.float32)
    z = z @ mix  # non-isotropic, like real embeddings
    n_a = int(n * 0.6)
    z[n_a:] += np.float32(shift)
    return z[:n_a], z[n_a:]


def run(n: int, dim: int, exact_n: int, permutations: int, num_features: int, shift: float, seed: int) -> dict:
    x, y = _embeddings(n, dim, shift, seed)
    rss_data = _peak_rss_mb()

    start = time.perf_counter()
    sigma = median_bandwidth_np(np.vstack([x[:512], y[:512]]))
    full = mmd_permutation_test(x, y, sigma=sigma, num_permutations=permutations, seed=seed, num_features=num_features)
    t_full = time.perf_counter() - start
    rss_full = _peak_rss_mb()

    xs, ys = x[:exact_n], y[:exact_n]
    start = time.perf_counter()
    sub = mmd_permutation_test(xs, ys, sigma=sigma, num_permutations=permutations, seed=seed, num_features=num_features)
    t_sub_rff = time.perf_counter() - start
    start = time.perf_counter()
    exact = exact_mmd2(xs, ys, sigma)
    t_exact = time.perf_counter() - start

    return {
        "setup": {
            "n": n,
            "dim": dim,
            "groups": [len(x), len(y)],
            "shift_per_dim": shift,
            "threads": torch.get_num_threads(),
            "num_features": num_features,
            "permutations": permutations,
            "estimator": "RFF (cos+sin) unbiased U-statistic; exact = chunked all-pairs U-statistic",
            "sigma": sigma,
        },
        "full": {
            "seconds": round(t_full, 3),
            "target_seconds": 10.0,
            "peak_rss_mb": round(rss_full, 1),
            "rss_after_data_mb": round(rss_data, 1),
            "target_mb": 2048,
            "mmd2": full.mmd2,
            "p_value": full.p_value,
            "null_mean": full.null_mean,
            "null_std": full.null_std,
        },
        "exact_check": {
            "subset_per_group": exact_n,
            "exact_seconds": round(t_exact, 3),
            "rff_perm_seconds": round(t_sub_rff, 3),
            "time_ratio_exact_over_rff": round(t_exact / t_sub_rff, 1),
            "exact_mmd2": exact,
            "rff_mmd2": sub.mmd2,
            "abs_diff": abs(sub.mmd2 - exact),
            "null_std": sub.null_std,
            "diff_over_null_std": abs(sub.mmd2 - exact) / sub.null_std,
            "p_value": sub.p_value,
        },
        "peak_rss_mb_end": round(_peak_rss_mb(), 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--exact-n", type=int, default=20_000)
    parser.add_argument("--permutations", type=int, default=100)
    parser.add_argument("--num-features", type=int, default=2048)
    parser.add_argument("--shift", type=float, default=0.02)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    result = run(args.n, args.dim, args.exact_n, args.permutations, args.num_features, args.shift, args.seed)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
