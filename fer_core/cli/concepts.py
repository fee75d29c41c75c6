"""``fer-core concepts`` (what the model recognised on one photo, channel by channel) and ``fer-core atlas`` (the
strategies a model uses for one class across a dataset, with the suspicious ones flagged)."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ._common import _add_engine, _add_model, _columns, _print, _study_inputs, engine_options, load_for

COMMANDS = ("concepts", "atlas")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``concepts`` and ``atlas``."""
    p = subparsers.add_parser(
        "concepts", help="the channels (concepts) of a layer that carry a class's evidence on each face, and where"
    )
    p.add_argument("image", help="image file (JPEG, PNG, WebP, TIFF, GIF, BMP)")
    _add_model(p)
    p.add_argument("--layer", help="layer name (default: the deepest before the classifier; --layers lists them)")
    p.add_argument("--class", dest="label", help="class to explain (default: each face's prediction)")
    p.add_argument("--top", type=int, default=8, help="concepts per face (default 8)")
    p.add_argument("--layers", action="store_true", help="list the model's concept layers and stop")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--out", help="folder for one PNG per face: the face, then each concept's conditional heatmap")

    p = subparsers.add_parser(
        "atlas",
        help="cluster one class's heatmaps over a dataset (SpRAy): the model's strategies, shortcuts flagged",
    )
    p.add_argument("target", nargs="?", help="a run folder (default data: its test set) or a model (default: --model)")
    _add_model(p)
    p.add_argument("--data", help="a manifest (labels optional) or a folder of images (default: the run's test set)")
    p.add_argument("--class", dest="label", required=True, help="the class whose strategies are mapped")
    p.add_argument(
        "--faces",
        choices=("predicted", "labelled", "all"),
        default="predicted",
        help="the faces the model assigns to the class (default), those labelled with it, or every face",
    )
    p.add_argument("--group-by", action="append", metavar="COL", help="sensitive column(s) whose shares can flag")
    p.add_argument("--layer", help="concept layer for the class's top concepts (default: the deepest)")
    p.add_argument("--clusters", type=int, help="force this many clusters (default: the eigengap decides)")
    p.add_argument("--references", type=int, default=6, help="reference faces per top concept with --out (default 6)")
    p.add_argument("--target-column", help="column with the true class (default: label, or the run's)")
    p.add_argument(
        "--aligned",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="images are aligned face crops (default: the run's setting, else detect)",
    )
    p.add_argument("--limit", type=int, help="a fixed random sample of this many rows")
    p.add_argument("--seed", type=int, default=0, help="seed of the sample, the clustering and the embedding")
    p.add_argument("--json", action="store_true")
    p.add_argument(
        "--out",
        help="folder for atlas.json, faces.csv (cluster and 2-D position of each face), a mean-heatmap PNG per "
        "cluster and the top concepts' reference faces",
    )
    _add_engine(p)


def run(args: argparse.Namespace) -> int:
    """Run ``args.command`` (one of :data:`COMMANDS`)."""
    return {"concepts": _concepts, "atlas": _atlas}[args.command](args)


def _concepts(args: argparse.Namespace) -> int:
    import cv2

    from ..explain import class_grid, concept_layers, create_explainer, why_not
    from ..face import find_faces, load_image
    from ..workflows import explain_face_concepts

    loaded = load_for(args, args.model)
    if reason := why_not("lrp", loaded.model):
        raise ValueError(f"concepts need LRP, which does not apply to {loaded.name}: {reason}")
    explainer = create_explainer("lrp", loaded.model, loaded.card)
    layers = concept_layers(explainer)
    if args.layers:
        out = {"model": loaded.name, "layers": [vars(la) for la in layers]}
        _print(out, args.json, _print_layers)
        return 0
    if args.top < 1:
        raise ValueError("--top must be at least 1")
    faces = find_faces(load_image(args.image), loaded.card.input_size, loaded.card.alignment)
    results = explain_face_concepts(loaded, faces, args.label, args.layer, args.top, explainer)
    out = {"model": loaded.name, "image": str(args.image), "faces": [r.to_json() for r in results]}
    if args.out:
        folder = Path(args.out)
        folder.mkdir(parents=True, exist_ok=True)
        for i, r in enumerate(results):
            c = r.concepts
            grid = class_grid(r.face.crop, r.heatmaps(), [f"ch {ch}" for ch in c.concepts], [abs(s) for s in c.share])
            path = folder / f"{Path(args.image).stem}_face{i}_{r.label}_concepts_{c.layer}.png"
            cv2.imwrite(str(path), cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))
            out["faces"][i]["concepts_png"] = str(path)

    def human(o: dict) -> None:
        for i, f in enumerate(o["faces"]):
            print(f"face {i} box={f['box']}: {f['pred']}; concepts of {f['class']} at layer {f['layer']}:")
            for c in f["concepts"]:
                print(f"  channel {c['channel']:4d}  {c['share']:+6.1%} of the layer's relevance")
            if "concepts_png" in f:
                print(f"  heatmaps: {f['concepts_png']}")

    _print(out, args.json, human)
    return 0


