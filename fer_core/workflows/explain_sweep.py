"""Explain a whole dataset: every face's scores, every class's heatmap and where the predicted class's evidence
lies, through the batch engine (loader workers; devices and nodes on Lightning; resumable shards).

``explain_dataset`` is ``fer-core explain --data MANIFEST_OR_FOLDER --out DIR``. ``DIR`` keeps the shards (the maps,
float16) and ``faces.csv``: one row per image with its status, prediction, probabilities and region shares;
:func:`read_sweep` reads both back (the maps of any face by its row).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from .._utils.progress import ProgressFn
from ..batch.engine import EngineOptions, options_for, run_job
from ..batch.jobs import ExplainJob
from ..batch.shards import job_settings, read_row, read_shards
from ..data.manifest_faces import ManifestScan
from ..data.pool import pool_table
from ..face import FaceDetector, default_detector, pose_bins, resolve_landmarker
from ..models import LoadedModel
from ..taxonomy import FACE_REGIONS

__all__ = ["SweepResult", "explain_dataset", "read_sweep"]

FACES_FILE = "faces.csv"
SHARDS = "shards"


@dataclass
class SweepResult:
    """``faces``: one row per image (``row``, ``path``, ``status``, ``pred``, ``p_<class>``, ``share_<region>``);
    the heatmaps stay in the shards of ``folder`` (a million faces' maps do not fit in memory): :meth:`heatmaps_of`
    reads one face's."""

    faces: pd.DataFrame
    labels: tuple[str, ...]
    folder: Path
    method: str = "lrp"

    def heatmaps_of(self, row: int) -> np.ndarray:
        """The (K, H, W) maps of manifest row ``row`` (KeyError when that row had no face)."""
        if row not in self.faces.index or pd.isna(self.faces.loc[row, "pred"]):
            status = self.faces.loc[row, "status"] if row in self.faces.index else "no such row"
            raise KeyError(f"row {row} has no face ({status})")
        shards = self.folder / SHARDS
        block = int(job_settings(shards)["block"])
        return read_row(shards, row // block, row, "heatmaps").astype(np.float32)

    def summary(self) -> pd.DataFrame:
        """Mean share of the predicted class's relevance per region, by predicted class (the faces found)."""
        cols = [c for c in self.faces.columns if c.startswith("share_")]
        found = self.faces[self.faces["pred"].notna()]
        out = found.groupby("pred")[cols].mean()
        out.insert(0, "n", found.groupby("pred").size())
        return out


def explain_dataset(
    loaded: LoadedModel,
    data: str | Path,
    out: str | Path,
    method: str = "lrp",
    aligned: bool | None = None,
    detector: FaceDetector | None = None,
    engine: EngineOptions | None = None,
    show_progress: bool = False,
    progress: ProgressFn | None = None,
    landmarker: str = "mtcnn5",
) -> SweepResult | None:
    """Explain every image of ``data`` (a manifest or a folder of images) into ``out``; re-running the same sweep
    into the same folder resumes it. None on the ranks other than 0 of a multi-process job.

    Parameters
    ----------
    loaded
        The model; ``method`` must apply to it (:func:`fer_core.explain.method_support`).
    data
        A manifest (a ``path`` column; labels optional) or a folder searched recursively for images.
    out
        Output folder: ``shards/`` (Parquet, one file per block) and ``faces.csv``.
    method
        Attribution method; every class of every face is explained.
    aligned
        The images are aligned crops (resized only); otherwise the largest face of each image is detected.
    detector
        A shared detector for unaligned images.
    engine
        Workers, devices, nodes, strategy, block size; its ``out`` is set to ``out/shards``.
    show_progress
        A progress bar over the images.
    progress
        ``progress(done, total)`` after each block (in-process).
    landmarker
        ``mtcnn5`` (default: faster), ``mesh468`` or ``auto``: with the mesh the region shares use the face's own
        outlines and ``faces.csv`` gains each face's ``yaw``, ``pitch``, ``roll`` and ``pose_bin``.

    Returns
    -------
    SweepResult or None
        Every image's row of ``faces.csv`` and the maps of the faces found; None on the ranks other than 0.
    """
    table, paths = pool_table(data)
    scan = ManifestScan(
        table=table,
        paths=list(paths),
        truth=np.full(len(table), -1, dtype=np.int64),
        loaded=loaded,
        aligned=bool(aligned),
        detector=None if aligned else (detector or default_detector()),
        root=Path(data) if Path(data).is_dir() else Path(data).parent,
        landmarker=resolve_landmarker(landmarker),
    )
    # the sweep keeps its shards in out/ and reads its table back from them; the maps stay on disk
    options = replace(options_for(engine, show_progress), out=Path(out) / SHARDS, keep=())
    job = ExplainJob(loaded, method)
    if run_job(scan, job, options, progress) is None:
        return None
    result = read_sweep(out, loaded.card.label_names, paths, method)
    result.faces.to_csv(Path(out) / FACES_FILE, index=False)
    return result


def read_sweep(
    out: str | Path, labels: tuple[str, ...], paths: list[Path] | None = None, method: str = "lrp"
) -> SweepResult:
    """The sweep in ``out`` as a :class:`SweepResult` (from its shards)."""
    rows, status, errors, outputs, face_rows = read_shards(Path(out) / SHARDS, ("probs", "region_shares", "pose"))
    faces = pd.DataFrame({"row": rows, "status": status, "error": errors})
    if paths is not None:
        faces.insert(1, "path", [str(paths[r]) for r in rows])
    faces = faces.set_index("row", drop=False)
    faces.index.name = None
    probs = outputs.get("probs", np.zeros((0, len(labels))))
    shares = outputs.get("region_shares", np.zeros((0, len(FACE_REGIONS) + 1)))
    faces["pred"] = pd.Series([labels[k] for k in probs.argmax(1)], index=face_rows, dtype=object)
    for j, lab in enumerate(labels):
        faces[f"p_{lab}"] = pd.Series(probs[:, j], index=face_rows)
    for j, region in enumerate([*FACE_REGIONS, "elsewhere"]):
        faces[f"share_{region}"] = pd.Series(shares[:, j], index=face_rows)
    if "pose" in outputs:  # a mesh sweep: each face's head pose
        for j, angle in enumerate(("yaw", "pitch", "roll")):
            faces[angle] = pd.Series(outputs["pose"][:, j], index=face_rows).round(1)
        faces["pose_bin"] = pose_bins(faces[["yaw", "pitch", "roll"]].to_numpy())
    return SweepResult(faces, tuple(labels), Path(out), method)
