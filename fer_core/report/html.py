"""ReportData -> one self-contained HTML page: inline CSS, every picture a data: URI, no script, no external URL.

Every string that comes from a user, a file name, a checkpoint's card, a run's config or a data set (group and
label names) goes through :func:`html.escape`. Numbers in tables carry their exact value in ``data-value``.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Sequence
from typing import Any

from ..runs import RunFolder
from . import charts, summary
from .data import ReportData, SampleFace

__all__ = ["render_html"]

CSS = """
:root { --ink:#1f2933; --muted:#616e7c; --line:#d9e2ec; --accent:#2e6da4; --bad:#c0392b; --good:#2e8b57;
        --soft:#f5f7fa; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0; background: #eef1f5; color: var(--ink); line-height: 1.45;
       font: 15px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Liberation Sans", sans-serif; }
main { max-width: 1040px; margin: 24px auto; background: #fff; padding: 36px 44px 28px;
       box-shadow: 0 1px 4px rgba(0,0,0,.08); border-radius: 6px; }
h1 { font-size: 28px; margin: 4px 0 14px; line-height: 1.2; }
h2 { font-size: 21px; margin: 0 0 10px; padding-bottom: 6px; border-bottom: 2px solid var(--accent); }
h3 { font-size: 16px; margin: 18px 0 8px; }
section { margin-top: 34px; }
.kicker { text-transform: uppercase; letter-spacing: .08em; font-size: 12px; color: var(--accent);
          font-weight: 600; }
.meta { display: grid; grid-template-columns: max-content 1fr max-content 1fr; gap: 4px 16px; margin: 0;
        font-size: 14px; background: var(--soft); padding: 12px 16px; border-radius: 6px; }
.meta dt { color: var(--muted); } .meta dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; }
.toc { margin: 16px 0 0; font-size: 14px; } .toc ol { margin: 0; padding-left: 20px; columns: 2; }
.toc a { color: var(--accent); text-decoration: none; }
.summary { background: #eaf2fb; border-left: 4px solid var(--accent); padding: 10px 14px; margin: 10px 0 16px;
           border-radius: 0 6px 6px 0; }
.summary::before { content: "In short: "; font-weight: 700; }
.note { background: #fff8e6; border-left: 4px solid #e0a800; padding: 8px 12px; margin: 10px 0;
        border-radius: 0 6px 6px 0; font-size: 14px; }
