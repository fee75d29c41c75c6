"""Which base model's features suit a target? (METHODS.md section 5, Arbabzadah et al. 2016)

Two (or more) models fine-tuned onto the same target from different base models, e.g. one from an age model and one
from a gender model (the ``transfer`` recipe), explain the same faces for the same class. Per face and model: the
class probabilities, the heatmap of the explained class and its share of positive relevance per face region. Per
model: the mean share per region with a bootstrap interval and the accuracy on the faces. Per pair of models and
region: a paired sign-flip permutation test of the per-face share difference ("the age-based model puts 6 points more
of its relevance on the mouth, p = 0.001"), Holm-corrected over the regions.

This module holds the result and its tests; :mod:`fer_core.studies.compare_transfer` loads the faces and explains
them (:func:`compare_models`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd

from .._utils.bootstrap import bootstrap_mean, table_records

__all__ = ["ModelFaces", "TransferComparison", "format_p", "paired_sign_flip"]

MSG_LABELS = "models must predict the same classes to explain the same class; {a} has {la}, {b} has {lb}"
MSG_TOO_FEW = "compare at least two models, got {n}"
TARGET_RULES = {
    "true": "the true class",
    "given": "the class asked for",
    "consensus": "the class the models find most likely on average (no true labels)",
}


def paired_sign_flip(diffs: np.ndarray, num_permutations: int = 2000, seed: int = 0) -> np.ndarray:
    """Two-sided p-value per column of "the mean of these paired differences is zero" (rows: faces, NaN rows left
    out per column): each face's difference keeps its size and gets a random sign. ``(1 + #{|perm| >= |obs|}) /
    (1 + permutations)``; all-zero differences give 1."""
    d = np.asarray(diffs, dtype=np.float64)
    d = d[:, None] if d.ndim == 1 else d
    out = np.ones(d.shape[1])
    rng = np.random.default_rng(seed)
    for j in range(d.shape[1]):
        col = d[~np.isnan(d[:, j]), j]
        if len(col) == 0:
            out[j] = np.nan
            continue
        observed = abs(col.mean())
        exceed, step = 0, max(1, 4_000_000 // len(col))  # bound the sign matrix held in memory
        for s in range(0, num_permutations, step):
            signs = rng.integers(0, 2, size=(min(step, num_permutations - s), len(col))) * 2 - 1
            exceed += int((np.abs(signs @ col) / len(col) >= observed - 1e-12).sum())
        out[j] = (1 + exceed) / (1 + num_permutations)
    return out


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjustment (family: the regions of one pair of models); NaN stays NaN."""
    p = np.asarray(p, dtype=np.float64)
    ok = np.flatnonzero(~np.isnan(p))
    out = np.full_like(p, np.nan)
    order = ok[np.argsort(p[ok], kind="stable")]
    m, running = len(order), 0.0
    for i, j in enumerate(order):
        running = max(running, min(1.0, (m - i) * p[j]))
        out[j] = running
    return out


@dataclass
class ModelFaces:
    """One model on the compared faces: ``probs`` (N, K), ``heatmaps`` (N, H, W) of the explained class (channels
    summed), ``shares`` (N, R) of positive relevance per region, and the aligned ``crops`` (N, H, W, 3) it saw."""

    name: str
    probs: np.ndarray
    heatmaps: np.ndarray
    shares: np.ndarray
    crops: np.ndarray

    @property
    def pred(self) -> np.ndarray:
        return self.probs.argmax(1)


