"""Planted truth: on SynthFACS evidence masks, LRP localises the evidence better than gradients and random maps."""

from __future__ import annotations

import pytest

from fer_core.errors import DatasetError
from fer_core.studies import localisation_benchmark


@pytest.mark.slow
def test_lrp_finds_the_planted_evidence_better_than_saliency_and_random(demo_model, synth_manifest):
    res = localisation_benchmark(demo_model, synth_manifest, ["lrp", "saliency", "random"], limit=None, n_boot=200)
    by = {m["method"]: m for m in res["methods"]}
    assert res["n_faces"] >= 60
    # a random map puts relevance in proportion to area: its mass accuracy is the mask's share of the face
    assert by["random"]["mass_accuracy"] == pytest.approx(res["mask_share"], abs=0.03)
    assert by["lrp"]["mass_accuracy_ci"][0] > by["saliency"]["mass_accuracy_ci"][1]
    assert by["saliency"]["mass_accuracy_ci"][0] > by["random"]["mass_accuracy_ci"][1]
    # faithfulness: hiding LRP's most relevant patches hurts far more than hiding random ones, and LeRF barely
    assert by["lrp"]["aopc_morf"] > 2 * by["random"]["aopc_morf"]
    assert by["lrp"]["abpc"] > by["random"]["abpc"] + 0.2
    assert by["lrp"]["cancellation"] < 1.5


def test_manifest_without_masks_is_a_clear_error(tmp_path, demo_model, synth_manifest):
    import pandas as pd

    df = pd.read_csv(synth_manifest)
    df["path"] = [str(synth_manifest.parent / p) for p in df["path"]]
    df.drop(columns=["mask_path"]).to_csv(tmp_path / "m.csv", index=False)
    with pytest.raises(DatasetError, match="mask_path"):
        localisation_benchmark(demo_model, tmp_path / "m.csv", ["random"])
    with pytest.raises(ValueError, match="unknown method"):
        localisation_benchmark(demo_model, synth_manifest, ["lrp", "magic"])
