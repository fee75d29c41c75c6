"""The dataset-level studies (:mod:`fer_core.studies`) on the command line: ``occlusion-study``,
``region-relevance``, ``localisation`` and ``compare-transfer``, each printed as a table with bootstrap intervals."""

from __future__ import annotations

import argparse

from ..names import FILLS, LOCALISATION_METHODS, METHODS
from ..taxonomy import ALL_REGIONS
from ._common import _add_engine, _add_landmarker, _add_model, _ci, _columns, _print, _study_inputs, engine_options

COMMANDS = ("occlusion-study", "region-relevance", "localisation", "compare-transfer")


def _study_parser(subparsers: argparse._SubParsersAction, name: str, help_text: str) -> argparse.ArgumentParser:
    """A study's parser with the options every study shares: what to study, on which rows, how many resamples."""
    p = subparsers.add_parser(name, help=help_text)
    p.add_argument(
        "target",
        nargs="?",
        help="a run folder (default data: its test set), a registered model "
        "name or a .safetensors checkpoint (default: --model)",
    )
    _add_model(p)
    p.add_argument("--data", help="labelled manifest (default: the run's test set)")
    p.add_argument("--target-column", help="column with the true class (default: label, or the run's)")
    p.add_argument("--limit", type=int, help="a fixed random sample of this many rows")
    p.add_argument("--boot", type=int, default=1000, help="bootstrap resamples for the intervals (default 1000)")
    p.add_argument("--json", action="store_true")
    return p


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the four study commands."""
    aligned_help = "images are aligned face crops (default: the run's setting, else detect)"
    p = _study_parser(
        subparsers,
        "occlusion-study",
        "per class, region and group: how much hiding a face region lowers the true class's probability",
    )
    p.add_argument(
        "--regions",
        default="eyes,mouth,brows,nose",
        help=f"comma-separated regions from: {', '.join(ALL_REGIONS)} (default: eyes,mouth,brows,nose)",
    )
    p.add_argument("--fill", default="mean", help=f"comma-separated fills from: {', '.join(FILLS)} (default: mean)")
    p.add_argument(
        "--group-by",
        action="append",
        metavar="COL",
        help="group column(s) (repeat or comma-separate); pose_bin: head pose from the 468-point mesh",
    )
    p.add_argument("--aligned", action=argparse.BooleanOptionalAction, default=None, help=aligned_help)
    p.add_argument("--batch-size", type=int, default=64, help="forward batch (default 64, fastest on CPU)")
    p.add_argument("--out", help="CSV with every face x region x fill and the drop of every class")
    _add_landmarker(p, dataset=True)
    _add_engine(p)

    p = _study_parser(
        subparsers,
        "region-relevance",
        "share of the heatmap per face region, by demographic group, with a test of whether groups differ",
    )
    p.add_argument(
        "--group-by",
        action="append",
        metavar="COL",
        required=True,
        help="group column(s) (repeat or comma-separate); pose_bin: head pose from the 468-point mesh",
    )
    p.add_argument(
        "--method",
        choices=list(METHODS),
        help="attribution method (default: lrp, or the first that applies to the model; fer-core models show NAME)",
    )
    p.add_argument("--regions", default="eyes,brows,nose,mouth,cheeks,forehead", help="comma-separated regions")
    p.add_argument("--aligned", action=argparse.BooleanOptionalAction, default=None, help=aligned_help)
    p.add_argument("--permutations", type=int, default=1000, help="permutations of the test (default 1000)")
    _add_landmarker(p, dataset=True)
    _add_engine(p)

    p = _study_parser(
        subparsers,
        "localisation",
        "planted truth (SynthFACS evidence masks): which explanation "
        "methods find the evidence, and how faithful they are (mass/rank "
        "accuracy, AOPC, ABPC)",
    )
    p.add_argument(
        "--methods",
        default=",".join(LOCALISATION_METHODS),
        help=f"comma-separated (default: {','.join(LOCALISATION_METHODS)})",
    )
    p.add_argument("--patch", type=int, help="region-perturbation patch side in pixels (default: input side / 12)")
    p.add_argument("--steps", type=int, default=16, help="patches replaced along the curve (default 16)")
    p.add_argument("--fill", default="mean", choices=["mean", "black"], help="replacement (default: mean)")
    p.set_defaults(limit=200)

    p = subparsers.add_parser(
        "compare-transfer",
        help="two models (e.g. transfer runs from different base models) "
        "on the same faces: heatmap share per face region, paired "
        "tests",
    )
    for name in ("model_a", "model_b"):
        p.add_argument(name, help="a run folder, run name, .safetensors checkpoint or registered model name")
    p.add_argument("--data", help="labelled manifest (default: MODEL_A's run test set)")
    p.add_argument("--images", help="a folder of images (photos or face crops; no labels)")
    p.add_argument(
        "--n",
        type=int,
        default=200,
        help="faces: a fixed random sample of a manifest, the first N images of a folder (default 200)",
    )
    p.add_argument(
        "--method",
        choices=list(METHODS),
        help="attribution method (default: lrp, or the first that applies to the model; fer-core models show NAME)",
    )
    p.add_argument(
        "--explain",
        metavar="CLASS",
        help="class to explain on every face (default: the true class, "
        "else the one the models find most likely on average)",
    )
    p.add_argument("--aligned", action=argparse.BooleanOptionalAction, default=None, help=aligned_help)
    p.add_argument("--boot", type=int, default=1000, help="bootstrap resamples for the intervals (default 1000)")
    p.add_argument("--permutations", type=int, default=2000, help="sign flips of the paired test (default 2000)")
    p.add_argument("--json", action="store_true", help="print JSON (with every face's shares)")


def run(args: argparse.Namespace) -> int:
    """Run ``args.command`` (one of :data:`COMMANDS`)."""
    return {
        "occlusion-study": _occlusion_study,
        "region-relevance": _region_relevance,
        "localisation": _localisation,
        "compare-transfer": _compare_transfer,
    }[args.command](args)


def _occlusion_study(args: argparse.Namespace) -> int:
    from ..studies import occlusion_study

    loaded, data, aligned, target = _study_inputs(args)
    study = occlusion_study(
        loaded,
        data,
        args.regions,
        args.fill,
        _columns(args.group_by),
        target,
        aligned,
        limit=args.limit,
        batch_size=args.batch_size,
        engine=engine_options(args),
        landmarker=args.landmarker,
    )
    if study is None:  # a rank other than 0: rank 0 reports
        return 0
    if args.out:
        study.long().to_csv(args.out, index=False)
    result = study.to_json(n_boot=args.boot)

    def cell(c: dict | None) -> str:
        return f"{_ci(c['drop'], c['drop_lo'], c['drop_hi']):>22s}" if c else f"{'-':>22s}"

    def human(o: dict) -> None:
        print(
            f"{o['model']}: {o['n_faces']} of {o['n']} rows had a face. Drop of the true class's probability "
            f"when a region is hidden, in points (95% bootstrap CI)"
        )
        for fill in o["fills"]:
            print(f"\nfill = {fill}")
            print(f"  {'class':10s}" + "".join(f"{r:>22s}" for r in o["regions"]))
            cells = {(c["label"], c["region"]): c for c in o["by_class"] if c["fill"] == fill}
            overall = {c["region"]: c for c in o["overall"] if c["fill"] == fill}
            for lab in [*dict.fromkeys(c["label"] for c in o["by_class"]), "all"]:
                row = [overall.get(r) if lab == "all" else cells.get((lab, r)) for r in o["regions"]]
                print(f"  {lab:10s}" + "".join(cell(c) for c in row))
            for attr, recs in o["by_group"].items():
                print(f"  by {attr}:")
                for g in dict.fromkeys(c[attr] for c in recs):
                    row = {c["region"]: c for c in recs if c[attr] == g and c["fill"] == fill}
                    print(f"  {g:10s}" + "".join(cell(row.get(r)) for r in o["regions"]))
        if args.out:
            print(f"\nper-face drops of every class: {args.out}")

    _print(result, args.json, human)
    return 0


def _region_relevance(args: argparse.Namespace) -> int:
    from ..explain import default_method
    from ..studies import region_relevance_study

    loaded, data, aligned, target = _study_inputs(args)
    args.method = args.method or default_method(loaded)
    group_by = _columns(args.group_by)
    study = region_relevance_study(
        loaded,
        data,
        group_by,
        args.method,
        args.regions,
        target,
        aligned,
        limit=args.limit,
        engine=engine_options(args),
        landmarker=args.landmarker,
    )
    if study is None:  # a rank other than 0: rank 0 reports
        return 0
    result = study.to_json(n_boot=args.boot, num_permutations=args.permutations)

    def human(o: dict) -> None:
        print(
            f"{o['model']} ({o['method']}): share of the predicted class's positive relevance per region, "
            f"{o['n_faces']} faces (95% bootstrap CI)"
        )
        for attr, rep in o["attributes"].items():
            print(f"\n{attr}:")
            print(f"  {'group':10s}{'n':>6s}" + "".join(f"{r:>20s}" for r in o["regions"]))
            for c in rep["by_group"]:
                print(
                    f"  {c[attr]:10s}{c['n']:6d}"
                    + "".join(f"{_ci(c[r], c[r + '_lo'], c[r + '_hi']):>20s}" for r in o["regions"])
                )
            t = rep["test"]
            if t.get("p_value") is None:
                print(f"  test: {t.get('reason')}")
            else:
                per = ", ".join(f"{r} {p:.3f}" for r, p in zip(o["regions"], t["region_p_values"]))
                print(
                    f"  groups differ (permutation test within predicted class, {t['num_permutations']} "
                    f"permutations): p = {t['p_value']:.4f}; per region: {per}"
                )

    _print(result, args.json, human)
    return 0


def _localisation(args: argparse.Namespace) -> int:
    from ..studies import localisation_benchmark

    loaded, data, _, target = _study_inputs(args)
    result = localisation_benchmark(
        loaded,
        data,
        _columns([args.methods]),
        limit=args.limit,
        target=target,
        patch=args.patch,
        steps=args.steps,
        fill=args.fill,
        n_boot=args.boot,
        show_progress=not args.json,
    )

    def human(o: dict) -> None:
        s = o["settings"]
        print(
            f"{o['model']}: {o['n_faces']} correctly classified faces with evidence masks (the masks cover "
            f"{o['mask_share']:.0%} of a face on average); region perturbation: patch {s['patch']}, "
            f"{s['steps']} steps, fill {s['fill']}"
        )
        print(
            f"  {'method':34s}{'mass acc.':>10s}{'rank acc.':>10s}{'AOPC MoRF':>11s}{'AOPC LeRF':>11s}"
            f"{'ABPC':>8s}{'|R|/R':>9s}"
        )
        for m in o["methods"]:
            print(
                f"  {m['label']:34s}{m['mass_accuracy']:10.3f}{m['rank_accuracy']:10.3f}{m['aopc_morf']:11.3f}"
                f"{m['aopc_lerf']:11.3f}{m['abpc']:8.3f}{m['cancellation']:9.1f}"
            )

    _print(result, args.json, human)
    return 0


def _compare_transfer(args: argparse.Namespace) -> int:
    from ._transfer import compare_specs, format_report

    cmp = compare_specs(
        [args.model_a, args.model_b],
        data=args.data,
        images=args.images,
        n=args.n,
        method=args.method or "lrp",
        target=args.explain,
        aligned=args.aligned,
        show_progress=not args.json,
    )
    _print(
        cmp.to_json(n_boot=args.boot, num_permutations=args.permutations, faces=args.json),
        args.json,
        lambda o: print(format_report(o)),
    )
    return 0
