"""The labelling loop on the command line: ``pseudo-label`` proposes labels into the review store, ``review``
exports what people accepted and shows their progress, ``agreement`` measures raters (and models) against each
other."""

from __future__ import annotations

import argparse

from ._common import _add_engine, _add_model, _print, _resolve_model, engine_options

COMMANDS = ("pseudo-label", "review", "agreement")
_DB_HELP = "store (default $FER_CORE_DB or the cache's store.sqlite)"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``pseudo-label``, ``review export``, ``review status`` and ``agreement``."""
    p = subparsers.add_parser(
        "pseudo-label", help="propose labels for an unlabelled face pool and queue them for review"
    )
    p.add_argument(
        "target",
        nargs="?",
        help="the proposing run folder (its thresholds.json is used) or a model name / checkpoint (default: --model)",
    )
    _add_model(p)
    p.add_argument(
        "--pool",
        required=True,
        help="folder of face images, or a manifest (its labels, if any, are kept as truth to measure the proposals)",
    )
    p.add_argument("--batch", required=True, help="name of the new batch in the review store")
    p.add_argument(
        "--db", help="store: SQLite file or SQLAlchemy URL (default $FER_CORE_DB or the cache's store.sqlite)"
    )
    p.add_argument("--tau", type=float, help="fixed threshold for every class instead of the run's / DTM's")
    p.add_argument(
        "--aligned",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="the pool's images are aligned face crops (default: the run's setting, else detect)",
    )
    p.add_argument("--reviews-per-item", type=int, default=1, help="distinct annotators per item (2+ for kappa)")
    p.add_argument("--limit", type=int, help="only the first N images")
    p.add_argument("--json", action="store_true")
    _add_engine(p)
    p.set_defaults(target_column=None)

    review = subparsers.add_parser("review", help="the pseudo-label review store").add_subparsers(
        dest="review_command", required=True
    )
    p = review.add_parser("export", help="the reviewed labels of a batch as a canonical manifest")
    p.add_argument("batch")
    p.add_argument("--out", required=True, help="manifest to write (.csv)")
    p.add_argument("--db", help=_DB_HELP)
    p.add_argument("--min-reviews", type=int, help="items need at least this many reviews (default: the batch's)")
    p.add_argument("--json", action="store_true")
    p = review.add_parser("status", help="batches, or one batch's progress and annotator agreement (Cohen's kappa)")
    p.add_argument("batch", nargs="?")
    p.add_argument("--db", help=_DB_HELP)
    p.add_argument("--json", action="store_true")

    p = subparsers.add_parser(
        "agreement",
        help="EmoNet-40 rater agreement: kappa per emotion, human alpha, could a model be an annotator (METHODS 4.4)",
    )
    p.add_argument("ratings", help="long csv: image, emotion, annotator, rating (0-7, 0 = not present)")
    p.add_argument(
        "--model-ratings",
        metavar="NAME=CSV",
        nargs="+",
        action="extend",
        default=[],
        help="a model's 0-7 outputs (long: image, emotion, rating; or wide: image + one column per emotion)",
    )
    p.add_argument("--boot", type=int, default=1000, help="bootstrap resamples for the CIs (default 1000)")
    p.add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    """Run ``args.command`` (one of :data:`COMMANDS`; ``review`` by its sub-command)."""
    if args.command == "review":
        return {"export": _review_export, "status": _review_status}[args.review_command](args)
    return {"pseudo-label": _pseudo_label, "agreement": _agreement}[args.command](args)


def _pseudo_label(args: argparse.Namespace) -> int:
    from ..runs import is_run_dir
    from ..store import Store
    from ..workflows import pseudo_label_batch

    loaded, _, target = _resolve_model(args)
    with Store.open(args.db) as store:
        new = pseudo_label_batch(
            store,
            args.batch,
            loaded,
            args.pool,
            run_folder=args.target if args.target and is_run_dir(args.target) else None,
            tau=args.tau,
            aligned=args.aligned,
            target=target,
            reviews_per_item=args.reviews_per_item,
            limit=args.limit,
            engine=engine_options(args),
        )
    if new is None:  # a rank other than 0: rank 0 writes the batch
        return 0
    _print(new.summary(), args.json, lambda o: print("\n".join(new.summary_lines())))
    return 0


def _review_export(args: argparse.Namespace) -> int:
    from ..store import Store

    with Store.open(args.db) as store:
        path = store.export_manifest(args.batch, args.out, min_reviews=args.min_reviews)
        progress = store.progress(args.batch)
    import pandas as pd

    table = pd.read_csv(path)
    result = {
        "batch": args.batch,
        "manifest": str(path),
        "rows": len(table),
        "reviewed_items": progress.num_done,
        "items": progress.num_items,
        "labels": table["label"].value_counts().to_dict(),
    }
    _print(
        result,
        args.json,
        lambda o: print(
            f"wrote {o['manifest']}: {o['rows']} reviewed labels ({o['reviewed_items']} of {o['items']} items done; "
            f"rejected items left out). Train on it with data.extra_manifests: [{o['manifest']}]"
        ),
    )
    return 0


def _review_status(args: argparse.Namespace) -> int:
    from ..store import Store

    with Store.open(args.db) as store:
        if not args.batch:
            batches = store.list_batches()
            _print(
                {"batches": batches.to_dict("records")},
                args.json,
                lambda o: print(batches.to_string(index=False) if len(batches) else "no batches yet"),
            )
            return 0
        p = store.progress(args.batch)
        agreement = store.agreement(args.batch)
    result = {
        "batch": p.batch,
        "items": p.num_items,
        "done": p.num_done,
        "reviews": p.num_reviews,
        "claimed_now": p.num_claimed,
        "per_minute": round(p.per_minute, 2),
        "by_reviewer": p.by_reviewer.to_dict("records"),
        "agreement": agreement.to_dict("records"),
    }

    def human(o: dict) -> None:
        print(
            f"{o['batch']}: {o['done']} of {o['items']} items done, {o['reviews']} decisions, "
            f"{o['per_minute']:.1f} per minute lately"
        )
        if len(p.by_reviewer):
            print(p.by_reviewer.to_string(index=False))
        if len(agreement):
            print(agreement.to_string(index=False))

    _print(result, args.json, human)
    return 0


def _agreement(args: argparse.Namespace) -> int:
    from ..agreement import format_report, report_from_files

    report = report_from_files(args.ratings, args.model_ratings, n_boot=args.boot, progress=not args.json)
    _print(report.to_json(), args.json, lambda o: print(format_report(report)))
    return 0
