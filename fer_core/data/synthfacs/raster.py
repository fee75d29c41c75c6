"""Rasterisation: the pose map, shape layers drawn with OpenCV in fixed point, per-size pixel fields (head normals,
lighting fields, a noise bank) and small helpers (colour clipping, disk kernels)."""

from __future__ import annotations

import math
from itertools import accumulate
from typing import ClassVar

import cv2
import numpy as np

from .identity import FaceParams
from .tables import LIGHTING_RIGS

SUPERSAMPLE = 1  # supersampling factor for the colour layer (1: draw at the output size with anti-aliasing)
FIXED_POINT_BITS = 4  # fixed-point bits for OpenCV drawing (vertices are pixels * 2**4, rounded)
NOISE_TILE_ROWS = 256  # the noise bank has this many extra rows: a face's noise is rows [oy, oy + size), oy < 256

_FILL, _OPEN_LINE, _CLOSED_LINE = 0, 1, 2  # ShapeLayer op kinds


class PixelFields:
    """Per-size precomputed fields (generic head normals, one lighting field per rig) and a fixed noise bank.

    Computed once per crop size and shared by every face of that size: the head is shaded as a generic ellipsoid, so
    no per-face normal map is needed."""

    _cache: ClassVar[dict[int, PixelFields]] = {}

    def __init__(self, size: int):
        yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
        x = (xx + 0.5) / size - 0.5
        y = (yy + 0.5) / size - 0.45
        nx, ny = x / 0.5, y / 0.62
        r2 = np.clip(nx**2 + ny**2, 0, 0.96)
        # (size, size) float32 unit normals of the generic head
        self.nx, self.ny, self.nz = nx.astype(np.float32), ny.astype(np.float32), np.sqrt(1 - r2).astype(np.float32)
        rng = np.random.default_rng(12345)
        # (NOISE_TILE_ROWS + size, size, 3) float32 standard normal; row slices are contiguous
        self.noise = rng.standard_normal((NOISE_TILE_ROWS + size, size, 3)).astype(np.float32)
        self.light = {}  # rig name -> (size, size) float32 cosine of the normal with the light direction
        for name, ((lx, ly, lz), _, _) in LIGHTING_RIGS.items():
            nrm = math.sqrt(lx * lx + ly * ly + lz * lz)
            self.light[name] = ((lx * self.nx + ly * self.ny + lz * self.nz) / nrm).astype(np.float32)

    @classmethod
    def get(cls, size: int) -> PixelFields:
        g = cls._cache.get(size)
        if g is None:
            g = cls._cache[size] = PixelFields(size)
        return g


def pose_matrix(p: FaceParams) -> np.ndarray:
    """2 x 3 map from canonical face coordinates to crop fractions (roll about (0.5, 0.55), scale, shift)."""
    th = math.radians(p.roll_deg)
    c, s = math.cos(th) * p.scale, math.sin(th) * p.scale
    cx, cy = 0.5, 0.55
    return np.array([[c, -s, cx - c * cx + s * cy + p.shift[0]], [s, c, cy - s * cx - c * cy + p.shift[1]]])


class ShapeLayer:
    """Collects shapes in canonical coordinates; ``draw`` transforms all points at once and issues the cv2 calls.

    One ``cv2.transform`` per layer instead of one per shape: a face is dozens of small shapes. The
    concatenated points are cached at the first ``draw`` (a layer is not added to after it is drawn)."""

    __slots__ = ("_cat", "arrays", "ops")

    def __init__(self):
        self.arrays: list[np.ndarray] = []
        self.ops: list[tuple] = []  # (kind, first array, number of arrays, colour, anti-aliased / line width)
        self._cat = None

    def poly(self, ps, color, aa: bool = True) -> None:
        """Fill one polygon or a list of polygons ((N, 2) arrays) with ``color``."""
        ps = ps if isinstance(ps, (list, tuple)) else [ps]
        self.ops.append((_FILL, len(self.arrays), len(ps), color, aa))
        self.arrays.extend(ps)

    def line(self, ps, color, width: int = 1, closed: bool = False) -> None:
        """Stroke one polyline or a list of them (anti-aliased, ``width`` pixels)."""
        ps = ps if isinstance(ps, (list, tuple)) else [ps]
        if ps:
            self.ops.append((_OPEN_LINE if not closed else _CLOSED_LINE, len(self.arrays), len(ps), color, int(width)))
            self.arrays.extend(ps)

    def draw(self, img: np.ndarray, m: np.ndarray, res: float, color=None) -> None:
        """Draw every shape into ``img`` through the 2 x 3 map ``m`` (canonical -> fractions) at ``res`` pixels per
        unit; ``color`` overrides every shape's colour (used to draw coverage masks)."""
        if not self.arrays:
            return
        if self._cat is None:
            self._cat = (np.concatenate(self.arrays, 0), list(accumulate((len(a) for a in self.arrays), initial=0)))
        allp, offs = self._cat
        mf = m * (res * (1 << FIXED_POINT_BITS))
        q = np.rint(cv2.transform(allp.reshape(-1, 1, 2), mf).reshape(-1, 2)).astype(np.int32)
        arrs = [q[offs[i] : offs[i + 1]] for i in range(len(offs) - 1)]
        for kind, i0, n, op_color, extra in self.ops:
            pl = arrs[i0 : i0 + n]
            c = color if color is not None else op_color
            if kind == _FILL:
                cv2.fillPoly(img, pl, c, cv2.LINE_AA if extra else cv2.LINE_8, FIXED_POINT_BITS)
            else:
                cv2.polylines(img, pl, kind == _CLOSED_LINE, c, extra, cv2.LINE_AA, FIXED_POINT_BITS)


def clip_rgb(c) -> tuple[float, float, float]:
    """An RGB colour (any 3-sequence) as a tuple of Python floats clipped to [0, 255] (what cv2 drawing takes)."""
    return (float(min(255.0, max(0.0, c[0]))), float(min(255.0, max(0.0, c[1]))), float(min(255.0, max(0.0, c[2]))))


_DISK_KERNELS: dict[int, np.ndarray] = {}


def disk_kernel(radius: int) -> np.ndarray:
    """(2 r + 1, 2 r + 1) uint8 elliptical structuring element (cached), to grow a mask by ``radius`` pixels."""
    k = _DISK_KERNELS.get(radius)
    if k is None:
        k = _DISK_KERNELS[radius] = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    return k
