"""Video throughput: decode + detect + classify on 720p clips with one face and with three, sampled at 5 fps, as a
ratio to real time, with the share of each stage; a decode-only pass of the same clip, timed in the same run, is the
reference for the decoder's share.

Usage: ``python bench/bench_video.py [--quick]``. Prints JSON.

- **realtime_x**: seconds of video per second of compute (above 1: faster than real time).
- **frames_per_s**: sampled frames processed per second.
- **share**: the fractions of the time spent decoding (all frames are decoded, the sampled ones converted to RGB),
  detecting (MTCNN) and in the model (alignment, the forward pass and the tracker).
- **decode_only_s**: the same sampling without detection or model, the decoder's cost measured on its own.
- **mesh**: the same analysis with ``landmarker="mesh468"`` (the mesh fitted to every face of every sampled frame,
  each frame's head pose): its ratio to real time, the mesh's share, and its time over the 5-point run's.
"""

from __future__ import annotations

import json
import sys
import time

from fer_core.face import mesh_available
from fer_core.models import load_model
from fer_core.video import analyse_video, sample_frames
from fer_core.video.synthetic import Expression, Person, make_clip, moving, still

SECONDS = 20.0
NATIVE_FPS = 25.0  # a camera's rate: every frame is decoded, one in five is analysed
SAMPLE_FPS = 5.0
MODEL = "assets/runs/synthfacs_bias_supervised/model.safetensors"


def people(n: int) -> list[Person]:
    faces = [
        Person(
            9, still(640, 360), face_px=240, expressions=(Expression("happy", 3, 8), Expression("surprise", 12, 17))
        ),
        Person(3, moving((200, 250), (320, 300), SECONDS), face_px=180, expressions=(Expression("sad", 5, 12),)),
        Person(13, moving((1080, 420), (960, 380), SECONDS), face_px=200),
    ]
    return faces[:n]


def main(quick: bool) -> dict:
    seconds = 6.0 if quick else SECONDS
    model = load_model(MODEL)
    out = {"clip": f"1280 x 720, {seconds:g} s at {NATIVE_FPS:g} fps, H.264; sampled at {SAMPLE_FPS:g} fps"}
    for n in (1, 3):
        clip = make_clip(people(n), seconds=seconds, fps=NATIVE_FPS, size=(1280, 720))
        t0 = time.perf_counter()
        frames = sum(1 for _ in sample_frames(clip.data, fps=SAMPLE_FPS))
        decode_only = time.perf_counter() - t0
        analyse_video(clip.data, model, fps=SAMPLE_FPS)  # warm: model and detector loaded, caches filled
        result = analyse_video(clip.data, model, fps=SAMPLE_FPS)
        s = result.seconds
        out[f"{n}_face"] = {
            "tracks": len(result.tracks),
            "frames": frames,
            "total_s": round(s["total"], 3),
            "realtime_x": round(seconds / s["total"], 2),
            "frames_per_s": round(result.samples / s["total"], 1),
            "share": {k: round(s[k] / s["total"], 3) for k in ("decode", "detect", "model")},
            "decode_only_s": round(decode_only, 3),
        }
        if mesh_available():
            out[f"{n}_face"]["mesh"] = f"not measured: {mesh_available()}"
            continue
        mesh = analyse_video(clip.data, model, fps=SAMPLE_FPS, landmarker="mesh468")
        m = mesh.seconds
        out[f"{n}_face"]["mesh"] = {
            "realtime_x": round(seconds / m["total"], 2),
            "share_mesh": round(m["mesh"] / m["total"], 3),
            "over_5_points": round(m["total"] / s["total"], 2),
        }
    return out


if __name__ == "__main__":
    print(json.dumps(main("--quick" in sys.argv), indent=2))