.muted { color: var(--muted); font-size: 13px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 14px; font-size: 13.5px; }
th, td { border-bottom: 1px solid var(--line); padding: 5px 8px; text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.kv th { width: 28%; background: none; color: var(--muted); font-weight: 500; }
td.name { overflow-wrap: anywhere; }
tr.mean td { font-weight: 700; background: var(--soft); }
.drop-strong { background: #f6c9c3; } .drop { background: #fbe6e3; } .rise { background: #dff3e6; }
figure { margin: 0; } img { max-width: 100%; height: auto; display: block; }
.face { border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px 12px; margin: 14px 0;
        break-inside: avoid; page-break-inside: avoid; }
.face h3 { margin: 0 0 8px; overflow-wrap: anywhere; }
.face-row { display: flex; gap: 16px; align-items: flex-start; }
.face-row .grid { flex: 0 1 600px; min-width: 0; } .face-row .probs { flex: 0 1 300px; min-width: 0; }
.face figcaption { font-size: 13px; color: var(--muted); margin-top: 6px; }
.charts { display: flex; gap: 16px; flex-wrap: wrap; align-items: flex-start; }
.charts figure { flex: 1 1 300px; break-inside: avoid; page-break-inside: avoid; }
.chart { break-inside: avoid; page-break-inside: avoid; margin: 8px 0; }
.legend { display: flex; align-items: center; gap: 8px; font-size: 13px; color: var(--muted); }
.scale { width: 180px; height: 12px; border-radius: 3px; border: 1px solid var(--line);
         background: linear-gradient(90deg, #053061, #4393c3, #d1e5f0, #fff, #fddbc7, #d6604d, #67001f); }
footer { margin-top: 36px; padding-top: 10px; border-top: 1px solid var(--line); font-size: 12px;
         color: var(--muted); }
@page { size: A4; margin: 14mm 12mm 16mm; }
@media print {
  body { background: #fff; font-size: 10.5pt; }
  main { margin: 0; padding: 0; box-shadow: none; max-width: none; border-radius: 0; }
  section.page { break-before: page; page-break-before: always; margin-top: 0; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
  tr { break-inside: avoid; page-break-inside: avoid; }
  .toc { display: none; }
}
"""


def e(value: Any) -> str:
    """Escape any value for HTML text and attribute values."""
    return html.escape(str(value), quote=True)


def img(png: bytes, alt: str) -> str:
    """An <img> whose source is the PNG itself (a data: URI)."""
    return f'<img src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}" alt="{e(alt)}">'


def num(value: float | None, fmt: str, cls: str = "", scale: float = 1.0) -> str:
    """A numeric cell: ``value * scale`` formatted, the exact unscaled value in data-value (for machines and
    tests), '–' for a missing value."""
    if value is None:
        return '<td class="num">–</td>'
    shown = int(round(value * scale)) if fmt.endswith("d") else value * scale
    return f'<td class="num{" " + cls if cls else ""}" data-value="{float(value)!r}">{format(shown, fmt)}</td>'


def table(header: Sequence[str], rows: Iterable[str], cls: str = "", numeric_from: int = 1) -> str:
    ths = "".join(f"<th{' class=num' if i >= numeric_from else ''}>{e(h)}</th>" for i, h in enumerate(header))
    return f'<table class="{cls}"><thead><tr>{ths}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def kv_table(rows: Iterable[tuple[str, Any]]) -> str:
    body = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in rows)
    return f'<table class="kv"><tbody>{body}</tbody></table>'


def _ci(ci: Sequence[float | None] | None, scale: float = 100) -> str:
    if not ci or ci[0] is None or ci[1] is None:
        return "–"
    return f"{ci[0] * scale:.1f} to {ci[1] * scale:.1f}"


def _header(data: ReportData) -> str:
    run = data.run.name if data.run else "none (no labelled test set)"
    meta = [
        ("Date", data.created.strftime("%d %B %Y, %H:%M %Z").strip()),
        ("Model", data.model_name),
        ("Run", run),
        ("Faces", f"{len(data.faces)} (of at most {data.max_faces})"),
        ("Heatmaps", data.method.upper() if data.method.startswith("lrp") else data.method),
        ("Occlusion fill", data.fill),
    ]
    dl = "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in meta)
    toc = "".join(
        f'<li><a href="#{a}">{t}</a></li>'
        for a, t in (
            ("model", "Model card"),
            ("faces", "Sample faces and heatmaps"),
            ("occlusion", "Occlusion test"),
            ("fairness", "Fairness across groups"),
            ("faithfulness", "How far to trust the heatmaps"),
        )
    )
    notes = "".join(f'<p class="note">{e(n)}</p>' for n in data.notes)
    return (
        f'<header><div class="kicker">Facial-expression recognition · explainability report</div>'
        f"<h1>Model report: {e(data.model_name)}</h1>"
        f'<dl class="meta">{dl}</dl><nav class="toc"><ol>{toc}</ol></nav>{notes}</header>'
    )


def _model_section(data: ReportData) -> str:
    card = data.card
    h, w = card.input_size
    norm = [f"{v[0]:g}" if len(set(v)) == 1 else f"({', '.join(f'{x:g}' for x in v)})" for v in (card.mean, card.std)]
    rows = [
        ("architecture", card.arch),
        ("parameters", f"{data.num_parameters:,}"),
        ("input", f"{w} × {h} px, {'grey' if card.in_chans == 1 else 'RGB'}"),
        ("normalisation", f"(pixel / 255 − {norm[0]}) / {norm[1]}" + (" per channel" if card.in_chans > 1 else "")),
        ("labels (output order)", ", ".join(card.label_names)),
        ("alignment template", card.alignment),
        ("training data", summary.training_data_text(card) or "–"),
        ("origin", card.origin or "–"),
        ("licence", card.licence or "–"),
    ]
    if card.notes:
        rows.append(("notes", card.notes))
    out = f'<section id="model"><h2>1. Model card</h2><p class="summary">{e(summary.model_summary(data))}</p>'
    out += kv_table(rows)
    if data.run is not None:
        r = data.run
        acc = "–" if r.test_accuracy is None else f"{r.test_accuracy:.1%}"
        f1 = "–" if r.test_macro_f1 is None else f"{r.test_macro_f1:.3f}"
        out += f"<h3>Training run {e(r.name)}</h3>" + kv_table(
            [
                ("recipe", r.recipe),
                ("status", r.status),
                ("model", r.model_name),
                ("folder", r.folder),
                ("test accuracy / macro-F1", f"{acc} / {f1}"),
                *r.config_rows,
            ]
        )
    return out + "</section>"


def _face_block(i: int, face: SampleFace) -> str:
    res = face.result
    share = sorted(res.region_share().items(), key=lambda kv: -kv[1])[:3]
    where = ", ".join(f"{r.replace('_', ' ')} {v:.0%}" for r, v in share)
    grid = charts.image_png(charts.heatmap_grid(res))
    probs = charts.probability_chart(res.labels, res.probs)
    crop_note = " The image was used as an aligned face crop (no detection)." if res.face.used_as_crop else ""
    evidence = (
        f"The {e(face.pred)} heatmap is almost all negative: no region holds evidence for it."
        if res.mostly_negative()
        else f"Share of the {e(face.pred)} heatmap's positive evidence by region: {e(where)}."
    )
    return (
        f'<figure class="face"><h3>Face {i + 1}: {e(face.title)}</h3><div class="face-row">'
        f'<div class="grid">{img(grid, f"face {i + 1} and its heatmap for every class")}</div>'
        f'<div class="probs">{img(probs, f"class probabilities of face {i + 1}")}</div></div>'
        f"<figcaption>Predicted <b>{e(face.pred)}</b> ({face.base_probability:.0%}). {evidence}{crop_note}"
        "</figcaption></figure>"
    )


def _faces_section(data: ReportData) -> str:
    out = (
        f'<section id="faces" class="page"><h2>2. Sample faces and heatmaps</h2>'
        f'<p class="summary">{e(summary.faces_summary(data))}</p>'
        f'<div class="legend">against the class <span class="scale"></span> for the class '
        f"(one shared scale per face; {e(data.method)})</div>"
    )
    out += "".join(_face_block(i, f) for i, f in enumerate(data.faces))
    if data.skipped:
        rows = (f'<tr><td class="name">{e(s.name)}</td><td>{e(s.reason)}</td></tr>' for s in data.skipped)
        out += "<h3>Inputs not used</h3>" + table(["file", "reason"], rows, numeric_from=99)
    return out + "</section>"


def _change_cell(v: float) -> str:
    cls = "drop-strong" if v <= -0.10 else "drop" if v <= -0.02 else "rise" if v >= 0.02 else ""
    return num(v, "+.1f", cls, scale=100)


def _occlusion_section(data: ReportData) -> str:
    header = ["face", "predicted", "intact", *[f"hide {r}" for r in data.regions]]
    rows = []
    for i, f in enumerate(data.faces):
        change = f.occlusion_change()
        rows.append(
            f'<tr data-face="{i}"><td class="name">{i + 1}. {e(f.title)}</td><td>{e(f.pred)}</td>'
            + num(f.base_probability, ".1f", scale=100)
            + "".join(_change_cell(change[r]) for r in data.regions)
            + "</tr>"
        )
    mean = data.occlusion_mean()
    rows.append(
        '<tr data-face="mean" class="mean"><td class="name">mean over faces</td><td></td><td class="num">'
        "</td>" + "".join(_change_cell(mean[r]) for r in data.regions) + "</tr>"
    )
    return (
        f'<section id="occlusion" class="page"><h2>3. Occlusion test</h2>'
        f'<p class="summary">{e(summary.occlusion_summary(data))}</p>'
        f'<p class="muted">Probability of the predicted class with the face intact (%), and its change in '
        f"percentage points when one region is replaced by the fill <b>{e(data.fill)}</b> "
        f"({e(summary.FILL_WORDS.get(data.fill, data.fill))}).</p>"
        + table(header, rows, cls="occlusion", numeric_from=2)
        + f'<figure class="chart">{img(charts.occlusion_chart(data.faces, data.regions), "occlusion chart")}'
        "</figure></section>"
    )


def _attribute_block(attr: str, rep: dict) -> str:
    boot = rep.get("bootstrap") or {}
    probe = rep.get("probe") or {}
    key = [
        ("overall accuracy", f"{rep['overall']['accuracy']:.1%}"),
        ("worst-group accuracy", f"{rep['worst_group_accuracy']:.1%}"),
        (
            "accuracy gap, best − worst group",
            f"{rep['accuracy_gap'] * 100:.1f} points (95% interval {_ci(boot.get('accuracy_gap'))})",
        ),
        ("equal-opportunity gap (recall)", f"{rep['equal_opportunity_gap']:.3f}"),
        ("equalized-odds gap", f"{rep['equalized_odds_gap']:.3f}"),
    ]
    if probe.get("accuracy") is not None:
        key.append(
            (
                "a linear probe guesses the group from the model's features",
                f"{probe['accuracy']:.1%} (chance {probe['chance']:.1%})",
            )
        )
    groups = []
    for g, m in rep["by_group"].items():
        ci = (boot.get("accuracy") or {}).get(g)
        groups.append(
            f'<tr data-group="{e(g)}"><td class="name">{e(g)}{" (small: noisy)" if m.get("small") else ""}'
            f"</td>{num(m['n'], 'd')}{num(m['accuracy'], '.1f', scale=100)}<td class=num>{_ci(ci)}</td>"
            f"{num(m['macro_f1'], '.3f')}</tr>"
        )
    out = f"<h3>By {e(attr)}</h3>" + kv_table(key) + '<div class="charts">'
    out += f"<figure>{img(charts.accuracy_chart(rep, attr), f'accuracy by {attr}')}</figure>"
    mmd_png = charts.mmd_chart(rep, attr)
    if mmd_png is not None:
        out += f"<figure>{img(mmd_png, f'MMD between {attr} groups')}</figure>"
    out += "</div>" + table(["group", "faces", "accuracy %", "95% interval", "macro-F1"], groups)
    mmd = rep.get("mmd")
    if mmd:
        pairs = []
        for p in mmd["pairs"]:
            if p["mmd2"] is None:
                pairs.append(f"<tr><td>{e(p['a'])} vs {e(p['b'])}</td><td colspan=4>{e(p.get('reason', ''))}</td></tr>")
                continue
            pairs.append(
                f'<tr data-pair="{e(p["a"])}|{e(p["b"])}"><td>{e(p["a"])} vs {e(p["b"])}</td>'
                f"{num(p['n_a'], 'd')}{num(p['n_b'], 'd')}{num(p['mmd2'], '.5f')}"
                f"{num(p['p_value'], '.3f')}</tr>"
            )
        out += (
            f'<p class="muted">Maximum mean discrepancy (MMD²) between the groups\' embeddings: 0 when the model '
            f"represents both groups alike. p-value from {mmd.get('num_permutations')} permutations "
            f"(* p &lt; 0.05).</p>" + table(["pair", "faces a", "faces b", "MMD²", "p-value"], pairs)
        )
    return out


def _fairness_section(data: ReportData) -> str:
    out = (
        f'<section id="fairness" class="page"><h2>4. Fairness across groups</h2>'
        f'<p class="summary">{e(summary.fairness_summary(data))}</p>'
    )
    section = data.fairness
    if section is None or section.report is None:
        return out + "</section>"
    source = (
        f"the run's {RunFolder.EVALUATION} (computed at the end of training by fer_core.fairness from these test "
        "predictions and embeddings)"
        if section.source == RunFolder.EVALUATION
        else "fer_core.fairness, computed now from the run's test predictions and embeddings"
    )
    out += f'<p class="muted">Test set of run {e(section.run_name)}; figures from {e(source)}.</p>'
    for attr, rep in section.report.get("attributes", {}).items():
        out += _attribute_block(attr, rep)
    return out + "</section>"


def _faithfulness_section(data: ReportData) -> str:
    rows = []
    for i, f in enumerate(data.faces):
        a = f.faithfulness["aopc"]
        ok = a["most relevant first"] > a["random order"]
        rows.append(
            f'<tr data-face="{i}"><td class="name">{i + 1}. {e(f.title)}</td><td>{e(f.faithfulness["label"])}'
            f"</td>{num(a['most relevant first'], '.3f')}{num(a['random order'], '.3f')}"
            f"{num(a['least relevant first'], '.3f')}<td>{'beats random' if ok else 'no better than random'}"
            "</td></tr>"
        )
    f0 = data.faces[0].faithfulness
    out = (
        f'<section id="faithfulness" class="page"><h2>5. How far to trust the heatmaps</h2>'
        f'<p class="summary">{e(summary.faithfulness_summary(data))}</p>'
        f'<p class="muted">Pixel flipping: the face is covered patch by patch ({f0["patch"]} px patches, '
        f"{f0['steps']} steps, fill {e(f0['fill'])}) in the heatmap's order or at random; AOPC is the mean drop "
        f"of the explained class's probability along the way (higher for most-relevant-first = more faithful).</p>"
        + table(
            [
                "face",
                "class explained",
                "AOPC most relevant first",
                "AOPC random",
                "AOPC least relevant first",
                "verdict",
            ],
            rows,
            numeric_from=2,
        )
        + f'<figure class="chart">{img(charts.aopc_chart(data.faces), "AOPC per face")}</figure>'
    )
    loc = data.localisation
    out += "<h3>Planted truth: does the heatmap find the real evidence?</h3>"
    if loc is None:
        out += (
            '<p class="muted">Not measured: this needs a run trained on SynthFACS, whose test faces come with '
            "the mask of the pixels their expression really changed (pass --run).</p>"
        )
    elif loc.result is None:
        out += f'<p class="muted">Not measured for run {e(loc.run_name)}: {e(loc.reason)}.</p>'
    else:
        res = loc.result
        mrows = [
            f'<tr data-method="{e(m["method"])}"><td>{e(m["label"])}</td>'
            f"{num(m['mass_accuracy'], '.1f', scale=100)}<td class=num>{_ci(m['mass_accuracy_ci'])}</td>"
            f"{num(m['rank_accuracy'], '.1f', scale=100)}{num(m['aopc_morf'], '.3f')}</tr>"
            for m in res["methods"]
        ]
        out += (
            f'<p class="muted">{res["n_faces"]} correctly classified SynthFACS test faces of run '
            f"{e(loc.run_name)} (model {e(res['model'])}); the evidence region covers {res['mask_share']:.0%} of "
            f"a face on average, so a random map scores about that.</p>"
            + table(
                ["method", "relevance mass accuracy %", "95% interval", "rank accuracy %", "AOPC most relevant first"],
                mrows,
            )
            + f'<figure class="chart">{img(charts.localisation_chart(res), "relevance mass accuracy")}</figure>'
        )
    return out + "</section>"


def _footer(data: ReportData) -> str:
    try:
        from importlib.metadata import version

        ver = version("fer-explain")
    except Exception:  # not installed as a distribution (a source checkout)
        ver = "source checkout"
    return (
        f"<footer>Generated by fer-core ({e(ver)}) on {e(data.created.isoformat(timespec='seconds'))}. "
        "This file is self-contained: it loads nothing from the network. The faces shown come only from the "
        "images supplied for this report; nothing else was written to disk.</footer>"
    )


def render_html(data: ReportData) -> str:
    """The whole report as one HTML document (UTF-8 text).

    Self-contained: inline CSS, every picture a ``data:`` URI, no script and nothing fetched, so the file can be
    mailed as it is or turned into a PDF (:func:`fer_core.report.html_to_pdf`).

    Parameters
    ----------
    data
        What :func:`fer_core.report.build_report` computed.

    Returns
    -------
    str
        The document: the model, the sample faces with their heatmaps, occlusion, fairness (filled in when the
        report has a run) and faithfulness.
    """
    title = f"FER model report: {data.model_name}"
    body = (
        _header(data)
        + _model_section(data)
        + _faces_section(data)
        + _occlusion_section(data)
        + _fairness_section(data)
        + _faithfulness_section(data)
        + _footer(data)
    )
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(title)}</title><style>{CSS}</style></head><body><main>{body}</main></body></html>\n"
    )
