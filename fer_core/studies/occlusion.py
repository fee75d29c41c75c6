"""Dataset-level occlusion study: for every face, region and fill, the drop of each class's probability,
aggregated per true class, region and group with bootstrap intervals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .._utils.bootstrap import cluster_ids, grouped_means, table_records
from .._utils.progress import ProgressFn
from ..batch.engine import EngineOptions, options_for, run_job
from ..batch.jobs import OcclusionJob
from ..data.manifest_faces import scan_manifest
from ..explain.regions import FILLS
from ..face import FaceDetector, parse_regions
from ..models import LoadedModel

__all__ = ["OcclusionStudy", "occlusion_study"]

DEFAULT_REGIONS = ("eyes", "mouth", "brows", "nose")


@dataclass
class OcclusionStudy:
    """Probabilities of every face intact (``base``, N x K) and occluded (``occluded``, N x R x F x K)."""

    model: str
    labels: tuple[str, ...]
    regions: list[str]
    fills: list[str]
    faces: pd.DataFrame  # one row per face: row, path, label, pred and the group columns
    base: np.ndarray
    occluded: np.ndarray
    group_by: list[str]
    n_rows: int
    no_face: list[str] = field(default_factory=list)
    unreadable: list[dict] = field(default_factory=list)
    resampled: str = "rows"  # what the intervals resample: the faces' ``cluster`` column (subjects or images)
    batch_size: int = 64
    _tables: dict = field(default_factory=dict, init=False, repr=False, compare=False)  # table() results, by args

    def _cluster(self) -> str | None:
        return "cluster" if "cluster" in self.faces.columns else None

    def long(self) -> pd.DataFrame:
        """One row per face x region x fill: the true class's probability before and after, its ``drop``, whether
        the prediction was right before and after, and ``drop_<class>`` for every class."""
        n, r, f, k = self.occluded.shape
        truth = self.faces["truth"].to_numpy()
        face_idx = np.repeat(np.arange(n), r * f)
        reg = np.tile(np.repeat(np.arange(r), f), n)
        fil = np.tile(np.arange(f), n * r)
        occ = self.occluded.reshape(n * r * f, k)
        before = self.base[face_idx]
        t = truth[face_idx]
        out = self.faces.iloc[face_idx].reset_index(drop=True).drop(columns=["truth"])
        out["region"] = np.asarray(self.regions)[reg]
        out["fill"] = np.asarray(self.fills)[fil]
        rows = np.arange(len(t))
        out["p_before"] = before[rows, t]
        out["p_after"] = occ[rows, t]
        out["drop"] = out["p_before"] - out["p_after"]
        out["correct_before"] = (before.argmax(1) == t).astype(float)
        out["correct_after"] = (occ.argmax(1) == t).astype(float)
        out["flipped"] = (before.argmax(1) != occ.argmax(1)).astype(float)
        for j, lab in enumerate(self.labels):
            out[f"drop_{lab}"] = before[:, j] - occ[:, j]
        return out

    def table(self, by: Sequence[str] = ("label",), n_boot: int = 1000, ci: float = 0.95) -> pd.DataFrame:
        """Mean drop of the true class's probability (with interval), accuracy before / after and the share of
        flipped predictions, per ``by`` x region x fill. ``by=()`` gives one row per region and fill.

        Computed once per argument set (bootstrapping is the slow part), so reading the tables again, e.g. for
        :meth:`to_json` after drawing them, costs a copy."""
        key = (tuple(by), int(n_boot), float(ci))
        if key not in self._tables:
            cols = ["drop", "correct_before", "correct_after", "flipped"]
            self._tables[key] = grouped_means(
                self.long(), [*by, "region", "fill"], cols, n_boot, ci, cluster=self._cluster()
            )
        return self._tables[key].copy()

    @property
    def num_skipped(self) -> int:
        """Manifest rows without a usable face (none found, or an unreadable image)."""
        return len(self.no_face) + len(self.unreadable)

    def to_json(self, n_boot: int = 1000) -> dict:
        return {
            "model": self.model,
            "n": self.n_rows,
            "n_faces": len(self.faces),
            "regions": self.regions,
            "fills": self.fills,
            "labels": list(self.labels),
            "measure": "drop of the true class's probability when the region is hidden (mean, 95% bootstrap CI)",
            "intervals": {"resampled": self.resampled},
            "overall": table_records(self.table((), n_boot)),
            "by_class": table_records(self.table(("label",), n_boot)),
            "by_group": {a: table_records(self.table((a,), n_boot)) for a in self.group_by},
            "no_face": self.no_face,
            "unreadable": self.unreadable,
        }


def occlusion_study(
    loaded: LoadedModel,
    manifest: str | Path,
    regions: str | Sequence[str] = DEFAULT_REGIONS,
    fills: str | Sequence[str] = ("mean",),
    group_by: Sequence[str] = (),
    target: str = "label",
    aligned: bool | None = None,
    detector: FaceDetector | None = None,
    limit: int | None = None,
    batch_size: int = 64,
    chunk: int = 256,
    seed: int = 0,
    show_progress: bool = False,
    progress: ProgressFn | None = None,
    engine: EngineOptions | None = None,
    landmarker: str | None = None,
) -> OcclusionStudy | None:
    """Hide every region of every face of ``manifest`` with every fill and record all class probabilities.

    The manifest, the regions and the fills are checked before any image is read; faces are loaded, occluded and
    classified ``chunk`` at a time, so memory stays flat on large sets. Rows without a usable face (none found, or
    an unreadable image) are skipped and listed in ``no_face`` / ``unreadable``. Besides a bad fill, an unknown
    region raises ValueError, and a missing column or a label that is not one of the model's a
    :class:`~fer_core.errors.DatasetError`.

    Parameters
    ----------
    loaded
        The model and its card (classes, input size, alignment template).
    manifest
        A labelled manifest: one row per image, with the true class in ``target``.
    regions
        Face regions to hide, one at a time (names or a comma-separated string).
    fills
        What replaces a hidden region (names of ``FILLS`` or a comma-separated string); every region is tried with
        every fill.
    group_by
        Manifest columns (e.g. demographic attributes) kept per face, as strings, so the tables can be split by them.
    target
        The manifest column holding the true class, whose probability drop the tables report.
    aligned
        The images are aligned crops (resized only); otherwise the largest face is detected and aligned.
    detector
        A shared face detector for unaligned images; None uses the process-wide default.
    limit
        Keep a fixed random sample of that many rows (drawn by ``seed``); None keeps every row.
    batch_size
        Occluded variants per forward pass.
    chunk
        Faces loaded, occluded and classified at a time.
    seed
        Seed of the ``limit`` sample and of the noise fill (each face's noise depends on the seed and its row only).
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
    OcclusionStudy
        Every face's class probabilities intact (``base``) and occluded (``occluded``); ``.table()`` aggregates the
        drops with bootstrap intervals, ``.to_json()`` gives the report.

    Raises
    ------
    ValueError
        An unknown fill, or no fill at all.
    """
    names = parse_regions(list(regions) if not isinstance(regions, str) else regions)
    fill_list = [s.strip() for s in fills.split(",")] if isinstance(fills, str) else list(fills)
    bad = [f for f in fill_list if f not in FILLS]
    if bad or not fill_list:
        raise ValueError(f"unknown fill(s) {bad or fill_list}; choose from {', '.join(FILLS)}")
    scan = scan_manifest(
        loaded, manifest, target, aligned, detector, columns=group_by, limit=limit, seed=seed, landmarker=landmarker
    )
    options = options_for(engine, show_progress, block=chunk)
    found = run_job(scan, OcclusionJob(loaded, names, fill_list, batch_size, seed), options, progress)
    if found is None:  # a rank other than 0 of a multi-process job: rank 0 reports
        return None
    k = loaded.card.num_classes
    rows = found.face_rows
    base = found.outputs.get("base", np.zeros((0, k)))
    labels = loaded.card.label_names
    faces = pd.DataFrame(
        {
            "row": rows,
            "path": [str(scan.paths[i]) for i in rows],
            "truth": scan.truth[rows],
            "label": [labels[t] for t in scan.truth[rows]],
            "pred": [labels[p] for p in base.argmax(1)],
        }
    )
    for col in group_by:
        faces[col] = scan.table[col].iloc[rows].astype(str).to_numpy()
    clusters, kind = cluster_ids(scan.table, scan.paths)
    faces["cluster"] = clusters[rows]
    return OcclusionStudy(
        model=loaded.name,
        labels=labels,
        regions=names,
        fills=fill_list,
        faces=faces,
        base=base,
        occluded=found.outputs.get("occluded", np.zeros((0, len(names), len(fill_list), k))),
        group_by=list(group_by),
        n_rows=scan.n,
        no_face=scan.no_face,
        unreadable=scan.unreadable,
        resampled=kind,
        batch_size=batch_size,
    )
