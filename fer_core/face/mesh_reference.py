"""How ``mesh_reference.npz`` is made: the left <-> right renumbering of the 468 mesh points and the frontal
reference mesh, both measured on frontal SynthFACS faces (symmetric by construction, rendered without roll), so the
project ships no third-party geometry. ``python -m fer_core.face.mesh_reference`` rewrites the file."""

from __future__ import annotations

import numpy as np

from .mesh import REFERENCE_FILE, _fit_region, _roi, mesh_reference
from .mesh_regions import LEFT_EYE, RIGHT_EYE

__all__ = ["build_mesh_reference", "mirror_permutation", "write_mesh_reference"]


def _frontal_meshes(n: int, seed: int, mirrored: bool) -> list[np.ndarray]:
    """Mesh fits of ``n`` frontal SynthFACS faces, each centred on its eye midpoint and scaled to eye distance 1."""
    from ..data.synthfacs import SynthSpec, render_face, sample_params
    from .pipeline import default_detector

    spec, cache, out = SynthSpec(n=n, size=192, seed=seed, max_roll=0.0), {}, []
    for i in range(n):
        image, _, _ = render_face(sample_params(spec, i, cache)[0])
        found = default_detector().detect(image)
        if not found:
            continue
        points, score = _fit_region(image, _roi(found[0].box, found[0].landmarks[:2]), mirrored=mirrored)
        if score > 0:
            right, left = points[RIGHT_EYE].mean(0), points[LEFT_EYE].mean(0)
            out.append((points - (right + left) / 2) / float(np.hypot(*(left - right)[:2])))
    return out


def mirror_permutation(mean_mesh: np.ndarray) -> np.ndarray:
    """(468,) the point each point becomes in the mirror image: the assignment of the mesh to its own x-flip that
    moves the points least (Hungarian); an involution on a symmetric face."""
    from scipy.optimize import linear_sum_assignment

    flipped = mean_mesh * np.array([-1.0, 1.0, 1.0])
    cost = np.linalg.norm(mean_mesh[:, None, :] - flipped[None, :, :], axis=-1)
    return linear_sum_assignment(cost)[1]


def build_mesh_reference(n: int = 60, seed: int = 11) -> tuple[np.ndarray, np.ndarray]:
    """``(mirror, canonical)``: the renumbering from single fits, then the frontal mesh as the mean of mirrored fits,
    made exactly symmetric (averaged with its own renumbered flip)."""
    mirror = mirror_permutation(np.mean(_frontal_meshes(n, seed, mirrored=False), 0))
    mesh_reference.cache_clear()
    np.savez(REFERENCE_FILE, mirror=mirror.astype(np.int16), canonical=np.zeros((468, 3), np.float32))
    mean = np.mean(_frontal_meshes(n, seed, mirrored=True), 0)
    canonical = (mean + (mean * np.array([-1.0, 1.0, 1.0]))[mirror]) / 2
    return mirror, canonical - canonical.mean(0)


def write_mesh_reference(n: int = 60, seed: int = 11) -> None:
    """Build the reference and write it beside :mod:`fer_core.face.mesh` (``mesh_reference.npz``)."""
    mirror, canonical = build_mesh_reference(n, seed)
    np.savez_compressed(REFERENCE_FILE, mirror=mirror.astype(np.int16), canonical=canonical.astype(np.float32))
    mesh_reference.cache_clear()


if __name__ == "__main__":
    write_mesh_reference()
    print(f"wrote {REFERENCE_FILE}")
