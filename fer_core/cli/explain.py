"""``fer-core explain`` and ``fer-core occlude``: one image, one model, what it sees in each face."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..names import FILLS, METHODS
from ..taxonomy import ALL_REGIONS
from ._common import _add_engine, _add_landmarker, _add_model, _print, engine_options, load_for

COMMANDS = ("explain", "occlude")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``explain`` and ``occlude``."""
    p = subparsers.add_parser(
        "explain", help="faces, probabilities and per-class heatmaps for one image, or a whole dataset with --data"
    )
    p.add_argument("image", nargs="?", help="image file (JPEG, PNG, WebP, TIFF, GIF, BMP)")
    p.add_argument(
        "--data",
        help="a manifest or a folder of images to sweep instead of one image (needs --out: shards/ and faces.csv; "
        "re-running resumes)",
    )
    p.add_argument(
        "--aligned",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="with --data: the images are aligned face crops, resized only (default: detect)",
    )
    _add_model(p)
    p.add_argument(
        "--method",
        choices=list(METHODS),
        help="attribution method (default: lrp, or the first that applies to the model; fer-core models show NAME)",
    )
    p.add_argument("--cam-layer", help="Grad-CAM: the layer to explain, by module name (default: the last conv)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--out", help="folder to write one heatmap-grid PNG per face (with --data: the sweep's folder)")
    _add_landmarker(p)
    _add_engine(p, shards_option=False)

    p = subparsers.add_parser("occlude", help="class probabilities with face regions hidden")
    p.add_argument("image")
    _add_model(p)
    p.add_argument(
        "--regions",
        default="eyes,mouth,brows,nose",
        help=f"comma-separated regions from: {', '.join(ALL_REGIONS)} (default: eyes,mouth,brows,nose)",
    )
    p.add_argument("--fill", default="mean", choices=FILLS, help="what replaces a region (default: mean)")
    _add_landmarker(p)
    p.add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    """Run ``args.command`` (one of :data:`COMMANDS`)."""
    return {"explain": _explain, "occlude": _occlude}[args.command](args)


def _explain(args: argparse.Namespace) -> int:
    import cv2

    from ..explain import class_grid, create_explainer, default_method
    from ..face import load_image
    from ..workflows import explain_image

    if (args.image is None) == (args.data is None):
        raise ValueError("give one image, or --data MANIFEST_OR_FOLDER --out DIR for a dataset sweep")
    loaded = load_for(args, args.model)
    args.method = args.method or default_method(loaded)
    if args.cam_layer and args.method != "gradcam":
        raise ValueError("--cam-layer is for --method gradcam")
    if args.data is not None:
        return _sweep(args, loaded)
    explainer = create_explainer(args.method, loaded.model, loaded.card, layer=args.cam_layer)
    results = explain_image(
        load_image(args.image), loaded, method=args.method, explainer=explainer, landmarker=args.landmarker
    )
    out = {
        "model": loaded.name,
        "method": args.method,
        "image": str(args.image),
        "faces": [r.to_json() for r in results],
    }
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
            print(
                f"face {i} box={f['box']}: {f['pred']} ({', '.join(f'{k} {v:.2f}' for k, v in top)}); "
                f"relevance in {share}" + (" [used as aligned crop]" if f["used_as_crop"] else "") + _pose_text(f)
            )

    _print(out, args.json, human)
    return 0


def _sweep(args: argparse.Namespace, loaded) -> int:
    from ..explain import why_not
    from ..workflows import explain_dataset

    if not args.out:
        raise ValueError("--data needs --out DIR: the sweep keeps every face's heatmaps there (and resumes from it)")
    if args.cam_layer:
        raise ValueError("--cam-layer is for one image; the sweep explains with the model's default layer")
    reason = why_not(args.method, loaded.model)
    if reason:
        raise ValueError(f"{args.method} does not apply to {loaded.name}: {reason}")
    result = explain_dataset(
        loaded,
        args.data,
        args.out,
        args.method,
        aligned=args.aligned,
        engine=engine_options(args, out=args.out),
        landmarker="mtcnn5" if args.landmarker == "auto" else args.landmarker,  # a sweep: the 5 points unless asked
    )
    if result is None:
        return 0
    faces = result.faces
    counts = faces["status"].value_counts().to_dict()
    summary = result.summary()
    out = {
        "model": loaded.name,
        "method": args.method,
        "data": str(args.data),
        "out": str(args.out),
        "n": len(faces),
        "status": {k: int(v) for k, v in counts.items()},
        "faces_csv": str(Path(args.out) / "faces.csv"),
        "by_predicted_class": {
            str(k): {c: (round(float(v), 4) if c != "n" else int(v)) for c, v in row.items()}
            for k, row in summary.iterrows()
        },
    }

    def human(o: dict) -> None:
        print(f"{o['n']} images explained with {o['method']}: {o['status']}; table: {o['faces_csv']}")
        for cls, row in o["by_predicted_class"].items():
            top = sorted(((k[6:], v) for k, v in row.items() if k.startswith("share_")), key=lambda kv: -kv[1])[:3]
            print(f"  {cls:10s} n={row['n']:5d} evidence in " + ", ".join(f"{k} {v:.0%}" for k, v in top))

    _print(out, args.json, human)
    return 0


def _occlude(args: argparse.Namespace) -> int:
    from ..face import load_image, resolve_landmarker
    from ..workflows import occlude_image

    loaded = load_for(args, args.model)
    faces = occlude_image(load_image(args.image), loaded, args.regions, args.fill, landmarker=args.landmarker)
    out = {
        "model": loaded.name,
        "image": str(args.image),
        "fill": args.fill,
        "landmarker": resolve_landmarker(args.landmarker),  # auto: the one it stands for here
        "faces": [f.to_json() for f in faces],
    }

    def human(o: dict) -> None:
        for i, f in enumerate(faces):
            pred = f.pred
            print(f"face {i}: {pred} {f.base[pred]:.2f}" + _pose_text(o["faces"][i]))
            for region, delta in f.change().items():
                print(f"  hide {region:9s} -> {pred} {f.occluded.at[region, pred]:.2f} ({delta:+.2f})")

    _print(out, args.json, human)
    return 0


def _pose_text(face_json: dict) -> str:
    """``; head frontal (yaw +3°, ...)`` where the mesh measured the face's pose, else nothing."""
    from ..face import HeadPose

    pose = face_json.get("pose")
    return "" if pose is None else f"; head {HeadPose(pose['yaw'], pose['pitch'], pose['roll']).text()}"
