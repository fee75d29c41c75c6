"""EmoNet-40: the 40 emotion categories of EmoNet-Face a face shows and how strongly (0-7), grouped by the 7
families, a coarse positive / neutral / negative view, heatmaps of the strongest categories; for a run, how it
agrees with expert annotators (quadratic kappa, Krippendorff's alpha, "could it be an annotator")."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import _resources as res
from dashboard.components.errors import user_errors
from dashboard.components.inputs import page_header, recipe_run_picker
from dashboard.components.text import md
from fer_core.emonet import VALENCES, group_of
from fer_core.explain import overlay
from fer_core.taxonomy import EMONET40_GROUPS, EMONET40_TO_BASIC8
from fer_core.runs import RunFolder

GROUP_COLOURS = dict(zip(EMONET40_GROUPS, ("#e67e22", "#f1c40f", "#c0392b", "#8e44ad", "#2980b9", "#7f8c8d",
                                           "#d35400")))
VALENCE_COLOURS = {"positive": "#27ae60", "neutral": "#95a5a6", "negative": "#c0392b"}

inputs, right = page_header("EmoNet-40", "How strongly a face shows each of the 40 EmoNet-Face emotion categories "
                            "(0 = absent ... 7 = very strong), grouped by family, and where the model sees the "
                            "strongest ones (red: evidence for, blue: against).", "emonet")
folder, _ = recipe_run_picker(
    "emonet40", "EmoNet-40 model (run)", "_w_emo_run", "No EmoNet-40 model yet. Train one with `fer-core train "
    "emonet40 --config assets/configs/synthfacs_emonet40.yaml`, or on EmoNet-Face ratings imported with "
    "`fer-core data import emonet-face ROOT --out manifest.csv`.", right)
chosen = Path(folder).name
with right:
    top = st.slider("Heatmaps for the strongest categories", 1, 6, 3, key="_w_emo_top")
    view = st.radio("Chart", ["Bars by family", "Radar by family"], horizontal=True, key="_w_emo_view")


def family_bars(intensities: dict[str, float], key: str) -> None:
    cats = [c for g in EMONET40_GROUPS.values() for c in g]
    fig = go.Figure()
    for g, members in EMONET40_GROUPS.items():
        fig.add_bar(y=list(members), x=[intensities[c] for c in members], orientation="h", name=g,
                    marker_color=GROUP_COLOURS[g], hovertemplate="%{y}: %{x:.1f}<extra>" + g + "</extra>")
    fig.update_layout(height=18 * len(cats) + 130, margin=dict(l=0, r=0, t=70, b=0), barmode="overlay",
                      xaxis=dict(range=[0, 7], title="intensity (0-7)", dtick=1),
                      yaxis=dict(autorange="reversed", categoryorder="array", categoryarray=cats, tickfont_size=11),
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0), showlegend=True)
    st.plotly_chart(fig, width="stretch", key=key)


def family_radar(intensities: dict[str, float], key: str) -> None:
    groups = list(EMONET40_GROUPS)
    strongest = [max(intensities[c] for c in EMONET40_GROUPS[g]) for g in groups]
    fig = go.Figure(go.Scatterpolar(r=strongest + strongest[:1], theta=groups + groups[:1], fill="toself",
                                    hovertemplate="%{theta}: %{r:.1f}<extra>strongest category</extra>"))
    fig.update_layout(height=380, margin=dict(l=40, r=40, t=20, b=20),
                      polar=dict(radialaxis=dict(range=[0, 7], dtick=1)))
    st.plotly_chart(fig, width="stretch", key=key)


for item in inputs:
    with user_errors(item.name):
        results = res.explain_emonet(item.sha, item.data, folder, top)
        st.subheader(md(item.name))
        for i, r in enumerate(results):
            data = r.to_json()
            strongest = ", ".join(f"**{c}** {data['intensities'][c]:.1f}" for c in r.top)
            st.markdown(f"#### Face {i + 1}: {strongest}")
            left, middle, grid = st.columns([1, 2, 2])
            with left:
                st.image(r.face.crop, caption="aligned input", width=150)
                valence = data["valence"]
                lead = max(VALENCES, key=lambda v: valence[v])
                st.markdown(f"Overall: **{lead}** ({valence[lead]:.1f} of 7)")
                fig = go.Figure(go.Bar(x=list(VALENCES), y=[valence[v] for v in VALENCES],
                                       marker_color=[VALENCE_COLOURS[v] for v in VALENCES],
                                       text=[f"{valence[v]:.1f}" for v in VALENCES], textposition="auto"))
                fig.update_layout(height=200, margin=dict(l=0, r=0, t=10, b=0), yaxis=dict(range=[0, 7]))
                st.plotly_chart(fig, width="stretch", key=f"emo_v_{item.key}_{i}")
                basic = pd.Series(data["basic8"]).sort_values(ascending=False)
                st.caption("Basic-8 view: " + ", ".join(f"{k} {v:.1f}" for k, v in basic.head(3).items()))
            with middle:
                (family_bars if view == "Bars by family" else family_radar)(data["intensities"],
                                                                             f"emo_f_{item.sha}_{i}")
            with grid:
                cols = st.columns(min(3, len(r.top)))
                for j, c in enumerate(r.top):
                    share = {k: v for k, v in r.region_share(c).items() if k not in ("left_eye", "right_eye")}
                    where = max(share, key=lambda k: share[k] if share[k] == share[k] else -1.0)
                    basic = EMONET40_TO_BASIC8.get(c)
                    found = f"most evidence: {where} {share[where]:.0%}" if share[where] > 0 else \
                        "evidence only against (blue)"
                    cols[j % len(cols)].image(
                        overlay(r.face.crop, r.heatmaps[j]), width="stretch",
                        caption=f"{c} {data['intensities'][c]:.1f} ({group_of(c)}{', ~' + basic if basic else ''})"
                                f" · {found}")
if not inputs:
    st.info("Pick a bundled sample or upload a photo to read its 40 categories.")

evaluation = res.run_evaluation(folder, RunFolder(folder).stamp(RunFolder.EVALUATION))
st.subheader(f"Run {md(chosen)} on its test faces")
c1, c2, c3, c4 = st.columns(4)
c1.metric("Intensity error where present", f"{evaluation.get('intensity_mae_present', float('nan')):.2f} levels",
          help="mean |model - mean expert rating| on the 0-7 scale over the categories the experts rated above 0 "
               f"(over every rated category, mostly absent ones: {evaluation.get('intensity_mae', float('nan')):.2f})")
c2.metric("Strongest category right", f"{evaluation.get('top1_accuracy', 0):.0%}")
c3.metric("Basic-8 view right", f"{evaluation.get('basic8_accuracy', 0):.0%}",
          help="the 40 intensities mapped to basic-8 (each class takes its strongest category), against the "
               "top-rated category's basic class")
c4.metric("Valence right", f"{evaluation.get('valence_accuracy', 0):.0%}")
agreement = evaluation.get("agreement")
if not agreement:
    st.info("This run's test faces have no per-annotator ratings, so there is no agreement table "
            "(set emonet.ratings to a ratings csv, or put ratings.csv beside the manifest).")
else:
    human = agreement["summary"]["human"]
    st.markdown(f"**Agreement with {len(agreement['humans'])} expert annotators** on {agreement['n_images']} faces "
                f"and {agreement['n_emotions']} emotions (METHODS 4.4): quadratic-weighted Cohen's kappa per emotion, "
                "the model against every annotator and each annotator against the others; Krippendorff's alpha "
                "(interval) of the annotators with a 95 % bootstrap interval.")
    cols = st.columns(1 + len(agreement["models"]))
    cols[0].metric("Annotators vs each other", f"{human['mean']:.3f}", help="mean kappa over emotions")
    for col, m in zip(cols[1:], agreement["models"]):
        v = agreement["verdicts"][m]
        col.metric(f"{m} vs annotators", f"{agreement['summary'][m]['mean']:.3f}",
                   delta=f"{v['mean_difference']:+.3f} vs annotators", delta_color="normal")
        col.markdown(("Could be an annotator" if v["could_be_annotator"] else "Not like an annotator")
                     + f" (Mann-Whitney p = {v['p_value']:.3g})")
    table = pd.DataFrame(agreement["per_emotion"])
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={c: st.column_config.NumberColumn(format="%.3f") for c in table.columns
                                if c not in ("emotion", "group", "n_images")})
