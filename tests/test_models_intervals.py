"""Per-customer intervals from parameter uncertainty: coverage by simulation, and the API."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import crmlab as cl
from crmlab.models import BGNBD, GammaGamma, ParetoNBD

BG = {"r": 0.8, "alpha": 8.0, "a": 0.8, "b": 2.5}


def test_nominal_90_percent_intervals_cover_85_to_95_percent_of_simulated_truths():
    truth = BGNBD().set_params(**BG)
    x, t_x, T = np.array([2.0, 6.0, 1.0]), np.array([20.0, 38.0, 5.0]), np.full(3, 39.0)
    true_alive = truth.p_alive(x, t_x, T)
    true_expected = truth.conditional_expected_purchases(39, x, t_x, T)
    hits = []
    for rep in range(100):
        base = truth.simulate(1000, 39.0, seed=1000 + rep)
        base["t_x"] = np.where(base["x"] > 0, np.maximum(np.round(base["t_x"] * 7), 1) / 7, 0.0)
        model = BGNBD().fit(pd.DataFrame(base))
        alive = model.p_alive(x, t_x, T, interval=0.9, draws=300, seed=rep)
        expected = model.conditional_expected_purchases(39, x, t_x, T, interval=0.9, draws=300)
        hits.append(
            np.r_[
                (alive["lower"] <= true_alive) & (true_alive <= alive["upper"]),
                (expected["lower"] <= true_expected) & (true_expected <= expected["upper"]),
            ]
        )
    coverage = np.mean(hits)
    assert 0.85 <= coverage <= 0.95, np.mean(hits, axis=0)


@pytest.fixture(scope="module")
def cdnow_fit():
    return BGNBD().fit(cl.datasets.load_cdnow_published_summary())


def test_interval_table_is_labelled_by_customer_and_brackets_the_estimate(cdnow_calibration):
    model = ParetoNBD().fit(cdnow_calibration)
    head = cdnow_calibration.head(20)
    table = model.conditional_expected_purchases(
        39, head["x"], head["t_x"], head["T"], interval=0.9, draws=200
    )
    assert list(table.columns) == ["estimate", "lower", "upper"]
    assert table.index.equals(head.index)
    assert np.allclose(
        table["estimate"],
        model.conditional_expected_purchases(39, head["x"], head["t_x"], head["T"]),
    )
    assert ((table["lower"] <= table["estimate"]) & (table["estimate"] <= table["upper"])).all()
    assert (table["upper"] > table["lower"]).all()
    wider = model.conditional_expected_purchases(
        39, head["x"], head["t_x"], head["T"], interval=0.99, draws=200
    )
    assert (wider["upper"] - wider["lower"] >= table["upper"] - table["lower"]).all()


def test_seeded_intervals_repeat_and_the_bootstrap_agrees_with_the_normal_draws(cdnow_fit):
    first = cdnow_fit.p_alive(2, 30.43, 38.86, interval=0.9, seed=4)
    assert first.equals(cdnow_fit.p_alive(2, 30.43, 38.86, interval=0.9, seed=4))
    boot = cdnow_fit.p_alive(2, 30.43, 38.86, interval=0.9, method="bootstrap", draws=60)
    normal_width = float(first["upper"].iloc[0] - first["lower"].iloc[0])
    boot_width = float(boot["upper"].iloc[0] - boot["lower"].iloc[0])
    assert boot_width == pytest.approx(normal_width, rel=0.4)
    assert boot.attrs["method"] == "bootstrap"


def test_expected_spend_interval_and_refusals(cdnow_calibration, cdnow_fit):
    gg = GammaGamma().fit(cdnow_calibration)
    table = gg.conditional_expected_spend([1, 10], [20.0, 20.0], interval=0.9, draws=200)
    assert (table["lower"] < table["estimate"]).all() and (table["estimate"] < table["upper"]).all()
    # more purchases: the customer's own mean is known better, the interval narrower
    widths = table["upper"] - table["lower"]
    assert widths.iloc[1] < widths.iloc[0]
    by_hand = BGNBD().set_params(**BG)
    with pytest.raises(ValueError, match=r"set by hand.*call fit"):
        by_hand.p_alive(2, 30, 39, interval=0.9)
    with pytest.raises(ValueError, match="between 0 and 1"):
        cdnow_fit.p_alive(2, 30, 39, interval=90)
    with pytest.raises(ValueError, match="method must be one of"):
        cdnow_fit.p_alive(2, 30, 39, interval=0.9, method="jackknife")


def test_covariate_models_give_intervals_per_customer():
    rng = np.random.default_rng(0)
    n = 3000
    g = rng.integers(0, 2, n).astype(float)
    truth = ParetoNBD(purchase_covariates=["g"]).set_params(
        r=0.8, alpha=8.0, s=0.7, beta=12.0, **{"purchase.g": 0.6}
    )
    data = pd.DataFrame(truth.simulate(n, 39.0, covariates={"g": g})).assign(g=g)
    model = ParetoNBD(purchase_covariates=["g"]).fit(data)
    table = model.conditional_expected_purchases(
        39, [3, 3], [30, 30], [39, 39], covariates={"g": [0.0, 1.0]}, interval=0.9, draws=200
    )
    assert table["estimate"].iloc[1] > table["estimate"].iloc[0]
    assert ((table["lower"] < table["estimate"]) & (table["estimate"] < table["upper"])).all()
