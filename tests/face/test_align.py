import numpy as np

from fer_core.face import similarity_transform, template_points
from fer_core.face.align import apply_transform


def test_similarity_recovers_a_planted_transform():
    rng = np.random.default_rng(1)
    src = rng.uniform(0, 100, size=(5, 2))
    angle, scale, shift = 0.3, 1.7, np.array([12.0, -4.0])
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    dst = src @ (scale * rot).T + shift
    m = similarity_transform(src, dst)
    np.testing.assert_allclose(m[:, :2], scale * rot, atol=1e-10)
    np.testing.assert_allclose(m[:, 2], shift, atol=1e-8)


def test_aligning_template_points_is_identity():
    pts = template_points("fer2013", (64, 64))
    m = similarity_transform(pts, pts)
    np.testing.assert_allclose(m, np.hstack([np.eye(2), np.zeros((2, 1))]), atol=1e-12)
    np.testing.assert_allclose(apply_transform(m, pts), pts, atol=1e-12)
