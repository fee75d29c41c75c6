"""Navigation frame: page config, the shared model picker, and the pages (each a thin view over fer_core)."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `streamlit run dashboard/app.py` from a checkout

from dashboard import _resources as res  # noqa: E402
from dashboard import _state as keys  # noqa: E402
from dashboard.components.errors import page_boundary  # noqa: E402

ICON = Path(__file__).with_name("icon.png")  # served by this app: a ":material/...:" page icon is fetched from a CDN
st.set_page_config(page_title="FER explainability", page_icon=str(ICON), layout="wide")
keys.init_state()
pages_dir = (
    Path(__file__).parent / "views"
)  # not "pages/": Streamlit would also serve that folder as v1 pages on direct URLs
navigation = st.navigation(
    {
        "Explain": [
            st.Page(pages_dir / "explain.py", title="Heatmaps", icon=":material/local_fire_department:", default=True),
            st.Page(pages_dir / "occlusion.py", title="Occlusion", icon=":material/visibility_off:"),
            st.Page(pages_dir / "occlusion_study.py", title="Occlusion study", icon=":material/grid_view:"),
            st.Page(pages_dir / "action_units.py", title="Action units", icon=":material/mood:"),
            st.Page(pages_dir / "emonet.py", title="EmoNet-40", icon=":material/sentiment_satisfied:"),
            st.Page(pages_dir / "video.py", title="Video", icon=":material/movie:"),
        ],
        "Audit": [
            st.Page(pages_dir / "fairness.py", title="Fairness", icon=":material/balance:"),
            st.Page(pages_dir / "atlas.py", title="Explanation atlas", icon=":material/scatter_plot:"),
            st.Page(pages_dir / "review.py", title="Review", icon=":material/rule:"),
        ],
        "Model": [
            st.Page(pages_dir / "model_card.py", title="Model card", icon=":material/badge:"),
            st.Page(pages_dir / "models.py", title="Models", icon=":material/upload_file:"),
            st.Page(pages_dir / "runs.py", title="Runs", icon=":material/monitoring:"),
            st.Page(pages_dir / "transfer.py", title="Transfer comparison", icon=":material/compare:"),
        ],
        "Share": [st.Page(pages_dir / "report.py", title="Report", icon=":material/description:")],
    }
)
with st.sidebar:
    # the pages read the choices from the state: keep it on what the picker shows (a removed model falls back)
    st.session_state[keys.MODEL] = keys.persistent(st.selectbox, "Model", res.model_names(), keys.MODEL)
    st.session_state[keys.DEVICE] = keys.persistent(
        st.selectbox,
        "Device",
        res.device_options(),
        keys.DEVICE,
        help="Where the model runs: auto takes the first GPU when there is one, else the CPU.",
    )
    st.session_state[keys.LANDMARKER] = keys.persistent(
        st.selectbox,
        "Face landmarks",
        res.landmarker_options(),
        keys.LANDMARKER,
        format_func=res.LANDMARKER_NAMES.get,
        help="How the photo and video pages find each face's features. The 468-point mesh aligns the face by its "
        "own eyes, nose and mouth, draws every region (lips, each eye and brow, nose, cheeks, chin) from the face's "
        "own outlines and measures the head pose (on a video, at every sampled frame); 5 points place template "
        "shapes instead.",
    )
    st.caption(
        "Photos you upload stay in this app's memory and are never written to disk, except when you create a "
        "review batch from them (the Review page says where)."
    )
with page_boundary(getattr(navigation, "title", "page")):
    navigation.run()
