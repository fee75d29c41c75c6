"""The batch engine against the references it must approach, measured in the same run.

Usage: ``python bench/bench_batch.py [--quick] [--json]`` (part of ``make bench``).

- **help**: ``fer-core --help`` wall time, and as a ratio to ``python -c pass``.
- **aligned crops**: classification through the engine (decode, align, batch, classify) as a share of the model's
  plain batched forward on the same crops already in memory; and ``fer-core evaluate`` of those crops end to end,
  start-up included.
- **detection**: 250 px photos that need detection, with 1 vs 2 loader workers, and MTCNN's own time per image.
- **LRP sweep**: all-class LRP over a dataset (faces/s) vs the single-face path and vs the forward+backward floor.
- **GPU** (when there is one): the sweep and the classification on it, 1 vs N devices.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import torch

from fer_core.batch import ClassifyJob, EngineOptions, ExplainJob, run_job
from fer_core.data import SynthSpec, scan_manifest, write_dataset
from fer_core.face import default_detector, load_image
from fer_core.models import DEFAULT_MODEL, load_model
from fer_core.models.preprocess import to_model_input
from fer_core.workflows import explain_faces
from fer_core.workflows.bench import median_time

ROOT = Path(__file__).resolve().parents[1]
PORTRAIT = ROOT / "assets" / "samples" / "astronaut_eileen_collins.png"
FER_CORE = [sys.executable, "-m", "fer_core.cli"]


def _wall(cmd: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def bench_help(repeats: int) -> dict:
    help_s = _wall([*FER_CORE, "--help"], repeats)
    evaluate_help_s = _wall([*FER_CORE, "evaluate", "--help"], repeats)
    python_s = _wall([sys.executable, "-c", "pass"], repeats)
    torch_s = _wall([sys.executable, "-c", "import torch"], repeats)
    return {
        "help_s": round(help_s, 3),
        "evaluate_help_s": round(evaluate_help_s, 3),
        "python_pass_s": round(python_s, 3),
        "import_torch_s": round(torch_s, 3),
        "help_vs_python": round(help_s / python_s, 2),
        "target": "fer-core --help <= 1 s",
    }


def _rate(n: int, fn) -> float:
    start = time.perf_counter()
    fn()
    return n / (time.perf_counter() - start)


def bench_aligned(loaded, manifest: Path, n: int) -> dict:
    scan = scan_manifest(loaded, manifest, aligned=True)
    crops = [scan.face(i).crop for i in range(scan.n)]
    x = to_model_input(crops, loaded.card)
    model = loaded.model.eval()

    def forward() -> None:
        with torch.inference_mode():
            for i in range(0, len(x), 64):
                model(x[i : i + 64])

    forward()
    plain = _rate(n, forward)
    out = {"n": n, "crop_px": int(loaded.card.input_size[0]), "plain_forward_per_s": round(plain, 1)}
    for workers in (0, 1, 2, None):
        scan = scan_manifest(loaded, manifest, aligned=True)
        options = EngineOptions(workers=workers)
        rate = _rate(n, lambda s=scan, o=options: run_job(s, ClassifyJob(loaded), o))
        name = "auto" if workers is None else str(workers)
        out[f"engine_workers_{name}_per_s"] = round(rate, 1)
        out[f"engine_workers_{name}_vs_forward"] = round(rate / plain, 3)
    start = time.perf_counter()
    subprocess.run(
        [*FER_CORE, "evaluate", "--data", str(manifest), "--aligned", "--json"], check=True, capture_output=True
    )
    out["evaluate_cli_s"] = round(time.perf_counter() - start, 2)
    out["target"] = "engine >= 0.5 of the plain forward; evaluate of 3,000 crops well under 30 s"
    return out


def _photos(folder: Path, n: int, side: int = 250) -> Path:
    """``n`` photos of ``side`` px around the portrait's face, shifted, scaled and mirrored (each needs detection)."""
    image = cv2.cvtColor(load_image(PORTRAIT), cv2.COLOR_RGB2BGR)
    rng = np.random.default_rng(0)
    rows = []
    for i in range(n):
        size = int(rng.integers(300, 420))
        x0, y0 = int(rng.integers(0, 512 - size)), int(rng.integers(0, 512 - size))
        crop = cv2.resize(image[y0 : y0 + size, x0 : x0 + size], (side, side), interpolation=cv2.INTER_AREA)
        if i % 2:
            crop = crop[:, ::-1]
        cv2.imwrite(str(folder / f"photo{i:04d}.jpg"), crop)
        rows.append({"path": f"photo{i:04d}.jpg"})
    pd.DataFrame(rows).to_csv(folder / "manifest.csv", index=False)
    return folder / "manifest.csv"


