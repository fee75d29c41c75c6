"""The 468-point mesh (MediaPipe FaceMesh on LiteRT) on the bundled portrait: points placed by hand on the photo fall
inside the right region polygons, and the mirror image gets mirrored regions."""

from __future__ import annotations

import numpy as np
import pytest

from fer_core.face import find_faces, load_image
from fer_core.face.mesh import MESH_CONTOURS, fit_mesh, mesh_available, mesh_region_masks

PORTRAIT = "assets/samples/astronaut_eileen_collins.png"
# (x, y) in the 512 x 512 portrait, read off the photo by eye: "left"/"right" are the subject's
HAND_POINTS = {
    "mouth": [(225, 146), (210, 143), (240, 145)],  # lips' middle and near both corners of the smile
    "right_eye": [(205, 102)],  # image-left eye
    "left_eye": [(247, 104)],
    "right_brow": [(202, 89)],
    "nose": [(226, 126)],
}

pytestmark = pytest.mark.skipif(bool(mesh_available()), reason=mesh_available() or "mesh available")


def _mesh(image):
    face = find_faces(image, (64, 64), "fer2013", max_faces=1)[0]
    return fit_mesh(image, face.box, face.landmarks[:2])


def test_hand_placed_points_fall_inside_their_regions_and_no_other():
    image = load_image(PORTRAIT)
    fit = _mesh(image)
    assert fit.is_face and fit.points.shape == (468, 3)
    masks = mesh_region_masks(fit.points, image.shape[:2])
    for region, points in HAND_POINTS.items():
        for x, y in points:
            assert masks[region][y, x], (region, (x, y))
            others = [r for r in ("mouth", "left_eye", "right_eye", "left_brow", "right_brow") if r != region]
            assert not any(masks[r][y, x] for r in others), (region, (x, y))
    assert set(MESH_CONTOURS) <= set(masks) and {"eyes", "brows"} <= set(masks)
    assert masks["upper_lip"].sum() + masks["lower_lip"].sum() <= masks["mouth"].sum() * 1.05


def test_the_mirror_image_gets_mirrored_regions():
    image = load_image(PORTRAIT)
    plain = mesh_region_masks(_mesh(image).points, image.shape[:2])
    mirrored = mesh_region_masks(_mesh(np.ascontiguousarray(image[:, ::-1])).points, image.shape[:2])
    iou = {}
    for region in ("mouth", "nose", "eyes", "brows"):
        a, b = plain[region], mirrored[region][:, ::-1]
        iou[region] = (a & b).sum() / (a | b).sum()
    # measured: mouth 0.89, nose 0.96, eyes 0.76, brows 0.79 (the detector's box moves a little with the mirror)
    assert iou["mouth"] >= 0.85 and iou["nose"] >= 0.9 and iou["eyes"] >= 0.7 and iou["brows"] >= 0.7, iou
    assert (plain["right_eye"] & mirrored["left_eye"][:, ::-1]).sum() > 0.6 * plain["right_eye"].sum()


def test_the_mesh468_landmarker_gives_every_region_from_the_mesh_and_mtcnn5_still_works():
    from fer_core.face.mesh import mesh_face_regions
    from fer_core.taxonomy import FACE_REGIONS

    image = load_image(PORTRAIT)
    plain = find_faces(image, (64, 64), "fer2013", landmarker="mtcnn5")[0]
    meshed = find_faces(image, (64, 64), "fer2013", landmarker="mesh468")[0]
    assert plain.mesh is None and meshed.mesh.shape == (468, 3)
    np.testing.assert_array_equal(meshed.crop, plain.crop)  # alignment is the same: only the regions change
    assert list(meshed.regions)[: len(FACE_REGIONS)] == list(FACE_REGIONS)
    again = mesh_face_regions(meshed.mesh, (64, 64))
    for name in FACE_REGIONS:
        assert meshed.regions[name].any(), name
        np.testing.assert_array_equal(meshed.regions[name], again[name])
    # the exclusive parts do not overlap
    for a, b in (("mouth", "nose"), ("eyes", "brows"), ("cheeks", "mouth"), ("forehead", "brows")):
        assert not (meshed.regions[a] & meshed.regions[b]).any(), (a, b)
    with pytest.raises(ValueError, match="unknown landmarker 'dlib68'; choose from mtcnn5, mesh468"):
        find_faces(image, (64, 64), "fer2013", landmarker="dlib68")


def test_occlude_cli_takes_the_landmarker():
    import json

    from tests._cli import run_cli

    done = run_cli("occlude", PORTRAIT, "--regions", "mouth", "--landmarker", "mesh468", "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["landmarker"] == "mesh468" and "mouth" in json.dumps(out["faces"][0])
