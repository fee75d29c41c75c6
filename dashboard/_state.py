"""Session-state keys in one place; small values only (names, choices, the photos this session uploaded), never
tensors or models."""

from __future__ import annotations

import streamlit as st

from fer_core.models import DEFAULT_MODEL

MODEL = "model_name"
METHOD = "method"
SAMPLE = "sample"
REGIONS = "regions"
FILL = "fill"
FAIR_RUNS = "fair_runs"
FAIR_ATTRIBUTE = "fair_attribute"
FAIR_GROUP = "fair_group"
RUN = "run"
DEVICE = "device"  # where the sidebar's model runs: auto, cpu or cuda:N
LANDMARKER = "landmarker"  # how the photo pages find landmarks and regions: the dense mesh or 5 points

# --- widget keys (and key stems: a page adds the run, face or fill, e.g. f"{FAIR_BARS}_{name}_{attribute}"). The
# strings are what AppTest tests and the browser test look widgets up by: rename a constant, never its value.
# image sources of the pages with page_header(): the stem of f"{stem}_source" / "_upload" / "_sample"
EXPLAIN_INPUTS, OCCLUSION_INPUTS, AU_INPUTS, EMONET_INPUTS = "explain", "occlusion", "au", "emonet"
INPUT_SOURCE, INPUT_UPLOAD, INPUT_SAMPLE, INPUT_FORGET = "source", "upload", "sample", "forget"  # suffixes
INPUT_CAMERA = "camera"  # suffix: the Heatmaps page's camera snapshot
UPLOADS = "uploads"  # the photos uploaded on a photo page, [(name, bytes)], shared by them (memory only)
PROBS = "p"  # a face's probability bars: f"{PROBS}_{item.key}_{i}" (review: f"{PROBS}_{item.id}")
FAITHFULNESS = "f"  # f"{FAITHFULNESS}_{item.key}_{i}_{method}"
OCCLUSION_CHART = "occ"  # f"{OCCLUSION_CHART}_{item.key}_{i}"
# Fairness
FAIR_BARS, FAIR_TPR, FAIR_MMD, FAIR_SHARE = "bars", "tpr", "mmd", "share"  # + f"_{run}_{attribute}"
FAIR_CLICKED = "fair_clicked"  # the group bar clicked last: only a new click changes the Group box
# Fairness: a photo set's audit
AUDIT_SOURCE, AUDIT_MANIFEST, AUDIT_GROUP = "_w_audit_source", "_w_audit_manifest", "_w_audit_group"
AUDIT_NO_LABELS, AUDIT_RUN, AUDIT_PARAMS = "_w_audit_no_labels", "_w_audit_run", "audit_params"
AUDIT_DET_BARS, AUDIT_RATE_BARS, AUDIT_ACC_BARS = "audit_det", "audit_rate", "audit_acc"  # + f"_{attribute}"
# Runs
RUN_PICK = "run_pick"
RUN_LAUNCH_FORM = "launch"
RUN_CONFIG, RUN_RECIPE, RUN_NAME = "_w_run_config", "_w_run_recipe", "_w_run_name"  # + f"_{config}"
RUN_STOP, RUN_RESUME = "stop", "resume"
RUN_LOSS_CHART, RUN_ACC_CHART = "loss", "acc"
# Occlusion study
STUDY_SOURCE, STUDY_MANIFEST, STUDY_FILLS, STUDY_LIMIT = (
    "_w_study_source",
    "_w_study_manifest",
    "_w_study_fills",
    "_w_study_limit",
)
STUDY_RUN, STUDY_PARAMS = "_w_study_run", "study_params"  # the Run button; the settings it last ran
STUDY_GROUP = "_w_study_group"  # f"{STUDY_GROUP}_{source}": each source keeps its own choice
STUDY_CLASS = "_w_study_class"  # f"{STUDY_CLASS}_{fill}"
STUDY_HEAT, STUDY_CLASS_BARS, STUDY_GROUP_BARS = "heat", "cls", "grp"  # + f"_{fill}" (groups: + f"_{attribute}")
# Action units
AU_RUN, AU_TOP, AU_PROBS, AU_RUNS_CHART = "_w_au_run", "_w_au_top", "au_p", "au_runs_chart"
# EmoNet-40
EMO_RUN, EMO_TOP, EMO_VIEW = "_w_emo_run", "_w_emo_top", "_w_emo_view"
EMO_VALENCE, EMO_FAMILIES = "emo_v", "emo_f"  # f"{EMO_VALENCE}_{item.key}_{i}", f"{EMO_FAMILIES}_{item.sha}_{i}"
# Video
VIDEO_SOURCE, VIDEO_UPLOAD, VIDEO_MODEL, VIDEO_FPS = (
    "_w_video_source",
    "_w_video_upload",
    "_w_video_model",
    "_w_video_fps",
)
VIDEO_EXTRA, VIDEO_RUN = "_w_video_extra", "_w_video_run"
VIDEO_TIME, VIDEO_CLICKED = "_w_video_t", "video_clicked"  # + f"_{track_id}": the scrubber, the last chart click
VIDEO_TIMELINE, VIDEO_PROBS, VIDEO_CSV = "video_timeline", "video_p", "video_csv"  # + f"_{track_id}"
VIDEO_POSE = "video_pose"  # + f"_{track_id}": the head pose chart
# Concepts (Heatmaps page) and the Explanation atlas page
CONCEPTS_ON, CONCEPT_LAYER, CONCEPT_REFS = "_w_concepts_on", "_w_concept_layer", "_w_concept_refs"  # + f"_{model}"
CONCEPT_FIND = "_w_concept_find"  # the "Find reference faces" button
ATLAS_SOURCE, ATLAS_MANIFEST, ATLAS_CLASS, ATLAS_FACES = (
    "_w_atlas_source",
    "_w_atlas_manifest",
    "_w_atlas_class",
    "_w_atlas_faces",
)
ATLAS_GROUPS, ATLAS_LIMIT, ATLAS_RUN, ATLAS_PARAMS = "_w_atlas_groups", "_w_atlas_limit", "_w_atlas_run", "atlas_params"
ATLAS_COLOUR, ATLAS_CLUSTER, ATLAS_SCATTER, ATLAS_CLICKED = (
    "_w_atlas_colour",
    "_w_atlas_cluster",
    "atlas_map",
    "atlas_clicked",
)
# Review
REVIEWER_CONFIRMED, REVIEWER_FORM, REVIEWER_CHANGE = "reviewer", "reviewer_form", "_w_reviewer_change"
REVIEWER, REVIEW_BATCH, REVIEW_CLASSES, REVIEW_BAND, REVIEW_BELOW, RELABEL = (
    "_w_reviewer",
    "_w_review_batch",
    "_w_review_classes",
    "_w_review_band",
    "_w_review_below",
    "_w_relabel",
)
# Review: "Create a batch"
NEW_DEMO, NEW_SOURCE, NEW_NAME, NEW_POOL_KIND, NEW_POOL, NEW_UPLOAD = (
    "review_demo",
    "_w_review_new_source",
    "_w_review_new_name",
    "_w_review_new_pool_kind",
    "_w_review_new_pool",
    "_w_review_new_upload",
)
NEW_TAU, NEW_ALIGNED, NEW_REVIEWS, NEW_LIMIT, NEW_CREATE = (
    "_w_review_new_tau",
    "_w_review_new_aligned",
    "_w_review_new_reviews",
    "_w_review_new_limit",
    "review_new_create",
)
NEW_OPEN, NEW_CLOSE = "_w_review_new_open", "review_new_close"  # the panel's toggle; close it on the next run
NEW_FLASH = "review_new_flash"  # what the last creation did, shown after the rerun that selects the new batch
# Report
REPORT_SOURCE, REPORT_UPLOAD, REPORT_SAMPLES, REPORT_RUN = (
    "report_source",
    "report_upload",
    "report_samples",
    "report_run",
)
REPORT_MAX_FACES, REPORT_PLANTED, REPORT_BUILD = "report_max_faces", "report_planted", "report_build"
REPORT_DOWNLOAD_HTML, REPORT_DOWNLOAD_PDF = "report_download_html", "report_download_pdf"
REPORT_BUILT = "report_built"  # this session's last report (it holds the user's faces, so never a shared cache)
# Transfer comparison
TR_A, TR_B, TR_METHOD, TR_SOURCE, TR_UPLOAD, TR_N, TR_ORDER = (
    "_w_tr_a",
    "_w_tr_b",
    "_w_tr_method",
    "_w_tr_source",
    "_w_tr_upload",
    "_w_tr_n",
    "_w_tr_order",
)
TR_PAGE = "_w_tr_page"  # f"{TR_PAGE}_{pages}"
TR_SHARES, TR_FACE = "tr_shares", "tr_face"  # f"{TR_FACE}_{i}"
# Models (bring your own model): where the file comes from, the card form's fields, its two buttons
MODELS_SOURCE, MODELS_PATH, MODELS_UPLOAD = "_w_models_source", "_w_models_path", "_w_models_upload"
MODELS_FORM = "models_add"
MODELS_NAME, MODELS_ARCH, MODELS_LABELS = "_w_models_name", "_w_models_arch", "_w_models_labels"
MODELS_HEIGHT, MODELS_WIDTH, MODELS_CHANS = "_w_models_height", "_w_models_width", "_w_models_chans"
MODELS_MEAN, MODELS_STD, MODELS_OUTPUT = "_w_models_mean", "_w_models_std", "_w_models_output"
MODELS_TEMPLATE, MODELS_MARGIN = "_w_models_template", "_w_models_margin"
MODELS_ORIGIN_URL, MODELS_LICENCE = "_w_models_source_url", "_w_models_licence"
MODELS_TRAINING, MODELS_NOTES = "_w_models_training", "_w_models_notes"
MODELS_TRUST, MODELS_OVERWRITE = "_w_models_trust", "_w_models_overwrite"
MODELS_PREVIEW, MODELS_SAVE = "models_preview", "models_save"
MODELS_FORM_FIELDS = (
    MODELS_NAME,
    MODELS_ARCH,
    MODELS_LABELS,
    MODELS_HEIGHT,
    MODELS_WIDTH,
    MODELS_CHANS,
    MODELS_MEAN,
    MODELS_STD,
    MODELS_OUTPUT,
    MODELS_TEMPLATE,
    MODELS_MARGIN,
    MODELS_ORIGIN_URL,
    MODELS_LICENCE,
    MODELS_TRAINING,
    MODELS_NOTES,
    MODELS_TRUST,
    MODELS_OVERWRITE,
)  # re-filled from the file whenever another file is chosen
MODELS_FORM_FOR = "models_form_for"  # the file the form's fields were filled from
MODELS_REMOVE, MODELS_REMOVE_YES, MODELS_REMOVE_NO = "models_rm", "models_rm_yes", "models_rm_no"  # + f"_{name}"
MODELS_REMOVING = "models_removing"  # the model whose removal waits for confirmation
MODELS_FLASH = "models_flash"  # what the last save or removal did, shown after the rerun that updates the picker
MODELS_SUPPORT = "_w_models_support"  # the model of the "What applies" table: f"{MODELS_SUPPORT}_{sidebar model}"
MODELS_PREVIEW_CHART = "models_p"  # f"{MODELS_PREVIEW_CHART}_{i}": the preview faces' score bars

