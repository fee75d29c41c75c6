"""The explanation atlas (Spectral Relevance Analysis, SpRAy): cluster one class's heatmaps across a dataset to find
the different strategies the model uses for it, and flag the ones that look like shortcuts ("Clever Hans").

Every face's LRP map for the class is pooled to 16 x 16 and divided by its largest absolute value. The affinity is a
k-nearest-neighbour graph of those maps (Euclidean, k = round(log2 n) + 5, made symmetric); the number of clusters
is where the eigengap of the graph's normalised Laplacian is largest, between 2 and 8; spectral clustering on that
graph (scikit-learn, QR assignment: deterministic) gives the clusters, t-SNE (scikit-learn) the 2-D picture.

A cluster is flagged when its maps lie mostly outside the face's features (under half of the positive relevance
inside the eyes, brows, nose, mouth, cheeks and forehead, and 5 points less than on the class's other faces), or when
one group of a sensitive attribute dominates it (at least 80 % of its faces and 25 points more than among all the
class's faces). Each flag comes with a sentence.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .._utils.progress import ProgressFn
from ..batch.engine import EngineOptions, options_for, run_job
from ..batch.jobs import AtlasJob
from ..data.manifest_faces import ManifestScan, scan_manifest
from ..data.pool import pool_table
from ..face import FaceDetector, default_detector
from ..models import LoadedModel

__all__ = [
    "AFFINITY",
    "CLUSTER_COUNT",
    "Atlas",
    "AtlasCluster",
    "explanation_atlas",
    "eigengap",
    "knn_affinity",
    "FACE_FEATURES",
]

FACE_FEATURES = "eyes, brows, nose, mouth, cheeks and forehead"
MAX_CLUSTERS = 8
OUTSIDE_SHARE = 0.5  # a cluster is flagged when less than this share of its relevance lies on the face's features
OUTSIDE_MARGIN = 0.05  # ... and at least this much less than on the class's other faces
GROUP_SHARE, GROUP_EXCESS = 0.8, 0.25
MIN_FLAG_SIZE = 5
AFFINITY = "symmetric k-nearest-neighbour graph (Euclidean, k = round(log2 n) + 5) of the 16 x 16 max-normalised maps"
CLUSTER_COUNT = "largest eigengap of the normalised graph Laplacian, 2 to 8 clusters"


@dataclass
class AtlasCluster:
    """One cluster: its faces' ``rows``, mean map, share of relevance on the face's features, true-label purity,
    group shares per attribute, and the flags (plain sentences; empty when nothing looks wrong)."""

    id: int
    rows: list[int]
    mean_heatmap: np.ndarray
    inside_share: float
    label_purity: dict[str, float]
    groups: dict[str, dict[str, float]]
    flags: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.rows)

    @property
    def flagged(self) -> bool:
        return bool(self.flags)

    def to_json(self) -> dict:
        return {
            "id": self.id,
            "size": self.size,
            "inside_share": self.inside_share,
            "label_purity": self.label_purity,
            "groups": self.groups,
            "flags": self.flags,
            "rows": self.rows,
        }


@dataclass
class Atlas:
    """The atlas of one class: ``faces`` (one row per face of the class: ``row``, ``path``, ``label``, ``pred``,
    ``p_class``, ``inside``, the group columns, ``cluster``, ``x``, ``y``), the clusters, the eigenvalues the count
    was chosen from, each face's concept relevance at ``layer`` (``concepts``, rows as ``faces``), and whether the
    images were aligned crops (``aligned``: how a face is found again)."""

    model: str
    label: str
    selection: str
    faces: pd.DataFrame
    clusters: list[AtlasCluster]
    eigenvalues: list[float]
    layer: str | None
    concepts: np.ndarray | None
    group_by: list[str]
    n_rows: int
    no_face: list[str] = field(default_factory=list)
    aligned: bool = False

    @property
    def flagged(self) -> list[AtlasCluster]:
        return [c for c in self.clusters if c.flagged]

    def top_concepts(self, k: int = 8, rows: Sequence[int] | None = None) -> list[tuple[int, float]]:
        """The class's ``k`` most relevant channels at ``layer`` over the atlas's faces (or the given manifest rows),
        with their mean share of the layer's absolute relevance."""
        if self.concepts is None or not len(self.concepts):
            return []
        keep = np.ones(len(self.faces), bool) if rows is None else self.faces["row"].isin(list(rows)).to_numpy()
        r = self.concepts[keep]
        share = r / np.maximum(np.abs(r).sum(1, keepdims=True), 1e-12)
        mean = share.mean(0)
        order = np.argsort(-mean)[:k]
        return [(int(c), float(mean[c])) for c in order]

    def to_json(self) -> dict:
        return {
            "model": self.model,
            "label": self.label,
            "faces": self.selection,
            "n_faces": len(self.faces),
            "n_rows": self.n_rows,
            "affinity": AFFINITY,
            "number_of_clusters": CLUSTER_COUNT,
            "eigenvalues": self.eigenvalues,
            "clusters": [c.to_json() for c in self.clusters],
            "flagged": [c.id for c in self.flagged],
            "layer": self.layer,
            "top_concepts": [{"channel": c, "share": s} for c, s in self.top_concepts()],
            "no_face": self.no_face,
        }


