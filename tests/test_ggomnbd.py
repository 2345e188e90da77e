"""GGom/NBD (Bemmaor & Glady 2012): quadrature, CDNOW figures, boundary, simulation, nesting."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, optimize
from scipy.stats import chi2

import crmlab as cl
from crmlab.models import ConvergenceWarning, GGomNBD, ParetoNBD
from crmlab.models import ggomnbd as module
from crmlab.models._base import compress_rows

TRUTH = {"r": 0.85, "alpha": 4.45, "b": 0.12, "s": 0.75, "beta": 9.55}  # BTYDplus's demo values


@pytest.fixture(scope="module")
def cdnow():
    return cl.transactions.summarize(cl.datasets.load_cdnow("sample"), "1997-09-30", unit="W")


@pytest.fixture(scope="module")
def cdnow_fit(cdnow):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = GGomNBD().fit(cdnow)
    return model, caught


@pytest.fixture(scope="module")
def simulated():
    """20,000 customers with clear ageing (b T = 3.8), times recorded to the day."""
    base = pd.DataFrame(GGomNBD().set_params(**TRUTH).simulate(20_000, 32.0, seed=11))
    base["t_x"] = np.where(base["x"] > 0, np.maximum(np.round(base["t_x"] * 7), 1) / 7, 0.0)
    return base


@pytest.fixture(scope="module")
def simulated_fit(simulated):
    return GGomNBD().fit(simulated)


# ----- the integral -----------------------------------------------------------------
def _log_died_by_quad(params, x, t_x, T):
    r, alpha, b, s, beta = params
    out = []
    for xi, lo, hi in zip(x, t_x, T, strict=True):
        k = r + xi
        shift = -k * np.log(alpha + lo)

        def integrand(u, k=k, shift=shift):
            # the Gamma-mixed Gompertz density (expm1: e^(bu) - 1 cancels at b = 1e-9)
            density = b * s * beta**s * np.exp(b * u) * (beta + np.expm1(b * u)) ** -(s + 1)
            return np.exp(-k * np.log(alpha + u) - shift) * density

        value, _ = integrate.quad(integrand, lo, hi, epsabs=0, epsrel=1e-13, limit=500)
        out.append(np.log(value) + shift)
    return np.array(out)


@pytest.mark.parametrize(
    "params",
    [
        (0.553, 10.578, 0.0002, 0.603, 0.0026),  # Bemmaor & Glady's CDNOW estimates
        (0.55, 10.58, 1e-9, 0.61, 1.167e-8),  # at the Pareto/NBD limit
        tuple(TRUTH.values()),
        (0.5, 2.0, 1.0, 0.3, 0.01),  # fast ageing: many panels
        (2.0, 1.0, 0.3, 2.0, 50.0),  # beta > 1: no real pole of the density
        (1.0, 0.5, 0.01, 3.0, 0.05),
    ],
)
def test_gauss_legendre_panels_agree_with_quad_to_1e_10(cdnow, params):
    rows = cdnow[cdnow["t_x"] < cdnow["T"]].drop_duplicates(["x", "t_x", "T"])
    x = np.r_[rows["x"], [0, 50, 200, 1000]]
    t_x = np.r_[rows["t_x"], [0, 20, 30, 38.9]]
    T = np.r_[rows["T"], [0.1, 39, 39, 39]]
    ours, _ = module._log_died(*params, x, t_x, T)
    np.testing.assert_allclose(ours, _log_died_by_quad(params, x, t_x, T), rtol=0, atol=1e-10)


@pytest.mark.parametrize("params", [(0.12, 0.75, 9.55), (1e-9, 0.61, 1.167e-8), (1.0, 0.3, 0.01)])
def test_survival_integral_agrees_with_quad(params):
    b, s, beta = params
    t = np.array([0.0, 0.5, 10.0, 39.0, 78.0, 500.0])
    ours = module._survival_integral(t, b, s, beta)
    exact = [
        integrate.quad(
            lambda u: np.exp(module._log_survival(u, b, s, beta)), 0, v, epsrel=1e-13, limit=500
        )[0]
        for v in t
    ]
    np.testing.assert_allclose(ours, exact, rtol=1e-10, atol=1e-14)


def test_at_b_to_zero_every_row_is_the_pareto_nbd(cdnow):
    pareto = ParetoNBD().set_params(r=0.55, alpha=10.58, s=0.61, beta=11.67)
    limit = GGomNBD().set_params(r=0.55, alpha=10.58, b=1e-10, s=0.61, beta=1.167e-9)
    columns, _ = limit._read_all(cdnow, None, fitting=False)
    np.testing.assert_allclose(
        limit._rows(limit.result.estimate, columns),
        pareto._rows(pareto.result.estimate, columns),
        rtol=0,
        atol=1e-7,
    )
    np.testing.assert_allclose(
        limit.conditional_expected_purchases(39, cdnow["x"], cdnow["t_x"], cdnow["T"]),
        pareto.conditional_expected_purchases(39, cdnow["x"], cdnow["t_x"], cdnow["T"]),
        rtol=1e-6,
    )
    assert limit.expected_purchases(78) == pytest.approx(pareto.expected_purchases(78), rel=1e-6)


def test_analytic_gradient_matches_central_differences(cdnow):
    model = GGomNBD()
    columns, weights = compress_rows(*model._read_all(cdnow, None, fitting=True))
    free = model._to_free(np.array([0.7, 8.0, 0.05, 0.9, 2.0]))

    def objective(point):
        return -float(np.dot(weights, model._rows(model._from_free(point), columns)))

    numeric = optimize.approx_fprime(free, objective, 1e-6)
    analytic = model._free_gradient(free, columns, weights)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-3)


# ----- CDNOW: the boundary (Table 2's figures are in test_models_published.py) -------
def test_cdnow_fit_flags_b_at_its_boundary(cdnow, cdnow_fit):
    model, caught = cdnow_fit
    pareto = ParetoNBD().fit(cdnow)
    assert model.loglik >= pareto.loglik - 1e-3
    assert model.converged
    # b -> 0 with beta / b -> the Pareto/NBD's beta
    assert "b" in model.at_boundary
    assert model.params["beta"] / model.params["b"] == pytest.approx(
        pareto.params["beta"], rel=1e-2
    )
    assert model.params["s"] == pytest.approx(pareto.params["s"], rel=1e-3)
    messages = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert len(messages) == 1 and "b ran to its boundary" in messages[0]
    assert "b at its boundary" in model.message
    table = model.summary()
    assert table.loc["b", "at_boundary"] and "b" in table.attrs["at_boundary"]
    assert "b at its boundary" in table.round(3).header()
    assert "b at its boundary" in repr(table)


def test_compare_tests_b_zero_against_the_pareto_nbd(cdnow, cdnow_fit):
    model, _ = cdnow_fit
    table = cl.models.compare([ParetoNBD().fit(cdnow), model])
    row = table.loc["GGomNBD"]
    assert row["lr_against"] == "ParetoNBD" and row["lr_df"] == 1
    assert abs(row["lr_statistic"]) < 2e-3
    assert row["lr_p_value"] > 0.4
    assert "0.5 chi2(0) + 0.5 chi2(1)" in row["lr_reference"]
    assert pd.isna(table.loc["ParetoNBD", "lr_against"])


def test_compare_rejects_the_pareto_nbd_on_a_base_that_ages():
    # Mild ageing (the Pareto/NBD fit stays finite, so the test stays quick).
    truth = {"r": 0.85, "alpha": 4.45, "b": 0.08, "s": 0.4, "beta": 0.3}
    base = pd.DataFrame(GGomNBD().set_params(**truth).simulate(10_000, 32.0, seed=12))
    base["t_x"] = np.where(base["x"] > 0, np.maximum(np.round(base["t_x"] * 7), 1) / 7, 0.0)
    table = cl.models.compare([GGomNBD().fit(base), ParetoNBD().fit(base)])
    row = table.loc["GGomNBD"]
    assert row["lr_against"] == "ParetoNBD" and row["lr_statistic"] > 0
    # b > 0 is tested one-sided: half chi2(1)'s tail, as b's boundary calls for.
    assert row["lr_p_value"] == pytest.approx(0.5 * chi2.sf(row["lr_statistic"], 1), rel=1e-12)
    assert row["lr_p_value"] < 0.05
    assert row["lr_reference"].startswith("0.5 chi2(0) + 0.5 chi2(1)")


# ----- simulation ---------------------------------------------------------------------
def test_simulation_recovers_every_parameter_within_two_standard_errors(simulated_fit):
    assert simulated_fit.converged and not simulated_fit.at_boundary
    errors = simulated_fit.standard_errors
    for name, true in TRUTH.items():
        assert abs(simulated_fit.params[name] - true) < 2 * errors[name], name


def test_simulator_is_seeded_and_respects_the_window():
    model = GGomNBD().set_params(**TRUTH)
    one, again, other = (model.simulate(1000, 30.0, seed=seed, holdout=10.0) for seed in (4, 4, 5))
    assert all(np.array_equal(one[key], again[key]) for key in one)
    assert not np.array_equal(one["x"], other["x"])
    assert (one["t_x"] <= one["T"]).all() and ((one["x"] == 0) == (one["t_x"] == 0)).all()
    with pytest.raises(ValueError, match="n_customers"):
        model.simulate(0, 30.0)


def test_expected_purchases_match_a_simulated_base():
    model = GGomNBD().set_params(**TRUTH)
    base = model.simulate(200_000, 32.0, seed=2)
    se = base["x"].std() / np.sqrt(base["x"].size)
    assert abs(base["x"].mean() - model.expected_purchases(32.0)) < 3 * se


def test_conditional_expectation_forecasts_the_simulated_holdout():
    """P(alive) and the aged remaining lifetime together: forecasts match, group by group."""
    model = GGomNBD().set_params(**TRUTH)
    base = model.simulate(150_000, 38.0, seed=5, holdout=39.0)
    forecast = model.conditional_expected_purchases(39.0, base["x"], base["t_x"], base["T"])
    actual = base["x_holdout"]
    groups = {
        "all": np.ones(actual.size, bool),
        "x = 0": base["x"] == 0,
        "x = 1": base["x"] == 1,
        "x 2-5": (base["x"] >= 2) & (base["x"] <= 5),
        "x > 5, recent": (base["x"] > 5) & (base["t_x"] > 30),
    }
    for name, rows in groups.items():
        se = actual[rows].std() / np.sqrt(rows.sum())
        assert abs(forecast[rows].mean() - actual[rows].mean()) < 3 * se, name


def test_p_alive_later_is_the_survival_from_t_on_of_those_alive_at_t():
    """P(alive at T + t | history) = P(alive at T | history) S(T + t) / S(T), from the
    likelihood directly; the aged remaining lifetime (beta') must give the same."""
    model = GGomNBD().set_params(**TRUTH)
    _, _, b, s, beta = TRUTH.values()
    x, t_x, T = np.array([0.0, 2.0, 7.0]), np.array([0.0, 30.43, 12.0]), np.array([38.86] * 3)
    for t in (0.0, 5.0, 39.0):
        ratio = np.exp(
            module._log_survival(T + t, b, s, beta) - module._log_survival(T, b, s, beta)
        )
        np.testing.assert_allclose(
            model.p_alive_at(t, x, t_x, T), model.p_alive(x, t_x, T) * ratio, rtol=1e-12
        )


def test_p_alive_matches_the_likelihood_ratio_by_quad():
    model = GGomNBD().set_params(**TRUTH)
    r, alpha, b, s, beta = TRUTH.values()
    x, t_x, T = 2.0, 30.43, 38.86
    alive = (alpha + T) ** -(r + x) * np.exp(module._log_survival(T, b, s, beta))
    died = np.exp(_log_died_by_quad(tuple(TRUTH.values()), [x], [t_x], [T])[0])
    assert model.p_alive(x, t_x, T) == pytest.approx(alive / (alive + died), rel=1e-10)


# ----- the interval path, input checks ------------------------------------------------
def test_interval_brackets_the_estimate(simulated_fit):
    table = simulated_fit.p_alive([0, 3], [0, 20], [32, 32], interval=0.9, draws=50)
    assert list(table.columns) == ["estimate", "lower", "upper"]
    assert (table["lower"] <= table["estimate"]).all() and (
        table["estimate"] <= table["upper"]
    ).all()
    assert (table["upper"] - table["lower"] > 0).all()
    forecast = simulated_fit.conditional_expected_purchases(
        10, [0, 3], [0, 20], [32, 32], interval=0.9, draws=50
    )
    assert (forecast["lower"] <= forecast["estimate"]).all()


def test_bad_input_and_extreme_histories():
    model = GGomNBD().set_params(**TRUTH)
    with pytest.raises(ValueError, match="x = 0 but t_x > 0"):
        model.p_alive(0, 5, 10)
    with pytest.raises(ValueError, match="t_x > T"):
        GGomNBD().fit(pd.DataFrame({"x": [1.0, 2.0], "t_x": [5.0, 9.0], "T": [4.0, 10.0]}))
    with np.errstate(all="raise"):
        assert 0 <= model.p_alive(1000, 10, 100) < 1e-100
        assert model.p_alive(0, 0, 0) == 1.0
        assert model.conditional_expected_purchases(10, 1000, 10, 100) >= 0
        assert model.expected_purchases(0) == 0.0


def test_an_interval_of_one_ulp_is_empty_not_nan():
    # 39 - 67/7 and 206/7 differ in the last bit: t_x < T, yet log(c + T) == log(c + t_x).
    t_x, T = 206 / 7, 39 - 67 / 7
    assert t_x < T
    model = GGomNBD()
    rows = model._gradient_rows(
        [1.0, 8.0, 0.03, 1.0, 1.0], np.array([1.0]), np.array([t_x]), np.array([T])
    )
    assert all(np.isfinite(row).all() for row in rows)


def test_covariates_scale_alpha_and_beta_in_the_clvtools_form():
    model = GGomNBD(purchase_covariates=["g"], dropout_covariates=["g"]).set_params(
        **TRUTH, **{"purchase.g": np.log(2), "dropout.g": 0.0}
    )
    groups = {"g": [0.0, 1.0]}
    plain, vip = model.expected_purchases(32, covariates=groups)
    assert vip == pytest.approx(2 * plain, rel=1e-12)  # alpha halved: twice the purchases
    dying = GGomNBD(dropout_covariates=["g"]).set_params(**TRUTH, **{"dropout.g": np.log(2)})
    early, late = dying.p_alive([3, 3], [20, 20], [32, 32], covariates=groups)
    plain_model = GGomNBD().set_params(**TRUTH)
    assert early == pytest.approx(plain_model.p_alive(3, 20, 32), rel=1e-12)
    half_beta = GGomNBD().set_params(**{**TRUTH, "beta": TRUTH["beta"] / 2})
    assert late == pytest.approx(half_beta.p_alive(3, 20, 32), rel=1e-12) and late < early


def test_simulation_recovers_a_purchase_covariate():
    rng = np.random.default_rng(21)
    g = rng.integers(0, 2, 10_000).astype(float)
    truth = GGomNBD(purchase_covariates=["g"]).set_params(**TRUTH, **{"purchase.g": 0.5})
    base = pd.DataFrame(truth.simulate(g.size, 32.0, seed=22, covariates={"g": g})).assign(g=g)
    base["t_x"] = np.where(base["x"] > 0, np.maximum(np.round(base["t_x"] * 7), 1) / 7, 0.0)
    fitted = GGomNBD(purchase_covariates=["g"]).fit(base)
    error = fitted.standard_errors["purchase.g"]
    assert abs(fitted.params["purchase.g"] - 0.5) < 2 * error < 0.2


def test_standard_errors_from_the_gradient_match_the_likelihood_hessian(simulated_fit):
    from crmlab.models._base import numerical_hessian

    columns, weights = simulated_fit.result.data
    hessian = numerical_hessian(
        lambda p: simulated_fit._negloglik(p, columns, weights), simulated_fit.result.estimate
    )
    expected = np.sqrt(np.diag(np.linalg.inv(hessian)))
    np.testing.assert_allclose(list(simulated_fit.standard_errors.values()), expected, rtol=1e-3)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"x": [1, -1], "t_x": [2, 0], "T": [5, 5]}), r"negative value\(s\): row 1"),
        (pd.DataFrame({"x": [1, np.nan], "t_x": [2, 0], "T": [5, 5]}), r"column 'x': 1 missing"),
        (pd.DataFrame({"x": [1, 1], "t_x": [2, 0], "T": [5, 5]}), r"x > 0 but t_x = 0.*row 1"),
        (pd.DataFrame({"x": [1.5, 1], "t_x": [2, 2], "T": [5, 5]}), r"whole numbers.*row 0"),
        (pd.DataFrame({"x": [1], "T": [5]}), r"lack column\(s\) \['t_x'\]"),
    ],
)
def test_impossible_rows_are_refused_by_name(frame, message):
    with pytest.raises(ValueError, match=message):
        GGomNBD().fit(frame)


