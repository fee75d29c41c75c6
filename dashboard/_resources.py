"""Every st.cache_* loader of the dashboard. Models and explainers are shared by all sessions (thread-safe:
explainers own a private model copy and a lock); results are cached per image hash, model and method."""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import streamlit as st

from dashboard import _state as keys
from dashboard._lru import ByteBoundedLRU
from fer_core import models as api
from fer_core.explain import METHODS, Explainer, create_explainer
from fer_core.face import Face, FaceDetector, default_detector, find_faces, load_image
from fer_core.fairness import EvaluationReport
from fer_core.models import ASSETS_DIR, LoadedModel, list_models
from fer_core.models import load_model as _load_model
from fer_core.runs import RunFolder, list_runs, open_run, register_run_models, run_model_name
from fer_core.workflows import (
    FaceOcclusion,
    FaceResult,
    explain_crops,
    explain_faces,
    face_faithfulness,
    occlude_faces,
)

if TYPE_CHECKING:
    from dashboard.components.review_views import BatchRequest
    from fer_core.report import ReportData

SAMPLES_DIR = ASSETS_DIR / "samples"
T = TypeVar("T")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


SYNTH_SAMPLE = ASSETS_DIR / "synthfacs_sample" / "manifest.csv"


@st.cache_data
def sample_files() -> dict[str, Path]:
    """Bundled photos, then the SynthFACS gallery (named by its ground-truth label)."""
    files = {
        p.stem.replace("_", " "): p
        for p in sorted(SAMPLES_DIR.glob("*"))
        if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".webp")
    }
    if SYNTH_SAMPLE.exists():
        import pandas as pd

        for i, row in enumerate(pd.read_csv(SYNTH_SAMPLE).itertuples()):
            extra = f", {row.occluder}" if getattr(row, "occluder", "none") not in ("none", "") else ""
            files[f"SynthFACS {i + 1}: {row.label} ({row.gender}, {row.skin_tone}{extra})"] = (
                SYNTH_SAMPLE.parent / row.path
            )
    return files


@st.cache_data(ttl=3, show_spinner=False)
def model_names() -> list[str]:
    """Shipped weights first, then the models users added (Models page, ``fer-core models add``), then the models
    of finished training runs (``run:<name>``), registered in this process as a side effect; the sidebar calls it
    on every rerun, so the scans are cached for a few seconds (and cleared when a model is added or removed)."""
    runs = set(register_run_models())
    names = list_models(pretrained=True)
    shipped = [n for n in names if n not in runs]
    added = [m.name for m in user_models() if m.name not in names]
    return shipped + added + [n for n in names if n in runs]


@st.cache_data(ttl=3, show_spinner=False)
def user_models() -> list:
    """The models users added (``UserModel``: name, weights, card), by name, from ``$FER_CORE_HOME/models``."""
    return api.list_user_models()


@st.cache_data(show_spinner=False)
def device_options() -> list[str]:
    """What the sidebar's device picker offers: ``auto``, ``cpu`` and every GPU torch sees."""
    import torch

    return ["auto", "cpu", *(f"cuda:{i}" for i in range(torch.cuda.device_count()))]


def device_choice() -> str:
    """The sidebar's device as a torch device string (``auto`` resolved), so ``auto`` and ``cuda:0`` share models."""
    return str(api.resolve_device(st.session_state.get(keys.DEVICE) or "auto"))


LANDMARKER_NAMES = {"mesh468": "468-point mesh", "mtcnn5": "5 points"}


@st.cache_data(show_spinner=False)
def landmarker_options() -> list[str]:
    """What the sidebar's landmarker picker offers: the dense mesh first where it can run, then the 5 points."""
    from fer_core.face import mesh_available

    return ["mtcnn5"] if mesh_available() else ["mesh468", "mtcnn5"]


