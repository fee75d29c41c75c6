"""Transfer comparison (METHODS.md section 5): two models fine-tuned onto one task from different base models (age,
gender); the same faces' heatmaps side by side, the relevance share per face region, and paired tests."""
from __future__ import annotations


import streamlit as st

from dashboard import _resources as res
from dashboard.components.errors import user_errors
from dashboard.components.study_charts import grouped_bars
from dashboard.components.transfer_charts import face_row, model_metrics
from dashboard.components.text import md
from fer_core.explain import METHODS
from fer_core.studies.transfer_comparison import TARGET_RULES
from fer_core.runs import RunFolder

PER_PAGE = 6
st.title("Transfer comparison")
st.caption("Two models fine-tuned onto the same task from different base models, e.g. one trained on age and one "
           "on gender (Arbabzadah et al. 2016). Their heatmaps of the same class on the same faces show which base "
           "model's features suit the task.")

runs = res.classifier_runs()
names = list(runs)
pair = [n for n in ("synthfacs_transfer_from_age", "synthfacs_transfer_from_gender") if n in runs] or names[:2]
if len(names) < 2:
    st.info("Two finished runs are needed (e.g. `fer-core train transfer --config "
            "assets/configs/synthfacs_transfer_from_age.yaml`).")
    st.stop()
c1, c2, c3 = st.columns([2, 2, 2])
a = c1.selectbox("Model A", names, index=names.index(pair[0]), key="_w_tr_a")
b = c2.selectbox("Model B", names, index=names.index(pair[-1]), key="_w_tr_b")
method = c3.selectbox("Method", list(METHODS), format_func=METHODS.get, key="_w_tr_method")
c1, c2 = st.columns([2, 4])
source = c1.radio("Faces", ["Model A's test set", "Upload faces"], key="_w_tr_source")
uploads, limit = [], None
with c2:
    if source == "Upload faces":
        files = st.file_uploader("Face photos or crops (the largest face of each is used). They stay in memory.",
                                 accept_multiple_files=True, key="_w_tr_upload")
        uploads = [(res.sha(f.getvalue()), f.getvalue()) for f in files or []]
    else:
        limit = st.select_slider("How many (a fixed random sample of the test set)", [24, 48, 100, 200, 500],
                                 value=100, key="_w_tr_n")
if a == b or not (uploads or limit):
    st.info("Pick two different runs." if a == b else "Upload at least one face.")
    st.stop()


with user_errors("transfer comparison"):
    bar = st.progress(0.0, text="Explaining the faces with both models…")
    cmp = res.transfer_comparison(runs[a], runs[b], tuple(uploads), limit, method, lambda done, total: bar.progress(
        done / total, text=f"Explaining the faces with both models… {done} of {total}"))
    bar.empty()
    evaluations = {n: RunFolder(runs[n]).path(RunFolder.EVALUATION) for n in (a, b)}
    model_metrics(cmp, {n: res.run_evaluation(str(p.parent), p.stat().st_mtime).get("overall")
                        for n, p in evaluations.items() if p.is_file()})
    if cmp.no_face or cmp.unreadable:
        st.caption(f"Left out: {len(cmp.no_face)} image(s) without a face, {len(cmp.unreadable)} unreadable.")
    left, right = st.columns([3, 2])
    with left:
        st.markdown(f"**Share of the positive relevance per face region** (mean over {len(cmp.faces)} faces, 95% "
                    f"intervals); heatmaps of {TARGET_RULES[cmp.target_rule]}")
        grouped_bars(cmp.table(n_boot=500).to_dict("records"), "region", "model", "share", key="tr_shares",
                     y_title="% of positive relevance", order=cmp.regions)
    with right:
        diffs = cmp.differences(n_boot=500, num_permutations=2000)
        st.markdown("**Where they differ** (paired sign-flip test per region, Holm-adjusted)")
        for sentence in cmp.verdicts(differences=diffs):
            st.markdown(f"- {md(sentence)}")
    st.subheader("The same faces, side by side")
    c1, c2 = st.columns([3, 1])
    order = c1.radio("Order", ["where the two maps differ most", "sample order"], horizontal=True, key="_w_tr_order",
                     help="differ most: faces where both models predict the explained class come first")
    rows = [int(r) for r in (cmp.most_different_first() if order.startswith("where") else range(len(cmp.faces)))]
    pages = max(1, -(-len(rows) // PER_PAGE))
    page = c2.number_input(f"Page (of {pages})", 1, pages, 1, key=f"_w_tr_page_{pages}") if pages > 1 else 1
    st.caption(f"Face · A ({md(a)}) · B ({md(b)}) · share of each map's positive relevance per region. Red raises the "
               "explained class, blue lowers it; each map has its own colour scale (where, not how much).")
    for i in rows[(page - 1) * PER_PAGE:page * PER_PAGE]:
        face_row(cmp, i, key=f"tr_face_{i}")
