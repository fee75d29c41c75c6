from pathlib import Path

import cv2
import numpy as np

from fer_core.data.crop_cache import CropCache, build_crop_cache
from fer_core.face import find_faces, load_image

PORTRAIT = Path(__file__).resolve().parents[2] / "assets" / "samples" / "astronaut_eileen_collins.png"


def test_cache_aligns_once_reuses_and_lists_failures(tmp_path):
    img = cv2.imread(str(PORTRAIT))
    a, b = tmp_path / "a.png", tmp_path / "b_copy.png"
    cv2.imwrite(str(a), img)
    cv2.imwrite(str(b), img)  # same content under another name
    noise = tmp_path / "noise.png"
    cv2.imwrite(str(noise), np.random.default_rng(0).integers(0, 255, (300, 300, 3), dtype=np.uint8))
    report = build_crop_cache([a, b, noise], tmp_path / "cache", workers=1)
    assert report.added == 1 and report.failed["path"].tolist() == [str(noise)]
    assert "no face found" in report.failed["reason"][0]
    cache = CropCache(tmp_path / "cache")
    expected = find_faces(load_image(a), (64, 64), landmarker="mtcnn5")[0].crop  # training crops: the 5 points
    np.testing.assert_array_equal(cache[a], expected)
    np.testing.assert_array_equal(cache[b], expected)
    # re-run: nothing new is aligned; a new image is appended
    again = build_crop_cache([a, b], tmp_path / "cache", workers=1)
    assert again.added == 0 and again.reused == 2
    c = tmp_path / "c.png"
    cv2.imwrite(str(c), cv2.flip(img, 1))
    assert build_crop_cache([a, c], tmp_path / "cache", workers=1).added == 1
    assert CropCache(tmp_path / "cache").crops.shape[0] == 2 and c in CropCache(tmp_path / "cache")
