"""Private helpers shared by the agreement modules: emotion-name arguments, per-emotion rating matrices and
JSON cleaning."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..taxonomy import EMONET40


def _emotion_arg(emotion: str) -> str:
    """An EmoNet-40 name given to a function ("group|emotion" allowed); ValueError naming it otherwise."""
    name = emotion.split("|")[-1].strip()
    if name not in EMONET40:
        raise ValueError(f"unknown EmoNet-40 category {emotion!r}")
    return name


def _emotion_matrices(ratings: pd.DataFrame, raters: Sequence[str]) -> dict[str, np.ndarray]:
    """One (images, raters) float matrix per emotion in EMONET40 order, NaN where a rater did not rate the image."""
    part = ratings[ratings["annotator"].isin(raters)]
    wide = part.set_index(["emotion", "image", "annotator"])["rating"].unstack("annotator")
    wide = wide.reindex(columns=list(raters)).astype(np.float64)
    present = set(wide.index.get_level_values(0))
    return {e: wide.xs(e, level=0).to_numpy() for e in EMONET40 if e in present}


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
