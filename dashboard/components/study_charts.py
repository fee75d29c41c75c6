"""Charts of the dataset studies (fer_core.studies JSON): occlusion drop tables, bars with intervals, region shares
by group, and one face's perturbation curves."""
from __future__ import annotations

from typing import Sequence

import plotly.graph_objects as go
import streamlit as st

PALETTE = ["#2e86c1", "#c0392b", "#27ae60", "#8e44ad", "#d68910", "#17a589", "#5d6d7e"]


def drop_heatmap(records: list[dict], regions: Sequence[str], key: str) -> None:
    """True class x region: mean drop of the true class's probability (points), interval in the hover."""
    classes = list(dict.fromkeys(r["label"] for r in records))
    cell = {(r["label"], r["region"]): r for r in records}
    z = [[100 * cell[(c, g)]["drop"] if (c, g) in cell else None for g in regions] for c in classes]
    text = [[f"{100 * cell[(c, g)]['drop']:.0f}" if (c, g) in cell else "" for g in regions] for c in classes]
    hover = [[f"{c}, hide {g}: {100 * cell[(c, g)]['drop']:.1f} points "
              f"[{100 * cell[(c, g)]['drop_lo']:.1f}, {100 * cell[(c, g)]['drop_hi']:.1f}], n={cell[(c, g)]['n']}"
              if (c, g) in cell else "" for g in regions] for c in classes]
    fig = go.Figure(go.Heatmap(z=z, x=list(regions), y=classes, text=text, texttemplate="%{text}",
                               customdata=hover, hovertemplate="%{customdata}<extra></extra>",
                               colorscale="Reds", zmin=0, colorbar=dict(title="points")))
    fig.update_layout(height=60 + 36 * len(classes), margin=dict(l=0, r=0, t=10, b=0),
                      yaxis=dict(autorange="reversed"), xaxis=dict(side="top"))
    st.plotly_chart(fig, width="stretch", key=key)


def grouped_bars(records: list[dict], x: str, series: str, value: str, key: str, percent_points: bool = True,
                 y_title: str = "", order: Sequence[str] | None = None) -> None:
    """Bars of ``value`` per ``x`` coloured by ``series``, with the ``<value>_lo``/``_hi`` interval as error bars."""
    scale = 100 if percent_points else 1
    fig = go.Figure()
    for i, name in enumerate(dict.fromkeys(r[series] for r in records)):
        rows = [r for r in records if r[series] == name]
        ys = [scale * r[value] for r in rows]
        fig.add_bar(name=str(name), x=[r[x] for r in rows], y=ys, marker_color=PALETTE[i % len(PALETTE)],
                    customdata=[r["n"] for r in rows],
                    error_y=dict(type="data", symmetric=False, color="#555",
                                 array=[scale * r[f"{value}_hi"] - y for r, y in zip(rows, ys)],
                                 arrayminus=[y - scale * r[f"{value}_lo"] for r, y in zip(rows, ys)]),
                    hovertemplate=f"{name}, %{{x}}: %{{y:.1f}} (n=%{{customdata}})<extra></extra>")
    fig.update_layout(barmode="group", height=320, margin=dict(l=0, r=0, t=10, b=0), yaxis_title=y_title,
                      legend=dict(orientation="h", y=1.12),
                      xaxis=dict(categoryorder="array", categoryarray=list(order or dict.fromkeys(r[x] for r in records))))
    st.plotly_chart(fig, width="stretch", key=key)


def region_share_bars(records: list[dict], attribute: str, regions: Sequence[str], key: str) -> None:
    """Share of the heatmap per region (x), one bar per group, with bootstrap intervals."""
    long = [{"region": g, "group": r[attribute], "share": r[g], "share_lo": r[f"{g}_lo"], "share_hi": r[f"{g}_hi"],
             "n": r["n"]} for r in records for g in regions]
    grouped_bars(long, "region", "group", "share", key, y_title="% of positive relevance", order=regions)


def perturbation_curves(faith: dict, key: str) -> None:
    """One face's drop of the explained class's probability as patches are replaced, in three orders."""
    colors = {"most relevant first": "#c0392b", "least relevant first": "#2e86c1", "random order": "#7f8c8d"}
    fig = go.Figure()
    xs = [0.0] + [100 * r for r in faith["removed"]]
    for name, ys in faith["curves"].items():
        fig.add_scatter(x=xs, y=[0.0] + [100 * y for y in ys], mode="lines", name=name,
                        line=dict(color=colors.get(name), dash="dot" if name == "random order" else "solid"))
    fig.update_layout(height=190, margin=dict(l=0, r=0, t=4, b=0), showlegend=False,
                      xaxis=dict(title="% of the face replaced", ticksuffix="%"),
                      yaxis=dict(title="drop (points)"))
    st.plotly_chart(fig, width="stretch", key=key, config={"displayModeBar": False})
