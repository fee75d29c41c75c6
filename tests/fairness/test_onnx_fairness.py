"""A model fine-tuned on SynthFACS and exported to ONNX gives its PyTorch original's fairness report: the same
predictions, so the same per-group accuracy, gaps and intervals, when onnxruntime runs it."""

from __future__ import annotations

import pandas as pd
import pytest

from fer_core.models import load_foreign
from fer_core.runs import open_run
from fer_core.runs.locations import EMBEDDED_RUNS_DIR
from fer_core.workflows.evaluate import evaluate_manifest
from tests._onnx import export_onnx

RUN = EMBEDDED_RUNS_DIR / "synthfacs_bias_supervised"


@pytest.mark.slow
def test_onnx_export_reproduces_the_fairness_report(tmp_path):
    run = open_run(RUN)
    original = run.model()
    manifest = pd.read_csv(run.test_manifest())
    group = next(c for c in ("skin_tone", "group", "gender", "age_group") if c in manifest.columns)
    h, w = original.card.input_size
    export_onnx(original.model, tmp_path / "m.onnx", (1, original.card.in_chans, h, w))
    card = original.card.__class__(**{**original.card.__dict__, "format": "onnx"})
    exported = load_foreign(tmp_path / "m.onnx", card, convert_onnx=False)
    assert exported.runtime == "onnxruntime"
    kwargs = dict(group_by=[group], target=run.target_column, aligned=run.aligned, n_boot=50, num_permutations=20)
    want = evaluate_manifest(original, run.test_manifest(), **kwargs)
    got = evaluate_manifest(exported, run.test_manifest(), **kwargs)
    w_attr, g_attr = want["fairness"][group], got["fairness"][group]
    assert len(w_attr["by_group"]) >= 2
    for key in ("by_group", "tpr", "worst_group_accuracy", "accuracy_gap", "equalized_odds_gap", "bootstrap"):
        assert g_attr[key] == w_attr[key], key  # every group's accuracy, rates, gaps and intervals
    assert got["accuracy"] == want["accuracy"] and got["per_class"] == want["per_class"]
