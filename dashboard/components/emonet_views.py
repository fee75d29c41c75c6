"""Widgets of the EmoNet-40 page: one face's 40 intensities (bars or radar by family), its valence view and the
heatmaps of its strongest categories, and a run's figures with its agreement with expert annotators."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from fer_core.explain import overlay
from fer_core.taxonomy import EMONET40_GROUPS, EMONET40_TO_BASIC8, VALENCES, group_of
from fer_core.workflows import EmoNetFaceResult

from .. import _state as keys
from .glossary import tip
from .text import face_note

GROUP_COLOURS = dict(
    zip(EMONET40_GROUPS, ("#e67e22", "#f1c40f", "#c0392b", "#8e44ad", "#2980b9", "#7f8c8d", "#d35400"))
)
VALENCE_COLOURS = {"positive": "#27ae60", "neutral": "#95a5a6", "negative": "#c0392b"}
CHARTS = ("Bars by family", "Radar by family")


def family_bars(intensities: dict[str, float], key: str) -> None:
    cats = [c for g in EMONET40_GROUPS.values() for c in g]
    fig = go.Figure()
    for g, members in EMONET40_GROUPS.items():
        fig.add_bar(
            y=list(members),
            x=[intensities[c] for c in members],
            orientation="h",
            name=g,
            marker_color=GROUP_COLOURS[g],
            hovertemplate="%{y}: %{x:.1f}<extra>" + g + "</extra>",
        )
    fig.update_layout(
        height=18 * len(cats) + 130,
        margin=dict(l=0, r=0, t=70, b=0),
        barmode="overlay",
        xaxis=dict(range=[0, 7], title="intensity (0-7)", dtick=1),
        yaxis=dict(autorange="reversed", categoryorder="array", categoryarray=cats, tickfont_size=11),
        legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0),
        showlegend=True,
    )
    st.plotly_chart(fig, width="stretch", key=key)


def family_radar(intensities: dict[str, float], key: str) -> None:
    groups = list(EMONET40_GROUPS)
    strongest = [max(intensities[c] for c in EMONET40_GROUPS[g]) for g in groups]
    fig = go.Figure(
        go.Scatterpolar(
            r=strongest + strongest[:1],
            theta=groups + groups[:1],
            fill="toself",
            hovertemplate="%{theta}: %{r:.1f}<extra>strongest category</extra>",
        )
    )
    fig.update_layout(
        height=380, margin=dict(l=40, r=40, t=20, b=20), polar=dict(radialaxis=dict(range=[0, 7], dtick=1))
    )
    st.plotly_chart(fig, width="stretch", key=key)


def valence_bars(valence: dict[str, float], key: str) -> None:
    fig = go.Figure(
        go.Bar(
            x=list(VALENCES),
            y=[valence[v] for v in VALENCES],
            marker_color=[VALENCE_COLOURS[v] for v in VALENCES],
            text=[f"{valence[v]:.1f}" for v in VALENCES],
            textposition="auto",
        )
    )
    fig.update_layout(height=200, margin=dict(l=0, r=0, t=10, b=0), yaxis=dict(range=[0, 7]))
    st.plotly_chart(fig, width="stretch", key=key)


def _heatmap_caption(r: EmoNetFaceResult, category: str, intensity: float) -> str:
    share = {k: v for k, v in r.region_share(category).items() if k not in ("left_eye", "right_eye")}
    where = max(share, key=lambda k: share[k] if share[k] == share[k] else -1.0)
    basic = EMONET40_TO_BASIC8.get(category)
    found = (
        "evidence only against (blue)" if r.mostly_negative(category) else f"most evidence: {where} {share[where]:.0%}"
    )
    return f"{category} {intensity:.1f} ({group_of(category)}{', ~' + basic if basic else ''}) · {found}"


def emonet_face(r: EmoNetFaceResult, index: int, item_key: str, item_sha: str, chart: str) -> None:
    """Face ``index`` of a photo: the crop with its valence view, the 40 intensities and the top heatmaps."""
    data = r.to_json()
    strongest = ", ".join(f"**{c}** {data['intensities'][c]:.1f}" for c in r.top)
    st.markdown(f"#### Face {index + 1}: {strongest}{face_note(r.face)}")
    left, middle, grid = st.columns([1, 2, 2])
    with left:
        st.image(r.face.crop, caption="aligned input", width=150)
        valence = data["valence"]
        lead = max(VALENCES, key=lambda v: valence[v])
        st.markdown(f"Overall: **{lead}** ({valence[lead]:.1f} of 7)")
        valence_bars(valence, key=f"{keys.EMO_VALENCE}_{item_key}_{index}")
        basic = pd.Series(data["basic8"]).sort_values(ascending=False)
        st.caption("Basic-8 view: " + ", ".join(f"{k} {v:.1f}" for k, v in basic.head(3).items()))
    with middle:
        draw = family_bars if chart == CHARTS[0] else family_radar
        draw(data["intensities"], f"{keys.EMO_FAMILIES}_{item_sha}_{index}")
    with grid:
        cols = st.columns(min(3, len(r.top)))
        for j, c in enumerate(r.top):
            cols[j % len(cols)].image(
                overlay(r.face.crop, r.heatmaps[j]),
                width="stretch",
                caption=_heatmap_caption(r, c, data["intensities"][c]),
            )


def run_figures(evaluation: dict) -> None:
    """A run's test figures: intensity error, strongest category, basic-8 and valence right."""
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(
        "Intensity error where present",
        f"{evaluation.get('intensity_mae_present', float('nan')):.2f} levels",
        help="mean |model - mean expert rating| on the 0-7 scale over the categories the experts rated above 0 "
        f"(over every rated category, mostly absent ones: {evaluation.get('intensity_mae', float('nan')):.2f})",
    )
    c2.metric("Strongest category right", f"{evaluation.get('top1_accuracy', 0):.0%}")
    c3.metric(
        "Basic-8 view right",
        f"{evaluation.get('basic8_accuracy', 0):.0%}",
        help="the 40 intensities mapped to basic-8 (each class takes its strongest category), against the "
        "top-rated category's basic class",
    )
    c4.metric("Valence right", f"{evaluation.get('valence_accuracy', 0):.0%}")


