"""Charts of the dataset studies (fer_core.studies results): occlusion drop tables, bars with intervals, region shares
by group, the occlusion study's tabs, and one face's perturbation curves."""

from __future__ import annotations

import json
from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from fer_core.studies import OcclusionStudy, RegionRelevanceStudy

from .. import _state as keys
from .. import _studies as studies
from .glossary import tip
from .text import md

PALETTE = ["#2e86c1", "#c0392b", "#27ae60", "#8e44ad", "#d68910", "#17a589", "#5d6d7e"]


def drop_heatmap(records: list[dict], regions: Sequence[str], key: str) -> None:
    """True class x region: mean drop of the true class's probability (points), interval in the hover."""
    classes = list(dict.fromkeys(r["label"] for r in records))
    cell = {(r["label"], r["region"]): r for r in records}
    z = [[100 * cell[(c, g)]["drop"] if (c, g) in cell else None for g in regions] for c in classes]
    text = [[f"{100 * cell[(c, g)]['drop']:.0f}" if (c, g) in cell else "" for g in regions] for c in classes]
    hover = [
        [
            f"{c}, hide {g}: {100 * cell[(c, g)]['drop']:.1f} points "
            f"[{100 * cell[(c, g)]['drop_lo']:.1f}, {100 * cell[(c, g)]['drop_hi']:.1f}], n={cell[(c, g)]['n']}"
            if (c, g) in cell
            else ""
            for g in regions
        ]
        for c in classes
    ]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=list(regions),
            y=classes,
            text=text,
            texttemplate="%{text}",
            customdata=hover,
            hovertemplate="%{customdata}<extra></extra>",
            colorscale="Reds",
            zmin=0,
            colorbar=dict(title="points"),
        )
    )
    fig.update_layout(
        height=60 + 36 * len(classes),
        margin=dict(l=0, r=0, t=10, b=0),
        yaxis=dict(autorange="reversed"),
        xaxis=dict(side="top"),
    )
    st.plotly_chart(fig, width="stretch", key=key)


def grouped_bars(
    records: list[dict],
    x: str,
    series: str,
    value: str,
    key: str,
    percent_points: bool = True,
    y_title: str = "",
    order: Sequence[str] | None = None,
) -> None:
    """Bars of ``value`` per ``x`` coloured by ``series``, with the ``<value>_lo``/``_hi`` interval as error bars."""
    scale = 100 if percent_points else 1
    fig = go.Figure()
    for i, name in enumerate(dict.fromkeys(r[series] for r in records)):
        rows = [r for r in records if r[series] == name]
        ys = [scale * r[value] for r in rows]
        fig.add_bar(
            name=str(name),
            x=[r[x] for r in rows],
            y=ys,
            marker_color=PALETTE[i % len(PALETTE)],
            customdata=[r["n"] for r in rows],
            error_y=dict(
                type="data",
                symmetric=False,
                color="#555",
                array=[scale * r[f"{value}_hi"] - y for r, y in zip(rows, ys)],
                arrayminus=[y - scale * r[f"{value}_lo"] for r, y in zip(rows, ys)],
            ),
            hovertemplate=f"{name}, %{{x}}: %{{y:.1f}} (n=%{{customdata}})<extra></extra>",
        )
    fig.update_layout(
        barmode="group",
        height=320,
        margin=dict(l=0, r=0, t=10, b=0),
        yaxis_title=y_title,
        legend=dict(orientation="h", y=1.12),
        xaxis=dict(categoryorder="array", categoryarray=list(order or dict.fromkeys(r[x] for r in records))),
    )
    st.plotly_chart(fig, width="stretch", key=key)


def region_share_bars(table: pd.DataFrame, attribute: str, regions: Sequence[str], key: str) -> None:
    """Share of the heatmap per region (x), one bar per group, with bootstrap intervals (``table``: one row per
    group, as ``RegionRelevanceStudy.table(attribute, by_class=False)``)."""
    long = [
        {
            "region": g,
            "group": r[attribute],
            "share": r[g],
            "share_lo": r[f"{g}_lo"],
            "share_hi": r[f"{g}_hi"],
            "n": r["n"],
        }
        for r in table.to_dict("records")
        for g in regions
    ]
    grouped_bars(long, "region", "group", "share", key, y_title="% of positive relevance", order=regions)


def region_relevance_panel(name: str, study: RegionRelevanceStudy, attribute: str, key: str) -> None:
    """One run's region shares per group of ``attribute`` and the permutation test's verdict."""
    region_share_bars(study.table(attribute, by_class=False, n_boot=studies.STUDY_BOOT), attribute, study.regions, key)
    verdict = study.verdict(attribute, num_permutations=studies.RELEVANCE_PERMUTATIONS)
    if verdict is not None:
        st.markdown(f"**{md(name)}**: {md(verdict)}")


