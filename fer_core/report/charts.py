"""The report's pictures as PNG bytes: heatmap grids (fer_core.explain.visualize) and static matplotlib charts.

Figures are built with ``matplotlib.figure.Figure`` and the Agg canvas directly, never pyplot, so no global state
is touched and several dashboard sessions can draw at once.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from ..explain import class_grid
from ..workflows import FaceResult
from .data import SampleFace

__all__ = [
    "accuracy_chart",
    "aopc_chart",
    "heatmap_grid",
    "image_png",
    "localisation_chart",
    "mmd_chart",
    "occlusion_chart",
    "png_bytes",
    "probability_chart",
]

BLUE, RED, GREY, GREEN, INK = "#2e6da4", "#c0392b", "#9aa5b1", "#2e8b57", "#1f2933"
DPI = 110


def png_bytes(fig: Figure) -> bytes:
    """Render a matplotlib figure to PNG bytes (Agg, no metadata time stamp)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight", facecolor="white", metadata={"Software": None})
    return buf.getvalue()


def image_png(rgb: np.ndarray) -> bytes:
    """An (H, W, 3) uint8 RGB array as PNG bytes."""
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb)).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def _axes(width: float, height: float):
    """A figure (constrained layout) and one axes with the report's look; styles are set on the artists, never in
    the global rcParams."""
    fig = Figure(figsize=(width, height), layout="constrained")
    ax = fig.add_subplot()
    ax.spines[["top", "right"]].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color("#52606d")
    ax.tick_params(labelsize=8, colors=INK)
    return fig, ax


def heatmap_grid(result: FaceResult, columns: int = 4, size: int = 144) -> np.ndarray:
    """The face and one heatmap per class (label and probability under each), ``columns`` tiles per row, on one
    shared colour scale (fer_core.explain.class_grid)."""
    row = class_grid(result.face.crop, list(result.heatmaps), result.labels, list(result.probs), size=size)
    tile_w = row.shape[1] // (len(result.labels) + 1)
    tiles = [row[:, i * tile_w : (i + 1) * tile_w] for i in range(len(result.labels) + 1)]
    gap = 6
    padded = [np.pad(t, ((0, gap), (0, gap), (0, 0)), constant_values=255) for t in tiles]
    blank = np.full_like(padded[0], 255)
    padded += [blank] * (-len(padded) % columns)
    rows = [np.hstack(padded[i : i + columns]) for i in range(0, len(padded), columns)]
    return np.vstack(rows)[:-gap, :-gap]


def probability_chart(labels: Sequence[str], probs: Sequence[float]) -> bytes:
    """Horizontal bars of the class probabilities, the predicted class highlighted."""
    fig, ax = _axes(3.0, 0.3 * len(labels) + 0.6)
    p = np.asarray(probs, dtype=float)
    y = np.arange(len(labels))[::-1]
    ax.barh(y, p, color=[RED if i == p.argmax() else BLUE for i in range(len(p))], height=0.7)
    for yi, v in zip(y, p):
        inside = v > 0.75
        ax.text(
            v - 0.02 if inside else v + 0.02,
            yi,
            f"{v:.0%}",
            va="center",
            ha="right" if inside else "left",
            fontsize=9,
            color="white" if inside else INK,
        )
    ax.set_yticks(y, list(labels))
    ax.tick_params(labelsize=9)
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.set_xlabel("probability", fontsize=9)
    return png_bytes(fig)


def occlusion_chart(faces: Sequence[SampleFace], regions: Sequence[str]) -> bytes:
    """Mean change of the predicted class's probability per hidden region (bars), each face as a dot."""
    fig, ax = _axes(5.0, 2.4)
    changes = np.array([[f.occlusion_change()[r] for r in regions] for f in faces]) * 100  # (F, R) points
    mean = changes.mean(0)
    x = np.arange(len(regions))
    ax.bar(x, mean, color=[RED if m < 0 else GREEN for m in mean], width=0.6, alpha=0.85, label="mean")
    jitter = np.linspace(-0.15, 0.15, len(faces)) if len(faces) > 1 else np.zeros(1)
    for i in range(len(faces)):
        ax.scatter(x + jitter[i], changes[i], s=14, color=INK, zorder=3, label="one face" if i == 0 else None)
    ax.axhline(0, color="#52606d", lw=0.8)
    ax.set_xticks(x, [f"hide {r}" for r in regions])
    ax.set_ylabel("change of predicted class\n(percentage points)")
    ax.legend(frameon=False, fontsize=8, loc="best")
    return png_bytes(fig)


