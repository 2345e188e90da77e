"""Gamma–Gamma spend (Fader, Hardie & Lee 2005; Fader & Hardie 2013) and CLV per customer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import crmlab as cl
from crmlab.models import BGNBD, GammaGamma, ParetoNBD
from crmlab.targeting import expected_customer_value

PUBLISHED = {"p": 6.25, "q": 3.74, "gamma": 15.44}
BGNBD_CDNOW = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


@pytest.fixture(scope="module")
def model(cdnow_calibration):
    return GammaGamma().fit(cdnow_calibration)


# ----- the published figures ------------------------------------------------------------------
def test_parameters_and_loglik_on_the_946_repeat_buyers(model):
    assert model.n_obs == 946
    assert {k: round(v, 2) for k, v in model.params.items()} == PUBLISHED
    assert round(model.loglik, 2) == -4055.92


def test_hardies_published_zbar_gives_the_same_fit():
    published = cl.datasets.load_cdnow_published_summary().rename(columns={"zbar": "monetary"})
    fitted = GammaGamma().fit(published)
    assert fitted.n_obs == 946
    # zbar is printed to the cent; on those rounded means the flat direction of gamma
    # (se 4.2) moves the maximum to 15.448, which rounds up, while p, q and the
    # log-likelihood keep the published digits.
    assert round(fitted.params["p"], 2) == 6.25 and round(fitted.params["q"], 2) == 3.74
    assert fitted.params["gamma"] == pytest.approx(15.44, abs=0.01)
    assert round(fitted.loglik, 2) == -4055.92


def test_population_mean_spend_is_close_to_the_observed_mean(model, cdnow_calibration):
    buyers = cdnow_calibration[cdnow_calibration["x"] > 0]
    # E(M) = p γ / (q - 1): $35.17 against the observed $35.08 average of the 946 means.
    assert round(model.mean_spend(), 2) == 35.17
    assert round(buyers["monetary"].mean(), 2) == 35.08


def test_conditional_spend_is_the_weighted_average_of_the_note():
    gg = GammaGamma().set_params(**PUBLISHED)
    p, q, gamma = PUBLISHED.values()
    x, m = np.array([1, 2, 10, 50]), np.array([100.0, 22.35, 20.0, 5.0])
    weight = p * x / (p * x + q - 1)
    expected = (1 - weight) * p * gamma / (q - 1) + weight * m
    assert gg.conditional_expected_spend(x, m) == pytest.approx(expected, rel=1e-12)
    assert gg.conditional_expected_spend(0, np.nan) == pytest.approx(gg.mean_spend())
    few, many = gg.conditional_expected_spend([1, 50], [100.0, 100.0])
    assert gg.mean_spend() < few < many < 100


def test_frequency_and_spend_are_nearly_uncorrelated_in_cdnow(cdnow_calibration):
    assert round(cl.models.frequency_spend_correlation(cdnow_calibration), 2) == 0.11


# ----- simulation, bad input --------------------------------------------------------------------
def test_simulated_spend_gives_its_parameters_back_within_three_standard_errors():
    truth = {"p": 6.0, "q": 4.0, "gamma": 15.0}
    x = np.random.default_rng(3).integers(1, 8, 20_000)
    monetary = GammaGamma().set_params(**truth).simulate(x, seed=4)
    fitted = GammaGamma().fit(pd.DataFrame({"x": x, "monetary": monetary}))
    for name, value in truth.items():
        se = fitted.standard_errors[name]
        assert 0 < se < value
        assert abs(fitted.params[name] - value) < 3 * se, (name, fitted.params[name], se)


def test_bad_spend_data_are_refused():
    with pytest.raises(ValueError, match=r"'monetary' must be positive.*row 1"):
        GammaGamma().fit(pd.DataFrame({"x": [2, 1], "monetary": [10.0, -1.0]}))
    with pytest.raises(ValueError, match=r"'monetary' must be positive.*row 0"):
        GammaGamma().fit(pd.DataFrame({"x": [2, 1], "monetary": [np.nan, 3.0]}))
    with pytest.raises(ValueError, match="no customer has x > 0"):
        GammaGamma().fit(pd.DataFrame({"x": [0, 0], "monetary": [np.nan, np.nan]}))
    with pytest.raises(ValueError, match=r"'x' must hold whole numbers.*row 0"):
        GammaGamma().fit(pd.DataFrame({"x": [-1, 1], "monetary": [1.0, 3.0]}))
    with pytest.raises(ValueError, match="lack column"):
        GammaGamma().fit(pd.DataFrame({"x": [1]}))


def test_huge_x_and_tiny_spend_stay_finite():
    gg = GammaGamma().set_params(**PUBLISHED)
    assert gg.conditional_expected_spend(100_000, 12.5) == pytest.approx(12.5, rel=1e-3)
    rows = gg._loglik_rows(
        np.array(list(PUBLISHED.values())), x=np.array([1e5, 1.0]), monetary=np.array([1e-6, 1e6])
    )
    assert np.all(np.isfinite(rows))


# ----- lifetime value per customer ------------------------------------------------------------
@pytest.fixture(scope="module")
def models():
    return BGNBD().set_params(**BGNBD_CDNOW), GammaGamma().set_params(**PUBLISHED)


def test_clv_is_spend_times_expected_purchases_without_discounting(models, cdnow_calibration):
    bg, gg = models
    clv = expected_customer_value(bg, gg, cdnow_calibration, horizon=39)
    purchases = bg.conditional_expected_purchases(
        39.0, cdnow_calibration["x"], cdnow_calibration["t_x"], cdnow_calibration["T"]
    )
    spend = gg.conditional_expected_spend(cdnow_calibration["x"], cdnow_calibration["monetary"])
    assert clv.to_numpy() == pytest.approx(purchases * spend, rel=1e-10)
    assert clv.index.equals(cdnow_calibration.index) and clv.name == "clv"


def test_clv_discounting_margin_and_period_length(models, cdnow_calibration):
    bg, gg = models
    head = cdnow_calibration.head(200)
    plain = expected_customer_value(bg, gg, head, horizon=12, period_length=52 / 12)
    weekly = expected_customer_value(bg, gg, head, horizon=52)
    assert plain.to_numpy() == pytest.approx(weekly.to_numpy(), rel=1e-9)  # same 52 weeks
    discounted = expected_customer_value(
        bg, gg, head, horizon=12, discount=0.01, period_length=52 / 12
    )
    assert (discounted < plain).all() and (discounted > plain / 1.01**12).all()
    half = expected_customer_value(
        bg, gg, head, horizon=12, discount=0.01, margin=0.5, period_length=52 / 12
    )
    assert half.to_numpy() == pytest.approx(0.5 * discounted.to_numpy(), rel=1e-12)


def test_clv_works_with_pareto_nbd_and_stays_finite_at_extremes(cdnow_calibration):
    pareto = ParetoNBD().set_params(r=0.55, alpha=10.58, s=0.61, beta=11.67)
    gg = GammaGamma().set_params(**PUBLISHED)
    extreme = pd.DataFrame(
        {"x": [0, 1000, 1], "t_x": [0.0, 38.9, 1e-9], "T": [1e-9, 39.0, 1e-9]}
    ).assign(monetary=[np.nan, 20.0, 5.0])
    values = expected_customer_value(pareto, gg, extreme, horizon=52, discount=0.0)
    assert np.isfinite(values).all() and (values > 0).all()
    assert values.iloc[1] > 1000 * 20.0 * 0.5  # a heavy buyer keeps buying


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"horizon": 0}, "horizon must be a whole number"),
        ({"horizon": 2.5}, "horizon must be a whole number"),
        ({"horizon": 5, "discount": -0.1}, "discount must be"),
        ({"horizon": 5, "margin": float("nan")}, "margin must be"),
        ({"horizon": 5, "period_length": 0.0}, "period_length must be"),
    ],
)
def test_clv_refuses_bad_arguments(models, cdnow_calibration, kwargs, message):
    bg, gg = models
    with pytest.raises(ValueError, match=message):
        expected_customer_value(bg, gg, cdnow_calibration, **kwargs)


def test_clv_needs_the_monetary_column(models, cdnow_calibration):
    bg, gg = models
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['monetary'\]"):
        expected_customer_value(bg, gg, cdnow_calibration.drop(columns="monetary"), horizon=5)