def pose_groups() -> list[str]:
    """``["pose_bin"]`` where the mesh runs: a group any photo set has, each face's head pose measured by the mesh."""
    return ["pose_bin"] if landmarker_options()[0] == "mesh468" else []


def group_label(column: str) -> str:
    """How a group column reads in a picker (``pose_bin`` is no column of the manifest: say what it is)."""
    return "head pose (from the mesh)" if column == "pose_bin" else column


def landmarker_choice() -> str:
    """The sidebar's landmarker (the first offered until one is chosen), passed to every cached face computation."""
    chosen = st.session_state.get(keys.LANDMARKER)
    return chosen if chosen in landmarker_options() else landmarker_options()[0]


@st.cache_data(ttl=3, show_spinner=False)
def run_folders() -> list[str]:
    """Run folders (the runs folder and the embedded demo runs), newest first; re-read every few seconds."""
    return [str(r.folder) for r in list_runs()]


@st.cache_data(ttl=3, show_spinner=False)
def classifier_runs() -> dict[str, str]:
    """Finished runs whose model is a softmax classifier (its card says so): name -> folder. Expression models
    (trained on the ``label`` column) first, by name, then the others (age, gender base models), so a page that
    starts on the first opens on an expression model."""
    from fer_core.errors import FerCoreError
    from fer_core.models import read_card

    found = []
    for f in run_folders():
        run = open_run(f)
        try:
            if run.has(RunFolder.MODEL) and read_card(run.path(RunFolder.MODEL)).output == "softmax":
                found.append((run.target_column != "label", run.name, f))
        except FerCoreError:
            continue  # a corrupt checkpoint is reported where it is opened
    return {name: f for _, name, f in sorted(found)}


@st.cache_data(max_entries=16, show_spinner=False)
def run_evaluation(folder: str, mtime: float) -> dict:
    return open_run(folder).evaluation()


def evaluation(folder: str) -> dict:
    """A run's evaluation.json, cached until the file changes."""
    return run_evaluation(folder, RunFolder(folder).stamp(RunFolder.EVALUATION))


def evaluation_report(folder: str) -> EvaluationReport:
    """The typed view (per attribute: by_group, mmd, probe ...) of a run's evaluation.json."""
    return EvaluationReport.from_dict(evaluation(folder))


def overall_figures(folder: str) -> dict | None:
    """A run's overall test figures (n, accuracy, macro_f1 ...), or None before it has an evaluation."""
    return evaluation(folder).get("overall") if RunFolder(folder).has(RunFolder.EVALUATION) else None


@st.cache_data(ttl=3, show_spinner=False)
def evaluated_runs() -> dict[str, str]:
    """Runs with an evaluation.json (name -> folder), newest first."""
    return {Path(f).name: f for f in run_folders() if RunFolder(f).has(RunFolder.EVALUATION)}


@st.cache_data(ttl=3, show_spinner=False)
def prediction_runs() -> dict[str, str]:
    """Runs with test predictions (name -> folder), newest first."""
    return {Path(f).name: f for f in run_folders() if RunFolder(f).has(RunFolder.PREDICTIONS)}


def group_mistakes(folder: str, attribute: str, group: str, limit: int = 6) -> tuple:
    """(the run's most confident wrong test rows of ``group``, their heatmaps as FaceResults)."""
    wrong = open_run(folder).mistakes(attribute, group, limit=limit)
    if wrong.empty:
        return wrong, []
    return wrong, explain_rows(folder, tuple(wrong["path"]), tuple(wrong["rel_path"]), tuple(wrong["source"]))


@st.cache_data(max_entries=32, show_spinner="Explaining the mistakes…")
def explain_rows(
    folder: str, paths: tuple[str, ...], rel_paths: tuple[str, ...], sources: tuple[str, ...], method: str = "lrp"
) -> list[FaceResult]:
    """Heatmaps of test rows of a run (images re-created from the run's data source when not on this machine)."""
    import pandas as pd

    run = open_run(folder)
    rows = pd.DataFrame({"path": paths, "rel_path": rel_paths, "source": sources})
    crops = [load_image(p) for p in run.image_paths(rows)]
    name = run_model_name(run)  # registered by model_names(), which the sidebar runs first on every page
    return explain_crops(load_model(name), crops, method, explainer(name, method))


