"""Ground-truth evidence masks: where the label's active AUs act, minus what an opaque occluder hides.

For each region (:data:`fer_core.taxonomy.AU_REGION`) of the label's active AUs, the convex hull of every part's
points in this face and in the same person's neutral face is filled, then grown by a margin (blur, anti-aliasing,
soft shading edges reach a little beyond the outlines)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import cv2
import numpy as np

from ...taxonomy import AU_REGION, coarse_region
from .curves import ellipse
from .geometry import face_geometry
from .identity import FaceParams, Identity
from .labels import evidence_aus
from .raster import FIXED_POINT_BITS, ShapeLayer, disk_kernel
from .static_layers import IDENTITY_CACHE, cache_put


def evidence_mask(
    params: FaceParams, geo: dict, aus: Mapping[int, float], m: np.ndarray, occ_layer: ShapeLayer | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """``(evidence (S, S) bool, occluder (S, S) bool or None)`` of one face with geometry ``geo`` in pose ``m``.

    The margin is 3 % of the crop (at least 2 pixels); occluder pixels are those the occluder layer covers at least
    half (anti-aliased coverage >= 128)."""
    idn = params.identity
    S = int(params.size)
    label = params.resolved_label()
    ev_aus = evidence_aus(label, aus)
    ev = np.zeros((S, S), np.uint8)
    if ev_aus:
        regions = {coarse_region(AU_REGION[au]) for au in ev_aus}  # the renderer's parts are coarse
        now_pts, base_pts = region_points(geo, regions), neutral_region_points(idn)
        mf = m * (S * (1 << FIXED_POINT_BITS))
        margin = max(2, round(0.03 * S))
        hulls = []
        for r in sorted(regions):
            for p_now, p_base in zip(now_pts[r], base_pts[r]):
                q = np.rint(
                    cv2.transform(np.concatenate([p_now, p_base], 0).reshape(-1, 1, 2), mf).reshape(-1, 2)
                ).astype(np.int32)
                hulls.append(cv2.convexHull(q))
        cv2.fillPoly(ev, hulls, 255, cv2.LINE_8, FIXED_POINT_BITS)
        ev = cv2.dilate(ev, disk_kernel(margin))  # grow by the margin (blur, anti-aliasing, soft shading edges)
    occ = None
    if occ_layer is not None:
        occ_img = np.zeros((S, S), np.uint8)
        occ_layer.draw(occ_img, m, S)
        occ = occ_img >= 128
        ev[occ] = 0
    return ev > 0, occ


def region_points(geo: dict, regions: Iterable[str] | None = None) -> dict[str, list[np.ndarray]]:
    """Point clouds (one per connected part) that each region's evidence covers (only ``regions`` if given).

    The evidence mask is the convex hull of a part's points in the expressive face together with the same part in
    the neutral face, so it covers where the feature moved from as well as where it moved to."""
    want = set(regions) if regions is not None else {"mouth", "brows", "eyes", "cheeks", "nose"}
    out: dict[str, list[np.ndarray]] = {}
    if "mouth" in want:
        m = geo["mouth"]
        cs = geo["chin_shadow"]
        chin = np.array([[cs[0] - cs[2], cs[1] + cs[3]], [cs[0] + cs[2], cs[1] + cs[3]]])
        out["mouth"] = [
            np.concatenate([m["outer_up"], m["outer_lo"], *geo["mouth_lines"], *geo.get("dimples", []), chin], 0)
        ]
    if "brows" in want:
        out["brows"] = [np.concatenate([*geo["brows"], *geo["furrows"]], 0)]
    if "eyes" in want:
        out["eyes"] = [np.concatenate([e["upper"], e["lower"], e["crease"]], 0) for e in geo["eyes"]]
    if "cheeks" in want:
        cheeks = []
        for cx, cy, a, b in geo["cheeks"]:
            pts = [ellipse(cx, cy, a * 0.9, b * 0.9)]
            pts += [f for f in geo["folds"] if (f[0, 0] - 0.5) * (cx - 0.5) > 0]
            cheeks.append(np.concatenate(pts, 0))
        out["cheeks"] = cheeks
    if "nose" in want:
        out["nose"] = [np.concatenate([*geo["nostrils"], *geo["alae"], *geo["nose_wrinkles"]], 0)]
    return out


def neutral_region_points(idn: Identity) -> dict[str, list[np.ndarray]]:
    """:func:`region_points` of ``idn``'s neutral face (no AUs, no gaze); cached."""
    r = IDENTITY_CACHE.get(idn)
    if r is None:
        r = cache_put(idn, region_points(face_geometry(idn, {})))
    return r
