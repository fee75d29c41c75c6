"""Dataset sampling: the parameters of face ``index`` of a :class:`.spec.SynthSpec` (identity, AUs, label, split,
nuisances) and :func:`generate`, which renders them in order.

Every face draws a fixed block of :data:`UNIFORMS_PER_FACE` uniforms from its own generator seeded by
(seed, 101, index) and consumes them in a fixed order, so face ``index`` depends only on (seed, index), never on which
other faces are drawn or in which order, and an EmoNet face's category and level can be read back from the stream
(``tests/emonet``). The identity comes from its own generator (:func:`.identity.make_identity`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from ...taxonomy import BASIC7
from .identity import FaceParams, Identity, make_identity
from .labels import emonet_intensities, emonet_level_of, format_aus
from .raster import NOISE_TILE_ROWS
from .render import render_face
from .spec import SynthSpec, as_tuple_of_dicts
from .tables import EMFACS_PROTOTYPES, EMONET_PROTOTYPES, LABEL_EXTRAS, LIGHTINGS

UNIFORMS_PER_FACE = 48  # uniforms drawn per face (index 0 is skipped; the rest are consumed in a fixed order)


@dataclass
class SynthSample:
    """One generated face. ``image``/``evidence``/``landmarks`` are None when sampled with ``render=False``."""

    index: int
    params: FaceParams
    label: str
    true_label: str
    split: str
    image: np.ndarray | None = None
    evidence: np.ndarray | None = None
    landmarks: np.ndarray | None = None

    @property
    def identity(self) -> Identity:
        return self.params.identity

    @property
    def aus(self) -> dict[int, float]:
        return self.params.au_dict()

    def row(self) -> dict:
        """The face's manifest row, less ``path``, ``mask_path`` and ``landmarks`` (added by the writer)."""
        idn = self.params.identity
        emonet = self.label in EMONET_PROTOTYPES
        extra = {"intensities": emonet_intensities(self.label, self.aus), "rated": "all"} if emonet else {}
        return {
            "label": self.label,
            "true_label": self.true_label,
            "label_set": "emonet40" if emonet else "basic7",
            "aus": format_aus(self.aus),
            "subject": f"synth{idn.subject:05d}",
            "gender": idn.gender,
            "age": idn.age,
            "race": idn.skin_tone,
            "skin_tone": idn.skin_tone,
            "lighting": self.params.lighting,
            "occluder": self.params.occluder,
            "habit_au": idn.habit_au or "",
            "split": self.split,
            "source": "synthfacs",
            **extra,
        }


def sample_expression(label: str, u: Iterator[float], intensity: tuple[float, float] = (0.6, 1.0)) -> dict[int, float]:
    """AUs of one expression of ``label`` from uniforms ``u`` (an iterator of floats in [0, 1)); the prototype AUs
    get intensities uniform in ``intensity``."""
    protos = EMFACS_PROTOTYPES[label]
    proto = protos[min(int(next(u) * len(protos)), len(protos) - 1)]
    lo, hi = intensity
    aus = {int(a): lo + (hi - lo) * next(u) for a in proto}
    for a in LABEL_EXTRAS[label]:
        if next(u) < 0.4:
            aus[int(a)] = 0.4 + 0.5 * next(u)
    return aus


def sample_emonet(u: Iterator[float]) -> tuple[str, dict[int, float]]:
    """One EmoNet category of ``EMONET_PROTOTYPES`` and its AUs: level k in 1..7 scales every AU to about
    0.3 + 0.7 (k - 1) / 6 (level 1 still active), with a little per-AU jitter."""
    names = tuple(EMONET_PROTOTYPES)
    label = names[min(int(next(u) * len(names)), len(names) - 1)]
    level = emonet_level_of(next(u))
    base = 0.3 + 0.7 * (level - 1) / 6
    return label, {int(a): min(1.0, base * (0.92 + 0.08 * next(u))) for a in EMONET_PROTOTYPES[label]}


def identity_splits(spec: SynthSpec) -> np.ndarray:
    """(n_identities,) object array: each identity's split, a seeded 70 / 15 / 15 train / val / test partition of
    the people (so no person is in two splits)."""
    n_id = spec.identities
    perm = np.random.default_rng([int(spec.seed), 3]).permutation(n_id)
    n_tr = round(0.70 * n_id)
    n_va = round(0.15 * n_id)
    out = np.empty(n_id, dtype=object)
    out[perm[:n_tr]] = "train"
    out[perm[n_tr : n_tr + n_va]] = "val"
    out[perm[n_tr + n_va :]] = "test"
    return out


def draw_biased(
    u: Iterator[float], biases: tuple, idn: Identity, key: str, values: Sequence[str], cum: np.ndarray
) -> str:
    """With probability ``strength`` of a bias that matches ``idn``'s group, that bias's value; else a draw from
    the base distribution (cumulative probabilities ``cum``). Always consumes two uniforms."""
    u0, u1 = next(u), next(u)
    acc = 0.0
    for b in biases:
        if getattr(idn, b["attribute"]) == b["group"]:
            s = float(b.get("strength", 0.0))
            if acc <= u0 < acc + s:
                return b[key]
            acc += s
    return values[min(int(np.searchsorted(cum, u1, side="right")), len(values) - 1)]


