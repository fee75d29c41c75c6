"""The semi-supervised claim (METHODS.md section 3) on the mean of three seeds: with 10 % of the SynthFACS labels,
the Dynamic Threshold Module beats supervised-only training and a fixed 0.95 threshold on test macro-F1; every seed
reproduces the recorded figures."""

from __future__ import annotations

import pytest

from fer_core.train.claims import recorded_claim, semi_dtm_claim
from tests.train._claims import assert_reproduces

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def claim(tmp_path_factory):
    return semi_dtm_claim(tmp_path_factory.mktemp("semi_claim"), workers=2)


def test_dtm_beats_supervised_only_and_a_fixed_threshold(claim):
    assert claim["holds"], "\n".join(claim["summary"])
    for seed in claim["seeds"]:
        pl = claim["figures"]["dtm"][seed]["pseudo_labels"]
        assert 0 < pl["taken_share"] < 1 and pl["precision"] > 0.6  # the pseudo-labels DTM trusts are mostly right
        assert claim["figures"]["supervised_only"][seed]["pseudo_labels"]["taken_share"] == 0  # lambda_u = 0


def test_every_seed_reproduces_the_recorded_figures(claim):
    assert_reproduces(claim, recorded_claim("semi_dtm"), ("macro_f1", "accuracy"))
