"""The shortcut claim (``fer-core claim shortcut``): the explanation atlas finds a model that learned a mark instead of
the face, and finds nothing in a model trained on the same faces without it.

A magenta square (:mod:`fer_core.data.shortcut`) is planted on 30 % of the "surprise" faces of a SynthFACS training
set and of its test set. Per seed, one model trains on the marked faces and one on the same faces unmarked (the
same seed, the same config); both are mapped on the marked test set. Per run: the flagged cluster that best matches
the planted faces (precision, recall, F1 of its rows against them; 0 when nothing is flagged), and the mark's
concept: the channel of the deepest concept layer whose conditional heatmaps carry the most relevance inside the
mark on the marked faces, with its rank among the class's top concepts on those faces.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..runs import SHIPPED_CONFIGS_DIR, open_run
from .claim_stats import SeedCheck
from .claims import DEFAULT_SEEDS, _config, _pinned_pool, _result, _train_all
from .config import load_config

__all__ = ["shortcut_claim", "shortcut_checks", "mark_concept", "SHORTCUT_CONFIG", "SHORTCUT_LABEL"]

SHORTCUT_CONFIG = SHIPPED_CONFIGS_DIR / "synthfacs_shortcut.yaml"
SHORTCUT_LABEL = "surprise"
MARKED_FRACTION = 0.3
KEYS = ("accuracy", "precision", "recall", "f1", "n_flagged", "mark_concept_rank", "mark_concept_share")


def _marked_sets(out: Path, cfg: Any) -> dict[str, Path]:
    """The training and test manifests, plain and marked (the mark drawn once, by fixed seeds)."""
    from ..data.shortcut import write_marked_dataset
    from ..data.sources import materialize

    train = materialize(cfg.data.manifest, cfg.data.cache_dir)
    test = materialize(cfg.data.test_manifest, cfg.data.cache_dir)
    return {
        "train": train,
        "train_marked": write_marked_dataset(
            train, out / "shortcut_data" / "train", SHORTCUT_LABEL, MARKED_FRACTION, 0
        ),
        "test_marked": write_marked_dataset(test, out / "shortcut_data" / "test", SHORTCUT_LABEL, MARKED_FRACTION, 1),
    }


def mark_concept(explainer: Any, images: Any, target: int, layer: str, mark_mask: np.ndarray) -> tuple[int, np.ndarray]:
    """(channel, relevance inside the mark per channel): the concept whose conditional heatmaps, summed over the
    marked faces ``images``, put the most relevance on the mark's pixels."""
    from ..explain.concepts import concept_layers, conditional_heatmaps

    channels = next(c.channels for c in concept_layers(explainer) if c.name == layer)
    inside = np.zeros(channels)
    for start in range(0, len(images), 16):
        heat = conditional_heatmaps(explainer, images[start : start + 16], target, list(range(channels)), layer)
        inside += (heat.sum(2).numpy() * mark_mask[None, None]).sum((0, 2, 3))
    return int(np.argmax(inside)), inside


def _figures(folder: Path, test_marked: Path) -> dict[str, Any]:
    from ..data.manifest import read_manifest, resolve_paths
    from ..data.shortcut import MARK_COLUMN, Mark
    from ..explain import create_explainer
    from ..face.io import load_image
    from ..models.preprocess import to_model_input
    from ..studies.atlas import explanation_atlas

    run = open_run(folder)
    loaded = run.model()
    atlas = explanation_atlas(
        loaded, test_marked, SHORTCUT_LABEL, group_by=["age", "skin_tone", "gender"], aligned=True
    )
    table = read_manifest(test_marked)
    planted = set(np.flatnonzero(table[MARK_COLUMN].astype(str).to_numpy() == "yes").tolist())
    planted_here = planted & set(atlas.faces["row"].tolist())
    best = {"precision": 0.0, "recall": 0.0, "f1": 0.0, "cluster": None}
    for c in atlas.flagged:
        hit = len(set(c.rows) & planted)
        p, r = hit / c.size, hit / max(1, len(planted_here))
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        if f1 > best["f1"]:
            best = {"precision": p, "recall": r, "f1": f1, "cluster": c.id}
    rows = sorted(planted_here)
    explainer = create_explainer("lrp", loaded.model, loaded.card)
    crops = [load_image(p) for p in resolve_paths(table.iloc[rows], test_marked.parent)]
    x = to_model_input(crops, loaded.card)
    k = list(loaded.card.label_names).index(SHORTCUT_LABEL)
    channel, inside = mark_concept(explainer, x, k, atlas.layer, Mark().mask(x.shape[-1], x.shape[-2]))
    ranking = [c for c, _ in atlas.top_concepts(len(inside), rows)]
    return {
        "run": str(folder),
        "accuracy": run.evaluation()["overall"]["accuracy"],
        "faces": len(atlas.faces),
        "planted_faces": len(planted_here),
        "clusters": len(atlas.clusters),
        "n_flagged": len(atlas.flagged),
        "cluster": best["cluster"],
        "precision": round(best["precision"], 4),
        "recall": round(best["recall"], 4),
        "f1": round(best["f1"], 4),
        "mark_concept": channel,
        "mark_concept_rank": ranking.index(channel) + 1,
        "mark_concept_share": round(float(inside[channel] / max(np.clip(inside, 0, None).sum(), 1e-12)), 4),
    }


