"""Simulated expert ratings for EmoNet-40 datasets: ``ratings.csv`` in the EmoNet-Face HQ layout, with the drawn
intensities as a known truth behind it (so agreement statistics can be checked against the truth)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

#: Simulated expert annotators written to ``ratings.csv`` for ``label_set="emonet40"`` (seeded, see
#: :func:`fer_core.agreement.simulate_annotators`): how many, rating noise in intensity levels, share of categories an
#: annotator overlooks (rated 0), and the spread of each annotator's personal bias.
EMONET_ANNOTATORS = {"n_annotators": 4, "noise": 0.8, "miss_rate": 0.1, "bias": 0.5}


def write_emonet_ratings(rows: Sequence[Mapping], path: Path, seed: int) -> Path:
    """``ratings.csv`` (image, emotion, annotator, rating 0-7) from :data:`EMONET_ANNOTATORS` simulated experts who
    rate every expressible category of every face: the EmoNet-Face HQ layout, with a known truth behind it.

    ``rows`` are manifest rows (``path`` and ``intensities`` are read)."""
    import pandas as pd

    from ...agreement import simulate_annotators

    truth = pd.DataFrame(
        [
            {"image": r["path"], "emotion": c, "intensity": float(v)}
            for r in rows
            for c, v in (kv.rsplit(":", 1) for kv in r["intensities"].split(";"))
        ]
    )
    ratings = simulate_annotators(truth, seed=int(seed), **EMONET_ANNOTATORS)
    ratings.to_csv(path, index=False, lineterminator="\n")
    return path
