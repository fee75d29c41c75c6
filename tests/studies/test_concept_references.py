"""Relevance maximisation: the crop box holds the planted relevance, each concept's reference faces are the atlas's
faces with the most relevance on that channel (checked against the atlas's own table), their heatmaps are the
conditional heatmaps of that channel, and the cache gives back exactly what was computed."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fer_core.explain import conditional_heatmaps, create_explainer
from fer_core.models.preprocess import to_model_input
from fer_core.runs import EMBEDDED_RUNS_DIR, open_run
from fer_core.studies import explanation_atlas, reference_faces, references_cached
from fer_core.studies.concept_references import concept_box

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def atlas_and_model():
    run = open_run(EMBEDDED_RUNS_DIR / "synthfacs_bias_supervised")
    loaded = run.model()
    return explanation_atlas(loaded, run.test_manifest(), "happy", aligned=True, limit=300), loaded


def test_the_box_holds_a_planted_blob_and_keeps_a_minimum_size():
    heat = np.zeros((48, 48))
    heat[30:36, 10:16] = 1.0  # the planted relevance
    heat[0:2, 40:42] = -5.0  # negative relevance does not pull the box
    x0, y0, x1, y1 = concept_box(heat, mass=0.99, pad=0.0, min_side=0.0)
    assert (x0, y0, x1, y1) == (10, 30, 16, 36)
    x0, y0, x1, y1 = concept_box(heat, mass=0.99, pad=0.0, min_side=0.5)
    assert x1 - x0 == 24 and y1 - y0 == 24 and x0 <= 10 and x1 >= 16 and y0 <= 30 and y1 >= 36
    assert concept_box(np.zeros((8, 8))) == (0, 0, 8, 8)


def test_references_are_the_faces_with_the_most_relevance_on_each_channel(atlas_and_model):
    atlas, loaded = atlas_and_model
    refs = reference_faces(atlas, loaded, top=3, per_concept=4)
    assert refs.concepts == [c for c, _ in atlas.top_concepts(3)]
    explainer = create_explainer("lrp", loaded.model, loaded.card)
    k = list(loaded.card.label_names).index("happy")
    for channel in refs.concepts:
        expected = atlas.faces["row"].to_numpy()[np.argsort(-atlas.concepts[:, channel], kind="stable")[:4]]
        got = refs.faces[channel]
        assert [r.row for r in got] == expected.tolist()
        assert [r.relevance for r in got] == sorted((r.relevance for r in got), reverse=True)
        x = to_model_input([got[0].crop], loaded.card)
        truth = conditional_heatmaps(explainer, x, k, [channel], atlas.layer)[0, 0].sum(0).numpy()
        np.testing.assert_allclose(got[0].heatmap, truth, rtol=1e-4, atol=1e-6 * np.abs(truth).max())


def test_the_cache_gives_back_what_was_computed(atlas_and_model, tmp_path, monkeypatch):
    atlas, loaded = atlas_and_model
    first = references_cached(atlas, loaded, tmp_path, top=2, per_concept=3)
    import fer_core.studies.concept_references as module

    monkeypatch.setattr(module, "reference_faces", lambda *a, **k: pytest.fail("recomputed instead of read"))
    again = references_cached(atlas, loaded, tmp_path, top=2, per_concept=3)
    assert again.concepts == first.concepts and again.shares == first.shares
    for c in first.concepts:
        for a, b in zip(first.faces[c], again.faces[c]):
            assert (a.row, a.box, a.path) == (b.row, b.box, b.path)
            np.testing.assert_array_equal(a.crop, b.crop)
            np.testing.assert_array_equal(a.heatmap, b.heatmap)
    (next(tmp_path.glob("*.npz"))).write_bytes(b"damaged")
    monkeypatch.undo()
    redone = references_cached(atlas, loaded, tmp_path, top=2, per_concept=3)  # a damaged entry is computed again
    assert torch.equal(
        torch.as_tensor(redone.faces[first.concepts[0]][0].heatmap),
        torch.as_tensor(first.faces[first.concepts[0]][0].heatmap),
    )
