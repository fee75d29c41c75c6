"""Charts of the label-free audit of a photo set (``evaluate_manifest(...)["audit"][attribute]``): how many faces
the detector found per group, how often each class is predicted per group (with intervals) and the parity gaps."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from fer_core.names import STATUSES

from .text import md

STATUS_NAMES = {
    "detected": "face detected",
    "crop": "used as crop",
    "no_face": "no face found",
    "unreadable": "unreadable",
}
STATUS_COLOURS = {"detected": "#2e86c1", "crop": "#85c1e9", "no_face": "#c0392b", "unreadable": "#7f8c8d"}


def detection_bars(detection: dict, key: str) -> None:
    """Share of each group's images by what happened to them (stacked), the groups' n in the hover."""
    groups = list(detection["by_group"])
    fig = go.Figure()
    for status in STATUSES:
        shares = [detection["by_group"][g][f"{status}_share"] or 0.0 for g in groups]
        counts = [detection["by_group"][g][status] for g in groups]
        fig.add_bar(
            y=groups,
            x=shares,
            orientation="h",
            name=STATUS_NAMES[status],
            marker_color=STATUS_COLOURS[status],
            customdata=counts,
            text=[f"{s:.0%}" if s >= 0.06 else "" for s in shares],
            textposition="inside",
            hovertemplate="%{y}: %{x:.1%} (%{customdata} images)<extra>" + STATUS_NAMES[status] + "</extra>",
        )
    fig.update_layout(
        barmode="stack",
        height=80 + 40 * len(groups),
        margin=dict(l=10, r=10, t=10, b=10),
        xaxis=dict(tickformat=".0%", range=[0, 1]),
        legend=dict(orientation="h", y=-0.25),
    )
    st.plotly_chart(fig, key=key, width="stretch")


def prediction_rate_bars(audit: dict, key: str) -> None:
    """Share of each group's faces predicted as each class, with bootstrap intervals, groups side by side."""
    fig = go.Figure()
    labels = audit["labels"]
    for g, entry in audit["by_group"].items():
        rate = [entry["prediction_rate"][lab] or 0.0 for lab in labels]
        ci = entry.get("prediction_rate_ci") or {}
        lo = [r - (ci.get(lab, [r, r])[0] or r) for lab, r in zip(labels, rate)]
        hi = [(ci.get(lab, [r, r])[1] or r) - r for lab, r in zip(labels, rate)]
        fig.add_bar(
            x=labels,
            y=rate,
            name=f"{g} (n={entry['n']})",
            error_y=dict(type="data", symmetric=False, array=hi, arrayminus=lo, color="#555"),
            hovertemplate="%{x}: %{y:.1%}<extra>" + g + "</extra>",
        )
    fig.update_layout(
        barmode="group",
        height=320,
        margin=dict(l=10, r=10, t=10, b=10),
        yaxis=dict(tickformat=".0%", title="share of the group's faces"),
        legend=dict(orientation="h", y=-0.2, title="group"),
    )
    st.plotly_chart(fig, key=key, width="stretch")


def parity_table(audit: dict) -> None:
    """Per class: the gap between the groups predicted it most and least, with its interval."""
    rows = []
    for lab, p in audit["demographic_parity"].items():
        ci = p.get("ci") or [None, None]
        rows.append(
            {
                "class": lab,
                "parity gap": p["gap"],
                "95% interval": f"{ci[0]:.1%} to {ci[1]:.1%}" if ci[0] is not None else "",
                "most often": p.get("highest", ""),
                "least often": p.get("lowest", ""),
            }
        )
    table = pd.DataFrame(rows).sort_values("parity gap", ascending=False)
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={"parity gap": st.column_config.NumberColumn(format="percent")},
    )


def audit_verdicts(attribute: str, audit: dict, resampled: str) -> list[str]:
    """Plain sentences a manager reads first: the detection gap, the largest parity gap, the probe."""
    lines = []
    det = audit["detection"]
    groups = det.get("by_group", {})
    if det.get("detected_gap") is not None and len(groups) > 1:
        worst = min(groups, key=lambda g: groups[g]["found_share"] or 0)
        best = max(groups, key=lambda g: groups[g]["found_share"] or 0)
        low, high = groups[worst]["found_share"] or 0.0, groups[best]["found_share"] or 0.0
        if high - low < 0.005:
            lines.append(f"The model sees a face in **{low:.0%}** of every group's images alike.")
        else:
            lines.append(
                f"The model sees a face in **{low:.0%}** of **{md(worst)}** images against **{high:.0%}** of "
                f"**{md(best)}**: the rest never reach the model."
            )
    top = audit.get("largest_parity_gap")
    if top and top.get("gap") is not None:
        ci = top.get("ci")
        ci_text = f" (95% interval {ci[0]:.0%} to {ci[1]:.0%}, resampling {resampled}s)" if ci else ""
        lines.append(
            f"Largest difference in predictions: **{md(top['label'])}** is predicted for "
            f"{audit['by_group'][top['highest']]['prediction_rate'][top['label']]:.0%} of **{md(top['highest'])}** "
            f"faces and {audit['by_group'][top['lowest']]['prediction_rate'][top['label']]:.0%} of "
            f"**{md(top['lowest'])}**{ci_text}. Without labels this may be a real difference between the groups' "
            "photos or a bias of the model; labels on a sample tell which."
            if top.get("highest")
            else f"Largest difference in predictions: {md(top['label'])}, {top['gap']:.0%}."
        )
    probe = audit.get("probe") or {}
    if probe.get("accuracy") is not None:
        lines.append(
            f"A linear probe tells {md(attribute)} from the model's features with accuracy {probe['accuracy']:.0%} "
            f"(chance {probe['chance']:.0%}): the higher, the more the features encode the group."
        )
    return lines