DEFAULTS = {
    MODEL: DEFAULT_MODEL,
    METHOD: "lrp",
    SAMPLE: None,
    REGIONS: ["eyes", "mouth", "brows", "nose"],
    FILL: "mean",
    FAIR_RUNS: [],
    FAIR_ATTRIBUTE: None,
    FAIR_GROUP: None,
    RUN: None,
    DEVICE: "auto",
    LANDMARKER: None,  # the first the sidebar offers: the mesh where it runs
    REVIEWER_CONFIRMED: "",
}


def init_state() -> None:
    for key, value in DEFAULTS.items():
        st.session_state.setdefault(key, value)


def widget_key(state_key: str) -> str:
    """The key of the widget that :func:`persistent` draws for ``state_key``."""
    return f"_w_{state_key}"


def _copy(widget_key: str, state_key: str) -> None:
    st.session_state[state_key] = st.session_state[widget_key]


def persistent(widget, label: str, options, state_key: str, **kwargs):
    """Draw ``widget`` (st.selectbox / st.multiselect) whose choice survives page switches.

    Streamlit drops a widget's key when a page without it runs, so the choice lives under ``state_key`` and
    the widget under its own key, synchronised by a callback. When the widget's value is not the state's (another
    page ran, or code changed the state: the Models page selects the model it just added), the widget's value is
    set from the state before it is drawn; a value set that way is also what the browser then shows.
    """
    key = widget_key(state_key)
    current = st.session_state[state_key]
    options = list(options)
    if widget is st.multiselect:
        wanted = [c for c in current if c in options]
    else:
        wanted = current if current in options else (options[0] if options else None)
    if st.session_state.get(key) != wanted:
        st.session_state[key] = wanted
    return widget(label, options, key=key, on_change=_copy, args=(key, state_key), **kwargs)
