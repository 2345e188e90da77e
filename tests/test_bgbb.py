"""BG/BB (Fader, Hardie & Shang 2010): the published fit to the donations data, the
model's formulas against simulation, bad input and the extremes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import crmlab as cl
from crmlab.models import BGBB

PUBLISHED = {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}


@pytest.fixture(scope="module")
def donations():
    return cl.datasets.load_donations()


@pytest.fixture(scope="module")
def fitted(donations):
    return BGBB().fit(donations)


@pytest.fixture(scope="module")
def published():
    return BGBB().set_params(**PUBLISHED)


def _simulate_opportunities(params, n_customers, opportunities, seed):
    """Transaction matrix (customers x opportunities) and who is alive at each one.

    Written out here rather than taken from ``BGBB.simulate`` so that the model's own
    simulator is not the only witness: alive at opportunity t with probability
    (1 - theta)^t, transacting with probability p while alive.
    """
    rng = np.random.default_rng(seed)
    p = rng.beta(params["alpha"], params["beta"], n_customers)
    theta = rng.beta(params["gamma"], params["delta"], n_customers)
    dies = rng.random((n_customers, opportunities)) < theta[:, None]
    alive = np.cumsum(dies, axis=1) == 0
    buys = alive & (rng.random((n_customers, opportunities)) < p[:, None])
    return buys, alive


def _summary(buys):
    x = buys.sum(axis=1)
    n = buys.shape[1]
    t_x = np.where(x > 0, n - np.argmax(buys[:, ::-1], axis=1), 0)
    return x, t_x


# ----- published figures --------------------------------------------------------------
def test_fader_hardie_shang_2010_estimates(fitted):
    assert {k: round(v, 3) for k, v in fitted.params.items()} == PUBLISHED
    assert round(fitted.loglik, 1) == -33225.6
    assert fitted.n_obs == 11104
    assert fitted.converged
    se = fitted.standard_errors
    assert all(0 < se[k] < 0.5 * v for k, v in fitted.params.items())


def test_loglik_of_the_published_parameters(published, donations):
    assert published.log_likelihood(donations) == pytest.approx(-33225.6, abs=0.1)


def test_distribution_of_repeat_donations_1996_2001(fitted, donations):
    # The paper's histogram: model and actual numbers of donors making 0..6 repeat
    # donations in 1996-2001 agree closely.
    observed = donations.groupby("x")["weight"].sum().reindex(range(7), fill_value=0)
    expected = 11104 * fitted.probability_of_purchases(np.arange(7), 6)
    assert expected.sum() == pytest.approx(11104)
    assert np.all(np.abs(expected - observed.to_numpy()) < 0.05 * observed.max())
    chi_square = np.sum((expected - observed.to_numpy()) ** 2 / expected)
    assert chi_square < 50  # 7 cells, 11,104 donors


def test_total_repeat_donations_1996_2001(fitted, donations):
    actual = float((donations["x"] * donations["weight"]).sum())
    assert 11104 * fitted.expected_purchases(6) == pytest.approx(actual, rel=0.01)
    cumulative = 11104 * fitted.expected_purchases(np.arange(1, 12))
    assert np.all(np.diff(cumulative) > 0) and np.all(np.diff(cumulative, 2) < 0)


# ----- formulas against one another ---------------------------------------------------
def test_expected_purchases_is_the_mean_of_the_distribution(published):
    for n in (1, 3, 6, 11):
        x = np.arange(n + 1)
        probabilities = published.probability_of_purchases(x, n)
        assert probabilities.sum() == pytest.approx(1.0, abs=1e-12)
        assert np.dot(x, probabilities) == pytest.approx(published.expected_purchases(n))


def test_dert_is_the_discounted_sum_of_expected_future_transactions(published):
    k = np.arange(0, 20_001)
    for x, t_x in ((6, 6), (3, 4), (1, 1), (0, 0)):
        increments = np.diff(published.conditional_expected_purchases(k, x, t_x, 6))
        brute = np.sum(increments * np.exp(-k[1:] * np.log1p(0.1)))
        dert = published.discounted_expected_residual_transactions(0.1, x, t_x, 6)
        assert dert == pytest.approx(brute, rel=1e-9)
    assert np.isinf(published.discounted_expected_residual_transactions(0.0, 3, 4, 6))
    finite = BGBB().set_params(alpha=1.2, beta=0.75, gamma=3.0, delta=2.8)
    assert finite.discounted_expected_residual_transactions(0.0, 3, 4, 6) == pytest.approx(
        finite.conditional_expected_purchases(1e8, 3, 4, 6), rel=1e-6
    )


def test_gamma_equal_to_one_is_continuous():
    at_one = BGBB().set_params(alpha=1.2, beta=0.75, gamma=1.0, delta=2.8)
    near = BGBB().set_params(alpha=1.2, beta=0.75, gamma=1.0 + 1e-4, delta=2.8)
    n = np.array([1.0, 6.0, 50.0])
    np.testing.assert_allclose(at_one.expected_purchases(n), near.expected_purchases(n), rtol=1e-3)
    assert at_one.conditional_expected_purchases(5, 3, 4, 6) == pytest.approx(
        near.conditional_expected_purchases(5, 3, 4, 6), rel=1e-3
    )


def test_recency_and_frequency_order_the_customers(published):
    # More recent donors are likelier alive; more frequent ones give more.
    p_alive = published.p_alive([3, 3, 3], [6, 5, 3], [6, 6, 6])
    assert np.all(np.diff(p_alive) < 0) and np.all((0 < p_alive) & (p_alive <= 1))
    # A donor who gave at the last opportunity was alive then, whatever her frequency.
    assert published.p_alive(6, 6, 6) == pytest.approx(published.p_alive(1, 6, 6))
    # With the same lapse, a frequent donor's silence says more: she is likelier gone.
    assert published.p_alive(4, 4, 6) < published.p_alive(1, 4, 6)
    expected = published.conditional_expected_purchases(5, [1, 3, 6], [6, 6, 6], 6)
    assert np.all(np.diff(expected) > 0)


# ----- against simulation -------------------------------------------------------------
def test_unconditional_quantities_match_simulation(published):
    buys, _ = _simulate_opportunities(PUBLISHED, 200_000, 6, seed=21)
    x = buys.sum(axis=1)
    simulated = np.bincount(x, minlength=7) / len(x)
    expected = published.probability_of_purchases(np.arange(7), 6)
    assert np.all(np.abs(simulated - expected) < 4 * np.sqrt(expected * (1 - expected) / len(x)))
    mean_by_n = buys.sum(axis=0).cumsum() / len(x)
    np.testing.assert_allclose(mean_by_n, published.expected_purchases(np.arange(1, 7)), rtol=0.02)


def test_conditional_expectations_and_p_alive_match_simulation(published):
    buys, alive = _simulate_opportunities(PUBLISHED, 400_000, 11, seed=22)
    x, t_x = _summary(buys[:, :6])
    holdout = buys[:, 6:].sum(axis=1)
    frame = pd.DataFrame({"x": x, "t_x": t_x, "holdout": holdout, "alive": alive[:, 6]})
    groups = frame.groupby(["x", "t_x"]).agg(
        customers=("holdout", "size"),
        holdout=("holdout", "mean"),
        holdout_sd=("holdout", "std"),
        alive=("alive", "mean"),
    )
    groups = groups[groups["customers"] >= 2000].reset_index()
    assert len(groups) >= 10
    model_holdout = published.conditional_expected_purchases(5, groups["x"], groups["t_x"], 6)
    model_alive = published.p_alive(groups["x"], groups["t_x"], 6)
    se_holdout = groups["holdout_sd"] / np.sqrt(groups["customers"])
    se_alive = np.sqrt(model_alive * (1 - model_alive) / groups["customers"])
    assert np.all(np.abs(groups["holdout"] - model_holdout) < 4 * se_holdout + 1e-9)
    assert np.all(np.abs(groups["alive"] - model_alive) < 4 * se_alive + 1e-9)


def test_simulated_base_gives_back_its_parameters():
    truth = {"alpha": 0.9, "beta": 1.4, "gamma": 0.5, "delta": 1.8}
    base = BGBB().set_params(**truth).simulate(80_000, 8, seed=31)
    model = BGBB().fit(pd.DataFrame(base))
    for name, value in truth.items():
        se = model.standard_errors[name]
        assert np.isfinite(se) and se > 0
        assert abs(model.params[name] - value) < 3 * se, (name, model.params[name], se)


def test_model_simulator_agrees_with_the_independent_one(published):
    base = published.simulate(200_000, 6, seed=41)
    frequencies = np.bincount(base["x"].astype(int), minlength=7) / 200_000
    expected = published.probability_of_purchases(np.arange(7), 6)
    assert np.all(np.abs(frequencies - expected) < 4 * np.sqrt(expected / 200_000))
    assert np.all(base["t_x"] >= base["x"]) and np.all(base["t_x"] <= 6)
    assert np.all((base["x"] == 0) == (base["t_x"] == 0))


# ----- bad input ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "row, message",
    [
        ({"x": 1, "t_x": 7, "n": 6}, "t_x > n"),
        ({"x": 4, "t_x": 3, "n": 6}, "x > t_x"),
        ({"x": 2, "t_x": 0, "n": 6}, "x > t_x"),
        ({"x": 0, "t_x": 2, "n": 6}, "x = 0 with t_x > 0"),
        ({"x": -1, "t_x": 2, "n": 6}, "'x' must hold whole numbers"),
        ({"x": 1.5, "t_x": 2, "n": 6}, "'x' must hold whole numbers"),
        ({"x": 1, "t_x": np.nan, "n": 6}, "'t_x'"),
    ],
)
def test_impossible_rows_are_refused(row, message):
    with pytest.raises(ValueError, match=message):
        BGBB().fit(pd.DataFrame([row]))


def test_other_bad_input(published):
    with pytest.raises(ValueError, match="lack column"):
        BGBB().fit(pd.DataFrame({"x": [1], "t_x": [1]}))
    with pytest.raises(ValueError, match="weights must be finite"):
        BGBB().fit(pd.DataFrame({"x": [1], "t_x": [1], "n": [6], "weight": [-2]}))
    with pytest.raises(ValueError, match="x cannot exceed"):
        published.probability_of_purchases(7, 6)
    with pytest.raises(ValueError, match="n_star"):
        published.conditional_expected_purchases(-1, 1, 1, 6)
    with pytest.raises(ValueError, match="discount"):
        published.discounted_expected_residual_transactions(-0.1, 1, 1, 6)
    with pytest.raises(ValueError, match="n must be"):
        published.simulate(10, 0)


# ----- extremes -----------------------------------------------------------------------
def test_everyone_but_one_never_returns(published):
    frame = pd.DataFrame({"x": [0, 6], "t_x": [0, 6], "n": [6, 6], "weight": [5000, 1]})
    with pytest.warns(cl.models.ConvergenceWarning):
        model = BGBB().fit(frame)  # flagged: two rows cannot pin down four parameters
    assert np.all(np.isfinite(list(model.params.values())))
    values = model.conditional_expected_purchases(5, [0, 6], [0, 6], 6)
    assert np.all(np.isfinite(values))


def test_long_histories_and_extreme_parameters_stay_finite(published):
    assert np.isfinite(published.p_alive(200, 400, 400))
    assert np.isfinite(published.conditional_expected_purchases(10, 0, 0, 400))
    assert np.isfinite(published.discounted_expected_residual_transactions(0.1, 200, 400, 400))
    extreme = BGBB().set_params(alpha=1e-3, beta=1e3, gamma=1e3, delta=1e-3)
    assert np.isfinite(extreme.expected_purchases(10))
    assert np.isfinite(extreme.p_alive(0, 0, 10))


def test_scalars_give_scalars_and_arrays_broadcast(published):
    assert isinstance(published.p_alive(1, 2, 6), float)
    grid = published.conditional_expected_purchases(np.array([[1], [5]]), [0, 2, 6], [0, 4, 6], 6)
    assert grid.shape == (2, 3)
