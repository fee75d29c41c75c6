"""Action Units: which facial muscle movements a model sees in a face, where it sees them, and, for a run, how well
it detects each AU on people it never saw and how much identity its features still carry."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard import _resources as res
from dashboard.components.errors import user_errors
from dashboard.components.inputs import page_header, recipe_run_picker
from dashboard.components.text import md
from fer_core.au_analysis import outlined_overlay
from fer_core.runs import RunFolder

inputs, right = page_header("Action units", "Per-AU probabilities and one LRP heatmap per AU; the green outline is "
                            "the face region that AU moves. Red: evidence for the AU, blue: against.", "au")
folder, runs = recipe_run_picker(
    "au_iat", "AU model (run)", "_w_au_run", "No action-unit model yet. Train one with `fer-core train au_iat "
    "--config assets/configs/synthfacs_au_iat.yaml` (add `--set au.lambda_id=0` for a run without IAT to compare).",
    right)
chosen = Path(folder).name
with right:
    show = st.slider("Heatmaps for the top AUs", 2, 12, 6, key="_w_au_top")
evaluation = res.run_evaluation(folder, RunFolder(folder).stamp(RunFolder.EVALUATION))
threshold = evaluation.get("threshold", 0.5)

for item in inputs:
    with user_errors(item.name):
        results = res.explain_aus(item.sha, item.data, folder)
        st.subheader(md(item.name))
        for i, r in enumerate(results):
            order = sorted(range(len(r.labels)), key=lambda k: -r.probs[k])
            active = [r.labels[k] for k in order if r.probs[k] >= threshold]
            found = ", ".join(f"**{a}**" for a in active) or "no AU above the threshold"
            st.markdown(f"#### Face {i + 1}: {found} (threshold {threshold:.2f}, chosen on held-out training "
                        "subjects)")
            left, grid = st.columns([1, 2])
            with left:
                st.image(r.face.crop, caption="aligned input", width=160)
                fig = go.Figure(go.Bar(x=list(r.probs), y=list(r.labels), orientation="h",
                                       marker_color=["#c0392b" if p >= threshold else "#95a5a6" for p in r.probs],
                                       text=[f"{p:.0%}" for p in r.probs], textposition="auto"))
                fig.add_vline(x=threshold, line_dash="dot")
                fig.update_layout(height=40 + 22 * len(r.labels), margin=dict(l=0, r=0, t=10, b=0),
                                  xaxis=dict(range=[0, 1], tickformat=".0%"), yaxis=dict(autorange="reversed"))
                st.plotly_chart(fig, width="stretch", key=f"au_p_{item.key}_{i}")
            with grid:
                cols = st.columns(3)
                for j, k in enumerate(order[:show]):
                    lab = r.labels[k]
                    share = r.share_in_region(lab)
                    where = f" · {share:.0%} in {r.region(lab)}" if share is not None else ""
                    cols[j % 3].image(outlined_overlay(r, lab), width="stretch",
                                      caption=f"{lab} {r.probs[k]:.0%}{where}")
if not inputs:
    st.info("Pick a bundled sample or upload a photo to see its action units.")

st.subheader(f"Run {md(chosen)}: AU detection on unseen people")
per_au = pd.DataFrame([{"AU": k, "F1 at 0.5": v["f1_at_0.5"], f"F1 at {threshold:.2f}": v["f1_tuned"],
                        "share active (test)": v["base_rate"]} for k, v in evaluation.get("per_au", {}).items()])
st.dataframe(per_au, hide_index=True, width="stretch")
rows = []
for f in runs:
    ev = res.run_evaluation(f, RunFolder(f).stamp(RunFolder.EVALUATION))
    probe = ev.get("identity_probe") or {}
    rows.append({"run": Path(f).name, "IAT lambda": ev.get("lambda_id"), "mean AU F1 (0.5)": ev.get("mean_f1_at_0.5"),
                 "mean AU F1 (tuned)": ev.get("mean_f1_tuned"), "identity probe (test people)": probe.get("accuracy"),
                 "identity probe (training people)": (ev.get("identity_probe_train_subjects") or {}).get("accuracy"),
                 "probe chance": probe.get("chance"), "test fold": ev.get("fold")})
st.markdown("**With and without Identity Adversarial Training**: a linear probe guesses the person from the "
            "model's features, on held-out images of the people the model trained on (the paper's probe) and on the "
            "test people; IAT should push it towards chance while AU F1 holds or rises.")
table = pd.DataFrame(sorted(rows, key=lambda r: (r["test fold"] or 0, r["IAT lambda"] or 0)))  # baseline first
measures = {"mean AU F1 (0.5)": "#2c7fb8", "identity probe (training people)": "#d95f0e",
            "identity probe (test people)": "#fdae6b"}
fig = go.Figure([go.Bar(name=m, x=table["run"], y=table[m], marker_color=c,
                        text=[f"{v:.2f}" if pd.notna(v) else "" for v in table[m]], textposition="outside")
                 for m, c in measures.items()])
fig.update_layout(barmode="group", height=320, margin=dict(l=0, r=0, t=10, b=0), yaxis=dict(range=[0, 1.08]),
                  legend=dict(orientation="h", y=-0.2))
st.plotly_chart(fig, width="stretch", key="au_runs_chart")
st.dataframe(table, hide_index=True, width="stretch")
