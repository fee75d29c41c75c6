"""The renderer: one face from its :class:`.identity.FaceParams`.

Steps, in order: the identity-only canvas warped into the pose over a two-tone background; the per-face features
(eyes, brows, nose, cheek folds, mouth) and any occluder drawn on top, anti-aliased; the shading relief and the
lighting, tint, blur and noise (:mod:`.shading`); the evidence mask (:mod:`.evidence`); the landmarks.
"""

from __future__ import annotations

import cv2
import numpy as np

from .curves import EYE_T, LOWER_TEETH_PROFILE, MOUTH_T, UPPER_TEETH_PROFILE, ellipse
from .evidence import evidence_mask
from .geometry import face_geometry, face_half_width
from .identity import FaceParams, Identity
from .raster import SUPERSAMPLE, ShapeLayer, clip_rgb, pose_matrix
from .shading import light_and_noise, shading_field
from .static_layers import static_canvas, static_layers

SCLERA_RGB = (238, 236, 232)
PUPIL_RGB = (15, 12, 12)
CATCHLIGHT_RGB = (250, 250, 250)
LASH_LINE_RGB = (30, 24, 24)
MOUTH_CAVITY_RGB = (70, 22, 28)
UPPER_TEETH_RGB = (236, 232, 220)
LOWER_TEETH_RGB = (220, 215, 205)
MASK_EDGE_RGB = (235, 235, 235)


