"""Gather a report's data from fer_core's public functions: faces, heatmaps, occlusion, faithfulness, fairness."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

from .._utils.progress import ProgressFn
from ..errors import FaceNotFoundError, ImageLoadError
from ..explain import FILLS, METHODS, Explainer, create_explainer, default_method
from ..face import FaceDetector, find_faces, parse_regions
from ..models import LoadedModel
from ..runs import RunFolder
from ..workflows import explain_faces, face_faithfulness, occlude_faces
from .audit import fairness_section, is_runs_model, localisation_section, resolve_model, resolve_run, run_summary
from .data import ReportData, SampleFace, SkippedInput
from .inputs import ImageInput, ReportError, as_inputs

__all__ = ["DEFAULT_REGIONS", "build_report"]

logger = logging.getLogger(__name__)

DEFAULT_REGIONS = ("eyes", "mouth", "brows", "nose")
MSG_MAX_FACES = "max_faces must be at least 1, got {value}"
MSG_NO_FACE = "no usable face in any of the {n} image(s): {details}"
MSG_CAP = "not used: the report shows at most {cap} faces (--max-faces)"
MSG_CAP_IN_IMAGE = "{extra} more face(s) in this image not used: the report shows at most {cap} faces (--max-faces)"


class _Progress:
    """One tqdm bar (CLI) and/or a ``callback(done, total)`` (dashboard) over the report's steps."""

    def __init__(self, total: int, show: bool, callback: ProgressFn | None) -> None:
        self.done, self.total, self.callback = 0, max(total, 1), callback
        self.bar = None
        if show:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=self.total, desc="report", unit="step")

    def advance(self, n: int = 1, desc: str | None = None) -> None:
        self.done = min(self.total, self.done + n)
        if self.bar is not None:
            if desc:
                self.bar.set_description(desc)
            self.bar.update(n)
        if self.callback is not None:
            self.callback(self.done, self.total)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _validate(method: str, fill: str, max_faces: int, regions: str | Sequence[str]) -> tuple[str, ...]:
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if fill not in FILLS:
        raise ValueError(f"fill must be one of {', '.join(FILLS)}, got {fill!r}")
    if max_faces < 1:
        raise ValueError(MSG_MAX_FACES.format(value=max_faces))
    return tuple(parse_regions(regions))


def _sample_faces(
    inputs: list[ImageInput],
    loaded: LoadedModel,
    explainer: Explainer,
    regions: tuple[str, ...],
    fill: str,
    max_faces: int,
    faithfulness_steps: int,
    detector: FaceDetector | None,
    step: _Progress,
) -> tuple[list[SampleFace], list[SkippedInput]]:
    """Detect, explain, occlude and measure faithfulness for the faces of ``inputs``, up to ``max_faces``."""
    faces: list[SampleFace] = []
    skipped: list[SkippedInput] = []
    card = loaded.card
    for item in inputs:
        if len(faces) >= max_faces:
            skipped.append(SkippedInput(item.name, MSG_CAP.format(cap=max_faces)))
            step.advance(desc="faces")
            continue
        try:
            found = find_faces(item.decode(), card.input_size, card.alignment, detector)
        except (ImageLoadError, OSError) as exc:
            skipped.append(SkippedInput(item.name, f"unreadable: {exc}"))
            step.advance(desc="faces")
            continue
        except FaceNotFoundError as exc:
            skipped.append(SkippedInput(item.name, str(exc)))
            step.advance(desc="faces")
            continue
        used = found[: max_faces - len(faces)]
        if len(used) < len(found):
            skipped.append(
                SkippedInput(item.name, MSG_CAP_IN_IMAGE.format(extra=len(found) - len(used), cap=max_faces))
            )
        results = explain_faces(loaded, used, explainer=explainer)
        occluded = occlude_faces(used, loaded, list(regions), fill)
        for i, (result, occ) in enumerate(zip(results, occluded)):
            faith = face_faithfulness(loaded, result, steps=faithfulness_steps)
            faces.append(SampleFace(item.name, i, len(found), result, occ.to_json(), faith))
        step.advance(desc="faces")
    return faces, skipped


