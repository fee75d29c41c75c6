"""``fer-core synth``: render a SynthFACS dataset (images, evidence masks, manifest.csv) with a progress bar."""
from __future__ import annotations

import argparse
import time


def cmd_synth(args: argparse.Namespace) -> int:
    from .synthfacs import SynthSpec, parse_bias, write_dataset

    bias = [parse_bias(b) for b in (args.bias or [])]
    spec = SynthSpec(n=args.n, size=args.size, seed=args.seed, bias=bias or None, habit_rate=args.habit_rate,
                     label_noise=args.label_noise, glasses_rate=args.glasses_rate, mask_rate=args.mask_rate,
                     n_identities=args.identities, label_set=args.label_set)
    t0 = time.perf_counter()
    manifest = write_dataset(spec, args.out, progress=not args.quiet, workers=args.workers)
    dt = max(time.perf_counter() - t0, 1e-9)
    print(f"wrote {spec.n} faces to {manifest.parent} ({manifest.name}); {spec.n / dt:.0f} faces/s "
          f"(rendering + PNG writing, {args.workers} worker(s))")
    return 0


def add_synth_parser(subparsers) -> None:
    """Add the ``synth`` subcommand to an ``argparse`` subparsers object (sets ``fn=cmd_synth``)."""
    p = subparsers.add_parser("synth", help="render a SynthFACS dataset: faces, evidence masks and manifest.csv")
    p.add_argument("--n", type=int, required=True, help="number of faces")
    p.add_argument("--out", required=True, help="output folder (manifest.csv, images/)")
    p.add_argument("--seed", type=int, default=0, help="random seed; same seed -> identical files (default 0)")
    p.add_argument("--size", type=int, default=112, help="crop side in pixels (default 112)")
    p.add_argument("--bias", action="append", metavar="SPEC",
                   help="plant a group<->label correlation, ATTRIBUTE=GROUP:LABEL:STRENGTH, e.g. "
                        "skin_tone=dark:happy:0.6 (repeatable)")
    p.add_argument("--habit-rate", type=float, default=0.0, help="fraction of identities with an AU habit")
    p.add_argument("--label-noise", type=float, default=0.0, help="fraction of labels flipped at random")
    p.add_argument("--glasses-rate", type=float, default=0.1, help="fraction of faces with glasses")
    p.add_argument("--mask-rate", type=float, default=0.05, help="fraction of faces with a mask over the mouth")
    p.add_argument("--identities", type=int, default=None, help="number of identities (default max(20, n/10))")
    p.add_argument("--label-set", choices=("basic7", "emonet40"), default="basic7",
                   help="basic7: EMFACS labels; emonet40: EmoNet-40 categories with intensities 1-7 and ratings.csv "
                        "from simulated annotators")
    p.add_argument("--workers", type=int, default=1, help="render in this many processes (same output)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(fn=cmd_synth)
