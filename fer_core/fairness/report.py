"""One fairness report per sensitive attribute: per-group metrics with intervals, MMD between the groups'
embeddings (shrinkage and plain, with permutation p-values), and a linear probe's accuracy at guessing the group.

This is what ``fer-core evaluate --group-by`` prints, what training writes to ``evaluation.json`` and what the
Fairness page draws; it is plain data (JSON-ready dicts), so all three read the same numbers.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from .group_metrics import GroupMetrics, SmallGroupWarning
from .mmd_stats import median_bandwidth_np, mmd_permutation_test, shrinkage_rff_mmd2
from .probe import probe_accuracy

__all__ = ["fairness_report", "fairness_summary", "mmd_matrix"]

MIN_MMD_ROWS = 2


def group_labels(values: Sequence[Any]) -> pd.Series:
    """Each row's group as text, by position; an empty or missing (NaN, None) value is the group ``"unknown"``:
    the one rule the labelled report and the label-free audit share, so a row is in the same group in both."""
    return pd.Series(list(values), dtype=object).fillna("").astype(str).replace("", "unknown")


def mmd_matrix(
    embeddings: np.ndarray, groups: Sequence[Any], num_permutations: int = 200, seed: int = 0, num_features: int = 2048
) -> dict[str, Any]:
    """MMD^2 between every pair of groups with >= 2 rows, all at one bandwidth (the median distance of the pooled
    embeddings, so pairs are comparable); linear in the number of rows (random Fourier features).

    Returns ``groups``, ``sigma`` and ``pairs``: one dict per pair with ``mmd2`` (unbiased, permutation-tested),
    ``p_value``, ``null_std``, ``shrinkage_mmd2`` and ``plain_mmd2`` (the V-statistic pair the loss uses).
    """
    z = np.asarray(embeddings, dtype=np.float32)
    g = pd.Series(np.asarray(groups)).astype(str)
    names = sorted(g.unique())
    sigma = median_bandwidth_np(z)
    members = {n: z[(g == n).to_numpy()] for n in names}
    pairs = []
    for a, b in combinations(names, 2):
        if min(len(members[a]), len(members[b])) < MIN_MMD_ROWS:
            pairs.append({"a": a, "b": b, "mmd2": None, "p_value": None, "reason": "fewer than 2 rows"})
            continue
        test = mmd_permutation_test(
            members[a], members[b], sigma=sigma, num_permutations=num_permutations, seed=seed, num_features=num_features
        )
        shrink = shrinkage_rff_mmd2(members[a], members[b], sigma=sigma, num_features=num_features, seed=seed)
        pairs.append(
            {
                "a": a,
                "b": b,
                "n_a": len(members[a]),
                "n_b": len(members[b]),
                "mmd2": test.mmd2,
                "p_value": test.p_value,
                "null_std": test.null_std,
                "shrinkage_mmd2": shrink["mmd2"],
                "plain_mmd2": shrink["plain"],
            }
        )
    tested = [p["mmd2"] for p in pairs if p["mmd2"] is not None]
    return {
        "groups": names,
        "sigma": sigma,
        "method": "rff",
        "num_permutations": num_permutations,
        "pairs": pairs,
        "mean_mmd2": float(np.mean(tested)) if tested else None,
    }


def _probe(z: np.ndarray, groups: pd.Series, seed: int) -> dict[str, Any]:
    counts = groups.value_counts()
    folds = int(min(5, counts.min())) if len(counts) >= 2 else 0
    if folds < 2:
        return {"accuracy": None, "chance": None, "n": len(groups), "reason": "needs two groups of >= 2 rows"}
    return probe_accuracy(z, groups.to_numpy(), folds=folds, seed=seed)


def fairness_report(
    y_true: Sequence[Any],
    y_pred: Sequence[Any],
    labels: Sequence[str],
    attributes: pd.DataFrame,
    embeddings: np.ndarray | None = None,
    min_group_size: int = 30,
    n_boot: int = 200,
    num_permutations: int = 200,
    seed: int = 0,
    clusters: Sequence[Any] | None = None,
    cluster_kind: str = "rows",
) -> dict[str, Any]:
    """Overall figures and, per column of ``attributes``, the group metrics, MMD matrix and probe accuracy.

    Each attribute is judged on its own groups (one :class:`GroupMetrics` per column, never their intersections).
    Values are compared as strings; rows with an empty or missing (NaN, None) attribute value form their own group
    ``"unknown"``: flagged if small, never dropped.
    Small groups are flagged in the report instead of warned about. Mismatched lengths, a label outside ``labels``
    or a bad ``min_group_size`` / ``n_boot`` raise ValueError (from :class:`GroupMetrics`).

    Parameters
    ----------
    y_true
        (N,) true classes: names from ``labels`` or integer indices into them.
    y_pred
        (N,) predicted classes, in the same form as ``y_true``.
    labels
        Class order of the model; every value of ``y_true`` and ``y_pred`` must be one of them (or an index).
    attributes
        N rows, one column per sensitive attribute, matched to the labels by position. No columns gives a report
        with the overall figures only.
    embeddings
        (N, D) embeddings of the same rows; when given, each attribute also gets the MMD^2 between every pair of its
        groups (:func:`mmd_matrix`) and a linear probe's accuracy at guessing the group (up to 5 folds, skipped with a
        ``reason`` unless two groups have at least 2 rows). None skips both.
    min_group_size
        Groups with fewer rows are flagged ``small``.
    n_boot
        Bootstrap resamples for the per-group accuracy intervals and the accuracy gap's interval (95 %); 0 computes
        none.
    num_permutations
        Permutations of each MMD test (its p-value).
    seed
        Seed of the bootstrap, the MMD features and permutations, and the probe's folds and solver.
    clusters
        (N,) what the bootstrap resamples (subjects or source images: :func:`fer_core._utils.bootstrap.cluster_ids`);
        None resamples rows.
    cluster_kind
        What the clusters are (``subject`` or ``image``), reported as ``bootstrap.resampled``.

    Returns
    -------
    dict
        JSON-ready: ``labels``, ``n``, ``overall`` (n, accuracy, macro_f1, worst_class_recall over all rows) and
        ``attributes``: per column, :meth:`GroupMetrics.to_dict` plus ``mmd`` and ``probe`` when ``embeddings`` are
        given (a pair or probe that could not be computed has ``None`` figures and a ``reason``).
    """
    labels = tuple(str(x) for x in labels)
    report: dict[str, Any] = {"labels": list(labels), "n": int(len(y_true)), "attributes": {}}
    overall = None
    for col in attributes.columns:
        groups = group_labels(attributes[col]).rename(col)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SmallGroupWarning)  # flagged in the report instead
            gm = GroupMetrics(
                y_true=y_true,
                y_pred=y_pred,
                groups=groups,
                labels=labels,
                min_group_size=min_group_size,
                n_boot=n_boot,
                random_state=seed,
                clusters=clusters,
            )
        entry = gm.to_dict()
        if entry.get("bootstrap") and clusters is not None:
            entry["bootstrap"]["resampled"] = cluster_kind
        overall = overall or entry.get("overall")
        if embeddings is not None:
            z = np.asarray(embeddings, dtype=np.float32)
            entry["mmd"] = mmd_matrix(z, groups, num_permutations=num_permutations, seed=seed)
            entry["probe"] = _probe(z, groups, seed)
        report["attributes"][col] = entry
    if overall is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SmallGroupWarning)
            overall = GroupMetrics(
                y_true=y_true, y_pred=y_pred, groups=pd.Series(["all"] * len(y_true)), labels=labels, min_group_size=1
            ).to_dict()["overall"]
    report["overall"] = overall
    return report


def fairness_summary(attribute: str, rep: dict[str, Any]) -> list[str]:
    """The lines that tell a reader one attribute's report: gaps, every group's accuracy with its interval, the MMD
    of every pair and the probe (what ``fer-core evaluate`` and ``fer-core train`` print)."""
    boot = (rep.get("bootstrap") or {}).get("accuracy", {})
    lines = [
        "",
        f"{attribute}: worst-group accuracy {rep['worst_group_accuracy']:.3f}, gap {rep['accuracy_gap']:.3f}, "
        f"equal-opportunity gap {rep['equal_opportunity_gap']:.3f}, equalized-odds gap "
        f"{rep['equalized_odds_gap']:.3f}",
    ]
    for g, m in rep["by_group"].items():
        ci = boot.get(g)
        ci_text = f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci and ci[0] is not None else ""
        flag = "  (small group: noisy)" if m.get("small") else ""
        lines.append(
            f"  {g:12s} n={m['n']:5d} accuracy {m['accuracy']:.3f}{ci_text} macro-F1 {m['macro_f1']:.3f}{flag}"
        )
    for pair in (rep.get("mmd") or {}).get("pairs", []):
        if pair["mmd2"] is None:
            lines.append(f"  MMD {pair['a']} vs {pair['b']}: {pair['reason']}")
        else:
            lines.append(
                f"  MMD^2 {pair['a']} vs {pair['b']}: {pair['mmd2']:.5f} (p={pair['p_value']:.3f}; "
                f"shrinkage {pair['shrinkage_mmd2']:.5f}, plain {pair['plain_mmd2']:.5f})"
            )
    probe = rep.get("probe")
    if probe and probe.get("accuracy") is not None:
        lines.append(
            f"  linear probe guesses {attribute} with accuracy {probe['accuracy']:.3f} (chance {probe['chance']:.3f})"
        )
    return lines
