"""``fer-core evaluate`` and ``fer-core probe identity``: how well a model or run does on a labelled manifest, and
how much of a person's identity its features carry."""

from __future__ import annotations

import argparse
from pathlib import Path

from ._common import _add_engine, _add_landmarker, _add_model, _columns, _print, _resolve_model, engine_options

COMMANDS = ("evaluate", "probe")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``evaluate`` and ``probe identity``."""
    p = subparsers.add_parser(
        "evaluate", help="accuracy, macro-F1 and per-group fairness of a model or run on a manifest"
    )
    p.add_argument(
        "target",
        nargs="?",
        help="a run folder, a registered model name or a .safetensors checkpoint (default: --model)",
    )
    _add_model(p)
    p.add_argument(
        "--data",
        required=True,
        help="manifest (.csv/.parquet); paths relative to its folder or absolute; labels optional (without them: "
        "the label-free audit)",
    )
    p.add_argument(
        "--group-by",
        action="append",
        metavar="COL",
        help="sensitive attribute column(s) for the fairness report (repeat or comma-separate); pose_bin groups "
        "faces by head pose (frontal, left, right, up, down) measured by the 468-point mesh",
    )
    p.add_argument("--target-column", help="column with the true class (default: label, or the run's data.target)")
    p.add_argument(
        "--aligned",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="images are aligned face crops, resized only (default: the run's setting, else detect)",
    )
    p.add_argument("--boot", type=int, default=200, help="bootstrap resamples for the intervals (default 200)")
    p.add_argument("--permutations", type=int, default=200, help="MMD permutation-test permutations (default 200)")
    p.add_argument("--json", action="store_true")
    _add_landmarker(p, dataset=True)
    _add_engine(p)

    probe = subparsers.add_parser("probe", help="linear probes on a model's frozen features").add_subparsers(
        dest="probe_command", required=True
    )
    p = probe.add_parser("identity", help="how well a linear probe names the subject (identity leakage, METHODS 2.3)")
    p.add_argument("target", nargs="?", help="a run folder or a model name / checkpoint (default: --model)")
    _add_model(p)
    p.add_argument("--data", required=True, help="manifest with a subject column")
    p.add_argument("--subject-column", default="subject")
    p.add_argument("--folds", type=int, default=3, help="cross-validation folds (default 3)")
    p.add_argument(
        "--aligned",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="images are aligned face crops (default: the run's setting, else detect)",
    )
    p.add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    """Run ``args.command`` (one of :data:`COMMANDS`; ``probe`` has the one sub-command ``identity``)."""
    if args.command == "probe":
        return {"identity": _probe_identity}[args.probe_command](args)
    return _evaluate(args)


def _evaluate(args: argparse.Namespace) -> int:
    from ..fairness import audit_summary, fairness_summary
    from ..workflows import evaluate_manifest

    loaded, aligned, target = _resolve_model(args)
    if args.aligned is not None:
        aligned = args.aligned
    group_by = _columns(args.group_by)
    result = evaluate_manifest(
        loaded,
        args.data,
        group_by=group_by,
        target=args.target_column or target,
        aligned=aligned,
        n_boot=args.boot,
        num_permutations=args.permutations,
        engine=engine_options(args),
        landmarker=args.landmarker,
    )
    if result is None:  # a rank other than 0: rank 0 reports
        return 0

    def human(o: dict) -> None:
        d = o["detection"]
        print(
            f"{o['n']} rows: {d['detected']} faces detected, {d['crop']} used as crops (small images, not detected), "
            f"{d['no_face']} without a face, {d['unreadable']} unreadable; {o['n_labelled']} labelled faces"
        )
        if o["accuracy"] is not None:
            print(f"accuracy {o['accuracy']}, macro-F1 {o['macro_f1']}")
        for lab, m in o["per_class"].items():
            print(f"  {lab:10s} n={m['n']:4d} P={m['precision']:.2f} R={m['recall']:.2f} F1={m['f1']:.2f}")
        for attr, rep in o.get("audit", {}).items():
            print("\n".join(audit_summary(attr, rep, o["intervals"]["resampled"])))
        for attr, rep in o.get("fairness", {}).items():
            print("\n".join(fairness_summary(attr, rep)))

    _print(result, args.json, human)
    return 0


def _probe_identity(args: argparse.Namespace) -> int:
    import numpy as np

    from ..data import ManifestScan, read_manifest, resolve_paths
    from ..face import default_detector
    from ..fairness import probe_accuracy
    from ..workflows import embed_crops

    loaded, aligned, _ = _resolve_model(args)
    if args.aligned is not None:
        aligned = args.aligned
    table = read_manifest(args.data)
    if args.subject_column not in table:
        raise ValueError(f"manifest {args.data} has no column {args.subject_column!r} (the identity to probe)")
    root = Path(args.data).parent
    scan = ManifestScan(
        table=table,
        paths=list(resolve_paths(table, root)),
        truth=np.zeros(len(table), np.int64),
        loaded=loaded,
        aligned=bool(aligned),
        detector=None if aligned else default_detector(),
        root=root,
    )
    rows, embs = [], []
    for part in scan.chunks(256, not args.json):
        _, e = embed_crops(loaded, part.crops)
        if e is None:
            raise ValueError(f"model {loaded.name} exposes no embedding (forward_features / forward_head)")
        rows.append(part.rows)
        embs.append(e)
    if not rows:
        raise ValueError(f"no face found in {args.data}")
    idx = np.concatenate(rows)
    result = probe_accuracy(
        np.concatenate(embs), table[args.subject_column].astype(str).to_numpy()[idx], folds=args.folds
    )
    result |= {
        "model": loaded.name,
        "faces": int(len(idx)),
        "n_rows": len(table),
        "subjects": int(table[args.subject_column].nunique()),
    }
    _print(
        result,
        args.json,
        lambda o: print(
            f"{o['model']}: a linear probe names the subject of {o['faces']} faces ({o['subjects']} subjects) with "
            f"out-of-fold accuracy {o['accuracy']:.3f} (chance {o['chance']:.3f}); lower = less identity in the "
            f"features"
        ),
    )
    return 0
