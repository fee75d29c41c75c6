"""Shading and photometric nuisances: the grey shading relief (static per identity, plus AU-driven cheek and chin
shading) at half resolution, then lighting, tint, blur and sensor noise applied to the colour image."""

from __future__ import annotations

from collections.abc import Mapping

import cv2
import numpy as np

from .curves import ellipse
from .identity import FaceParams, Identity
from .raster import NOISE_TILE_ROWS, PixelFields, ShapeLayer
from .static_layers import IDENTITY_CACHE, cache_put
from .tables import LIGHTING_RIGS

UNSHADED = 200  # grey level of the shading field that leaves a colour as drawn (the field is divided by it)


def shading_field(
    idn: Identity, shade_layer: ShapeLayer, geo: dict, aus: Mapping[int, float], m: np.ndarray, S: int
) -> np.ndarray:
    """(S, S) uint8 shading relief, :data:`UNSHADED` = neutral: drawn at half resolution and blurred, because
    shading is smooth and small canvases are cheap. The identity's relief is drawn once at the canonical pose (cached)
    and warped; the chin shadow and cheeks (raised by AU 6, chin boss by AU 17) are drawn per face."""
    H = max(16, S // 2)
    key = ("shade", idn, H)
    canon = IDENTITY_CACHE.get(key)
    if canon is None:
        canon = np.full((H, H), UNSHADED, np.uint8)
        shade_layer.draw(canon, np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]), H)
        cache_put(key, canon)
    mp = m.copy()
    mp[:, 2] *= H
    shade = cv2.warpAffine(
        canon, mp, (H, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=UNSHADED
    )
    D = ShapeLayer()
    cs = geo["chin_shadow"]
    D.poly(ellipse(*cs), 176, aa=False)
    au6 = aus.get(6, 0.0)
    if aus.get(17, 0.0) > 0.05:
        D.poly(ellipse(0.5, cs[1] + 0.04, 0.045, 0.025), 214, aa=False)
    if au6 > 0.05:
        D.poly([ellipse(cx, cy + cb * 0.9, ca * 0.9, cb * 0.5) for cx, cy, ca, cb in geo["cheeks"]], 184, aa=False)
    D.poly([ellipse(*c) for c in geo["cheeks"]], int(206 + 28 * au6), aa=False)
    D.draw(shade, m, H)
    shade = cv2.GaussianBlur(shade, (5, 5), H * 0.022)
    return cv2.resize(shade, (S, S), interpolation=cv2.INTER_LINEAR)


def light_and_noise(params: FaceParams, small: np.ndarray, shade: np.ndarray, S: int) -> np.ndarray:
    """(S, S, 3) uint8: the colour image ``small`` blurred (if asked), times the lighting field (ambient plus
    directional over the generic head normals, jittered), the shading relief and the tint, plus Gaussian noise from
    the fixed noise bank (if asked). An unknown lighting name falls back to ``"even"``."""
    if params.blur_sigma > 0.05:
        small = cv2.GaussianBlur(small, (0, 0), params.blur_sigma)
    gr = PixelFields.get(S)
    lname = params.lighting if params.lighting in LIGHTING_RIGS else "even"
    _, g0, g1 = LIGHTING_RIGS[lname]
    g1 = g1 * (1 + params.light_jitter[1])
    lf = cv2.addWeighted(gr.light[lname], g1, gr.nx, g1 * params.light_jitter[0], g0)
    field = cv2.multiply(shade, lf, scale=1.0 / UNSHADED, dtype=cv2.CV_32F)
    t0, t1, t2 = params.tint
    f3 = cv2.multiply(cv2.cvtColor(field, cv2.COLOR_GRAY2RGB), (t0, t1, t2, 0.0))
    if params.noise_sigma > 0.05:
        oy = (params.noise_offset[0] * 7 + params.noise_offset[1]) % NOISE_TILE_ROWS
        lit = cv2.multiply(small, f3, dtype=cv2.CV_32F)
        return cv2.convertScaleAbs(cv2.max(cv2.scaleAdd(gr.noise[oy : oy + S], float(params.noise_sigma), lit), 0.0))
    return cv2.multiply(small, f3, dtype=cv2.CV_8U)