def sample_params(spec: SynthSpec, index: int, _cache: dict | None = None) -> tuple[FaceParams, str, str, str]:
    """Parameters of face ``index`` of ``spec`` (no rendering): ``(params, label, true_label, split)``.

    Face ``index`` depends only on (seed, index), never on which other faces are drawn or in which order.
    ``_cache`` (a dict the caller keeps across calls for one spec) holds the spec's derived tables and identities.
    """
    cache = _cache if _cache is not None else {}
    fixed = cache.get("__spec__")
    if fixed is None:
        p = spec.base_label_probs()
        fixed = cache["__spec__"] = (
            as_tuple_of_dicts(spec.bias),
            as_tuple_of_dicts(spec.lighting_bias),
            np.cumsum(p) / p.sum(),
            np.cumsum(np.full(len(LIGHTINGS), 1.0 / len(LIGHTINGS))),
            identity_splits(spec),
            spec.identities,
        )
    biases, light_biases, label_cum, light_cum, splits, n_id = fixed
    vals = np.random.default_rng([int(spec.seed), 101, int(index)]).random(UNIFORMS_PER_FACE).tolist()
    u = iter(vals)
    next(u)
    sid = min(index * n_id // max(spec.n, 1), n_id - 1)  # consecutive faces share identities (cache-friendly)
    idn = cache.get(sid)
    if idn is None:
        idn = cache[sid] = make_identity(spec.seed, sid, habit_rate=spec.habit_rate, group_probs=spec.group_probs)
    # the order of every next(u) below is part of the dataset's definition
    if spec.label_set == "emonet40":
        label, aus = sample_emonet(u)
    else:
        label = draw_biased(u, biases, idn, "label", BASIC7, label_cum)
        aus = sample_expression(label, u, tuple(spec.intensity))
    hu = next(u)
    if idn.habit_au and idn.habit_au not in aus and hu < spec.habit_share:
        aus[idn.habit_au] = 0.5 + 0.4 * hu / spec.habit_share
    true_label = label
    un, uo = next(u), next(u)
    if un < spec.label_noise:
        others = [lab for lab in BASIC7 if lab != label]
        label = others[min(int(uo * len(others)), len(others) - 1)]
    lighting = draw_biased(u, light_biases, idn, "lighting", LIGHTINGS, light_cum)
    uocc, ucol, c0, c1, c2 = next(u), next(u), next(u), next(u), next(u)
    occluder = (
        "glasses" if uocc < spec.glasses_rate else "mask" if uocc < spec.glasses_rate + spec.mask_rate else "none"
    )
    if occluder == "glasses":
        occ_color = (10 + 80 * c0, 10 + 80 * c1, 10 + 80 * c2)
    elif ucol < 0.7:
        occ_color = (180 + 65 * c0, 200 + 45 * c1, 215 + 35 * c2)
    else:
        occ_color = (20 + 40 * c0, 20 + 40 * c1, 20 + 40 * c2)
    bg_a = (60 + 150 * next(u), 60 + 150 * next(u), 60 + 150 * next(u))
    k = 0.75 + 0.2 * next(u)
    bg_b = (bg_a[0] * k, bg_a[1] * k, bg_a[2] * k)
    ub, ubs = next(u), next(u)
    blur = 0.3 + (spec.max_blur - 0.3) * ubs if ub < spec.blur_rate else 0.0
    r = [next(u) for _ in range(13)]
    params = FaceParams(
        identity=idn,
        aus=tuple(sorted((a, round(v, 2)) for a, v in aus.items())),
        label=label,
        size=spec.size,
        lighting=lighting,
        light_jitter=(-0.15 + 0.3 * r[0], -0.2 + 0.4 * r[1]),
        tint=(0.94 + 0.12 * r[2], 0.94 + 0.12 * r[3], 0.94 + 0.12 * r[4]),
        roll_deg=spec.max_roll * (2 * r[5] - 1),
        shift=(0.015 * (2 * r[6] - 1), 0.015 * (2 * r[7] - 1)),
        scale=0.97 + 0.06 * r[8],
        gaze=(2 * r[9] - 1, 2 * r[10] - 1),
        blur_sigma=blur,
        noise_sigma=spec.max_noise * r[11],
        noise_offset=(
            min(int(r[12] * NOISE_TILE_ROWS), NOISE_TILE_ROWS - 1),
            min(int(next(u) * NOISE_TILE_ROWS), NOISE_TILE_ROWS - 1),
        ),
        occluder=occluder,
        occluder_color=occ_color,
        background=(bg_a, bg_b),
    )
    return params, label, true_label, str(splits[sid])


def generate(spec: SynthSpec, render: bool = True, start: int = 0, stop: int | None = None) -> Iterator[SynthSample]:
    """Yield the faces of ``spec`` in index order (``render=False``: parameters and labels only, fast)."""
    cache: dict = {}
    for i in range(start, spec.n if stop is None else min(stop, spec.n)):
        params, label, true_label, split = sample_params(spec, i, cache)
        s = SynthSample(index=i, params=params, label=label, true_label=true_label, split=split)
        if render:
            s.image, s.evidence, s.landmarks = render_face(params)
        yield s
