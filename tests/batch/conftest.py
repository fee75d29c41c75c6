"""A small SynthFACS set of aligned 48 px crops, a manifest mixing detectable photos, blank photos and a broken file,
shared by the engine tests."""

from __future__ import annotations

import shutil

import cv2
import numpy as np
import pandas as pd
import pytest

from tests.conftest import PORTRAIT


@pytest.fixture(scope="session")
def crops_manifest(tmp_path_factory):
    """300 SynthFACS faces (48 px aligned crops; ``subject`` and demographic columns)."""
    from fer_core.data import SynthSpec, write_dataset

    out = tmp_path_factory.mktemp("synth48")
    write_dataset(SynthSpec(n=300, size=48, seed=3), out, workers=1)
    return out / "manifest.csv"


@pytest.fixture(scope="session")
def mixed_manifest(tmp_path_factory):
    """Group ``a``: four copies of the portrait; group ``b``: two portraits, two blank 400 px photos (no face) and a
    file that is not an image; no label column. Expected per group: a all detected; b 2 of 5 detected."""
    root = tmp_path_factory.mktemp("mixed")
    rows = []
    for i in range(6):
        name = f"portrait{i}.png"
        shutil.copy(PORTRAIT, root / name)
        rows.append({"path": name, "group": "a" if i < 4 else "b"})
    for i in range(2):
        cv2.imwrite(str(root / f"blank{i}.png"), np.full((400, 400, 3), 127 + 40 * i, np.uint8))
        rows.append({"path": f"blank{i}.png", "group": "b"})
    (root / "broken.jpg").write_bytes(b"not a jpeg")
    rows.append({"path": "broken.jpg", "group": "b"})
    manifest = root / "manifest.csv"
    pd.DataFrame(rows).to_csv(manifest, index=False)
    return manifest
