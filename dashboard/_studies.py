"""Dataset studies for the pages (occlusion study, region relevance, transfer comparison, the photo-set audit):
each runs a ``fer_core`` study on a run's test set with its own model, or on a manifest with the sidebar model,
and keeps the result in the shared cache of :mod:`dashboard._resources` (studies report progress while they run)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from dashboard._resources import _memo, _stamp, decode, detector, explainer, landmarker_choice, load_model
from fer_core.models import LoadedModel
from fer_core.runs import open_run, run_model_name
from fer_core.studies import OcclusionStudy, RegionRelevanceStudy


def study_target(source: str, model_name: str) -> tuple[LoadedModel, Path, bool | None, str]:
    """(model, manifest, aligned, target column) of a study: a run folder's own model, test set and the column it
    learned (an age model is scored on age), or a manifest file with the sidebar model (faces detected, labels)."""
    if Path(source).is_dir():
        run = open_run(source)
        return study_model(source, model_name), run.test_manifest(), run.aligned, run.target_column
    return study_model(source, model_name), Path(source), None, "label"


def study_model(source: str, model_name: str) -> LoadedModel:
    """The model a study of ``source`` runs: a run folder's own, else ``model_name``; the data are not touched (a
    run's test set is written out on every :func:`study_target` call)."""
    if Path(source).is_dir():
        return load_model(run_model_name(open_run(source)))
    return load_model(model_name)


STUDY_BOOT = 500  # bootstrap draws of the studies' intervals on the pages
RELEVANCE_PERMUTATIONS = 500  # permutations of the region-relevance test on the Fairness page


def occlusion_study(
    source: str,
    model_name: str,
    regions: tuple[str, ...],
    fills: tuple[str, ...],
    group_by: tuple[str, ...],
    limit: int | None,
    progress: Callable[[int, int], None] | None = None,
) -> OcclusionStudy:
    """The study with its tables at ``STUDY_BOOT`` already computed (they are what the page draws and downloads);
    faces are landmarked by the sidebar's choice (``pose_bin`` groups need the mesh, and get it)."""
    from fer_core.studies import occlusion_study as run_study

    landmarker = landmarker_choice()

    def compute() -> OcclusionStudy:
        loaded, manifest, aligned, target = study_target(source, model_name)
        study = run_study(
            loaded,
            manifest,
            regions,
            fills,
            group_by,
            target=target,
            aligned=aligned,
            limit=limit,
            progress=progress,
            landmarker=None if "pose_bin" in group_by else landmarker,
        )
        study.to_json(n_boot=STUDY_BOOT)  # every table, computed once while the progress bar shows
        return study

    key = ("occlusion", source, _stamp(source), model_name, regions, fills, group_by, limit, landmarker)
    return _memo(key, compute)


def region_relevance(
    source: str, attributes: tuple[str, ...], limit: int | None, progress: Callable[[int, int], None] | None = None
) -> RegionRelevanceStudy:
    """The study with, per attribute, its by-group table (``STUDY_BOOT`` draws) and its test already computed."""
    from fer_core.studies import region_relevance_study

    def compute() -> RegionRelevanceStudy:
        loaded, manifest, aligned, _ = study_target(source, "")
        study = region_relevance_study(
            loaded, manifest, list(attributes), aligned=aligned, limit=limit, progress=progress
        )
        for a in attributes:
            study.table(a, by_class=False, n_boot=STUDY_BOOT)
            study.test(a, RELEVANCE_PERMUTATIONS)
        return study

    return _memo(("relevance", source, _stamp(source), attributes, limit), compute)


def transfer_comparison(
    run_a: str,
    run_b: str,
    uploads: tuple[tuple[str, bytes], ...],
    limit: int | None,
    method: str,
    progress: Callable[[int, int], None] | None = None,
):
    """Two runs' heatmaps and region shares on the same faces (uploads, else run A's test set), shared by sessions."""
    from fer_core.studies import compare_models

    def compute():
        names = {Path(f).name: run_model_name(open_run(f)) for f in (run_a, run_b)}
        data, aligned = [decode(*u) for u in uploads], None
        if not uploads:
            _, data, aligned, _ = study_target(run_a, "")
        return compare_models(
            {n: load_model(m) for n, m in names.items()},
            data,
            method=method,
            aligned=aligned,
            limit=limit,
            detector=None if aligned else detector(),
            explainers={n: explainer(m, method) for n, m in names.items()},
            progress=progress,
        )

    key = ("transfer", run_a, _stamp(run_a), run_b, _stamp(run_b), tuple(s for s, _ in uploads), limit, method)
    return _memo(key, compute)


AUDIT_BOOT = 300  # bootstrap draws of the photo-set audit's intervals on the Fairness page
AUDIT_PERMUTATIONS = 200


def photo_set_audit(
    source: str,
    model_name: str,
    group_by: str,
    use_labels: bool,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """``fer-core evaluate SOURCE --group-by COL`` for the page: detection, prediction rates, parity and (with
    labels) accuracy per group, for a run's test set or a manifest with the sidebar model."""
    from fer_core.workflows import evaluate_manifest

    def compute() -> dict:
        loaded, manifest, aligned, target = study_target(source, model_name)
        return evaluate_manifest(
            loaded,
            manifest,
            group_by=(group_by,),
            target=target,
            aligned=aligned,
            n_boot=AUDIT_BOOT,
            num_permutations=AUDIT_PERMUTATIONS,
            progress=progress,
            use_labels=use_labels,
        )

    return _memo(("audit", source, _stamp(source), model_name, group_by, use_labels), compute)


def manifest_columns(source: str) -> list[str]:
    """Columns of a manifest (or a run's test set) a user may group by: not paths, labels or per-face values."""
    from fer_core.data import read_manifest

    path = open_run(source).test_manifest() if Path(source).is_dir() else Path(source)
    skip = {
        "path",
        "label",
        "label_set",
        "aus",
        "intensities",
        "mask_path",
        "landmarks",
        "true_label",
        "split",
        "subject",
    }
    return [c for c in read_manifest(path).columns if c not in skip]
