"""The 468-point mesh (MediaPipe FaceMesh on LiteRT): points placed by hand on the bundled portrait fall inside the
right region polygons; the mirror image gets mirrored masks, mesh and head pose; known rolls are measured back."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from scipy import ndimage

from fer_core.face import aligned_crop, find_faces, head_pose, load_image, pose_bin
from fer_core.face.mesh import fit_mesh, mesh_available, mesh_reference
from fer_core.face.mesh_regions import (
    FACE_OVAL,
    LEFT_BROW,
    LEFT_EYE,
    LIPS_INNER,
    LIPS_OUTER,
    MESH_CONTOURS,
    NOSE,
    RIGHT_BROW,
    RIGHT_EYE,
    mesh_face_regions,
    mesh_region_masks,
)
from fer_core.face.pose import HeadPose, rotation_to
from fer_core.taxonomy import ALL_REGIONS, FACE_REGIONS

PORTRAIT = "assets/samples/astronaut_eileen_collins.png"
# (x, y) in the 512 x 512 portrait, read off the photo by eye: "left"/"right" as seen in the image, as every region
HAND_POINTS = {
    "lips": [(225, 146), (210, 143), (240, 145)],  # lips' middle and near both corners of the smile
    "left_eye": [(205, 102)],  # the eye on the image's left (the subject's right)
    "right_eye": [(247, 104)],
    "left_brow": [(202, 89)],  # on the brow's lower edge: the mesh's brow band lies on and above the hair
    "nose": [(226, 126)],
}
# the portrait's lip outline (lips and the smile's opening), traced by hand on a 14x enlargement: corner, upper edge,
# corner, lower edge (continuous pixel coordinates)
HAND_LIPS = [
    (203.2, 139.8), (209.3, 138.7), (216.4, 139.3), (220.0, 139.4), (227.1, 139.8), (234.3, 139.8), (241.4, 140.1),
    (244.3, 140.9), (241.4, 145.9), (234.3, 150.9), (227.1, 152.6), (220.0, 153.0), (212.9, 151.6), (207.1, 148.0),
]  # fmt: skip
# a mirror image swaps left and right
SWAP = {"left_eye": "right_eye", "left_cheek": "right_cheek", "left_brow": "right_brow"}
SWAP |= {b: a for a, b in SWAP.items()}

pytestmark = pytest.mark.skipif(bool(mesh_available()), reason=mesh_available() or "mesh available")


@pytest.fixture(scope="module")
def portrait():
    return load_image(PORTRAIT)


def _mesh(image):
    face = find_faces(image, (64, 64), "fer2013", max_faces=1)[0]
    return fit_mesh(image, face.box, face.landmarks[:2])


def _iou(a, b):
    return float((a & b).sum() / max((a | b).sum(), 1))


def test_hand_placed_points_fall_inside_their_regions_and_no_other(portrait):
    fit = _mesh(portrait)
    assert fit.is_face and fit.points.shape == (468, 3)
    masks = mesh_region_masks(fit.points, portrait.shape[:2])
    for region, points in HAND_POINTS.items():
        near = ndimage.binary_dilation(masks[region], iterations=1)  # one pixel: the brow band is 3 px tall here
        for x, y in points:
            assert near[y, x], (region, (x, y))
            others = [r for r in ("lips", "left_eye", "right_eye", "left_brow", "right_brow") if r != region]
            assert not any(masks[r][y, x] for r in others), (region, (x, y))
    assert set(MESH_CONTOURS) <= set(masks) and {"eyes", "brows"} <= set(masks)
    assert masks["upper_lip"].sum() + masks["lower_lip"].sum() <= masks["lips"].sum() * 1.05


def test_the_lips_polygon_covers_the_hand_traced_lips_of_the_portrait_and_its_mirror(portrait):
    """Measured, 8x supersampled: the mesh's lips cover 99.9 % of the traced outline and reach about 2 px past it
    at the corners and the lower lip (24 % of the polygon outside it, IoU 0.76 on lips some 41 x 14 px)."""
    scale, hand = 8, np.array(HAND_LIPS)
    for image, traced in ((portrait, hand), (np.ascontiguousarray(portrait[:, ::-1]), hand * (-1, 1) + (512, 0))):
        lips = _mesh(image).points[LIPS_OUTER, :2]
        truth = _supersampled(traced, scale)
        found = _supersampled(lips, scale)
        assert (found & truth).sum() / truth.sum() > 0.97
        assert _iou(found, truth) > 0.65 and (found & ~truth).sum() / found.sum() < 0.35


def _supersampled(polygon, scale):
    """The polygon (continuous pixel coordinates of the 512 px portrait) filled on a grid ``scale`` times finer."""
    canvas = np.zeros((512 * scale, 512 * scale), np.uint8)
    cv2.fillPoly(canvas, [np.round((np.asarray(polygon) * scale - 0.5) * 16).astype(np.int32)], 1, shift=4)
    return canvas.astype(bool)


def test_the_mirror_renumbering_swaps_the_contours_point_for_point():
    mirror = mesh_reference()[0]
    np.testing.assert_array_equal(mirror[mirror], np.arange(468))  # an involution
    for a, b in ((RIGHT_EYE, LEFT_EYE), (RIGHT_BROW, LEFT_BROW)):
        np.testing.assert_array_equal(mirror[a], b)
    # the lips and the outline are their own mirror, read backwards from the midline (MediaPipe's numbering)
    for ring, mid in ((LIPS_OUTER, 0), (LIPS_INNER, 13), (FACE_OVAL, 10)):
        ring = np.asarray(ring)
        start = int(np.flatnonzero(ring == mid)[0])
        forward, backward = np.roll(ring, -start), np.roll(ring[::-1], start + 1)
        np.testing.assert_array_equal(mirror[forward], backward)
    for point in (0, 1, 2, 10, 13, 14, 17, 152, 168):  # on the midline
        assert mirror[point] == point
    assert sorted(mirror[NOSE].tolist()) == sorted(NOSE)


def test_the_mirror_image_gets_mirrored_masks_in_the_photo_and_on_the_crop(portrait):
    mirror_image = np.ascontiguousarray(portrait[:, ::-1])
    plain = mesh_region_masks(_mesh(portrait).points, portrait.shape[:2])
    flipped = mesh_region_masks(_mesh(mirror_image).points, portrait.shape[:2])
    photo = {r: _iou(plain[r], flipped[SWAP.get(r, r)][:, ::-1]) for r in ("lips", "nose", "eyes", "brows")}
    # measured: mouth 0.98, nose 0.98, eyes 0.94, brows 0.93 (single fits, before mirroring and refitting: 0.76 eyes)
    assert min(photo.values()) >= 0.9, photo
    a = find_faces(portrait, (64, 64), "fer2013", landmarker="mesh468")[0]
    b = find_faces(mirror_image, (64, 64), "fer2013", landmarker="mesh468")[0]
    assert np.abs(a.crop.astype(int) - b.crop[:, ::-1].astype(int)).mean() < 2  # the crops are mirrors too
    crop = {r: _iou(a.regions[r], b.regions[SWAP.get(r, r)][:, ::-1]) for r in FACE_REGIONS}
    # measured on the 64 px crop: 0.94 (brows) to 0.99 (cheeks)
    assert min(crop.values()) >= 0.9, crop
    fine = {r: _iou(a.regions[r], b.regions[SWAP.get(r, r)][:, ::-1]) for r in ALL_REGIONS}
    assert min(fine.values()) >= 0.75, fine  # thin finer regions (a lip is 3 px tall here) lose more to pixels


def test_head_pose_of_the_mirror_image_is_mirrored(portrait):
    a = find_faces(portrait, (64, 64), "fer2013", landmarker="mesh468")[0].pose
    b = find_faces(np.ascontiguousarray(portrait[:, ::-1]), (64, 64), "fer2013", landmarker="mesh468")[0].pose
    assert abs(a.yaw + b.yaw) < 1.5 and abs(a.roll + b.roll) < 1.0 and abs(a.pitch - b.pitch) < 1.0, (a, b)
    assert a.bin == b.bin == "frontal" and abs(a.yaw) < 10 and abs(a.pitch) < 12, a


@pytest.mark.parametrize("degrees", [-15.0, 10.0])
def test_turning_the_photo_turns_the_measured_roll_by_as_much(portrait, degrees):
    h, w = portrait.shape[:2]
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), -degrees, 1.0)  # cv2 turns anticlockwise for positive angles
    turned = cv2.warpAffine(portrait, turn, (w, h), borderMode=cv2.BORDER_REPLICATE)
    before = find_faces(portrait, (64, 64), "fer2013", landmarker="mesh468")[0].pose
    after = find_faces(turned, (64, 64), "fer2013", landmarker="mesh468")[0].pose
    assert abs((after.roll - before.roll) - degrees) < 1.5, (before, after)
    assert abs(after.yaw - before.yaw) < 3 and abs(after.pitch - before.pitch) < 3, (before, after)


def test_the_pose_solver_recovers_a_planted_rotation():
    from scipy.spatial.transform import Rotation

    canonical = mesh_reference()[1]
    rng = np.random.default_rng(0)
    for yaw, pitch, roll in ((25.0, 0.0, 0.0), (0.0, -20.0, 0.0), (-30.0, 12.0, 8.0), (5.0, 30.0, -15.0)):
        r = Rotation.from_euler("ZYX", [roll, -yaw, -pitch], degrees=True).as_matrix()
        points = 80.0 * canonical @ r.T + [120.0, 90.0, 3.0] + rng.normal(0, 0.2, (468, 3))
        pose = head_pose(points)
        assert np.allclose([pose.yaw, pose.pitch, pose.roll], [yaw, pitch, roll], atol=0.5), (pose, yaw, pitch, roll)
        np.testing.assert_allclose(rotation_to(canonical, 80.0 * canonical @ r.T), r, atol=1e-9)
    assert head_pose(np.asarray(canonical)).bin == "frontal"


def test_pose_bins():
    assert pose_bin(HeadPose(5, -8, 20)) == "frontal"
    assert pose_bin(HeadPose(30, 10, 0)) == "right" and pose_bin(HeadPose(-30, 10, 0)) == "left"
    assert pose_bin(HeadPose(10, 25, 0)) == "up" and pose_bin(HeadPose(-10, -25, 0)) == "down"


def test_synthfacs_rolls_are_measured_back():
    from fer_core.data.synthfacs import SynthSpec, render_face, sample_params

    spec, cache, errors = SynthSpec(n=12, size=160, seed=5, max_roll=15.0), {}, []
    for i in range(12):
        params = sample_params(spec, i, cache)[0]
        if params.occluder != "none":
            continue
        image, _, _ = render_face(params)
        face = aligned_crop(image, (64, 64), "tight", landmarker="mesh468")
        assert face.mesh is not None and face.landmarker == "mesh468"
        errors.append(face.pose.roll - params.roll_deg)
    assert len(errors) >= 8 and np.abs(errors).max() < 2.0, errors


def test_aligned_crops_get_the_mesh_where_it_finds_a_face_else_the_template():
    from fer_core.data.synthfacs import SynthSpec, render_face, sample_params

    image, _, landmarks = render_face(sample_params(SynthSpec(n=4, size=96, seed=2, max_roll=0.0), 1)[0])
    face = aligned_crop(image, (64, 64), "tight", landmarker="mesh468")
    template = aligned_crop(image, (64, 64), "tight")
    assert face.mesh is not None and template.mesh is None and template.landmarker == "mtcnn5"
    eyes = landmarks[:2] * 64 / 96
    for eye, contour in zip(eyes, (RIGHT_EYE, LEFT_EYE)):  # the renderer's true eye centres are in the eye contours
        assert np.hypot(*(face.mesh[contour, :2].mean(0) - eye)) < 2.5, (eye, face.mesh[contour, :2].mean(0))
    noise = np.random.default_rng(0).integers(0, 255, (96, 96, 3), dtype=np.uint8)
    blank = aligned_crop(noise, (64, 64), "tight", landmarker="mesh468")
    assert blank.mesh is None and blank.pose is None and set(blank.regions) == set(ALL_REGIONS)


def test_the_mesh468_landmarker_aligns_by_the_mesh_and_mtcnn5_still_works(portrait):
    from fer_core.face.align import template_points

    plain = find_faces(portrait, (64, 64), "fer2013", landmarker="mtcnn5")[0]
    meshed = find_faces(portrait, (64, 64), "fer2013", landmarker="mesh468")[0]
    assert plain.mesh is None and plain.pose is None and meshed.mesh.shape == (468, 3)
    # aligned by the mesh's five points: its eye centres land near the template's eyes (measured 1.3 px low at 64 px:
    # the mesh's lip corners sit higher than MTCNN's, whose points the template was measured with)
    np.testing.assert_allclose(meshed.crop_landmarks[:2], template_points("fer2013", (64, 64))[:2], atol=2.0)
    assert np.abs(meshed.crop.astype(int) - plain.crop.astype(int)).mean() < 25  # the same face, a little moved
    assert list(meshed.regions)[: len(ALL_REGIONS)] == list(ALL_REGIONS) == list(plain.regions)
    again = mesh_face_regions(meshed.mesh, (64, 64))
    for name in ALL_REGIONS:
        assert meshed.regions[name].any() and plain.regions[name].any(), name
        np.testing.assert_array_equal(meshed.regions[name], again[name])
    # the exclusive parts do not overlap, and each finer region lies in its coarse one
    for a, b in (("mouth", "nose"), ("eyes", "brows"), ("cheeks", "mouth"), ("forehead", "brows"), ("chin", "mouth")):
        assert not (meshed.regions[a] & meshed.regions[b]).any(), (a, b)
    for face in (plain, meshed):
        r = face.regions
        assert not (r["inner_brows"] & ~r["brows"]).any() and not (r["left_cheek"] & ~r["cheeks"]).any()
        assert (r["inner_brows"] | r["outer_brows"]).sum() == r["brows"].sum()
        assert r["left_cheek"][:, :32].sum() > r["left_cheek"][:, 32:].sum()  # the image's left
    with pytest.raises(ValueError, match="unknown landmarker 'dlib68'; choose from mtcnn5, mesh468, auto"):
        find_faces(portrait, (64, 64), "fer2013", landmarker="dlib68")


def test_occlude_cli_takes_the_landmarker():
    import json

    from tests._cli import run_cli

    done = run_cli("occlude", PORTRAIT, "--regions", "mouth,mouth_corners", "--landmarker", "mesh468", "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["landmarker"] == "mesh468" and "mouth_corners" in json.dumps(out["faces"][0])


def _features_shifted(image, box, k):
    """``image`` with the face's middle pushed by ``k`` half face-widths along x (towards the image's right for
    k > 0) and its sides left in place: what a head turning that way does to a photo, to first order."""
    x, _, w, _ = box
    h_img, w_img = image.shape[:2]
    xx, yy = np.meshgrid(np.arange(w_img, dtype=np.float32), np.arange(h_img, dtype=np.float32))
    t = np.clip((xx - (x + w / 2)) / (0.9 * w), -1, 1)
    map_x = xx - k * w * 0.5 * np.cos(np.pi * t / 2) * (np.abs(t) < 1)
    return cv2.remap(image, map_x.astype(np.float32), yy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def test_a_face_turned_towards_the_images_right_reads_a_positive_yaw(portrait):
    base = find_faces(portrait, (64, 64), "fer2013", landmarker="mesh468")[0]
    right = find_faces(_features_shifted(portrait, base.box, 0.5), (64, 64), "fer2013", landmarker="mesh468")[0]
    left = find_faces(_features_shifted(portrait, base.box, -0.5), (64, 64), "fer2013", landmarker="mesh468")[0]
    # measured: +6° and -5° against the photo's own +0.1°; a 2-D warp turns the head only a little
    assert right.pose.yaw - base.pose.yaw > 3 and left.pose.yaw - base.pose.yaw < -3, (base.pose, right.pose, left.pose)


def test_synthfacs_true_feature_points_fall_inside_their_mesh_regions():
    """The renderer knows where it drew each eye, the nose tip and the mouth: each lies in its own mesh polygon."""
    from fer_core.data.synthfacs import SynthSpec, render_face, sample_params
    from fer_core.data.synthfacs.geometry import face_geometry
    from fer_core.data.synthfacs.raster import pose_matrix

    spec, cache, checked = SynthSpec(n=16, size=128, seed=4), {}, 0
    for i in range(16):
        params = sample_params(spec, i, cache)[0]
        if params.occluder != "none":
            continue
        image, _, landmarks = render_face(params)
        lips = face_geometry(params.identity, params.au_dict(), params.gaze)["mouth"]
        mid = len(lips["outer_up"]) // 2
        m = pose_matrix(params)
        mouth = (m[:, :2] @ ((lips["outer_up"][mid] + lips["outer_lo"][mid]) / 2) + m[:, 2]) * 128
        face = aligned_crop(image, (128, 128), "tight", landmarker="mesh468")
        assert face.mesh is not None, i
        truth = {"left_eye": landmarks[0], "right_eye": landmarks[1], "nose": landmarks[2], "mouth": mouth}
        for region, (x, y) in truth.items():
            assert face.regions[region][int(y), int(x)], (i, region, (x, y))
            others = [r for r in ("left_eye", "right_eye", "mouth", "nose") if r != region]
            assert not any(face.regions[r][int(y), int(x)] for r in others), (i, region)
        checked += 1
    assert checked >= 12, checked
