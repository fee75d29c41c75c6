"""Ratings tables: validating and reading human ratings, a model's outputs as ratings, simulated annotators."""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DatasetError
from ..taxonomy import EMONET40

RATING_COLUMNS: tuple[str, ...] = ("image", "emotion", "annotator", "rating")
MAX_RATING = 7

MSG_MISSING_COLUMNS = (
    "{source}: missing columns {missing}; a ratings table needs image, emotion, annotator, rating (found {found})"
)
MSG_UNKNOWN_EMOTION = "{source}: unknown EmoNet-40 categories {values} ({where}){hint}"
MSG_YES_NO = (
    "{source}: yes/no judgements ({where}) are not ordinal ratings; agreement needs intensities 0..7 "
    "(0 = not present), so the Binary set's yes/no labels cannot be used here"
)
MSG_BAD_RATING = "{source}: ratings must be integers 0..7 (0 = not present), got {values} ({where})"
MSG_DUPLICATE = "{source}: {n} rows rate the same (image, emotion, annotator) twice, e.g. {examples}"
_YES_NO = {"yes", "no", "y", "n", "true", "false"}


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
        hint = (
            "; did you mean " + ", ".join(f"{c[0]!r} for {v!r}" for v, c in close.items() if c)
            if any(close.values())
            else ""
        )
        raise DatasetError(
            MSG_UNKNOWN_EMOTION.format(source=source, values=values[:5], where=_where(bad, first_row), hint=hint)
        )
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
    frame
        Long table with columns image, emotion, annotator, rating (extra columns are dropped).
    source
        Name used in error messages (e.g. the csv path).
    first_row
        Csv line number of the first data row, to name bad rows by line; None names them by position.

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
    out = out.assign(
        image=out["image"].astype(str),
        annotator=out["annotator"].astype(str),
        emotion=_canonical_emotions(out["emotion"], source, first_row),
    )
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
            raise DatasetError(
                f"model ratings {name!r}: neither an emotion column nor EmoNet-40 columns "
                f"(found {list(scores.columns)[:8]})"
            )
        long = scores.melt(id_vars="image", value_vars=cols, var_name="emotion", value_name="rating")
    num = pd.to_numeric(long["rating"], errors="coerce")
    bad = num.isna() & long["rating"].notna()
    if bad.any():
        raise DatasetError(f"model ratings {name!r}: non-numeric outputs {list(long['rating'][bad].unique()[:5])}")
    long = long.assign(rating=num).dropna(subset=["rating"])
    if len(long) and long["rating"].max() <= 1:
        warnings.warn(f"model ratings {name!r}: all outputs are <= 1; scale [0, 1] outputs to 0..7 first", stacklevel=2)
    rating = np.clip(np.floor(long["rating"].to_numpy(np.float64) + 0.5), 0, MAX_RATING).astype(np.int64)
    frame = pd.DataFrame(
        {
            "image": long["image"].astype(str).to_numpy(),
            "emotion": long["emotion"].to_numpy(),
            "annotator": name,
            "rating": rating,
        }
    )
    return validate_ratings(frame, source=f"model ratings {name!r}")


def read_model_ratings(path: str | Path, name: str) -> pd.DataFrame:
    """Read a model's outputs (long or wide csv, see :func:`model_ratings`) as ratings by ``name``."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"model ratings file {path} does not exist")
    frame = pd.read_csv(path, dtype={"image": str})
    return model_ratings(frame.drop(columns=["annotator"], errors="ignore"), name)


# ----------------------------------------------------------------------------------------------- simulation --
def simulate_annotators(
    truth: pd.DataFrame,
    n_annotators: int = 4,
    noise: float | Sequence[float] = 0.7,
    miss_rate: float = 0.0,
    bias: float | Sequence[float] = 0.0,
    seed: int = 0,
    prefix: str = "human-",
) -> pd.DataFrame:
    """Ratings by simulated annotators of a true-intensity table, for tests and synthetic EmoNet sets.

    Each annotator rates ``intensity + offset + N(0, noise^2)``, rounded half up and clipped to 0..7.

    Parameters
    ----------
    truth
        Columns image, emotion (EmoNet-40, "group|emotion" allowed), intensity (float, 0..7).
    n_annotators
        Annotators, named ``f"{prefix}{i}"`` for i = 1..n.
    noise
        Standard deviation of the per-rating noise; a sequence gives one per annotator.
    miss_rate
        Probability that an annotator did not rate an image at all (all its emotions missing).
    bias
        A float is the standard deviation of each annotator's constant offset (drawn once per annotator);
        a sequence gives the offsets themselves.
    seed
        The same seed and inputs give the same table.
    prefix
        Start of each annotator's name, so simulated raters can't collide with real ones.

    Returns
    -------
    pandas.DataFrame
        Long ratings table (image, emotion, annotator, rating 0..7); images an annotator missed have no rows.

    Raises
    ------
    DatasetError
        When ``truth`` lacks one of the columns image, emotion, intensity, or names an unknown emotion.
    ValueError
        When ``n_annotators < 1`` or ``miss_rate`` is outside [0, 1).
    """
    missing = [c for c in ("image", "emotion", "intensity") if c not in truth.columns]
    if missing:
        raise DatasetError(f"truth table: missing columns {missing} (found {list(truth.columns)})")
    if n_annotators < 1 or not 0 <= miss_rate < 1:
        raise ValueError(f"need n_annotators >= 1 and 0 <= miss_rate < 1, got {n_annotators}, {miss_rate}")
    emotion = _canonical_emotions(truth["emotion"], "truth table", None)
    rng = np.random.default_rng(seed)
    sd = np.broadcast_to(np.asarray(noise, dtype=np.float64), (n_annotators,))
    offsets = np.asarray(bias, dtype=np.float64) if np.ndim(bias) else rng.normal(0.0, float(bias), n_annotators)
    offsets = np.broadcast_to(offsets, (n_annotators,))
    image_id, images = pd.factorize(truth["image"].astype(str))
    rated = rng.random((len(images), n_annotators)) >= miss_rate  # [images, annotators]
    value = (
        truth["intensity"].to_numpy(np.float64)[:, None]
        + offsets
        + rng.standard_normal((len(truth), n_annotators)) * sd
    )  # [rows, annotators]
    rating = np.clip(np.floor(value + 0.5), 0, MAX_RATING).astype(np.int64)
    keep = rated[image_id]
    rows, cols = np.nonzero(keep)
    return pd.DataFrame(
        {
            "image": np.asarray(images)[image_id[rows]],
            "emotion": emotion.to_numpy()[rows],
            "annotator": np.array([f"{prefix}{i + 1}" for i in range(n_annotators)])[cols],
            "rating": rating[rows, cols],
        }
    )
