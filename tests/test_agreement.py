"""EmoNet-40 agreement metrics (METHODS.md 4.4) against hand-computed, published and planted truths."""

from __future__ import annotations

import json

import krippendorff
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from fer_core import agreement as ag
from fer_core.errors import DatasetError
from fer_core.taxonomy import EMONET40

COLUMNS = ["image", "emotion", "annotator", "rating"]
# Krippendorff (2011) "Computing Krippendorff's Alpha-Reliability", example C: 4 observers x 12 units, missing data.
# Published: alpha nominal .743, ordinal .815, interval .849, ratio .797.
NAN = np.nan
KRIPPENDORFF_2011 = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
        [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
    ]
)


def _ratings(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLUMNS)


@pytest.fixture(scope="module")
def truth() -> pd.DataFrame:
    """60 images x 40 emotions: most emotions absent (0), a third present with intensity 1..7."""
    rng = np.random.default_rng(7)
    present = rng.random((60, 40)) < 0.35
    intensity = np.where(present, rng.uniform(1, 7, (60, 40)), 0.0)
    return pd.DataFrame(
        {
            "image": np.repeat([f"img{i:03d}" for i in range(60)], 40),
            "emotion": np.tile(EMONET40, 60),
            "intensity": intensity.ravel(),
        }
    )


@pytest.fixture(scope="module")
def planted(truth):
    """4 humans with noise 0.5 and 20 % unseen images; a copy of the truth with the same noise; a uniform guesser."""
    humans = ag.simulate_annotators(truth, n_annotators=4, noise=0.5, miss_rate=0.2, seed=1)
    copy = ag.simulate_annotators(truth, n_annotators=1, noise=0.5, seed=2, prefix="copy").drop(columns="annotator")
    rng = np.random.default_rng(3)
    guess = truth[["image", "emotion"]].assign(rating=rng.integers(0, 8, len(truth)))
    return humans, {"copy": copy, "random": guess}


# ------------------------------------------------------------------------------------------------- kappa --
def test_quadratic_kappa_hand_example():
    # a = [0, 1, 2, 2], b = [0, 2, 2, 1] on the four shared images (img5 is rated by a only, so it is left out).
    # Observed weighted disagreement: mean (a - b)^2 = (0 + 1 + 0 + 1) / 4 = 0.5.
    # Marginals p = q = (1/4, 1/4, 1/2) on ratings 0, 1, 2; expected = sum_ij p_i q_j (i - j)^2
    #   = 2 * (1/16 * 1 + 1/8 * 4 + 1/8 * 1) = 1.375.  kappa = 1 - 0.5 / 1.375 = 7/11.
    rows = [
        (f"img{i}", "Fear", r, v)
        for i, (x, y) in enumerate(zip([0, 1, 2, 2], [0, 2, 2, 1]), 1)
        for r, v in (("a", x), ("b", y))
    ] + [("img5", "Fear", "a", 7), ("img1", "Anger", "b", 7)]
    ratings = _ratings(rows)
    assert ag.pairwise_kappa(ratings, "Fear", "a", "b") == pytest.approx(7 / 11, abs=1e-12)
    assert ag.pairwise_kappa(ratings, "Negative High-Energy Emotions|Fear", "b", "a") == pytest.approx(7 / 11)
    mat = np.array([[0, 0], [1, 2], [2, 2], [2, 1], [7, np.nan]], dtype=float)
    assert ag.kappa_matrix(mat)[0, 1] == pytest.approx(7 / 11, abs=1e-12)


def test_kappa_degenerate_cases():
    # a constant at 0, b = [0, 1, 2]: observed mean (a - b)^2 = 5/3; expected = mean b^2 = 5/3, so kappa = 0.
    ratings = _ratings(
        [(f"i{k}", "Awe", r, v) for k, (x, y) in enumerate([(0, 0), (0, 1), (0, 2)]) for r, v in (("a", x), ("b", y))]
    )
    assert ag.pairwise_kappa(ratings, "Awe", "a", "b") == pytest.approx(0.0, abs=1e-12)
    # both always 3: 0/0, undefined -> None (skipped in averages)
    same = _ratings([(f"i{k}", "Awe", r, 3) for k in range(4) for r in "ab"])
    assert ag.pairwise_kappa(same, "Awe", "a", "b") is None
    assert np.isnan(ag.kappa_matrix(np.full((4, 2), 3.0))[0, 1])
    # one shared image only -> None
    assert (
        ag.pairwise_kappa(
            _ratings([("i0", "Awe", "a", 1), ("i0", "Awe", "b", 2), ("i1", "Awe", "a", 3)]), "Awe", "a", "b"
        )
        is None
    )


