"""Time-invariant covariates: likelihood, recovery by simulation, and refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import crmlab as cl
from crmlab.models import BGNBD, MBGNBD, GammaGamma, ParetoNBD
from crmlab.models._covariates import MissingCovariateError

PARETO = {"r": 0.8, "alpha": 8.0, "s": 0.7, "beta": 12.0}
BG = {"r": 0.8, "alpha": 8.0, "a": 0.8, "b": 2.5}


def simulated_base(model, n, seed, coefficients):
    """A base with a 0/1 covariate 'g', times recorded to the day (so rows compress)."""
    rng = np.random.default_rng(seed)
    z = pd.DataFrame({"g": rng.integers(0, 2, n).astype(float)})
    T = np.round(rng.uniform(26, 52, n) * 7) / 7
    truth = model.set_params(**coefficients)
    base = pd.DataFrame(truth.simulate(n, T, seed=seed, covariates=z))
    base["t_x"] = np.where(base["x"] > 0, np.maximum(np.round(base["t_x"] * 7), 1) / 7, 0.0)
    base["t_x"] = np.minimum(base["t_x"], base["T"])
    return base.join(z)


@pytest.mark.parametrize(("model_class", "base_params"), [(ParetoNBD, PARETO), (BGNBD, BG)])
def test_covariate_likelihood_is_the_base_likelihood_at_each_groups_scaled_parameters(
    model_class, base_params
):
    rng = np.random.default_rng(3)
    n = 600
    data = pd.DataFrame(model_class().set_params(**base_params).simulate(n, 40.0, seed=4))
    data["g"] = rng.integers(0, 2, n).astype(float)
    coef = {"purchase.g": 0.4, "dropout.g": -0.3}
    model = model_class(purchase_covariates=["g"], dropout_covariates=["g"])
    total = model.set_params(**base_params, **coef).log_likelihood(data)
    expected = 0.0
    for level, group in data.groupby("g"):
        scaled = dict(base_params)
        scaled["alpha"] *= np.exp(-0.4 * level)
        if model_class is ParetoNBD:
            scaled["beta"] *= np.exp(0.3 * level)
        else:
            scaled["a"] *= np.exp(-0.3 * level)
            scaled["b"] *= np.exp(-0.3 * level)
        expected += model_class().set_params(**scaled).log_likelihood(group[["x", "t_x", "T"]])
    assert total == pytest.approx(expected, rel=1e-12)
    # at coefficients of 0 the covariate model is the base model
    zero = model.set_params(**base_params, **dict.fromkeys(coef, 0.0)).log_likelihood(data)
    base = model_class().set_params(**base_params).log_likelihood(data[["x", "t_x", "T"]])
    assert zero == pytest.approx(base, rel=1e-13)


def test_the_coefficients_gradient_is_the_chain_rule_through_alpha():
    data = pd.DataFrame(ParetoNBD().set_params(**PARETO).simulate(500, 40.0, seed=5))
    data["z"] = np.random.default_rng(6).normal(size=500)
    model = ParetoNBD(purchase_covariates=["z"])
    h = 1e-5

    def loglik(coef):
        return model.set_params(**PARETO, **{"purchase.z": coef}).log_likelihood(data)

    numeric = (loglik(h) - loglik(-h)) / (2 * h)
    # dLL/dgamma at 0 = sum_i z_i * dl_i/dalpha * (-alpha)
    base = ParetoNBD()
    rows = []
    for shift in (h, -h):
        params = np.array([PARETO["r"], PARETO["alpha"] + shift, PARETO["s"], PARETO["beta"]])
        rows.append(base._rows(params, {k: data[k].to_numpy() for k in ("x", "t_x", "T")}))
    chain = np.sum(data["z"].to_numpy() * (rows[0] - rows[1]) / (2 * h) * -PARETO["alpha"])
    assert numeric == pytest.approx(chain, rel=1e-5)


@pytest.mark.parametrize(
    ("model_class", "base_params", "truth"),
    [
        (ParetoNBD, PARETO, {"purchase.g": 0.5, "dropout.g": 0.7}),
        (BGNBD, BG, {"purchase.g": 0.5, "dropout.g": 0.8}),
    ],
)
def test_simulated_coefficients_come_back_within_two_standard_errors(
    model_class, base_params, truth
):
    model = model_class(purchase_covariates=["g"], dropout_covariates=["g"])
    base = simulated_base(model, 12_000, 11, {**base_params, **truth})
    fitted = model_class(purchase_covariates=["g"], dropout_covariates=["g"]).fit(base)
    assert fitted.converged and fitted.n_rows < len(base)  # compression still applies
    se = fitted.standard_errors
    for name, value in {**base_params, **truth}.items():
        assert abs(fitted.params[name] - value) < 2 * se[name], (name, fitted.params[name], se)
    # and the covariate model beats the model without, by much more than chance
    plain = model_class().fit(base[["x", "t_x", "T"]])
    assert 2 * (fitted.loglik - plain.loglik) > 50


def test_gamma_gamma_spend_coefficient_comes_back():
    rng = np.random.default_rng(2)
    n = 8000
    z = pd.DataFrame({"g": rng.integers(0, 2, n).astype(float)})
    x = rng.integers(1, 8, n).astype(float)
    truth = GammaGamma(spend_covariates=["g"]).set_params(
        p=6.0, q=4.0, gamma=15.0, **{"spend.g": 0.4}
    )
    data = pd.DataFrame({"x": x, "monetary": truth.simulate(x, seed=3, covariates=z)}).join(z)
    fitted = GammaGamma(spend_covariates=["g"]).fit(data)
    se = fitted.standard_errors
    for name, value in {"p": 6.0, "q": 4.0, "gamma": 15.0, "spend.g": 0.4}.items():
        assert abs(fitted.params[name] - value) < 2 * se[name], (name, fitted.params)
    spend = fitted.conditional_expected_spend([2, 2], [30.0, 30.0], covariates={"g": [0, 1]})
    assert spend[1] > spend[0]  # a positive coefficient: more spend


def test_predictions_take_the_covariates_of_the_customers_predicted_for():
    model = ParetoNBD(purchase_covariates=["vip"], dropout_covariates=["vip"]).set_params(
        **PARETO, **{"purchase.vip": np.log(2), "dropout.vip": 0.5}
    )
    plain = ParetoNBD().set_params(**PARETO)
    both = model.p_alive([2, 2], [30, 30], [39, 39], covariates={"vip": [0.0, 1.0]})
    assert both[0] == pytest.approx(plain.p_alive(2, 30, 39), rel=1e-12)
    doubled = ParetoNBD().set_params(r=0.8, alpha=4.0, s=0.7, beta=12.0 * np.exp(-0.5))
    assert both[1] == pytest.approx(doubled.p_alive(2, 30, 39), rel=1e-12)
    assert model.expected_purchases(39, covariates={"vip": [0.0, 1.0]})[
        1
    ] > plain.expected_purchases(39)
    with pytest.raises(ValueError, match="pass the customers' values with covariates="):
        model.p_alive(2, 30, 39)
    with pytest.raises(ValueError, match="built without covariates"):
        plain.p_alive(2, 30, 39, covariates={"vip": [1.0]})


def test_a_constant_covariate_is_refused_as_not_identified():
    data = pd.DataFrame({"x": [1, 0, 2], "t_x": [3.0, 0.0, 4.0], "T": [5.0, 5.0, 5.0], "g": 1.0})
    with pytest.raises(
        ValueError, match=r"covariate 'g': 3 row\(s\) all hold the same value 1.*not identified"
    ):
        ParetoNBD(purchase_covariates=["g"]).fit(data)


def test_missing_covariate_values_and_columns_are_named_errors():
    data = pd.DataFrame(
        {"x": [1, 0, 2], "t_x": [3.0, 0.0, 4.0], "T": [5.0, 5.0, 5.0], "g": [1.0, np.nan, 0.0]},
        index=["a", "b", "c"],
    )
    with pytest.raises(MissingCovariateError, match=r"covariate 'g': 1 missing.*row 'b'"):
        BGNBD(dropout_covariates=["g"]).fit(data)
    with pytest.raises(MissingCovariateError, match=r"\['h'\] are not in the data"):
        BGNBD(dropout_covariates=["h"]).fit(data)
    with pytest.raises(ValueError, match=r"not numeric.*get_dummies"):
        BGNBD(purchase_covariates=["s"]).fit(data.assign(g=0.0, s=["u", "v", "u"]))
    with pytest.raises(ValueError, match="takes covariates for"):
        cl.models.BetaDiscreteWeibull(covariates={"churn": ["g"]})


def test_without_covariates_the_fit_is_todays(cdnow_calibration):
    plain = ParetoNBD().fit(cdnow_calibration)
    empty = ParetoNBD(purchase_covariates=[], dropout_covariates=None).fit(cdnow_calibration)
    assert plain.params == empty.params and plain.loglik == empty.loglik
    assert list(plain.params) == ["r", "alpha", "s", "beta"]


def test_bgnbd_dropout_covariate_predictions_are_the_base_model_at_scaled_a_and_b():
    model = BGNBD(dropout_covariates=["g"]).set_params(**BG, **{"dropout.g": 0.5})
    scaled = BGNBD().set_params(
        r=BG["r"], alpha=BG["alpha"], a=BG["a"] * np.exp(0.5), b=BG["b"] * np.exp(0.5)
    )
    z = {"g": [1.0, 1.0]}
    history = ([2, 0], [30.0, 0.0], [39.0, 39.0])
    assert np.allclose(
        model.conditional_expected_purchases(39, *history, covariates=z),
        scaled.conditional_expected_purchases(39, *history),
        rtol=1e-12,
    )
    assert np.allclose(model.p_alive(*history, covariates=z), scaled.p_alive(*history), rtol=1e-12)
    assert model.expected_purchases(52, covariates={"g": [1.0]})[0] == pytest.approx(
        scaled.expected_purchases(52), rel=1e-12
    )


@pytest.mark.parametrize(
    "model",
    [
        BGNBD(),
        BGNBD(purchase_covariates=["g"], dropout_covariates=["c", "g"]),
        MBGNBD(),
        MBGNBD(purchase_covariates=["c"], dropout_covariates=["g"]),
    ],
    ids=["bgnbd", "bgnbd-covariates", "mbgnbd", "mbgnbd-covariates"],
)
def test_the_analytic_bgnbd_gradient_matches_central_differences(model, cdnow_calibration):
    rng = np.random.default_rng(0)
    data = cdnow_calibration[["x", "t_x", "T"]].assign(
        g=rng.integers(0, 2, len(cdnow_calibration)).astype(float),
        c=rng.normal(size=len(cdnow_calibration)),
    )
    columns, weights = model._read_all(data, None, fitting=True)
    free = model._to_free(np.r_[[0.3, 4.0, 0.8, 2.4], np.full(len(model.coefficient_names), 0.2)])

    def value(u):
        return model._negloglik(model._from_free(u), columns, weights)

    steps = np.eye(len(free)) * 1e-6
    numeric = np.array([(value(free + h) - value(free - h)) / 2e-6 for h in steps])
    analytic = model._free_gradient(free, columns, weights)
    assert np.allclose(analytic, numeric, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize(
    "model", [GammaGamma(), GammaGamma(spend_covariates=["g"])], ids=["plain", "covariate"]
)
def test_the_analytic_gamma_gamma_gradient_matches_central_differences(model, cdnow_calibration):
    rng = np.random.default_rng(1)
    data = cdnow_calibration[["x", "monetary"]].assign(
        g=rng.integers(0, 2, len(cdnow_calibration)).astype(float)
    )
    columns, weights = model._read_all(data, None, fitting=True)
    free = model._to_free(np.r_[[6.0, 3.5, 15.0], np.full(len(model.coefficient_names), 0.2)])

    def value(u):
        return model._negloglik(model._from_free(u), columns, weights)

    steps = np.eye(len(free)) * 1e-6
    numeric = np.array([(value(free + h) - value(free - h)) / 2e-6 for h in steps])
    assert np.allclose(model._free_gradient(free, columns, weights), numeric, rtol=1e-5, atol=1e-4)