def _print_layers(o: dict) -> None:
    for la in o["layers"]:
        print(f"{la['name']:8s} {la['kind']:6s} {la['channels']} channels")


def _atlas(args: argparse.Namespace) -> int:
    from ..studies import explanation_atlas

    loaded, data, aligned, target = _study_inputs(args)
    group_by = _columns(args.group_by)
    atlas = explanation_atlas(
        loaded,
        data,
        args.label,
        group_by=group_by,
        faces=args.faces,
        layer=args.layer,
        target=target,
        aligned=aligned,
        limit=args.limit,
        n_clusters=args.clusters,
        seed=args.seed,
        engine=engine_options(args),
    )
    if atlas is None:  # another rank of a multi-process job
        return 0
    out = {"data": str(data), **atlas.to_json()}
    if args.out:
        out["files"] = _write_atlas(atlas, loaded, Path(args.out), args.references)

    def human(o: dict) -> None:
        print(
            f"{o['n_faces']} faces {o['faces']} {o['label']!r} ({o['model']}): {len(o['clusters'])} clusters, "
            f"{len(o['flagged'])} flagged"
        )
        for c in o["clusters"]:
            mark = "!" if c["flags"] else " "
            print(f" {mark} cluster {c['id']}: {c['size']} faces, {c['inside_share']:.0%} of relevance on the face")
            for flag in c["flags"]:
                print(f"     {flag}")
        if o["top_concepts"]:
            top = ", ".join(f"{t['channel']} ({t['share']:.0%})" for t in o["top_concepts"])
            print(f"top concepts at layer {o['layer']}: {top}")
        if "files" in o:
            print(f"written to {args.out}: " + ", ".join(Path(p).name for p in o["files"]))

    _print(out, args.json, human)
    return 0


def _write_atlas(atlas, loaded, folder: Path, references: int) -> list[str]:
    """atlas.json, faces.csv, a mean-heatmap PNG per cluster, the embedding and the reference faces."""
    import json

    import cv2

    from ..explain import colorize
    from ..studies import references_cached
    from ._common import json_safe

    folder.mkdir(parents=True, exist_ok=True)
    files = [folder / "faces.csv"]
    atlas.faces.to_csv(files[0], index=False)
    for c in atlas.clusters:
        path = folder / f"cluster{c.id}_mean_heatmap.png"
        picture = cv2.resize(colorize(c.mean_heatmap), (192, 192), interpolation=cv2.INTER_NEAREST)
        cv2.imwrite(str(path), cv2.cvtColor(picture, cv2.COLOR_RGB2BGR))
        files.append(path)
    if atlas.layer is not None and references > 0:
        refs = references_cached(atlas, loaded, folder / "references", per_concept=references)
        for ch, items in refs.faces.items():
            path = folder / f"concept{ch}_references.png"
            cv2.imwrite(str(path), cv2.cvtColor(_reference_strip(items), cv2.COLOR_RGB2BGR))
            files.append(path)
    files.append(folder / "atlas.json")
    files[-1].write_text(json.dumps(json_safe(atlas.to_json()), indent=2), encoding="utf-8")
    return [str(p) for p in files]


def _reference_strip(items: list) -> np.ndarray:
    """The reference faces of one concept side by side, each cropped to where the concept acts, heatmap over it."""
    from ..explain import overlay

    tiles = []
    for r in items:
        face, heat = r.cropped()
        tiles.append(overlay(face, heat, 96))
    return np.concatenate(tiles, axis=1) if tiles else np.zeros((96, 96, 3), np.uint8)
