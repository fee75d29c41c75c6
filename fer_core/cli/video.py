"""``fer-core video``: expressions over time for every person in a clip (or every clip in a folder)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ._common import _add_model, _print, load_for

COMMANDS = ("video",)
VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".webm", ".mkv", ".avi")
DONE_FILE = "video.json"  # written last in a clip's output folder: a folder run skips clips that have it


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``video``."""
    from ..names import LANDMARKER_CHOICES
    from ..video import DEFAULT_FPS, SUPPORTED

    p = subparsers.add_parser(
        "video", help="track the faces of a video; per person: expression curves, episodes, heatmaps at their apex"
    )
    p.add_argument("file", help=f"a video ({SUPPORTED}) or a folder of them (each gets its own folder in --out)")
    p.add_argument(
        "--fps", type=float, default=DEFAULT_FPS, help=f"frames sampled per second (default {DEFAULT_FPS:g})"
    )
    _add_model(p)
    p.add_argument(
        "--also",
        action="append",
        default=[],
        metavar="MODEL",
        help="another model scored on the same faces, e.g. an AU or EmoNet-40 run folder (repeatable)",
    )
    p.add_argument("--method", default="lrp", help="attribution method of the apex heatmaps (default lrp)")
    p.add_argument(
        "--landmarker",
        choices=LANDMARKER_CHOICES,
        default="mtcnn5",
        help="mesh468 (or auto, the mesh where it runs): fit the 468-point mesh to every face at every sampled "
        "frame, align by it and record the head pose (yaw, pitch, roll, pose_bin in the JSON and CSV), about 25 ms "
        "more per face; default mtcnn5: the detector's 5 points, fastest",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument(
        "--out",
        help="folder for a CSV per track, apex heatmap PNGs and video.json (needed for a folder of videos; "
        "re-running skips the clips already done)",
    )


def run(args: argparse.Namespace) -> int:
    """Run ``fer-core video``."""
    from ..runs import is_run_dir, open_run

    def load(text: str):
        if is_run_dir(text):
            return open_run(text).model().to(getattr(args, "device", "cpu"))
        return load_for(args, text)

    loaded = load(args.model)
    extra = {}
    for text in args.also:
        m = load(text)
        extra[Path(text).name if Path(text).exists() else text] = m
    target = Path(args.file)
    if target.is_dir():
        return _folder(args, target, loaded, extra)
    out = _one(args, target, loaded, extra, Path(args.out) if args.out else None)
    _print(out, args.json, _human)
    return 0


def _one(args: argparse.Namespace, path: Path, loaded, extra: dict, out_dir: Path | None) -> dict:
    from .._utils.progress import tqdm_callback
    from ..video import analyse_video

    with tqdm_callback(not args.json, f"{path.name}: frames") as progress:
        analysis = analyse_video(path, loaded, fps=args.fps, extra=extra, progress=progress, landmarker=args.landmarker)
    out = {"video": str(path), **analysis.to_json()}
    for tr_json, track in zip(out["tracks"], analysis.tracks):
        for name, labels in analysis.extra_labels.items():
            tr_json.setdefault("curves", {})[name] = [
                {lab: round(float(v), 5) for lab, v in zip(labels, track.curve(name)[i])}
                for i in range(len(track.frames))
            ]
    if out_dir is not None:
        _write(path, analysis, loaded, out, out_dir, args.method)
    return out


def _write(path: Path, analysis, loaded, out: dict, out_dir: Path, method: str) -> None:
    """A CSV per track, the apex heatmap grids, and video.json last (the mark that this clip is done)."""
    import json

    import cv2

    from ..explain import class_grid, create_explainer
    from ..video import apex_heatmaps
    from ._common import json_safe

    out_dir.mkdir(parents=True, exist_ok=True)
    explainer = create_explainer(method, loaded.model, loaded.card)
    heat = apex_heatmaps(path, analysis, loaded, method, explainer)
    for tr_json, track in zip(out["tracks"], analysis.tracks):
        csv = out_dir / f"track{track.id}.csv"
        track.to_frame(analysis.extra_labels).to_csv(csv, index=False)
        tr_json["csv"] = str(csv)
        for n, ep_json in enumerate(tr_json["episodes"]):
            r = heat[(track.id, n)]
            grid = class_grid(r.face.crop, list(r.heatmaps), r.labels, list(r.probs))
            png = out_dir / f"track{track.id}_episode{n}_{ep_json['label']}_{ep_json['apex']:.2f}s.png"
            cv2.imwrite(str(png), cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))
            ep_json["apex_heatmaps_png"] = str(png)
    (out_dir / DONE_FILE).write_text(json.dumps(json_safe(out), indent=1, allow_nan=False, default=str))