def build_report(
    images: str | Path | Iterable[ImageInput | tuple[str, bytes | Path]],
    model: str | Path | LoadedModel | None = None,
    run: str | Path | RunFolder | None = None,
    *,
    max_faces: int = 8,
    method: str | None = "lrp",
    regions: str | Sequence[str] = DEFAULT_REGIONS,
    fill: str = "mean",
    faithfulness_steps: int = 32,
    fairness_attributes: Sequence[str] | None = None,
    n_boot: int = 200,
    num_permutations: int = 200,
    reuse_evaluation: bool = True,
    localisation_limit: int = 64,
    detector: FaceDetector | None = None,
    explainer: Explainer | None = None,
    show_progress: bool = False,
    progress: ProgressFn | None = None,
) -> ReportData:
    """Everything a stakeholder report shows, computed with the same functions as the CLI and the dashboard.

    An unknown model, method, fill or region raises UnknownModelError or ValueError (from the loader and the
    argument checks) before any face is processed.

    Parameters
    ----------
    images
        A folder (every image file directly inside it), or ``(name, bytes | path)`` pairs held in memory.
    model
        A registered name, ``run:<name>``, a checkpoint path or a LoadedModel (default: the run's model, else
        the FER2013 mini-Xception).
    run
        A run folder or run name; adds its config, fairness on its test set and, for SynthFACS runs, the
        planted-truth localisation benchmark. Default: the run the model comes from, if any.
    max_faces
        At most this many faces (images after the cap are listed as not used).
    method
        Attribution method of the heatmaps (``fer_core.explain.METHODS``); None: LRP, or the first method that
        applies to the model.
    regions
        Occlusion test: face regions hidden one at a time (names or a comma-separated string).
    fill
        Occlusion test: what replaces a hidden region (``fer_core.explain.FILLS``).
    faithfulness_steps
        Steps of each face's pixel-flipping curves (:func:`fer_core.workflows.face_faithfulness`).
    fairness_attributes
        Sensitive columns to report (default: the run's ``data.sensitive``).
    n_boot
        Bootstrap resamples of the per-group accuracy intervals; see :func:`fer_core.report.audit.fairness_section`.
    num_permutations
        Permutations of the MMD p-values; see :func:`fer_core.report.audit.fairness_section`.
    reuse_evaluation
        Use the run's ``evaluation.json`` when it covers the same rows and attributes; see
        :func:`fer_core.report.audit.fairness_section`.
    localisation_limit
        SynthFACS test faces for the planted-truth check (0 switches it off).
    detector
        A shared face detector (the dashboard's cached one); created when None.
    explainer
        A shared explainer for ``method`` (the dashboard's cached one); created when None.
    show_progress
        Show a tqdm bar over the report's steps.
    progress
        Called as ``progress(done, total)`` after each step (with or without the bar).

    Returns
    -------
    ReportData
        The sample faces and their explanations, the skipped inputs and, with a run, its fairness and
        planted-truth sections: what the HTML report (and its PDF) shows.

    Raises
    ------
    ReportError
        Missing or empty folder, unknown run, or no usable face in any image (each failure is named).
    """
    region_names = _validate(method or "lrp", fill, max_faces, regions)
    inputs, skipped = as_inputs(images)
    run_info = resolve_run(run, model)
    loaded = resolve_model(model, run_info)
    method = method or default_method(loaded)
    loc_methods = tuple(dict.fromkeys((method, "random")))
    run_steps = (1 + len(loc_methods)) if run_info is not None else 0
    step = _Progress(len(inputs) + run_steps, show_progress, progress)
    try:
        explainer = explainer or create_explainer(method, loaded.model, loaded.card)
        faces, more_skipped = _sample_faces(
            inputs, loaded, explainer, region_names, fill, max_faces, faithfulness_steps, detector, step
        )
        skipped += more_skipped
        if not faces:
            details = "; ".join(f"{s.name}: {s.reason}" for s in skipped)
            raise ReportError(MSG_NO_FACE.format(n=len(inputs), details=details))
        data = ReportData(
            created=datetime.now().astimezone(),
            model_name=loaded.name,
            card=loaded.card,
            num_parameters=sum(p.numel() for p in loaded.model.parameters()),
            method=method,
            regions=region_names,
            fill=fill,
            max_faces=max_faces,
            faces=faces,
            skipped=skipped,
        )
        if run_info is not None:
            data.run = run_summary(run_info)
            if not is_runs_model(loaded, run_info):
                data.notes.append(
                    f"The fairness and planted-truth figures describe the run's own model "
                    f"({data.run.model_name}); the sample faces are explained by {loaded.name}."
                )
            data.fairness = fairness_section(run_info, fairness_attributes, n_boot, num_permutations, reuse_evaluation)
            step.advance(desc="fairness")
            base = step.done
            data.localisation = localisation_section(
                run_info,
                loaded,
                loc_methods,
                localisation_limit,
                progress=lambda d, t: step.advance(base + d - step.done, desc="planted truth"),
            )
            step.advance(step.total - step.done)
        return data
    finally:
        step.close()
