"""What a user does with a model, one module per job: explain faces (classes, action units, EmoNet-40), occlude
regions, check a heatmap's faithfulness, evaluate on a manifest, propose pseudo-labels, time the explainers.

Each is a plain function over a :class:`~fer_core.models.LoadedModel`, shared by the CLI, the dashboard and Python;
``au_evaluation`` reads the test figures of action-unit runs into tables.

Names load on first use, so a single-photo command imports only its own workflow (not pandas, not the dataset
jobs): ``fer-core explain photo.jpg`` starts in the time of torch and the model.
"""

from __future__ import annotations

from .._utils.lazy import lazy_getattr

_EXPORTS: dict[str, str] = {
    "AUFaceResult": ".action_units",
    "au_number": ".action_units",
    "explain_au_faces": ".action_units",
    "explain_au_image": ".action_units",
    "outlined_overlay": ".action_units",
    "IAT_COMPARISON_COLUMNS": ".au_evaluation",
    "au_runs_table": ".au_evaluation",
    "per_au_table": ".au_evaluation",
    "FaceConcepts": ".concepts",
    "explain_concepts": ".concepts",
    "explain_face_concepts": ".concepts",
    "EmoNetFaceResult": ".emonet",
    "explain_emonet_faces": ".emonet",
    "explain_emonet_image": ".emonet",
    "is_emonet_model": ".emonet",
    "embed_crops": ".evaluate",
    "evaluate_manifest": ".evaluate",
    "FaceResult": ".explain",
    "explain_crops": ".explain",
    "explain_faces": ".explain",
    "explain_image": ".explain",
    "predict_crops": ".explain",
    "SweepResult": ".explain_sweep",
    "explain_dataset": ".explain_sweep",
    "read_sweep": ".explain_sweep",
    "face_faithfulness": ".faithfulness",
    "ModelPreview": ".model_preview",
    "PreviewFace": ".model_preview",
    "preview_model": ".model_preview",
    "FaceOcclusion": ".occlude",
    "occlude_faces": ".occlude",
    "occlude_image": ".occlude",
    "DEMO_BATCH": ".review_batches",
    "DEMO_RUN": ".review_batches",
    "NewBatch": ".review_batches",
    "PseudoLabels": ".pseudo_label",
    "check_batch_name": ".review_batches",
    "create_demo_batch": ".review_batches",
    "demo_sources": ".review_batches",
    "propose": ".pseudo_label",
    "pseudo_label_batch": ".review_batches",
    "pseudo_label_uploads": ".review_batches",
    "run_thresholds": ".pseudo_label",
    "suggest_batch_name": ".review_batches",
    "upload_folder": ".review_batches",
    "write_batch": ".pseudo_label",
}
__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(__name__, _EXPORTS)
