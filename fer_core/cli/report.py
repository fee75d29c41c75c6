"""``fer-core report``: the stakeholder report (:mod:`fer_core.report`) as one HTML file, optionally a PDF."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import FerCoreError
from ..names import FILLS, METHODS

COMMANDS = ("report",)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``report``."""
    p = subparsers.add_parser(
        "report",
        help="one self-contained HTML (and PDF) report for stakeholders: model "
        "card, faces with heatmaps, occlusion, fairness, faithfulness",
    )
    p.add_argument(
        "--model",
        help="registered model, run:<name> or .safetensors (default: the run's model, else fer2013_mini_xception)",
    )
    p.add_argument(
        "--run",
        help="run folder or run name: adds its config, fairness on its test set and (SynthFACS) "
        "the planted-truth check",
    )
    p.add_argument("--images", required=True, help="folder of face photos (every image file directly inside it)")
    p.add_argument("--out", required=True, help="HTML file to write (no face is written anywhere else)")
    p.add_argument("--pdf", help="also print the report to this PDF (needs Chromium)")
    p.add_argument("--max-faces", type=int, default=8, help="faces at most (default 8)")
    p.add_argument(
        "--method",
        choices=list(METHODS),
        help="heatmap method (default: lrp, or the first that applies to the model)",
    )
    p.add_argument(
        "--regions", default="eyes,mouth,brows,nose", help="regions to hide (default: eyes,mouth,brows,nose)"
    )
    p.add_argument("--fill", default="mean", choices=FILLS, help="what replaces a hidden region (default: mean)")
    p.add_argument(
        "--localisation-limit",
        type=int,
        default=64,
        help="SynthFACS test faces for the planted-truth check (default 64; 0 skips it)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    """Build the report, write the HTML, then (``--pdf``) print it; exit 1 if only the PDF failed."""
    from ..report import build_report, html_to_pdf, render_html

    data = build_report(
        args.images,
        args.model,
        args.run,
        max_faces=args.max_faces,
        method=args.method,
        regions=args.regions,
        fill=args.fill,
        localisation_limit=args.localisation_limit,
        show_progress=not args.quiet,
    )
    html, out = render_html(data), Path(args.out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"cannot write {out}: {exc}") from exc
    n = len(data.faces)
    print(
        f"wrote {out} ({len(html) / 2**20:.1f} MB): {n} face{'s' * (n != 1)}, {len(data.skipped)} inputs not used"
        + (f", run {data.run.name}" if data.run else ", no run (no fairness section)")
    )
    for s in data.skipped:
        print(f"  not used: {s.name}: {s.reason}")
    if args.pdf:
        try:
            html_to_pdf(html, args.pdf)
        except (FerCoreError, OSError) as exc:
            print(f"error: no PDF: {exc} (the HTML report {out} was written)", file=sys.stderr)
            return 1
        print(f"wrote {args.pdf}")
    return 0
