"""BG/CNBD-k and MBG/CNBD-k with time-invariant covariates (the BG/NBD's form).

Purchase covariates scale alpha (``alpha_i = alpha e^(-gamma z_i)``), dropout covariates
a and b together (``a_i = a e^(gamma z_i)``, ``b_i = b e^(gamma z_i)``), as in
:class:`crmlab.models.BGNBD`; checked against the base model at each group's scaled
parameters, by simulation, and by the gradient.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from crmlab.models import BGCNBD, MBGCNBD
from crmlab.models._covariates import MissingCovariateError

TRUTH = {"r": 0.85, "alpha": 1.45, "a": 0.79, "b": 2.42}
COEF = {"purchase.g": 0.5, "dropout.g": -0.6}
CLASSES = [BGCNBD, MBGCNBD]


def _scaled(model_class, k, level, coefficients=COEF):
    """The model without covariates at the parameters of customers with g = level."""
    growth = np.exp(coefficients.get("dropout.g", 0.0) * level)
    return model_class(k=k).set_params(
        r=TRUTH["r"],
        alpha=TRUTH["alpha"] * np.exp(-coefficients.get("purchase.g", 0.0) * level),
        a=TRUTH["a"] * growth,
        b=TRUTH["b"] * growth,
    )


def _base(model_class, k, n, seed, coefficients=COEF):
    rng = np.random.default_rng(seed)
    g = rng.integers(0, 2, n).astype(float)
    T = np.round(rng.uniform(39, 52, n) * 7) / 7
    if not coefficients:
        truth = model_class(k=k).set_params(**TRUTH)
        return pd.DataFrame(truth.simulate(n, T, seed=seed + 1)).assign(g=g)
    truth = model_class(k=k, purchase_covariates=["g"], dropout_covariates=["g"]).set_params(
        **TRUTH, **coefficients
    )
    return pd.DataFrame(truth.simulate(n, T, seed=seed + 1, covariates={"g": g})).assign(g=g)


@pytest.mark.parametrize("model_class", CLASSES)
@pytest.mark.parametrize("k", [1, 3])
def test_likelihood_is_the_base_likelihood_at_each_groups_scaled_parameters(model_class, k):
    data = _base(model_class, k, 800, seed=3)
    model = model_class(k=k, purchase_covariates=["g"], dropout_covariates=["g"])
    total = model.set_params(**TRUTH, **COEF).log_likelihood(data)
    expected = sum(
        _scaled(model_class, k, level).log_likelihood(group[["x", "t_x", "T", "litt"]])
        for level, group in data.groupby("g")
    )
    assert total == pytest.approx(expected, rel=1e-12)
    zero = model.set_params(**TRUTH, **dict.fromkeys(COEF, 0.0)).log_likelihood(data)
    plain = model_class(k=k).set_params(**TRUTH).log_likelihood(data[["x", "t_x", "T", "litt"]])
    assert zero == pytest.approx(plain, rel=1e-13)


@pytest.mark.parametrize("model_class", CLASSES)
def test_predictions_are_the_base_model_at_each_customers_scaled_parameters(model_class):
    k = 2
    model = model_class(k=k, purchase_covariates=["g"], dropout_covariates=["g"]).set_params(
        **TRUTH, **COEF
    )
    z = {"g": [0.0, 1.0]}
    x, t_x, T = [3, 3], [20.0, 20.0], [40.0, 40.0]
    low, high = _scaled(model_class, k, 0.0), _scaled(model_class, k, 1.0)
    checks = [
        (model.p_alive(x, t_x, T, covariates=z), lambda m: m.p_alive(3, 20.0, 40.0)),
        (
            model.conditional_expected_purchases(26, x, t_x, T, covariates=z),
            lambda m: m.conditional_expected_purchases(26, 3, 20.0, 40.0),
        ),
        (model.p_alive_at(26, x, t_x, T, covariates=z), lambda m: m.p_alive_at(26, 3, 20.0, 40.0)),
        (
            model.conditional_probability_of_purchases(2, 26, x, t_x, T, covariates=z),
            lambda m: m.conditional_probability_of_purchases(2, 26, 3, 20.0, 40.0),
        ),
        (model.expected_purchases(52, covariates=z), lambda m: m.expected_purchases(52)),
        (
            model.probability_of_purchases(1, 52, covariates=z),
            lambda m: m.probability_of_purchases(1, 52),
        ),
    ]
    for values, plain in checks:
        np.testing.assert_allclose(values, [plain(low), plain(high)], rtol=1e-12)
    assert not np.isclose(*model.p_alive(x, t_x, T, covariates=z))
    # a grid of horizons by customers broadcasts like numpy
    grid = model.conditional_expected_purchases(np.array([[10.0], [26.0]]), x, t_x, T, covariates=z)
    assert grid.shape == (2, 2) and grid[1, 1] == pytest.approx(
        high.conditional_expected_purchases(26, 3, 20.0, 40.0), rel=1e-12
    )
    with pytest.raises(ValueError, match="pass the customers' values with covariates="):
        model.p_alive(3, 20.0, 40.0)
    with pytest.raises(ValueError, match="built without covariates"):
        low.p_alive(3, 20.0, 40.0, covariates={"g": [1.0]})


@pytest.mark.parametrize("model_class", CLASSES)
@pytest.mark.parametrize("k", [1, 3])
def test_the_analytic_gradient_matches_central_differences(model_class, k):
    data = _base(model_class, k, 600, seed=5)
    data["c"] = np.random.default_rng(6).normal(size=len(data))
    model = model_class(k=k, purchase_covariates=["g", "c"], dropout_covariates=["g"])
    columns, weights = model._read_all(data, None, fitting=True)
    free = model._to_free(np.r_[[0.7, 2.0, 0.9, 2.0], 0.3, -0.2, 0.4])

    def value(u):
        return model._negloglik(model._from_free(u), columns, weights)

    steps = np.eye(len(free)) * 1e-6
    numeric = np.array([(value(free + h) - value(free - h)) / 2e-6 for h in steps])
    analytic = model._free_gradient(free, columns, weights)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-4)


@pytest.mark.numeric
@pytest.mark.parametrize("model_class", CLASSES)
def test_simulation_recovers_each_coefficient_within_two_standard_errors(model_class):
    data = _base(model_class, 3, 20_000, seed=11)
    fitted = model_class(purchase_covariates=["g"], dropout_covariates=["g"]).fit(data)
    assert fitted.k == 3
    assert fitted.n_rows < len(data)  # rows alike in (x, t_x, T, g) merged
    errors = fitted.standard_errors
    for name, truth in COEF.items():
        assert abs(fitted.params[name] - truth) < 2 * errors[name], (name, fitted.params, errors)
    # six estimates at 2 SE would fail one run in four by chance alone; the base ones at 3
    for name, truth in TRUTH.items():
        assert abs(fitted.params[name] - truth) < 3 * errors[name], (name, fitted.params, errors)
    assert errors["purchase.g"] < 0.1 and errors["dropout.g"] < 0.3
    assert list(fitted.k_profile.columns[-2:]) == ["purchase.g", "dropout.g"]


def test_without_covariates_the_fit_is_todays():
    data = _base(BGCNBD, 2, 3000, seed=7, coefficients={})
    plain = BGCNBD().fit(data.drop(columns="g"))
    empty = BGCNBD(purchase_covariates=[], dropout_covariates=None).fit(data.drop(columns="g"))
    assert plain.params == empty.params and plain.loglik == empty.loglik and plain.k == empty.k
    assert list(plain.params) == ["r", "alpha", "a", "b"]


def test_compressed_and_uncompressed_covariate_fits_agree():
    data = _base(MBGCNBD, 2, 3000, seed=9)
    data["t_x"] = np.where(data["x"] > 0, np.maximum(np.round(data["t_x"]), 1.0), 0.0)
    data["t_x"] = np.minimum(data["t_x"], data["T"])
    # equal gaps (the largest litt the rounded times allow); at a fixed k litt only
    # shifts the log-likelihood
    with np.errstate(divide="ignore"):
        data["litt"] = np.where(
            data["x"] > 0, data["x"] * np.log(data["t_x"] / data["x"].clip(1)), 0.0
        )
    model = MBGCNBD(k=2, purchase_covariates=["g"])
    merged = model.fit(data)
    assert merged.n_rows < len(data)
    whole = MBGCNBD(k=2, purchase_covariates=["g"]).fit(data, compress=False)
    assert whole.n_rows == len(data)
    assert merged.loglik == pytest.approx(whole.loglik, rel=1e-10)
    for name, value in merged.params.items():
        assert value == pytest.approx(whole.params[name], rel=1e-5, abs=1e-6)


def test_a_constant_covariate_and_missing_values_are_refused_by_name():
    data = pd.DataFrame(
        {
            "x": [1.0, 0.0, 2.0],
            "t_x": [3.0, 0.0, 4.0],
            "T": [5.0, 5.0, 5.0],
            "litt": [np.log(3.0), 0.0, np.log(2.0) * 2],
            "g": [1.0, 1.0, 1.0],
            "h": [1.0, np.nan, 0.0],
        },
        index=["a", "b", "c"],
    )
    with pytest.raises(ValueError, match=r"covariate 'g': 3 row\(s\) all hold the same value 1"):
        BGCNBD(k=2, purchase_covariates=["g"]).fit(data)
    with pytest.raises(MissingCovariateError, match=r"covariate 'h': 1 missing.*row 'b'"):
        MBGCNBD(dropout_covariates=["h"]).fit(data)
    with pytest.raises(MissingCovariateError, match=r"\['w'\] are not in the data"):
        BGCNBD(k=1, dropout_covariates=["w"]).fit(data)


def test_interval_with_covariates_brackets_the_estimate():
    data = _base(BGCNBD, 2, 4000, seed=13)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = BGCNBD(k=2, purchase_covariates=["g"], dropout_covariates=["g"]).fit(data)
    z = {"g": [0.0, 1.0, 1.0]}
    table = fitted.p_alive(
        [3, 3, 3], [20, 20, 20], [40, 40, 40], covariates=z, interval=0.9, draws=40
    )
    assert ((table["lower"] <= table["estimate"]) & (table["estimate"] <= table["upper"])).all()
    assert table["lower"].iloc[1] == table["lower"].iloc[2]  # alike customers, one row
    forecast = fitted.conditional_expected_purchases(
        26, [3, 3, 3], [20, 20, 20], [40, 40, 40], covariates=z, interval=0.9, draws=40
    )
    assert (forecast["upper"] > forecast["lower"]).all()
