"""What to generate: :class:`SynthSpec` and the bias knobs (group <-> label and group <-> lighting correlations)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ...taxonomy import BASIC7
from .tables import ACTIVE_THRESHOLD, GROUP_VALUES, LIGHTINGS


def as_tuple_of_dicts(x) -> tuple:
    """A bias knob (None, one mapping or a sequence of mappings) as a tuple of plain dicts."""
    if x is None:
        return ()
    if isinstance(x, Mapping):
        return (dict(x),)
    return tuple(dict(d) for d in x)


@dataclass(frozen=True)
class SynthSpec:
    """What to generate.

    n : number of faces. size : crop side in pixels. seed : everything follows from it.
    label_probs : probabilities over ``BASIC7`` (sequence in that order or a mapping label -> weight); None = uniform.
    bias : group <-> label correlation, a dict (or a sequence of dicts) like
        ``{"attribute": "skin_tone", "group": "dark", "label": "happy", "strength": 0.6}``: a face of that group gets
        that label with probability ``strength`` before the ordinary draw, so
        ``P(label | group) = strength + (1 - strength) * label_probs[label]``.
    lighting_bias : group <-> lighting correlation, like ``{"attribute": "skin_tone", "group": "dark",
        "lighting": "dim", "strength": 0.5}`` (same rule over ``LIGHTINGS``).
    habit_rate : fraction of identities that add one AU from ``HABIT_AUS`` (an identity shortcut).
    habit_share : share of such an identity's faces that show its habit (1 = every face, where the habit AU is also
        a perfect identity signature; below 1 the person only makes it more likely).
    label_noise : fraction of labels replaced by a different random class (``true_label`` keeps the original).
    glasses_rate, mask_rate : occluder rates. n_identities : None -> max(min(n, 20), n // 10); face i belongs to
        identity ``i * n_identities // n`` (contiguous blocks; splits are by identity).
    group_probs : optional per-attribute probabilities, e.g. {"skin_tone": (0.6, 0.3, 0.1)}.
    blur_rate, max_blur, max_noise, max_roll : nuisance ranges.
    intensity : (low, high) intensity range of the label's prototype AUs; low values give subtle expressions that
        are hard to read, which is where a model starts leaning on a planted group <-> label shortcut.
    label_set : "basic7" (EMFACS labels) or "emonet40": every face shows one category of ``EMONET_PROTOTYPES`` at an
        intensity level 1-7 (its AUs scale with the level); rows get ``intensities`` (every expressible category,
        0 for those not shown) and ``write_dataset`` adds ``ratings.csv`` from simulated annotators.
    """

    n: int
    size: int = 112
    seed: int = 0
    label_probs: Sequence[float] | Mapping[str, float] | None = None
    bias: Mapping | Sequence[Mapping] | None = None
    lighting_bias: Mapping | Sequence[Mapping] | None = None
    habit_rate: float = 0.0
    habit_share: float = 1.0
    label_noise: float = 0.0
    glasses_rate: float = 0.1
    mask_rate: float = 0.05
    n_identities: int | None = None
    group_probs: Mapping[str, Sequence[float]] | None = None
    blur_rate: float = 0.25
    max_blur: float = 1.0
    max_noise: float = 6.0
    max_roll: float = 4.0
    intensity: tuple[float, float] = (0.6, 1.0)
    label_set: str = "basic7"

    def __post_init__(self) -> None:
        if self.label_set not in ("basic7", "emonet40"):
            raise ValueError(f"label_set must be basic7 or emonet40, got {self.label_set!r}")
        if self.label_set == "emonet40" and (self.bias or self.label_noise):
            raise ValueError("bias and label_noise apply to basic-7 labels; use them with label_set basic7")
        if self.n < 0:
            raise ValueError(f"n must be >= 0, got {self.n}")
        if self.size < 32:
            raise ValueError(f"size must be >= 32 pixels, got {self.size}")
        for name in ("habit_rate", "habit_share", "label_noise", "glasses_rate", "mask_rate", "blur_rate"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {v}")
        lo, hi = (float(v) for v in self.intensity)
        if not ACTIVE_THRESHOLD <= lo <= hi <= 1.0:
            raise ValueError(
                f"intensity must be (low, high) with {ACTIVE_THRESHOLD} <= low <= high <= 1, got "
                f"{tuple(self.intensity)} (below {ACTIVE_THRESHOLD} an AU no longer counts as active)"
            )
        if self.glasses_rate + self.mask_rate > 1.0:
            raise ValueError("glasses_rate + mask_rate must be <= 1")
        self.base_label_probs()
        for b in as_tuple_of_dicts(self.bias):
            check_bias(b, "label", BASIC7)
        for b in as_tuple_of_dicts(self.lighting_bias):
            check_bias(b, "lighting", LIGHTINGS)

    @property
    def identities(self) -> int:
        """How many people the faces are spread over (see ``n_identities``)."""
        return int(self.n_identities) if self.n_identities else max(1, max(min(self.n, 20), self.n // 10))

    def base_label_probs(self) -> np.ndarray:
        """(7,) float64 label probabilities in ``BASIC7`` order, before any bias (validates ``label_probs``)."""
        if self.label_probs is None:
            return np.full(len(BASIC7), 1.0 / len(BASIC7))
        if isinstance(self.label_probs, Mapping):
            unknown = set(self.label_probs) - set(BASIC7)
            if unknown:
                raise ValueError(f"label_probs has unknown labels {sorted(unknown)}; known: {', '.join(BASIC7)}")
            p = np.array([float(self.label_probs.get(lab, 0.0)) for lab in BASIC7])
        else:
            p = np.asarray(self.label_probs, dtype=np.float64)
            if p.shape != (len(BASIC7),):
                raise ValueError(f"label_probs needs {len(BASIC7)} values in the order {BASIC7}")
        if (p < 0).any() or p.sum() <= 0:
            raise ValueError("label_probs must be non-negative with a positive sum")
        return p / p.sum()


def check_bias(b: Mapping, key: str, values: Sequence[str]) -> None:
    """Raise ValueError unless ``b`` names a known attribute, one of its groups, a known ``key`` value (a label or a
    lighting) and a strength in [0, 1]."""
    attr = b.get("attribute")
    if attr not in GROUP_VALUES:
        raise ValueError(f"bias attribute {attr!r} unknown; choose from {', '.join(GROUP_VALUES)}")
    if b.get("group") not in GROUP_VALUES[attr]:
        raise ValueError(
            f"bias group {b.get('group')!r} is not a {attr} group; choose from {', '.join(GROUP_VALUES[attr])}"
        )
    if b.get(key) not in values:
        raise ValueError(f"bias {key} {b.get(key)!r} unknown; choose from {', '.join(values)}")
    s = float(b.get("strength", 0.0))
    if not 0.0 <= s <= 1.0:
        raise ValueError(f"bias strength must be in [0, 1], got {s}")


def parse_bias(text: str) -> dict:
    """``"skin_tone=dark:happy:0.6"`` -> ``{"attribute": "skin_tone", "group": "dark", "label": "happy",
    "strength": 0.6}``."""
    try:
        ag, lab, s = text.split(":")
        attr, group = ag.split("=")
        b = {"attribute": attr.strip(), "group": group.strip(), "label": lab.strip(), "strength": float(s)}
    except ValueError:
        raise ValueError(
            f"bias {text!r} must look like ATTRIBUTE=GROUP:LABEL:STRENGTH, e.g. skin_tone=dark:happy:0.6"
        ) from None
    check_bias(b, "label", BASIC7)
    return b
