"""Charts of one attribute's fairness report (``fer_core.fairness.AttributeReport``, the typed view of the
``fairness_report`` dicts): per-group accuracy with intervals, per-class TPR by group, the MMD matrix between groups,
one run's panel of them, a two-run comparison table and a group's mistakes."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from fer_core.explain import overlay
from fer_core.fairness import AttributeReport

from .. import _state as keys
from .errors import user_errors
from .glossary import tip
from .study_charts import region_relevance_panel
from .text import md


def accuracy_floor(reps: list[AttributeReport]) -> float:
    """One y-axis floor for several runs' bar charts, so bars of different runs compare by height."""
    lows = [r.accuracy_floor for r in reps if len(r.groups)]
    return max(0.0, min(lows) - 0.05) if lows else 0.0


def mmd_ceiling(reps: list[AttributeReport]) -> float:
    values = [float(v) for r in reps if r.mmd is not None for v in r.mmd["mmd2"].dropna()]
    return max(values + [1e-6])


def group_accuracy_bars(rep: AttributeReport, key: str, floor: float | None = None) -> str | None:
    """Accuracy per group with bootstrap intervals; returns the group a user clicked (or None)."""
    table = rep.by_group
    groups, acc = list(table.index), table["accuracy"].tolist()
    lo = (table["accuracy"] - table["ci_low"].fillna(table["accuracy"])).tolist()
    hi = (table["ci_high"].fillna(table["accuracy"]) - table["accuracy"]).tolist()
    small = set(rep.small_groups)
    colors = ["#c0392b" if a == min(acc) else "#2e86c1" for a in acc]
    fig = go.Figure(
        go.Bar(
            x=groups,
            y=acc,
            marker_color=colors,
            text=[f"{a:.1%}" for a in acc],
            textposition="inside",
            insidetextanchor="end",
            textfont=dict(color="white"),
            customdata=table["n"].tolist(),
            error_y=dict(type="data", symmetric=False, array=hi, arrayminus=lo, color="#555"),
            hovertemplate="%{x}: %{y:.1%} (n=%{customdata})<extra></extra>",
            name="group accuracy (worst in red)",
        )
    )
    overall = rep.overall["accuracy"]
    fig.add_hline(y=overall, line_dash="dot", line_color="#444")
    # the line's label in the legend: written on the plot it sat behind the bars' own labels
    fig.add_trace(
        go.Scatter(x=[None], y=[None], mode="lines", line=dict(dash="dot", color="#444"), name=f"overall {overall:.1%}")
    )
    low = accuracy_floor([rep]) if floor is None else floor
    fig.update_layout(
        height=320,
        margin=dict(l=0, r=0, t=30, b=0),
        showlegend=True,
        legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0),
        yaxis=dict(tickformat=".0%", range=[low, 1.02], title="accuracy"),
        xaxis=dict(title=None, ticktext=[f"{g}{' (small)' if g in small else ''}" for g in groups], tickvals=groups),
    )
    event = st.plotly_chart(fig, width="stretch", key=key, on_select="rerun", selection_mode="points")
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    return str(points[0]["x"]) if points else None


def tpr_heatmap(rep: AttributeReport, key: str) -> None:
    """Recall of every class in every group; a column with a wide spread is where the groups are treated apart."""
    tpr = rep.tpr
    fig = go.Figure(
        go.Heatmap(
            z=tpr.to_numpy(),
            x=list(tpr.columns),
            y=list(tpr.index),
            zmin=0,
            zmax=1,
            colorscale="RdYlGn",
            text=np.vectorize(lambda v: "" if np.isnan(v) else f"{v:.0%}")(tpr.to_numpy()),
            texttemplate="%{text}",
            colorbar=dict(tickformat=".0%"),
            hovertemplate="%{y}, %{x}: recall %{z:.1%}<extra></extra>",
        )
    )
    fig.update_layout(height=80 + 38 * len(tpr), margin=dict(l=0, r=0, t=10, b=0))
    st.plotly_chart(fig, width="stretch", key=key)


def mmd_matrix(rep: AttributeReport, key: str, zmax: float | None = None) -> None:
    """Squared MMD between the groups' embeddings; the star marks p < 0.05 (permutation test)."""
    pairs = rep.mmd
    if pairs is None:
        st.caption("No embeddings for this run, so no MMD.")
        return
    names = list(rep.mmd_groups)
    z = np.zeros((len(names), len(names)))
    text = np.full(z.shape, "", dtype=object)
    for p in pairs.dropna(subset=["mmd2"]).itertuples():
        i, j = names.index(p.a), names.index(p.b)
        z[i, j] = z[j, i] = max(p.mmd2, 0.0)
        text[i, j] = text[j, i] = f"{p.mmd2:.4f}{'*' if p.p_value < 0.05 else ''}<br>p={p.p_value:.3f}"
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=names,
            y=names,
            colorscale="Blues",
            zmin=0,
            zmax=zmax,
            text=text,
            texttemplate="%{text}",
            hovertemplate="%{y} vs %{x}: MMD² %{z:.5f}<extra></extra>",
        )
    )
    fig.update_layout(height=90 + 45 * len(names), margin=dict(l=0, r=0, t=10, b=0), yaxis=dict(autorange="reversed"))
    st.plotly_chart(fig, width="stretch", key=key)


