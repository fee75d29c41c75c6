"""The cached work of the concept views: one face's top concepts, a class's explanation atlas over a dataset, and
the reference faces of its concepts (kept on disk per model, dataset, class and layer by fer_core, so a restart
shows them again without recomputing)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import streamlit as st

from dashboard import _resources as res
from dashboard import _studies as studies
from fer_core.explain import ConceptLayer
from fer_core.studies import Atlas, ConceptReferences
from fer_core.workflows import FaceConcepts

KEEP = 8  # atlases kept in memory across sessions


def references_dir() -> Path:
    """Where reference faces are kept: fer_core's cache folder (never inside the checkout)."""
    from fer_core.studies import default_references_dir

    return default_references_dir()


@st.cache_resource(show_spinner=False, max_entries=16)
def concept_layers(model_name: str) -> list[ConceptLayer]:
    """The model's layers whose channels can be concepts (empty where LRP does not apply)."""
    from fer_core.explain import concept_layers as layers_of
    from fer_core.explain import why_not

    loaded = res.load_model(model_name)
    if why_not("lrp", loaded.model):
        return []
    return layers_of(res.explainer(model_name, "lrp", res.device_choice()))


def face_concepts(image_sha: str, data: bytes, model_name: str, layer: str, top: int) -> list[FaceConcepts]:
    """Every face of an uploaded photo with the top concepts of its predicted class at ``layer``."""
    from fer_core.workflows import explain_face_concepts

    device, landmarker = res.device_choice(), res.landmarker_choice()

    def compute() -> list[FaceConcepts]:
        found = res.faces(image_sha, data, model_name, device, landmarker)
        loaded = res.load_model(model_name, device)
        return explain_face_concepts(loaded, found, None, layer, top, res.explainer(model_name, "lrp", device))

    return res._memo(("concepts", image_sha, model_name, layer, top, device, landmarker), compute)


def atlas_key(source: str, model_name: str, label: str, group_by: tuple[str, ...], faces: str, limit: int | None):
    return ("atlas", source, res._stamp(source), model_name, label, group_by, faces, limit, res.device_choice())


def has_atlas(*params) -> bool:
    """Whether this atlas was built already (the page then shows it without a Build click)."""
    return res._memo_has((*atlas_key(*params), None))


def atlas(
    source: str,
    model_name: str,
    label: str,
    group_by: tuple[str, ...],
    faces: str,
    limit: int | None,
    progress: Callable[[int, int], None] | None = None,
    aligned: bool | None = None,
) -> Atlas:
    """The atlas of ``label`` over a run's test set (its own model) or a manifest / folder (the sidebar model;
    ``aligned`` says its images are aligned crops, default: detect faces)."""
    from fer_core.studies import explanation_atlas

    def compute() -> Atlas:
        loaded, data, run_aligned, target = studies.study_target(source, model_name)
        aligned_here = run_aligned if aligned is None else aligned
        return explanation_atlas(
            loaded,
            data,
            label,
            group_by,
            faces=faces,
            target=target,
            aligned=aligned_here,
            limit=limit,
            progress=progress,
        )

    return res._memo((*atlas_key(source, model_name, label, group_by, faces, limit), aligned), compute, keep=KEEP)


def references(
    source: str,
    model_name: str,
    label: str,
    group_by: tuple[str, ...],
    faces: str,
    limit: int | None,
    per_concept: int = 6,
    top: int = 6,
) -> ConceptReferences:
    """The reference faces of the atlas's top concepts (read from the cache folder when computed before)."""
    from fer_core.studies import references_cached

    found = atlas(source, model_name, label, group_by, faces, limit)
    loaded = studies.study_model(source, model_name)

    def compute() -> ConceptReferences:
        return references_cached(found, loaded, references_dir(), top=top, per_concept=per_concept)

    return res._memo(
        ("references", *atlas_key(source, model_name, label, group_by, faces, limit), top, per_concept), compute
    )


def thumbnail(path: str, side: int = 96):
    """A face image of the atlas, small (read from disk each time: the files are the user's own dataset)."""
    import cv2

    from fer_core.face import load_image

    image = load_image(path)
    scale = side / max(image.shape[:2])
    return cv2.resize(image, (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale))))


@st.cache_resource(show_spinner="Preparing the test set…", max_entries=32)
def test_manifest(run_folder: str) -> str:
    """A run's test manifest (SynthFACS test sets are rendered on first use), found once per process."""
    from fer_core.runs import open_run

    return str(open_run(run_folder).test_manifest())


def reference_sets() -> dict[str, str]:
    """Datasets to take reference faces from for any model: each finished run's test set, by run name."""
    return {f"{name} (test set)": folder for name, folder in res.classifier_runs().items()}


def face_references(
    run_folder: str,
    model_name: str,
    label: str,
    concepts: tuple[int, ...],
    limit: int = 600,
    progress: Callable[[int, int], None] | None = None,
) -> ConceptReferences:
    """Reference faces of a face's own concepts, over a run's test set seen by ``model_name`` (the sidebar's)."""
    from fer_core.runs import open_run
    from fer_core.studies import references_cached

    manifest = test_manifest(run_folder)
    aligned = bool(open_run(run_folder).aligned)  # the run's own crops: no detection
    found = atlas(manifest, model_name, label, (), "predicted", limit, progress, aligned)
    loaded = res.load_model(model_name)

    def compute() -> ConceptReferences:
        return references_cached(found, loaded, references_dir(), concepts=list(concepts), per_concept=4)

    return res._memo(("face_references", manifest, model_name, label, concepts, limit, res.device_choice()), compute)


def has_face_references(run_folder: str, model_name: str, label: str, concepts: tuple[int, ...], limit: int = 600):
    manifest = test_manifest(run_folder)
    return res._memo_has(("face_references", manifest, model_name, label, concepts, limit, res.device_choice()))