def load_model(name: str, device: str | None = None) -> LoadedModel:
    """Model ``name`` on ``device`` (default: the sidebar's), shared by every session that picks the same."""
    return _load_model_on(name, device or device_choice())


@st.cache_resource(show_spinner="Loading model…")
def _load_model_on(name: str, device: str) -> LoadedModel:
    return _load_model(name, device=device)


@st.cache_resource(show_spinner="Loading face detector…")
def detector() -> FaceDetector:
    return default_detector()  # the same thread-safe instance the fer_core functions use


def explainer(model_name: str, method: str, device: str | None = None) -> Explainer:
    """The shared explainer of ``model_name`` on ``device`` (default: the sidebar's)."""
    return _explainer_on(model_name, method, device or device_choice())


@st.cache_resource(show_spinner="Preparing explainer…")
def _explainer_on(model_name: str, method: str, device: str) -> Explainer:
    loaded = load_model(model_name, device)
    return create_explainer(method, loaded.model, loaded.card)


def method_support(model_name: str) -> dict[str, str]:
    """Which methods apply to the picked model ('' = applies, else why not): the method pickers offer only those."""
    from fer_core.explain import method_support as support

    return support(load_model(model_name))


def usable_method(model_name: str) -> str:
    """The method picked on the Heatmaps page where it applies to this model, else the first that does."""
    from fer_core.explain import default_method

    return default_method(load_model(model_name), st.session_state[keys.METHOD])


def forget_model(name: str) -> None:
    """After a model was added, replaced or removed: the picker re-reads the names, and nothing cached under
    ``name`` (the model, its explainers, results keyed by model name) outlives the file it came from."""
    model_names.clear()
    user_models.clear()
    for device in {*(str(api.resolve_device(d)) for d in device_options()), device_choice()}:
        _load_model_on.clear(name, device)
        for method in METHODS:
            _explainer_on.clear(name, method, device)
    # keyed by name among other things: all of them go
    for results in (faces, _explain_on, _occlude_with, _faithfulness_on):
        results.clear()
    with _STUDIES_LOCK:
        for key in [k for k in _STUDIES if name in k]:
            del _STUDIES[key]


#: decoded photos shared by all sessions, bounded by bytes (FER_DASHBOARD_IMAGE_CACHE_MB, default 384 MB)
DECODED = ByteBoundedLRU(int(float(os.environ.get("FER_DASHBOARD_IMAGE_CACHE_MB", "384")) * 2**20))


def decode(image_sha: str, data: bytes) -> np.ndarray:
    """The RGB pixels of an upload (read-only, shared); raises ImageLoadError for anything we cannot decode."""
    return DECODED.get_or_compute(image_sha, lambda: load_image(data))


@st.cache_data(max_entries=64, show_spinner="Finding faces…")
def faces(image_sha: str, data: bytes, model_name: str, device: str | None, landmarker: str) -> list[Face]:
    card = load_model(model_name, device).card
    return find_faces(decode(image_sha, data), card.input_size, card.alignment, detector(), landmarker=landmarker)


def explain(
    image_sha: str,
    data: bytes,
    model_name: str,
    method: str,
    device: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    landmarker: str | None = None,
) -> list[FaceResult]:
    """Every face of an image with its all-class heatmaps, on ``device`` with ``landmarker`` (default: the
    sidebar's). A slow method (IG, sliding-window occlusion) reports ``progress``, so it is kept in the shared LRU of
    :func:`_memo` rather than in st.cache_data (which would record the progress bar and fail to replay it)."""
    device, landmarker = device or device_choice(), landmarker or landmarker_choice()
    if not slow_method(model_name, method, device):
        return _explain_on(image_sha, data, model_name, method, device, landmarker)

    def compute() -> list[FaceResult]:
        found = faces(image_sha, data, model_name, device, landmarker)
        return explain_faces(
            load_model(model_name, device), found, method, explainer(model_name, method, device), progress=progress
        )

    return _memo(_slow_key(image_sha, model_name, method, device, landmarker), compute)


