"""How a method claim is decided over seeds: the mean of a per-seed statistic, its t interval, and the seeds it
holds on (DESIGN 6: every claim decided on at least 3 seeds, with intervals).

A check is one inequality on one paired statistic (for instance the fair model's accuracy minus the plain model's,
both trained with the same seed). It holds when the mean over seeds satisfies the inequality; ``clear`` says whether
the whole 95 % interval does too, so a reader sees at once whether a mean that holds could be noise.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

__all__ = ["SeedCheck", "mean_shift_tolerance", "t_interval"]

Sense = Literal["<", "<=", ">", ">="]
_COMPARE = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


def t_interval(values: Any, level: float = 0.95) -> tuple[float | None, float | None]:
    """Student-t interval of the mean of ``values`` (None, None for fewer than 2 values)."""
    from scipy import stats

    v = np.asarray(list(values), dtype=np.float64)
    if len(v) < 2:
        return None, None
    half = float(stats.t.ppf(0.5 + level / 2, len(v) - 1) * v.std(ddof=1) / math.sqrt(len(v)))
    return float(v.mean()) - half, float(v.mean()) + half


def mean_shift_tolerance(recorded: Any, fresh: Any, level: float = 0.99, floor: float = 0.005) -> float:
    """How far the mean over seeds of a retrained claim may land from the recorded mean.

    Another machine's floating-point path (another CPU's kernel blocking: pinned numerics fix the thread count and
    the instruction set, not the summation order a CPU's caches choose) changes training like another set of seeds.
    So the two means differ by about ``sqrt(s_r^2 / n + s_f^2 / n)``; the tolerance is the two-sided Student-t
    quantile at ``level`` with ``2n - 2`` degrees of freedom times that, at least ``floor``. One seed is compared
    with the floor only.

    Parameters
    ----------
    recorded
        The per-seed figures of one variant and one key, as recorded.
    fresh
        The same figures retrained (the same seeds).
    level
        Coverage of the interval when nothing but the floating-point path changed.
    floor
        The smallest tolerance (figures are rounded to 4 digits; 0.5 points is noise on any test set here).

    Returns
    -------
    float
        The largest allowed ``|mean(fresh) - mean(recorded)|``.
    """
    from scipy import stats

    r = np.asarray(list(recorded), dtype=np.float64)
    f = np.asarray(list(fresh), dtype=np.float64)
    n = min(len(r), len(f))
    if n < 2:
        return floor
    se = math.sqrt(r.var(ddof=1) / len(r) + f.var(ddof=1) / len(f))
    return max(floor, float(stats.t.ppf(0.5 + level / 2, len(r) + len(f) - 2)) * se)


@dataclass(frozen=True)
class SeedCheck:
    """One inequality of a claim, ``mean over seeds of statistic <sense> bound``.

    Parameters
    ----------
    name
        The check in words, as printed.
    statistic
        What each seed contributes, in words (e.g. "fair_mmd accuracy - supervised accuracy").
    per_seed
        Seed -> the statistic on the runs of that seed.
    sense
        The inequality the mean must satisfy ('<', '<=', '>' or '>='), against ``bound``.
    bound
        The other side of that inequality.
    """

    name: str
    statistic: str
    per_seed: Mapping[int, float]
    sense: Sense
    bound: float

    def __post_init__(self) -> None:
        if self.sense not in _COMPARE:
            raise ValueError(f"sense must be one of {sorted(_COMPARE)}, got {self.sense!r}")
        if not self.per_seed:
            raise ValueError(f"check {self.name!r} has no seeds")

    @property
    def mean(self) -> float:
        return float(np.mean(list(self.per_seed.values())))

    @property
    def interval(self) -> tuple[float | None, float | None]:
        return t_interval(self.per_seed.values())

    @property
    def holds(self) -> bool:
        """The claim's verdict: the mean over seeds satisfies the inequality."""
        return bool(_COMPARE[self.sense](self.mean, self.bound))

    @property
    def seeds_holding(self) -> list[int]:
        return [s for s, v in self.per_seed.items() if _COMPARE[self.sense](v, self.bound)]

    @property
    def clear(self) -> bool:
        """The whole 95 % interval lies on the holding side of the bound (False with fewer than 2 seeds)."""
        lo, hi = self.interval
        if lo is None or hi is None:
            return False
        return bool(_COMPARE[self.sense](hi if self.sense in ("<", "<=") else lo, self.bound))

    def summary(self) -> str:
        """One line: verdict, mean and interval, and how many seeds it holds on."""
        lo, hi = self.interval
        ci = f" [{lo:+.4f}, {hi:+.4f}]" if lo is not None else ""
        n, k = len(self.per_seed), len(self.seeds_holding)
        note = "" if k == n else f"; holds on {k} of {n} seeds ({', '.join(map(str, self.seeds_holding)) or 'none'})"
        sure = (
            " (95 % interval clear of the bound)"
            if self.clear
            else " (95 % interval includes the bound)"
            if n > 1
            else ""
        )
        return (
            f"[{'x' if self.holds else ' '}] {self.name}: mean {self.statistic} = {self.mean:+.4f}{ci} "
            f"{self.sense} {self.bound:+g}{sure}{note}"
        )

    def to_json(self) -> dict[str, Any]:
        lo, hi = self.interval
        return {
            "name": self.name,
            "statistic": self.statistic,
            "sense": self.sense,
            "bound": self.bound,
            "per_seed": {str(s): round(float(v), 5) for s, v in self.per_seed.items()},
            "mean": round(self.mean, 5),
            "ci95": [None if lo is None else round(lo, 5), None if hi is None else round(hi, 5)],
            "holds": self.holds,
            "clear": self.clear,
            "seeds_holding": self.seeds_holding,
        }