def test_predictions_stay_finite_for_huge_x_and_tiny_T_and_broadcast():
    model = GGomNBD().set_params(**TRUTH)
    values = [
        model.p_alive(1000, 38.0, 39.0),
        model.conditional_expected_purchases(39, 1000, 38.0, 39.0),
        model.p_alive(1, 1e-6, 1e-6),
        model.conditional_expected_purchases(10, 0, 0, 1e-9),
    ]
    assert all(np.isfinite(v) for v in values) and 0 <= values[0] <= 1
    rows = model._loglik_rows(
        list(TRUTH.values()),
        x=np.array([1000.0, 0.0]),
        t_x=np.array([38.0, 0.0]),
        T=np.array([39.0, 1e-9]),
    )
    assert np.all(np.isfinite(rows))
    assert isinstance(model.p_alive(2, 30.0, 39.0), float)
    grid = model.conditional_expected_purchases(np.array([[10.0], [20.0]]), [0, 2], [0, 30], 39.0)
    assert grid.shape == (2, 2) and (grid[1] > grid[0]).all()
    assert grid[1, 1] == pytest.approx(model.conditional_expected_purchases(20.0, 2, 30, 39.0))


def test_weights_equal_repeated_rows():
    frame = pd.DataFrame({"x": [0.0, 2.0, 5.0], "t_x": [0.0, 10.0, 30.0], "T": [32.0, 32.0, 32.0]})
    model = GGomNBD().set_params(**TRUTH)
    repeated = frame.loc[frame.index.repeat([3, 1, 2])]
    assert model.log_likelihood(frame, weights=[3, 1, 2]) == pytest.approx(
        model.log_likelihood(repeated), rel=1e-12
    )


