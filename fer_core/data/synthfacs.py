"""SynthFACS: a deterministic procedural face renderer with FACS action units and ground-truth evidence masks.

Everything is drawn with numpy/OpenCV from parameters (no weights, no downloads):

* identity (face shape, feature geometry, skin tone, hair) drawn from the identity seed, with demographic groups
  (skin tone light/medium/dark, age young/adult/older, gender presentation feminine/masculine);
* FACS action units with intensity in [0, 1] that move brows (1, 2, 4), lids (5, 7), cheeks (6), nose (9), upper
  lip (10), lip corners (12, 14, 15, 20), chin (17), lips (16, 23, 24, 25) and jaw (26);
* labels derived from the AUs with the EMFACS prototypes (DESIGN.md section 5);
* nuisances: lighting, small pose (roll, shift, scale), blur, noise, occluders (glasses, a face mask);
* knobs that plant known effects: a group <-> label correlation, a group <-> lighting correlation and
  identity-specific AU habits (an identity shortcut).

The output is an already-aligned crop: the 5 landmarks lie near ``TEMPLATES["tight"]`` of
:mod:`fer_core.face.align`. Every image comes with a boolean evidence mask: the union of the regions (named as in
:data:`fer_core.taxonomy.AU_REGION`) where the label's active AUs act, drawn from the rendered geometry (the
feature's neutral and moved positions plus a margin), minus pixels hidden by an opaque occluder.

Same seed -> identical images, masks and manifest bytes.
"""
from __future__ import annotations

import csv
import json
import math
import time
from itertools import accumulate
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable, Iterator, Mapping, Sequence

import cv2
import numpy as np

from ..taxonomy import AU_REGION, BASIC7

# ----------------------------------------------------------------------------------------------------------------
# Reference tables
# ----------------------------------------------------------------------------------------------------------------

#: Action units the renderer draws.
AUS: tuple[int, ...] = (1, 2, 4, 5, 6, 7, 9, 10, 12, 14, 15, 16, 17, 20, 23, 24, 25, 26)

#: EMFACS prototypes for the basic-7 classes (DESIGN.md section 5); disgust has two variants.
EMFACS_PROTOTYPES: Mapping[str, tuple[tuple[int, ...], ...]] = {
    "angry": ((4, 5, 7, 23),),
    "disgust": ((9, 15, 16), (9, 10)),
    "fear": ((1, 2, 4, 5, 7, 20, 26),),
    "happy": ((6, 12),),
    "sad": ((1, 4, 15),),
    "surprise": ((1, 2, 5, 26),),
    "neutral": ((),),
}

#: The EmoNet-40 categories SynthFACS can express (``SynthSpec(label_set="emonet40")``), each as one AU combination.
#: Built from the EMFACS prototypes and FACS descriptions of the states (Duchenne laugh, worry, skepticism ...);
#: no two share a combination, so each is readable from the face. The other 26 categories need cues the renderer
#: lacks (gaze, posture, context) and are never shown.
EMONET_PROTOTYPES: Mapping[str, tuple[int, ...]] = {
    "Amusement": (6, 12, 25, 26),
    "Elation": (1, 2, 6, 12, 25),
    "Contentment": (12,),
    "Interest": (1, 2),
    "Astonishment/Surprise": (1, 2, 5, 26),
    "Concentration": (4, 7),
    "Doubt": (14, 17),
    "Fear": (1, 2, 4, 5, 7, 20, 26),
    "Distress": (1, 4, 20),
    "Sadness": (1, 4, 15),
    "Contempt": (14,),
    "Disgust": (9, 15, 16),
    "Anger": (4, 5, 7, 23),
    "Bitterness": (10, 17, 24),
    "Pain": (4, 6, 7, 9, 10),
}

#: Simulated expert annotators written to ``ratings.csv`` for ``label_set="emonet40"`` (seeded, see
#: :func:`fer_core.agreement.simulate_annotators`): how many, rating noise in intensity levels, share of categories an
#: annotator overlooks (rated 0), and the spread of each annotator's personal bias.
EMONET_ANNOTATORS = {"n_annotators": 4, "noise": 0.8, "miss_rate": 0.1, "bias": 0.5}

#: Optional AUs that often accompany a class (drawn with some probability; they never change the derived label).
LABEL_EXTRAS: Mapping[str, tuple[int, ...]] = {
    "angry": (24,), "disgust": (17,), "fear": (), "happy": (25,), "sad": (17,), "surprise": (), "neutral": (),
}

#: AUs an identity may carry as a habit (outside every basic-7 prototype, so habits never change a label).
HABIT_AUS: tuple[int, ...] = (14, 17, 24)

SKIN_TONES: tuple[str, ...] = ("light", "medium", "dark")
AGES: tuple[str, ...] = ("young", "adult", "older")
GENDERS: tuple[str, ...] = ("feminine", "masculine")
LIGHTINGS: tuple[str, ...] = ("even", "left", "right", "top", "dim")
OCCLUDERS: tuple[str, ...] = ("none", "glasses", "mask")
GROUP_ATTRIBUTES: tuple[str, ...] = ("skin_tone", "age", "gender")

ACTIVE_THRESHOLD = 0.25  # an AU with intensity >= this counts as active

#: Raise when a change alters the pixels of some spec: it is part of every cache folder's key, so rendered sets made
#: by an older renderer are not reused (2: the AU 14 dimpler draws a visible crease).
RENDERER_VERSION = 2

# lighting name -> (direction (x, y, z), ambient gain, directional gain)
_LIGHT: Mapping[str, tuple[tuple[float, float, float], float, float]] = {
    "even": ((0.0, -0.15, 1.0), 0.80, 0.25),
    "left": ((-0.80, -0.25, 0.55), 0.55, 0.55),
    "right": ((0.80, -0.25, 0.55), 0.55, 0.55),
    "top": ((0.0, -0.80, 0.60), 0.58, 0.50),
    "dim": ((0.0, -0.15, 1.0), 0.50, 0.15),
}

_SKIN_BASE = {  # RGB
    "light": np.array([236.0, 200.0, 176.0]),
    "medium": np.array([196.0, 146.0, 106.0]),
    "dark": np.array([112.0, 74.0, 52.0]),
}
_HAIR = np.array([[28, 22, 20], [58, 38, 26], [96, 62, 36], [150, 108, 62], [196, 160, 104], [120, 40, 20]],
                 dtype=np.float64)
_IRIS = np.array([[70, 42, 24], [110, 70, 36], [60, 100, 150], [80, 110, 70], [130, 100, 60]], dtype=np.float64)


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
    """The active AUs that belong to ``label``'s expression (its prototypes and usual extras), sorted."""
    own = set(LABEL_EXTRAS.get(label, ())) | set(EMONET_PROTOTYPES.get(label, ()))
    for proto in EMFACS_PROTOTYPES.get(label, ((),)):
        own |= set(proto)
    return tuple(sorted(a for a, v in aus.items() if v >= threshold and a in own))


def format_aus(aus: Mapping[int, float]) -> str:
    """``{6: 0.8, 12: 0.9}`` -> ``"6:0.80;12:0.90"`` (sorted by AU)."""
    return ";".join(f"{a}:{v:.2f}" for a, v in sorted(aus.items()))


def parse_aus(text: str) -> dict[int, float]:
    """Inverse of :func:`format_aus`; an empty string gives an empty dict."""
    out: dict[int, float] = {}
    for part in str(text or "").split(";"):
        part = part.strip()
        if part:
            a, _, v = part.partition(":")
            out[int(a)] = float(v) if v else 1.0
    return out


# ----------------------------------------------------------------------------------------------------------------
# Parameters
# ----------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Identity:
    """Everything about a person that does not change between images."""

    subject: int
    skin_tone: str
    age: str
    gender: str
    skin: tuple[float, float, float]
    hair: tuple[float, float, float]
    iris: tuple[float, float, float]
    lip: tuple[float, float, float]
    clothes: tuple[float, float, float]
    hair_style: str          # "short", "long", "bob", "bald"
    fringe: bool
    hairline: float          # y of the hairline at the midline
    face_w: float            # half-width of the head at cheekbone level
    jaw_p: float             # superellipse exponent of the lower face (bigger = squarer jaw)
    chin_y: float
    eye_dx: float            # shift of both eyes away from the midline
    eye_dy: float
    eye_w: float             # eye half-width
    eye_h: float             # upper-lid height at the centre
    brow_h: float            # brow height above the eye
    brow_thick: float
    brow_arch: float
    nose_w: float
    nose_dy: float
    mouth_w: float           # mouth half-width
    mouth_dy: float
    lip_u: float
    lip_l: float
    habit_au: int = 0        # 0 = no habit


