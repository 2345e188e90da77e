"""Pareto/NBD (Schmittlein, Morrison & Colombo 1987; Fader & Hardie's 2005 note)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import special

import crmlab as cl
from crmlab.models import ParetoNBD

PUBLISHED = {"r": 0.55, "alpha": 10.58, "s": 0.61, "beta": 11.67}


@pytest.fixture(scope="module")
def model(cdnow_calibration):
    return ParetoNBD().fit(cdnow_calibration)


def _direct_loglik(params, x, t_x, T):
    """The note's likelihood written out with scipy's hyp2f1, no transformation."""
    r, alpha, s, beta = params
    if alpha >= beta:

        def term(time):
            z = (alpha - beta) / (alpha + time)
            return special.hyp2f1(r + s + x, s + 1, r + s + x + 1, z) / (alpha + time) ** (
                r + s + x
            )

    else:

        def term(time):
            z = (beta - alpha) / (beta + time)
            return special.hyp2f1(r + s + x, r + x, r + s + x + 1, z) / (beta + time) ** (r + s + x)

    likelihood = (
        special.gamma(r + x)
        * alpha**r
        * beta**s
        / special.gamma(r)
        * (1 / ((alpha + T) ** (r + x) * (beta + T) ** s) + s / (r + s + x) * (term(t_x) - term(T)))
    )
    return np.log(likelihood)


# ----- the published figures ------------------------------------------------------------------
def test_the_maximum_agrees_with_another_implementation(model):
    # CLVTools' correctness test on the same data (its own estimate, to 5 digits).
    clvtools = {"r": 0.55315, "alpha": 10.57633, "s": 0.60625, "beta": 11.67150}
    for name, value in clvtools.items():
        assert model.params[name] == pytest.approx(value, rel=1e-3)
    assert model.loglik == pytest.approx(-9594.976, abs=1e-3)


@pytest.mark.parametrize(
    "params",
    [
        (0.55, 10.58, 0.61, 11.67),  # alpha < beta, as in CDNOW
        (0.55, 14.0, 0.61, 6.0),  # alpha > beta: the other hypergeometric branch
        (1.3, 3.0, 2.2, 30.0),
    ],
)
def test_transformed_likelihood_equals_the_direct_formula(cdnow_calibration, params):
    x, t_x, T = (cdnow_calibration[c].to_numpy() for c in ("x", "t_x", "T"))
    ours = ParetoNBD()._loglik_rows(np.array(params), x=x, t_x=t_x, T=T)
    assert ours == pytest.approx(_direct_loglik(params, x, t_x, T), rel=1e-9, abs=1e-9)


def test_likelihood_is_continuous_where_alpha_meets_beta(cdnow_calibration):
    x, t_x, T = (cdnow_calibration[c].to_numpy() for c in ("x", "t_x", "T"))
    values = [
        ParetoNBD()._loglik_rows(np.array([0.55, 11.0 + d, 0.61, 11.0]), x=x, t_x=t_x, T=T).sum()
        for d in (-1e-7, 0.0, 1e-7)
    ]
    assert np.ptp(values) < 1e-4


# ----- predictions against their definitions and simulation -----------------------------------
@pytest.mark.parametrize("t", [0.01, 39.0, 78.0, 500.0])
def test_pmf_sums_to_one_and_its_mean_is_the_purchase_curve(t):
    model = ParetoNBD().set_params(**PUBLISHED)
    n = np.arange(4000)
    pmf = model.probability_of_purchases(n, t)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-9)
    assert (n * pmf).sum() == pytest.approx(model.expected_purchases(t), rel=1e-7)


def test_simulated_counts_follow_the_pmf():
    model = ParetoNBD().set_params(**PUBLISHED)
    base = model.simulate(400_000, 39.0, seed=3)
    share = np.bincount(base["x"].astype(int), minlength=5)[:5] / 400_000
    assert share == pytest.approx(model.probability_of_purchases(np.arange(5), 39.0), abs=0.003)


def test_frequency_distribution_matches_the_calibration_data(model, cdnow_calibration):
    T = cdnow_calibration["T"].to_numpy()
    expected = np.array([model.probability_of_purchases(n, T).sum() for n in range(7)])
    observed = np.array([(cdnow_calibration["x"] == n).sum() for n in range(7)])
    assert np.abs(expected - observed).sum() / observed.sum() < 0.06


def test_p_alive_and_conditional_expectations_match_a_full_simulation():
    rng = np.random.default_rng(11)
    n, T, horizon = 400_000, 39.0, 39.0
    rate = rng.gamma(PUBLISHED["r"], 1 / PUBLISHED["alpha"], n)
    lifetime = rng.exponential(1 / rng.gamma(PUBLISHED["s"], 1 / PUBLISHED["beta"], n))
    window = np.minimum(lifetime, T)
    x = rng.poisson(rate * window)
    t_x = np.where(x > 0, window * rng.beta(np.maximum(x, 1), 1.0), 0.0)
    later = rng.poisson(rate * np.clip(lifetime - T, 0, horizon))
    model = ParetoNBD().set_params(**PUBLISHED)
    alive = model.p_alive(x, t_x, T)
    forecast = model.conditional_expected_purchases(horizon, x, t_x, T)
    for count in (0, 1, 3):
        group = x == count
        assert (lifetime[group] > T).mean() == pytest.approx(alive[group].mean(), abs=0.006)
        assert later[group].mean() == pytest.approx(forecast[group].mean(), rel=0.05), count
    assert (x + later).mean() == pytest.approx(model.expected_purchases(T + horizon), rel=0.02)


def test_recent_frequent_buyers_are_more_likely_alive():
    model = ParetoNBD().set_params(**PUBLISHED)
    by_recency = model.p_alive(3, np.array([5.0, 20.0, 38.0]), 38.86)
    assert (np.diff(by_recency) > 0).all() and (by_recency > 0).all() and (by_recency <= 1).all()
    # Unlike BG/NBD, a customer without repeat purchases may have died.
    assert 0 < model.p_alive(0, 0, 38.86) < 1


def test_simulated_base_gives_its_parameters_back_within_three_standard_errors():
    truth = {"r": 0.6, "alpha": 10.0, "s": 0.7, "beta": 12.0}
    T = np.round(np.random.default_rng(2).uniform(30, 40, 40_000) * 7) / 7
    base = ParetoNBD().set_params(**truth).simulate(40_000, T, seed=8)
    x = base["x"]
    t_x = np.where(x > 0, np.maximum(np.round(base["t_x"] * 7), 1) / 7, 0.0)
    fitted = ParetoNBD().fit(pd.DataFrame({"x": x, "t_x": np.minimum(t_x, T), "T": T}))
    for name, value in truth.items():
        se = fitted.standard_errors[name]
        assert 0 < se < value, name
        assert abs(fitted.params[name] - value) < 3 * se, (name, fitted.params[name], se)


# ----- extremes ----------------------------------------------------------------------------------
def test_huge_x_and_tiny_T_stay_finite():
    model = ParetoNBD().set_params(**PUBLISHED)
    assert 0.99 < model.p_alive(1000, 38.9, 39.0) <= 1
    assert np.isfinite(model.conditional_expected_purchases(39, 1000, 38.9, 39.0))
    assert np.isfinite(model.p_alive(1, 1e-9, 1e-9))
    assert np.isfinite(model.conditional_expected_purchases(10, 0, 0, 1e-12))
    rows = model._loglik_rows(
        np.array(list(PUBLISHED.values())),
        x=np.array([1000.0, 0.0, 1.0, 5.0]),
        t_x=np.array([38.0, 0.0, 1e-9, 39.0]),
        T=np.array([39.0, 1e-12, 1e-9, 39.0]),
    )
    assert np.all(np.isfinite(rows))


def test_one_repeat_buyer_among_many_gives_finite_answers_and_a_flag():
    frame = pd.DataFrame({"x": [0] * 200 + [3], "t_x": [0.0] * 200 + [20.0], "T": [30.0] * 201})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ParetoNBD().fit(frame)
    assert np.isfinite(model.loglik) and all(np.isfinite(list(model.params.values())))
    table = model.summary()
    assert (
        table["at_boundary"].any() or (table["se"].isna() | (table["se"] > table["estimate"])).any()
    )


def test_figures_render_for_pareto_nbd(model, cdnow_calibration, tmp_path):
    import matplotlib.pyplot as plt

    ax = cl.plots.plot_frequency_fit(model, cdnow_calibration)
    heights = [patch.get_height() for patch in ax.patches if patch.get_height() > 0]
    assert sum(heights) == pytest.approx(2 * 2357, rel=1e-6)  # observed and expected bars
    ax.figure.savefig(tmp_path / "frequency.png")
    ax = cl.plots.plot_p_alive_map(model, 38.86)
    ax.figure.savefig(tmp_path / "p_alive.png")
    assert (tmp_path / "p_alive.png").stat().st_size > 5_000
    plt.close("all")


FAST_DROPOUT = {"r": 0.55, "alpha": 10.0, "s": 2.0, "beta": 5.0}


def _methods_used(monkeypatch):
    """The methods scipy's minimize is called with during a fit, in order."""
    import scipy.optimize

    calls, original = [], scipy.optimize.minimize

    def spy(*args, method=None, **kwargs):
        calls.append(method)
        return original(*args, method=method, **kwargs)

    monkeypatch.setattr(scipy.optimize, "minimize", spy)
    return calls