def _occlusion_fill_tab(study: OcclusionStudy, fill: str) -> None:
    """One fill: the class x region drop heatmap, one class against all classes, and the drop per group."""
    by_class = study.table(("label",), studies.STUDY_BOOT)
    by_class = by_class[by_class["fill"] == fill].to_dict("records")
    overall = study.table((), studies.STUDY_BOOT)
    overall = overall[overall["fill"] == fill].to_dict("records")
    left, right = st.columns([3, 2])
    with left:
        st.markdown("**Drop of the true class's probability (points) when a region is hidden**")
        drop_heatmap(by_class, study.regions, key=f"{keys.STUDY_HEAT}_{fill}")
    with right:
        classes = list(dict.fromkeys(r["label"] for r in by_class))
        cls = st.selectbox(
            "Class",
            classes,
            index=classes.index("happy") if "happy" in classes else 0,
            key=f"{keys.STUDY_CLASS}_{fill}",
        )
        rows = [r | {"series": cls} for r in by_class if r["label"] == cls]
        rows += [r | {"series": "all classes"} for r in overall]
        st.markdown(f"**{md(cls)}** vs all classes, with 95% intervals")
        grouped_bars(
            rows,
            "region",
            "series",
            "drop",
            key=f"{keys.STUDY_CLASS_BARS}_{fill}",
            y_title="drop (points)",
            order=study.regions,
        )
        acc = {r["region"]: r for r in overall}
        first = next(iter(acc.values()))
        st.caption(
            f"Accuracy intact {first['correct_before']:.1%}; hidden: "
            + ", ".join(f"{g} {r['correct_after']:.1%}" for g, r in acc.items())
        )
    for attr in study.group_by:
        recs = study.table((attr,), studies.STUDY_BOOT)
        st.markdown(f"**By {md(attr)}**: drop of the true class's probability, all classes")
        grouped_bars(
            recs[recs["fill"] == fill].to_dict("records"),
            "region",
            attr,
            "drop",
            key=f"{keys.STUDY_GROUP_BARS}_{fill}_{attr}",
            y_title="drop (points)",
            order=study.regions,
        )


def occlusion_study_results(study: OcclusionStudy) -> None:
    """What the study covered, one tab per fill, and the whole study as JSON to download."""
    skipped = study.num_skipped
    st.markdown(
        f"**{md(study.model)}** · {len(study.faces)} faces"
        + (f" ({skipped} rows without a usable face)" if skipped else "")
    )
    for tab, fill in zip(st.tabs([f"fill: {f}" for f in study.fills]), study.fills):
        with tab:
            _occlusion_fill_tab(study, fill)
    st.download_button(
        "Download the study (JSON)",
        json.dumps(study.to_json(n_boot=studies.STUDY_BOOT), indent=2),
        file_name="occlusion_study.json",
        mime="application/json",
    )


def perturbation_curves(faith: dict, key: str) -> None:
    """One face's drop of the explained class's probability as patches are replaced, in three orders."""
    colors = {"most relevant first": "#c0392b", "least relevant first": "#2e86c1", "random order": "#7f8c8d"}
    fig = go.Figure()
    xs = [0.0] + [100 * r for r in faith["removed"]]
    for name, ys in faith["curves"].items():
        fig.add_scatter(
            x=xs,
            y=[0.0] + [100 * y for y in ys],
            mode="lines",
            name=name,
            line=dict(color=colors.get(name), dash="dot" if name == "random order" else "solid"),
        )
    fig.update_layout(
        height=240,
        margin=dict(l=0, r=0, t=4, b=0),
        showlegend=True,
        legend=dict(orientation="h", y=-0.45, font=dict(size=11)),
        xaxis=dict(title="% of the face replaced", ticksuffix="%"),
        yaxis=dict(title="drop (points)"),
    )
    st.plotly_chart(fig, width="stretch", key=key, config={"displayModeBar": False})


def faithfulness_panel(faith: dict, key: str) -> None:
    """How far to trust the predicted class's heatmap: its perturbation curves and mass in eyes and mouth."""
    aopc = faith["aopc"]
    st.markdown(
        f"**How far to trust the *{md(faith['label'])}* heatmap.** Replacing the face patch by patch, most "
        f"relevant first, should make the probability fall faster than in a random order."
    )
    a, b = st.columns([3, 2])
    with a:
        perturbation_curves(faith, key)
    with b:
        st.metric(
            "AOPC, most relevant first",
            f"{100 * aopc['most relevant first']:.1f}",
            f"{100 * (aopc['most relevant first'] - aopc['random order']):+.1f} vs random order",
            help=f"{tip('aopc')} In points of p({faith['label']}); {faith['patch']} px patches, "
            f"{faith['steps']} steps, mean fill.",
        )
        st.metric(
            "Relevance in eyes / mouth",
            f"{faith['mass']['eyes']:.0%} / {faith['mass']['mouth']:.0%}",
            help=tip("relevance_mass"),
        )
