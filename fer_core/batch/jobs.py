"""What the batch engine computes on each block of faces. A job is small and picklable-free of state that a rank
could not rebuild: it names its outputs, and ``run`` maps a list of aligned faces to arrays with one row per face.

- :class:`ClassifyJob`: class scores and, where the model exposes them, penultimate embeddings (``evaluate``,
  ``pseudo-label``, ``probe``).
- :class:`ExplainJob`: scores, every output's heatmap and the predicted class's share of relevance per face region
  (``fer-core explain --data``).
- :class:`OcclusionJob`: scores intact and with each region hidden by each fill (``occlusion-study``).
- :class:`RegionShareJob`: the predicted class and its share of relevance per region (``region-relevance``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import torch

from ..face import Face
from ..models import LoadedModel
from ..models.preprocess import to_model_input
from ..models.runtime import model_device, model_dtype
from ..taxonomy import FACE_REGIONS

__all__ = ["AtlasJob", "ClassifyJob", "ExplainJob", "FaceJob", "OcclusionJob", "RegionShareJob", "embed_crops"]

#: faces per model call: the fastest batch of the shipped model on a 2-core CPU (512 runs at half the speed)
MODEL_BATCH = 64


class FaceJob(Protocol):
    """The engine's contract: ``module`` (what the engine moves to a rank's device), ``describe()`` (what makes two
    runs the same job, for resuming) and ``run(faces, rows)`` -> ``{output: (len(faces), ...) array}`` (``rows``: the
    faces' manifest rows, for what must depend on the row and nothing else, such as a noise fill's seed)."""

    loaded: LoadedModel

    @property
    def module(self) -> torch.nn.Module: ...

    def describe(self) -> dict: ...

    def run(self, faces: Sequence[Face], rows: np.ndarray) -> dict[str, np.ndarray]: ...


@torch.no_grad()
def embed_crops(
    loaded: LoadedModel, crops: Sequence[np.ndarray], batch_size: int = MODEL_BATCH
) -> tuple[np.ndarray, np.ndarray | None]:
    """(probabilities, penultimate embeddings or None) for RGB uint8 crops, in batches of ``batch_size``."""
    model = loaded.model.eval()
    dtype, device = model_dtype(model), model_device(model)
    has_embed = hasattr(model, "forward_features") and hasattr(model, "forward_head")
    probs, embs = [], []
    for i in range(0, len(crops), batch_size):
        x = to_model_input(crops[i : i + batch_size], loaded.card).to(device, dtype)
        if has_embed:
            feats = model.forward_features(x)
            embs.append(model.forward_head(feats, pre_logits=True).float().cpu().numpy())
            logits = model.forward_head(feats)
        else:
            logits = model(x)
        probs.append(loaded.card.probabilities(logits.double().cpu()).numpy())
    k = loaded.card.num_classes
    return (np.concatenate(probs) if probs else np.zeros((0, k)), np.concatenate(embs) if embs else None)


def region_masks(faces: Sequence[Face], names: Sequence[str]) -> np.ndarray:
    """(N, R + 1, H, W) each face's masks of ``names`` and, last, ``elsewhere``: outside every one of them."""
    masks = np.stack([np.stack([f.regions[name] for name in names]) for f in faces])
    return np.concatenate([masks, ~masks.any(1, keepdims=True)], 1)


class ClassifyJob:
    """Scores (``probs``, the card's output kind) and embeddings (``embedding``, when the model has them)."""

    def __init__(self, loaded: LoadedModel, batch_size: int = MODEL_BATCH, embeddings: bool = True) -> None:
        self.loaded, self.batch_size, self.embeddings = loaded, int(batch_size), bool(embeddings)

    def describe(self) -> dict:
        return {"job": "classify", "batch_size": self.batch_size, "embeddings": self.embeddings}

    @property
    def module(self) -> torch.nn.Module:
        """What runs on the rank's device: the model."""
        return self.loaded.model

    def run(self, faces: Sequence[Face], rows: np.ndarray) -> dict[str, np.ndarray]:
        probs, emb = embed_crops(self.loaded, [f.crop for f in faces], self.batch_size)
        out = {"probs": probs}
        if self.embeddings and emb is not None:
            out["embedding"] = emb
        return out


class ExplainJob:
    """Scores, every output's heatmap (float16, channel-summed, crop resolution) and the predicted class's share of
    positive relevance in each face region (``region_<name>``) plus ``elsewhere``."""

    def __init__(self, loaded: LoadedModel, method: str = "lrp", batch_size: int = 32) -> None:
        from ..explain import create_explainer

        self.loaded, self.method, self.batch_size = loaded, method, int(batch_size)
        self.explainer = create_explainer(method, loaded.model, loaded.card)

    def describe(self) -> dict:
        return {"job": "explain", "method": self.method, "batch_size": self.batch_size}

    @property
    def module(self) -> torch.nn.Module:
        """What runs on the rank's device: the explainer's private copy of the model."""
        return self.explainer.model

    def run(self, faces: Sequence[Face], rows: np.ndarray) -> dict[str, np.ndarray]:
        from ..explain.region_relevance import region_shares
        from ..workflows.explain import explain_faces

        results = []
        for i in range(0, len(faces), self.batch_size):
            with torch.enable_grad():
                results += explain_faces(self.loaded, faces[i : i + self.batch_size], explainer=self.explainer)
        heat = np.stack([r.heatmaps for r in results])
        pred = np.asarray([int(r.probs.argmax()) for r in results])
        shares = region_shares(heat[np.arange(len(faces)), pred], region_masks(faces, FACE_REGIONS))
        return {
            "probs": np.stack([r.probs for r in results]),
            "heatmaps": heat.astype(np.float16),
            "region_shares": np.asarray(shares, dtype=np.float64),
        }


