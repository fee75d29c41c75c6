"""``fer-core train`` and ``fer-core claim``. Lightning loads only when a handler runs: the parser needs just the
config keys and recipe names, so ``fer-core --help`` stays fast."""

from __future__ import annotations

import argparse
import sys

from ..train import RECIPE_NAMES, config_help
from ._common import _print

COMMANDS = ("train", "claim")
_RECIPES_TEXT = "supervised, fair_mmd, transfer, semi_dtm, mae_pretrain, au_iat, emonet40"
_CLAIMS = ("fair_mmd", "semi_dtm", "au_iat", "shortcut")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``train`` (its epilog lists every config key) and ``claim``."""
    p = subparsers.add_parser(
        "train",
        help=f"train a recipe ({_RECIPES_TEXT}) into a run folder",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=config_help(),
        description="Train with Lightning (AMP, DDP via torchrun/SLURM, accumulation, early "
        "stopping). Each run writes runs/<name>/ with config.yaml, metrics.csv, "
        "tb/, model.safetensors, checkpoints/last.ckpt, splits.csv, "
        "test_predictions.csv, test_embeddings.npy and evaluation.json.",
    )
    p.add_argument("recipe", nargs="?", choices=RECIPE_NAMES, help="recipe to train")
    p.add_argument("--config", help="YAML config file (keys below)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a config key, e.g. optim.epochs=5")
    p.add_argument("--name", help="run name (default: recipe and time stamp)")
    p.add_argument("--out", help="folder for run folders (default: runs)")
    p.add_argument("--resume", metavar="RUN", help="continue a stopped or killed run from its last checkpoint")
    p.add_argument("--quiet", action="store_true", help="no progress bars")

    p = subparsers.add_parser(
        "claim",
        help="check a method's claim on SynthFACS over seeds (trains the shipped configs)",
        description="Trains each variant of the claim once per seed, every run in a fresh "
        "process with pinned numerics (one thread, kernels capped at AVX2: the "
        "same figures on a machine whatever its cores), and decides the claim on the mean "
        "over the seeds, with a 95 %% t interval and the seeds it holds on. Exit "
        "status 1 if it does not hold.",
    )
    p.add_argument("method", choices=list(_CLAIMS), help="which claim")
    p.add_argument("--out", default="runs", help="folder for the runs (default: runs; finished runs are reused)")
    p.add_argument("--retrain", action="store_true", help="train again even if the runs exist")
    p.add_argument("--seeds", help="comma-separated seeds (default 0,1,2; for au_iat seed s also tests on fold s)")
    p.add_argument("--workers", type=int, help="runs trained at the same time (default: one per core, at most 3)")
    p.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override a config key in every run of the claim, e.g. optim.epochs=8 (an experiment, "
        "not the shipped claim: do not --record it)",
    )
    p.add_argument(
        "--record",
        action="store_true",
        help="write the result to assets/claims/METHOD.json, the figures the tests compare with",
    )
    p.add_argument(
        "--ship",
        action="store_true",
        help="copy the seed-0 runs into assets/runs (slimmed), as the dashboard's embedded demo runs",
    )
    p.add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    """Run ``args.command`` (one of :data:`COMMANDS`)."""
    return {"train": _train, "claim": _claim}[args.command](args)


def _train(args: argparse.Namespace) -> int:
    from ..train import load_config, resume, train

    if args.resume:
        result = resume(args.resume, progress=not args.quiet)
    else:
        if not args.recipe:
            raise ValueError("name a recipe (e.g. fer-core train fair_mmd --config FILE.yaml) or --resume RUN")
        overrides = list(args.set or [])
        overrides += [f"name={args.name}"] if args.name else []
        overrides += [f"out_dir={args.out}"] if args.out else []
        result = train(load_config(args.config, overrides, recipe=args.recipe), progress=not args.quiet)
    status = result.status
    if not status:  # a DDP worker process: rank 0 reports
        return 0
    print("\n".join(result.summary()))
    return 0 if status.get("status") == "finished" else 1


def _claim(args: argparse.Namespace) -> int:
    from ..train import claims, shortcut_claim

    seeds = [int(x) for x in args.seeds.split(",")] if args.seeds else list(claims.DEFAULT_SEEDS)
    run = {
        "fair_mmd": claims.fair_mmd_claim,
        "semi_dtm": claims.semi_dtm_claim,
        "au_iat": claims.au_iat_claim,
        "shortcut": shortcut_claim.shortcut_claim,
    }
    total = len(seeds) * {"fair_mmd": 2, "semi_dtm": 3, "au_iat": 2, "shortcut": 2}[args.method]
    done: list = []

    def on_done(key: tuple) -> None:
        done.append(key)
        if not args.json:
            print(f"[{len(done)}/{total}] finished {key[0]}, seed {key[1]}", file=sys.stderr, flush=True)

    result = run[args.method](
        args.out,
        reuse=not args.retrain,
        seeds=seeds,
        workers=args.workers,
        on_done=on_done,
        overrides=list(args.set or []),
    )
    if args.record:
        path = claims.record_claim(result)
        if not args.json:
            print(f"recorded the figures in {path}", file=sys.stderr)
    if args.ship:
        for folder in claims.ship_runs(result):
            if not args.json:
                print(f"shipped {folder}", file=sys.stderr)
    _print(result, args.json, lambda o: print(claims.claim_summary(o)))
    return 0 if result["holds"] else 1
