"""Audits that need no expression labels: a photo set with demographic columns and nothing else (UTKFace-style)
still tells whether the detector finds every group's faces, whether the model predicts each class at the same rate
for every group (demographic parity), how confident it is, and whether its features separate the groups.

One report per attribute, JSON-ready, beside :func:`fer_core.fairness.fairness_report` (which needs labels): what
``fer-core evaluate --group-by`` prints for unlabelled rows and the Fairness page draws. Intervals resample clusters
(subjects, else source images) within each group.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from fairlearn.metrics import demographic_parity_difference

from .._utils.bootstrap import cluster_bootstrap_means
from ..names import STATUSES
from .report import _probe, group_labels, mmd_matrix

__all__ = ["audit_summary", "detection_report", "label_free_report", "prediction_audit"]


def _interval(draws: np.ndarray, ci: float) -> tuple[np.ndarray, np.ndarray]:
    alpha = (1 - ci) / 2
    return np.nanquantile(draws, alpha, axis=0), np.nanquantile(draws, 1 - alpha, axis=0)


def _r(x: float | None, digits: int = 4) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), digits)


def detection_report(
    status: Sequence[str],
    groups: Sequence[Any] | None = None,
    clusters: Sequence[Any] | None = None,
    n_boot: int = 200,
    ci: float = 0.95,
    seed: int = 0,
) -> dict[str, Any]:
    """Rows detected / used as a crop (a small image taken whole, never detected) / with no face / unreadable,
    overall and per group, with the interval of each group's detected share and the gap between the groups."""
    st = np.asarray(list(status), dtype=object)
    onehot = np.stack([st == s for s in STATUSES], 1).astype(np.float64)

    def counts(mask: np.ndarray) -> dict[str, Any]:
        n = int(mask.sum())
        out: dict[str, Any] = {"n": n}
        for j, s in enumerate(STATUSES):
            out[s] = int(onehot[mask, j].sum())
            out[f"{s}_share"] = _r(onehot[mask, j].mean()) if n else None
        out["found_share"] = _r(onehot[mask, :2].sum(1).mean()) if n else None
        return out

    report: dict[str, Any] = {"overall": counts(np.ones(len(st), bool))}
    if groups is None:
        return report
    g = group_labels(groups)
    cl = None if clusters is None else np.asarray(list(clusters), dtype=object)
    rng = np.random.default_rng(seed)
    by_group, draws = {}, []
    for name in sorted(g.unique()):
        mask = (g == name).to_numpy()
        entry = counts(mask)
        if n_boot and mask.sum() > 1:
            d = cluster_bootstrap_means(onehot[mask][:, :1], None if cl is None else cl[mask], n_boot, rng)[:, 0]
            lo, hi = _interval(d[:, None], ci)
            entry["detected_share_ci"] = [_r(lo[0]), _r(hi[0])]
            draws.append(d)
        by_group[name] = entry
    shares = [e["detected_share"] for e in by_group.values() if e["detected_share"] is not None]
    report["by_group"] = by_group
    report["detected_gap"] = _r(max(shares) - min(shares)) if len(shares) > 1 else None
    if len(draws) > 1 and len(draws) == len(by_group):
        gaps = np.stack(draws, 1)
        lo, hi = _interval((gaps.max(1) - gaps.min(1))[:, None], ci)
        report["detected_gap_ci"] = [_r(lo[0]), _r(hi[0])]
    return report


def prediction_audit(
    probs: np.ndarray,
    labels: Sequence[str],
    groups: Sequence[Any],
    clusters: Sequence[Any] | None = None,
    embeddings: np.ndarray | None = None,
    min_group_size: int = 30,
    n_boot: int = 200,
    num_permutations: int = 200,
    ci: float = 0.95,
    seed: int = 0,
) -> dict[str, Any]:
    """Per group of the faces found: ``n``, the share of faces predicted as each class (with intervals), the mean
    confidence (top probability, with interval); per class, the demographic-parity gap (largest minus smallest
    group rate, fairlearn's ``demographic_parity_difference`` on class-vs-rest) with its interval; with
    ``embeddings``, the MMD between every pair of groups and a linear probe's accuracy at guessing the group."""
    p = np.asarray(probs, dtype=np.float64)
    labels = [str(x) for x in labels]
    pred = p.argmax(1)
    g = group_labels(groups)
    cl = None if clusters is None else np.asarray(list(clusters), dtype=object)
    values = np.concatenate([np.eye(len(labels))[pred], p.max(1, keepdims=True)], 1)  # (n, K + 1)
    rng = np.random.default_rng(seed)
    by_group, draws = {}, {}
    names = sorted(g.unique())
    for name in names:
        mask = (g == name).to_numpy()
        mean = values[mask].mean(0)
        entry: dict[str, Any] = {
            "n": int(mask.sum()),
            "small": bool(mask.sum() < min_group_size),
            "prediction_rate": {lab: _r(mean[k]) for k, lab in enumerate(labels)},
            "mean_confidence": _r(mean[-1]),
        }
        if n_boot and mask.sum() > 1:
            d = cluster_bootstrap_means(values[mask], None if cl is None else cl[mask], n_boot, rng)
            lo, hi = _interval(d, ci)
            entry["prediction_rate_ci"] = {lab: [_r(lo[k]), _r(hi[k])] for k, lab in enumerate(labels)}
            entry["mean_confidence_ci"] = [_r(lo[-1]), _r(hi[-1])]
            draws[name] = d
        by_group[name] = entry
    parity = {}
    for k, lab in enumerate(labels):
        gap = (
            demographic_parity_difference(pred == k, pred == k, sensitive_features=g.to_numpy())
            if len(names) > 1
            else None
        )
        item: dict[str, Any] = {"gap": _r(gap)}
        if len(draws) == len(names) > 1:
            rates = np.stack([draws[n][:, k] for n in names], 1)
            lo, hi = _interval((rates.max(1) - rates.min(1))[:, None], ci)
            item["ci"] = [_r(lo[0]), _r(hi[0])]
            item["highest"] = names[int(np.argmax([by_group[n]["prediction_rate"][lab] for n in names]))]
            item["lowest"] = names[int(np.argmin([by_group[n]["prediction_rate"][lab] for n in names]))]
        parity[lab] = item
    worst = max(parity, key=lambda lab: parity[lab]["gap"] or 0.0) if parity else None
    report: dict[str, Any] = {
        "n": int(len(p)),
        "labels": labels,
        "by_group": by_group,
        "small_groups": [n for n in names if by_group[n]["small"]],
        "demographic_parity": parity,
        "largest_parity_gap": {"label": worst, **parity[worst]} if worst else None,
        "bootstrap": {"n_boot": n_boot, "ci": ci, "random_state": seed} if n_boot else None,
    }
    if embeddings is not None and len(p):
        z = np.asarray(embeddings, dtype=np.float32)
        report["mmd"] = mmd_matrix(z, g, num_permutations=num_permutations, seed=seed)
        report["probe"] = _probe(z, g, seed)
    return report


