"""One plain-language paragraph per report section, for readers who will not read the tables (plain text; the
renderer escapes it)."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np

from ..models import ModelCard
from .audit import describe_source
from .data import ReportData

__all__ = [
    "fairness_summary",
    "faces_summary",
    "faithfulness_summary",
    "model_summary",
    "occlusion_summary",
    "training_data_text",
]

FILL_WORDS = {"mean": "the face's average colour", "blur": "a heavy blur", "noise": "random noise", "black": "black"}


def _points(v: float) -> str:
    """A probability change in words: '12 percentage points', 'less than one percentage point'."""
    points = round(abs(v) * 100)
    return "less than one percentage point" if points == 0 else f"{points} percentage point{'s' if points != 1 else ''}"


def _signed_points(v: float) -> str:
    return _points(v) if round(abs(v) * 100) == 0 else f"{'+' if v > 0 else '−'}{_points(v)}"


def training_data_text(card: ModelCard) -> str:
    """The card's training data in words (a run's card stores its data source as JSON)."""
    text = card.training_data
    if text.startswith("{"):
        try:
            return describe_source(json.loads(text))
        except ValueError:
            pass
    return text


def model_summary(data: ReportData) -> str:
    card = data.card
    h, w = card.input_size
    colour = "grey" if card.in_chans == 1 else "colour"
    text = (
        f"The model {data.model_name} is a {card.arch} network ({data.num_parameters:,} parameters). It looks at "
        f"a {w} × {h} pixel {colour} crop of each face and gives a probability for each of {card.num_classes} "
        f"expressions: {', '.join(card.label_names)}."
    )
    if card.training_data:
        text += f" It was trained on {training_data_text(card)}."
    if data.run is not None:
        text += f" The report also covers the training run {data.run.name} (recipe {data.run.recipe})"
        text += (
            f", which scored {data.run.test_accuracy:.1%} accuracy on its own test set."
            if data.run.test_accuracy is not None
            else "."
        )
    return text


def faces_summary(data: ReportData) -> str:
    n = len(data.faces)
    preds = Counter(f.pred for f in data.faces)
    said = ", ".join(f"{label} for {k} face{'s' if k != 1 else ''}" for label, k in preds.most_common())
    regions = Counter(
        max(f.result.region_share().items(), key=lambda kv: kv[1])[0]
        for f in data.faces
        if not f.result.mostly_negative()  # an all-blue map names no region
    )
    if regions:
        where, where_n = regions.most_common(1)[0]
        found = f"the strongest evidence lay around the {where.replace('_', ' ')} in {where_n} of {n} faces"
    else:
        found = "no region held evidence for it: the maps were almost all blue"
    text = (
        f"We analysed {n} face{'s' if n != 1 else ''} from the images supplied. The model said {said}. "
        f"In the heatmaps red marks the pixels that pushed the model towards a class and "
        f"blue the pixels that pushed it away; for the predicted class {found}."
    )
    if data.skipped:
        text += f" {len(data.skipped)} input{'s were' if len(data.skipped) != 1 else ' was'} not used (listed below)."
    return text


def occlusion_summary(data: ReportData) -> str:
    mean = data.occlusion_mean()
    worst = min(mean, key=mean.get)
    least = min(mean, key=lambda r: abs(mean[r]))
    fill = FILL_WORDS.get(data.fill, data.fill)
    if mean[worst] >= -0.01:
        return (
            f"Hiding single face regions (replaced by {fill}) hardly changed the predictions: no region moved the "
            f"predicted expression's probability by more than one point on average. The model's decision does not "
            f"hinge on any one of {', '.join(data.regions)} for these faces."
        )
    return (
        f"We hid one face region at a time (replaced by {fill}) and measured how much the model's confidence in "
        f"its own prediction changed. Hiding the {worst} mattered most: confidence fell by {_points(mean[worst])} "
        f"on average. Hiding the {least} mattered least ({_signed_points(mean[least])}). A large drop means "
        f"the model relies on that part of the face."
    )


def fairness_summary(data: ReportData) -> str:
    section = data.fairness
    if section is None or section.report is None:
        reason = section.reason if section is not None and section.reason else None
        return (
            "No labelled test set was given (pass --run with a training run), so fairness across demographic "
            "groups could not be measured."
            if reason is None
            else f"Fairness could not be measured: {reason}."
        )
    rep = section.report
    overall = rep.get("overall") or {}
    text = (
        f"On the run's test set of {rep.get('n', 0):,} labelled faces the model was right "
        f"{overall.get('accuracy', float('nan')):.1%} of the time."
    )
    for attr, entry in rep.get("attributes", {}).items():
        by = entry["by_group"]
        worst = min(by, key=lambda g: by[g]["accuracy"])
        best = max(by, key=lambda g: by[g]["accuracy"])
        ci = (entry.get("bootstrap") or {}).get("accuracy") or {}
        lo_best, hi_worst = (ci.get(best) or [None])[0], (ci.get(worst) or [None, None])[1]
        apart = lo_best is not None and hi_worst is not None and hi_worst < lo_best
        text += (
            f" By {attr}, the worst-served group ({worst}) reached {by[worst]['accuracy']:.1%} against "
            f"{by[best]['accuracy']:.1%} for {best}, a gap of {entry['accuracy_gap'] * 100:.1f} points"
            + (
                " (their 95% intervals do not overlap: unlikely to be chance)."
                if apart
                else " (their 95% intervals overlap: it may be chance)."
            )
        )
        mmd = entry.get("mmd") or {}
        tested = [p for p in mmd.get("pairs", []) if p.get("p_value") is not None]
        if tested:
            differ = sum(p["p_value"] < 0.05 for p in tested)
            text += (
                f" The model's internal features tell {attr} groups apart in {differ} of {len(tested)} "
                f"pair{'s' if len(tested) != 1 else ''} "
                f"(MMD test, p < 0.05)."
                if differ
                else f" The model's internal features do not measurably differ between {attr} groups."
            )
    if not rep.get("attributes"):
        text += " The run recorded no sensitive attribute, so no group comparison is possible."
    return text


def faithfulness_summary(data: ReportData) -> str:
    morf = np.array([f.faithfulness["aopc"]["most relevant first"] for f in data.faces])
    rand = np.array([f.faithfulness["aopc"]["random order"] for f in data.faces])
    better = int((morf > rand).sum())
    text = (
        f"A heatmap is only useful if it points at what the model really uses. Removing the pixels the heatmap "
        f"marks as most important first lowered the prediction faster than removing random pixels for {better} "
        f"of {len(data.faces)} faces (average probability drop {morf.mean():.2f} versus {rand.mean():.2f})."
    )
    loc = data.localisation
    if loc is not None and loc.result is not None:
        rows = {r["method"]: r for r in loc.result["methods"]}
        best = next((r for m, r in rows.items() if m != "random"), None)
        if best is not None and "random" in rows:
            text += (
                f" On {loc.result['n_faces']} synthetic faces where the true evidence is known, the "
                f"{best['label']} heatmaps put {best['mass_accuracy']:.0%} of their weight inside it, against "
                f"{rows['random']['mass_accuracy']:.0%} for a random map."
            )
    return text
