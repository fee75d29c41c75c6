"""How well raters agree on EmoNet-40 intensities, and whether a model could pass for an annotator (METHODS.md 4.4).

Every rater, human or model, is a column of one long *ratings* table: ``image`` (str), ``emotion`` (one of
:data:`~fer_core.taxonomy.EMONET40`), ``annotator`` (str) and ``rating`` (int 0..7, 0 = not present). A missing row
means the rater did not rate that image; a rater who saw an image but left an emotion unselected has a 0 row.

- Two raters on one emotion: quadratic-weighted Cohen's kappa (labels 0..7) over the images both rated.
- Per emotion, a model scores the mean kappa against every human; the humans score the mean over humans of each
  one's mean kappa against every other human. Overall = mean (std, median, best emotion) over the emotions.
- Human reliability: Krippendorff's alpha (interval) per emotion, 95 % bootstrap CI over images (seed 42).
- A model "could be an annotator" when a two-sided Mann-Whitney U test on per-emotion kappas does not separate its
  model-vs-human kappas from the human-vs-human ones (p > 0.05).
"""
from __future__ import annotations

import difflib
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from ._utils.progress import progress_iter
from .errors import DatasetError
from .taxonomy import EMONET40, EMONET40_GROUPS

__all__ = ["RATING_COLUMNS", "MAX_RATING", "HUMAN", "AgreementTable", "AgreementReport", "validate_ratings",
           "read_ratings", "model_ratings", "read_model_ratings", "pairwise_kappa", "kappa_matrix",
           "agreement_table", "interval_alpha", "bootstrap_interval_alpha", "krippendorff_alpha",
           "could_be_annotator", "evaluate_agreement", "simulate_annotators", "report_from_files", "format_report"]

logger = logging.getLogger(__name__)

RATING_COLUMNS: tuple[str, ...] = ("image", "emotion", "annotator", "rating")
MAX_RATING = 7
HUMAN = "human"  # the name of the humans' own row/column in agreement tables
_RESERVED = {HUMAN, "emotion", "group", "alpha", "alpha_lo", "alpha_hi", "n_images"}  # columns of to_frame()

MSG_MISSING_COLUMNS = "{source}: missing columns {missing}; a ratings table needs image, emotion, annotator, rating " \
                      "(found {found})"
MSG_UNKNOWN_EMOTION = "{source}: unknown EmoNet-40 categories {values} ({where}){hint}"
MSG_YES_NO = "{source}: yes/no judgements ({where}) are not ordinal ratings; agreement needs intensities 0..7 " \
             "(0 = not present), so the Binary set's yes/no labels cannot be used here"
MSG_BAD_RATING = "{source}: ratings must be integers 0..7 (0 = not present), got {values} ({where})"
MSG_DUPLICATE = "{source}: {n} rows rate the same (image, emotion, annotator) twice, e.g. {examples}"
_YES_NO = {"yes", "no", "y", "n", "true", "false"}
_GROUP_OF = {e: g for g, members in EMONET40_GROUPS.items() for e in members}


# ----------------------------------------------------------------------------------------------------- input --
def _where(mask: np.ndarray, first_row: int | None) -> str:
    """'csv lines 3, 9' or 'rows 2, 8' for the first few flagged positions."""
    pos = np.flatnonzero(mask)
    shown = ", ".join(str(p + (first_row or 0)) for p in pos[:5])
    shown += f" and {len(pos) - 5} more" if len(pos) > 5 else ""
    return f"{'csv lines' if first_row else 'rows'} {shown}"


def _per_unique(values: pd.Series, fn) -> np.ndarray:
    """``fn`` applied to the distinct values only (a few dozen in a table of millions of rows), spread back."""
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    return np.asarray([fn(u) for u in uniques], dtype=object)[codes] if len(values) else np.empty(0, dtype=object)