# ----- P(X(T, T + t] = n | history) and DERT ------------------------------------------
def _simulate_with_future(n, T, horizon, delta, seed):
    """A base drawn by hand (not with GGomNBD.simulate): the history, the holdout count
    and the discounted sum of the purchases after T, up to ``horizon``."""
    r, alpha, b, s, beta = TRUTH.values()
    rng = np.random.default_rng(seed)
    rate = rng.gamma(r, 1 / alpha, n)
    lifetime = np.log1p(rng.exponential(1.0, n) / rng.gamma(s, 1 / beta, n)) / b
    window = np.minimum(lifetime, T)
    x = rng.poisson(rate * window)
    t_x = np.where(x > 0, window * rng.beta(np.maximum(x, 1), 1.0), 0.0)
    after = np.clip(lifetime - T, 0.0, horizon)
    later = rng.poisson(rate * after)
    owner = np.repeat(np.arange(n), later)
    times = rng.random(owner.size) * after[owner]
    discounted = np.bincount(owner, weights=np.exp(-delta * times), minlength=n)
    return x.astype(float), t_x, later, discounted


@pytest.fixture(scope="module")
def future_base():
    return _simulate_with_future(120_000, 38.0, 400.0, 0.05, seed=31)


def test_conditional_pmf_matches_simulated_holdout_counts():
    """The share of customers with n purchases in a 39-week holdout against the mean
    predicted probability, overall and by history."""
    model = GGomNBD().set_params(**TRUTH)
    base = model.simulate(120_000, 38.0, seed=33, holdout=39.0)
    x, t_x, later = base["x"], base["t_x"], base["x_holdout"]
    counts = np.arange(4)[:, None]
    p = model.conditional_probability_of_purchases(counts, 39.0, x, t_x, 38.0)
    groups = {"all": np.ones(x.size, bool), "x = 0": x == 0, "x >= 2": x >= 2}
    for name, rows in groups.items():
        # categories 0, 1, 2, 3 and "4 or more"; a sum of Bernoullis with unequal
        # chances varies less than a multinomial, so the chi-squared test is conservative.
        predicted = p[:, rows].sum(axis=1)
        expected = np.append(predicted, rows.sum() - predicted.sum())
        observed = np.append((later[rows] == counts).sum(axis=1), (later[rows] >= 4).sum())
        statistic = ((observed - expected) ** 2 / expected).sum()
        assert chi2.sf(statistic, df=4) > 1e-3, (name, expected.round(1), observed)


