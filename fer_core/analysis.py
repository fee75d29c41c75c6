"""Photo-level workflows shared by the CLI, the dashboard and Python users: explain, occlude, evaluate."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .explain import create_explainer, occlude_regions, region_share
from .explain._base import Explainer
from .face import LANDMARK_NAMES, Face, FaceDetector, find_faces, parse_regions
from .models import LoadedModel
from .models.preprocess import predict_probs, to_model_input


@dataclass
class FaceResult:
    """One face with its class probabilities and one heatmap per class (channel-summed, crop resolution)."""

    face: Face
    probs: np.ndarray  # (K,)
    heatmaps: np.ndarray  # (K, H, W)
    labels: tuple[str, ...]

    @property
    def pred(self) -> str:
        return self.labels[int(self.probs.argmax())]

    def region_share(self, label: str | None = None) -> dict[str, float]:
        k = self.labels.index(label) if label else int(self.probs.argmax())
        return region_share(self.heatmaps[k], self.face.regions)

    def to_json(self) -> dict:
        x, y, w, h = self.face.box
        return {
            "box": [round(x, 1), round(y, 1), round(w, 1), round(h, 1)],
            "landmarks": {n: [round(float(a), 1), round(float(b), 1)]
                          for n, (a, b) in zip(LANDMARK_NAMES, self.face.landmarks)},
            "detector_score": None if np.isnan(self.face.score) else round(self.face.score, 4),
            "used_as_crop": self.face.used_as_crop,
            "probs": {lab: round(float(p), 6) for lab, p in zip(self.labels, self.probs)},
            "pred": self.pred,
            "region_share": {k: round(v, 4) for k, v in self.region_share().items()},
        }


def predict_crops(loaded: LoadedModel, crops: Sequence[np.ndarray], batch_size: int = 128) -> np.ndarray:
    """(N, K) class probabilities for aligned RGB crops."""
    return predict_probs(loaded.model, loaded.card, crops, batch_size)


def explain_faces(loaded: LoadedModel, faces: Sequence[Face], method: str = "lrp",
                  explainer: Explainer | None = None) -> list[FaceResult]:
    """Probabilities and all-class heatmaps for already aligned faces."""
    if not faces:
        return []
    explainer = explainer or create_explainer(method, loaded.model, loaded.card)
    x = to_model_input([f.crop for f in faces], loaded.card)
    probs = predict_crops(loaded, [f.crop for f in faces])
    rel = explainer.attribute_all(x)  # (N, K, C, H, W)
    heat = rel.sum(2).double().numpy()
    return [FaceResult(face=f, probs=p, heatmaps=h, labels=loaded.card.label_names)
            for f, p, h in zip(faces, probs, heat)]


def explain_crops(loaded: LoadedModel, crops: Sequence[np.ndarray], method: str = "lrp",
                  explainer: Explainer | None = None) -> list[FaceResult]:
    """Like :func:`explain_faces` for images that already are aligned crops (dataset rows, SynthFACS faces)."""
    from .face import aligned_crop

    faces = [aligned_crop(c, loaded.card.input_size, loaded.card.template) for c in crops]
    return explain_faces(loaded, faces, method, explainer)


def explain_image(image: np.ndarray, loaded: LoadedModel, method: str = "lrp",
                  detector: FaceDetector | None = None, explainer: Explainer | None = None) -> list[FaceResult]:
    """Find every face in an RGB photo and explain each (raises FaceNotFoundError if there is none)."""
    faces = find_faces(image, loaded.card.input_size, loaded.card.template, detector)
    return explain_faces(loaded, faces, method, explainer)


def occlude_faces(faces: Sequence[Face], loaded: LoadedModel, regions: str | Sequence[str] | None = None,
                  fill: str = "mean") -> list[dict]:
    """Per face: probabilities intact and with each region hidden (JSON-ready)."""
    names = parse_regions(regions)
    base, occ = occlude_regions(loaded.model, loaded.card, [f.crop for f in faces], [f.regions for f in faces],
                                names, fill)
    labels = loaded.card.label_names
    return [{
        "box": [round(v, 1) for v in f.box],
        "used_as_crop": f.used_as_crop,
        "fill": fill,
        "base": {lab: round(float(p), 6) for lab, p in zip(labels, b)},
        "occluded": {r: {lab: round(float(p), 6) for lab, p in zip(labels, o[i])} for i, r in enumerate(names)},
    } for f, b, o in zip(faces, base, occ)]


def occlude_image(image: np.ndarray, loaded: LoadedModel, regions: str | Sequence[str] | None = None,
                  fill: str = "mean", detector: FaceDetector | None = None) -> list[dict]:
    """Find every face in an RGB photo and run :func:`occlude_faces` on them."""
    parse_regions(regions)  # fail on a bad region name before detection
    faces = find_faces(image, loaded.card.input_size, loaded.card.template, detector)
    return occlude_faces(faces, loaded, regions, fill)


def face_faithfulness(loaded: LoadedModel, result: FaceResult, label: str | None = None, patch: int | None = None,
                      steps: int = 32, seed: int = 0) -> dict:
    """How far to trust one face's heatmap: its region-perturbation curves (most relevant patches first, least
    relevant first, and a random order as the floor), their AOPC, and its relevance mass inside eyes and mouth."""
    import torch

    from .explain.faithfulness import region_perturbation

    k = result.labels.index(label) if label else int(result.probs.argmax())
    x = to_model_input([result.face.crop], loaded.card)
    heat = result.heatmaps[k][None]
    h, w = heat.shape[1:]
    patch = patch or max(2, h // 12)
    rand = np.random.default_rng(seed).random((1, h, w))
    curves = {name: region_perturbation(loaded.model, x, hm, torch.tensor([k]), patch=patch, steps=steps,
                                        order=order)
              for name, hm, order in (("most relevant first", heat, "morf"), ("least relevant first", heat, "lerf"),
                                      ("random order", rand, "morf"))}
    n_patches = -(-h // patch) * -(-w // patch)
    share = region_share(result.heatmaps[k], result.face.regions)
    return {"label": result.labels[k], "patch": patch, "steps": steps, "fill": "mean",
            "removed": [(i + 1) / n_patches for i in range(curves["random order"].drops.shape[1])],
            "curves": {name: c.drops[0].tolist() for name, c in curves.items()},
            "aopc": {name: float(c.aopc[0]) for name, c in curves.items()},
            "mass": {r: share[r] for r in ("eyes", "mouth")}}
