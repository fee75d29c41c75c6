"""Reviewed labels out of the store: a canonical manifest CSV that training and evaluation read like any other."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from ..errors import StoreError
from ._records import MSG_NOTHING_TO_EXPORT
from ._reports import accepted

__all__ = ["MANIFEST_COLUMNS", "write_manifest"]

MANIFEST_COLUMNS: tuple[str, ...] = (
    "path",
    "label",
    "label_set",
    "source",
    "proposed_label",
    "true_label",
    "confidence",
    "votes",
    "num_reviews",
    "reviewers",
)


def write_manifest(
    consensus: pd.DataFrame,
    batch_name: str,
    label_set: str | None,
    out_path: str | Path,
    root: str | Path | None = None,
) -> Path:
    """Write the accepted consensus rows as a manifest (atomically) and check it with the manifest reader.

    ``source`` is ``review:<batch>``; ``label_set`` is the batch's (empty when it has none). With ``root``, every
    image path must also exist under it (see :func:`fer_core.data.manifest.validate_manifest`).
    """
    from ..data.manifest import read_manifest, validate_manifest  # lazy: fer_core.data imports torch

    rows = accepted(consensus)
    if rows.empty:
        raise StoreError(MSG_NOTHING_TO_EXPORT.format(batch=batch_name, reviewed=len(consensus)))
    frame = rows.assign(
        label_set=label_set or "", source=f"review:{batch_name}", true_label=rows["true_label"].fillna("")
    )[list(MANIFEST_COLUMNS)]
    out = Path(out_path)
    if out.suffix.lower() != ".csv":
        raise ValueError(f"out_path must be a .csv file, got {out}")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.stem}.{os.getpid()}.tmp.csv")  # the manifest reader goes by the suffix
    frame.to_csv(tmp, index=False)
    try:
        validate_manifest(read_manifest(tmp), root=root, label_set=label_set)
    except Exception:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(out)
    return out