def test_kappa_matrix_equals_sklearn_on_random_raters_with_gaps():
    rng = np.random.default_rng(0)
    mat = rng.integers(0, 8, (40, 5)).astype(float)
    mat[rng.random(mat.shape) < 0.3] = np.nan
    kappa = ag.kappa_matrix(mat)
    for a in range(5):
        for b in range(5):
            if a != b:
                both = ~np.isnan(mat[:, a]) & ~np.isnan(mat[:, b])
                ref = cohen_kappa_score(
                    mat[both, a].astype(int), mat[both, b].astype(int), weights="quadratic", labels=list(range(8))
                )
                assert kappa[a, b] == pytest.approx(ref, abs=1e-12)


def test_agreement_table_means_pairwise_sklearn_kappas(planted):
    humans, models = planted
    ratings = pd.concat([humans, models["copy"].assign(annotator="copy")], ignore_index=True)
    names = sorted(humans["annotator"].unique())
    table = ag.agreement_table(ratings, models=["copy"])
    for emotion in ("Amusement", "Jealousy & Envy"):
        per_human = [
            np.nanmean([ag.pairwise_kappa(ratings, emotion, h, o) or np.nan for o in names if o != h]) for h in names
        ]
        assert table.per_emotion.loc[emotion, "human"] == pytest.approx(np.mean(per_human), abs=1e-12)
        copy = np.mean([ag.pairwise_kappa(ratings, emotion, "copy", h) for h in names])
        assert table.per_emotion.loc[emotion, "copy"] == pytest.approx(copy, abs=1e-12)
    col = table.per_emotion["copy"]
    s = table.summary.loc["copy"]
    assert s["mean"] == pytest.approx(col.mean()) and s["median"] == pytest.approx(col.median())
    assert s["std"] == pytest.approx(col.std(ddof=1)) and s["best_emotion"] == col.idxmax()
    assert s["n_emotions"] == 40 and json.dumps(table.to_json(), allow_nan=False)


# ------------------------------------------------------------------------------------------------- alpha --
def test_alpha_matches_krippendorff_2011_published_value():
    assert round(ag.interval_alpha(KRIPPENDORFF_2011), 3) == 0.849
    rows = [
        (f"u{u}", "Doubt", f"obs{o}", int(v))
        for o, row in enumerate(KRIPPENDORFF_2011)
        for u, v in enumerate(row)
        if not np.isnan(v)
    ]
    alpha, lo, hi = ag.krippendorff_alpha(_ratings(rows), "Doubt", n_boot=200)
    assert round(alpha, 3) == 0.849 and lo < alpha < hi


def test_vectorised_alpha_equals_package_on_random_data_with_gaps():
    rng = np.random.default_rng(11)
    for trial in range(25):
        raters, units = rng.integers(2, 7), rng.integers(3, 60)
        data = rng.integers(0, 8, (raters, units)).astype(float) if trial % 2 else rng.normal(3, 2, (raters, units))
        data[rng.random(data.shape) < rng.uniform(0, 0.6)] = np.nan
        if (np.sum(~np.isnan(data), 0) >= 2).sum() == 0 or len(np.unique(data[~np.isnan(data)])) < 2:
            continue
        ref = krippendorff.alpha(reliability_data=data, level_of_measurement="interval")
        assert ag.interval_alpha(data) == pytest.approx(ref, abs=1e-9)