def _slow_key(image_sha: str, model_name: str, method: str, device: str, landmarker: str) -> tuple:
    return ("explain", image_sha, model_name, method, device, landmarker)


def slow_method(model_name: str, method: str, device: str | None = None) -> bool:
    """Whether ``method`` costs this model many passes per face (:func:`fer_core.explain.is_slow`)."""
    from fer_core.explain import is_slow

    card = load_model(model_name, device).card
    return is_slow(explainer(model_name, method, device), (card.in_chans, *card.input_size))


def explain_estimate(image_sha: str, data: bytes, model_name: str, method: str) -> tuple[int, float] | None:
    """(faces, estimated seconds) of a slow method's heatmaps still to compute for this image; None when they are
    ready (or the method is fast), so the page shows an estimate only before real work."""
    from fer_core.explain import estimate_seconds

    device, landmarker = device_choice(), landmarker_choice()
    if not slow_method(model_name, method, device) or _memo_has(
        _slow_key(image_sha, model_name, method, device, landmarker)
    ):
        return None
    card = load_model(model_name, device).card
    n = len(faces(image_sha, data, model_name, device, landmarker))
    return n, estimate_seconds(explainer(model_name, method, device), n, (card.in_chans, *card.input_size))


@st.cache_data(max_entries=64, show_spinner="Computing heatmaps…")
def _explain_on(
    image_sha: str, data: bytes, model_name: str, method: str, device: str, landmarker: str
) -> list[FaceResult]:
    return explain_faces(
        load_model(model_name, device),
        faces(image_sha, data, model_name, device, landmarker),
        method,
        explainer(model_name, method, device),
    )


def occlude(image_sha: str, data: bytes, model_name: str, regions: tuple[str, ...], fill: str) -> list[FaceOcclusion]:
    """Every face of an image with each region hidden, its landmarks and regions from the sidebar's landmarker."""
    return _occlude_with(image_sha, data, model_name, regions, fill, landmarker_choice())


@st.cache_data(max_entries=64, show_spinner="Hiding regions…")
def _occlude_with(
    image_sha: str, data: bytes, model_name: str, regions: tuple[str, ...], fill: str, landmarker: str
) -> list[FaceOcclusion]:
    found = faces(image_sha, data, model_name, None, landmarker)
    return occlude_faces(found, load_model(model_name), list(regions), fill)


def faithfulness(
    image_sha: str,
    data: bytes,
    model_name: str,
    method: str,
    face_index: int,
    device: str | None = None,
    landmarker: str | None = None,
) -> dict:
    """The deletion / insertion curves of one face's map, on ``device`` with ``landmarker`` (default: the
    sidebar's)."""
    device, landmarker = device or device_choice(), landmarker or landmarker_choice()
    return _faithfulness_on(image_sha, data, model_name, method, face_index, device, landmarker)


@st.cache_data(max_entries=64, show_spinner="Measuring faithfulness…")
def _faithfulness_on(
    image_sha: str, data: bytes, model_name: str, method: str, face_index: int, device: str, landmarker: str
) -> dict:
    found = explain(image_sha, data, model_name, method, device, landmarker=landmarker)
    return face_faithfulness(load_model(model_name, device), found[face_index])


_STUDIES: OrderedDict[tuple, object] = OrderedDict()
_STUDIES_LOCK = threading.Lock()


