"""Region relevance by group: the share of each heatmap's positive relevance per face region, for the predicted
class, aggregated per demographic group and predicted class, with a permutation test of whether groups differ."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .._utils.bootstrap import cluster_ids, grouped_means, table_records
from .._utils.progress import ProgressFn
from ..batch.engine import EngineOptions, options_for, run_job
from ..batch.jobs import RegionShareJob
from ..data.manifest_faces import scan_manifest
from ..explain.region_relevance import compare_groups
from ..face import FaceDetector, parse_regions
from ..models import LoadedModel

__all__ = ["RegionRelevanceStudy", "SHARE_REGIONS", "region_relevance_study"]

SHARE_REGIONS = ("eyes", "brows", "nose", "mouth", "cheeks", "forehead")


@dataclass
class RegionRelevanceStudy:
    """``shares[n, r]``: share of face n's positive relevance (for its predicted class) inside region r."""

    model: str
    method: str
    labels: tuple[str, ...]
    regions: list[str]
    faces: pd.DataFrame  # row, path, label, pred and the group columns
    shares: np.ndarray
    group_by: list[str]
    n_rows: int
    no_face: list[str] = field(default_factory=list)
    unreadable: list[dict] = field(default_factory=list)
    resampled: str = "rows"  # what the intervals resample: the faces' ``cluster`` column (subjects or images)
    _cache: dict = field(default_factory=dict, init=False, repr=False, compare=False)  # tables and tests, by args

    def _cluster(self) -> str | None:
        return "cluster" if "cluster" in self.faces.columns else None

    def frame(self) -> pd.DataFrame:
        return pd.concat([self.faces.reset_index(drop=True), pd.DataFrame(self.shares, columns=self.regions)], axis=1)

    def table(self, attribute: str, by_class: bool = True, n_boot: int = 1000, ci: float = 0.95) -> pd.DataFrame:
        """Mean share per region (with interval) for each group of ``attribute`` (and predicted class); computed
        once per argument set."""
        key = ("table", attribute, bool(by_class), int(n_boot), float(ci))
        if key not in self._cache:
            frame = self.frame().dropna(subset=self.regions)
            by = [attribute, "pred"] if by_class else [attribute]
            self._cache[key] = grouped_means(frame, by, self.regions, n_boot, ci, cluster=self._cluster())
        return self._cache[key].copy()

    def test(self, attribute: str, num_permutations: int = 1000, seed: int = 0) -> dict:
        """Do the groups of ``attribute`` differ in where the relevance lies, within predicted classes? (Computed
        once per argument set.)"""
        key = ("test", attribute, int(num_permutations), int(seed))
        if key not in self._cache:
            self._cache[key] = compare_groups(
                self.shares, self.faces[attribute].to_numpy(), self.faces["pred"].to_numpy(), num_permutations, seed
            ) | {"regions": self.regions, "strata": "predicted class"}
        return copy.deepcopy(self._cache[key])

    def differing_regions(self, attribute: str, alpha: float = 0.05, num_permutations: int = 1000) -> list[str]:
        """The regions whose own permutation p-value is below ``alpha`` (not corrected for multiple testing)."""
        p_values = self.test(attribute, num_permutations).get("region_p_values") or []
        return [r for r, p in zip(self.regions, p_values) if p < alpha]

    def verdict(self, attribute: str, alpha: float = 0.05, num_permutations: int = 1000) -> str | None:
        """One sentence on whether the groups of ``attribute`` look at different regions, or None when there are not
        two groups to compare."""
        p = self.test(attribute, num_permutations).get("p_value")
        if p is None:
            return None
        if p < alpha:
            return (
                f"groups differ (p = {p:.3f}), most in: "
                f"{', '.join(self.differing_regions(attribute, alpha, num_permutations))}"
            )
        return f"no evidence that groups differ (p = {p:.3f})"

    def to_json(self, n_boot: int = 1000, num_permutations: int = 1000) -> dict:
        return {
            "model": self.model,
            "method": self.method,
            "n": self.n_rows,
            "n_faces": len(self.faces),
            "regions": self.regions,
            "measure": "share of the predicted class's positive relevance inside each region (mean, 95% bootstrap CI)",
            "intervals": {"resampled": self.resampled},
            "attributes": {
                a: {
                    "by_group": table_records(self.table(a, False, n_boot)),
                    "by_group_and_class": table_records(self.table(a, True, n_boot)),
                    "test": self.test(a, num_permutations),
                }
                for a in self.group_by
            },
            "no_face": self.no_face,
            "unreadable": self.unreadable,
        }