def normalised_maps(small: np.ndarray) -> np.ndarray:
    """(N, s, s) maps -> (N, s * s), each divided by its largest absolute value (an all-zero map stays zero)."""
    flat = np.asarray(small, dtype=np.float64).reshape(len(small), -1)
    scale = np.abs(flat).max(1, keepdims=True)
    return flat / np.where(scale > 0, scale, 1.0)


def knn_affinity(x: np.ndarray, k: int | None = None):
    """A symmetric 0/1 k-nearest-neighbour graph (scipy sparse) of the rows of ``x``; k = round(log2 n) + 5."""
    from sklearn.neighbors import kneighbors_graph

    n = len(x)
    k = min(n - 1, k or round(math.log2(max(n, 2))) + 5)
    g = kneighbors_graph(x, k, mode="connectivity", include_self=False)
    return ((g + g.T) > 0).astype(np.float64)


def eigengap(affinity, max_clusters: int = MAX_CLUSTERS) -> tuple[int, list[float]]:
    """(number of clusters, the smallest eigenvalues of the normalised Laplacian): the count after which the gap
    between consecutive eigenvalues is largest, between 2 and ``max_clusters``."""
    from scipy.sparse import diags
    from scipy.sparse.csgraph import laplacian

    n = affinity.shape[0]
    m = min(max_clusters + 1, n - 1)
    lap = laplacian(affinity, normed=True)
    if n <= 600:
        values = np.linalg.eigvalsh(lap.toarray())[:m]
    else:
        from scipy.sparse.linalg import eigsh

        shifted = diags(np.full(n, 2.0)) - lap  # the largest of 2 - L are the smallest of L
        values = np.sort(2.0 - eigsh(shifted, k=m, which="LA", tol=1e-6, v0=np.ones(n))[0])
    values = np.clip(values, 0.0, None)
    gaps = np.diff(values)
    counts = np.arange(1, len(values))  # gaps[i] follows the (i + 1)-th eigenvalue
    allowed = (counts >= 2) & (counts <= max_clusters)
    k = int(counts[allowed][np.argmax(gaps[allowed])]) if allowed.any() else 2
    return k, [round(float(v), 6) for v in values]


def _clusters(x: np.ndarray, seed: int, n_clusters: int | None) -> tuple[np.ndarray, list[float]]:
    from sklearn.cluster import SpectralClustering

    affinity = knn_affinity(x)
    k, values = eigengap(affinity)
    k = n_clusters or k
    labels = SpectralClustering(
        n_clusters=k, affinity="precomputed", assign_labels="cluster_qr", random_state=seed
    ).fit_predict(affinity)
    return labels, values