@dataclass
class TransferComparison:
    """Where several models put the evidence for the same class on the same faces (see module docstring)."""

    method: str
    labels: tuple[str, ...]
    regions: list[str]
    models: dict[str, ModelFaces]
    targets: np.ndarray  # (N,) class index explained on face n, the same for every model
    target_rule: str  # "true", "given" or "consensus"
    faces: pd.DataFrame  # row, path and (when known) label of each compared face
    truth: np.ndarray | None = None  # (N,) true class indices, when known
    n_rows: int = 0
    no_face: list[str] = field(default_factory=list)
    unreadable: list[dict] = field(default_factory=list)
    resampled: str = "image"  # what the intervals resample: ``faces["cluster"]`` (subjects or source images)

    def _clusters(self) -> np.ndarray | None:
        return self.faces["cluster"].to_numpy() if "cluster" in self.faces.columns else None

    @property
    def names(self) -> list[str]:
        return list(self.models)

    def accuracy(self, name: str) -> float | None:
        if self.truth is None or not len(self.truth):
            return None
        return float((self.models[name].pred == self.truth).mean())

    def macro_f1(self, name: str) -> float | None:
        if self.truth is None or not len(self.truth):
            return None
        from sklearn.metrics import f1_score

        return float(f1_score(self.truth, self.models[name].pred, average="macro", zero_division=0))

    def table(self, n_boot: int = 1000, ci: float = 0.95, seed: int = 0) -> pd.DataFrame:
        """One row per model and region: ``n`` faces with a usable map, mean ``share`` and its bootstrap interval."""
        rows = []
        for name, m in self.models.items():
            mean, lo, hi = bootstrap_mean(m.shares, n_boot, ci, seed, self._clusters())
            n = (~np.isnan(m.shares)).sum(0)
            rows += [
                {"model": name, "region": r, "n": int(n[j]), "share": mean[j], "share_lo": lo[j], "share_hi": hi[j]}
                for j, r in enumerate(self.regions)
            ]
        return pd.DataFrame(rows, columns=["model", "region", "n", "share", "share_lo", "share_hi"])

    def differences(
        self, n_boot: int = 1000, num_permutations: int = 2000, ci: float = 0.95, seed: int = 0
    ) -> pd.DataFrame:
        """Per pair of models (a, b) and region: mean of share_a - share_b over the faces (``diff``, with a
        bootstrap interval), the paired sign-flip test's ``p_value`` and its Holm adjustment over the regions."""
        rows = []
        for a, b in combinations(self.names, 2):
            d = self.models[a].shares - self.models[b].shares
            mean, lo, hi = bootstrap_mean(d, n_boot, ci, seed, self._clusters())
            p = paired_sign_flip(d, num_permutations, seed)
            holm = _holm(p)
            n = (~np.isnan(d)).sum(0)
            rows += [
                {
                    "a": a,
                    "b": b,
                    "region": r,
                    "n": int(n[j]),
                    "diff": mean[j],
                    "diff_lo": lo[j],
                    "diff_hi": hi[j],
                    "p_value": p[j],
                    "p_holm": holm[j],
                }
                for j, r in enumerate(self.regions)
            ]
        return pd.DataFrame(rows, columns=["a", "b", "region", "n", "diff", "diff_lo", "diff_hi", "p_value", "p_holm"])

    def verdicts(self, alpha: float = 0.05, differences: pd.DataFrame | None = None) -> list[str]:
        """The paired tests in plain words: one sentence per region that differs (Holm-adjusted p < ``alpha``),
        largest difference first, or one sentence saying no region differs."""
        diffs = self.differences() if differences is None else differences
        out = []
        for (a, b), pair in diffs.groupby(["a", "b"], sort=False):
            hits = pair[pair["p_holm"] < alpha].sort_values("diff", key=np.abs, ascending=False)
            for r in hits.itertuples():
                more, less = (a, b) if r.diff > 0 else (b, a)
                where = "outside the named face regions" if r.region == "elsewhere" else f"on the {r.region}"
                out.append(
                    f"{more} puts {100 * abs(r.diff):.1f} points more of its relevance {where} "
                    f"than {less} (95% CI {100 * abs(r.diff_lo if r.diff > 0 else r.diff_hi):.1f} to "
                    f"{100 * abs(r.diff_hi if r.diff > 0 else r.diff_lo):.1f}; p = {format_p(r.p_value)}, "
                    f"Holm-adjusted {format_p(r.p_holm)})."
                )
            n = int(pair["n"].max())
            if hits.empty and len(pair) * 2.0 ** (1 - n) >= alpha:  # the smallest Holm-adjusted p that n faces allow
                out.append(
                    f"{n} faces are too few to tell {a} and {b} apart: even if every face differed the same "
                    f"way, the paired test could not reach p < {alpha:g} over {len(pair)} regions."
                )
            elif hits.empty:
                out.append(
                    f"{a} and {b} put their relevance on the same regions: no region differs "
                    f"(paired sign-flip test, Holm-adjusted p >= {alpha:g}, {n} faces)."
                )
        return out

    def disagreement(self, a: str | None = None, b: str | None = None) -> np.ndarray:
        """(N,) how differently two models (default: the first two) spread the relevance over the regions: half the
        summed absolute share difference (0 = the same spread, 1 = no region in common); NaN where a map is empty."""
        a, b = a or self.names[0], b or self.names[1]
        return 0.5 * np.abs(self.models[a].shares - self.models[b].shares).sum(1)

    def most_different_first(self, agreeing_first: bool = True) -> np.ndarray:
        """Face indices ordered by :meth:`disagreement` of the first two models, largest first (faces with an empty
        map last). ``agreeing_first``: faces where both models predict the explained class come first, so the top
        of the list shows two readings of one decision rather than maps of a class a model rejects."""
        a, b = (self.models[n] for n in self.names[:2])
        key = -np.nan_to_num(self.disagreement(), nan=-1.0)
        if agreeing_first:
            key = key + 2.0 * ((a.pred != self.targets) | (b.pred != self.targets))
        return np.argsort(key, kind="stable")

    def face_records(self, digits: int = 4) -> list[dict]:
        """Per face: its row, path, true and explained class, and per model the probabilities, prediction and
        region shares (no heatmaps: they are in ``models[name].heatmaps``)."""
        out = []
        for i, face in enumerate(self.faces.to_dict("records")):
            rec = {k: (int(v) if isinstance(v, np.integer) else v) for k, v in face.items()}
            rec["explained"] = self.labels[int(self.targets[i])]
            rec["models"] = {
                name: {
                    "pred": self.labels[int(m.pred[i])],
                    "probs": {lab: round(float(p), digits) for lab, p in zip(self.labels, m.probs[i])},
                    "shares": {
                        r: (None if np.isnan(s) else round(float(s), digits)) for r, s in zip(self.regions, m.shares[i])
                    },
                }
                for name, m in self.models.items()
            }
            out.append(rec)
        return out

    def to_json(
        self, n_boot: int = 1000, num_permutations: int = 2000, alpha: float = 0.05, faces: bool = True
    ) -> dict:
        diffs = self.differences(n_boot, num_permutations)
        return {
            "models": [
                {"name": n, "accuracy": _round(self.accuracy(n)), "macro_f1": _round(self.macro_f1(n))}
                for n in self.names
            ],
            "method": self.method,
            "labels": list(self.labels),
            "regions": self.regions,
            "n": self.n_rows,
            "n_faces": len(self.faces),
            "explained_class": TARGET_RULES[self.target_rule],
            "measure": "share of the explained class's positive relevance inside each region (mean, 95% bootstrap CI)",
            "intervals": {"resampled": self.resampled},
            "shares": table_records(self.table(n_boot)),
            "differences": table_records(diffs),
            "test": f"paired sign-flip permutation test of the mean per-face difference, {num_permutations} "
            f"permutations, Holm-adjusted over the {len(self.regions)} regions of each pair",
            "verdicts": self.verdicts(alpha, diffs),
            "faces": self.face_records() if faces else None,
            "no_face": self.no_face,
            "unreadable": self.unreadable,
        }


def format_p(p: float) -> str:
    """A p-value for text, to two significant digits (0.015, 0.0005)."""
    return "n/a" if p != p else f"{p:.2g}"


def _round(v: float | None, digits: int = 4) -> float | None:
    return None if v is None else round(v, digits)
