"""What a stakeholder report holds: plain data gathered from fer_core's public functions, no rendering."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from ..models import ModelCard
from ..workflows import FaceResult

__all__ = ["FairnessSection", "LocalisationSection", "ReportData", "RunSummary", "SampleFace", "SkippedInput"]


@dataclass(frozen=True)
class SkippedInput:
    """An input the report could not use, and why (unreadable, no face, over the face cap, not an image)."""

    name: str
    reason: str


@dataclass
class SampleFace:
    """One face of a user's image: its explanation, occlusion test and faithfulness figures.

    ``occlusion`` is :meth:`~fer_core.workflows.FaceOcclusion.to_json` of one face of
    :func:`fer_core.workflows.occlude_faces`; ``faithfulness`` is the output of
    :func:`fer_core.workflows.face_faithfulness` for the predicted class.
    """

    source: str
    face_index: int
    num_faces_in_image: int
    result: FaceResult
    occlusion: dict[str, Any]
    faithfulness: dict[str, Any]

    @property
    def title(self) -> str:
        """The user's file name, with the face number when the image held several faces."""
        return self.source if self.num_faces_in_image == 1 else f"{self.source} (face {self.face_index + 1})"

    @property
    def pred(self) -> str:
        """The predicted class (highest probability of the intact face in the occlusion test)."""
        base = self.occlusion["base"]
        return max(base, key=base.get)

    @property
    def base_probability(self) -> float:
        return float(self.occlusion["base"][self.pred])

    def occlusion_change(self) -> dict[str, float]:
        """Per region: probability of the predicted class with the region hidden minus intact (negative = drop)."""
        base = self.occlusion["base"][self.pred]
        return {r: float(probs[self.pred] - base) for r, probs in self.occlusion["occluded"].items()}


@dataclass
class RunSummary:
    """A training run: its name, recipe, status, test figures and the config lines a manager may want to see."""

    name: str
    folder: str
    model_name: str
    recipe: str
    status: str
    config_rows: list[tuple[str, str]]
    test_accuracy: float | None = None
    test_macro_f1: float | None = None


@dataclass
class FairnessSection:
    """A fairness report (the dict of :func:`fer_core.fairness.report.fairness_report`) on a run's test set.

    ``source`` says where the numbers come from: the run's ``evaluation.json`` (written at training time by the same
    function on the same predictions and embeddings) or ``"computed"`` (fairness_report called now); ``reason``
    says why there is no report when ``report`` is None.
    """

    run_name: str
    source: str = ""
    report: dict[str, Any] | None = None
    reason: str | None = None

    @property
    def attributes(self) -> list[str]:
        return list((self.report or {}).get("attributes", {}))


@dataclass
class LocalisationSection:
    """The planted-truth localisation benchmark on a run's SynthFACS test faces, or why it was not run."""

    run_name: str
    result: dict[str, Any] | None = None
    reason: str | None = None


@dataclass
class ReportData:
    """Everything a report shows, gathered by :func:`fer_core.report.build_report`."""

    created: datetime
    model_name: str
    card: ModelCard
    num_parameters: int
    method: str
    regions: tuple[str, ...]
    fill: str
    max_faces: int
    faces: list[SampleFace]
    skipped: list[SkippedInput] = field(default_factory=list)
    run: RunSummary | None = None
    fairness: FairnessSection | None = None
    localisation: LocalisationSection | None = None
    notes: list[str] = field(default_factory=list)

    def occlusion_mean(self) -> dict[str, float]:
        """Mean over the sample faces of :meth:`SampleFace.occlusion_change` (each face's own predicted class)."""
        if not self.faces:
            return {r: float("nan") for r in self.regions}
        changes = [f.occlusion_change() for f in self.faces]
        return {r: float(np.mean([c[r] for c in changes])) for r in self.regions}