def _memo(key: tuple, compute: Callable[[], T], keep: int = 16) -> T:
    """A small LRU cache shared by all sessions, for studies that report progress while they run (st.cache_data
    would record the progress bar's updates and fail to replay them)."""
    with _STUDIES_LOCK:
        if key in _STUDIES:
            _STUDIES.move_to_end(key)
            return _STUDIES[key]
    value = compute()
    with _STUDIES_LOCK:
        _STUDIES[key] = value
        while len(_STUDIES) > keep:
            _STUDIES.popitem(last=False)
    return value


def _memo_has(key: tuple) -> bool:
    with _STUDIES_LOCK:
        return key in _STUDIES


def _stamp(source: str) -> float:
    """Results are keyed on the run's model file time too, so a retrained run is studied again."""
    path = Path(source)
    return (
        RunFolder(path).stamp(RunFolder.MODEL) if path.is_dir() else (path.stat().st_mtime if path.is_file() else 0.0)
    )


@st.cache_resource(show_spinner=False)
def review_store():
    """The review store ($FER_CORE_DB or the cache's store.sqlite), shared by every session (one connection pool)."""
    from fer_core.store import Store

    return Store.open()


@st.cache_data(ttl=30, show_spinner=False)
def batch_labels(store_url: str, batch: str) -> list[str]:
    """The classes a batch's faces may be relabelled to: its label set, else the labels its items mention."""
    from fer_core.taxonomy import LABEL_SETS

    store = review_store()
    rows = store.list_batches().set_index("name")
    label_set = rows.loc[batch, "label_set"] if batch in rows.index else None
    if label_set in LABEL_SETS:
        return list(LABEL_SETS[label_set])
    items = store.batch_items(batch)
    probs = next((p for p in items["probs"] if isinstance(p, dict)), None)
    return list(probs) if probs else sorted(items["label"].unique())


def batch_run(batches, batch: str) -> str:
    """The name of the run that proposed ``batch`` ('' when unknown), from ``store.list_batches()``."""
    return str(batches.set_index("name").loc[batch]["run"] or "")


@st.cache_data(ttl=30, show_spinner=False)
def batch_run_path(store_url: str, batch: str) -> str:
    store = review_store()
    runs = store.list_runs()
    run = store.list_batches().set_index("name").loc[batch, "run"]
    match = runs[runs["name"] == run]
    return str(match["path"].iloc[0] or "") if len(match) else ""


@dataclass(frozen=True)
class ReviewFace:
    """A pool face to review: its crop and the LRP heatmap of the proposed label (None, with a ``note``, when the
    proposing model is gone)."""

    crop: np.ndarray
    heatmap: np.ndarray | None = None
    note: str = "no heatmap"


@st.cache_data(max_entries=256, show_spinner="Explaining the face…")
def review_face(path: str, run_name: str, run_path: str, label: str) -> ReviewFace:
    """The face crop of a pool image and the LRP heatmap of ``label`` by the run (or model) that proposed it."""
    from fer_core.workflows import explain_image

    image = load_image(path)
    try:
        if run_path and Path(run_path).is_dir():
            name = run_model_name(open_run(run_path))
            register_run_models(Path(run_path).parent)
        else:
            name = run_name
        loaded = load_model(name)
    except Exception as exc:  # the proposing model is gone: still let people review the face
        return ReviewFace(image, None, f"no heatmap: model {run_name!r} not found ({exc})")
    results = explain_image(image, loaded, "lrp", explainer=explainer(name, "lrp"))
    r = results[0]
    k = r.labels.index(label) if label in r.labels else int(r.probs.argmax())
    return ReviewFace(r.face.crop, r.heatmaps[k])


@st.cache_data(ttl=3, show_spinner=False)
def recipe_runs(recipe: str) -> list[str]:
    """Finished runs of one recipe (with their evaluation), newest first."""
    return [
        f
        for f in run_folders()
        if RunFolder(f).status.get("recipe") == recipe and RunFolder(f).has(RunFolder.EVALUATION)
    ]


