"""The run-level parts of a report: which run, its config in a few lines, its fairness report on the test set, and
the planted-truth localisation benchmark when the test set is SynthFACS (evidence masks known)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from .._utils.bootstrap import cluster_ids
from .._utils.progress import ProgressFn
from ..errors import FerCoreError
from ..fairness.report import fairness_report
from ..models import DEFAULT_MODEL, LoadedModel, load_model
from ..runs import RunFolder, is_run_dir, list_runs, open_run, register_run_models, run_model_name
from ..studies import localisation_benchmark
from .data import FairnessSection, LocalisationSection, RunSummary
from .inputs import ReportError

__all__ = ["fairness_section", "localisation_section", "resolve_model", "resolve_run", "run_summary"]

logger = logging.getLogger(__name__)

MSG_UNKNOWN_RUN = "unknown run {run!r}: not a run folder, and no run of that name{known}"
MSG_NO_PREDICTIONS = "run {name} has no test predictions yet (status: {status}), so no labelled test set was given"
MSG_NO_MASKS = "the run's test set has no evidence masks (column {column!r}); only SynthFACS draws them"


def resolve_run(run: str | Path | RunFolder | None, model: str | LoadedModel | None = None) -> RunFolder | None:
    """The run a report covers: ``run`` (a run folder, or the name of a run in the runs folder or the shipped demo
    runs), else the run whose model ``model`` is (``run:<name>`` or a checkpoint inside a run folder), else None.

    Parameters
    ----------
    run
        A run folder, its path, or a run's name (``run:`` prefix allowed); None or blank to go by ``model``.
    model
        The explained model, or its name; used only when ``run`` is not given.

    Returns
    -------
    RunFolder or None
        The run, or None when the report covers no run (a registered model, a loose checkpoint).

    Raises
    ------
    ReportError
        If ``run`` names neither a run folder nor a known run.
    """
    if isinstance(run, RunFolder):
        return run
    if run is not None and str(run).strip():
        if is_run_dir(run):
            return open_run(run)
        name = str(run).removeprefix("run:")
        for info in list_runs():
            if info.name == name:
                return info
        names = sorted({r.name for r in list_runs()})
        known = f"; known runs: {', '.join(names)}" if names else ""
        raise ReportError(MSG_UNKNOWN_RUN.format(run=str(run), known=known))
    name = model.name if isinstance(model, LoadedModel) else (str(model) if model else "")
    if name.startswith("run:"):
        return next((r for r in list_runs() if run_model_name(r) == name), None)
    if name.endswith(".safetensors") and is_run_dir(Path(name).parent):
        return open_run(Path(name).parent)
    return None


def resolve_model(model: str | Path | LoadedModel | None, run: RunFolder | None) -> LoadedModel:
    """The model a report explains: ``model`` as given (a LoadedModel, a registered name, ``run:<name>`` or a
    checkpoint), else the run's own model, else the default FER2013 model."""
    if isinstance(model, LoadedModel):
        return model
    if model is None or not str(model).strip():
        if run is None:
            return load_model(DEFAULT_MODEL)
        return replace(run.model(), name=run_model_name(run))  # named as in the dashboard's model picker
    if str(model).startswith("run:"):
        register_run_models()  # makes run:<name> loadable (runs folder and shipped demo runs)
    return load_model(model)


def is_runs_model(loaded: LoadedModel, run: RunFolder) -> bool:
    """Whether the explained model is the run's own model (its card names the run)."""
    return loaded.name in (run.name, run_model_name(run)) or loaded.card.extra.get("run") == run.name


def describe_source(value: Any) -> str:
    """A data source in words: a SynthFACS spec (size, seed, planted biases) or a manifest path."""
    if isinstance(value, dict) and isinstance(value.get("synthfacs"), dict):
        spec = value["synthfacs"]
        text = f"SynthFACS, {spec.get('n', '?')} rendered faces"
        if spec.get("size"):
            text += f" at {spec['size']} px"
        if spec.get("seed") is not None:
            text += f" (seed {spec['seed']})"
        biases = [
            f"{b.get('attribute')} = {b.get('group')} → {b.get('label')} (strength {b.get('strength')})"
            for b in spec.get("bias") or []
            if isinstance(b, dict)
        ]
        return text + (f"; planted bias: {'; '.join(biases)}" if biases else "")
    if value is None or value == "":
        return "–"
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _words(value: Any) -> str:
    return ", ".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)


