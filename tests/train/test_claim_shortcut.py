"""The planted-shortcut claim (issue #20) on the mean of three seeds: a magenta mark on a fifth of the 'happy'
training faces becomes the model's strategy for them; the explanation atlas isolates the marked test faces in a
flagged cluster, the mark's concept ranks among the class's top concepts, and the model trained on the same faces
without the mark shows no such cluster. Every seed reproduces the recorded figures."""

from __future__ import annotations

import pytest

from fer_core.train.claims import recorded_claim
from fer_core.train.shortcut_claim import shortcut_claim
from tests.train._claims import assert_reproduces

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def claim(tmp_path_factory):
    return shortcut_claim(tmp_path_factory.mktemp("shortcut_claim"), workers=2)


def test_the_atlas_finds_the_planted_mark_and_only_on_the_marked_model(claim):
    assert claim["holds"], "\n".join(claim["summary"])
    for seed in claim["seeds"]:
        marked, clean = claim["figures"]["marked"][seed], claim["figures"]["clean"][seed]
        assert marked["n_flagged"] >= 1 and marked["precision"] >= 0.8 and marked["recall"] >= 0.8
        assert marked["planted_faces"] > 0 and clean["n_flagged"] == 0


def test_every_seed_reproduces_the_recorded_figures(claim):
    assert_reproduces(claim, recorded_claim("shortcut"), ("accuracy", "f1", "precision", "recall"))


def test_the_mark_concepts_reference_faces_are_marked_faces_cropped_at_the_mark(claim):
    """Relevance maximisation on the marked model: the faces where the mark's concept is strongest carry the mark,
    and each crop box overlaps it."""
    from fer_core.data.manifest import read_manifest
    from fer_core.data.shortcut import MARK_COLUMN, Mark
    from fer_core.runs import open_run
    from fer_core.studies import explanation_atlas, reference_faces

    figures = claim["figures"]["marked"][0]
    run = open_run(figures["run"])
    manifest = run.test_manifest()
    loaded = run.model()
    atlas = explanation_atlas(loaded, manifest, "surprise", aligned=True)
    refs = reference_faces(atlas, loaded, concepts=[figures["mark_concept"]], per_concept=5)
    marked = read_manifest(manifest)[MARK_COLUMN].astype(str).to_numpy() == "yes"
    x0, y0, x1, y1 = Mark().box(loaded.card.input_size[1], loaded.card.input_size[0])
    for r in refs.faces[figures["mark_concept"]]:
        assert marked[r.row], r.path
        bx0, by0, bx1, by1 = r.box
        assert bx0 < x1 and x0 < bx1 and by0 < y1 and y0 < by1, (r.box, (x0, y0, x1, y1))