def test_dert_matches_simulated_discounted_purchases(future_base):
    x, t_x, _, discounted = future_base
    model = GGomNBD().set_params(**TRUTH)
    forecast = model.dert(0.05, x, t_x, 38.0)
    groups = {
        "all": np.ones(x.size, bool),
        "x = 0": x == 0,
        "x 1-3": (x >= 1) & (x <= 3),
        "x > 3, recent": (x > 3) & (t_x > 30),
    }
    for name, rows in groups.items():
        se = discounted[rows].std() / np.sqrt(rows.sum())
        assert abs(forecast[rows].mean() - discounted[rows].mean()) < 3 * se, name


@pytest.mark.parametrize("beta", [1.0806, 9.55, 0.01, 50.0])
@pytest.mark.parametrize("delta", [0.05, np.log(1.15) / 52])
def test_discounted_survival_equals_its_hypergeometric_form(beta, delta):
    """∫ S e^(-δu) du = β^s / (δ + b s) 2F1(s, s + δ/b; s + δ/b + 1; 1 - β), away from b → 0."""
    from scipy import special

    b, s = 0.12, 0.75
    c = s + delta / b
    closed = beta**s / (delta + b * s) * special.hyp2f1(s, c, c + 1, 1 - beta)
    assert module._discounted_survival(delta, b, s, beta) == pytest.approx(closed, rel=1e-10)