def test_bootstrap_equals_package_on_the_same_resamples():
    rng = np.random.default_rng(5)
    data = rng.integers(0, 8, (4, 30)).astype(float)
    data[rng.random(data.shape) < 0.3] = np.nan
    lo, hi = ag.bootstrap_interval_alpha(data, n_boot=60, seed=9)
    # the same draws (one block: 60 x 30 units), each resample scored by the package on duplicated columns
    pairable = data[:, (~np.isnan(data)).sum(0) >= 2]
    idx = np.random.default_rng(9).integers(0, pairable.shape[1], (60, pairable.shape[1]))
    ref = [krippendorff.alpha(reliability_data=pairable[:, i], level_of_measurement="interval") for i in idx]
    assert (lo, hi) == pytest.approx(tuple(np.quantile(ref, [0.025, 0.975])), abs=1e-9)
    assert ag.bootstrap_interval_alpha(data, n_boot=60, seed=9) == (lo, hi)
    assert all(np.isnan(ag.bootstrap_interval_alpha(data, n_boot=0)))


def test_planted_noise_sets_alpha(truth):
    def alphas(noise: float) -> np.ndarray:
        ratings = ag.simulate_annotators(truth, n_annotators=3, noise=noise, seed=4)
        return np.array([ag.krippendorff_alpha(ratings, e, n_boot=0)[0] for e in EMONET40[:8]])

    quiet, loud = alphas(0.3), alphas(2.0)
    assert (quiet > 0.9).all() and (loud < quiet - 0.2).all()


# ---------------------------------------------------------------------------------------- model vs human --
def test_mann_whitney_exact_hand_values():
    # Exact two-sided p with no ties and U = 0: 2 / C(n_x + n_y, n_x).
    v = ag.could_be_annotator([1, 2, 3], [4, 5, 6])  # 2 / C(6, 3) = 0.1 > 0.05
    assert v["p_value"] == pytest.approx(0.1) and v["could_be_annotator"] is True
    assert v["u_statistic"] == 0 and v["mean_difference"] == pytest.approx(-3.0)
    v = ag.could_be_annotator([1, 2, 3, 4, np.nan], [5, 6, 7, 8])  # 2 / C(8, 4) = 0.0286
    assert v["p_value"] == pytest.approx(2 / 70) and v["could_be_annotator"] is False and v["n_model"] == 4
    assert v["difference_lo"] <= -4 <= v["difference_hi"]
    assert ag.could_be_annotator([0.5], [0.4, 0.6])["could_be_annotator"] is None


def test_planted_copy_passes_and_guesser_fails(planted):
    humans, models = planted
    report = ag.evaluate_agreement(humans, models, n_boot=200)
    copy, guess = report.verdicts["copy"], report.verdicts["random"]
    assert copy["could_be_annotator"] is True and copy["p_value"] > 0.05
    assert guess["could_be_annotator"] is False and guess["p_value"] < 0.05
    assert abs(report.table.summary.loc["random", "mean"]) < 0.1
    assert report.table.summary.loc["human", "mean"] > 0.8
    frame = report.to_frame()
    assert len(frame) == 40 and {"group", "human", "copy", "random", "alpha", "alpha_lo", "alpha_hi"} <= set(frame)
    assert (frame["alpha_lo"] <= frame["alpha"]).all() and (frame["alpha"] <= frame["alpha_hi"]).all()
    # the report's alpha is the one krippendorff_alpha gives for the humans alone
    assert frame.loc[0, "alpha"] == pytest.approx(ag.krippendorff_alpha(humans, EMONET40[0], n_boot=0)[0])
    out = json.loads(json.dumps(report.to_json(), allow_nan=False))
    assert out["verdicts"]["random"]["could_be_annotator"] is False and len(out["per_emotion"]) == 40