def _embedding(x: np.ndarray, seed: int) -> np.ndarray:
    from sklearn.manifold import TSNE

    if len(x) < 5:
        return np.zeros((len(x), 2))
    perplexity = float(min(30.0, max(2.0, (len(x) - 1) / 3)))
    return TSNE(2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(x)


def _shares(values: pd.Series) -> dict[str, float]:
    counts = values.value_counts(normalize=True)
    return {str(k): round(float(v), 4) for k, v in counts.items()}


def _flags(
    cluster: pd.DataFrame, everyone: pd.DataFrame, inside: float, group_by: Sequence[str], n_total: int
) -> list[str]:
    if len(cluster) < max(MIN_FLAG_SIZE, round(0.02 * n_total)):
        return []
    flags = []
    rest = everyone.loc[~everyone["row"].isin(cluster["row"]), "inside"]
    others = float(np.nanmean(rest)) if rest.notna().any() else float("nan")
    below_others = not others == others or inside <= others - OUTSIDE_MARGIN
    if inside == inside and inside < OUTSIDE_SHARE and below_others:
        flags.append(
            f"only {inside:.0%} of the relevance lies on the face's features ({FACE_FEATURES}): the model may be "
            "deciding these faces by something else in the picture (a mark, the background, the hair)"
        )
    for col in group_by:
        share = cluster[col].astype(str).value_counts(normalize=True)
        top, value = str(share.index[0]), float(share.iloc[0])
        overall = float((everyone[col].astype(str) == top).mean())
        if value >= GROUP_SHARE and value - overall >= GROUP_EXCESS:
            flags.append(
                f"{value:.0%} of these faces are {col} = {top} (against {overall:.0%} of all the class's faces): "
                "one group is decided by its own strategy"
            )
    return flags


def _scan(
    loaded: LoadedModel,
    data: str | Path,
    target: str,
    aligned: bool | None,
    detector: FaceDetector | None,
    columns: Sequence[str],
    limit: int | None,
    seed: int,
) -> ManifestScan:
    """A manifest (labels optional) or a folder of images."""
    if not Path(data).is_dir():
        return scan_manifest(
            loaded, data, target, aligned, detector, columns=columns, limit=limit, seed=seed, require_labels=False
        )
    table, paths = pool_table(data)
    return ManifestScan(
        table=table,
        paths=list(paths),
        truth=np.full(len(table), -1, dtype=np.int64),
        loaded=loaded,
        aligned=bool(aligned),
        detector=None if aligned else (detector or default_detector()),
        root=Path(data),
    )


def explanation_atlas(
    loaded: LoadedModel,
    data: str | Path,
    label: str,
    group_by: Sequence[str] = (),
    faces: str = "predicted",
    layer: str | None = None,
    target: str = "label",
    aligned: bool | None = None,
    detector: FaceDetector | None = None,
    limit: int | None = None,
    n_clusters: int | None = None,
    seed: int = 0,
    engine: EngineOptions | None = None,
    show_progress: bool = False,
    progress: ProgressFn | None = None,
) -> Atlas | None:
    """Explain ``label`` on every face of ``data`` and cluster the maps of the class's faces (see the module).

    Parameters
    ----------
    loaded
        The model (LRP must apply to it).
    data
        A manifest (labels optional) or a folder of images.
    label
        The class whose strategies are mapped.
    group_by
        Manifest columns (sensitive attributes) whose shares are reported per cluster and can flag one.
    faces
        'predicted': the faces the model assigns to ``label``; 'labelled': those whose true label it is; 'all':
        every face (the class's map of each, whatever it was predicted).
    layer
        The concept layer whose channel relevances are kept (default the deepest; see
        :func:`fer_core.explain.concepts.concept_layers`).
    target
        The manifest's true-label column.
    aligned
        The images are aligned crops; otherwise faces are detected.
    detector
        A shared detector for unaligned images.
    limit
        A fixed random sample of that many rows.
    n_clusters
        Force the number of clusters instead of the eigengap's.
    seed
        Seed of the sample, the clustering and the embedding.
    engine
        How the batch engine runs.
    show_progress
        A progress bar over the images.
    progress
        ``progress(done, total)`` after each block.

    Returns
    -------
    Atlas or None
        The atlas; None on the ranks other than 0 of a multi-process job.

    Raises
    ------
    ValueError
        An unknown class or selection, a missing group column, or fewer than 10 faces of the class.
    """
    labels = list(loaded.card.label_names)
    if label not in labels:
        raise ValueError(f"{label!r} is not one of the model's classes: {', '.join(labels)}")
    if faces not in ("predicted", "labelled", "all"):
        raise ValueError(f"faces must be 'predicted', 'labelled' or 'all', got {faces!r}")
    scan = _scan(loaded, data, target, aligned, detector, group_by, limit, seed)
    missing = [c for c in group_by if c not in scan.table.columns]
    if missing:
        raise ValueError(f"{data} has no column(s) {missing}")
    k = labels.index(label)
    job = AtlasJob(loaded, k, layer)
    found = run_job(scan, job, options_for(engine, show_progress), progress)
    if found is None:
        return None
    out = found.outputs
    rows = found.face_rows
    probs = out.get("probs", np.zeros((0, len(labels))))
    truth = scan.truth[rows]
    pred = probs.argmax(1) if len(probs) else np.zeros(0, dtype=int)
    keep = {"predicted": pred == k, "labelled": truth == k, "all": np.ones(len(pred), bool)}[faces]
    if keep.sum() < 10:
        raise ValueError(f"only {int(keep.sum())} faces are {faces} {label!r}; the atlas needs at least 10")
    frame = pd.DataFrame(
        {
            "row": rows[keep],
            "path": [str(scan.paths[i]) for i in rows[keep]],
            "label": [labels[t] if t >= 0 else None for t in truth[keep]],
            "pred": [labels[p] for p in pred[keep]],
            "p_class": probs[keep, k],
            "inside": out["inside"][keep],
        }
    )
    for col in group_by:
        frame[col] = scan.table[col].iloc[rows[keep]].astype(str).to_numpy()
    x = normalised_maps(out["small"][keep])
    assignment, values = _clusters(x, seed, n_clusters)
    xy = _embedding(x, seed)
    frame["cluster"], frame["x"], frame["y"] = assignment, xy[:, 0], xy[:, 1]
    display = out["display"][keep].astype(np.float32)
    clusters = []
    for c in sorted(set(assignment.tolist()), key=lambda c: -int((assignment == c).sum())):
        members = frame[assignment == c]
        inside = float(np.nanmean(members["inside"])) if members["inside"].notna().any() else float("nan")
        purity = _shares(members["label"].dropna()) if members["label"].notna().any() else {}
        groups = {col: _shares(members[col]) for col in group_by}
        clusters.append(
            AtlasCluster(
                id=int(c),
                rows=members["row"].astype(int).tolist(),
                mean_heatmap=display[assignment == c].mean(0),
                inside_share=round(inside, 4),
                label_purity=purity,
                groups=groups,
                flags=_flags(members, frame, inside, group_by, len(frame)),
            )
        )
    return Atlas(
        model=loaded.name,
        label=label,
        selection=faces,
        faces=frame,
        clusters=clusters,
        eigenvalues=values,
        layer=job.layer,
        concepts=out["concepts"][keep] if "concepts" in out else None,
        group_by=list(group_by),
        n_rows=scan.n,
        no_face=scan.no_face,
        aligned=scan.aligned,
    )