def test_conditional_pmf_sums_to_one_with_the_conditional_expectation_as_mean():
    model = GGomNBD().set_params(**TRUTH)
    n = np.arange(400)[:, None]
    x, t_x, T = np.array([0.0, 2.0, 12.0]), np.array([0.0, 30.43, 37.0]), 38.86
    p = model.conditional_probability_of_purchases(n, 39, x, t_x, T)
    np.testing.assert_allclose(p.sum(axis=0), 1.0, atol=1e-9)
    np.testing.assert_allclose(
        (n * p).sum(axis=0), model.conditional_expected_purchases(39, x, t_x, T), rtol=1e-8
    )
    fresh = model.probability_of_purchases(n[:, 0], 32.0)
    assert (n[:, 0] * fresh).sum() == pytest.approx(model.expected_purchases(32.0), rel=1e-8)
    # n = 0 is the probability of no purchase: the dead, and the alive who do not buy.
    alive = model.p_alive(x, t_x, T)
    assert np.all(p[0] > 1 - alive)


def test_conditional_pmf_agrees_with_quad_over_the_time_of_death():
    from scipy import stats

    r, alpha, b, s, beta = TRUTH.values()
    model = GGomNBD().set_params(**TRUTH)
    x, t_x, T, t = 3.0, 20.0, 38.86, 39.0
    shape, rate = r + x, alpha + T
    aged = module._beta_given_alive(b, beta, T)

    def nb(k, u):
        return stats.nbinom.pmf(k, shape, rate / (rate + u))

    def density(u):
        q = aged + np.expm1(b * u)
        return b * s * aged**s * np.exp(b * u) * q ** -(s + 1)

    alive = model.p_alive(x, t_x, T)
    for k in (0, 1, 4, 12):
        died, _ = integrate.quad(lambda u, k=k: nb(k, u) * density(u), 0, t, epsrel=1e-12)
        future = np.exp(module._log_survival(t, b, s, aged)) * nb(k, t) + died
        expected = alive * future + (1 - alive) * (k == 0)
        assert model.conditional_probability_of_purchases(k, t, x, t_x, T) == pytest.approx(
            expected, rel=1e-8
        )


