"""The canonical dataset manifest: one row per image (path, split, label, AUs, subject, groups, source, ...).

``read_manifest`` loads a CSV or Parquet manifest; ``validate_manifest`` checks it against the files on disk and a
label set from :mod:`fer_core.taxonomy`, raising :class:`fer_core.errors.DatasetError` with a message that says
what is wrong and what to do.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import DatasetError
from ..taxonomy import LABEL_SETS
from ..taxonomy import label_set as _label_set

REQUIRED_COLUMNS: tuple[str, ...] = ("path", "label")
#: Columns read as text whatever they contain (so subject "007" stays "007" and empty AU lists stay "").
TEXT_COLUMNS: tuple[str, ...] = (
    "path",
    "split",
    "label",
    "label_set",
    "aus",
    "subject",
    "gender",
    "age",
    "race",
    "skin_tone",
    "lighting",
    "occluder",
    "mask_path",
    "source",
    "true_label",
)
MAX_LISTED = 10

MSG_NOT_FOUND = "manifest {path} does not exist"
MSG_FORMAT = "manifest {path} must be a .csv or .parquet file"
MSG_UNREADABLE = "manifest {path} could not be read: {error}"
MSG_EMPTY = "manifest has no rows"
MSG_MISSING_COLUMNS = "manifest is missing required column(s): {missing}; a manifest needs at least: {required}"
MSG_MISSING_FILES = "{count} file(s) listed in the manifest are missing under {root}: {listed}{more}"
MSG_UNKNOWN_LABELS = "unknown label(s) {labels} for label set {name!r}; known labels: {known}"
MSG_MIXED_TAXONOMIES = (
    "manifest mixes label sets {names}; write one manifest per label set (or map the labels to one set first)"
)
MSG_LABEL_SET_CONFLICT = "manifest rows use label set {found!r} but label set {wanted!r} was requested"
MSG_UNKNOWN_LABEL_SET = "unknown label set {name!r}; known: {known}"
MSG_BAD_SPLITS = (
    "manifest column 'split' has value(s) {values}; every row needs one of train, val, test (or leave "
    "the whole column empty to split by subject automatically)"
)
SPLITS: tuple[str, ...] = ("train", "val", "test")


def read_manifest(path: str | Path) -> pd.DataFrame:
    """Load a manifest (``.csv`` or ``.parquet``); text columns stay text and empty cells stay empty strings."""
    p = Path(path)
    if not p.is_file():
        raise DatasetError(MSG_NOT_FOUND.format(path=p))
    suffix = p.suffix.lower()
    try:
        if suffix == ".csv":
            head = pd.read_csv(p, nrows=0)
            dtypes = {c: str for c in head.columns if c in TEXT_COLUMNS}
            df = pd.read_csv(p, dtype=dtypes, keep_default_na=False, na_values={c: [] for c in head.columns})
        elif suffix in (".parquet", ".pq"):
            df = pd.read_parquet(p)
        else:
            raise DatasetError(MSG_FORMAT.format(path=p))
    except DatasetError:
        raise
    except Exception as exc:  # pandas/pyarrow raise many types for bad files
        raise DatasetError(MSG_UNREADABLE.format(path=p, error=exc)) from exc
    return df


def _resolve_label_set(df: pd.DataFrame, label_set: str | None) -> str | None:
    found: list[str] = []
    if "label_set" in df.columns:
        vals = df["label_set"].dropna().astype(str).str.strip()
        found = sorted(set(v for v in vals if v))
    if len(found) > 1:
        raise DatasetError(MSG_MIXED_TAXONOMIES.format(names=", ".join(found)))
    if label_set is not None and found and found[0] != label_set:
        raise DatasetError(MSG_LABEL_SET_CONFLICT.format(found=found[0], wanted=label_set))
    name = label_set if label_set is not None else (found[0] if found else None)
    if name is not None and name not in LABEL_SETS:
        raise DatasetError(MSG_UNKNOWN_LABEL_SET.format(name=name, known=", ".join(LABEL_SETS)))
    return name


def _check_splits(df: pd.DataFrame) -> None:
    """A split column is either all empty (split automatically) or train/val/test on every row: a typo such as
    "banana" or "Train" must not silently drop rows or re-split the data."""
    if "split" not in df.columns:
        return
    values = df["split"].fillna("").astype(str).str.strip()
    if (values == "").all():
        return
    bad = values[~values.isin(SPLITS)].value_counts()
    if len(bad):
        listed = ", ".join(f"{v!r} ({n} row{'s' if n != 1 else ''})" for v, n in bad.head(MAX_LISTED).items())
        raise DatasetError(MSG_BAD_SPLITS.format(values=listed))


def validate_manifest(
    df: pd.DataFrame, root: str | Path | None = None, label_set: str | None = None, require_labels: bool = True
) -> pd.DataFrame:
    """Check a manifest; return it unchanged or raise :class:`DatasetError`.

    ``require_labels=False`` (the label-free audits: photo sets with attributes and no expression labels) needs
    only ``path``; labels that are present are still checked, empty cells are unlabelled rows.

    Checks, in order: required columns (``path``, ``label``); at least one row; a ``split`` column, if present,
    holds train/val/test on every row or is empty throughout; one label set only (the
    ``label_set`` column, if present, must hold a single value that agrees with the ``label_set`` argument);
    every label in that label set (skipped when neither names one); every ``path`` (and ``mask_path`` when
    present and non-empty) exists under ``root`` (skipped when ``root`` is None). Relative paths are relative to
    ``root``.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns and (require_labels or c != "label")]
    if missing:
        raise DatasetError(MSG_MISSING_COLUMNS.format(missing=", ".join(missing), required=", ".join(REQUIRED_COLUMNS)))
    if len(df) == 0:
        raise DatasetError(MSG_EMPTY)
    _check_splits(df)
    name = _resolve_label_set(df, label_set)
    if name is not None and "label" in df.columns:
        known = _label_set(name)
        labels = df["label"].astype(str)
        if not require_labels:
            labels = labels[df["label"].notna() & (labels.str.strip() != "")]
        unknown = sorted(set(labels) - set(known))
        if unknown:
            raise DatasetError(
                MSG_UNKNOWN_LABELS.format(labels=", ".join(repr(u) for u in unknown), name=name, known=", ".join(known))
            )
    if root is not None:
        base = Path(root)
        paths = list(df["path"].astype(str))
        if "mask_path" in df.columns:
            paths += [m for m in df["mask_path"].fillna("").astype(str) if m]
        absent = [p for p in paths if not (base / p).is_file()]
        if absent:
            more = f" (and {len(absent) - MAX_LISTED} more)" if len(absent) > MAX_LISTED else ""
            raise DatasetError(
                MSG_MISSING_FILES.format(count=len(absent), root=base, listed=", ".join(absent[:MAX_LISTED]), more=more)
            )
    return df


def resolve_paths(df: pd.DataFrame, root: str | Path) -> list[Path]:
    """Absolute image paths: relative ``path`` entries are relative to ``root`` (the manifest's folder)."""
    base = Path(root)
    return [Path(p) if Path(p).is_absolute() else base / p for p in df["path"].astype(str)]


__all__ = [
    "MSG_EMPTY",
    "MSG_LABEL_SET_CONFLICT",
    "MSG_MISSING_COLUMNS",
    "MSG_MISSING_FILES",
    "MSG_MIXED_TAXONOMIES",
    "MSG_UNKNOWN_LABELS",
    "MSG_UNKNOWN_LABEL_SET",
    "REQUIRED_COLUMNS",
    "read_manifest",
    "resolve_paths",
    "validate_manifest",
]
