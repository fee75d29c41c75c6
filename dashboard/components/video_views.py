"""The Video page's pictures: one timeline per person (classes as lines, episodes shaded), the head pose over time
where the mesh measured it, and the episodes table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from fer_core.face import FRONTAL_DEGREES
from fer_core.video import Track, track_colour

#: one colour per basic expression; other labels take plotly's defaults
CLASS_COLOURS = {
    "angry": "#d62728",
    "disgust": "#8c564b",
    "fear": "#9467bd",
    "happy": "#2ca02c",
    "sad": "#1f77b4",
    "surprise": "#ff7f0e",
    "neutral": "#7f7f7f",
    "contempt": "#e377c2",
}


def time_range(track: Track) -> list[float]:
    """The x range every chart of a person shares, so that their time markers line up."""
    t0, t1 = float(track.times[0]), float(track.times[-1])
    pad = 0.02 * max(t1 - t0, 1.0)
    return [t0 - pad, t1 + pad]


def timeline(track: Track, key: str, marker_t: float | None = None) -> float | None:
    """The person's smoothed class probabilities over time, episodes shaded and named; a click on the chart
    returns the clicked time (None without a click)."""
    sm = track.smoothed
    times = track.times
    fig = go.Figure()
    for k, label in enumerate(track.labels):
        fig.add_trace(
            go.Scatter(
                x=times,
                y=sm[:, k],
                mode="lines+markers",
                marker=dict(size=4),
                line=dict(color=CLASS_COLOURS.get(label), width=2 if label != "neutral" else 1.2),
                name=label,
                hovertemplate=f"{label} %{{y:.0%}} at %{{x:.1f}} s<extra></extra>",
            )
        )
    for ep in track.episodes:
        fig.add_vrect(
            x0=ep.onset,
            x1=ep.offset,
            fillcolor=CLASS_COLOURS.get(ep.label, "#999"),
            opacity=0.12,
            line_width=0,
            annotation_text=f"{ep.label} (apex {ep.apex:.1f} s)",
            annotation_position="top left",
        )
        fig.add_vline(x=ep.apex, line=dict(color=CLASS_COLOURS.get(ep.label, "#999"), dash="dot", width=1))
    if marker_t is not None:
        fig.add_vline(x=marker_t, line=dict(color="#222", width=2))
    r, g, b = track_colour(track.id)
    fig.update_layout(
        height=300,
        margin=dict(l=70, r=0, t=30, b=0),
        title=dict(text=f"person {track.id + 1}", font=dict(color=f"rgb({r},{g},{b})"), x=0, y=0.98),
        yaxis=dict(tickformat=".0%", range=[0, 1.05], title="probability (smoothed)"),
        xaxis=dict(title="seconds", range=time_range(track)),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0.3),
        hovermode="closest",
    )
    event = st.plotly_chart(fig, width="stretch", key=key, on_select="rerun", selection_mode="points")
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    return float(points[0]["x"]) if points else None


#: yaw, pitch, roll: how each angle reads in the legend, and its colour
POSE_LINES = (
    ("yaw", "yaw (+: turned to the image's right)", "#1f77b4"),
    ("pitch", "pitch (+: tilted up)", "#ff7f0e"),
    ("roll", "roll (+: clockwise as seen)", "#7f7f7f"),
)


def pose_chart(track: Track, key: str, marker_t: float | None = None) -> None:
    """The person's head yaw, pitch and roll over time (degrees), the frontal band (yaw and pitch within
    ``FRONTAL_DEGREES``; roll does not count) shaded: where a turned head may explain a change of expression
    scores."""
    poses, times = track.poses, track.times
    fig = go.Figure()
    fig.add_hrect(y0=-FRONTAL_DEGREES, y1=FRONTAL_DEGREES, fillcolor="#2ca02c", opacity=0.08, line_width=0)
    for k, (_, name, colour) in enumerate(POSE_LINES):
        fig.add_trace(
            go.Scatter(
                x=times,
                y=poses[:, k],
                mode="lines",
                line=dict(color=colour, width=2 if k < 2 else 1.2, dash="solid" if k < 2 else "dot"),
                name=name,
                hovertemplate=f"{name.split()[0]} %{{y:+.0f}}° at %{{x:.1f}} s<extra></extra>",
            )
        )
    if marker_t is not None:
        fig.add_vline(x=marker_t, line=dict(color="#222", width=2))
    span = max(30.0, float(np.nanmax(np.abs(poses))) + 5 if np.isfinite(poses).any() else 30.0)
    fig.update_layout(
        height=210,
        margin=dict(l=70, r=0, t=30, b=0),
        title=dict(text="head pose (shaded: frontal)", font=dict(size=13), x=0, y=0.98),
        yaxis=dict(range=[-span, span], ticksuffix="°", zeroline=True, title="degrees"),
        xaxis=dict(title="seconds", range=time_range(track)),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0.3),
    )
    st.plotly_chart(fig, width="stretch", key=key)


def episodes_table(track: Track) -> pd.DataFrame:
    """The person's episodes as a table (seconds and peak probability)."""
    return pd.DataFrame(
        [
            {
                "expression": e.label,
                "onset (s)": round(e.onset, 2),
                "apex (s)": round(e.apex, 2),
                "offset (s)": round(e.offset, 2),
                "lasts (s)": round(e.offset - e.onset, 2),
                "peak": f"{e.peak:.0%}",
            }
            for e in track.episodes
        ]
    )