def test_pmf_and_dert_approach_the_pareto_nbd_as_b_goes_to_zero():
    pareto = ParetoNBD().set_params(r=0.55, alpha=10.58, s=0.61, beta=11.67)
    x, t_x, T = np.array([0.0, 2.0, 7.0]), np.array([0.0, 30.43, 36.0]), 38.86
    n = np.arange(30)[:, None]
    delta = np.log(1.15) / 52
    target_p = pareto.conditional_probability_of_purchases(n, 39, x, t_x, T)
    target_d = pareto.dert(delta, x, t_x, T)
    target_fresh = pareto.probability_of_purchases(n[:, 0], 39)
    gaps = []
    for b in (1e-4, 1e-6, 1e-8):
        near = GGomNBD().set_params(r=0.55, alpha=10.58, b=b, s=0.61, beta=11.67 * b)
        gap_p = np.max(
            np.abs(near.conditional_probability_of_purchases(n, 39, x, t_x, T) - target_p)
        )
        gap_d = np.max(np.abs(near.dert(delta, x, t_x, T) / target_d - 1))
        gap_f = np.max(np.abs(near.probability_of_purchases(n[:, 0], 39) - target_fresh))
        gaps.append((gap_p, gap_d, gap_f))
    for coarse, fine in itertools.pairwise(gaps):
        assert all(f < c / 10 for c, f in zip(coarse, fine, strict=True)), gaps
    assert gaps[-1][0] < 1e-7 and gaps[-1][1] < 1e-6 and gaps[-1][2] < 1e-7


