"""Pictures and charts: face boxes on the photo, probability bars, heatmap grids, occlusion deltas."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import pandas as pd
import plotly.express as px
import streamlit as st

from fer_core.explain import overlay
from fer_core.workflows import FaceOcclusion, FaceResult


def photo_with_boxes(image: np.ndarray, boxes: Sequence[Sequence[float]], max_side: int = 720) -> np.ndarray:
    h, w = image.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    size = (max(1, round(w * scale)), max(1, round(h * scale)))  # a 65,500 x 24 photo must not shrink to 0 px
    out = cv2.resize(image, size, interpolation=cv2.INTER_AREA) if scale < 1 else image.copy()
    thick = max(2, round(max(out.shape[:2]) / 300))
    for i, (x, y, w, h) in enumerate(boxes):
        p1, p2 = (round(x * scale), round(y * scale)), (round((x + w) * scale), round((y + h) * scale))
        cv2.rectangle(out, p1, p2, (255, 140, 0), thick)
        cv2.putText(
            out,
            str(i + 1),
            (p1[0] + 3, p1[1] + 6 + 10 * thick),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.4 * thick,
            (255, 140, 0),
            thick,
            cv2.LINE_AA,
        )
    return out


def probability_chart(labels: Sequence[str], probs: Sequence[float], key: str) -> None:
    df = pd.DataFrame({"class": list(labels), "probability": [float(p) for p in probs]})
    fig = px.bar(df, x="probability", y="class", orientation="h", range_x=[0, 1], text_auto=".0%", height=260)
    fig.update_layout(
        margin=dict(l=0, r=10, t=10, b=0),
        yaxis=dict(categoryorder="array", categoryarray=list(labels)[::-1], title=None),
        xaxis=dict(tickformat=".0%"),
    )
    st.plotly_chart(fig, width="stretch", key=key)


def heatmap_grid(result: FaceResult, shared_scale: bool, columns: int = 4) -> None:
    heats = result.heatmaps
    vmax = (float(np.percentile(np.abs(heats), 99.5)) or 1.0) if shared_scale else None
    order = np.argsort(-result.probs)
    cols = st.columns(columns)
    for i, k in enumerate(order):
        with cols[i % columns]:
            st.image(
                overlay(result.face.crop, heats[k], size=192, vmax=vmax),
                caption=f"{result.labels[k]} · {result.probs[k]:.0%}",
                width="stretch",
            )


def small_changes(face: FaceOcclusion) -> bool:
    """Whether every change is under 5 points: the axis then needs a decimal, or its ticks all read "+0%"."""
    return bool((face.changes()["change"].abs() < 0.05).all())


def occlusion_chart(face: FaceOcclusion, key: str) -> None:
    """Every class's score change per hidden region, grouped by class."""
    fig = px.bar(
        face.changes(),
        x="class",
        y="change",
        color="region",
        barmode="group",
        height=320,
        color_discrete_sequence=px.colors.qualitative.Bold,
        labels={"change": "probability change"},
    )
    fig.update_traces(hovertemplate="%{x}, %{fullData.name} hidden: %{y:+.1%}<extra></extra>")
    fig.update_layout(
        margin=dict(l=0, r=0, t=10, b=0), yaxis=dict(tickformat="+.1%" if small_changes(face) else "+.0%")
    )
    st.plotly_chart(fig, width="stretch", key=key)
