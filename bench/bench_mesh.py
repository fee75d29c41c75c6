"""The dense mesh beside the 5 points: what it costs and what it changes.

Usage: ``python bench/bench_mesh.py [--quick]``. Prints JSON.

- **time**: median milliseconds per face of MTCNN detection on the bundled portrait (512 px) and on a 4 MP upscale
  of it, of the mesh fit (:func:`fer_core.face.fit_mesh`: a mirrored pass, then the refit at four mirror-paired
  jitters, 10 network runs) and of one mirrored pass alone; **mesh_over_detection** is the ratio of the fit to the
  detection of the same photo, measured in this run.
- **portrait_occlusion**: the FER2013 model's 'happy' on the portrait and on its mirror image, intact and with each
  region hidden (mean fill), with the 5 points and with the mesh: the face and its mirror should agree.
- **synthfacs_lips**: on rendered SynthFACS faces (no occluder) the share of the renderer's true lip pixels (the
  outer lip outline it drew) inside the mesh's lip polygon, and the share of that polygon outside them.
- **synthfacs_accuracy**: the embedded demo run on SynthFACS faces rendered at 192 px (so they are detected and
  aligned, not taken as crops), aligned by the 5 points and by the mesh.
"""

from __future__ import annotations

import json
import sys
import time

import cv2
import numpy as np

from fer_core.data.sources import materialize
from fer_core.data.synthfacs import SynthSpec, render_face, sample_params
from fer_core.data.synthfacs.geometry import face_geometry
from fer_core.data.synthfacs.raster import ShapeLayer, pose_matrix
from fer_core.data.synthfacs.render import SUPERSAMPLE
from fer_core.face import aligned_crop, default_detector, find_faces, fit_mesh, load_image
from fer_core.models import DEFAULT_MODEL, load_model
from fer_core.runs import EMBEDDED_RUNS_DIR, open_run
from fer_core.workflows import evaluate_manifest, occlude_faces
from fer_core.workflows.bench import median_time

PORTRAIT = "assets/samples/astronaut_eileen_collins.png"
REGIONS = ["mouth", "lips", "upper_lip", "lower_lip", "mouth_corners", "eyes", "cheeks", "nose"]


def _median_ms(fn, repeats: int = 15) -> float:
    return round(1000 * median_time(fn, repeats, warmup=1), 2)


def timing() -> dict:
    detector, out = default_detector(), {}
    photo = load_image(PORTRAIT)
    for name, image in (("portrait_512", photo), ("upscaled_4mp", cv2.resize(photo, (2000, 2000)))):
        box, eyes = detector.detect(image)[0].box, detector.detect(image)[0].landmarks[:2]
        detect = _median_ms(lambda image=image: detector.detect(image))
        mesh = _median_ms(lambda image=image, box=box, eyes=eyes: fit_mesh(image, box, eyes))
        single = _median_ms(lambda image=image, box=box, eyes=eyes: fit_mesh(image, box, eyes, refine=False))
        out[name] = {
            "detection_ms": detect,
            "mesh_ms": mesh,
            "mesh_single_pass_ms": single,
            "mesh_over_detection": round(mesh / detect, 3),
        }
    return out


def portrait_occlusion() -> dict:
    loaded, photo, out = load_model(DEFAULT_MODEL), load_image(PORTRAIT), {}
    for landmarker in ("mtcnn5", "mesh468"):
        for name, image in (("portrait", photo), ("mirror", np.ascontiguousarray(photo[:, ::-1]))):
            faces = find_faces(image, loaded.card.input_size, loaded.card.alignment, landmarker=landmarker)[:1]
            result = occlude_faces(faces, loaded, REGIONS, "mean")[0]
            out[f"{landmarker}/{name}"] = {
                "happy_intact": round(float(result.base["happy"]), 3),
                **{f"no_{r}": round(float(result.occluded.at[r, "happy"]), 3) for r in REGIONS},
                "pixels": {r: int(faces[0].regions[r].sum()) for r in REGIONS},
            }
    return out


def _true_lips(params, size: int) -> np.ndarray:
    """The renderer's own lip area (outer outlines, mouth opening included) at ``size``, drawn as it draws faces."""
    lips = face_geometry(params.identity, params.au_dict(), params.gaze)["mouth"]
    layer = ShapeLayer()
    layer.poly(np.concatenate([lips["outer_up"], lips["outer_lo"][::-1]], 0), (1.0,))
    big = np.zeros((size * SUPERSAMPLE,) * 2, np.float32)
    layer.draw(big, pose_matrix(params), size * SUPERSAMPLE, color=(1.0,))
    return cv2.resize(big, (size, size), interpolation=cv2.INTER_AREA) >= 0.5


def synthfacs_lips(n: int) -> dict:
    spec, cache, covered, outside = SynthSpec(n=n, size=128, seed=3), {}, [], []
    for i in range(n):
        params = sample_params(spec, i, cache)[0]
        if params.occluder != "none":
            continue
        image = render_face(params)[0]
        face = aligned_crop(image, (128, 128), "tight", landmarker="mesh468")
        if face.mesh is None:
            continue
        truth, lips = _true_lips(params, 128), face.regions["lips"]
        covered.append(float((lips & truth).sum() / truth.sum()))
        outside.append(float((lips & ~truth).sum() / lips.sum()))
    return {
        "faces": len(covered),
        "true_lips_covered_mean": round(float(np.mean(covered)), 3),
        "true_lips_covered_min": round(float(np.min(covered)), 3),
        "polygon_outside_mean": round(float(np.mean(outside)), 3),
    }


def synthfacs_accuracy(n: int) -> dict:
    loaded = open_run(EMBEDDED_RUNS_DIR / "synthfacs_bias_supervised").model()
    manifest = materialize({"synthfacs": {"n": n, "size": 192, "seed": 2, "intensity": [0.25, 0.6]}})
    out = {}
    for landmarker in ("mtcnn5", "mesh468"):
        t0 = time.perf_counter()
        result = evaluate_manifest(loaded, manifest, aligned=False, n_boot=0, landmarker=landmarker)
        out[landmarker] = {
            "accuracy": result["accuracy"],
            "macro_f1": result["macro_f1"],
            "faces": result["n_evaluated"],
            "seconds": round(time.perf_counter() - t0, 1),
        }
    return out


def main() -> None:
    quick = "--quick" in sys.argv
    print(
        json.dumps(
            {
                "time": timing(),
                "portrait_occlusion": portrait_occlusion(),
                "synthfacs_lips": synthfacs_lips(40 if quick else 200),
                "synthfacs_accuracy": synthfacs_accuracy(200 if quick else 1000),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
