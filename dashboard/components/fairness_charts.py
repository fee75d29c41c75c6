"""Charts of one attribute's fairness report (the dicts of fer_core.fairness.fairness_report): per-group accuracy
with intervals, per-class TPR by group, the MMD matrix between groups, and a two-run comparison table."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st


def accuracy_floor(reps: list[dict]) -> float:
    """One y-axis floor for several runs' bar charts, so bars of different runs compare by height."""
    lows = []
    for rep in reps:
        ci = (rep.get("bootstrap") or {}).get("accuracy", {})
        lows += [min(v["accuracy"], (ci.get(g) or [v["accuracy"]])[0] or v["accuracy"])
                 for g, v in rep["by_group"].items()]
    return max(0.0, min(lows) - 0.05) if lows else 0.0


def mmd_ceiling(reps: list[dict]) -> float:
    values = [p["mmd2"] for r in reps for p in (r.get("mmd") or {}).get("pairs", []) if p.get("mmd2") is not None]
    return max(values + [1e-6])


def group_accuracy_bars(rep: dict, key: str, floor: float | None = None) -> str | None:
    """Accuracy per group with bootstrap intervals; returns the group a user clicked (or None)."""
    groups = list(rep["by_group"])
    acc = [rep["by_group"][g]["accuracy"] for g in groups]
    n = [rep["by_group"][g]["n"] for g in groups]
    ci = (rep.get("bootstrap") or {}).get("accuracy", {})
    lo = [a - (ci.get(g, [a, a])[0] or a) for g, a in zip(groups, acc)]
    hi = [(ci.get(g, [a, a])[1] or a) - a for g, a in zip(groups, acc)]
    small = set(rep.get("small_groups", []))
    colors = ["#c0392b" if a == min(acc) else "#2e86c1" for a in acc]
    fig = go.Figure(go.Bar(x=groups, y=acc, marker_color=colors, text=[f"{a:.1%}" for a in acc],
                           textposition="inside", insidetextanchor="end", textfont=dict(color="white"),
                           customdata=n,
                           error_y=dict(type="data", symmetric=False, array=hi, arrayminus=lo, color="#555"),
                           hovertemplate="%{x}: %{y:.1%} (n=%{customdata})<extra></extra>"))
    overall = rep["overall"]["accuracy"]
    fig.add_hline(y=overall, line_dash="dot", annotation_text=f"overall {overall:.1%}",
                  annotation_position="top left")
    low = accuracy_floor([rep]) if floor is None else floor
    fig.update_layout(height=300, margin=dict(l=0, r=0, t=10, b=0), yaxis=dict(tickformat=".0%", range=[low, 1.02],
                      title="accuracy"), xaxis=dict(title=None, ticktext=[f"{g}{' (small)' if g in small else ''}"
                                                                          for g in groups], tickvals=groups))
    event = st.plotly_chart(fig, width="stretch", key=key, on_select="rerun", selection_mode="points")
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    return str(points[0]["x"]) if points else None


def tpr_heatmap(rep: dict, key: str) -> None:
    """Recall of every class in every group; a column with a wide spread is where the groups are treated apart."""
    tpr = pd.DataFrame(rep["tpr"]).T.astype(float)
    fig = go.Figure(go.Heatmap(z=tpr.to_numpy(), x=list(tpr.columns), y=list(tpr.index), zmin=0, zmax=1,
                               colorscale="RdYlGn", text=np.vectorize(lambda v: "" if np.isnan(v) else f"{v:.0%}")(
                                   tpr.to_numpy()), texttemplate="%{text}", colorbar=dict(tickformat=".0%"),
                               hovertemplate="%{y}, %{x}: recall %{z:.1%}<extra></extra>"))
    fig.update_layout(height=80 + 38 * len(tpr), margin=dict(l=0, r=0, t=10, b=0))
    st.plotly_chart(fig, width="stretch", key=key)


def mmd_matrix(rep: dict, key: str, zmax: float | None = None) -> None:
    """Squared MMD between the groups' embeddings; the star marks p < 0.05 (permutation test)."""
    mmd = rep.get("mmd")
    if not mmd:
        st.caption("No embeddings for this run, so no MMD.")
        return
    names = mmd["groups"]
    z = np.zeros((len(names), len(names)))
    text = np.full(z.shape, "", dtype=object)
    for p in mmd["pairs"]:
        if p["mmd2"] is None:
            continue
        i, j = names.index(p["a"]), names.index(p["b"])
        z[i, j] = z[j, i] = max(p["mmd2"], 0.0)
        text[i, j] = text[j, i] = f"{p['mmd2']:.4f}{'*' if p['p_value'] < 0.05 else ''}<br>p={p['p_value']:.3f}"
    fig = go.Figure(go.Heatmap(z=z, x=names, y=names, colorscale="Blues", zmin=0, zmax=zmax, text=text,
                               texttemplate="%{text}", hovertemplate="%{y} vs %{x}: MMD² %{z:.5f}<extra></extra>"))
    fig.update_layout(height=90 + 45 * len(names), margin=dict(l=0, r=0, t=10, b=0), yaxis=dict(autorange="reversed"))
    st.plotly_chart(fig, width="stretch", key=key)


def summary_rows(rep: dict) -> dict[str, float | None]:
    """The headline figures of one run for one attribute."""
    probe = rep.get("probe") or {}
    mmd = rep.get("mmd") or {}
    return {"accuracy": rep["overall"]["accuracy"], "macro-F1": rep["overall"]["macro_f1"],
            "worst-group accuracy": rep["worst_group_accuracy"], "accuracy gap (best - worst group)":
                rep["accuracy_gap"], "equal-opportunity gap": rep["equal_opportunity_gap"],
            "equalized-odds gap": rep["equalized_odds_gap"], "mean MMD² between groups": mmd.get("mean_mmd2"),
            "probe accuracy (guessing the group)": probe.get("accuracy"), "probe chance level": probe.get("chance")}


def comparison_table(names: list[str], reps: list[dict]) -> None:
    rows = [summary_rows(r) for r in reps]
    table = pd.DataFrame(rows, index=names).T
    if len(names) == 2:
        table["change"] = table[names[1]] - table[names[0]]
    st.dataframe(table.style.format("{:.3f}", na_rep="–"), width="stretch")
