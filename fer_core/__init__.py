"""fer_core: explain and audit facial-expression-recognition models.

The front door (captum-style): the names below are the supported API for Python users, the CLI and the dashboard.
Each lives in a documented subpackage, importable on its own:

- :mod:`fer_core.models`: architectures, checkpoints and model cards (``load_model``, ``ModelCard``);
- :mod:`fer_core.face`: decoding photos, detecting and aligning faces (``load_image``, ``find_faces``);
- :mod:`fer_core.explain`: explainers with one call shape (``create_explainer``), overlays;
- :mod:`fer_core.workflows`: what a user does with a model (explain, occlude, evaluate, pseudo-label);
- :mod:`fer_core.studies`: dataset-level studies (occlusion, region relevance, localisation, transfer);
- :mod:`fer_core.fairness`, :mod:`fer_core.agreement`: group metrics, MMD, probes; rater agreement;
- :mod:`fer_core.runs`, :mod:`fer_core.train`: run folders; training recipes (Lightning, imported only on use);
- :mod:`fer_core.store`, :mod:`fer_core.report`, :mod:`fer_core.data`, :mod:`fer_core.taxonomy`.

Names load lazily, so ``import fer_core`` stays cheap (no torch until a name that needs it is touched).
"""

from __future__ import annotations

from ._utils.lazy import lazy_getattr

_EXPORTS: dict[str, str] = {
    # models
    "DEFAULT_MODEL": "models",
    "LoadedModel": "models",
    "ModelCard": "models",
    "list_models": "models",
    "load_model": "models",
    "read_card": "models",
    # faces
    "Face": "face",
    "FaceDetector": "face",
    "default_detector": "face",
    "find_faces": "face",
    "load_image": "face",
    # explanations
    "Explainer": "explain",
    "METHODS": "explain",
    "create_explainer": "explain",
    "overlay": "explain",
    # workflows
    "FaceResult": "workflows",
    "AUFaceResult": "workflows",
    "EmoNetFaceResult": "workflows",
    "explain_faces": "workflows",
    "explain_image": "workflows",
    "explain_crops": "workflows",
    "explain_au_image": "workflows",
    "explain_emonet_image": "workflows",
    "FaceOcclusion": "workflows",
    "occlude_faces": "workflows",
    "occlude_image": "workflows",
    "face_faithfulness": "workflows",
    "evaluate_manifest": "workflows",
    "propose": "workflows",
    # studies and reports
    "occlusion_study": "studies",
    "region_relevance_study": "studies",
    "localisation_benchmark": "studies",
    "fairness_report": "fairness",
    "build_report": "report",
    "render_html": "report",
    # runs, training, review
    "RunFolder": "runs",
    "list_runs": "runs",
    "open_run": "runs",
    "RECIPE_NAMES": "train",
    "Store": "store",
    # errors
    "FerCoreError": "errors",
    "FaceNotFoundError": "errors",
    "ImageLoadError": "errors",
    "DatasetError": "errors",
    "CheckpointError": "errors",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(__name__, {name: f".{module}" for name, module in _EXPORTS.items()})


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