def _canonical_emotions(emotion: pd.Series, source: str, first_row: int | None) -> pd.Series:
    """Strip "group|" prefixes and surrounding blanks; raise naming any name that is not an EmoNet-40 category."""
    emotion = pd.Series(_per_unique(emotion, lambda v: str(v).split("|")[-1].strip()), index=emotion.index)
    bad = ~emotion.isin(EMONET40).to_numpy()
    if bad.any():
        values = sorted(set(emotion[bad]))
        close = {v: difflib.get_close_matches(v, EMONET40, n=1) for v in values[:5]}
        hint = "; did you mean " + ", ".join(f"{c[0]!r} for {v!r}" for v, c in close.items() if c) if any(
            close.values()) else ""
        raise DatasetError(MSG_UNKNOWN_EMOTION.format(source=source, values=values[:5], where=_where(bad, first_row),
                                                      hint=hint))
    return emotion


def _as_float(value) -> float:
    """A rating cell as a float; NaN for blanks and text."""
    try:
        return float(str(value).strip())
    except ValueError:
        return float("nan")


def validate_ratings(frame: pd.DataFrame, source: str = "ratings", first_row: int | None = None) -> pd.DataFrame:
    """Check and normalise a long ratings table, so every metric can trust its input.

    Parameters
    ----------
    frame : long table with columns image, emotion, annotator, rating (extra columns are dropped).
    source : name used in error messages (e.g. the csv path).
    first_row : csv line number of the first data row, to name bad rows by line; None names them by position.

    Returns
    -------
    DataFrame with image/annotator as str, emotion as the canonical EmoNet-40 name, rating as int64 0..7.

    Raises
    ------
    DatasetError
        Missing columns, unknown emotions, yes/no judgements, ratings that are missing, non-integer or outside
        0..7, or the same (image, emotion, annotator) rated twice.
    """
    missing = [c for c in RATING_COLUMNS if c not in frame.columns]
    if missing:
        raise DatasetError(MSG_MISSING_COLUMNS.format(source=source, missing=missing, found=list(frame.columns)))
    out = frame[list(RATING_COLUMNS)].reset_index(drop=True)
    out = out.assign(image=out["image"].astype(str), annotator=out["annotator"].astype(str),
                     emotion=_canonical_emotions(out["emotion"], source, first_row))
    text = _per_unique(out["rating"], lambda v: str(v).strip())
    yes_no = np.isin(_per_unique(out["rating"], lambda v: str(v).strip().lower()), list(_YES_NO))
    if yes_no.any():
        raise DatasetError(MSG_YES_NO.format(source=source, where=_where(yes_no, first_row)))
    num = _per_unique(out["rating"], _as_float).astype(np.float64)
    bad = ~(np.isfinite(num) & (num == np.round(num)) & (num >= 0) & (num <= MAX_RATING))
    if bad.any():
        values = list(dict.fromkeys(t if t.lower() not in ("", "nan", "none") else "<empty>" for t in text[bad]))[:5]
        raise DatasetError(MSG_BAD_RATING.format(source=source, values=values, where=_where(bad, first_row)))
    out["rating"] = num.astype(np.int64)
    dup = out.duplicated(["image", "emotion", "annotator"]).to_numpy()
    if dup.any():
        examples = [tuple(r) for r in out.loc[dup, ["image", "emotion", "annotator"]].head(3).itertuples(index=False)]
        raise DatasetError(MSG_DUPLICATE.format(source=source, n=int(dup.sum()), examples=examples))
    return out