def render_face(
    params: FaceParams, *, return_occluder: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Render one face.

    Returns ``(rgb uint8 HxWx3, evidence bool HxW, landmarks float (5, 2))``; landmarks are image pixels in
    :data:`fer_core.face.align.LANDMARK_NAMES` order (left eye, right eye, nose, mouth left, mouth right;
    image-left first). With ``return_occluder=True`` a fourth item, the bool mask of opaque occluder pixels, follows.
    """
    idn = params.identity
    S = int(params.size)
    R = S * SUPERSAMPLE
    aus = params.au_dict()
    geo = face_geometry(idn, aus, params.gaze)
    m = pose_matrix(params)

    # ---------------- colour layer ------------------------------------------------------------------------------
    _, shade_layer, _, colours = static_layers(idn)
    img = _posed_static_image(params, m, R)
    L = ShapeLayer()
    _draw_features(L, geo, colours, fem=idn.gender == "feminine", size=params.size)
    occ_layer = _draw_occluder(L, params, geo, R)
    L.draw(img, m, R)
    small = img if SUPERSAMPLE == 1 else cv2.resize(img, (S, S), interpolation=cv2.INTER_AREA)

    # ---------------- shading, lighting and the other nuisances -------------------------------------------------
    shade = shading_field(idn, shade_layer, geo, aus, m, S)
    rgb = light_and_noise(params, small, shade, S)

    # ---------------- evidence and landmarks --------------------------------------------------------------------
    evidence, occ = evidence_mask(params, geo, aus, m, occ_layer)
    landmarks = cv2.transform(geo["landmarks"].reshape(-1, 1, 2), m * S).reshape(-1, 2)
    if return_occluder:
        return rgb, evidence, landmarks, (occ if occ is not None else np.zeros((S, S), bool))
    return rgb, evidence, landmarks


def _posed_static_image(params: FaceParams, m: np.ndarray, R: int) -> np.ndarray:
    """(R, R, 3) uint8: the identity-only shapes (head, hair, ears, neck, clothes, age lines), drawn once per
    identity and warped into this face's pose, composited over the background (top half, bottom half)."""
    rgba, pad = static_canvas(params.identity, R)
    mw = m.copy()  # canvas pixel = canonical * R + pad  ->  crop pixel = R * (A canonical + t)
    mw[0, 2] = m[0, 2] * R - (m[0, 0] + m[0, 1]) * pad
    mw[1, 2] = m[1, 2] * R - (m[1, 0] + m[1, 1]) * pad
    warped = cv2.warpAffine(rgba, mw, (R, R), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    inv = cv2.cvtColor(cv2.bitwise_not(cv2.extractChannel(warped, 3)), cv2.COLOR_GRAY2RGB)
    (r0, g0, b0), (r1, g1, b1) = params.background
    h2 = R // 2
    cv2.multiply(inv[:h2], (r0, g0, b0, 0.0), dst=inv[:h2], scale=1 / 255)  # background where nothing is drawn
    cv2.multiply(inv[h2:], (r1, g1, b1, 0.0), dst=inv[h2:], scale=1 / 255)
    return cv2.add(cv2.cvtColor(warped, cv2.COLOR_RGBA2RGB), inv)


def _draw_features(L: ShapeLayer, geo: dict, C: dict, *, fem: bool, size: int) -> None:
    """Add the per-face features to ``L`` in painting order (later shapes cover earlier ones)."""
    # eyes
    eyes = geo["eyes"]
    L.poly([np.concatenate([e["upper"], e["lower"][::-1]], 0) for e in eyes], SCLERA_RGB)
    L.poly([ellipse(e["iris"][0], e["iris"][1], e["r"], e["r"]) for e in eyes], C["iris"])
    L.line([ellipse(e["iris"][0], e["iris"][1], e["r"], e["r"]) for e in eyes], C["iris_ring"], 1, closed=True)
    L.poly([ellipse(e["iris"][0], e["iris"][1], e["r"] * 0.45, e["r"] * 0.45) for e in eyes], PUPIL_RGB)
    L.poly([ellipse(e["iris"][0] - 0.008, e["iris"][1] - 0.009, 0.006, 0.006) for e in eyes], CATCHLIGHT_RGB)
    L.poly([np.concatenate([e["upper"], e["crease"][::-1]], 0) for e in eyes], C["lid"])
    L.poly([np.concatenate([e["lower"], e["under"][::-1]], 0) for e in eyes], C["skin"])
    L.line([e["crease"] for e in eyes], C["crease"], 1)
    L.line([e["upper"] for e in eyes], LASH_LINE_RGB, 2)
    L.line([e["upper"][len(EYE_T) // 2 :] for e in eyes], LASH_LINE_RGB, 2 if fem else 1)
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
    # mouth: cavity and teeth when open, then the lips over them
    mo = geo["mouth"]
    if mo["open"] > 0.004:
        L.poly(np.concatenate([mo["inner_up"], mo["inner_lo"][::-1]], 0), MOUTH_CAVITY_RGB)
        gap = mo["inner_lo"][:, 1] - mo["inner_up"][:, 1]
        k = slice(2, len(MOUTH_T) - 2)
        th = np.minimum(gap, 0.022 * UPPER_TEETH_PROFILE)[k]
        top = mo["inner_up"][k]
        L.poly(np.concatenate([top, np.stack([top[:, 0], top[:, 1] + th], 1)[::-1]], 0), UPPER_TEETH_RGB)
        if gap.max() > 0.04:
            bot = mo["inner_lo"][k]
            lth = np.minimum(gap * 0.3, 0.014 * LOWER_TEETH_PROFILE)[k]
            L.poly(np.concatenate([bot, np.stack([bot[:, 0], bot[:, 1] - lth], 1)[::-1]], 0), LOWER_TEETH_RGB)
    L.poly(np.concatenate([mo["outer_up"], mo["inner_up"][::-1]], 0), C["lip_u"])
    L.poly(np.concatenate([mo["inner_lo"], mo["outer_lo"][::-1]], 0), C["lip"])
    L.line(mo["inner_up"], C["lip_line"], 1)
    L.line(geo["mouth_lines"], C["mouth_line"], 1)
    if geo.get("dimples"):
        L.line(geo["dimples"], C["dimple"], 2 if size >= 96 else 1)


def _draw_occluder(L: ShapeLayer, params: FaceParams, geo: dict, R: int) -> ShapeLayer | None:
    """Add glasses or a face mask to ``L``; returns a layer of the occluder's opaque parts (drawn in 255) for the
    evidence mask, or None without an occluder."""
    idn: Identity = params.identity
    a = idn.face_w
    occ_layer = None
    if params.occluder == "glasses":
        occ_layer = ShapeLayer()
        frames = [ellipse(e["c"][0], e["c"][1] + 0.004, 0.115, 0.07) for e in geo["eyes"]]
        rest = [  # bridge and the two arms
            np.array([[0.5 - 0.085, 0.39], [0.5, 0.375], [0.5 + 0.085, 0.39]]),
            np.array([[0.5 - 0.315, 0.385], [0.5 - a - 0.02, 0.37]]),
            np.array([[0.5 + 0.315, 0.385], [0.5 + a + 0.02, 0.37]]),
        ]
        col = clip_rgb(params.occluder_color)
        w = max(1, round(R / 50))
        L.line(frames, col, w, closed=True)
        L.line(rest, col, w)
        occ_layer.line(frames, 255, w, closed=True)
        occ_layer.line(rest, 255, w)
    elif params.occluder == "mask":
        occ_layer = ShapeLayer()
        w_top, w_lo = face_half_width(idn, 0.55), face_half_width(idn, 0.8)
        mask_poly = np.array(
            [
                [0.5 - w_top + 0.01, 0.56],
                [0.5 - 0.12, 0.50],
                [0.5, 0.485],
                [0.5 + 0.12, 0.50],
                [0.5 + w_top - 0.01, 0.56],
                [0.5 + w_lo - 0.005, 0.8],
                [0.5 + 0.12, 0.97],
                [0.5, idn.chin_y + 0.02],
                [0.5 - 0.12, 0.97],
                [0.5 - w_lo + 0.005, 0.8],
            ]
        )
        col = clip_rgb(params.occluder_color)
        L.poly(mask_poly, col)
        occ_layer.poly(mask_poly, 255)
        L.line(
            [np.array([[0.5 - 0.25, 0.62 + d], [0.5, 0.6 + d], [0.5 + 0.25, 0.62 + d]]) for d in (0.0, 0.07, 0.14)],
            clip_rgb(np.array(col) * 0.85),
            1,
        )  # pleats
        L.line(
            [
                np.array([[0.5 - w_top + 0.01, 0.56], [0.5 - a - 0.01, 0.5]]),
                np.array([[0.5 + w_top - 0.01, 0.56], [0.5 + a + 0.01, 0.5]]),
            ],
            MASK_EDGE_RGB,
            1,
        )  # ear loops
    return occ_layer
