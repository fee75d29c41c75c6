"""What depends on the identity only, drawn once per person and cached: head, hair, ears, neck, clothes and age
lines (a colour layer), the head's shading relief (a grey layer), the feature colours and the pre-drawn canvas the
renderer warps into each pose. :data:`IDENTITY_CACHE` also holds each person's neutral evidence points
(:mod:`.evidence`) and shading canvas (:mod:`.shading`)."""

from __future__ import annotations

import numpy as np

from .curves import ellipse, points_xy
from .geometry import head_outline
from .identity import Identity
from .raster import ShapeLayer, clip_rgb

#: Per-identity shapes, canvases and point sets, keyed by the (frozen, hashable) Identity or (kind, identity, size).
IDENTITY_CACHE: dict = {}
IDENTITY_CACHE_MAX = 2048  # bounded: cleared when it grows past this many entries (a long dataset has many people)


def cache_put(key, value):
    """Store ``value`` under ``key`` in :data:`IDENTITY_CACHE` (clearing it first when full) and return it."""
    if len(IDENTITY_CACHE) >= IDENTITY_CACHE_MAX:
        IDENTITY_CACHE.clear()
    IDENTITY_CACHE[key] = value
    return value


def static_layers(idn: Identity) -> tuple[ShapeLayer, ShapeLayer, np.ndarray, dict]:
    """Shapes that depend on the identity only; cached.

    Returns ``(colour layer, shading layer, head outline (49, 2), feature colours)``: the colour layer holds the
    head, hair, ears, neck, clothes and age lines; the shading layer the grey relief (200 = unshaded) of the head,
    eye sockets, nose and brow ridge; the colours are clipped RGB tuples keyed by feature."""
    key = ("static", idn)
    hit = IDENTITY_CACHE.get(key)
    if hit is not None:
        return hit
    skin = np.array(idn.skin)
    head = head_outline(idn)
    colour = _colour_layer(idn, skin, head)
    shade = _shade_layer(idn, head)
    cols = _feature_colours(idn, skin)
    hit = cache_put(key, (colour, shade, head, cols))
    return hit


def _colour_layer(idn: Identity, skin: np.ndarray, head: np.ndarray) -> ShapeLayer:
    """Back hair, neck, clothes, ears (short hair or bald), head, hair (or bald temples) and, older, age lines."""
    L = ShapeLayer()
    hair = clip_rgb(idn.hair)
    a = idn.face_w
    if idn.hair_style in ("long", "bob"):
        bottom = 1.08 if idn.hair_style == "long" else 0.78
        back = np.array(
            [
                [0.5 - a - 0.07, bottom],
                [0.5 - a - 0.1, 0.45],
                [0.5 - a - 0.06, 0.0],
                [0.5, -0.3],
                [0.5 + a + 0.06, 0.0],
                [0.5 + a + 0.1, 0.45],
                [0.5 + a + 0.07, bottom],
            ]
        )
        L.poly(back, clip_rgb(np.array(hair) * 0.8))
    L.poly(
        np.array([[0.5 - 0.17, 0.75], [0.5 + 0.17, 0.75], [0.5 + 0.2, 1.1], [0.5 - 0.2, 1.1]]), clip_rgb(skin * 0.78)
    )  # neck
    L.poly(ellipse(0.5, 1.34, 0.66, 0.36), clip_rgb(idn.clothes))
    if idn.hair_style in ("short", "bald"):  # ears
        L.poly([ellipse(0.5 + s * (a + 0.005), 0.5, 0.035, 0.075) for s in (-1, 1)], clip_rgb(skin * 0.9))
        L.poly([ellipse(0.5 + s * (a + 0.01), 0.5, 0.017, 0.045) for s in (-1, 1)], clip_rgb(skin * 0.75))
    L.poly(head, clip_rgb(skin))
    if idn.hair_style != "bald":
        tt = np.linspace(-1, 1, 15)
        hl = idn.hairline + (0.07 if idn.fringe else 0.0)
        temple = 0.36 if idn.hair_style == "short" else 0.30
        hx = 0.5 + (a + 0.004) * tt
        hy = hl + (temple - hl) * np.abs(tt) ** 3
        if idn.fringe:
            hy = hy + 0.012 * np.abs(np.sin(tt * 7.0))
        ang = np.linspace(0, np.pi, 11)
        outer = points_xy(0.5 + (a + 0.03) * np.cos(ang), 0.45 - 0.64 * np.sin(ang))
        outer = np.concatenate(
            [np.array([[0.5 + a + 0.03, temple + 0.02]]), outer, np.array([[0.5 - a - 0.03, temple + 0.02]])], 0
        )
        L.poly(np.concatenate([points_xy(hx, hy), outer], 0), hair)
        if idn.hair_style == "long":
            L.poly(
                [
                    np.array(
                        [
                            [0.5 + s * (a - 0.02), 0.28],
                            [0.5 + s * (a - 0.025), 0.55],
                            [0.5 + s * (a - 0.05), 0.8],
                            [0.5 + s * (a - 0.04), 1.08],
                            [0.5 + s * (a + 0.1), 1.08],
                            [0.5 + s * (a + 0.1), 0.28],
                        ]
                    )
                    for s in (-1, 1)
                ],
                hair,
            )
    else:
        L.line(
            [np.array([[0.5 - a, 0.42], [0.5 - a + 0.02, 0.30]]), np.array([[0.5 + a, 0.42], [0.5 + a - 0.02, 0.30]])],
            clip_rgb(np.array(hair) * 0.9),
            4,
        )
    if idn.age == "older":
        lc = clip_rgb(skin * 0.82)
        ls = [np.array([[0.36, yy + 0.008], [0.5, yy], [0.64, yy + 0.008]]) for yy in (0.17, 0.215, 0.26)]
        for side in (-1, 1):
            ex, ey = 0.5 + side * (0.20 + idn.eye_dx), 0.40 + idn.eye_dy
            ox = ex + side * (idn.eye_w + 0.014)
            ls += [
                np.array([[ox, ey - 0.004], [ox + side * 0.028, ey - 0.016]]),
                np.array([[ox, ey + 0.006], [ox + side * 0.03, ey + 0.01]]),
                np.array([[ex - 0.045, ey + 0.05], [ex, ey + 0.058], [ex + 0.045, ey + 0.05]]),
                np.array([[0.5 + side * 0.085, 0.6], [0.5 + side * 0.125, 0.665], [0.5 + side * 0.15, 0.72]]),
            ]
        L.line(ls, lc, 1)
    return L


