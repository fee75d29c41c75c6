"""Detection, alignment and region masks on the bundled real portrait against hand-annotated points."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from fer_core.errors import FaceNotFoundError
from fer_core.face import find_faces
from fer_core.face.align import apply_transform
from fer_core.taxonomy import ALL_REGIONS


def test_one_face_found_with_box_around_annotated_features(portrait_faces, portrait_points):
    assert len(portrait_faces) == 1
    face = portrait_faces[0]
    x, y, w, h = face.box
    for px, py in portrait_points.values():
        assert x <= px <= x + w and y <= py <= y + h
    # detector landmarks within 8 px of the hand annotation
    assert np.hypot(*(face.landmarks[0] - portrait_points["left_eye"])) < 8
    assert np.hypot(*(face.landmarks[1] - portrait_points["right_eye"])) < 8
    assert not face.used_as_crop and face.crop.shape == (64, 64, 3)


@pytest.mark.parametrize(
    "region,point",
    [
        ("left_eye", "left_eye"),
        ("right_eye", "right_eye"),
        ("eyes", "left_eye"),
        ("mouth", "mouth"),
        ("nose", "nose"),
        ("brows", "brows"),
    ],
)
def test_region_masks_lie_on_the_annotated_features(portrait_faces, portrait_points, region, point):
    face = portrait_faces[0]
    cx, cy = apply_transform(face.to_crop, np.array([portrait_points[point]], dtype=float))[0]
    mask = ndimage.binary_dilation(face.regions[region], iterations=1)
    assert mask[int(cy), int(cx)], f"{point} at crop ({cx:.1f}, {cy:.1f}) is outside the {region} mask"


def test_region_masks_are_separate_and_inside_the_crop(portrait_faces):
    face = portrait_faces[0]
    assert set(face.regions) == set(ALL_REGIONS)
    for name, mask in face.regions.items():
        assert mask.shape == face.crop.shape[:2] and 5 < mask.sum() < 0.25 * mask.size, name
    r = face.regions
    assert not (r["eyes"] & r["mouth"]).any() and not (r["eyes"] & r["brows"]).any()
    assert (r["left_eye"] | r["right_eye"]).sum() == r["eyes"].sum()


def test_small_crop_is_used_as_aligned_crop(portrait, portrait_points):
    # a FER2013-like 48 x 48 grey crop of the face: used unwarped, masks from the detected landmarks
    x0, y0, side = 176, 66, 96
    grey = portrait[y0 : y0 + side, x0 : x0 + side].mean(2, keepdims=True).repeat(3, 2).astype(np.uint8)
    crop48 = np.ascontiguousarray(grey[::2, ::2])
    faces = find_faces(crop48, (64, 64))
    assert len(faces) == 1 and faces[0].used_as_crop and faces[0].crop.shape == (64, 64, 3)
    mx, my = portrait_points["mouth"]
    cx, cy = (mx - x0) / side * 64, (my - y0) / side * 64
    assert ndimage.binary_dilation(faces[0].regions["mouth"], iterations=1)[int(cy), int(cx)]


def test_featureless_small_image_uses_the_template():
    flat = np.full((40, 40, 3), 120, np.uint8)
    faces = find_faces(flat, (64, 64), "fer2013")
    assert faces[0].used_as_crop and np.isnan(faces[0].score)
    np.testing.assert_allclose(faces[0].crop_landmarks[0], [0.32 * 64, 0.38 * 64])


def test_no_face_in_a_large_image_is_a_clear_error():
    noise = np.random.default_rng(0).integers(0, 255, size=(400, 500, 3), dtype=np.uint8)
    with pytest.raises(FaceNotFoundError, match="no face found in the 500 x 400 image"):
        find_faces(noise, (64, 64))


def test_several_faces_in_one_photo(portrait):
    face_area = portrait[40:200, 150:300]
    collage = np.hstack([face_area, np.full_like(face_area, 128), face_area[:, ::-1]])
    faces = find_faces(np.ascontiguousarray(collage), (64, 64))
    assert len(faces) == 2
    xs = sorted(f.box[0] for f in faces)
    assert xs[0] < face_area.shape[1] < xs[1]


def test_a_distant_face_in_a_large_photo_is_found(portrait, portrait_points):
    """The fast 800 px pass misses a ~50 px face in a 3000 px photo; the second, finer pass finds it."""
    import cv2

    canvas = np.full((2400, 3000, 3), 120, np.uint8)
    canvas[1000:1300, 1500:1800] = cv2.resize(portrait, (300, 300), interpolation=cv2.INTER_AREA)
    faces = find_faces(canvas, (64, 64))
    assert len(faces) == 1
    mx, my = portrait_points["mouth"]
    x, y, w, h = faces[0].box
    assert x <= 1500 + mx * 300 / 512 <= x + w and y <= 1000 + my * 300 / 512 <= y + h