def test_fast_dropout_base_is_fitted_by_bfgs_and_recovers_the_truth(monkeypatch):
    # Customers live about 2.5 weeks of 78, so x / T understates the purchase rate
    # 15-fold at the start; the outer product there pointed BFGS up the ridge where s
    # and beta grow together and 2F1 fails, and Nelder-Mead had to finish (66 s).
    base = pd.DataFrame(ParetoNBD().set_params(**FAST_DROPOUT).simulate(10_000, 78.0, seed=1))
    methods = _methods_used(monkeypatch)
    fitted = ParetoNBD().fit(base)
    assert methods == ["BFGS"]
    assert fitted.converged and "Nelder-Mead" not in fitted.message
    errors = fitted.standard_errors
    for name, true in FAST_DROPOUT.items():
        assert abs(fitted.params[name] - true) < 2 * errors[name], name


def test_outer_product_start_is_refused_far_from_the_estimate(cdnow_calibration):
    from crmlab.models._base import compress_rows

    def start_inverse(model, data):
        columns, weights = compress_rows(*model._read_all(data, None, fitting=True))
        columns = model._with_levels(columns)
        start = min(
            model._starts(columns, weights), key=lambda s: model._negloglik(s, columns, weights)
        )
        return model._outer_product_inverse(model._to_free(start), columns, weights, weights.sum())

    fast = pd.DataFrame(ParetoNBD().set_params(**FAST_DROPOUT).simulate(10_000, 78.0, seed=1))
    assert start_inverse(ParetoNBD(), fast) is None
    assert start_inverse(ParetoNBD(), cdnow_calibration) is not None  # CDNOW keeps its speed-up