def run_summary(run: RunFolder) -> RunSummary:
    """Name, recipe, status, test figures and a dozen config lines of a run."""
    cfg, status = run.config, run.status
    data, model, optim, fair = (cfg.get(k) or {} for k in ("data", "model", "optim", "fair"))
    sensitive = data.get("sensitive")
    rows = [
        ("training data", describe_source(data.get("manifest"))),
        (
            "test data",
            describe_source(data.get("test_manifest"))
            if data.get("test_manifest")
            else f"held-out split of the training data ({data.get('test_fraction', '?')})",
        ),
        ("target", str(data.get("target", "label"))),
        ("sensitive attributes", ", ".join(sensitive) if isinstance(sensitive, list) else str(sensitive or "–")),
        (
            "architecture",
            f"{model.get('arch', '?')}, {model.get('input_size', '?')} px input"
            + "".join(f", {k} {_words(v)}" for k, v in (model.get("arch_kwargs") or {}).items()),
        ),
        (
            "training",
            f"{optim.get('epochs', '?')} epochs, batch {optim.get('batch_size', '?')}, "
            f"learning rate {optim.get('lr', '?')} ({optim.get('schedule', '?')})",
        ),
        ("seed", str((cfg.get("trainer") or {}).get("seed", "?"))),
    ]
    if cfg.get("recipe") == "fair_mmd":
        on = fair.get("attributes") or "the first sensitive attribute"
        rows.append(
            (
                "fairness terms",
                f"MMD weight {fair.get('lambda_mmd')}, adversary weight {fair.get('lambda_adv')}, on {on}",
            )
        )
    test = status.get("test") or {}
    return RunSummary(
        name=run.name,
        folder=str(run.folder),
        model_name=run_model_name(run),
        recipe=str(cfg.get("recipe") or status.get("recipe") or "?"),
        status=str(status.get("status", "?")),
        config_rows=rows,
        test_accuracy=test.get("accuracy"),
        test_macro_f1=test.get("macro_f1"),
    )


def _sensitive(run: RunFolder, columns: Sequence[str], attributes: Sequence[str] | None) -> list[str]:
    wanted = attributes if attributes is not None else (run.config.get("data") or {}).get("sensitive") or []
    wanted = [wanted] if isinstance(wanted, str) else list(wanted)
    return [a for a in wanted if a in columns]


def fairness_section(
    run: RunFolder,
    attributes: Sequence[str] | None = None,
    n_boot: int = 200,
    num_permutations: int = 200,
    reuse_evaluation: bool = True,
) -> FairnessSection:
    """Per-group accuracy (bootstrap intervals), gaps and MMD between groups' embeddings (permutation p-values) on
    the run's test predictions, as :func:`fer_core.fairness.report.fairness_report` computes them.

    With ``reuse_evaluation`` the run's ``evaluation.json`` is used when it covers the same rows and attributes:
    training wrote it with that same function on the same predictions and embeddings, so the figures are identical
    and the Fairness page shows the same numbers. Otherwise the report is computed now.
    """
    if not run.has(RunFolder.PREDICTIONS):
        return FairnessSection(
            run.name, reason=MSG_NO_PREDICTIONS.format(name=run.name, status=run.status.get("status"))
        )
    preds = run.predictions()
    cols = _sensitive(run, preds.columns, attributes)
    if reuse_evaluation and run.has(RunFolder.EVALUATION):
        ev = run.evaluation()
        if ev.get("n") == len(preds) and all(a in ev.get("attributes", {}) for a in cols):
            return FairnessSection(
                run.name, RunFolder.EVALUATION, ev | {"attributes": {a: ev["attributes"][a] for a in cols}}
            )
    labels = [c[2:] for c in preds.columns if c.startswith("p_")]
    emb = run.embeddings() if run.has(RunFolder.EMBEDDINGS) else None
    seed = int((run.config.get("trainer") or {}).get("seed", 0) or 0)
    clusters, kind = cluster_ids(preds)
    try:
        report = fairness_report(
            preds["target"],
            preds["pred"],
            labels,
            preds[cols],
            emb,
            n_boot=n_boot,
            num_permutations=num_permutations,
            seed=seed,
            clusters=clusters,
            cluster_kind=kind,
        )
    except (FerCoreError, ValueError, KeyError) as exc:
        return FairnessSection(run.name, reason=f"the fairness report failed on run {run.name}: {exc}")
    return FairnessSection(run.name, "computed", report)


def localisation_section(
    run: RunFolder,
    loaded: LoadedModel | None = None,
    methods: Sequence[str] = ("lrp", "random"),
    limit: int = 64,
    mask_column: str = "mask_path",
    progress: ProgressFn | None = None,
) -> LocalisationSection:
    """Relevance mass accuracy (and the benchmark's other figures) of ``methods`` inside SynthFACS's planted evidence
    masks, on at most ``limit`` test faces of the run, with the run's own model (``loaded`` if it is that model).
    Returns the reason instead when the test set has no evidence masks or the benchmark cannot run."""
    import pandas as pd

    if limit <= 0:
        return LocalisationSection(run.name, reason="the planted-truth check was switched off")
    try:
        manifest = run.test_manifest()
        columns = (
            pd.read_csv(manifest, nrows=0).columns
            if manifest.suffix.lower() == ".csv"
            else pd.read_parquet(manifest).columns
        )
        if mask_column not in columns:
            return LocalisationSection(run.name, reason=MSG_NO_MASKS.format(column=mask_column))
        model = loaded if loaded is not None and is_runs_model(loaded, run) else run.model()
        target = (run.config.get("data") or {}).get("target", "label")
        result = localisation_benchmark(
            model, manifest, list(methods), limit=limit, mask_column=mask_column, target=target, progress=progress
        )
    except (FerCoreError, ValueError, OSError) as exc:
        logger.info("localisation benchmark skipped for run %s: %s", run.name, exc)
        return LocalisationSection(run.name, reason=str(exc))
    return LocalisationSection(run.name, result=result)