def _shade_layer(idn: Identity, head: np.ndarray) -> ShapeLayer:
    """Grey relief (uint8 levels, 200 = unshaded): darker head rim, eye sockets, nose sides; lit nose tip, brow."""
    D = ShapeLayer()
    hc = np.array([0.5, 0.47])
    for f, v in ((1.0, 150), (0.95, 168), (0.89, 184), (0.8, 198)):
        D.poly(hc + (head - hc) * f, v, aa=False)
    eyes_c = [(0.5 + side * (0.20 + idn.eye_dx), 0.40 + idn.eye_dy) for side in (-1, 1)]
    D.poly([ellipse(ex, ey - 0.005, 0.11, 0.065) for ex, ey in eyes_c], 184, aa=False)
    D.poly([ellipse(0.5 + s * 0.045, 0.5, 0.016, 0.07) for s in (-1, 1)], 182, aa=False)
    ny = 0.58 + idn.nose_dy
    D.poly(ellipse(0.5, ny - 0.012, 0.028, 0.024), 218, aa=False)
    D.poly(ellipse(0.5, ny + 0.045, 0.05, 0.012), 180, aa=False)
    D.poly(ellipse(0.5, 0.2, 0.16, 0.07), 210, aa=False)
    return D


def _feature_colours(idn: Identity, skin: np.ndarray) -> dict[str, tuple[float, float, float]]:
    """The colour of every per-face feature, derived from the identity's skin, lip, iris and hair colours."""
    hair_a = np.array(idn.hair)
    lip = np.array(idn.lip)
    raw = {
        "iris": idn.iris,
        "iris_ring": np.array(idn.iris) * 0.55,
        "lid": skin * 0.94,
        "skin": skin,
        "crease": skin * 0.76,
        "lower": skin * 0.7,
        "furrow": skin * 0.66,
        "bridge": skin * 0.86,
        "alae": skin * 0.68,
        "nostril": skin * 0.35,
        "wrinkle": skin * 0.6,
        "fold": skin * 0.8,
        "lip_u": lip * 0.9,
        "lip": lip,
        "lip_line": lip * 0.45,
        "mouth_line": skin * 0.72,
        "dimple": skin * 0.55,
        "brow": hair_a * 0.8 if hair_a.mean() < 150 else hair_a * 0.55,
    }
    return {k: clip_rgb(v) for k, v in raw.items()}


def static_canvas(idn: Identity, res: int) -> tuple[np.ndarray, int]:
    """The identity-only layer at the canonical pose on a padded RGBA canvas (colour premultiplied by alpha).

    Returns ``((res + 2 pad, res + 2 pad, 4) uint8, pad)``; the renderer warps it into each face's pose instead of
    redrawing the head and hair; the 10 % padding keeps what a roll or shift brings into view."""
    key = ("canvas", idn, res)
    hit = IDENTITY_CACHE.get(key)
    if hit is None:
        pad = round(0.1 * res)
        static = static_layers(idn)[0]
        n = res + 2 * pad
        shift = np.array([[1.0, 0.0, pad / res], [0.0, 1.0, pad / res]])
        rgb = np.zeros((n, n, 3), np.uint8)
        alpha = np.zeros((n, n), np.uint8)
        static.draw(rgb, shift, res)
        static.draw(alpha, shift, res, color=255)
        hit = cache_put(key, (np.ascontiguousarray(np.dstack([rgb, alpha])), pad))
    return hit
