"""A claim's result as the text ``fer-core claim`` prints: per-seed figures of every variant, their means, what only
one claim has (pseudo-labels, per-AU F1, chance levels), each check with its interval, and the verdict."""

from __future__ import annotations

from typing import Any

__all__ = ["claim_summary"]

_CLAIM_TITLES = {
    "fair_mmd": "fair_mmd vs supervised on the biased SynthFACS split (balanced test set), groups = {attribute}",
    "semi_dtm": "semi_dtm with {labeled_fraction:.0%} of the SynthFACS training labels",
    "au_iat": "au_iat on SynthFACS people with AU habits: IAT (lambda {lambda_id:g}) vs lambda 0; replicate s = test "
    "fold s, seed s",
    "shortcut": "explanation atlas of '{label}': a mark on {marked_fraction:.0%} of its SynthFACS faces (marked model) "
    "vs the same faces unmarked (clean model), both mapped on the marked test set",
}
_CLAIM_ROWS = {
    "fair_mmd": [
        ("accuracy", "accuracy"),
        ("worst-group accuracy", "worst_group_accuracy"),
        ("accuracy gap", "accuracy_gap"),
        ("mean MMD^2 between groups", "mean_mmd2"),
        ("probe accuracy", "probe_accuracy"),
    ],
    "semi_dtm": [("test macro-F1", "macro_f1"), ("test accuracy", "accuracy")],
    "au_iat": [
        ("mean AU F1 at 0.5, unseen people", "mean_f1"),
        ("mean AU F1, threshold from val people", "mean_f1_tuned"),
        ("identity probe, training people", "probe_train_subjects"),
        ("identity probe, unseen people", "probe_test_subjects"),
    ],
    "shortcut": [
        ("test accuracy", "accuracy"),
        ("best flagged cluster: precision", "precision"),
        ("best flagged cluster: recall", "recall"),
        ("best flagged cluster: F1", "f1"),
        ("flagged clusters", "n_flagged"),
        ("rank of the mark's concept", "mark_concept_rank"),
        ("its share of relevance on the mark", "mark_concept_share"),
    ],
}


def claim_summary(result: dict[str, Any]) -> str:
    """A claim's result (:func:`fair_mmd_claim`, ...; or :func:`recorded_claim`) as the text ``fer-core claim``
    prints: per-seed figures of every variant and their means, the claim's own extras, each check with its interval,
    then the verdict."""
    o, seeds = result, result["seeds"]
    lines = [
        _CLAIM_TITLES[o["claim"]].format(**o),
        f"  {'':40s}{'':18s}" + "".join(f"{'seed ' + str(s):>9s}" for s in seeds) + f"{'mean':>9s}",
    ]
    for label, key in _CLAIM_ROWS[o["claim"]]:
        for variant, runs in o["figures"].items():
            lines.append(
                f"  {label:40s}{variant:18s}"
                + "".join(f"{runs[s][key]:9.4f}" for s in seeds)
                + f"{o['means'][variant][key]:9.4f}"
            )
    lines += _claim_extras(o)
    lines += [f"  {line}" for line in o["summary"]]
    n = len(seeds)
    if o["holds"]:
        lines.append(
            f"claim holds on the mean of {n} seed(s)"
            + ("" if o["holds_on_every_seed"] else "; not on every seed (see above)")
        )
    else:
        lines.append(f"claim does NOT hold on the mean of {n} seed(s)")
    return "\n".join(lines)


def _claim_extras(o: dict[str, Any]) -> list[str]:
    """What only one claim has: DTM's pseudo-labels, the AU-by-AU F1 of au_iat, the probes' chance level."""
    lines = []
    if o["claim"] == "semi_dtm":
        lines.append("  DTM pseudo-labels in the last epoch, per seed: share of the pool taken, precision")
        for s in o["seeds"]:
            pl = o["figures"]["dtm"][s]["pseudo_labels"]
            if pl:
                lines.append(
                    f"    seed {s}: {pl['taken_share']:.0%} taken, precision {pl['precision']}; per class: "
                    + ", ".join(
                        f"{lab} {c['precision'] if c['precision'] is not None else '-'} "
                        f"(t={c['threshold']}, n={int(c['taken'] or 0)})"
                        for lab, c in pl["per_class"].items()
                    )
                )
    elif o["claim"] == "au_iat":
        from ..data.synthfacs import HABIT_AUS

        first = o["means"][next(iter(o["means"]))]
        lines.append(
            f"  (probe chance: {first['probe_train_chance']:.4f} training people, "
            f"{first['probe_test_chance']:.4f} unseen people)"
        )
        lines.append("  mean F1 per AU over the replicates (* = an AU people carry as a habit):")
        for au in o["per_au"][next(iter(o["per_au"]))]:
            mark = "*" if int(au.removeprefix("AU")) in HABIT_AUS else " "
            lines.append(f"    {au + mark:8s}" + "".join(f"{v}: {o['per_au'][v][au]:.4f}  " for v in o["per_au"]))
    elif o["claim"] == "fair_mmd":
        lines.append(f"  (probe chance {o['means']['supervised']['probe_chance']:.4f})")
    return lines