def bench_detection(loaded, manifest: Path, n: int) -> dict:
    out = {"n": n, "photo_px": 250}
    for workers in (0, 1, 2):
        scan = scan_manifest(loaded, manifest, require_labels=False)
        options = EngineOptions(workers=workers, block=64)
        rate = _rate(n, lambda s=scan, o=options: run_job(s, ClassifyJob(loaded), o))
        out[f"workers_{workers}_per_s"] = round(rate, 1)
        out[f"workers_{workers}_found"] = int(scan.detection_counts()["detected"])
    det = default_detector()
    images = [load_image(manifest.parent / p) for p in pd.read_csv(manifest)["path"]]
    det_rate = _rate(len(images), lambda: [det.detect(im) for im in images])
    out["mtcnn_alone_per_s"] = round(det_rate, 1)
    out["speedup_2_vs_1_workers"] = round(out["workers_2_per_s"] / out["workers_1_per_s"], 2)
    out["workers_2_vs_mtcnn_alone"] = round(out["workers_2_per_s"] / det_rate, 2)
    out["target"] = ">= 1.7x faster with 2 workers than with 1"
    return out


def batch_floor(model: torch.nn.Module, x: torch.Tensor, k: int):
    """One forward+backward of every face repeated once per class (the single-face floor of
    :func:`fer_core.workflows.bench.gradient_floor`, for a batch)."""

    def floor() -> None:
        xx = x.repeat_interleave(k, 0).requires_grad_(True)
        torch.autograd.grad(model(xx), xx, torch.eye(k, device=x.device).repeat(len(x), 1))

    return floor


def bench_sweep(loaded, manifest: Path, n: int, device: str = "cpu") -> dict:
    loaded = loaded.to(device)
    scan = scan_manifest(loaded, manifest, aligned=True, limit=n)
    job = ExplainJob(loaded, "lrp")
    sweep = _rate(n, lambda: run_job(scan, job, EngineOptions(workers=0, block=256)))
    faces = [scan.face(i) for i in range(min(n, 64))]
    explain_faces(loaded, faces[:2], explainer=job.explainer)
    single = _rate(len(faces), lambda: [explain_faces(loaded, [f], explainer=job.explainer) for f in faces])
    k = loaded.card.num_classes
    x = to_model_input([f.crop for f in faces[:32]], loaded.card).to(device)
    floor_s = median_time(batch_floor(loaded.model.eval(), x, k), repeats=3, warmup=1)
    floor = len(x) / floor_s
    return {
        "n": n,
        "device": device,
        "sweep_faces_per_s": round(sweep, 1),
        "single_face_path_per_s": round(single, 1),
        "sweep_vs_single_face": round(sweep / single, 2),
        "floor_faces_per_s": round(floor, 1),
        "sweep_vs_floor": round(sweep / floor, 3),
        "floor": "forward+backward of each face repeated once per class, 32 faces per call",
    }


def bench_gpu(loaded, manifest: Path, n: int) -> dict:
    if not torch.cuda.is_available():
        return {"available": False}
    out = {"available": True, "devices": torch.cuda.device_count(), "name": torch.cuda.get_device_name(0)}
    out["sweep"] = bench_sweep(loaded, manifest, n, "cuda")
    gpu = loaded.to("cuda")
    out["classify_per_s"] = round(
        _rate(
            n,
            lambda: run_job(
                scan_manifest(gpu, manifest, aligned=True), ClassifyJob(gpu, batch_size=256), EngineOptions()
            ),
        ),
        1,
    )
    if torch.cuda.device_count() > 1:
        for devices in (1, torch.cuda.device_count()):
            start = time.perf_counter()
            out_dir = str(manifest.parent / f"sw{devices}")
            subprocess.run(
                [*FER_CORE, "explain", "--data", str(manifest), "--aligned", "--out", out_dir, "--device", "cuda",
                 "--devices", str(devices), "--strategy", "ddp", "--json"],
                check=True, capture_output=True,
            )  # fmt: skip
            out[f"sweep_cli_{devices}_devices_s"] = round(time.perf_counter() - start, 2)
    return out


def main(quick: bool = False) -> dict:
    torch.manual_seed(0)
    loaded = load_model(DEFAULT_MODEL)
    n_crops, n_photos, n_sweep = (600, 40, 128) if quick else (3000, 400, 512)
    with tempfile.TemporaryDirectory() as tmp:
        crops = Path(tmp) / "crops"
        write_dataset(SynthSpec(n=n_crops, size=48, seed=0), crops, workers=min(2, os.cpu_count() or 1))
        photos = Path(tmp) / "photos"
        photos.mkdir()
        photo_manifest = _photos(photos, n_photos)
        return {
            "context": {
                "cpu_threads": torch.get_num_threads(),
                "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
                "model": loaded.name,
            },
            "help": bench_help(3 if quick else 7),
            "aligned_crops": bench_aligned(loaded, crops / "manifest.csv", n_crops),
            "detection": bench_detection(loaded, photo_manifest, n_photos),
            "lrp_sweep": bench_sweep(loaded, crops / "manifest.csv", n_sweep),
            "gpu": bench_gpu(loaded, crops / "manifest.csv", n_crops),
        }


if __name__ == "__main__":
    print(json.dumps(main(quick="--quick" in sys.argv), indent=2))
