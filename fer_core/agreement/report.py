"""The whole agreement evaluation: could a model be an annotator, the report, and its csv and text front ends."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .._utils.progress import progress_iter
from ..taxonomy import EMONET40, EMONET40_GROUPS
from ._common import _clean, _emotion_matrices, _records
from .alpha import _package_alpha, bootstrap_interval_alpha
from .kappa import HUMAN, AgreementTable, _rater_scores, _split_raters, _table, kappa_matrix

# evaluate_agreement's parameter of the same name hides the function
from .ratings import model_ratings as _as_model_ratings
from .ratings import read_model_ratings, read_ratings, validate_ratings

_GROUP_OF = {e: g for g, members in EMONET40_GROUPS.items() for e in members}


# ------------------------------------------------------------------------------------------- model vs human --
def could_be_annotator(
    model_kappas: Sequence[float] | np.ndarray,
    human_kappas: Sequence[float] | np.ndarray,
    alpha: float = 0.05,
    n_boot: int = 1000,
    seed: int = 42,
) -> dict:
    """Could the model pass for one more annotator? Two-sided Mann-Whitney U on per-emotion kappas (model vs humans
    against human vs human); yes when p > ``alpha``.

    Returns a dict: u_statistic, p_value, mean_difference (model - human) with a percentile-bootstrap 95 % CI
    (difference_lo/hi; each group resampled on its own, as the test treats them), n_model, n_human, alpha and
    could_be_annotator. NaN kappas are dropped; with fewer than 2 values on a side the verdict is None.
    """
    from scipy.stats import mannwhitneyu

    x = np.asarray(model_kappas, dtype=np.float64)
    y = np.asarray(human_kappas, dtype=np.float64)
    x, y = x[~np.isnan(x)], y[~np.isnan(y)]
    out = {
        "u_statistic": None,
        "p_value": None,
        "mean_difference": None,
        "difference_lo": None,
        "difference_hi": None,
        "n_model": int(len(x)),
        "n_human": int(len(y)),
        "alpha": alpha,
        "could_be_annotator": None,
    }
    if len(x) < 2 or len(y) < 2:
        return out | {"reason": "fewer than 2 emotions with a defined kappa on one side"}
    test = mannwhitneyu(x, y, alternative="two-sided")
    rng = np.random.default_rng(seed)
    diffs = (
        (x[rng.integers(0, len(x), (n_boot, len(x)))].mean(1) - y[rng.integers(0, len(y), (n_boot, len(y)))].mean(1))
        if n_boot > 0
        else np.array([np.nan])
    )
    lo, hi = np.quantile(diffs, [0.025, 0.975])
    return out | {
        "u_statistic": float(test.statistic),
        "p_value": float(test.pvalue),
        "mean_difference": float(x.mean() - y.mean()),
        "difference_lo": float(lo),
        "difference_hi": float(hi),
        "could_be_annotator": bool(test.pvalue > alpha),
    }


# ---------------------------------------------------------------------------------------------------- report --
@dataclass(frozen=True)
class AgreementReport:
    """Everything of METHODS.md 4.4 for one ratings table: kappa table, human alpha per emotion, model verdicts.

    ``alpha`` is indexed by emotion with columns alpha, alpha_lo, alpha_hi (95 % bootstrap) and n_images (images
    rated by at least two humans). ``verdicts`` maps each model to :func:`could_be_annotator`'s dict.
    """

    table: AgreementTable
    alpha: pd.DataFrame
    verdicts: dict[str, dict]
    humans: tuple[str, ...]
    models: tuple[str, ...]
    n_images: int
    n_boot: int
    seed: int

    def to_frame(self) -> pd.DataFrame:
        """One row per emotion: group, the humans' and each model's kappa, and alpha with its CI (a dashboard table)."""
        frame = self.table.per_emotion.join(self.alpha, how="outer").reindex(
            [e for e in EMONET40 if e in self.table.per_emotion.index]
        )
        frame.insert(0, "group", [_GROUP_OF[e] for e in frame.index])
        return frame.reset_index()

    def to_json(self) -> dict:
        """JSON-ready dict (NaN as None)."""
        alpha = self.alpha["alpha"].dropna()
        return _clean(
            {
                "humans": list(self.humans),
                "models": list(self.models),
                "n_images": self.n_images,
                "n_emotions": len(self.table.per_emotion),
                "n_boot": self.n_boot,
                "seed": self.seed,
                "per_emotion": _records(self.to_frame()),
                "summary": self.table.to_json()["summary"],
                "alpha_summary": {"mean": alpha.mean(), "median": alpha.median(), "n_emotions": len(alpha)},
                "verdicts": self.verdicts,
            }
        )


def evaluate_agreement(
    ratings: pd.DataFrame,
    model_ratings: dict[str, pd.DataFrame] | None = None,
    *,
    humans: Sequence[str] | None = None,
    n_boot: int = 1000,
    seed: int = 42,
    alpha: float = 0.05,
    progress: bool = False,
) -> AgreementReport:
    """The whole evaluation protocol of METHODS.md 4.4 in one pass over the emotions.

    Parameters
    ----------
    ratings
        The humans' long ratings table (validated here).
    model_ratings
        Model name -> its outputs, long or wide, continuous 0..7 allowed (converted by
        :func:`model_ratings`: rounded half up and clipped; any annotator column is replaced by the name).
    humans
        Which annotators of ``ratings`` are humans (default: all).
    n_boot
        Bootstrap resamples for the alpha CIs and the kappa-difference CIs.
    seed
        Seed of those bootstraps.
    alpha
        Significance level of the "could be an annotator" test.
    progress
        Show a tqdm bar over the emotions.

    Returns
    -------
    AgreementReport
        Per-emotion kappa table, human alpha with CIs, and each model's "could be an annotator" verdict.
    """
    ratings = validate_ratings(ratings)
    extra = [
        _as_model_ratings(f.drop(columns=["annotator"], errors="ignore"), name)
        for name, f in (model_ratings or {}).items()
    ]
    combined = pd.concat([ratings, *extra], ignore_index=True) if extra else ratings
    humans, models = _split_raters(combined, humans, list(model_ratings or {}))
    raters = humans + models
    mats = _emotion_matrices(combined, raters)
    scores, alphas = {}, {}
    for emotion in progress_iter(list(mats), show=progress, desc="agreement"):
        mat = mats[emotion]  # [images, raters]
        scores[emotion] = _rater_scores(kappa_matrix(mat), len(humans))
        human = mat[:, : len(humans)].T  # [humans, images]
        lo, hi = bootstrap_interval_alpha(human, n_boot, seed)
        alphas[emotion] = {
            "alpha": _package_alpha(human) if len(humans) > 1 else np.nan,
            "alpha_lo": lo,
            "alpha_hi": hi,
            "n_images": int(((~np.isnan(human)).sum(0) >= 2).sum()),
        }
    table = _table(scores, models)
    alpha_frame = pd.DataFrame.from_dict(
        alphas, orient="index", columns=["alpha", "alpha_lo", "alpha_hi", "n_images"]
    ).rename_axis("emotion")
    human_k = table.per_emotion[HUMAN].to_numpy()
    verdicts = {m: could_be_annotator(table.per_emotion[m].to_numpy(), human_k, alpha, n_boot, seed) for m in models}
    return AgreementReport(
        table=table,
        alpha=alpha_frame,
        verdicts=verdicts,
        humans=tuple(humans),
        models=tuple(models),
        n_images=int(ratings["image"].nunique()),
        n_boot=n_boot,
        seed=seed,
    )


# ------------------------------------------------------------------------------------------------------- CLI --
def report_from_files(
    ratings_path: str | Path, model_specs: Sequence[str] | None = None, n_boot: int = 1000, progress: bool = False
) -> AgreementReport:
    """:func:`evaluate_agreement` on a ratings csv and ``NAME=CSV`` model outputs (``fer-core agreement``)."""
    models = {}
    for spec in model_specs or []:
        name, sep, path = spec.partition("=")
        if not sep or not name.strip() or not path.strip():
            raise ValueError(f"--model-ratings takes NAME=CSV, got {spec!r}")
        if name.strip() in models:
            raise ValueError(f"--model-ratings: model name {name.strip()!r} given twice")
        models[name.strip()] = read_model_ratings(path.strip(), name.strip())
    return evaluate_agreement(read_ratings(ratings_path), models, n_boot=n_boot, progress=progress)


def _f(v: float | None, width: int = 7, digits: int = 3) -> str:
    return f"{'-':>{width}s}" if v is None or np.isnan(v) else f"{v:{width}.{digits}f}"


def format_report(report: AgreementReport) -> str:
    """The report as a plain-text table: kappa and alpha per emotion, the summary over emotions, the verdicts."""
    raters = [HUMAN, *report.models]
    width = max([len(e) for e in report.table.per_emotion.index] + [12])
    lines = [
        f"EmoNet-40 agreement: {len(report.humans)} human raters, {report.n_images} images, "
        f"{len(report.table.per_emotion)} emotions; models: {', '.join(report.models) or 'none'}",
        "quadratic-weighted Cohen's kappa (human: mean over humans of the mean vs every other human; model: "
        f"mean vs every human); Krippendorff's alpha of the humans (interval, 95% bootstrap CI, "
        f"{report.n_boot} resamples)",
        "",
        f"  {'emotion':{width}s}" + "".join(f"{r[:12]:>13s}" for r in raters) + f"{'alpha':>8s}  95% CI",
    ]
    frame = report.to_frame().set_index("emotion")
    for emotion, row in frame.iterrows():
        lines.append(
            f"  {emotion:{width}s}"
            + "".join(_f(row[r], 13) for r in raters)
            + _f(row["alpha"], 8)
            + f"  [{_f(row['alpha_lo'], 6)}, {_f(row['alpha_hi'], 6)}]"
        )
    lines += [
        "",
        "summary over emotions (kappa)",
        f"  {'rater':14s}{'mean':>8s}{'std':>8s}{'median':>8s}{'n':>5s}  best emotion",
    ]
    for rater, s in report.table.summary.iterrows():
        best = f"{s['best_emotion']} ({s['best_kappa']:.3f})" if isinstance(s["best_emotion"], str) else "-"
        lines.append(
            f"  {str(rater)[:14]:14s}{_f(s['mean'], 8)}{_f(s['std'], 8)}{_f(s['median'], 8)}"
            f"{int(s['n_emotions']):5d}  {best}"
        )
    a = report.alpha["alpha"].dropna()
    lines.append(
        f"  human alpha: mean {_f(a.mean() if len(a) else None, 0)}, median "
        f"{_f(a.median() if len(a) else None, 0)} over {len(a)} emotions"
    )
    if report.verdicts:
        lines += [
            "",
            "could the model be an annotator? (two-sided Mann-Whitney U, per-emotion kappa vs humans "
            "against human vs human; yes when p > alpha)",
        ]
    for model, v in report.verdicts.items():
        if v["could_be_annotator"] is None:
            lines.append(f"  {model}: undecided ({v.get('reason')})")
            continue
        lines.append(
            f"  {model}: {'yes' if v['could_be_annotator'] else 'no'} (p = {v['p_value']:.3g}, alpha "
            f"{v['alpha']}; mean kappa difference {v['mean_difference']:+.3f} [{v['difference_lo']:+.3f}, "
            f"{v['difference_hi']:+.3f}])"
        )
    return "\n".join(lines)
