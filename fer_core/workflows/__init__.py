"""What a user does with a model, one module per job: explain faces (classes, action units, EmoNet-40), occlude
regions, check a heatmap's faithfulness, evaluate on a manifest, propose pseudo-labels, time the explainers.

Each is a plain function over a :class:`~fer_core.models.LoadedModel`, shared by the CLI, the dashboard and Python;
``au_evaluation`` reads the test figures of action-unit runs into tables.
"""

from __future__ import annotations

from .action_units import AUFaceResult, au_number, explain_au_faces, explain_au_image, outlined_overlay
from .au_evaluation import IAT_COMPARISON_COLUMNS, au_runs_table, per_au_table
from .emonet import EmoNetFaceResult, explain_emonet_faces, explain_emonet_image, is_emonet_model
from .evaluate import embed_crops, evaluate_manifest
from .explain import FaceResult, explain_crops, explain_faces, explain_image, predict_crops
from .explain_sweep import SweepResult, explain_dataset, read_sweep
from .faithfulness import face_faithfulness
from .model_preview import ModelPreview, PreviewFace, preview_model
from .occlude import FaceOcclusion, occlude_faces, occlude_image
from .pseudo_label import propose, run_thresholds, write_batch

__all__ = [
    "ModelPreview",
    "PreviewFace",
    "preview_model",
    "AUFaceResult",
    "EmoNetFaceResult",
    "FaceOcclusion",
    "FaceResult",
    "IAT_COMPARISON_COLUMNS",
    "au_number",
    "au_runs_table",
    "embed_crops",
    "SweepResult",
    "evaluate_manifest",
    "explain_dataset",
    "read_sweep",
    "explain_au_faces",
    "explain_au_image",
    "explain_crops",
    "explain_emonet_faces",
    "explain_emonet_image",
    "explain_faces",
    "explain_image",
    "face_faithfulness",
    "is_emonet_model",
    "occlude_faces",
    "occlude_image",
    "outlined_overlay",
    "per_au_table",
    "predict_crops",
    "propose",
    "run_thresholds",
    "write_batch",
]