def _folder(args: argparse.Namespace, folder: Path, loaded, extra: dict) -> int:
    import json

    from ..errors import VideoError

    if not args.out:
        raise ValueError("a folder of videos needs --out DIR: each clip gets its own folder there")
    clips = sorted(p for p in folder.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file())
    if not clips:
        raise ValueError(f"no video ({', '.join(VIDEO_SUFFIXES)}) in {folder}")
    summary = {"folder": str(folder), "out": args.out, "videos": []}
    for clip in clips:
        out_dir = Path(args.out) / clip.stem
        entry = {"video": str(clip), "out": str(out_dir)}
        done = json.loads((out_dir / DONE_FILE).read_text()) if (out_dir / DONE_FILE).is_file() else None
        if done is not None and _same_settings(done, args, loaded):
            entry.update(status="done before", tracks=len(done["tracks"]))
        else:
            try:
                out = _one(args, clip, loaded, extra, out_dir)
                entry.update(status="done", tracks=len(out["tracks"]))
            except VideoError as exc:  # one unreadable clip does not stop the others
                entry.update(status="error", error=str(exc))
        summary["videos"].append(entry)

    def human(o: dict) -> None:
        for e in o["videos"]:
            print(
                f"{e['video']}: {e['status']}"
                + (f", {e['tracks']} person(s)" if "tracks" in e else f": {e.get('error')}")
            )

    _print(summary, args.json, human)
    return 0 if all(e["status"] != "error" for e in summary["videos"]) else 2


def _same_settings(done: dict, args: argparse.Namespace, loaded) -> bool:
    """Whether a clip's saved ``video.json`` was made with this run's model, sampling rate and landmarker (a clip
    done otherwise is analysed again, not skipped)."""
    from ..face import resolve_landmarker

    asked = {"model": loaded.name, "fps": args.fps, "landmarker": resolve_landmarker(args.landmarker)}
    saved = {"model": done.get("model"), "fps": done.get("fps"), "landmarker": done.get("landmarker", "mtcnn5")}
    return asked == saved


def _human(o: dict) -> None:
    v = o["info"]
    print(
        f"{o['frames']} frames sampled at {o['fps']:g} fps from {v.get('width')} x {v.get('height')}; "
        f"{len(o['tracks'])} person(s)"
        + (f", {o['dropped_tracks']} short track(s) dropped" if o["dropped_tracks"] else "")
    )
    for w in o["warnings"]:
        print(f"warning: {w}")
    for tr in o["tracks"]:
        span = f"{tr['frames'][0]['t']:.1f}-{tr['frames'][-1]['t']:.1f} s"
        print(f"person {tr['id'] + 1} ({span}, {len(tr['frames'])} frames)" + (f": {tr['csv']}" if "csv" in tr else ""))
        if line := _pose_line(tr["frames"]):
            print(f"  head pose: {line}")
        for e in tr["episodes"]:
            times = f"onset {e['onset']:6.2f} s  apex {e['apex']:6.2f} s  offset {e['offset']:6.2f} s"
            print(f"  {e['label']:9s} {times}  peak {e['peak']:.2f}")


def _pose_line(frames: list[dict]) -> str:
    """How a person's head moved, in one line (empty without poses): the range of each angle and the bins' shares."""
    from collections import Counter

    from ..face import NO_POSE

    poses = [f["pose"] for f in frames if f.get("pose")]
    if not poses:
        return "no pose (the mesh found no face)" if any("pose" in f for f in frames) else ""
    ranges = ", ".join(
        f"{angle} {round(min(p[angle] for p in poses)):+d}° to {round(max(p[angle] for p in poses)):+d}°"
        for angle in ("yaw", "pitch", "roll")
    )
    bins = Counter(f["pose"]["bin"] if f.get("pose") else NO_POSE for f in frames).most_common()
    return ranges + "; " + ", ".join(f"{b} {n / len(frames):.0%}" for b, n in bins)