def _figures_job(folder: str, test_marked: str) -> dict[str, Any]:
    """One run's figures (a process-pool task: arguments and result are plain data)."""
    return _figures(Path(folder), Path(test_marked))


def _map_all(folders: dict[Any, str], test_marked: str, workers: int | None) -> dict[Any, dict[str, Any]]:
    """Every run's atlas figures, ``workers`` runs at a time in fresh processes with pinned numerics."""
    with _pinned_pool(workers, len(folders)) as pool:
        futures = {k: pool.submit(_figures_job, f, test_marked) for k, f in folders.items()}
        return {k: f.result() for k, f in futures.items()}


def shortcut_checks(figures: dict[str, dict[int, dict[str, Any]]]) -> list[SeedCheck]:
    """The claim's checks on per-seed figures (``figures[variant][seed][key]``), decided on the mean over seeds."""
    marked, clean = figures["marked"], figures["clean"]
    return [
        SeedCheck(
            "the atlas isolates the marked faces in a flagged cluster (F1 >= 0.8)",
            "F1 of the best flagged cluster against the planted faces, marked model",
            {s: v["f1"] for s, v in marked.items()},
            ">=",
            0.8,
        ),
        SeedCheck(
            "the mark's concept is among the class's top 5 concepts on the marked faces",
            "rank of the mark's concept, marked model",
            {s: v["mark_concept_rank"] for s, v in marked.items()},
            "<=",
            5.0,
        ),
        SeedCheck(
            "the clean model shows no flagged cluster of the marked faces (F1 < 0.3)",
            "F1 of the best flagged cluster against the planted faces, clean model",
            {s: v["f1"] for s, v in clean.items()},
            "<",
            0.3,
        ),
    ]


def shortcut_claim(
    out_dir: str | Path = "runs",
    reuse: bool = True,
    overrides: list[str] | None = None,
    seeds: Sequence[int] = DEFAULT_SEEDS,
    workers: int | None = None,
    on_done: Callable[[Any], None] | None = None,
) -> dict[str, Any]:
    """Train (or reuse) the marked and the clean model once per seed, map both on the marked test set and decide
    the claim on the mean over seeds (:func:`shortcut_checks`)."""
    out = Path(out_dir)
    sets = _marked_sets(out, load_config(SHORTCUT_CONFIG, list(overrides or [])))
    variants = {
        "marked": [f"data.manifest={sets['train_marked']}", f"data.test_manifest={sets['test_marked']}"],
        "clean": [f"data.manifest={sets['train']}", f"data.test_manifest={sets['test_marked']}"],
    }
    jobs = {
        (v, s): _config(SHORTCUT_CONFIG, s, out, f"synthfacs_shortcut_{v}_seed{s}", extra, overrides)
        for s in seeds
        for v, extra in variants.items()
    }
    folders = _train_all(jobs, reuse, workers, on_done)
    mapped = _map_all({key: str(folder) for key, folder in folders.items()}, str(sets["test_marked"]), workers)
    figures = {v: {s: mapped[(v, s)] for s in seeds} for v in variants}
    return _result(
        "shortcut",
        seeds,
        figures,
        KEYS,
        shortcut_checks(figures),
        label=SHORTCUT_LABEL,
        marked_fraction=MARKED_FRACTION,
    )
