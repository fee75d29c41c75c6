"""Who is in the picture and how it is taken: :class:`Identity` (drawn once per person), :class:`FaceParams` (one
image) and the helpers that swap a face's AUs while keeping the person and the nuisances."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from .labels import label_from_aus
from .tables import AGES, GENDERS, HABIT_AUS, SKIN_TONES

#: Base skin colour of each tone, RGB in 0-255 (an identity scales and jitters it).
SKIN_BASE_RGB = {
    "light": np.array([236.0, 200.0, 176.0]),
    "medium": np.array([196.0, 146.0, 106.0]),
    "dark": np.array([112.0, 74.0, 52.0]),
}
#: Hair colours, (6, 3) float64 RGB in 0-255: black, dark brown, brown, light brown, blond, red.
HAIR_PALETTE_RGB = np.array(
    [[28, 22, 20], [58, 38, 26], [96, 62, 36], [150, 108, 62], [196, 160, 104], [120, 40, 20]], dtype=np.float64
)
#: Iris colours, (5, 3) float64 RGB in 0-255: dark brown, brown, blue, green, hazel.
IRIS_PALETTE_RGB = np.array(
    [[70, 42, 24], [110, 70, 36], [60, 100, 150], [80, 110, 70], [130, 100, 60]], dtype=np.float64
)


@dataclass(frozen=True)
class Identity:
    """Everything about a person that does not change between images.

    Colours are RGB in 0-255; lengths and positions are fractions of the crop (canonical coordinates, see
    :mod:`.geometry`)."""

    subject: int
    skin_tone: str
    age: str
    gender: str
    skin: tuple[float, float, float]
    hair: tuple[float, float, float]
    iris: tuple[float, float, float]
    lip: tuple[float, float, float]
    clothes: tuple[float, float, float]
    hair_style: str  # "short", "long", "bob", "bald"
    fringe: bool
    hairline: float  # y of the hairline at the midline
    face_w: float  # half-width of the head at cheekbone level
    jaw_p: float  # superellipse exponent of the lower face (bigger = squarer jaw)
    chin_y: float
    eye_dx: float  # shift of both eyes away from the midline
    eye_dy: float
    eye_w: float  # eye half-width
    eye_h: float  # upper-lid height at the centre
    brow_h: float  # brow height above the eye
    brow_thick: float
    brow_arch: float
    nose_w: float
    nose_dy: float
    mouth_w: float  # mouth half-width
    mouth_dy: float
    lip_u: float
    lip_l: float
    habit_au: int = 0  # 0 = no habit


@dataclass(frozen=True)
class FaceParams:
    """One image: an identity, its AUs, its label and the nuisances. ``render_face`` is a pure function of this."""

    identity: Identity
    aus: tuple[tuple[int, float], ...] = ()
    label: str | None = None  # None -> derived from the AUs
    size: int = 112
    lighting: str = "even"
    light_jitter: tuple[float, float] = (0.0, 0.0)  # (direction x jitter, gain jitter)
    tint: tuple[float, float, float] = (1.0, 1.0, 1.0)
    roll_deg: float = 0.0
    shift: tuple[float, float] = (0.0, 0.0)  # in crop fractions
    scale: float = 1.0
    gaze: tuple[float, float] = (0.0, 0.0)
    blur_sigma: float = 0.0
    noise_sigma: float = 0.0
    noise_offset: tuple[int, int] = (0, 0)
    occluder: str = "none"
    occluder_color: tuple[float, float, float] = (40.0, 40.0, 45.0)
    background: tuple[tuple[float, float, float], tuple[float, float, float]] = (
        (120.0, 130.0, 140.0),
        (90.0, 100.0, 110.0),
    )

    def au_dict(self) -> dict[int, float]:
        return {int(a): float(v) for a, v in self.aus}

    def resolved_label(self) -> str:
        return self.label if self.label is not None else label_from_aus(self.au_dict())


def make_identity(
    seed: int,
    subject: int,
    *,
    habit_rate: float = 0.0,
    skin_tone: str | None = None,
    age: str | None = None,
    gender: str | None = None,
    group_probs: Mapping[str, Sequence[float]] | None = None,
) -> Identity:
    """Draw identity ``subject`` of dataset ``seed`` (deterministic). Groups may be forced.

    A forced group still consumes its draw, so forcing one attribute leaves every other trait of the person as it
    would have been."""
    rng = np.random.default_rng([int(seed), 11, int(subject)])
    gp = group_probs or {}
    st = SKIN_TONES[rng.choice(3, p=gp.get("skin_tone"))]
    ag = AGES[rng.choice(3, p=gp.get("age"))]
    ge = GENDERS[rng.choice(2, p=gp.get("gender"))]
    st, ag, ge = skin_tone or st, age or ag, gender or ge
    fem = ge == "feminine"
    skin = SKIN_BASE_RGB[st] * rng.uniform(0.93, 1.05) + rng.normal(0, 5, 3)
    skin = np.clip(skin, 30, 250)
    hair_i = rng.choice(
        len(HAIR_PALETTE_RGB),
        p=[0.3, 0.28, 0.2, 0.1, 0.07, 0.05] if st == "light" else [0.55, 0.33, 0.1, 0.02, 0.0, 0.0],
    )
    hair = HAIR_PALETTE_RGB[hair_i] * rng.uniform(0.85, 1.15)
    if ag == "older":
        grey = rng.uniform(0.5, 0.9)
        hair = hair * (1 - grey) + np.array([200.0, 200.0, 205.0]) * grey
    iris_i = rng.choice(
        len(IRIS_PALETTE_RGB), p=[0.3, 0.25, 0.2, 0.1, 0.15] if st == "light" else [0.6, 0.35, 0.0, 0.0, 0.05]
    )
    iris = IRIS_PALETTE_RGB[iris_i] * rng.uniform(0.85, 1.15)
    lip_tint = np.array([0.80, 0.55, 0.58]) if fem else np.array([0.80, 0.62, 0.62])
    lip = skin * lip_tint + (np.array([30.0, 0.0, 8.0]) if fem else np.array([14.0, 0.0, 4.0]))
    if fem and rng.random() < 0.35:  # lipstick
        lip = lip * 0.6 + np.array([170.0, 40.0, 60.0]) * 0.4
    clothes = rng.uniform(30, 220, 3)
    if fem:
        style = ["long", "long", "bob", "short"][rng.integers(4)]
    else:
        style = ["short", "short", "short", "bald" if ag == "older" else "short", "long"][rng.integers(5)]
    habit = int(HABIT_AUS[rng.integers(len(HABIT_AUS))]) if rng.random() < habit_rate else 0
    young, older = ag == "young", ag == "older"
    # keyword arguments are evaluated in this order: the rng draws below are part of the identity's definition
    return Identity(
        subject=int(subject),
        skin_tone=st,
        age=ag,
        gender=ge,
        skin=tuple(float(x) for x in skin),
        hair=tuple(float(x) for x in np.clip(hair, 0, 255)),
        iris=tuple(float(x) for x in np.clip(iris, 0, 255)),
        lip=tuple(float(x) for x in np.clip(lip, 0, 255)),
        clothes=tuple(float(x) for x in clothes),
        hair_style=style,
        fringe=bool(fem and rng.random() < 0.4),
        hairline=float(rng.uniform(0.06, 0.12) + (0.03 if older and not fem else 0.0)),
        face_w=float(rng.uniform(0.39, 0.44) + (0.01 if not fem else 0.0) + (0.01 if young else 0.0)),
        jaw_p=float(rng.uniform(2.6, 3.3) if not fem else rng.uniform(1.9, 2.4)),
        chin_y=float(rng.uniform(0.95, 0.99)),
        eye_dx=float(rng.uniform(-0.012, 0.012)),
        eye_dy=float(rng.uniform(-0.01, 0.01)),
        eye_w=float(rng.uniform(0.078, 0.09) * (1.04 if young else 1.0)),
        eye_h=float(rng.uniform(0.026, 0.034) * (1.1 if fem else 1.0) * (0.9 if older else 1.0)),
        brow_h=float(rng.uniform(0.062, 0.08) - (0.006 if not fem else 0.0)),
        brow_thick=float(rng.uniform(0.017, 0.024) if not fem else rng.uniform(0.010, 0.015)),
        brow_arch=float(rng.uniform(0.006, 0.02) + (0.006 if fem else 0.0)),
        nose_w=float(rng.uniform(0.05, 0.065) + (0.008 if st == "dark" else 0.0)),
        nose_dy=float(rng.uniform(-0.01, 0.01)),
        mouth_w=float(rng.uniform(0.145, 0.165)),
        mouth_dy=float(rng.uniform(-0.01, 0.01)),
        lip_u=float(rng.uniform(0.02, 0.028) * (1.15 if fem else 1.0) * (0.8 if older else 1.0)),
        lip_l=float(rng.uniform(0.028, 0.036) * (1.15 if fem else 1.0) * (0.8 if older else 1.0)),
        habit_au=habit,
    )


def neutral_of(params: FaceParams) -> FaceParams:
    """The same image parameters with every AU removed and the label set to neutral."""
    return replace(params, aus=(), label="neutral")


def with_aus(params: FaceParams, aus: Mapping[int, float], label: str | None = None) -> FaceParams:
    """The same identity and nuisances with other AUs (label derived from them unless given)."""
    return replace(params, aus=tuple(sorted((int(a), float(v)) for a, v in aus.items())), label=label)