def label_free_report(
    probs: np.ndarray,
    labels: Sequence[str],
    face_attributes: pd.DataFrame,
    status: Sequence[str],
    row_attributes: pd.DataFrame,
    face_clusters: Sequence[Any] | None = None,
    row_clusters: Sequence[Any] | None = None,
    cluster_kind: str = "rows",
    embeddings: np.ndarray | None = None,
    min_group_size: int = 30,
    n_boot: int = 200,
    num_permutations: int = 200,
    seed: int = 0,
    faces_only: Sequence[str] = (),
) -> dict[str, Any]:
    """Per attribute column: :func:`prediction_audit` of the faces found and :func:`detection_report` of every row
    (``status`` and ``row_attributes`` cover all rows, found or not), each resampling ``cluster_kind`` clusters.
    A column of ``faces_only`` is measured on the faces found (the head pose): a row without a face has no value,
    so its detection report is empty (``by_group`` {}, ``faces_only`` True) rather than a split that is true by
    construction."""
    out = {}
    for col in face_attributes.columns:
        entry = prediction_audit(
            probs,
            labels,
            face_attributes[col].to_numpy(),
            face_clusters,
            embeddings,
            min_group_size,
            n_boot,
            num_permutations,
            seed=seed,
        )
        if col in faces_only:
            entry["detection"] = {"by_group": {}, "detected_gap": None, "faces_only": True}
        else:
            entry["detection"] = detection_report(
                status, row_attributes[col].to_numpy(), row_clusters, n_boot, seed=seed
            )
        if entry.get("bootstrap"):
            entry["bootstrap"]["resampled"] = cluster_kind if face_clusters is not None else "rows"
        out[col] = entry
    return out


def _faces_text(group: dict[str, Any]) -> str:
    """``faces=N, mean confidence C`` of one group's prediction audit, flagged when the group is small."""
    conf = group.get("mean_confidence")
    return (
        f"faces={group.get('n', 0)}"
        + (f", mean confidence {conf:.2f}" if conf is not None else "")
        + ("  (small group: noisy)" if group.get("small") else "")
    )


def audit_summary(attribute: str, rep: dict[str, Any], resampled: str = "rows") -> list[str]:
    """The lines that tell a reader one attribute's label-free audit (what ``fer-core evaluate`` prints)."""
    det = rep.get("detection", {})
    lines = ["", f"{attribute} (no labels needed; intervals resample {resampled}s):"]
    for g, d in det.get("by_group", {}).items():
        ci = d.get("detected_share_ci")
        ci_text = f" [{ci[0]:.1%}, {ci[1]:.1%}]" if ci and ci[0] is not None else ""
        lines.append(
            f"  {g:12s} rows={d['n']:5d} detected {d['detected_share']:.1%}{ci_text}, used as crop "
            f"{d['crop_share']:.1%}, no face {d['no_face_share']:.1%}; {_faces_text(rep['by_group'].get(g, {}))}"
        )
    if det.get("faces_only"):  # measured on the faces found: no detection split
        lines += [f"  {g:12s} {_faces_text(m)}" for g, m in rep["by_group"].items()]
    if det.get("detected_gap") is not None:
        ci = det.get("detected_gap_ci")
        lines.append(f"  detection gap {det['detected_gap']:.1%}" + (f" [{ci[0]:.1%}, {ci[1]:.1%}]" if ci else ""))
    gaps = sorted(
        ((lab, p) for lab, p in rep.get("demographic_parity", {}).items() if p.get("gap") is not None),
        key=lambda kv: -kv[1]["gap"],
    )
    for lab, p in gaps[:3]:
        ci = p.get("ci")
        lines.append(
            f"  predicted '{lab}': parity gap {p['gap']:.1%}"
            + (f" [{ci[0]:.1%}, {ci[1]:.1%}]" if ci else "")
            + (f" (most: {p['highest']}, least: {p['lowest']})" if p.get("highest") else "")
        )
    for pair in (rep.get("mmd") or {}).get("pairs", []):
        if pair["mmd2"] is not None:
            lines.append(f"  MMD^2 {pair['a']} vs {pair['b']}: {pair['mmd2']:.5f} (p={pair['p_value']:.3f})")
    probe = rep.get("probe")
    if probe and probe.get("accuracy") is not None:
        lines.append(
            f"  linear probe guesses {attribute} with accuracy {probe['accuracy']:.3f} (chance {probe['chance']:.3f})"
        )
    return lines