def test_dert_and_pmf_intervals_and_covariates(simulated_fit):
    table = simulated_fit.dert(0.01, [0, 3], [0, 20], [32, 32], interval=0.9, draws=50)
    assert list(table.columns) == ["estimate", "lower", "upper"]
    assert ((table["lower"] <= table["estimate"]) & (table["estimate"] <= table["upper"])).all()
    assert (table["upper"] > table["lower"]).all()
    none = simulated_fit.conditional_probability_of_purchases(
        0, 10, [0, 3], [0, 20], [32, 32], interval=0.9, draws=50
    )
    assert ((none["lower"] <= none["estimate"]) & (none["estimate"] <= none["upper"])).all()
    model = GGomNBD(purchase_covariates=["g"]).set_params(**TRUTH, **{"purchase.g": np.log(2)})
    groups = {"g": [0.0, 1.0]}
    plain = GGomNBD().set_params(**TRUTH)
    doubled = GGomNBD().set_params(**{**TRUTH, "alpha": TRUTH["alpha"] / 2})
    low, high = model.dert(0.01, [2, 2], [20, 20], [32, 32], covariates=groups)
    assert low == pytest.approx(plain.dert(0.01, 2, 20, 32), rel=1e-12)
    assert high == pytest.approx(doubled.dert(0.01, 2, 20, 32), rel=1e-12)
    p = model.conditional_probability_of_purchases(
        1, 10, [2, 2], [20, 20], [32, 32], covariates=groups
    )
    assert p[1] == pytest.approx(doubled.conditional_probability_of_purchases(1, 10, 2, 20, 32))


def test_dert_and_pmf_refuse_bad_input_and_stay_finite():
    model = GGomNBD().set_params(**TRUTH)
    with pytest.raises(ValueError, match="discount"):
        model.dert(0.0, 2, 20, 32)
    with pytest.raises(ValueError, match="n must be whole"):
        model.conditional_probability_of_purchases(1.5, 10, 2, 20, 32)
    with pytest.raises(ValueError, match="x = 0 but t_x > 0"):
        model.dert(0.01, 0, 5, 32)
    with np.errstate(all="raise"):
        assert model.dert(0.01, 1000, 38.0, 39.0) >= 0
        assert 0 <= model.conditional_probability_of_purchases(0, 39, 1000, 10, 100) <= 1
        assert model.conditional_probability_of_purchases(3, 0, 2, 20, 32) == 0.0
        assert model.dert(1e-4, 0, 0, 1e-9) > 0
    small_s = GGomNBD().set_params(r=0.85, alpha=4.45, b=0.12, s=0.01, beta=9.55)
    p = small_s.probability_of_purchases(np.arange(3000), 52.0)
    assert np.isfinite(p).all() and p.sum() == pytest.approx(1.0, abs=1e-8)


def test_a_base_too_large_to_fit_at_once_starts_from_a_subsample(monkeypatch):
    """Above SUBSAMPLE_ROWS distinct rows the base fits a subsample first, through
    GGomNBD's own _optimise (which once refused the base's ``subsample`` keyword)."""
    from crmlab.models import _base

    base = pd.DataFrame(GGomNBD().set_params(**TRUTH).simulate(3000, 32.0, seed=41))
    whole = GGomNBD().fit(base)
    monkeypatch.setattr(_base, "SUBSAMPLE_ROWS", 600)
    started = GGomNBD().fit(base)
    assert started.result.n_rows > 600 and started.converged
    assert started.loglik == pytest.approx(whole.loglik, abs=1e-6)
