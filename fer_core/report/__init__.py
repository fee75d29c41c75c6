"""Stakeholder report: one self-contained HTML file (and a PDF via headless Chromium) with the model card, sample
faces and their per-class heatmaps, an occlusion table, fairness across groups and faithfulness figures.

Typical use::

    from fer_core.report import build_report, html_to_pdf, render_html

    data = build_report("photos/", "fer2013_mini_xception", run="synthfacs_bias_supervised", show_progress=True)
    html = render_html(data)                 # inline CSS, every picture a data: URI, no script, no network
    Path("report.html").write_text(html, encoding="utf-8")
    html_to_pdf(html, "report.pdf")          # PdfRendererNotFoundError when Chromium is not installed

Each submodule re-exports its public names here, one block per module.
"""

from __future__ import annotations

# --- audit: which run, its fairness report and the planted-truth benchmark
from .audit import fairness_section, localisation_section, resolve_model, resolve_run

# --- build: gather a ReportData from fer_core's public functions
from .build import DEFAULT_REGIONS, build_report

# --- data: what a report holds (plain dataclasses)
from .data import FairnessSection, LocalisationSection, ReportData, RunSummary, SampleFace, SkippedInput

# --- html / pdf: render it
from .html import render_html

# --- inputs: the report's images (a folder, or in-memory uploads) and the report's error
from .inputs import IMAGE_SUFFIXES, ImageInput, ReportError, images_from_folder
from .pdf import PdfRendererNotFoundError, find_pdf_renderer, html_to_pdf

__all__ = [
    # data
    "FairnessSection",
    "LocalisationSection",
    "ReportData",
    "RunSummary",
    "SampleFace",
    "SkippedInput",
    # inputs
    "IMAGE_SUFFIXES",
    "ImageInput",
    "ReportError",
    "images_from_folder",
    # audit
    "fairness_section",
    "localisation_section",
    "resolve_model",
    "resolve_run",
    # build
    "DEFAULT_REGIONS",
    "build_report",
    # html / pdf
    "render_html",
    "PdfRendererNotFoundError",
    "find_pdf_renderer",
    "html_to_pdf",
]