def aopc_chart(faces: Sequence[SampleFace]) -> bytes:
    """Per face: area over the perturbation curve removing the most relevant patches first vs in random order."""
    fig, ax = _axes(5.0, 2.2)
    x = np.arange(len(faces))
    morf = [f.faithfulness["aopc"]["most relevant first"] for f in faces]
    rand = [f.faithfulness["aopc"]["random order"] for f in faces]
    ax.bar(x - 0.19, morf, width=0.38, color=BLUE, label="most relevant first (heatmap order)")
    ax.bar(x + 0.19, rand, width=0.38, color=GREY, label="random order (chance)")
    ax.axhline(0, color="#52606d", lw=0.8)
    ax.set_xticks(x, [f"face {i + 1}" for i in x])
    ax.set_ylabel("AOPC (mean probability drop)")
    ax.legend(frameon=False, fontsize=8)
    return png_bytes(fig)


def accuracy_chart(rep: dict, attribute: str) -> bytes:
    """Accuracy per group with 95 % bootstrap intervals and the overall accuracy as a dotted line."""
    groups = list(rep["by_group"])
    acc = np.array([rep["by_group"][g]["accuracy"] for g in groups])
    ci = (rep.get("bootstrap") or {}).get("accuracy", {})
    bounds = [ci.get(g) if ci.get(g) and None not in ci.get(g) else (a, a) for g, a in zip(groups, acc)]
    lo, hi = np.array([b[0] for b in bounds]), np.array([b[1] for b in bounds])
    fig, ax = _axes(3.6, 2.5)
    x = np.arange(len(groups))
    floor = max(0.0, float(min(lo.min(), acc.min())) - 0.1)
    ax.bar(x, acc, color=[RED if a == acc.min() else BLUE for a in acc], width=0.6)
    ax.errorbar(x, acc, yerr=[acc - lo, hi - acc], fmt="none", ecolor=INK, capsize=4, lw=1)
    for xi, a in zip(x, acc):
        ax.text(xi, (a + floor) / 2, f"{a:.1%}", ha="center", va="center", color="white", fontsize=8, fontweight="bold")
    overall = rep["overall"]["accuracy"]
    ax.axhline(overall, ls=":", color=INK, lw=1)
    small = set(rep.get("small_groups", []))
    ax.set_xticks(x, [f"{g}\n(small)" if g in small else g for g in groups])
    ax.set_ylim(floor, 1.0)
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.set_ylabel("accuracy", fontsize=9)
    ax.set_title(f"accuracy by {attribute} (dotted: overall {overall:.1%})", fontsize=10)
    return png_bytes(fig)


def mmd_chart(rep: dict, attribute: str) -> bytes | None:
    """Squared MMD between every two groups' embeddings, with the permutation p-value; None without embeddings."""
    mmd = rep.get("mmd")
    if not mmd:
        return None
    names = mmd["groups"]
    z = np.full((len(names), len(names)), np.nan)
    fig, ax = _axes(3.4, 0.45 * len(names) + 1.4)
    for p in mmd["pairs"]:
        if p["mmd2"] is not None:
            i, j = names.index(p["a"]), names.index(p["b"])
            z[i, j] = z[j, i] = max(p["mmd2"], 0.0)
    top = np.nanmax(z) if np.isfinite(z).any() else 1.0
    ax.imshow(np.nan_to_num(z, nan=0.0), cmap="Blues", vmin=0, vmax=top or 1.0)
    for p in mmd["pairs"]:
        if p["mmd2"] is None:
            continue
        i, j = names.index(p["a"]), names.index(p["b"])
        star = "*" if p["p_value"] < 0.05 else ""
        for a, b in ((i, j), (j, i)):
            dark = z[a, b] > 0.55 * top
            ax.text(
                b,
                a,
                f"{p['mmd2']:.4f}{star}\np={p['p_value']:.3f}",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if dark else INK,
            )
    ax.set_xticks(range(len(names)), names)
    ax.set_yticks(range(len(names)), names)
    ax.set_title(f"MMD² between {attribute} groups", fontsize=10)
    for side in ("top", "right"):
        ax.spines[side].set_visible(True)
    return png_bytes(fig)


def localisation_chart(result: dict) -> bytes:
    """Relevance mass accuracy per method inside the planted evidence, with 95 % bootstrap intervals."""
    rows = result["methods"]
    fig, ax = _axes(5.0, 0.45 * len(rows) + 0.9)
    y = np.arange(len(rows))[::-1]
    mass = np.array([r["mass_accuracy"] for r in rows])
    lo = np.array([r["mass_accuracy_ci"][0] for r in rows])
    hi = np.array([r["mass_accuracy_ci"][1] for r in rows])
    ax.barh(y, mass, color=[GREY if r["method"] == "random" else BLUE for r in rows], height=0.6)
    ax.errorbar(mass, y, xerr=[mass - lo, hi - mass], fmt="none", ecolor=INK, capsize=3, lw=1)
    for yi, v, h in zip(y, mass, hi):
        ax.text(h + 0.01, yi, f"{v:.0%}", va="center", fontsize=8)
    ax.axvline(result.get("mask_share", 0), ls=":", color=INK, lw=1)
    ax.set_yticks(y, [r["label"] for r in rows])
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.set_xlabel("positive relevance inside the evidence (dotted: evidence share of the face)", fontsize=9)
    return png_bytes(fig)
