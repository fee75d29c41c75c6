"""Scores and heatmaps come from one pass (zennit's ``(output, attribution)``), and the card's output kind decides
what the scores are: the truth here is the model's own forward pass and torch's softmax / sigmoid."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from fer_core.explain import create_explainer
from fer_core.models.preprocess import to_model_input
from fer_core.workflows import EmoNetFaceResult, explain_faces


@pytest.mark.parametrize("method", ["lrp", "saliency"])
def test_explain_returns_the_models_logits_and_the_all_class_relevance(fer_model, portrait_faces, method):
    x = to_model_input([f.crop for f in portrait_faces], fer_model.card)
    explainer = create_explainer(method, fer_model.model, fer_model.card)
    logits, rel = explainer.explain(x)
    with torch.no_grad():
        truth = fer_model.model.eval()(x)
    torch.testing.assert_close(logits, truth, atol=1e-4, rtol=1e-4)  # LRP's pass runs a canonized (folded) copy
    torch.testing.assert_close(rel, explainer.attribute_all(x))


def test_explain_of_chosen_targets_matches_attribute(fer_model, portrait_faces):
    x = to_model_input([f.crop for f in portrait_faces], fer_model.card)
    explainer = create_explainer("lrp", fer_model.model, fer_model.card)
    targets = torch.tensor([[3, 0]] * len(x))
    _, rel = explainer.explain(x, targets)
    torch.testing.assert_close(rel[:, 0], explainer.attribute(x, 3))
    torch.testing.assert_close(rel[:, 1], explainer.attribute(x, 0))


def test_face_scores_follow_the_cards_output_kind(fer_model, portrait_faces):
    x = to_model_input([f.crop for f in portrait_faces], fer_model.card)
    with torch.no_grad():
        logits = fer_model.model.eval()(x).double()
    soft = explain_faces(fer_model, portrait_faces)
    np.testing.assert_allclose([r.probs for r in soft], torch.softmax(logits, 1).numpy(), atol=1e-5)
    assert all(r.output == "softmax" and r.heatmaps.shape[0] == 7 for r in soft)
    as_sigmoid = dataclasses.replace(fer_model, card=dataclasses.replace(fer_model.card, output="sigmoid"))
    sig = explain_faces(as_sigmoid, portrait_faces)
    np.testing.assert_allclose([r.probs for r in sig], torch.sigmoid(logits).numpy(), atol=1e-5)
    np.testing.assert_allclose(sig[0].heatmaps, soft[0].heatmaps)  # the relevance does not depend on the reading


def test_top_k_explains_each_faces_strongest_outputs(fer_model, portrait_faces):
    results = explain_faces(fer_model, portrait_faces, top=2, result_type=EmoNetFaceResult)
    full = explain_faces(fer_model, portrait_faces)
    for r, f in zip(results, full):
        order = np.argsort(-f.probs, kind="stable")[:2]
        assert r.targets == tuple(int(k) for k in order)
        assert r.heatmaps.shape[0] == 2
        for k in order:
            label = f.labels[k]
            np.testing.assert_allclose(r.heatmap(label), f.heatmap(label), rtol=1e-5, atol=1e-8)
        unexplained = next(lab for i, lab in enumerate(f.labels) if i not in order)
        with pytest.raises(KeyError, match="has no heatmap"):
            r.heatmap(unexplained)