def test_fast_dropout_base_with_covariates_is_fitted_by_bfgs(monkeypatch):
    truth = {**FAST_DROPOUT, "purchase.g": 0.4, "dropout.g": -0.4}
    g = np.random.default_rng(2).integers(0, 2, 10_000).astype(float)
    options = {"purchase_covariates": ["g"], "dropout_covariates": ["g"]}
    simulated = ParetoNBD(**options).set_params(**truth)
    base = pd.DataFrame(
        simulated.simulate(10_000, 78.0, seed=2, covariates=pd.DataFrame({"g": g}))
    ).assign(g=g)
    methods = _methods_used(monkeypatch)
    fitted = ParetoNBD(**options).fit(base)
    assert methods == ["BFGS"]
    assert fitted.converged and "Nelder-Mead" not in fitted.message
    errors = fitted.standard_errors
    for name, true in truth.items():
        assert abs(fitted.params[name] - true) < 2 * errors[name], name


def test_a_nelder_mead_finish_is_named_in_the_fit_record(monkeypatch, cdnow_calibration):
    import scipy.optimize

    original = scipy.optimize.minimize

    def failing_bfgs(*args, method=None, **kwargs):
        result = original(*args, method=method, **kwargs)
        if method == "BFGS":
            result.success, result.message = False, "stopped for the test"
        return result

    monkeypatch.setattr(scipy.optimize, "minimize", failing_bfgs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted = ParetoNBD().fit(cdnow_calibration)
    assert fitted.message.startswith("Nelder-Mead after BFGS stopped (stopped for the test)")
    assert fitted.loglik == pytest.approx(-9594.98, abs=0.01)