def region_relevance_study(
    loaded: LoadedModel,
    manifest: str | Path,
    group_by: Sequence[str],
    method: str = "lrp",
    regions: str | Sequence[str] = SHARE_REGIONS,
    target: str = "label",
    aligned: bool | None = None,
    detector: FaceDetector | None = None,
    limit: int | None = None,
    batch_size: int = 32,
    chunk: int = 256,
    seed: int = 0,
    show_progress: bool = False,
    progress: ProgressFn | None = None,
    engine: EngineOptions | None = None,
    landmarker: str | None = None,
) -> RegionRelevanceStudy | None:
    """Heatmaps of the predicted class for every face (``limit``: a fixed random sample of rows) and their
    region shares, plus the share ``elsewhere`` (outside every named region: hair, jaw, background).

    The manifest and the regions are checked before any image is read; faces are loaded and explained ``chunk`` at a
    time. Rows without a usable face (none found, or an unreadable image) are skipped and listed in ``no_face`` /
    ``unreadable``. An unknown region or method raises ValueError, and a missing column or a label that is not one
    of the model's a :class:`~fer_core.errors.DatasetError`.

    Parameters
    ----------
    loaded
        The model and its card (classes, input size, alignment template).
    manifest
        A labelled manifest: one row per image, with the true class in ``target``.
    group_by
        Manifest columns (e.g. demographic attributes) whose groups are compared, at least one; kept per face as
        strings.
    method
        An explanation method of :data:`fer_core.explain.METHODS`.
    regions
        Face regions to measure (names or a comma-separated string).
    target
        The manifest column holding the true class (kept as ``label``; the heatmaps explain the predicted class).
    aligned
        The images are aligned crops (resized only); otherwise the largest face is detected and aligned.
    detector
        A shared face detector for unaligned images; None uses the process-wide default.
    limit
        Keep a fixed random sample of that many rows (drawn by ``seed``); None keeps every row.
    batch_size
        Faces per explainer pass.
    chunk
        Faces loaded and explained at a time.
    seed
        Seed of the ``limit`` sample.
    show_progress
        Show a progress bar over the faces.
    progress
        ``callback(done, total)`` after each block of manifest rows.
    engine
        How the batch engine runs (loader workers, devices, nodes, shard folder); None: in this process, blocks of
        ``chunk`` rows.
    landmarker
        How faces are landmarked (:data:`fer_core.face.LANDMARKERS` or ``auto``); None: MTCNN's 5 points, or the
        468-point mesh when a group column is ``pose_bin`` (each face's head pose bin, measured by the mesh).

    Returns
    -------
    RegionRelevanceStudy
        Every face's region shares (``shares``, one column per region and ``elsewhere``); ``.table()`` aggregates
        them per group with bootstrap intervals, ``.test()`` tests whether the groups differ.

    Raises
    ------
    ValueError
        No ``group_by`` column.
    """
    if not group_by:
        raise ValueError("name at least one group column (group_by) to compare groups")
    names = parse_regions(list(regions) if not isinstance(regions, str) else regions)
    scan = scan_manifest(
        loaded,
        manifest,
        target,
        aligned,
        detector,
        columns=group_by,
        limit=limit,
        seed=seed,
        require_labels=False,
        landmarker=landmarker,
    )
    options = options_for(engine, show_progress, block=chunk)
    found = run_job(scan, RegionShareJob(loaded, method, names, batch_size), options, progress)
    if found is None:  # a rank other than 0 of a multi-process job: rank 0 reports
        return None
    labels = loaded.card.label_names
    rows = found.face_rows
    pred = found.outputs.get("pred", np.zeros(0, dtype=np.int64))
    faces = pd.DataFrame(
        {
            "row": rows,
            "path": [str(scan.paths[i]) for i in rows],
            "label": [labels[t] if t >= 0 else None for t in scan.truth[rows]],
            "pred": [labels[p] for p in pred],
        }
    )
    for col in group_by:
        faces[col] = scan.table[col].iloc[rows].astype(str).to_numpy()
    clusters, kind = cluster_ids(scan.table, scan.paths)
    faces["cluster"] = clusters[rows]
    return RegionRelevanceStudy(
        model=loaded.name,
        method=method,
        labels=labels,
        regions=[*names, "elsewhere"],
        faces=faces,
        shares=found.outputs.get("shares", np.zeros((0, len(names) + 1))),
        group_by=list(group_by),
        n_rows=scan.n,
        no_face=scan.no_face,
        unreadable=scan.unreadable,
        resampled=kind,
    )