class OcclusionJob:
    """Scores intact (``base``, (K,)) and with each region hidden by each fill (``occluded``, (R, F, K)); the noise
    fill of a face is seeded by its row, so it is the same in any block or rank."""

    def __init__(
        self, loaded: LoadedModel, regions: Sequence[str], fills: Sequence[str], batch_size: int = 64, seed: int = 0
    ) -> None:
        self.loaded, self.regions, self.fills = loaded, list(regions), list(fills)
        self.batch_size, self.seed = int(batch_size), int(seed)

    @property
    def module(self) -> torch.nn.Module:
        return self.loaded.model

    def describe(self) -> dict:
        return {"job": "occlusion", "regions": self.regions, "fills": self.fills, "seed": self.seed}

    def run(self, faces: Sequence[Face], rows: np.ndarray) -> dict[str, np.ndarray]:
        from ..explain.regions import occlusion_probs

        base, occluded = occlusion_probs(
            self.loaded.model,
            self.loaded.card,
            [f.crop for f in faces],
            [f.regions for f in faces],
            self.regions,
            self.fills,
            self.batch_size,
            seeds=(self.seed * 1_000_003 + np.asarray(rows)).tolist(),
        )
        return {"base": base, "occluded": occluded}


class RegionShareJob:
    """The predicted class (``pred``) and its share of positive relevance in each region plus ``elsewhere``
    (``shares``), from one explainer pass per batch of faces."""

    def __init__(self, loaded: LoadedModel, method: str, regions: Sequence[str], batch_size: int = 32) -> None:
        from ..explain import create_explainer

        self.loaded, self.method, self.regions, self.batch_size = loaded, method, list(regions), int(batch_size)
        self.explainer = create_explainer(method, loaded.model, loaded.card)

    @property
    def module(self) -> torch.nn.Module:
        return self.explainer.model

    def describe(self) -> dict:
        return {"job": "region_shares", "method": self.method, "regions": self.regions}

    def run(self, faces: Sequence[Face], rows: np.ndarray) -> dict[str, np.ndarray]:
        from ..explain.region_relevance import region_shares

        x = to_model_input([f.crop for f in faces], self.loaded.card)
        with torch.enable_grad():
            pred = self.explainer.logits(x).argmax(1)
            heat = self.explainer.attribute(x, target=pred, batch_size=self.batch_size).sum(1)
        return {"pred": pred.numpy(), "shares": region_shares(heat.numpy(), region_masks(faces, self.regions))}


class AtlasJob:
    """One class's LRP map of every face, for the explanation atlas (SpRAy): scores (``probs``), the map pooled to
    ``size`` x ``size`` (``small``, for clustering) and to at most 64 x 64 (``display``), the share of its positive
    relevance inside the face's feature regions (``inside``), and each channel's relevance at ``layer`` (``concepts``;
    absent for models without CRP layers)."""

    def __init__(self, loaded: LoadedModel, target: int, layer: str | None = None, size: int = 16) -> None:
        from ..explain import create_explainer
        from ..explain.lrp import LRPExplainer

        self.loaded, self.target, self.size = loaded, int(target), int(size)
        self.explainer = create_explainer("lrp", loaded.model, loaded.card)
        self.layer = None
        if isinstance(self.explainer, LRPExplainer):
            from ..explain.concepts import default_concept_layer

            self.layer = layer or default_concept_layer(self.explainer)

    @property
    def module(self) -> torch.nn.Module:
        return self.explainer.model

    def describe(self) -> dict:
        return {"job": "atlas", "target": self.target, "layer": self.layer, "size": self.size}

    def run(self, faces: Sequence[Face], rows: np.ndarray) -> dict[str, np.ndarray]:
        import torch.nn.functional as F

        from ..explain.region_relevance import region_shares

        x = to_model_input([f.crop for f in faces], self.loaded.card)
        targets = torch.full((len(faces), 1), self.target, dtype=torch.long)
        concepts = None
        if self.layer is not None:  # the maps and the channel relevance from one pass
            from ..explain.concepts import relevance_with_concepts

            logits, rel, concepts = relevance_with_concepts(self.explainer, x, targets, self.layer)
        else:
            with torch.enable_grad():
                logits, rel = self.explainer.forward_relevance(
                    x.to(self.explainer.device), targets.to(self.explainer.device)
                )
        heat = rel[:, 0].sum(1, keepdim=True).float().cpu()
        side = min(64, heat.shape[-1])
        features = np.stack([np.stack([f.regions[r] for r in FACE_REGIONS]).any(0) for f in faces])[:, None]
        inside = region_shares(heat[:, 0].numpy(), features)[:, 0]
        out = {
            "probs": self.loaded.card.probabilities(logits.double().cpu()).numpy(),
            "small": F.adaptive_avg_pool2d(heat, self.size)[:, 0].numpy().astype(np.float32),
            "display": F.adaptive_avg_pool2d(heat, side)[:, 0].numpy().astype(np.float16),
            "inside": np.asarray(inside, dtype=np.float64),
        }
        if concepts is not None:
            out["concepts"] = concepts[:, 0].numpy()
        return out
