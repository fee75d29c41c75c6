"""Sampling grids and profile curves of the face's features, and the point helpers every shape is built with.

Canonical crop coordinates throughout: fractions of the crop, x right, y down (see :mod:`.geometry`). A feature's
outline is a fixed number of samples along a parameter ``t``; its shape is a profile over ``t`` scaled by the
identity's and the AUs' sizes. The profiles are computed once here (float64 arrays) so every face reuses them.
"""

from __future__ import annotations

import numpy as np

# ---- eyes: 13 samples from the inner corner (t = -1) to the outer corner (t = +1) ---------------------------------
EYE_T = np.linspace(-1.0, 1.0, 13)  # (13,) float64 in [-1, 1]
EYE_BUMP = np.clip(1.0 - EYE_T**2, 0, None)  # (13,) 1 - t^2: 1 at the eye centre, 0 at the corners
UPPER_LID_PROFILE = EYE_BUMP**0.75  # (13,) height of the upper lid (times the lid height)
LOWER_LID_PROFILE = EYE_BUMP**0.9  # (13,) depth of the lower lid
LID_CREASE_PROFILE = EYE_BUMP**0.6  # (13,) the crease above the upper lid
UNDER_EYE_PROFILE = EYE_BUMP**0.7  # (13,) the fold under the lower lid
EYE_TILT = -0.006 * (EYE_T + 1) / 2  # (13,) y offset: the outer corner sits slightly higher

# ---- mouth: 19 samples from the image-left corner (t = -1) to the image-right corner (t = +1) ----------------------
MOUTH_T = np.linspace(-1.0, 1.0, 19)  # (19,) float64 in [-1, 1]
MOUTH_BUMP = np.clip(1.0 - MOUTH_T**2, 0, None)  # (19,) 1 - t^2: 1 at the midline, 0 at the corners
(
    MOUTH_LINE_PROFILE,  # blend of the lip line from the corners' height to the middle's
    LIP_PARTING_PROFILE,  # how far the lips part (AU 25 / 26)
    AU10_LIFT_PROFILE,  # upper lip raised (AU 10): broad, almost flat
    AU16_DROP_PROFILE,  # lower lip depressed (AU 16): concentrated at the middle
    UPPER_LIP_PROFILE,  # thickness of the upper lip
    LOWER_LIP_PROFILE,  # thickness of the lower lip
    UPPER_TEETH_PROFILE,  # height of the upper teeth in an open mouth
    LOWER_TEETH_PROFILE,  # height of the lower teeth
) = (
    MOUTH_BUMP**0.7,
    MOUTH_BUMP**0.6,
    MOUTH_BUMP**0.25,
    MOUTH_BUMP**1.5,
    MOUTH_BUMP**0.45,
    MOUTH_BUMP**0.55,
    MOUTH_BUMP**0.3,
    MOUTH_BUMP**0.5,
)  # each (19,) float64 in [0, 1]
CUPIDS_BOW = 1 - 0.3 * np.exp(-((MOUTH_T / 0.13) ** 2))  # (19,) upper-lip thickness factor: the dip at the midline


def _brow_sample_weights() -> np.ndarray:
    """(12, 5) linear-interpolation weights: 12 samples along the brow from its 5 knots (inner to outer)."""
    w = np.zeros((12, 5))
    for i, u in enumerate(np.linspace(0, 4, 12)):
        j = min(int(u), 3)
        w[i, j], w[i, j + 1] = 1 - (u - j), u - j
    return w


# ---- brows: 5 knots from the inner end to the outer end, sampled at 12 points ---------------------------------------
BROW_SAMPLE_WEIGHTS = _brow_sample_weights()  # (12, 5) float64, rows sum to 1
BROW_KNOT_THICKNESS = np.array([1.15, 1.05, 0.9, 0.7, 0.45])  # (5,) relative thickness, tapering outwards
BROW_THICKNESS = BROW_SAMPLE_WEIGHTS @ BROW_KNOT_THICKNESS  # (12,) relative thickness at the samples
BROW_KNOT_DX = np.array([-0.092, -0.05, 0.0, 0.055, 0.10])  # (5,) x of the knots from the eye centre (outwards > 0)
BROW_INNER_WEIGHT = np.array([1.0, 0.75, 0.4, 0.15, 0.0])  # (5,) share of an inner-brow move (AU 1, AU 4)
BROW_OUTER_WEIGHT = np.array([0.0, 0.15, 0.5, 0.85, 1.0])  # (5,) share of an outer-brow raise (AU 2)
BROW_ARCH_SHAPE = np.array([0.0, 0.6, 1.0, 0.7, 0.0])  # (5,) the arch (times the identity's arch height)
BROW_END_DROP = np.array([0.006, 0.0, 0.0, 0.0, 0.012])  # (5,) the ends sit a little lower

# ---- nose: the alae (nostril wings), 9 samples from top to bottom ---------------------------------------------------
ALA_T = np.linspace(0, 1, 9)  # (9,) float64 in [0, 1]
ALA_BULGE = np.sin(np.pi * ALA_T * 0.9)  # (9,) outward bulge of the wing

# ---- mirroring: p * MIRROR_X_SCALE + MIRROR_X_OFFSET reflects (N, 2) points about x = 0.5 -------------------------
MIRROR_X_SCALE = np.array([-1.0, 1.0])
MIRROR_X_OFFSET = np.array([1.0, 0.0])

CIRCLE_ANGLES = np.linspace(0, 2 * np.pi, 19)[:-1]  # (18,) radians: the vertices of every ellipse


def points_xy(x, y) -> np.ndarray:
    """(N, 2) float64 points from N x values and N y values (either may be a scalar)."""
    out = np.empty((len(x), 2))
    out[:, 0] = x
    out[:, 1] = y
    return out


UNIT_CIRCLE = points_xy(np.cos(CIRCLE_ANGLES), np.sin(CIRCLE_ANGLES))  # (18, 2) float64


def ellipse(cx: float, cy: float, a: float, b: float) -> np.ndarray:
    """(18, 2) float64 polygon of the axis-aligned ellipse centred at (cx, cy) with half-axes a (x) and b (y)."""
    return UNIT_CIRCLE * (a, b) + (cx, cy)
