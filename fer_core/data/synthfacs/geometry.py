"""Face geometry: every feature's outline for one identity and one set of AU intensities, as point arrays.

Canonical crop coordinates: fractions of the crop, x right, y down; the pose (:func:`.raster.pose_matrix`) maps
them into the image. Each AU moves the features the way FACS describes it (AU 1 raises the inner brows, AU 12 pulls
the lip corners up and out ...).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from .curves import (
    ALA_BULGE,
    ALA_T,
    AU10_LIFT_PROFILE,
    AU16_DROP_PROFILE,
    BROW_ARCH_SHAPE,
    BROW_END_DROP,
    BROW_INNER_WEIGHT,
    BROW_KNOT_DX,
    BROW_OUTER_WEIGHT,
    BROW_SAMPLE_WEIGHTS,
    BROW_THICKNESS,
    CUPIDS_BOW,
    EYE_T,
    EYE_TILT,
    LID_CREASE_PROFILE,
    LIP_PARTING_PROFILE,
    LOWER_LID_PROFILE,
    LOWER_LIP_PROFILE,
    MIRROR_X_OFFSET,
    MIRROR_X_SCALE,
    MOUTH_LINE_PROFILE,
    MOUTH_T,
    UNDER_EYE_PROFILE,
    UPPER_LID_PROFILE,
    UPPER_LIP_PROFILE,
    ellipse,
    points_xy,
)
from .identity import Identity


def _au_values(aus: Mapping[int, float], *codes: int) -> tuple[float, ...]:
    """The intensities of ``codes`` (0.0 for an AU that is off)."""
    return tuple(aus.get(c, 0.0) for c in codes)


def head_outline(idn: Identity) -> np.ndarray:
    """(49, 2) polygon of the head: a half-ellipse over the top, then a superellipse jaw down to a rounded chin."""
    a, cy, top = idn.face_w, 0.45, -0.16
    ang = np.linspace(np.pi, 2 * np.pi, 19)
    upper = points_xy(0.5 + a * np.cos(ang), cy + (cy - top) * np.sin(ang))  # left -> over the top -> right
    u = np.linspace(0.0, 1.0, 16)[1:]
    w = a * (1 - u**idn.jaw_p) ** (1 / idn.jaw_p)
    w = np.maximum(w, 0.06 * (1 - u) + 0.0)  # rounded chin rather than a point
    y = cy + u * (idn.chin_y - cy)
    right = points_xy(0.5 + w, y)
    left = np.stack([0.5 - w[::-1], y[::-1]], 1)
    return np.concatenate([upper, right, left], 0)


def face_half_width(idn: Identity, y: float) -> float:
    """Half-width of the head outline at height ``y`` (where a face mask's edge meets the cheek)."""
    if y <= 0.45:
        b = 0.45 + 0.16
        return idn.face_w * math.sqrt(max(0.0, 1 - ((0.45 - y) / b) ** 2))
    u = min(1.0, (y - 0.45) / (idn.chin_y - 0.45))
    return idn.face_w * (1 - u**idn.jaw_p) ** (1 / idn.jaw_p)


def face_geometry(idn: Identity, aus: Mapping[int, float], gaze: tuple[float, float] = (0.0, 0.0)) -> dict:
    """All feature shapes for one face (canonical coordinates).

    Keys: ``eyes`` (two dicts: lid, crease and under-eye polylines, centre ``c``, ``iris`` centre, radius ``r``,
    ``side``), ``brows`` / ``furrows``, ``nostrils`` / ``alae`` / ``bridge`` / ``nose_wrinkles`` / ``nose_tip``,
    ``mouth`` (lip outlines, ``corners``, ``open``), ``chin_shadow`` (ellipse), ``dimples`` (AU 14 only),
    ``mouth_lines``, ``cheeks`` (ellipses) / ``folds``, ``landmarks`` ((5, 2) float64). Polylines are (N, 2) float64.
    """
    geo: dict = {}
    # the image-right eye and brow mirror the image-left ones about x = 0.5
    ex = 0.5 - (0.20 + idn.eye_dx)  # image-left eye centre
    ey = 0.40 + idn.eye_dy
    geo["eyes"] = eyes = _eye_shapes(idn, aus, ex, ey, gaze)
    geo["brows"], geo["furrows"] = _brow_shapes(idn, aus, ex, ey)
    ny = 0.58 + idn.nose_dy
    geo.update(_nose_shapes(idn, aus, ny))
    my = 0.78 + idn.mouth_dy
    geo.update(_mouth_shapes(idn, aus, my))
    geo["cheeks"], geo["folds"] = _cheek_shapes(aus, eyes)
    geo["landmarks"] = np.array(
        [eyes[0]["c"], eyes[1]["c"], (0.5, ny), (0.34 + 0.16 - idn.mouth_w, my), (0.66 - 0.16 + idn.mouth_w, my)],
        dtype=np.float64,
    )
    # landmarks follow the rendered mouth corners (a detector would find those)
    geo["landmarks"][3] = geo["mouth"]["corners"][0]
    geo["landmarks"][4] = geo["mouth"]["corners"][1]
    return geo


def _eye_shapes(idn: Identity, aus: Mapping[int, float], ex: float, ey: float, gaze: tuple[float, float]) -> list[dict]:
    """Both eyes: AU 5 opens the upper lid, AU 7 tightens both lids; the iris follows the gaze."""
    au5, au7 = _au_values(aus, 5, 7)
    ew = idn.eye_w
    hu = idn.eye_h * (1 + 0.75 * au5 - 0.25 * au7) + 0.004 * au5  # upper-lid height
    hl = 0.023 * (1 - 0.55 * au7) * (1 + 0.15 * au5)  # lower-lid depth
    x = ex - ew * EYE_T  # from inner (t=-1) to outer (t=+1)
    eyt = ey + EYE_TILT
    left = {
        "upper": points_xy(x, eyt - hu * UPPER_LID_PROFILE),
        "lower": points_xy(x, eyt + hl * LOWER_LID_PROFILE),
        "crease": points_xy(ex - (ew * 1.08) * EYE_T, eyt - (hu + 0.014 + 0.006 * au5) * LID_CREASE_PROFILE - 0.004),
        "under": points_xy(ex - (ew * 1.1) * EYE_T, eyt + (hl + 0.03) * UNDER_EYE_PROFILE + 0.004),
    }
    r = 0.031 * (idn.eye_w / 0.084) ** 0.5  # iris radius
    eyes = []
    for side in (-1, 1):  # -1: image-left
        e = {k: (v if side < 0 else v * MIRROR_X_SCALE + MIRROR_X_OFFSET) for k, v in left.items()}
        exs = ex if side < 0 else 1.0 - ex
        e.update(c=(exs, ey), iris=(exs + gaze[0] * 0.01, ey + 0.002 + gaze[1] * 0.005), r=r, side=side)
        eyes.append(e)
    return eyes


def _brow_shapes(
    idn: Identity, aus: Mapping[int, float], ex: float, ey: float
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Both brows as closed polygons, and the vertical furrows between them: AU 1 raises the inner ends, AU 2 the
    outer ends, AU 4 lowers the brows and pulls them together (and, with AU 1, flattens the inner raise)."""
    au1, au2, au4 = _au_values(aus, 1, 2, 4)
    xs = ex - BROW_KNOT_DX * (idn.eye_w / 0.084) + (0.016 * au4) * BROW_INNER_WEIGHT
    base = (ey - idn.brow_h) - idn.brow_arch * BROW_ARCH_SHAPE + BROW_END_DROP
    dy = (
        (-0.042 * au1 + 0.012 * au4 * au1 + 0.008 * au4) * BROW_INNER_WEIGHT
        - (0.036 * au2) * BROW_OUTER_WEIGHT
        + 0.0132 * au4
    )
    xi = BROW_SAMPLE_WEIGHTS @ xs
    yc = BROW_SAMPLE_WEIGHTS @ (base + dy)
    th = BROW_THICKNESS * (idn.brow_thick / 2)
    lb = points_xy(np.concatenate([xi, xi[::-1]]), np.concatenate([yc - th, (yc + th)[::-1]]))
    brows = [lb, lb * MIRROR_X_SCALE + MIRROR_X_OFFSET]
    furrows = []
    if au4 > 0.05:
        for s in (-1, 1):
            x0 = 0.5 + s * 0.014
            y0 = ey - idn.brow_h + 0.012
            furrows.append(np.array([[x0 + s * 0.004, y0 - 0.035 * au4], [x0, y0], [x0 - s * 0.002, y0 + 0.012]]))
    return brows, furrows


def _nose_shapes(idn: Identity, aus: Mapping[int, float], ny: float) -> dict:
    """Nostrils, alae and bridge lines; AU 9 widens and lifts the nose and wrinkles the bridge, AU 10 a little."""
    au9, au10 = _au_values(aus, 9, 10)
    nw = idn.nose_w * (1 + 0.25 * au9 + 0.08 * au10)
    lift = 0.014 * au9 + 0.006 * au10
    nos = []
    alae = []
    for s in (-1, 1):
        nos.append(ellipse(0.5 + s * nw * 0.45, ny + 0.016 - lift, 0.013 * (1 + 0.2 * au9), 0.0065))
        ax = 0.5 + s * (nw * (0.55 + 0.45 * ALA_BULGE))
        ay = ny - 0.025 - lift + 0.05 * ALA_T
        alae.append(points_xy(ax, ay))
    bridge = []
    for s in (-1, 1):
        bridge.append(
            np.array([[0.5 + s * 0.03, 0.43], [0.5 + s * 0.034, 0.50], [0.5 + s * (nw * 0.75), ny - 0.03 - lift]])
        )
    wrinkles = []
    if au9 > 0.05:
        for k, yy in enumerate((0.455, 0.48, 0.505)):
            hw = 0.022 + 0.006 * k
            wrinkles.append(np.array([[0.5 - hw, yy + 0.006], [0.5, yy - 0.004 * au9], [0.5 + hw, yy + 0.006]]))
        for s in (-1, 1):  # "bunny lines" on the sides of the bridge
            wrinkles.append(np.array([[0.5 + s * 0.04, 0.47], [0.5 + s * 0.058, 0.50 - 0.004 * au9]]))
    return {"nostrils": nos, "alae": alae, "bridge": bridge, "nose_wrinkles": wrinkles, "nose_tip": (0.5, ny)}


def _mouth_shapes(idn: Identity, aus: Mapping[int, float], my: float) -> dict:
    """The lips (inner and outer outlines), the chin shadow and the lines that mouth AUs add around them.

    Width: AU 12 / 20 stretch, AU 23 / 24 / 26 / 15 / 14 narrow. Corners: AU 12 up, AU 15 / 20 down. Opening: AU 25
    parts the lips, AU 26 drops the jaw, AU 10 raises the upper lip, AU 16 lowers the lower lip. Thickness: AU 23 / 24
    press the lips thin, AU 17 pushes the lower lip up."""
    au10, au12, au14, au15, au16, au17, au20, au23, au24, au25, au26 = _au_values(
        aus, 10, 12, 14, 15, 16, 17, 20, 23, 24, 25, 26
    )
    mw = idn.mouth_w * (
        1
        + 0.17 * au12
        + 0.24 * au20
        - 0.10 * au23
        - 0.06 * au24
        - 0.14 * au26
        - 0.03 * au15
        - 0.05 * au14
        + 0.02 * au10
    )
    corner = my - 0.045 * au12 + 0.05 * au15 + 0.010 * au20 - 0.004 * au14 + 0.004 * au10
    mid = my + 0.004 - 0.004 * au12 - 0.012 * au17 + 0.004 * au15 - 0.008 * au10
    open_up = 0.006 * au25 + 0.004 * au26
    open_lo = 0.012 * au25 + 0.075 * au26
    thick = (1 - 0.55 * au23) * (1 - 0.4 * au24) * (1 - 0.15 * au12) * (1 - 0.3 * au20)
    tu = idn.lip_u * thick * (1 - 0.3 * au10)
    tl = idn.lip_l * thick * (1 + 0.25 * au17)
    xm = 0.5 + mw * MOUTH_T
    line = corner + (mid - corner) * MOUTH_LINE_PROFILE
    inner_up = line - (open_up * LIP_PARTING_PROFILE + 0.026 * au10 * AU10_LIFT_PROFILE)
    inner_lo = line + (open_lo * LIP_PARTING_PROFILE + 0.022 * au16 * AU16_DROP_PROFILE)
    outer_up = inner_up - tu * (UPPER_LIP_PROFILE * CUPIDS_BOW)
    outer_lo = inner_lo + tl * LOWER_LIP_PROFILE
    out: dict = {}
    out["mouth"] = {
        "inner_up": points_xy(xm, inner_up),
        "inner_lo": points_xy(xm, inner_lo),
        "outer_up": points_xy(xm, outer_up),
        "outer_lo": points_xy(xm, outer_lo),
        "corners": ((xm[0], line[0]), (xm[-1], line[-1])),
        "open": float(open_up + open_lo + 0.026 * au10 + 0.022 * au16),
        "tu": tu,
    }
    # shadow below the lower lip, chin boss (17), smile lines (12), dimples (14), press lines (24)
    lo_c = float(outer_lo[len(MOUTH_T) // 2])
    out["chin_shadow"] = (0.5, lo_c + 0.022, 0.055 * (1 - 0.3 * au17), 0.011)
    extra_mouth = []
    if au17 > 0.05:
        extra_mouth.append(
            np.array([[0.5 - 0.055, lo_c + 0.04], [0.5, lo_c + 0.028 + 0.01 * au17], [0.5 + 0.055, lo_c + 0.04]])
        )
    if au12 > 0.05:
        for s in (-1, 1):
            cx, cy = xm[0 if s < 0 else -1], line[0 if s < 0 else -1]
            extra_mouth.append(
                np.array(
                    [
                        [cx + s * 0.012, cy - 0.035 * au12],
                        [cx + s * 0.026, cy - 0.006],
                        [cx + s * 0.016, cy + 0.028 * au12],
                    ]
                )
            )
    if au14 > 0.05:  # dimpler: a crescent crease beside each tightened corner, longer with intensity
        for s in (-1, 1):
            cx, cy = xm[0 if s < 0 else -1], line[0 if s < 0 else -1]
            h, dx = 0.012 + 0.03 * au14, 0.014 + 0.008 * au14
            out.setdefault("dimples", []).append(
                np.array([[cx + s * dx, cy - h], [cx + s * (dx + 0.01), cy], [cx + s * dx, cy + h]])
            )
    if au24 > 0.05:
        extra_mouth.append(
            np.array(
                [
                    [0.5 - 0.04, float(outer_up.min()) - 0.01],
                    [0.5, float(outer_up.min()) - 0.014],
                    [0.5 + 0.04, float(outer_up.min()) - 0.01],
                ]
            )
        )
    if au15 > 0.05:
        for s in (-1, 1):
            cx, cy = xm[0 if s < 0 else -1], line[0 if s < 0 else -1]
            extra_mouth.append(np.array([[cx, cy + 0.004], [cx - s * 0.006, cy + 0.03 * au15]]))
    out["mouth_lines"] = extra_mouth
    return out


def _cheek_shapes(aus: Mapping[int, float], eyes: list[dict]) -> tuple[list[tuple], list[np.ndarray]]:
    """Cheek ellipses (cx, cy, a, b) and, with AU 6, the nasolabial folds and the crease under each eye."""
    (au6,) = _au_values(aus, 6)
    cheeks = []
    folds = []
    for e in eyes:
        side = e["side"]
        cx = 0.5 + side * 0.19
        cy = 0.63 - 0.035 * au6
        cheeks.append((cx, cy, 0.07 * (1 + 0.15 * au6), 0.05 * (1 + 0.2 * au6)))
        if au6 > 0.05:
            folds.append(
                np.array(
                    [
                        [0.5 + side * 0.08, 0.6],
                        [0.5 + side * 0.125, 0.65 - 0.01 * au6],
                        [0.5 + side * 0.15, 0.71 - 0.02 * au6],
                    ]
                )
            )
            folds.append(
                np.array(
                    [[cx - 0.05, 0.545 - 0.01 * au6 + 0.0], [cx, 0.555 - 0.012 * au6], [cx + 0.05, 0.545 - 0.01 * au6]]
                )
            )
    return cheeks, folds