@dataclass(frozen=True)
class FaceParams:
    """One image: an identity, its AUs, its label and the nuisances. ``render_face`` is a pure function of this."""

    identity: Identity
    aus: tuple[tuple[int, float], ...] = ()
    label: str | None = None           # None -> derived from the AUs
    size: int = 112
    lighting: str = "even"
    light_jitter: tuple[float, float] = (0.0, 0.0)   # (direction x jitter, gain jitter)
    tint: tuple[float, float, float] = (1.0, 1.0, 1.0)
    roll_deg: float = 0.0
    shift: tuple[float, float] = (0.0, 0.0)          # in crop fractions
    scale: float = 1.0
    gaze: tuple[float, float] = (0.0, 0.0)
    blur_sigma: float = 0.0
    noise_sigma: float = 0.0
    noise_offset: tuple[int, int] = (0, 0)
    occluder: str = "none"
    occluder_color: tuple[float, float, float] = (40.0, 40.0, 45.0)
    background: tuple[tuple[float, float, float], tuple[float, float, float]] = ((120.0, 130.0, 140.0),
                                                                                 (90.0, 100.0, 110.0))

    def au_dict(self) -> dict[int, float]:
        return {int(a): float(v) for a, v in self.aus}

    def resolved_label(self) -> str:
        return self.label if self.label is not None else label_from_aus(self.au_dict())


def make_identity(seed: int, subject: int, *, habit_rate: float = 0.0, skin_tone: str | None = None,
                  age: str | None = None, gender: str | None = None,
                  group_probs: Mapping[str, Sequence[float]] | None = None) -> Identity:
    """Draw identity ``subject`` of dataset ``seed`` (deterministic). Groups may be forced."""
    rng = np.random.default_rng([int(seed), 11, int(subject)])
    gp = group_probs or {}
    st = SKIN_TONES[rng.choice(3, p=gp.get("skin_tone"))]
    ag = AGES[rng.choice(3, p=gp.get("age"))]
    ge = GENDERS[rng.choice(2, p=gp.get("gender"))]
    st, ag, ge = skin_tone or st, age or ag, gender or ge
    fem = ge == "feminine"
    skin = _SKIN_BASE[st] * rng.uniform(0.93, 1.05) + rng.normal(0, 5, 3)
    skin = np.clip(skin, 30, 250)
    hair_i = rng.choice(len(_HAIR), p=[0.3, 0.28, 0.2, 0.1, 0.07, 0.05] if st == "light" else
                        [0.55, 0.33, 0.1, 0.02, 0.0, 0.0])
    hair = _HAIR[hair_i] * rng.uniform(0.85, 1.15)
    if ag == "older":
        grey = rng.uniform(0.5, 0.9)
        hair = hair * (1 - grey) + np.array([200.0, 200.0, 205.0]) * grey
    iris_i = rng.choice(len(_IRIS), p=[0.3, 0.25, 0.2, 0.1, 0.15] if st == "light" else [0.6, 0.35, 0.0, 0.0, 0.05])
    iris = _IRIS[iris_i] * rng.uniform(0.85, 1.15)
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
    return Identity(
        subject=int(subject), skin_tone=st, age=ag, gender=ge,
        skin=tuple(float(x) for x in skin), hair=tuple(float(x) for x in np.clip(hair, 0, 255)),
        iris=tuple(float(x) for x in np.clip(iris, 0, 255)), lip=tuple(float(x) for x in np.clip(lip, 0, 255)),
        clothes=tuple(float(x) for x in clothes),
        hair_style=style, fringe=bool(fem and rng.random() < 0.4),
        hairline=float(rng.uniform(0.06, 0.12) + (0.03 if older and not fem else 0.0)),
        face_w=float(rng.uniform(0.39, 0.44) + (0.01 if not fem else 0.0) + (0.01 if young else 0.0)),
        jaw_p=float(rng.uniform(2.6, 3.3) if not fem else rng.uniform(1.9, 2.4)),
        chin_y=float(rng.uniform(0.95, 0.99)),
        eye_dx=float(rng.uniform(-0.012, 0.012)), eye_dy=float(rng.uniform(-0.01, 0.01)),
        eye_w=float(rng.uniform(0.078, 0.09) * (1.04 if young else 1.0)),
        eye_h=float(rng.uniform(0.026, 0.034) * (1.1 if fem else 1.0) * (0.9 if older else 1.0)),
        brow_h=float(rng.uniform(0.062, 0.08) - (0.006 if not fem else 0.0)),
        brow_thick=float(rng.uniform(0.017, 0.024) if not fem else rng.uniform(0.010, 0.015)),
        brow_arch=float(rng.uniform(0.006, 0.02) + (0.006 if fem else 0.0)),
        nose_w=float(rng.uniform(0.05, 0.065) + (0.008 if st == "dark" else 0.0)),
        nose_dy=float(rng.uniform(-0.01, 0.01)),
        mouth_w=float(rng.uniform(0.145, 0.165)), mouth_dy=float(rng.uniform(-0.01, 0.01)),
        lip_u=float(rng.uniform(0.02, 0.028) * (1.15 if fem else 1.0) * (0.8 if older else 1.0)),
        lip_l=float(rng.uniform(0.028, 0.036) * (1.15 if fem else 1.0) * (0.8 if older else 1.0)),
        habit_au=habit,
    )


# ----------------------------------------------------------------------------------------------------------------
# Geometry (canonical crop coordinates: fractions of the crop, x right, y down)
# ----------------------------------------------------------------------------------------------------------------

_T = np.linspace(-1.0, 1.0, 13)
_T2 = 1.0 - _T**2
_TM = np.linspace(-1.0, 1.0, 19)
_TM2 = 1.0 - _TM**2
_PK = np.clip(_T2, 0, None)
_PK75, _PK9, _PK6, _PK7 = _PK**0.75, _PK**0.9, _PK**0.6, _PK**0.7
_PR = np.clip(_TM2, 0, None)
_PR7, _PR6, _PR25, _PR15, _PR45, _PR55, _PR3, _PR5 = (_PR**0.7, _PR**0.6, _PR**0.25, _PR**1.5, _PR**0.45, _PR**0.55,
                                                      _PR**0.3, _PR**0.5)
_BOW = 1 - 0.3 * np.exp(-(_TM / 0.13) ** 2)
_TILT = -0.006 * (_T + 1) / 2
_BROW_W = np.zeros((12, 5))
for _i, _u in enumerate(np.linspace(0, 4, 12)):
    _j = min(int(_u), 3)
    _BROW_W[_i, _j], _BROW_W[_i, _j + 1] = 1 - (_u - _j), _u - _j
_BROW_TCK = np.array([1.15, 1.05, 0.9, 0.7, 0.45])
_BROW_TH = _BROW_W @ _BROW_TCK
_BROW_DX = np.array([-0.092, -0.05, 0.0, 0.055, 0.10])
_BROW_IN = np.array([1.0, 0.75, 0.4, 0.15, 0.0])
_BROW_OUT = np.array([0.0, 0.15, 0.5, 0.85, 1.0])
_BROW_ARCH = np.array([0.0, 0.6, 1.0, 0.7, 0.0])
_BROW_END = np.array([0.006, 0.0, 0.0, 0.0, 0.012])
_MIRROR = np.array([-1.0, 1.0])
_MIRROR_T = np.array([1.0, 0.0])
_CIRC = np.linspace(0, 2 * np.pi, 19)[:-1]
_COS, _SIN = np.cos(_CIRC), np.sin(_CIRC)


_LIN9 = np.linspace(0, 1, 9)
_SIN9 = np.sin(np.pi * _LIN9 * 0.9)


def _xy(x, y) -> np.ndarray:
    out = np.empty((len(x), 2))
    out[:, 0] = x
    out[:, 1] = y
    return out


_UNIT = _xy(_COS, _SIN)


def _ell(cx: float, cy: float, a: float, b: float) -> np.ndarray:
    return _UNIT * (a, b) + (cx, cy)


def _head_outline(idn: Identity) -> np.ndarray:
    a, cy, top = idn.face_w, 0.45, -0.16
    ang = np.linspace(np.pi, 2 * np.pi, 19)
    upper = _xy(0.5 + a * np.cos(ang), cy + (cy - top) * np.sin(ang))  # left -> over the top -> right
    u = np.linspace(0.0, 1.0, 16)[1:]
    w = a * (1 - u**idn.jaw_p) ** (1 / idn.jaw_p)
    w = np.maximum(w, 0.06 * (1 - u) + 0.0)  # rounded chin rather than a point
    y = cy + u * (idn.chin_y - cy)
    right = _xy(0.5 + w, y)
    left = np.stack([0.5 - w[::-1], y[::-1]], 1)
    return np.concatenate([upper, right, left], 0)