def read_ratings(path: str | Path) -> pd.DataFrame:
    """Read a long ratings csv (image, emotion, annotator, rating 0..7) and validate it (see :func:`validate_ratings`).

    Emotions may be "group|emotion" keys as in the EmoNet-Face release. Yes/no judgements are refused: agreement
    here is on ordinal intensities only.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"ratings file {path} does not exist")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: not a readable csv ({exc})") from None
    return validate_ratings(frame, source=str(path), first_row=2)


def model_ratings(scores: pd.DataFrame, name: str) -> pd.DataFrame:
    """A model's continuous 0..7 outputs as a ratings table with ``annotator = name``, so it is rated like a human.

    ``scores`` is long (image, emotion, and rating or score) or wide (an image column, one column per emotion).
    Values are rounded half up to the nearest integer and clipped to 0..7; NaN outputs are dropped. Outputs in
    [0, 1] (e.g. Hume's) must be multiplied by 7 by the caller first: a warning is raised when all values are <= 1.
    """
    if "image" not in scores.columns:
        raise DatasetError(f"model ratings {name!r}: need an image column (found {list(scores.columns)})")
    if "emotion" in scores.columns:
        value = "rating" if "rating" in scores.columns else "score"
        if value not in scores.columns:
            raise DatasetError(f"model ratings {name!r}: a long table needs a rating or score column")
        long = scores[["image", "emotion", value]].rename(columns={value: "rating"})
    else:
        cols = [c for c in scores.columns if str(c).split("|")[-1].strip() in EMONET40]
        if not cols:
            raise DatasetError(f"model ratings {name!r}: neither an emotion column nor EmoNet-40 columns "
                               f"(found {list(scores.columns)[:8]})")
        long = scores.melt(id_vars="image", value_vars=cols, var_name="emotion", value_name="rating")
    num = pd.to_numeric(long["rating"], errors="coerce")
    bad = num.isna() & long["rating"].notna()
    if bad.any():
        raise DatasetError(f"model ratings {name!r}: non-numeric outputs {list(long['rating'][bad].unique()[:5])}")
    long = long.assign(rating=num).dropna(subset=["rating"])
    if len(long) and long["rating"].max() <= 1:
        warnings.warn(f"model ratings {name!r}: all outputs are <= 1; scale [0, 1] outputs to 0..7 first",
                      stacklevel=2)
    rating = np.clip(np.floor(long["rating"].to_numpy(np.float64) + 0.5), 0, MAX_RATING).astype(np.int64)
    frame = pd.DataFrame({"image": long["image"].astype(str).to_numpy(), "emotion": long["emotion"].to_numpy(),
                          "annotator": name, "rating": rating})
    return validate_ratings(frame, source=f"model ratings {name!r}")


_as_model_ratings = model_ratings  # evaluate_agreement's parameter of the same name hides the function


def read_model_ratings(path: str | Path, name: str) -> pd.DataFrame:
    """Read a model's outputs (long or wide csv, see :func:`model_ratings`) as ratings by ``name``."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"model ratings file {path} does not exist")
    frame = pd.read_csv(path, dtype={"image": str})
    return model_ratings(frame.drop(columns=["annotator"], errors="ignore"), name)


# ---------------------------------------------------------------------------------------------------- kappa --
def _emotion_arg(emotion: str) -> str:
    """An EmoNet-40 name given to a function ("group|emotion" allowed); ValueError naming it otherwise."""
    name = emotion.split("|")[-1].strip()
    if name not in EMONET40:
        raise ValueError(f"unknown EmoNet-40 category {emotion!r}")
    return name


def pairwise_kappa(ratings: pd.DataFrame, emotion: str, a: str, b: str) -> float | None:
    """Quadratic-weighted Cohen's kappa (sklearn, labels 0..7) of raters ``a`` and ``b`` on one emotion.

    ``ratings`` is a validated table (:func:`read_ratings` / :func:`validate_ratings`); ``emotion`` may be a
    "group|emotion" key. Uses the images both rated. Returns None when they share fewer than 2 images, or when
    kappa is undefined: both gave one and the same rating throughout (expected disagreement 0, so 0/0; sklearn
    returns NaN). None means "no information", so averages skip it rather than count it as 0 or 1.
    """
    from sklearn.metrics import cohen_kappa_score  # lazy: sklearn.metrics takes a second to import

    part = ratings[(ratings["emotion"] == _emotion_arg(emotion)) & ratings["annotator"].isin([a, b])]
    both = part.pivot(index="image", columns="annotator", values="rating").reindex(columns=[a, b]).dropna()
    if len(both) < 2:
        return None
    x, y = both[a].to_numpy(np.int64), both[b].to_numpy(np.int64)
    if (x == x[0]).all() and (y == x[0]).all():
        return None
    kappa = float(cohen_kappa_score(x, y, weights="quadratic", labels=list(range(MAX_RATING + 1))))
    return None if np.isnan(kappa) else kappa


def kappa_matrix(matrix: np.ndarray) -> np.ndarray:
    """Quadratic-weighted kappa of every pair of rater columns of ``matrix`` (images, raters), NaN = not rated.

    The same number as sklearn's ``cohen_kappa_score(weights="quadratic")`` on each pair's shared images, in
    closed form: kappa = 1 - n * sum (x - y)^2 / (n sum x^2 + n sum y^2 - 2 sum x sum y); sums of small integers
    are exact in float64. NaN where undefined (see :func:`pairwise_kappa`) and on the diagonal.
    """
    seen = ~np.isnan(matrix)
    x = np.where(seen, matrix, 0.0)  # [I, R]
    m = seen.astype(np.float64)
    n = m.T @ m  # [R, R] shared images
    s1 = x.T @ m  # s1[a, b]: sum of a's ratings on images b also rated
    s2 = (x * x).T @ m
    sxy = x.T @ x
    num = n * (s2 + s2.T - 2 * sxy)
    den = n * (s2 + s2.T) - 2 * s1 * s1.T
    ok = (n >= 2) & (den > 0)
    kappa = np.full_like(n, np.nan)
    kappa[ok] = 1 - num[ok] / den[ok]
    np.fill_diagonal(kappa, np.nan)
    return kappa


def _nanmean(values: np.ndarray, axis: int | None = None) -> np.ndarray | float:
    """Mean that skips NaN and gives NaN (without a warning) where nothing is left."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(values, axis=axis)


def _rater_scores(kappa: np.ndarray, n_humans: int) -> np.ndarray:
    """[human score, model 1 score, ...] from one emotion's kappa matrix whose first ``n_humans`` columns are humans."""
    hh = kappa[:n_humans, :n_humans]
    human = _nanmean(_nanmean(hh, axis=1)) if n_humans > 1 else np.nan
    models = _nanmean(kappa[n_humans:, :n_humans], axis=1) if len(kappa) > n_humans else np.empty(0)
    return np.concatenate([[human], np.atleast_1d(models)])


def _emotion_matrices(ratings: pd.DataFrame, raters: Sequence[str]) -> dict[str, np.ndarray]:
    """One (images, raters) float matrix per emotion in EMONET40 order, NaN where a rater did not rate the image."""
    part = ratings[ratings["annotator"].isin(raters)]
    wide = part.set_index(["emotion", "image", "annotator"])["rating"].unstack("annotator")
    wide = wide.reindex(columns=list(raters)).astype(np.float64)
    present = set(wide.index.get_level_values(0))
    return {e: wide.xs(e, level=0).to_numpy() for e in EMONET40 if e in present}


@dataclass(frozen=True)
class AgreementTable:
    """Per-emotion kappa scores (index emotion, one column per rater: "human" then models) and their summary.

    ``summary`` has one row per rater: mean, std (ddof=1), median and number of emotions with a defined score,
    and the best emotion with its kappa. Emotions without a defined kappa are skipped, not counted as 0.
    """

    per_emotion: pd.DataFrame
    summary: pd.DataFrame

    def to_json(self) -> dict:
        """JSON-ready dict: per emotion scores and per rater summary (NaN as None)."""
        return {"per_emotion": _records(self.per_emotion.reset_index()),
                "summary": {r: _clean(row) for r, row in self.summary.to_dict("index").items()}}


def _summarise(per_emotion: pd.DataFrame) -> pd.DataFrame:
    rows = {}
    for rater, col in per_emotion.items():
        col = col.dropna()
        best = col.idxmax() if len(col) else None
        rows[rater] = {"mean": col.mean(), "std": col.std(ddof=1), "median": col.median(), "n_emotions": len(col),
                       "best_emotion": best, "best_kappa": col[best] if best is not None else np.nan}
    return pd.DataFrame.from_dict(rows, orient="index")


def _split_raters(ratings: pd.DataFrame, humans: Sequence[str] | None,
                  models: Sequence[str] | None) -> tuple[list[str], list[str]]:
    """Humans default to every annotator that is not a model; a name used twice or called "human" is an error."""
    names = list(dict.fromkeys(ratings["annotator"]))
    models = list(models or [])
    humans = list(humans) if humans is not None else [a for a in names if a not in models]
    unknown = [r for r in humans + models if r not in names]
    if unknown:
        raise ValueError(f"raters {unknown} have no ratings; annotators present: {names[:10]}")
    clash = set(humans) & set(models) | (_RESERVED & set(models))
    if clash:
        raise ValueError(f"rater names {sorted(clash)} are used for both humans and models, or reserved "
                         f"({sorted(_RESERVED)})")
    return humans, models


def agreement_table(ratings: pd.DataFrame, humans: Sequence[str] | None = None,
                    models: Sequence[str] | None = None) -> AgreementTable:
    """Kappa agreement per emotion for the humans (mean over humans of each one's mean kappa vs the others) and for
    each model (mean kappa vs every human), plus the summary over emotions (see :class:`AgreementTable`).

    ``humans`` defaults to every annotator not in ``models``.
    """
    ratings = validate_ratings(ratings)
    humans, models = _split_raters(ratings, humans, models)
    mats = _emotion_matrices(ratings, humans + models)
    return _table({e: _rater_scores(kappa_matrix(m), len(humans)) for e, m in mats.items()}, models)


def _table(scores: dict[str, np.ndarray], models: Sequence[str]) -> AgreementTable:
    per_emotion = pd.DataFrame.from_dict(scores, orient="index", columns=[HUMAN, *models]).rename_axis("emotion")
    return AgreementTable(per_emotion=per_emotion, summary=_summarise(per_emotion))


# ---------------------------------------------------------------------------------------------------- alpha --
def _unit_stats(reliability_data: np.ndarray) -> np.ndarray:
    """Per pairable unit (>= 2 values): [m, sum x, sum x^2, observed disagreement 2 m SS / (m - 1)], shape [U, 4]."""
    data = np.asarray(reliability_data, dtype=np.float64)  # [raters, units]
    seen = ~np.isnan(data)
    m = seen.sum(0).astype(np.float64)
    x = np.where(seen, data, 0.0)
    s1, s2 = x.sum(0), (x * x).sum(0)
    keep = m >= 2
    m, s1, s2 = m[keep], s1[keep], s2[keep]
    ss = np.maximum(s2 - s1 * s1 / m, 0.0)  # within-unit sum of squares
    return np.stack([m, s1, s2, 2 * m * ss / (m - 1)], axis=1)


def _alpha_from_sums(sums: np.ndarray) -> np.ndarray:
    """Interval alpha = 1 - (n - 1) D_o / (2 n SS_total) from summed unit stats [..., 4]; NaN when undefined."""
    n, s1, s2, d_o = np.moveaxis(sums, -1, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        d_e = 2 * n * (s2 - s1 * s1 / n)
        out = 1 - (n - 1) * d_o / d_e
    return np.where((n >= 2) & (d_e > 1e-12 * np.maximum(n * s2, 1.0)), out, np.nan)


def interval_alpha(reliability_data: np.ndarray) -> float:
    """Krippendorff's alpha, interval metric, of a (raters, units) array with NaN = missing, in closed form.

    Equals ``krippendorff.alpha(level_of_measurement="interval")`` (pairs within a unit contribute (x_i - x_j)^2,
    which sums to 2 m SS per unit), but takes any real values and is cheap enough to bootstrap. NaN when no unit
    has 2 values or all values are equal.
    """
    return float(_alpha_from_sums(_unit_stats(reliability_data).sum(0)))


def bootstrap_interval_alpha(reliability_data: np.ndarray, n_boot: int = 1000, seed: int = 42,
                             ci: float = 0.95) -> tuple[float, float]:
    """Percentile-bootstrap interval of :func:`interval_alpha`, resampling units (images) with replacement.

    Only pairable units (rated by >= 2 raters) are resampled: the others add nothing to either disagreement.
    Resamples whose alpha is undefined are left out. ``n_boot=0`` gives (NaN, NaN).
    """
    stats = _unit_stats(reliability_data)
    if n_boot <= 0 or len(stats) < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    n_units = len(stats)
    alphas = np.empty(n_boot)
    step = max(1, 1_000_000 // n_units)  # bound the [step, U] draw and count blocks
    for start in range(0, n_boot, step):
        idx = rng.integers(0, n_units, size=(min(step, n_boot - start), n_units))  # [B, U] drawn units
        flat = (idx + n_units * np.arange(len(idx))[:, None]).ravel()
        counts = np.bincount(flat, minlength=idx.size).reshape(idx.shape).astype(np.float64)  # [B, U] multiplicity
        alphas[start:start + len(idx)] = _alpha_from_sums(counts @ stats)  # [B, 4] -> [B]
    if np.isnan(alphas).all():
        return float("nan"), float("nan")
    lo, hi = np.nanquantile(alphas, [(1 - ci) / 2, 1 - (1 - ci) / 2])
    return float(lo), float(hi)


def _package_alpha(reliability_data: np.ndarray) -> float:
    """The krippendorff package's interval alpha; NaN where it refuses (one value only, no pairable unit)."""
    import krippendorff

    try:
        return float(krippendorff.alpha(reliability_data=reliability_data, level_of_measurement="interval"))
    except ValueError:
        return float("nan")


def krippendorff_alpha(ratings: pd.DataFrame, emotion: str, annotators: Sequence[str] | None = None,
                       n_boot: int = 1000, seed: int = 42) -> tuple[float, float, float]:
    """Krippendorff's alpha (interval, ``krippendorff`` package) of ``annotators`` (default: all) on one emotion,
    with a 95 % percentile-bootstrap CI over images (:func:`bootstrap_interval_alpha`). Returns (alpha, lo, hi);
    NaN where undefined."""
    ratings, emotion = validate_ratings(ratings), _emotion_arg(emotion)
    raters = list(annotators) if annotators is not None else list(dict.fromkeys(ratings["annotator"]))
    mats = _emotion_matrices(ratings[ratings["emotion"] == emotion], raters)
    if emotion not in mats:
        return float("nan"), float("nan"), float("nan")
    data = mats[emotion].T  # [raters, images]
    return (_package_alpha(data), *bootstrap_interval_alpha(data, n_boot, seed))


# ------------------------------------------------------------------------------------------- model vs human --
def could_be_annotator(model_kappas: Sequence[float] | np.ndarray, human_kappas: Sequence[float] | np.ndarray,
                       alpha: float = 0.05, n_boot: int = 1000, seed: int = 42) -> dict:
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
    out = {"u_statistic": None, "p_value": None, "mean_difference": None, "difference_lo": None,
           "difference_hi": None, "n_model": int(len(x)), "n_human": int(len(y)), "alpha": alpha,
           "could_be_annotator": None}
    if len(x) < 2 or len(y) < 2:
        return out | {"reason": "fewer than 2 emotions with a defined kappa on one side"}
    test = mannwhitneyu(x, y, alternative="two-sided")
    rng = np.random.default_rng(seed)
    diffs = (x[rng.integers(0, len(x), (n_boot, len(x)))].mean(1) -
             y[rng.integers(0, len(y), (n_boot, len(y)))].mean(1)) if n_boot > 0 else np.array([np.nan])
    lo, hi = np.quantile(diffs, [0.025, 0.975])
    return out | {"u_statistic": float(test.statistic), "p_value": float(test.pvalue),
                  "mean_difference": float(x.mean() - y.mean()), "difference_lo": float(lo),
                  "difference_hi": float(hi), "could_be_annotator": bool(test.pvalue > alpha)}


# ---------------------------------------------------------------------------------------------------- report --
def _clean(obj):
    """Numpy scalars to Python, NaN to None, recursively: for json.dumps."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return None if np.isnan(obj) else float(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def _records(frame: pd.DataFrame) -> list[dict]:
    return [_clean(r) for r in frame.to_dict("records")]


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
            [e for e in EMONET40 if e in self.table.per_emotion.index])
        frame.insert(0, "group", [_GROUP_OF[e] for e in frame.index])
        return frame.reset_index()

    def to_json(self) -> dict:
        """JSON-ready dict (NaN as None)."""
        alpha = self.alpha["alpha"].dropna()
        return _clean({"humans": list(self.humans), "models": list(self.models), "n_images": self.n_images,
                       "n_emotions": len(self.table.per_emotion), "n_boot": self.n_boot, "seed": self.seed,
                       "per_emotion": _records(self.to_frame()),
                       "summary": self.table.to_json()["summary"],
                       "alpha_summary": {"mean": alpha.mean(), "median": alpha.median(),
                                         "n_emotions": len(alpha)},
                       "verdicts": self.verdicts})


def evaluate_agreement(ratings: pd.DataFrame, model_ratings: dict[str, pd.DataFrame] | None = None, *,
                       humans: Sequence[str] | None = None, n_boot: int = 1000, seed: int = 42, alpha: float = 0.05,
                       progress: bool = False) -> AgreementReport:
    """The whole evaluation protocol of METHODS.md 4.4 in one pass over the emotions.

    Parameters
    ----------
    ratings : the humans' long ratings table (validated here).
    model_ratings : model name -> its outputs, long or wide, continuous 0..7 allowed (converted by
        :func:`model_ratings`: rounded half up and clipped; any annotator column is replaced by the name).
    humans : which annotators of ``ratings`` are humans (default: all).
    n_boot, seed : bootstrap resamples and seed for the alpha CIs and the kappa-difference CIs.
    alpha : significance level of the "could be an annotator" test.
    progress : show a tqdm bar over the emotions.
    """
    ratings = validate_ratings(ratings)
    extra = [_as_model_ratings(f.drop(columns=["annotator"], errors="ignore"), name)
             for name, f in (model_ratings or {}).items()]
    combined = pd.concat([ratings, *extra], ignore_index=True) if extra else ratings
    humans, models = _split_raters(combined, humans, list(model_ratings or {}))
    raters = humans + models
    mats = _emotion_matrices(combined, raters)
    scores, alphas = {}, {}
    for emotion in progress_iter(list(mats), show=progress, desc="agreement"):
        mat = mats[emotion]  # [images, raters]
        scores[emotion] = _rater_scores(kappa_matrix(mat), len(humans))
        human = mat[:, :len(humans)].T  # [humans, images]
        lo, hi = bootstrap_interval_alpha(human, n_boot, seed)
        alphas[emotion] = {"alpha": _package_alpha(human) if len(humans) > 1 else np.nan, "alpha_lo": lo,
                           "alpha_hi": hi, "n_images": int(((~np.isnan(human)).sum(0) >= 2).sum())}
    table = _table(scores, models)
    alpha_frame = pd.DataFrame.from_dict(alphas, orient="index",
                                         columns=["alpha", "alpha_lo", "alpha_hi", "n_images"]).rename_axis("emotion")
    human_k = table.per_emotion[HUMAN].to_numpy()
    verdicts = {m: could_be_annotator(table.per_emotion[m].to_numpy(), human_k, alpha, n_boot, seed) for m in models}
    return AgreementReport(table=table, alpha=alpha_frame, verdicts=verdicts, humans=tuple(humans),
                           models=tuple(models), n_images=int(ratings["image"].nunique()), n_boot=n_boot, seed=seed)


# ----------------------------------------------------------------------------------------------- simulation --
def simulate_annotators(truth: pd.DataFrame, n_annotators: int = 4, noise: float | Sequence[float] = 0.7,
                        miss_rate: float = 0.0, bias: float | Sequence[float] = 0.0, seed: int = 0,
                        prefix: str = "human-") -> pd.DataFrame:
    """Ratings by simulated annotators of a true-intensity table, for tests and synthetic EmoNet sets.

    Each annotator rates ``intensity + offset + N(0, noise^2)``, rounded half up and clipped to 0..7.

    Parameters
    ----------
    truth : columns image, emotion (EmoNet-40, "group|emotion" allowed), intensity (float, 0..7).
    n_annotators : annotators, named ``f"{prefix}{i}"`` for i = 1..n.
    noise : standard deviation of the per-rating noise; a sequence gives one per annotator.
    miss_rate : probability that an annotator did not rate an image at all (all its emotions missing).
    bias : a float is the standard deviation of each annotator's constant offset (drawn once per annotator);
        a sequence gives the offsets themselves.
    seed : the same seed and inputs give the same table.
    """
    missing = [c for c in ("image", "emotion", "intensity") if c not in truth.columns]
    if missing:
        raise DatasetError(f"truth table: missing columns {missing} (found {list(truth.columns)})")
    if n_annotators < 1 or not 0 <= miss_rate < 1:
        raise ValueError(f"need n_annotators >= 1 and 0 <= miss_rate < 1, got {n_annotators}, {miss_rate}")
    emotion = _canonical_emotions(truth["emotion"], "truth table", None)
    rng = np.random.default_rng(seed)
    sd = np.broadcast_to(np.asarray(noise, dtype=np.float64), (n_annotators,))
    offsets = (np.asarray(bias, dtype=np.float64) if np.ndim(bias) else rng.normal(0.0, float(bias), n_annotators))
    offsets = np.broadcast_to(offsets, (n_annotators,))
    image_id, images = pd.factorize(truth["image"].astype(str))
    rated = rng.random((len(images), n_annotators)) >= miss_rate  # [images, annotators]
    value = truth["intensity"].to_numpy(np.float64)[:, None] + offsets + rng.standard_normal(
        (len(truth), n_annotators)) * sd  # [rows, annotators]
    rating = np.clip(np.floor(value + 0.5), 0, MAX_RATING).astype(np.int64)
    keep = rated[image_id]
    rows, cols = np.nonzero(keep)
    return pd.DataFrame({"image": np.asarray(images)[image_id[rows]], "emotion": emotion.to_numpy()[rows],
                         "annotator": np.array([f"{prefix}{i + 1}" for i in range(n_annotators)])[cols],
                         "rating": rating[rows, cols]})


# ------------------------------------------------------------------------------------------------------- CLI --
def report_from_files(ratings_path: str | Path, model_specs: Sequence[str] | None = None, n_boot: int = 1000,
                      progress: bool = False) -> AgreementReport:
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
    lines = [f"EmoNet-40 agreement: {len(report.humans)} human raters, {report.n_images} images, "
             f"{len(report.table.per_emotion)} emotions; models: {', '.join(report.models) or 'none'}",
             "quadratic-weighted Cohen's kappa (human: mean over humans of the mean vs every other human; model: "
             f"mean vs every human); Krippendorff's alpha of the humans (interval, 95% bootstrap CI, "
             f"{report.n_boot} resamples)", "",
             f"  {'emotion':{width}s}" + "".join(f"{r[:12]:>13s}" for r in raters) + f"{'alpha':>8s}  95% CI"]
    frame = report.to_frame().set_index("emotion")
    for emotion, row in frame.iterrows():
        lines.append(f"  {emotion:{width}s}" + "".join(_f(row[r], 13) for r in raters) + _f(row["alpha"], 8) +
                     f"  [{_f(row['alpha_lo'], 6)}, {_f(row['alpha_hi'], 6)}]")
    lines += ["", "summary over emotions (kappa)", f"  {'rater':14s}{'mean':>8s}{'std':>8s}{'median':>8s}{'n':>5s}"
              "  best emotion"]
    for rater, s in report.table.summary.iterrows():
        best = f"{s['best_emotion']} ({s['best_kappa']:.3f})" if isinstance(s["best_emotion"], str) else "-"
        lines.append(f"  {str(rater)[:14]:14s}{_f(s['mean'], 8)}{_f(s['std'], 8)}{_f(s['median'], 8)}"
                     f"{int(s['n_emotions']):5d}  {best}")
    a = report.alpha["alpha"].dropna()
    lines.append(f"  human alpha: mean {_f(a.mean() if len(a) else None, 0)}, median "
                 f"{_f(a.median() if len(a) else None, 0)} over {len(a)} emotions")
    if report.verdicts:
        lines += ["", "could the model be an annotator? (two-sided Mann-Whitney U, per-emotion kappa vs humans "
                      "against human vs human; yes when p > alpha)"]
    for model, v in report.verdicts.items():
        if v["could_be_annotator"] is None:
            lines.append(f"  {model}: undecided ({v.get('reason')})")
            continue
        lines.append(f"  {model}: {'yes' if v['could_be_annotator'] else 'no'} (p = {v['p_value']:.3g}, alpha "
                     f"{v['alpha']}; mean kappa difference {v['mean_difference']:+.3f} [{v['difference_lo']:+.3f}, "
                     f"{v['difference_hi']:+.3f}])")
    return "\n".join(lines)