# ------------------------------------------------------------------------------------------------- input --
def _write(tmp_path, text: str):
    path = tmp_path / "ratings.csv"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "body, match",
    [
        ("image,emotion,annotator,rating\na,Fear,h1,3\na,Fearr,h2,3\n", r"'Fearr'.*csv lines 3.*'Fear'"),
        ("image,emotion,annotator,rating\na,Fear,h1,3\na,Fear,h2,9\n", r"integers 0\.\.7.*\['9'\].*csv lines 3"),
        ("image,emotion,annotator,rating\na,Fear,h1,3.5\n", r"\['3\.5'\]"),
        ("image,emotion,annotator,rating\na,Fear,h1,\n", r"<empty>.*csv lines 2"),
        ("image,emotion,rating\na,Fear,3\n", r"missing columns \['annotator'\]"),
        ("image,emotion,annotator,rating\na,Fear,h1,yes\na,Awe,h1,no\n", r"yes/no.*not ordinal"),
        ("image,emotion,annotator,rating\na,Fear,h1,3\na,Fear,h1,4\n", r"twice.*\('a', 'Fear', 'h1'\)"),
    ],
)
def test_bad_ratings_name_the_problem(tmp_path, body, match):
    with pytest.raises(DatasetError, match=match):
        ag.read_ratings(_write(tmp_path, body))


def test_read_ratings_strips_group_keys_and_keeps_ids_as_text(tmp_path):
    path = _write(
        tmp_path, "image,emotion,annotator,rating\n007,Negative High-Energy Emotions|Fear,01,3\n007,Awe,01,0\n"
    )
    table = ag.read_ratings(path)
    assert list(table["emotion"]) == ["Fear", "Awe"] and list(table["image"]) == ["007", "007"]
    assert list(table["annotator"]) == ["01", "01"] and table["rating"].dtype == np.int64


def test_model_outputs_rounded_half_up_and_clipped():
    wide = pd.DataFrame({"image": ["a", "b"], "Fear": [2.5, 7.6], "Positive Low-Energy|Relief": [2.49, -0.3]})
    out = ag.model_ratings(wide, "m").set_index(["image", "emotion"])["rating"]
    assert out[("a", "Fear")] == 3 and out[("b", "Fear")] == 7 and out[("a", "Relief")] == 2
    assert out[("b", "Relief")] == 0
    with pytest.warns(UserWarning, match="<= 1"):
        ag.model_ratings(pd.DataFrame({"image": ["a"], "emotion": ["Fear"], "score": [0.4]}), "hume")


def test_simulation_is_seeded_and_omits_whole_images(truth):
    a = ag.simulate_annotators(truth, n_annotators=5, noise=1.0, miss_rate=0.3, bias=0.5, seed=3)
    pd.testing.assert_frame_equal(
        a, ag.simulate_annotators(truth, n_annotators=5, noise=1.0, miss_rate=0.3, bias=0.5, seed=3)
    )
    assert not a.equals(ag.simulate_annotators(truth, n_annotators=5, noise=1.0, miss_rate=0.3, bias=0.5, seed=4))
    per_pair = a.groupby(["image", "annotator"]).size()
    assert (per_pair == 40).all() and 0.2 < 1 - len(per_pair) / (60 * 5) < 0.4
    assert a["rating"].between(0, 7).all()
    exact = ag.simulate_annotators(truth, n_annotators=2, noise=0.0, bias=[1.0, 0.0], seed=0)
    shifted = exact[exact["annotator"] == "human-1"]["rating"].to_numpy()
    assert (shifted == np.clip(np.floor(truth["intensity"].to_numpy() + 1.5), 0, 7)).all()


# --------------------------------------------------------------------------------------------------- CLI --
def test_cli_prints_table_summary_and_verdicts(tmp_path, truth, planted, capsys):
    from fer_core.cli import main

    humans, models = planted
    ratings, copy, bad = tmp_path / "hq.csv", tmp_path / "copy.csv", tmp_path / "bad.csv"
    humans.to_csv(ratings, index=False)
    models["copy"].to_csv(copy, index=False)
    assert main(["agreement", str(ratings), "--model-ratings", f"copy={copy}", "--boot", "100"]) == 0
    text = capsys.readouterr().out
    assert "summary over emotions" in text and "Jealousy & Envy" in text
    assert "copy: yes (p = " in text and "human alpha: mean" in text
    assert main(["agreement", str(ratings), "--model-ratings", f"copy={copy}", "--json", "--boot", "50"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["models"] == ["copy"] and out["verdicts"]["copy"]["could_be_annotator"] is True
    bad.write_text("image,emotion,annotator,rating\na,Fear,h1,9\n")
    assert main(["agreement", str(bad)]) == 2
    assert "9" in capsys.readouterr().err