def _face_half_width(idn: Identity, y: float) -> float:
    if y <= 0.45:
        b = 0.45 + 0.16
        return idn.face_w * math.sqrt(max(0.0, 1 - ((0.45 - y) / b) ** 2))
    u = min(1.0, (y - 0.45) / (idn.chin_y - 0.45))
    return idn.face_w * (1 - u**idn.jaw_p) ** (1 / idn.jaw_p)


def _geometry(idn: Identity, aus: Mapping[int, float], gaze: tuple[float, float] = (0.0, 0.0)) -> dict:
    """All feature shapes for one face (canonical coordinates)."""
    g = aus.get
    au1, au2, au4, au5, au6, au7 = g(1, 0.0), g(2, 0.0), g(4, 0.0), g(5, 0.0), g(6, 0.0), g(7, 0.0)
    au9, au10, au12, au14, au15, au16 = g(9, 0.0), g(10, 0.0), g(12, 0.0), g(14, 0.0), g(15, 0.0), g(16, 0.0)
    au17, au20, au23, au24, au25, au26 = g(17, 0.0), g(20, 0.0), g(23, 0.0), g(24, 0.0), g(25, 0.0), g(26, 0.0)
    geo: dict = {}

    # ---- eyes (the image-right eye and brow mirror the image-left ones about x = 0.5) ---------------------------
    ex = 0.5 - (0.20 + idn.eye_dx)
    ey = 0.40 + idn.eye_dy
    ew = idn.eye_w
    hu = idn.eye_h * (1 + 0.75 * au5 - 0.25 * au7) + 0.004 * au5
    hl = 0.023 * (1 - 0.55 * au7) * (1 + 0.15 * au5)
    x = ex - ew * _T  # from inner (t=-1) to outer (t=+1)
    eyt = ey + _TILT
    left = dict(upper=_xy(x, eyt - hu * _PK75), lower=_xy(x, eyt + hl * _PK9),
                crease=_xy(ex - (ew * 1.08) * _T, eyt - (hu + 0.014 + 0.006 * au5) * _PK6 - 0.004),
                under=_xy(ex - (ew * 1.1) * _T, eyt + (hl + 0.03) * _PK7 + 0.004))
    r = 0.031 * (idn.eye_w / 0.084) ** 0.5
    eyes = []
    for side in (-1, 1):  # -1: image-left
        e = {k: (v if side < 0 else v * _MIRROR + _MIRROR_T) for k, v in left.items()}
        exs = ex if side < 0 else 1.0 - ex
        e.update(c=(exs, ey), iris=(exs + gaze[0] * 0.01, ey + 0.002 + gaze[1] * 0.005), r=r, side=side)
        eyes.append(e)
    geo["eyes"] = eyes

    # ---- brows ------------------------------------------------------------------------------------------------
    xs = ex - _BROW_DX * (idn.eye_w / 0.084) + (0.016 * au4) * _BROW_IN
    base = (ey - idn.brow_h) - idn.brow_arch * _BROW_ARCH + _BROW_END
    dy = (-0.042 * au1 + 0.012 * au4 * au1 + 0.008 * au4) * _BROW_IN - (0.036 * au2) * _BROW_OUT + 0.0132 * au4
    xi = _BROW_W @ xs
    yc = _BROW_W @ (base + dy)
    th = _BROW_TH * (idn.brow_thick / 2)
    lb = _xy(np.concatenate([xi, xi[::-1]]), np.concatenate([yc - th, (yc + th)[::-1]]))
    geo["brows"] = [lb, lb * _MIRROR + _MIRROR_T]
    furrows = []
    if au4 > 0.05:
        for s in (-1, 1):
            x0 = 0.5 + s * 0.014
            y0 = eyes[0]["c"][1] - idn.brow_h + 0.012
            furrows.append(np.array([[x0 + s * 0.004, y0 - 0.035 * au4], [x0, y0], [x0 - s * 0.002, y0 + 0.012]]))
    geo["furrows"] = furrows

    # ---- nose ------------------------------------------------------------------------------------------------
    ny = 0.58 + idn.nose_dy
    nw = idn.nose_w * (1 + 0.25 * au9 + 0.08 * au10)
    lift = 0.014 * au9 + 0.006 * au10
    nos = []
    alae = []
    for s in (-1, 1):
        nos.append(_ell(0.5 + s * nw * 0.45, ny + 0.016 - lift, 0.013 * (1 + 0.2 * au9), 0.0065))
        ax = 0.5 + s * (nw * (0.55 + 0.45 * _SIN9))
        ay = ny - 0.025 - lift + 0.05 * _LIN9
        alae.append(_xy(ax, ay))
    geo["nostrils"], geo["alae"] = nos, alae
    bridge = []
    for s in (-1, 1):
        bridge.append(np.array([[0.5 + s * 0.03, 0.43], [0.5 + s * 0.034, 0.50],
                                [0.5 + s * (nw * 0.75), ny - 0.03 - lift]]))
    geo["bridge"] = bridge
    wrinkles = []
    if au9 > 0.05:
        for k, yy in enumerate((0.455, 0.48, 0.505)):
            hw = 0.022 + 0.006 * k
            wrinkles.append(np.array([[0.5 - hw, yy + 0.006], [0.5, yy - 0.004 * au9], [0.5 + hw, yy + 0.006]]))
        for s in (-1, 1):  # "bunny lines" on the sides of the bridge
            wrinkles.append(np.array([[0.5 + s * 0.04, 0.47], [0.5 + s * 0.058, 0.50 - 0.004 * au9]]))
    geo["nose_wrinkles"] = wrinkles
    geo["nose_tip"] = (0.5, ny)

    # ---- mouth -----------------------------------------------------------------------------------------------
    mw = idn.mouth_w * (1 + 0.17 * au12 + 0.24 * au20 - 0.10 * au23 - 0.06 * au24 - 0.14 * au26 - 0.03 * au15
                        - 0.05 * au14 + 0.02 * au10)
    my = 0.78 + idn.mouth_dy
    corner = my - 0.045 * au12 + 0.05 * au15 + 0.010 * au20 - 0.004 * au14 + 0.004 * au10
    mid = my + 0.004 - 0.004 * au12 - 0.012 * au17 + 0.004 * au15 - 0.008 * au10
    open_up = 0.006 * au25 + 0.004 * au26
    open_lo = 0.012 * au25 + 0.075 * au26
    thick = (1 - 0.55 * au23) * (1 - 0.4 * au24) * (1 - 0.15 * au12) * (1 - 0.3 * au20)
    tu = idn.lip_u * thick * (1 - 0.3 * au10)
    tl = idn.lip_l * thick * (1 + 0.25 * au17)
    xm = 0.5 + mw * _TM
    line = corner + (mid - corner) * _PR7
    inner_up = line - (open_up * _PR6 + 0.026 * au10 * _PR25)
    inner_lo = line + (open_lo * _PR6 + 0.022 * au16 * _PR15)
    outer_up = inner_up - tu * (_PR45 * _BOW)
    outer_lo = inner_lo + tl * _PR55
    geo["mouth"] = dict(inner_up=_xy(xm, inner_up), inner_lo=_xy(xm, inner_lo),
                        outer_up=_xy(xm, outer_up), outer_lo=_xy(xm, outer_lo),
                        corners=((xm[0], line[0]), (xm[-1], line[-1])),
                        open=float(open_up + open_lo + 0.026 * au10 + 0.022 * au16), tu=tu)
    # shadow below the lower lip, chin boss (17), smile lines (12), dimples (14), press lines (24)
    lo_c = float(outer_lo[len(_TM) // 2])
    geo["chin_shadow"] = (0.5, lo_c + 0.022, 0.055 * (1 - 0.3 * au17), 0.011)
    extra_mouth = []
    if au17 > 0.05:
        extra_mouth.append(np.array([[0.5 - 0.055, lo_c + 0.04], [0.5, lo_c + 0.028 + 0.01 * au17],
                                     [0.5 + 0.055, lo_c + 0.04]]))
    if au12 > 0.05:
        for s in (-1, 1):
            cx, cy = xm[0 if s < 0 else -1], line[0 if s < 0 else -1]
            extra_mouth.append(np.array([[cx + s * 0.012, cy - 0.035 * au12], [cx + s * 0.026, cy - 0.006],
                                         [cx + s * 0.016, cy + 0.028 * au12]]))
    if au14 > 0.05:  # dimpler: a crescent crease beside each tightened corner, longer with intensity
        for s in (-1, 1):
            cx, cy = xm[0 if s < 0 else -1], line[0 if s < 0 else -1]
            h, dx = 0.012 + 0.03 * au14, 0.014 + 0.008 * au14
            geo.setdefault("dimples", []).append(np.array([[cx + s * dx, cy - h], [cx + s * (dx + 0.01), cy],
                                                           [cx + s * dx, cy + h]]))
    if au24 > 0.05:
        extra_mouth.append(np.array([[0.5 - 0.04, float(outer_up.min()) - 0.01], [0.5, float(outer_up.min()) - 0.014],
                                     [0.5 + 0.04, float(outer_up.min()) - 0.01]]))
    if au15 > 0.05:
        for s in (-1, 1):
            cx, cy = xm[0 if s < 0 else -1], line[0 if s < 0 else -1]
            extra_mouth.append(np.array([[cx, cy + 0.004], [cx - s * 0.006, cy + 0.03 * au15]]))
    geo["mouth_lines"] = extra_mouth

    # ---- cheeks (6) ------------------------------------------------------------------------------------------
    cheeks = []
    folds = []
    for e in eyes:
        side = e["side"]
        cx = 0.5 + side * 0.19
        cy = 0.63 - 0.035 * au6
        cheeks.append((cx, cy, 0.07 * (1 + 0.15 * au6), 0.05 * (1 + 0.2 * au6)))
        if au6 > 0.05:
            folds.append(np.array([[0.5 + side * 0.08, 0.6], [0.5 + side * 0.125, 0.65 - 0.01 * au6],
                                   [0.5 + side * 0.15, 0.71 - 0.02 * au6]]))
            folds.append(np.array([[cx - 0.05, 0.545 - 0.01 * au6 + 0.0], [cx, 0.555 - 0.012 * au6],
                                   [cx + 0.05, 0.545 - 0.01 * au6]]))
    geo["cheeks"], geo["folds"] = cheeks, folds
    geo["landmarks"] = np.array([eyes[0]["c"], eyes[1]["c"], (0.5, ny), (0.34 + 0.16 - idn.mouth_w, my),
                                 (0.66 - 0.16 + idn.mouth_w, my)], dtype=np.float64)
    # landmarks follow the rendered mouth corners (a detector would find those)
    geo["landmarks"][3] = geo["mouth"]["corners"][0]
    geo["landmarks"][4] = geo["mouth"]["corners"][1]
    return geo


def _region_points(geo: dict, regions=None) -> dict[str, list[np.ndarray]]:
    """Point clouds (one per connected part) that each region's evidence covers (only ``regions`` if given)."""
    want = set(regions) if regions is not None else {"mouth", "brows", "eyes", "cheeks", "nose"}
    out: dict[str, list[np.ndarray]] = {}
    if "mouth" in want:
        m = geo["mouth"]
        cs = geo["chin_shadow"]
        out["mouth"] = [np.concatenate([m["outer_up"], m["outer_lo"], *geo["mouth_lines"], *geo.get("dimples", []),
                                        np.array([[cs[0] - cs[2], cs[1] + cs[3]], [cs[0] + cs[2], cs[1] + cs[3]]])], 0)]
    if "brows" in want:
        out["brows"] = [np.concatenate([*geo["brows"], *geo["furrows"]], 0)]
    if "eyes" in want:
        out["eyes"] = [np.concatenate([e["upper"], e["lower"], e["crease"]], 0) for e in geo["eyes"]]
    if "cheeks" in want:
        cheeks = []
        for cx, cy, a, b in geo["cheeks"]:
            pts = [_ell(cx, cy, a * 0.9, b * 0.9)]
            pts += [f for f in geo["folds"] if (f[0, 0] - 0.5) * (cx - 0.5) > 0]
            cheeks.append(np.concatenate(pts, 0))
        out["cheeks"] = cheeks
    if "nose" in want:
        out["nose"] = [np.concatenate([*geo["nostrils"], *geo["alae"], *geo["nose_wrinkles"]], 0)]
    return out


# ----------------------------------------------------------------------------------------------------------------
# Rendering
# ----------------------------------------------------------------------------------------------------------------

_SS = 1          # supersampling factor for the colour layer (1: draw at the output size with anti-aliasing)
_SHIFT = 4       # fixed-point bits for OpenCV drawing
_NOISE_TILE = 256


class _Grids:
    """Per-size precomputed fields (generic head normals) and a fixed noise bank."""

    _cache: dict[int, "_Grids"] = {}

    def __init__(self, size: int):
        yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
        x = (xx + 0.5) / size - 0.5
        y = (yy + 0.5) / size - 0.45
        nx, ny = x / 0.5, y / 0.62
        r2 = np.clip(nx**2 + ny**2, 0, 0.96)
        self.nx, self.ny, self.nz = nx.astype(np.float32), ny.astype(np.float32), np.sqrt(1 - r2).astype(np.float32)
        rng = np.random.default_rng(12345)
        self.noise = rng.standard_normal((_NOISE_TILE + size, size, 3)).astype(np.float32)  # row slices: contiguous
        self.light = {}
        for name, ((lx, ly, lz), _, _) in _LIGHT.items():
            nrm = math.sqrt(lx * lx + ly * ly + lz * lz)
            self.light[name] = ((lx * self.nx + ly * self.ny + lz * self.nz) / nrm).astype(np.float32)

    @classmethod
    def get(cls, size: int) -> "_Grids":
        g = cls._cache.get(size)
        if g is None:
            g = cls._cache[size] = _Grids(size)
        return g


def _pose_matrix(p: FaceParams) -> np.ndarray:
    """2 x 3 map from canonical face coordinates to crop fractions (roll about (0.5, 0.55), scale, shift)."""
    th = math.radians(p.roll_deg)
    c, s = math.cos(th) * p.scale, math.sin(th) * p.scale
    cx, cy = 0.5, 0.55
    return np.array([[c, -s, cx - c * cx + s * cy + p.shift[0]], [s, c, cy - s * cx - c * cy + p.shift[1]]])


class _Layer:
    """Collects shapes in canonical coordinates; ``draw`` transforms all points at once and issues the cv2 calls."""

    __slots__ = ("arrays", "ops", "_cat")

    def __init__(self):
        self.arrays: list[np.ndarray] = []
        self.ops: list[tuple] = []
        self._cat = None

    def poly(self, ps, color, aa: bool = True) -> None:
        ps = ps if isinstance(ps, (list, tuple)) else [ps]
        self.ops.append((0, len(self.arrays), len(ps), color, aa))
        self.arrays.extend(ps)

    def line(self, ps, color, width: int = 1, closed: bool = False) -> None:
        ps = ps if isinstance(ps, (list, tuple)) else [ps]
        if ps:
            self.ops.append((1 if not closed else 2, len(self.arrays), len(ps), color, int(width)))
            self.arrays.extend(ps)

    def draw(self, img: np.ndarray, m: np.ndarray, res: float, color=None) -> None:
        if not self.arrays:
            return
        if self._cat is None:
            self._cat = (np.concatenate(self.arrays, 0), list(accumulate((len(a) for a in self.arrays), initial=0)))
        allp, offs = self._cat
        mf = m * (res * (1 << _SHIFT))
        q = np.rint(cv2.transform(allp.reshape(-1, 1, 2), mf).reshape(-1, 2)).astype(np.int32)
        arrs = [q[offs[i]:offs[i + 1]] for i in range(len(offs) - 1)]
        override = color
        for kind, i0, n, color, extra in self.ops:
            pl = arrs[i0:i0 + n]
            if override is not None:
                color = override
            if kind == 0:
                cv2.fillPoly(img, pl, color, cv2.LINE_AA if extra else cv2.LINE_8, _SHIFT)
            else:
                cv2.polylines(img, pl, kind == 2, color, extra, cv2.LINE_AA, _SHIFT)


def _col(c) -> tuple[float, float, float]:
    return (float(min(255.0, max(0.0, c[0]))), float(min(255.0, max(0.0, c[1]))), float(min(255.0, max(0.0, c[2]))))


_NEUTRAL_CACHE: dict = {}  # per-identity shapes and canvases (bounded: cleared when it grows past _CACHE_MAX)
_CACHE_MAX = 2048


def _cache_put(key, value):
    if len(_NEUTRAL_CACHE) >= _CACHE_MAX:
        _NEUTRAL_CACHE.clear()
    _NEUTRAL_CACHE[key] = value
    return value


def _neutral_regions(idn: Identity) -> dict[str, list[np.ndarray]]:
    r = _NEUTRAL_CACHE.get(idn)
    if r is None:
        r = _cache_put(idn, _region_points(_geometry(idn, {})))
    return r


def _static_layer(idn: Identity) -> tuple[_Layer, _Layer, np.ndarray, dict]:
    """Shapes that depend on the identity only (head, hair, ears, neck, clothes, age lines); cached."""
    key = ("static", idn)
    hit = _NEUTRAL_CACHE.get(key)
    if hit is not None:
        return hit
    L = _Layer()
    skin = np.array(idn.skin)
    hair = _col(idn.hair)
    a = idn.face_w
    head = _head_outline(idn)
    if idn.hair_style in ("long", "bob"):
        bottom = 1.08 if idn.hair_style == "long" else 0.78
        back = np.array([[0.5 - a - 0.07, bottom], [0.5 - a - 0.1, 0.45], [0.5 - a - 0.06, 0.0], [0.5, -0.3],
                         [0.5 + a + 0.06, 0.0], [0.5 + a + 0.1, 0.45], [0.5 + a + 0.07, bottom]])
        L.poly(back, _col(np.array(hair) * 0.8))
    L.poly(np.array([[0.5 - 0.17, 0.75], [0.5 + 0.17, 0.75], [0.5 + 0.2, 1.1], [0.5 - 0.2, 1.1]]), _col(skin * 0.78))
    L.poly(_ell(0.5, 1.34, 0.66, 0.36), _col(idn.clothes))
    if idn.hair_style in ("short", "bald"):
        L.poly([_ell(0.5 + s * (a + 0.005), 0.5, 0.035, 0.075) for s in (-1, 1)], _col(skin * 0.9))
        L.poly([_ell(0.5 + s * (a + 0.01), 0.5, 0.017, 0.045) for s in (-1, 1)], _col(skin * 0.75))
    L.poly(head, _col(skin))
    if idn.hair_style != "bald":
        tt = np.linspace(-1, 1, 15)
        hl = idn.hairline + (0.07 if idn.fringe else 0.0)
        temple = 0.36 if idn.hair_style == "short" else 0.30
        hx = 0.5 + (a + 0.004) * tt
        hy = hl + (temple - hl) * np.abs(tt) ** 3
        if idn.fringe:
            hy = hy + 0.012 * np.abs(np.sin(tt * 7.0))
        ang = np.linspace(0, np.pi, 11)
        outer = _xy(0.5 + (a + 0.03) * np.cos(ang), 0.45 - 0.64 * np.sin(ang))
        outer = np.concatenate([np.array([[0.5 + a + 0.03, temple + 0.02]]), outer,
                                np.array([[0.5 - a - 0.03, temple + 0.02]])], 0)
        L.poly(np.concatenate([_xy(hx, hy), outer], 0), hair)
        if idn.hair_style == "long":
            L.poly([np.array([[0.5 + s * (a - 0.02), 0.28], [0.5 + s * (a - 0.025), 0.55],
                              [0.5 + s * (a - 0.05), 0.8], [0.5 + s * (a - 0.04), 1.08],
                              [0.5 + s * (a + 0.1), 1.08], [0.5 + s * (a + 0.1), 0.28]]) for s in (-1, 1)], hair)
    else:
        L.line([np.array([[0.5 - a, 0.42], [0.5 - a + 0.02, 0.30]]),
                np.array([[0.5 + a, 0.42], [0.5 + a - 0.02, 0.30]])], _col(np.array(hair) * 0.9), 4)
    if idn.age == "older":
        lc = _col(skin * 0.82)
        ls = [np.array([[0.36, yy + 0.008], [0.5, yy], [0.64, yy + 0.008]]) for yy in (0.17, 0.215, 0.26)]
        for side in (-1, 1):
            ex, ey = 0.5 + side * (0.20 + idn.eye_dx), 0.40 + idn.eye_dy
            ox = ex + side * (idn.eye_w + 0.014)
            ls += [np.array([[ox, ey - 0.004], [ox + side * 0.028, ey - 0.016]]),
                   np.array([[ox, ey + 0.006], [ox + side * 0.03, ey + 0.01]]),
                   np.array([[ex - 0.045, ey + 0.05], [ex, ey + 0.058], [ex + 0.045, ey + 0.05]]),
                   np.array([[0.5 + side * 0.085, 0.6], [0.5 + side * 0.125, 0.665], [0.5 + side * 0.15, 0.72]])]
        L.line(ls, lc, 1)
    D = _Layer()
    hc = np.array([0.5, 0.47])
    for f, v in ((1.0, 150), (0.95, 168), (0.89, 184), (0.8, 198)):
        D.poly(hc + (head - hc) * f, v, aa=False)
    eyes_c = [(0.5 + side * (0.20 + idn.eye_dx), 0.40 + idn.eye_dy) for side in (-1, 1)]
    D.poly([_ell(ex, ey - 0.005, 0.11, 0.065) for ex, ey in eyes_c], 184, aa=False)
    D.poly([_ell(0.5 + s * 0.045, 0.5, 0.016, 0.07) for s in (-1, 1)], 182, aa=False)
    ny = 0.58 + idn.nose_dy
    D.poly(_ell(0.5, ny - 0.012, 0.028, 0.024), 218, aa=False)
    D.poly(_ell(0.5, ny + 0.045, 0.05, 0.012), 180, aa=False)
    D.poly(_ell(0.5, 0.2, 0.16, 0.07), 210, aa=False)
    hair_a = np.array(idn.hair)
    lip = np.array(idn.lip)
    cols = {k: _col(v) for k, v in {
        "iris": idn.iris, "iris_ring": np.array(idn.iris) * 0.55, "lid": skin * 0.94, "skin": skin,
        "crease": skin * 0.76, "lower": skin * 0.7, "furrow": skin * 0.66, "bridge": skin * 0.86, "alae": skin * 0.68,
        "nostril": skin * 0.35, "wrinkle": skin * 0.6, "fold": skin * 0.8, "lip_u": lip * 0.9, "lip": lip,
        "lip_line": lip * 0.45, "mouth_line": skin * 0.72, "dimple": skin * 0.55,
        "brow": hair_a * 0.8 if hair_a.mean() < 150 else hair_a * 0.55}.items()}
    hit = _cache_put(key, (L, D, head, cols))
    return hit


_DISKS: dict[int, np.ndarray] = {}


def _disk(radius: int) -> np.ndarray:
    k = _DISKS.get(radius)
    if k is None:
        k = _DISKS[radius] = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return k


def _static_canvas(idn: Identity, res: int) -> tuple[np.ndarray, int]:
    """The identity-only layer at the canonical pose on a padded RGBA canvas (colour premultiplied by alpha)."""
    key = ("canvas", idn, res)
    hit = _NEUTRAL_CACHE.get(key)
    if hit is None:
        pad = int(round(0.1 * res))
        static = _static_layer(idn)[0]
        n = res + 2 * pad
        shift = np.array([[1.0, 0.0, pad / res], [0.0, 1.0, pad / res]])
        rgb = np.zeros((n, n, 3), np.uint8)
        alpha = np.zeros((n, n), np.uint8)
        static.draw(rgb, shift, res)
        static.draw(alpha, shift, res, color=255)
        hit = _cache_put(key, (np.ascontiguousarray(np.dstack([rgb, alpha])), pad))
    return hit


def render_face(params: FaceParams, *, return_occluder: bool = False):
    """Render one face.

    Returns ``(rgb uint8 HxWx3, evidence bool HxW, landmarks float (5, 2))``; landmarks are image pixels in
    :data:`fer_core.face.align.LANDMARK_NAMES` order (left eye, right eye, nose, mouth left, mouth right;
    image-left first). With ``return_occluder=True`` a fourth item, the bool mask of opaque occluder pixels, follows.
    """
    idn = params.identity
    S = int(params.size)
    R = S * _SS
    aus = params.au_dict()
    geo = _geometry(idn, aus, params.gaze)
    m = _pose_matrix(params)
    fem = idn.gender == "feminine"
    a = idn.face_w

    # ---------------- colour layer ------------------------------------------------------------------------------
    static, static_shade, head, C = _static_layer(idn)
    rgba, pad = _static_canvas(idn, R)
    mw = m.copy()  # canvas pixel = canonical * R + pad  ->  crop pixel = R * (A canonical + t)
    mw[0, 2] = m[0, 2] * R - (m[0, 0] + m[0, 1]) * pad
    mw[1, 2] = m[1, 2] * R - (m[1, 0] + m[1, 1]) * pad
    # identity-only shapes (head, hair, ears, neck, clothes, age lines) are drawn once per identity and warped
    warped = cv2.warpAffine(rgba, mw, (R, R), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    inv = cv2.cvtColor(cv2.bitwise_not(cv2.extractChannel(warped, 3)), cv2.COLOR_GRAY2RGB)
    (r0, g0_, b0), (r1, g1_, b1) = params.background
    h2 = R // 2
    cv2.multiply(inv[:h2], (r0, g0_, b0, 0.0), dst=inv[:h2], scale=1 / 255)  # background where nothing is drawn
    cv2.multiply(inv[h2:], (r1, g1_, b1, 0.0), dst=inv[h2:], scale=1 / 255)
    img = cv2.add(cv2.cvtColor(warped, cv2.COLOR_RGBA2RGB), inv)
    L = _Layer()
    # eyes
    eyes = geo["eyes"]
    L.poly([np.concatenate([e["upper"], e["lower"][::-1]], 0) for e in eyes], (238, 236, 232))
    L.poly([_ell(e["iris"][0], e["iris"][1], e["r"], e["r"]) for e in eyes], C["iris"])
    L.line([_ell(e["iris"][0], e["iris"][1], e["r"], e["r"]) for e in eyes], C["iris_ring"], 1,
           closed=True)
    L.poly([_ell(e["iris"][0], e["iris"][1], e["r"] * 0.45, e["r"] * 0.45) for e in eyes], (15, 12, 12))
    L.poly([_ell(e["iris"][0] - 0.008, e["iris"][1] - 0.009, 0.006, 0.006) for e in eyes], (250, 250, 250))
    L.poly([np.concatenate([e["upper"], e["crease"][::-1]], 0) for e in eyes], C["lid"])
    L.poly([np.concatenate([e["lower"], e["under"][::-1]], 0) for e in eyes], C["skin"])
    L.line([e["crease"] for e in eyes], C["crease"], 1)
    L.line([e["upper"] for e in eyes], (30, 24, 24), 2)
    L.line([e["upper"][len(_T) // 2:] for e in eyes], (30, 24, 24), 2 if fem else 1)
    L.line([e["lower"] for e in eyes], C["lower"], 1)
    # brows
    L.poly(geo["brows"], C["brow"])
    L.line(geo["furrows"], C["furrow"], 1)
    # nose
    L.line(geo["bridge"], C["bridge"], 1)
    L.line(geo["alae"], C["alae"], 1)
    L.poly(geo["nostrils"], C["nostril"])
    L.line(geo["nose_wrinkles"], C["wrinkle"], 1)
    # cheeks (6)
    L.line(geo["folds"], C["fold"], 1)
    # mouth
    mo = geo["mouth"]
    if mo["open"] > 0.004:
        L.poly(np.concatenate([mo["inner_up"], mo["inner_lo"][::-1]], 0), (70, 22, 28))
        gap = mo["inner_lo"][:, 1] - mo["inner_up"][:, 1]
        k = slice(2, len(_TM) - 2)
        th = np.minimum(gap, 0.022 * _PR3)[k]
        top = mo["inner_up"][k]
        L.poly(np.concatenate([top, np.stack([top[:, 0], top[:, 1] + th], 1)[::-1]], 0), (236, 232, 220))
        if gap.max() > 0.04:
            bot = mo["inner_lo"][k]
            lth = np.minimum(gap * 0.3, 0.014 * _PR5)[k]
            L.poly(np.concatenate([bot, np.stack([bot[:, 0], bot[:, 1] - lth], 1)[::-1]], 0), (220, 215, 205))
    L.poly(np.concatenate([mo["outer_up"], mo["inner_up"][::-1]], 0), C["lip_u"])
    L.poly(np.concatenate([mo["inner_lo"], mo["outer_lo"][::-1]], 0), C["lip"])
    L.line(mo["inner_up"], C["lip_line"], 1)
    L.line(geo["mouth_lines"], C["mouth_line"], 1)
    if geo.get("dimples"):
        L.line(geo["dimples"], C["dimple"], 2 if params.size >= 96 else 1)
    # occluders
    occ_layer = None
    if params.occluder == "glasses":
        occ_layer = _Layer()
        frames = [_ell(e["c"][0], e["c"][1] + 0.004, 0.115, 0.07) for e in eyes]
        rest = [np.array([[0.5 - 0.085, 0.39], [0.5, 0.375], [0.5 + 0.085, 0.39]]),
                np.array([[0.5 - 0.315, 0.385], [0.5 - a - 0.02, 0.37]]),
                np.array([[0.5 + 0.315, 0.385], [0.5 + a + 0.02, 0.37]])]
        col = _col(params.occluder_color)
        w = max(1, int(round(R / 50)))
        L.line(frames, col, w, closed=True)
        L.line(rest, col, w)
        occ_layer.line(frames, 255, w, closed=True)
        occ_layer.line(rest, 255, w)
    elif params.occluder == "mask":
        occ_layer = _Layer()
        w_top, w_lo = _face_half_width(idn, 0.55), _face_half_width(idn, 0.8)
        mask_poly = np.array([[0.5 - w_top + 0.01, 0.56], [0.5 - 0.12, 0.50], [0.5, 0.485], [0.5 + 0.12, 0.50],
                              [0.5 + w_top - 0.01, 0.56], [0.5 + w_lo - 0.005, 0.8], [0.5 + 0.12, 0.97],
                              [0.5, idn.chin_y + 0.02], [0.5 - 0.12, 0.97], [0.5 - w_lo + 0.005, 0.8]])
        col = _col(params.occluder_color)
        L.poly(mask_poly, col)
        occ_layer.poly(mask_poly, 255)
        L.line([np.array([[0.5 - 0.25, 0.62 + d], [0.5, 0.6 + d], [0.5 + 0.25, 0.62 + d]]) for d in (0.0, 0.07, 0.14)],
               _col(np.array(col) * 0.85), 1)
        L.line([np.array([[0.5 - w_top + 0.01, 0.56], [0.5 - a - 0.01, 0.5]]),
                np.array([[0.5 + w_top - 0.01, 0.56], [0.5 + a + 0.01, 0.5]])], (235, 235, 235), 1)
    L.draw(img, m, R)
    small = img if _SS == 1 else cv2.resize(img, (S, S), interpolation=cv2.INTER_AREA)

    # ---------------- shading layer (half resolution, blurred) --------------------------------------------------
    H = max(16, S // 2)
    key = ("shade", idn, H)
    canon = _NEUTRAL_CACHE.get(key)
    if canon is None:
        canon = np.full((H, H), 200, np.uint8)
        static_shade.draw(canon, np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]), H)
        _cache_put(key, canon)
    mp = m.copy()
    mp[:, 2] *= H
    shade = cv2.warpAffine(canon, mp, (H, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                           borderValue=200)
    D = _Layer()
    cs = geo["chin_shadow"]
    D.poly(_ell(*cs), 176, aa=False)
    au6 = aus.get(6, 0.0)
    if aus.get(17, 0.0) > 0.05:
        D.poly(_ell(0.5, cs[1] + 0.04, 0.045, 0.025), 214, aa=False)
    if au6 > 0.05:
        D.poly([_ell(cx, cy + cb * 0.9, ca * 0.9, cb * 0.5) for cx, cy, ca, cb in geo["cheeks"]], 184, aa=False)
    D.poly([_ell(*c) for c in geo["cheeks"]], int(206 + 28 * au6), aa=False)
    D.draw(shade, m, H)
    shade = cv2.GaussianBlur(shade, (5, 5), H * 0.022)
    shade = cv2.resize(shade, (S, S), interpolation=cv2.INTER_LINEAR)

    # ---------------- nuisances ---------------------------------------------------------------------------------
    if params.blur_sigma > 0.05:
        small = cv2.GaussianBlur(small, (0, 0), params.blur_sigma)
    gr = _Grids.get(S)
    lname = params.lighting if params.lighting in _LIGHT else "even"
    _, g0, g1 = _LIGHT[lname]
    g1 = g1 * (1 + params.light_jitter[1])
    lf = cv2.addWeighted(gr.light[lname], g1, gr.nx, g1 * params.light_jitter[0], g0)
    field = cv2.multiply(shade, lf, scale=1.0 / 200.0, dtype=cv2.CV_32F)
    t0_, t1_, t2_ = params.tint
    f3 = cv2.multiply(cv2.cvtColor(field, cv2.COLOR_GRAY2RGB), (t0_, t1_, t2_, 0.0))
    if params.noise_sigma > 0.05:
        oy = (params.noise_offset[0] * 7 + params.noise_offset[1]) % _NOISE_TILE
        lit = cv2.multiply(small, f3, dtype=cv2.CV_32F)
        rgb = cv2.convertScaleAbs(cv2.max(cv2.scaleAdd(gr.noise[oy:oy + S], float(params.noise_sigma), lit), 0.0))
    else:
        rgb = cv2.multiply(small, f3, dtype=cv2.CV_8U)

    # ---------------- evidence ----------------------------------------------------------------------------------
    label = params.resolved_label()
    ev_aus = evidence_aus(label, aus)
    ev = np.zeros((S, S), np.uint8)
    if ev_aus:
        regions = {AU_REGION[au] for au in ev_aus}
        now_pts, base_pts = _region_points(geo, regions), _neutral_regions(idn)
        mf = m * (S * (1 << _SHIFT))
        margin = max(2, int(round(0.03 * S)))
        hulls = []
        for r in sorted(regions):
            for p_now, p_base in zip(now_pts[r], base_pts[r]):
                q = np.rint(cv2.transform(np.concatenate([p_now, p_base], 0).reshape(-1, 1, 2), mf).reshape(-1, 2)
                            ).astype(np.int32)
                hulls.append(cv2.convexHull(q))
        cv2.fillPoly(ev, hulls, 255, cv2.LINE_8, _SHIFT)
        ev = cv2.dilate(ev, _disk(margin))  # grow by the margin (blur, anti-aliasing, soft shading edges)
    occ = None
    if occ_layer is not None:
        occ_img = np.zeros((S, S), np.uint8)
        occ_layer.draw(occ_img, m, S)
        occ = occ_img >= 128
        ev[occ] = 0
    evidence = ev > 0
    landmarks = cv2.transform(geo["landmarks"].reshape(-1, 1, 2), m * S).reshape(-1, 2)
    if return_occluder:
        return rgb, evidence, landmarks, (occ if occ is not None else np.zeros((S, S), bool))
    return rgb, evidence, landmarks


# ----------------------------------------------------------------------------------------------------------------
# Dataset specification and sampling
# ----------------------------------------------------------------------------------------------------------------

def _as_tuple_of_dicts(x) -> tuple:
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
            raise ValueError(f"intensity must be (low, high) with {ACTIVE_THRESHOLD} <= low <= high <= 1, got "
                             f"{tuple(self.intensity)} (below {ACTIVE_THRESHOLD} an AU no longer counts as active)")
        if self.glasses_rate + self.mask_rate > 1.0:
            raise ValueError("glasses_rate + mask_rate must be <= 1")
        self.base_label_probs()
        for b in _as_tuple_of_dicts(self.bias):
            _check_bias(b, "label", BASIC7)
        for b in _as_tuple_of_dicts(self.lighting_bias):
            _check_bias(b, "lighting", LIGHTINGS)

    @property
    def identities(self) -> int:
        return int(self.n_identities) if self.n_identities else max(1, max(min(self.n, 20), self.n // 10))

    def base_label_probs(self) -> np.ndarray:
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


_GROUPS = {"skin_tone": SKIN_TONES, "age": AGES, "gender": GENDERS}


def _check_bias(b: Mapping, key: str, values: Sequence[str]) -> None:
    attr = b.get("attribute")
    if attr not in _GROUPS:
        raise ValueError(f"bias attribute {attr!r} unknown; choose from {', '.join(_GROUPS)}")
    if b.get("group") not in _GROUPS[attr]:
        raise ValueError(f"bias group {b.get('group')!r} is not a {attr} group; choose from {', '.join(_GROUPS[attr])}")
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
        raise ValueError(f"bias {text!r} must look like ATTRIBUTE=GROUP:LABEL:STRENGTH, "
                         "e.g. skin_tone=dark:happy:0.6") from None
    _check_bias(b, "label", BASIC7)
    return b


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
        idn = self.params.identity
        emonet = self.label in EMONET_PROTOTYPES
        extra = {"intensities": emonet_intensities(self.label, self.aus), "rated": "all"} if emonet else {}
        return {
            "label": self.label, "true_label": self.true_label, "label_set": "emonet40" if emonet else "basic7",
            "aus": format_aus(self.aus), "subject": f"synth{idn.subject:05d}", "gender": idn.gender,
            "age": idn.age, "race": idn.skin_tone, "skin_tone": idn.skin_tone, "lighting": self.params.lighting,
            "occluder": self.params.occluder, "habit_au": idn.habit_au or "", "split": self.split,
            "source": "synthfacs", **extra,
        }


def _sample_expression(label: str, u, intensity: tuple[float, float] = (0.6, 1.0)) -> dict[int, float]:
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


def _sample_emonet(u) -> tuple[str, dict[int, float]]:
    """One EmoNet category of ``EMONET_PROTOTYPES`` and its AUs: level k in 1..7 scales every AU to about
    0.3 + 0.7 (k - 1) / 6 (level 1 still active), with a little per-AU jitter."""
    names = tuple(EMONET_PROTOTYPES)
    label = names[min(int(next(u) * len(names)), len(names) - 1)]
    level = emonet_level_of(next(u))
    base = 0.3 + 0.7 * (level - 1) / 6
    return label, {int(a): min(1.0, base * (0.92 + 0.08 * next(u))) for a in EMONET_PROTOTYPES[label]}


def emonet_intensities(label: str, aus: Mapping[int, float]) -> str:
    """The ``intensities`` cell of an EmoNet face: every expressible category, its level for the one shown, else 0.
    With ``rated == "all"`` the categories not listed are known zeros too."""
    level = emonet_level(aus, label)
    return ";".join(f"{c}:{level if c == label else 0}" for c in EMONET_PROTOTYPES)


def emonet_level_of(uniform: float) -> int:
    return min(int(uniform * 7), 6) + 1


def emonet_level(aus: Mapping[int, float], label: str) -> int:
    """The intensity level (1-7) a face of EmoNet category ``label`` was drawn with, from its AU intensities."""
    proto = EMONET_PROTOTYPES[label]
    mean = float(np.mean([aus.get(a, 0.0) / 0.96 for a in proto]))
    return int(np.clip(round((mean - 0.3) / 0.7 * 6 + 1), 1, 7))


def _splits(spec: SynthSpec) -> np.ndarray:
    n_id = spec.identities
    perm = np.random.default_rng([int(spec.seed), 3]).permutation(n_id)
    n_tr = int(round(0.70 * n_id))
    n_va = int(round(0.15 * n_id))
    out = np.empty(n_id, dtype=object)
    out[perm[:n_tr]] = "train"
    out[perm[n_tr:n_tr + n_va]] = "val"
    out[perm[n_tr + n_va:]] = "test"
    return out


def _draw_biased(u, biases: tuple, idn: Identity, key: str, values: Sequence[str], cum: np.ndarray) -> str:
    """With probability ``strength`` of a bias that matches ``idn``'s group, that bias's value; else a draw from
    the base distribution (cumulative probabilities ``cum``)."""
    u0, u1 = next(u), next(u)
    acc = 0.0
    for b in biases:
        if getattr(idn, b["attribute"]) == b["group"]:
            s = float(b.get("strength", 0.0))
            if acc <= u0 < acc + s:
                return b[key]
            acc += s
    return values[min(int(np.searchsorted(cum, u1, side="right")), len(values) - 1)]


_N_UNIFORMS = 48


def sample_params(spec: SynthSpec, index: int, _cache: dict | None = None) -> tuple[FaceParams, str, str, str]:
    """Parameters of face ``index`` of ``spec`` (no rendering): ``(params, label, true_label, split)``.

    Face ``index`` depends only on (seed, index), never on which other faces are drawn or in which order.
    """
    cache = _cache if _cache is not None else {}
    fixed = cache.get("__spec__")
    if fixed is None:
        p = spec.base_label_probs()
        fixed = cache["__spec__"] = (_as_tuple_of_dicts(spec.bias), _as_tuple_of_dicts(spec.lighting_bias),
                                     np.cumsum(p) / p.sum(), np.cumsum(np.full(len(LIGHTINGS), 1.0 / len(LIGHTINGS))),
                                     _splits(spec), spec.identities)
    biases, light_biases, label_cum, light_cum, splits, n_id = fixed
    vals = np.random.default_rng([int(spec.seed), 101, int(index)]).random(_N_UNIFORMS).tolist()
    u = iter(vals)
    next(u)
    sid = min(index * n_id // max(spec.n, 1), n_id - 1)  # consecutive faces share identities (cache-friendly)
    idn = cache.get(sid)
    if idn is None:
        idn = cache[sid] = make_identity(spec.seed, sid, habit_rate=spec.habit_rate, group_probs=spec.group_probs)
    if spec.label_set == "emonet40":
        label, aus = _sample_emonet(u)
    else:
        label = _draw_biased(u, biases, idn, "label", BASIC7, label_cum)
        aus = _sample_expression(label, u, tuple(spec.intensity))
    hu = next(u)
    if idn.habit_au and idn.habit_au not in aus and hu < spec.habit_share:
        aus[idn.habit_au] = 0.5 + 0.4 * hu / spec.habit_share
    true_label = label
    un, uo = next(u), next(u)
    if un < spec.label_noise:
        others = [lab for lab in BASIC7 if lab != label]
        label = others[min(int(uo * len(others)), len(others) - 1)]
    lighting = _draw_biased(u, light_biases, idn, "lighting", LIGHTINGS, light_cum)
    uocc, ucol, c0, c1, c2 = next(u), next(u), next(u), next(u), next(u)
    occluder = ("glasses" if uocc < spec.glasses_rate else
                "mask" if uocc < spec.glasses_rate + spec.mask_rate else "none")
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
        identity=idn, aus=tuple(sorted((a, round(v, 2)) for a, v in aus.items())), label=label, size=spec.size,
        lighting=lighting, light_jitter=(-0.15 + 0.3 * r[0], -0.2 + 0.4 * r[1]),
        tint=(0.94 + 0.12 * r[2], 0.94 + 0.12 * r[3], 0.94 + 0.12 * r[4]),
        roll_deg=spec.max_roll * (2 * r[5] - 1),
        shift=(0.015 * (2 * r[6] - 1), 0.015 * (2 * r[7] - 1)),
        scale=0.97 + 0.06 * r[8], gaze=(2 * r[9] - 1, 2 * r[10] - 1),
        blur_sigma=blur, noise_sigma=spec.max_noise * r[11],
        noise_offset=(min(int(r[12] * _NOISE_TILE), _NOISE_TILE - 1), min(int(next(u) * _NOISE_TILE), _NOISE_TILE - 1)),
        occluder=occluder, occluder_color=occ_color, background=(bg_a, bg_b),
    )
    return params, label, true_label, str(splits[sid])


def generate(spec: SynthSpec, render: bool = True, start: int = 0, stop: int | None = None
             ) -> Iterator[SynthSample]:
    """Yield the faces of ``spec`` in index order (``render=False``: parameters and labels only, fast)."""
    cache: dict = {}
    for i in range(start, spec.n if stop is None else min(stop, spec.n)):
        params, label, true_label, split = sample_params(spec, i, cache)
        s = SynthSample(index=i, params=params, label=label, true_label=true_label, split=split)
        if render:
            s.image, s.evidence, s.landmarks = render_face(params)
        yield s


def metadata(spec: SynthSpec):
    """The manifest rows of ``spec`` without rendering (a pandas DataFrame; ``path``/``mask_path`` as written by
    :func:`write_dataset`)."""
    import pandas as pd

    rows = []
    for s in generate(spec, render=False):
        r = {"path": _rel_path(s.index), **s.row(), "mask_path": _rel_mask(s.index)}
        rows.append(r)
    return pd.DataFrame(rows, columns=list(manifest_columns(spec)))


MANIFEST_COLUMNS: tuple[str, ...] = (
    "path", "split", "label", "label_set", "aus", "subject", "gender", "age", "race", "skin_tone", "lighting",
    "occluder", "mask_path", "source", "true_label", "habit_au", "landmarks",
)


#: Extra manifest columns of ``label_set="emonet40"`` datasets.
EMONET_COLUMNS: tuple[str, ...] = ("intensities", "rated")


def manifest_columns(spec: SynthSpec) -> tuple[str, ...]:
    return MANIFEST_COLUMNS + (EMONET_COLUMNS if spec.label_set == "emonet40" else ())


def _rel_path(i: int) -> str:
    return f"images/{i:06d}.png"


def _rel_mask(i: int) -> str:
    return f"images/{i:06d}_evidence.png"


def _png(arr: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", arr, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:
        raise RuntimeError("PNG encoding failed")
    return buf.tobytes()


def write_dataset(spec: SynthSpec, out_dir: str | Path, *, progress: bool = False,
                  callback: Callable[[int, int], None] | None = None, indices: Sequence[int] | None = None,
                  workers: int = 1) -> Path:
    """Render ``spec`` into ``out_dir``: ``images/NNNNNN.png``, the evidence mask ``images/NNNNNN_evidence.png``
    (0/255) beside each image, ``manifest.csv`` and ``spec.json``. Returns the manifest path.

    ``indices`` optionally restricts the output to some face indices (same faces as in the full dataset);
    ``workers`` > 1 renders in that many processes (output identical to ``workers=1``).
    """
    out = Path(out_dir)
    (out / "images").mkdir(parents=True, exist_ok=True)
    idx = list(range(spec.n)) if indices is None else [int(i) for i in indices]
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(idx), desc="synth", unit="face")
    rows = []
    done = 0
    for res in _render_indices(spec, idx, workers, mode="files"):
        for i, row, img_png, ev_png in res:
            (out / _rel_path(i)).write_bytes(img_png)
            (out / _rel_mask(i)).write_bytes(ev_png)
            rows.append(row)
            done += 1
            if callback is not None:
                callback(done, len(idx))
        if bar is not None:
            bar.update(len(res))
    if bar is not None:
        bar.close()
    manifest = out / "manifest.csv"
    with manifest.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(manifest_columns(spec)), lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow(r)
    if spec.label_set == "emonet40":
        write_emonet_ratings(rows, out / "ratings.csv", seed=spec.seed)
    spec_d = {k: v for k, v in asdict(spec).items()}
    (out / "spec.json").write_text(json.dumps(spec_d, indent=2, sort_keys=True, default=_json_default) + "\n",
                                   encoding="utf-8")
    return manifest


def write_emonet_ratings(rows: Sequence[Mapping], path: Path, seed: int) -> Path:
    """``ratings.csv`` (image, emotion, annotator, rating 0-7) from :data:`EMONET_ANNOTATORS` simulated experts who
    rate every expressible category of every face: the EmoNet-Face HQ layout, with a known truth behind it."""
    import pandas as pd

    from ..agreement import simulate_annotators

    truth = pd.DataFrame([{"image": r["path"], "emotion": c, "intensity": float(v)}
                          for r in rows for c, v in (kv.rsplit(":", 1) for kv in r["intensities"].split(";"))])
    ratings = simulate_annotators(truth, seed=int(seed), **EMONET_ANNOTATORS)
    ratings.to_csv(path, index=False, lineterminator="\n")
    return path


def _json_default(o):
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Mapping):
        return dict(o)
    return str(o)


def _single_thread() -> None:
    cv2.setNumThreads(1)  # tiny images: OpenCV's thread pool costs more than it saves (worker processes only)


def _render_chunk(args):
    """Worker body. mode "arrays": full results; "files": encoded PNGs and manifest rows; "count": render only."""
    spec, idx, mode = args
    cache: dict = {}
    out = []
    for i in idx:
        params, label, true_label, split = sample_params(spec, i, cache)
        rgb, ev, lm = render_face(params)
        if mode == "count":
            continue
        if mode == "files":
            s = SynthSample(index=i, params=params, label=label, true_label=true_label, split=split)
            row = {"path": _rel_path(i), **s.row(), "mask_path": _rel_mask(i),
                   "landmarks": ";".join(f"{x:.2f},{y:.2f}" for x, y in lm)}
            out.append((i, row, _png(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)), _png(ev.astype(np.uint8) * 255)))
        else:
            out.append((i, params, label, true_label, split, rgb, ev, lm))
    return len(idx) if mode == "count" else out


def _render_indices(spec: SynthSpec, idx: Sequence[int], workers: int, mode: str = "arrays", chunk: int = 64):
    """Yield the per-chunk results of :func:`_render_chunk` in index order."""
    chunks = [list(idx[k:k + chunk]) for k in range(0, len(idx), chunk)]
    before = cv2.getNumThreads()
    cv2.setNumThreads(1)  # tiny images: OpenCV's thread pool costs more than it saves; forked children inherit it
    try:
        if workers <= 1 or len(chunks) <= 1:
            for c in chunks:
                yield _render_chunk((spec, c, mode))
            return
        import multiprocessing as mp

        fork = "fork" in mp.get_all_start_methods()
        ctx = mp.get_context("fork" if fork else "spawn")
        with ctx.Pool(workers, initializer=None if fork else _single_thread) as pool:
            yield from pool.imap(_render_chunk, [(spec, c, mode) for c in chunks])
    finally:
        cv2.setNumThreads(before)


def measure_speed(n: int = 2000, size: int = 112, seed: int = 0, workers: int = 1) -> float:
    """Faces per second for sampling + rendering ``n`` faces in ``workers`` processes (no PNG encoding)."""
    spec = SynthSpec(n=n, size=size, seed=seed)
    render_face(sample_params(spec, 0)[0])
    t0 = time.perf_counter()
    done = sum(_render_indices(spec, list(range(n)), workers, mode="count"))
    return done / (time.perf_counter() - t0)


def neutral_of(params: FaceParams) -> FaceParams:
    """The same image parameters with every AU removed and the label set to neutral."""
    return replace(params, aus=(), label="neutral")


def with_aus(params: FaceParams, aus: Mapping[int, float], label: str | None = None) -> FaceParams:
    """The same identity and nuisances with other AUs (label derived from them unless given)."""
    return replace(params, aus=tuple(sorted((int(a), float(v)) for a, v in aus.items())), label=label)


__all__ = [
    "ACTIVE_THRESHOLD", "AGES", "AUS", "EMFACS_PROTOTYPES", "EMONET_PROTOTYPES", "FaceParams", "GENDERS", "HABIT_AUS",
    "Identity", "emonet_intensities", "emonet_level",
    "LABEL_EXTRAS", "LIGHTINGS", "MANIFEST_COLUMNS", "OCCLUDERS", "SKIN_TONES", "SynthSample", "SynthSpec",
    "evidence_aus", "format_aus", "generate", "label_from_aus", "make_identity", "measure_speed", "metadata",
    "neutral_of", "parse_aus", "parse_bias", "render_face", "sample_params", "with_aus", "write_dataset",
]