@st.cache_resource(show_spinner="Loading model…")
def run_model(folder: str) -> LoadedModel:
    """A run's own model by folder (for the AU and EmoNet pages, whose runs are not in the model picker)."""
    return open_run(folder).model()


@st.cache_resource(show_spinner="Preparing explainer…")
def run_explainer(folder: str) -> Explainer:
    loaded = run_model(folder)
    return create_explainer("lrp", loaded.model, loaded.card)


def explain_aus(image_sha: str, data: bytes, folder: str) -> list:
    """Every face of an image with the heatmap of each action unit (regions from the sidebar's landmarker)."""
    return _explain_aus_with(image_sha, data, folder, landmarker_choice())


@st.cache_data(max_entries=32, show_spinner="Explaining action units…")
def _explain_aus_with(image_sha: str, data: bytes, folder: str, landmarker: str) -> list:
    from fer_core.workflows import explain_au_image

    image, loaded = decode(image_sha, data), run_model(folder)
    return explain_au_image(image, loaded, detector=detector(), explainer=run_explainer(folder), landmarker=landmarker)


def explain_emonet(image_sha: str, data: bytes, folder: str, top: int) -> list:
    """Every face of an image with its ``top`` EmoNet-40 categories explained (the sidebar's landmarker)."""
    return _explain_emonet_with(image_sha, data, folder, top, landmarker_choice())


@st.cache_data(max_entries=32, show_spinner="Reading the 40 categories…")
def _explain_emonet_with(image_sha: str, data: bytes, folder: str, top: int, landmarker: str) -> list:
    from fer_core.workflows import explain_emonet_image

    image, loaded = decode(image_sha, data), run_model(folder)
    return explain_emonet_image(
        image, loaded, top=top, detector=detector(), explainer=run_explainer(folder), landmarker=landmarker
    )


def stakeholder_report(
    items: list[tuple[str, bytes]],
    model_name: str,
    run_folder: Path | None,
    max_faces: int,
    localisation_limit: int,
    progress: Callable[[int, int], None] | None = None,
) -> ReportData:
    """The report's data for the sidebar's model, method, regions and fill, with the cached detector and explainer
    (not cached itself: every press of Build builds afresh)."""
    from fer_core.report import build_report

    method = usable_method(model_name)
    return build_report(
        items,
        load_model(model_name),
        run_folder,
        max_faces=max_faces,
        method=method,
        regions=st.session_state[keys.REGIONS] or None,
        fill=st.session_state[keys.FILL],
        localisation_limit=localisation_limit,
        detector=detector(),
        explainer=explainer(model_name, method),
        progress=progress,
    )


def create_review_batch(request: BatchRequest, progress: Callable[[int, int], None] | None = None):
    """``fer-core pseudo-label`` for the Review page's "Create a batch": the request's source is a run folder (its
    own model, thresholds and face setting) or a model name; its pool a folder or manifest path, or uploads (saved
    into the batch's folder under ``$FER_CORE_HOME``). Not cached: every press of Create creates. Returns the
    ``NewBatch``."""
    from fer_core.workflows import pseudo_label_batch, pseudo_label_uploads

    is_run = Path(request.source).is_dir()
    loaded = run_model(request.source) if is_run else load_model(request.source)
    options = dict(
        run_folder=request.source if is_run else None,
        tau=request.tau,
        aligned=request.aligned,
        reviews_per_item=request.reviews_per_item,
        limit=request.limit,
        progress=progress,
    )
    if request.from_uploads:
        return pseudo_label_uploads(review_store(), request.name, loaded, list(request.uploads), **options)
    return pseudo_label_batch(review_store(), request.name, loaded, request.pool, **options)


def create_demo_review_batch(progress: Callable[[int, int], None] | None = None):
    """The ready demo batch (bundled SynthFACS sample faces, embedded demo run) in the page's store."""
    from fer_core.workflows import create_demo_batch, demo_sources

    return create_demo_batch(review_store(), run_model(str(demo_sources()[0])), progress)
