"""AU intensities <-> labels: the EMFACS rule, the AUs that count as a label's evidence, the ``aus`` cell format and
the EmoNet-40 intensity levels."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ...taxonomy import BASIC7
from .tables import ACTIVE_THRESHOLD, EMFACS_PROTOTYPES, EMONET_PROTOTYPES, LABEL_EXTRAS


def label_from_aus(aus: Mapping[int, float], threshold: float = ACTIVE_THRESHOLD) -> str:
    """The basic-7 label of a set of AU intensities via the EMFACS prototypes.

    The label is the class whose prototype (any variant) is fully active and largest (fear contains surprise, so a
    face showing all of fear's AUs is fear). If no prototype is fully active, the best Jaccard overlap >= 0.5 wins,
    else neutral.
    """
    active = {int(a) for a, v in aus.items() if v >= threshold}
    best, best_size = "neutral", 0
    for lab in BASIC7:
        for proto in EMFACS_PROTOTYPES[lab]:
            if proto and set(proto) <= active and len(proto) > best_size:
                best, best_size = lab, len(proto)
    if best_size:
        return best
    best_j = 0.0
    for lab in BASIC7:
        for proto in EMFACS_PROTOTYPES[lab]:
            if proto:
                j = len(set(proto) & active) / len(set(proto) | active)
                if j > best_j:
                    best, best_j = lab, j
    return best if best_j >= 0.5 else "neutral"


def evidence_aus(label: str, aus: Mapping[int, float], threshold: float = ACTIVE_THRESHOLD) -> tuple[int, ...]:
    """The active AUs that belong to ``label``'s expression (its prototypes and usual extras), sorted.

    Only these mark evidence: a habit AU or an AU of another expression is on the face but is not why it has
    ``label``."""
    own = set(LABEL_EXTRAS.get(label, ())) | set(EMONET_PROTOTYPES.get(label, ()))
    for proto in EMFACS_PROTOTYPES.get(label, ((),)):
        own |= set(proto)
    return tuple(sorted(a for a, v in aus.items() if v >= threshold and a in own))


def format_aus(aus: Mapping[int, float]) -> str:
    """``{6: 0.8, 12: 0.9}`` -> ``"6:0.80;12:0.90"`` (sorted by AU)."""
    return ";".join(f"{a}:{v:.2f}" for a, v in sorted(aus.items()))


def parse_aus(text: str) -> dict[int, float]:
    """Inverse of :func:`format_aus`; an empty string gives an empty dict (a bare ``"6"`` means intensity 1)."""
    out: dict[int, float] = {}
    for part in str(text or "").split(";"):
        part = part.strip()
        if part:
            a, _, v = part.partition(":")
            out[int(a)] = float(v) if v else 1.0
    return out


def emonet_intensities(label: str, aus: Mapping[int, float]) -> str:
    """The ``intensities`` cell of an EmoNet face: every expressible category, its level for the one shown, else 0.
    With ``rated == "all"`` the categories not listed are known zeros too."""
    level = emonet_level(aus, label)
    return ";".join(f"{c}:{level if c == label else 0}" for c in EMONET_PROTOTYPES)


def emonet_level_of(uniform: float) -> int:
    """The intensity level 1-7 drawn by a uniform in [0, 1) (seven equal bins)."""
    return min(int(uniform * 7), 6) + 1


def emonet_level(aus: Mapping[int, float], label: str) -> int:
    """The intensity level (1-7) a face of EmoNet category ``label`` was drawn with, from its AU intensities.

    Inverts the draw of :func:`.sampling.sample_params` (AU = level base times a jitter of mean 0.96), so the
    level survives the rounding of the AUs to 2 decimals."""
    proto = EMONET_PROTOTYPES[label]
    mean = float(np.mean([aus.get(a, 0.0) / 0.96 for a in proto]))
    return int(np.clip(round((mean - 0.3) / 0.7 * 6 + 1), 1, 7))