def agreement_panel(agreement: dict | None) -> None:
    """Kappa of the model and of the annotators, "could it be an annotator", and the per-emotion table."""
    if not agreement:
        st.info(
            "This run's test faces have no per-annotator ratings, so there is no agreement table "
            "(set emonet.ratings to a ratings csv, or put ratings.csv beside the manifest)."
        )
        return
    human = agreement["summary"]["human"]
    st.markdown(
        f"**Agreement with {len(agreement['humans'])} expert annotators** on {agreement['n_images']} faces "
        f"and {agreement['n_emotions']} emotions: quadratic-weighted Cohen's kappa per emotion, "
        "the model against every annotator and each annotator against the others; Krippendorff's alpha "
        "(interval) of the annotators with a 95 % bootstrap interval.",
        help=f"{tip('kappa')} {tip('alpha')}",
    )
    cols = st.columns(1 + len(agreement["models"]))
    cols[0].metric("Annotators vs each other", f"{human['mean']:.3f}", help="mean kappa over emotions. " + tip("kappa"))
    for col, m in zip(cols[1:], agreement["models"]):
        v = agreement["verdicts"][m]
        col.metric(
            f"{m} vs annotators",
            f"{agreement['summary'][m]['mean']:.3f}",
            delta=f"{v['mean_difference']:+.3f} vs annotators",
            delta_color="normal",
        )
        col.markdown(
            ("Could be an annotator" if v["could_be_annotator"] else "Not like an annotator")
            + f" (Mann-Whitney p = {v['p_value']:.3g})"
        )
    table = pd.DataFrame(agreement["per_emotion"])
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            c: st.column_config.NumberColumn(format="%.3f")
            for c in table.columns
            if c not in ("emotion", "group", "n_images")
        },
    )
