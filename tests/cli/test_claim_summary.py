"""``claim_summary``: the text ``fer-core claim`` prints for a claim's result (title, a row per figure and variant
with the per-seed values and their mean, the claim's extras, the checks, the verdict), on small hand-made results."""

from __future__ import annotations

from fer_core.train.claims import claim_summary, recorded_claim

HEADER = " " * 60 + "   seed 0   seed 1     mean"


def _runs(values: dict[str, tuple[float, float]]) -> dict[int, dict]:
    """Two seeds' figures from ``key -> (seed 0, seed 1)``."""
    return {s: {k: v[i] for k, v in values.items()} for i, s in enumerate((0, 1))}


def test_fair_mmd_rows_chance_and_a_verdict_not_on_every_seed():
    keys = ("accuracy", "worst_group_accuracy", "accuracy_gap", "mean_mmd2", "probe_accuracy")
    base = _runs({k: (0.9, 0.8) for k in keys})
    fair = _runs({k: (0.5, 0.25) for k in keys})
    result = {
        "claim": "fair_mmd",
        "attribute": "age",
        "seeds": [0, 1],
        "figures": {"supervised": base, "fair_mmd": fair},
        "means": {
            "supervised": {k: 0.85 for k in keys} | {"probe_chance": 1 / 3},
            "fair_mmd": {k: 0.375 for k in keys} | {"probe_chance": 1 / 3},
        },
        "summary": ["[x] check one", "[ ] check two"],
        "holds": True,
        "holds_on_every_seed": False,
    }
    lines = claim_summary(result).split("\n")
    assert lines[:4] == [
        "fair_mmd vs supervised on the biased SynthFACS split (balanced test set), groups = age",
        HEADER,
        "  accuracy                                supervised           0.9000   0.8000   0.8500",
        "  accuracy                                fair_mmd             0.5000   0.2500   0.3750",
    ]
    assert lines[10:12] == [
        "  probe accuracy                          supervised           0.9000   0.8000   0.8500",
        "  probe accuracy                          fair_mmd             0.5000   0.2500   0.3750",
    ]
    assert lines[12:] == [
        "  (probe chance 0.3333)",
        "  [x] check one",
        "  [ ] check two",
        "claim holds on the mean of 2 seed(s); not on every seed (see above)",
    ]


def test_semi_dtm_pseudo_labels_per_seed_and_a_failed_claim():
    pseudo = {
        "taken_share": 0.25,
        "precision": 0.8,
        "per_class": {
            "happy": {"threshold": 0.95, "taken": 3.0, "precision": 1.0},
            "sad": {"threshold": 0.9, "taken": None, "precision": None},
        },
    }
    figures = {v: _runs({"macro_f1": (0.6, 0.4), "accuracy": (0.7, 0.5)}) for v in ("dtm", "supervised_only")}
    figures["dtm"][0]["pseudo_labels"], figures["dtm"][1]["pseudo_labels"] = pseudo, {}  # seed 1: none logged
    result = {
        "claim": "semi_dtm",
        "labeled_fraction": 0.1,
        "seeds": [0, 1],
        "figures": figures,
        "means": {v: {"macro_f1": 0.5, "accuracy": 0.6} for v in figures},
        "summary": ["[ ] DTM wins"],
        "holds": False,
        "holds_on_every_seed": False,
    }
    lines = claim_summary(result).split("\n")
    assert lines[:3] == [
        "semi_dtm with 10% of the SynthFACS training labels",
        HEADER,
        "  test macro-F1                           dtm                  0.6000   0.4000   0.5000",
    ]
    assert lines[5] == "  test accuracy                           supervised_only      0.7000   0.5000   0.6000"
    assert lines[6:] == [
        "  DTM pseudo-labels in the last epoch, per seed: share of the pool taken, precision",
        "    seed 0: 25% taken, precision 0.8; per class: happy 1.0 (t=0.95, n=3), sad - (t=0.9, n=0)",
        "  [ ] DTM wins",
        "claim does NOT hold on the mean of 2 seed(s)",
    ]


def test_au_iat_chance_and_per_au_table_marks_the_habit_aus():
    keys = ("mean_f1", "mean_f1_tuned", "probe_train_subjects", "probe_test_subjects")
    figures = {"lambda_0": _runs({k: (0.8, 0.7) for k in keys}), "iat_lambda_2": _runs({k: (0.6, 0.5) for k in keys})}
    chance = {"probe_train_chance": 0.0125, "probe_test_chance": 0.02}
    result = {
        "claim": "au_iat",
        "lambda_id": 2.0,
        "seeds": [0, 1],
        "figures": figures,
        "means": {"lambda_0": {k: 0.75 for k in keys} | chance, "iat_lambda_2": {k: 0.55 for k in keys} | chance},
        "per_au": {"lambda_0": {"AU1": 0.9, "AU14": 0.7}, "iat_lambda_2": {"AU1": 0.91, "AU14": 0.65}},
        "summary": ["[x] IAT lowers the probe"],
        "holds": True,
        "holds_on_every_seed": True,
    }
    lines = claim_summary(result).split("\n")
    assert lines[:3] == [
        "au_iat on SynthFACS people with AU habits: IAT (lambda 2) vs lambda 0; replicate s = test fold s, seed s",
        HEADER,
        "  mean AU F1 at 0.5, unseen people        lambda_0             0.8000   0.7000   0.7500",
    ]
    assert lines[9] == "  identity probe, unseen people           iat_lambda_2         0.6000   0.5000   0.5500"
    assert lines[10:] == [
        "  (probe chance: 0.0125 training people, 0.0200 unseen people)",
        "  mean F1 per AU over the replicates (* = an AU people carry as a habit):",
        "    AU1     lambda_0: 0.9000  iat_lambda_2: 0.9100  ",
        "    AU14*   lambda_0: 0.7000  iat_lambda_2: 0.6500  ",
        "  [x] IAT lowers the probe",
        "claim holds on the mean of 2 seed(s)",
    ]


def test_the_recorded_claims_read_as_a_summary():
    """The shipped records (``assets/claims``) have every field the text needs; it ends with their verdict."""
    for name in ("fair_mmd", "semi_dtm", "au_iat"):
        result = recorded_claim(name)
        lines = claim_summary(result).split("\n")
        assert lines[0].startswith(name) and lines[1].split()[-1] == "mean"
        assert lines[-1].startswith("claim holds" if result["holds"] else "claim does NOT hold"), name
        assert [f"  {s}" for s in result["summary"]] == lines[-1 - len(result["summary"]) : -1]