def summary_rows(rep: AttributeReport) -> dict[str, float | None]:
    """The headline figures of one run for one attribute."""
    probe = rep.probe
    return {
        "accuracy": rep.overall["accuracy"],
        "macro-F1": rep.overall["macro_f1"],
        "worst-group accuracy": rep.worst_group_accuracy,
        "accuracy gap (best - worst group)": rep.accuracy_gap,
        "equal-opportunity gap": rep.equal_opportunity_gap,
        "equalized-odds gap": rep.equalized_odds_gap,
        "mean MMD² between groups": rep.mean_mmd2,
        "probe accuracy (guessing the group)": probe.accuracy if probe else None,
        "probe chance level": probe.chance if probe else None,
    }


#: the comparison table's rows explained under it (the rows of :func:`summary_rows`)
TABLE_TERMS = {
    "macro-F1": "macro_f1",
    "worst-group accuracy": "worst_group",
    "accuracy gap": "accuracy_gap",
    "equal-opportunity gap": "equal_opportunity_gap",
    "equalized-odds gap": "equalized_odds_gap",
    "MMD²": "mmd",
    "probe": "probe",
}


def comparison_table(names: list[str], reps: list[AttributeReport]) -> None:
    rows = [summary_rows(r) for r in reps]
    table = pd.DataFrame(rows, index=names).T
    if len(names) == 2:
        table["change"] = table[names[1]] - table[names[0]]
    st.dataframe(table.style.format("{:.3f}", na_rep="–"), width="stretch")
    with st.expander("What these figures mean"):
        for term, name in TABLE_TERMS.items():
            st.markdown(f"**{term}**: {tip(name)}")


def run_panel(name: str, recipe: str, rep: AttributeReport, floor: float, zmax: float) -> str | None:
    """One run's column: headline metrics, accuracy bars (returns the clicked group), recall heatmap, MMD matrix and
    the probe's verdict."""
    attribute = rep.attribute
    st.markdown(f"### {md(name)}" + (f" · `{recipe.replace('`', '')}`" if recipe else ""))  # code: no markup
    m1, m2, m3 = st.columns(3)
    m1.metric("accuracy", f"{rep.overall['accuracy']:.1%}")
    m2.metric("worst group", f"{rep.worst_group_accuracy:.1%}", help=tip("worst_group"))
    gap_ci = rep.gap_interval
    m3.metric(
        "gap",
        f"{rep.accuracy_gap:.1%}",
        help=tip("accuracy_gap") + (f"; 95% bootstrap interval {gap_ci[0]:.1%} to {gap_ci[1]:.1%}" if gap_ci else ""),
    )
    st.markdown(
        "**Accuracy per group** (95% bootstrap intervals; click a bar to see its mistakes)", help=tip("interval")
    )
    clicked = group_accuracy_bars(rep, key=f"{keys.FAIR_BARS}_{name}_{attribute}", floor=floor)
    if rep.small_groups:
        st.caption(f"Small groups (fewer than {rep.min_group_size} faces, noisy): {', '.join(rep.small_groups)}")
    st.markdown("**Recall per class and group**")
    tpr_heatmap(rep, key=f"{keys.FAIR_TPR}_{name}_{attribute}")
    st.markdown("**MMD² between the groups' embeddings** (* p < 0.05)", help=tip("mmd"))
    mmd_matrix(rep, key=f"{keys.FAIR_MMD}_{name}_{attribute}", zmax=zmax)
    if rep.probe is not None:
        st.markdown(
            f"A linear probe guesses **{md(attribute)}** from the embeddings with "
            f"**{rep.probe.accuracy:.1%}** accuracy (chance {rep.probe.chance:.1%}).",
            help=tip("probe"),
        )
    return clicked


def mistakes_grid(wrong: pd.DataFrame, results: list, columns: int = 3) -> None:
    """A group's most confident mistakes: each face with the heatmap of the class the model wrongly predicted."""
    if wrong.empty:
        st.success("No mistakes in this group.")
        return
    cells = st.columns(columns)
    for i, (row, result) in enumerate(zip(wrong.itertuples(), results)):
        k = result.labels.index(row.pred)
        with cells[i % columns]:
            st.image(
                overlay(result.face.crop, result.heatmaps[k], size=160),
                width="stretch",
                caption=f"true {row.target} → {row.pred} ({row.confidence:.0%})",
            )


def relevance_columns(chosen: list[str], attribute: str, study_of: Callable) -> None:
    """Per run, side by side: where its heatmaps put the evidence per group, computed with a progress bar
    (``study_of(name, progress)`` returns the run's region-relevance study)."""
    for col, name in zip(st.columns(len(chosen)), chosen):
        with col, user_errors(name):
            bar = st.progress(0.0, text="Computing heatmaps…")
            study = study_of(name, lambda d, t, bar=bar: bar.progress(d / t, text=f"Computing heatmaps… {d}/{t}"))
            bar.empty()
            region_relevance_panel(name, study, attribute, key=f"{keys.FAIR_SHARE}_{name}_{attribute}")


def mistakes_columns(chosen: list[str], attribute: str, group: str, mistakes_of: Callable) -> None:
    """Per run, side by side: the group's most confident mistakes (``mistakes_of(name)`` -> (rows, results))."""
    for col, name in zip(st.columns(len(chosen)), chosen):
        with col, user_errors(name):
            st.markdown(
                f"**{md(name)}**: {md(attribute)} = {md(group)}, most confident mistakes, LRP heatmap of the "
                "predicted class"
            )
            mistakes_grid(*mistakes_of(name))
