"""Datasets on the command line: ``synth`` renders SynthFACS, ``data import`` turns a public dataset's layout into a
canonical manifest, ``data cache`` aligns a manifest's faces once for training."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ..names import DATASET_FORMATS
from ._common import _add_model, load_for

COMMANDS = ("synth", "data")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``synth``, ``data import`` and ``data cache``."""
    p = subparsers.add_parser("synth", help="render a SynthFACS dataset: faces, evidence masks and manifest.csv")
    p.add_argument("--n", type=int, required=True, help="number of faces")
    p.add_argument("--out", required=True, help="output folder (manifest.csv, images/)")
    p.add_argument("--seed", type=int, default=0, help="random seed; same seed -> identical files (default 0)")
    p.add_argument("--size", type=int, default=112, help="crop side in pixels (default 112)")
    p.add_argument(
        "--bias",
        action="append",
        metavar="SPEC",
        help="plant a group<->label correlation, ATTRIBUTE=GROUP:LABEL:STRENGTH, e.g. "
        "skin_tone=dark:happy:0.6 (repeatable)",
    )
    p.add_argument("--habit-rate", type=float, default=0.0, help="fraction of identities with an AU habit")
    p.add_argument("--label-noise", type=float, default=0.0, help="fraction of labels flipped at random")
    p.add_argument("--glasses-rate", type=float, default=0.1, help="fraction of faces with glasses")
    p.add_argument("--mask-rate", type=float, default=0.05, help="fraction of faces with a mask over the mouth")
    p.add_argument("--identities", type=int, default=None, help="number of identities (default max(20, n/10))")
    p.add_argument(
        "--label-set",
        choices=("basic7", "emonet40"),
        default="basic7",
        help="basic7: EMFACS labels; emonet40: EmoNet-40 categories with intensities 1-7 and ratings.csv "
        "from simulated annotators",
    )
    p.add_argument("--workers", type=int, default=1, help="render in this many processes (same output)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    data = subparsers.add_parser("data", help="dataset manifests and the face-crop cache").add_subparsers(
        dest="data_command", required=True
    )
    p = data.add_parser("import", help="turn a public dataset layout into a canonical manifest")
    p.add_argument("format", choices=DATASET_FORMATS, help="dataset layout")
    p.add_argument("root", help="the dataset's root folder (or the fer2013.csv file)")
    p.add_argument("--out", required=True, help="manifest to write (.csv or .parquet)")
    p.add_argument("--au-set", choices=["bp4d", "disfa"], help="for au-csv: which AU set and binarisation rule")
    p.add_argument(
        "--layout",
        choices=["auto", "hq", "binary", "big"],
        help="for emonet-face: hq/big (every category rated; absent = 0) or binary (yes/no on a few)",
    )
    p = data.add_parser("cache", help="detect and align every face of a manifest once (incremental)")
    p.add_argument("manifest")
    _add_model(p)
    p.add_argument("--out", default=".fer_cache/crops", help="cache root (default .fer_cache/crops)")
    p.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")


def run(args: argparse.Namespace) -> int:
    """Run ``args.command`` (one of :data:`COMMANDS`; ``data`` by its sub-command)."""
    if args.command == "data":
        return {"import": _data_import, "cache": _data_cache}[args.data_command](args)
    return _synth(args)


def _synth(args: argparse.Namespace) -> int:
    from ..data import SynthSpec, parse_bias, write_dataset

    bias = [parse_bias(b) for b in (args.bias or [])]
    spec = SynthSpec(
        n=args.n,
        size=args.size,
        seed=args.seed,
        bias=bias or None,
        habit_rate=args.habit_rate,
        label_noise=args.label_noise,
        glasses_rate=args.glasses_rate,
        mask_rate=args.mask_rate,
        n_identities=args.identities,
        label_set=args.label_set,
    )
    t0 = time.perf_counter()
    manifest = write_dataset(spec, args.out, progress=not args.quiet, workers=args.workers)
    dt = max(time.perf_counter() - t0, 1e-9)
    print(
        f"wrote {spec.n} faces to {manifest.parent} ({manifest.name}); {spec.n / dt:.0f} faces/s "
        f"(rendering + PNG writing, {args.workers} worker(s))"
    )
    return 0


def _data_import(args: argparse.Namespace) -> int:
    from ..data import import_dataset, validate_manifest, write_manifest

    options = {"au_set": args.au_set} if args.au_set else {}
    if args.layout:
        options["layout"] = args.layout
    out = Path(args.out)
    if args.format == "fer2013":
        options["out_images"] = out.parent / f"{out.stem}_images"
    df = import_dataset(args.format, args.root, **options)
    validate_manifest(df, None)
    path = write_manifest(df, out, root=Path(args.root) if Path(args.root).is_dir() else Path(args.root).parent)
    labelled = (df["label"] != "").sum()
    splits = ", ".join(f"{k or 'none'} {v}" for k, v in df["split"].value_counts().items())
    print(f"wrote {path}: {len(df)} images, {labelled} labelled; splits: {splits}")
    return 0


def _data_cache(args: argparse.Namespace) -> int:
    from ..data import build_crop_cache, read_manifest, resolve_paths

    manifest = Path(args.manifest)
    card = load_for(args, args.model).card
    paths = resolve_paths(read_manifest(manifest), manifest.parent)
    report = build_crop_cache(
        paths, args.out, card.input_size, card.alignment, workers=args.workers, show_progress=True
    )
    print(
        f"{report.folder}: {report.added} new crops, {report.reused} already cached, "
        f"{len(report.failed)} without a usable face (listed in failed.csv)"
    )
    return 0
