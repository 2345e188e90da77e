"""BG/NBD (Fader, Hardie & Lee 2005) against the paper, simulation, bad input and extremes.

The tracking figures of crmlab.plots.tracking are drawn here on the same fits.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import crmlab as cl
from crmlab.models import BGNBD

PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}


@pytest.fixture(scope="module")
def transactions():
    return cl.datasets.load_cdnow("sample")


@pytest.fixture(scope="module")
def calibration(cdnow_calibration):
    # The shared summary (tests/conftest.py), under the name these tests use.
    return cdnow_calibration


@pytest.fixture(scope="module")
def holdout(transactions):
    return cl.transactions.calibration_holdout(
        transactions, calibration_end="1997-09-30", observation_end="1998-06-30", unit="W"
    )


@pytest.fixture(scope="module")
def model(calibration):
    return BGNBD().fit(calibration)


# ----- the paper's figures -----------------------------------------------------------------
def test_the_maximum_agrees_with_another_implementation_to_six_digits(model):
    # CLVTools' correctness test on the same data (its own estimate, not the paper's).
    clvtools = {"r": 0.2425945, "alpha": 4.4136019, "a": 0.7929199, "b": 2.4258881}
    for name, value in clvtools.items():
        assert model.params[name] == pytest.approx(value, rel=2e-5)
    assert model.loglik == pytest.approx(-9582.429, abs=1e-3)


def test_conditional_expectation_of_customer_one(model):
    assert round(model.conditional_expected_purchases(39, 2, 30.43, 38.86), 3) == 1.226


def test_p_alive_is_the_closed_form_of_hardies_note():
    # Fader, Hardie & Lee, note 021 on P(alive):
    # P(alive) = 1 / (1 + [x > 0] a / (b + x - 1) ((α + T) / (α + t_x))^(r + x)).
    r, alpha, a, b = PUBLISHED.values()
    model = BGNBD().set_params(**PUBLISHED)
    x = np.array([0, 1, 2, 5, 20])
    t_x = np.array([0, 5.0, 30.43, 20.0, 38.0])
    T = np.full(5, 38.86)
    closed = 1 / (1 + (x > 0) * a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x))
    assert model.p_alive(x, t_x, T) == pytest.approx(closed, rel=1e-12)
    assert model.p_alive(0, 0, 38.86) == 1.0  # BG/NBD: no purchase, no chance to drop out


def test_holdout_total_is_slightly_under_forecast_as_the_paper_reports(model, holdout):
    forecast = model.conditional_expected_purchases(
        holdout["duration_holdout"], holdout["x"], holdout["t_x"], holdout["T"]
    )
    actual = holdout["x_holdout"].sum()
    assert actual == 1882  # repeat purchase days in weeks 40-78
    assert round(float(forecast.sum())) == 1653
    assert 0.85 * actual < forecast.sum() < actual


def test_conditional_expectations_by_calibration_frequency_track_the_holdout(model, holdout):
    forecast = model.conditional_expected_purchases(
        39.0, holdout["x"], holdout["t_x"], holdout["T"]
    )
    table = (
        pd.DataFrame(
            {
                "group": np.minimum(holdout["x"], 7),
                "actual": holdout["x_holdout"],
                "model": forecast,
            }
        )
        .groupby("group")
        .mean()
    )
    assert (np.diff(table["model"]) > 0).all()  # more past purchases, more future ones
    assert np.abs(table["model"] - table["actual"]).max() < 0.4


def test_frequency_distribution_matches_the_calibration_data(model, calibration):
    T = calibration["T"].to_numpy()
    expected = np.array([model.probability_of_purchases(n, T).sum() for n in range(7)])
    observed = np.array([(calibration["x"] == n).sum() for n in range(7)])
    assert expected[0] == pytest.approx(observed[0], rel=0.03)  # 1,411 without repeat purchase
    assert np.abs(expected - observed).sum() / observed.sum() < 0.05


@pytest.mark.parametrize("t", [0.5, 39.0, 400.0])
def test_pmf_sums_to_one_and_its_mean_is_the_purchase_curve(t):
    model = BGNBD().set_params(**PUBLISHED)
    n = np.arange(3000)
    pmf = model.probability_of_purchases(n, t)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-9)
    assert (n * pmf).sum() == pytest.approx(model.expected_purchases(t), rel=1e-7)


# ----- simulation ---------------------------------------------------------------------------
def _on_day_grid(base):
    # Real logs are recorded by the day; rounding to days also lets the fit compress rows.
    x = base["x"]
    t_x = np.where(x > 0, np.maximum(np.round(base["t_x"] * 7), 1) / 7, 0.0)
    return pd.DataFrame({"x": x, "t_x": np.minimum(t_x, base["T"]), "T": base["T"]})


def test_simulated_base_gives_its_parameters_back_within_three_standard_errors():
    truth = {"r": 0.5, "alpha": 6.0, "a": 0.7, "b": 2.5}
    T = np.round(np.random.default_rng(1).uniform(30, 40, 40_000) * 7) / 7
    base = BGNBD().set_params(**truth).simulate(40_000, T, seed=7)
    fitted = BGNBD().fit(_on_day_grid(base))
    for name, value in truth.items():
        se = fitted.standard_errors[name]
        assert 0 < se < value, name
        assert abs(fitted.params[name] - value) < 3 * se, (name, fitted.params[name], se)


def test_simulate_matches_the_models_own_distribution():
    model = BGNBD().set_params(**PUBLISHED)
    base = model.simulate(200_000, 39.0, seed=3)
    share = np.bincount(base["x"].astype(int), minlength=4)[:4] / 200_000
    assert share == pytest.approx(model.probability_of_purchases(np.arange(4), 39.0), abs=0.004)
    assert (base["t_x"] <= base["T"]).all() and (base["t_x"][base["x"] > 0] > 0).all()


def test_conditional_expectation_and_purchase_curve_match_a_full_simulation():
    rng = np.random.default_rng(12)
    n, T, horizon = 300_000, 39.0, 39.0
    rate = rng.gamma(PUBLISHED["r"], 1 / PUBLISHED["alpha"], n)
    p = rng.beta(PUBLISHED["a"], PUBLISHED["b"], n)
    alive, clock = np.ones(n, bool), np.zeros(n)
    calibration, holdout, last = np.zeros(n), np.zeros(n), np.zeros(n)
    while alive.any():  # one step per purchase number, vectorised over customers
        clock = clock + rng.exponential(1 / np.maximum(rate, 1e-12))
        alive &= clock <= T + horizon
        in_calibration = alive & (clock <= T)
        calibration += in_calibration
        last = np.where(in_calibration, clock, last)
        holdout += alive & (clock > T)
        alive &= rng.random(n) >= p
    model = BGNBD().set_params(**PUBLISHED)
    forecast = model.conditional_expected_purchases(horizon, calibration, last, T)
    for x in (0, 1, 2, 5):
        group = calibration == x
        assert holdout[group].mean() == pytest.approx(forecast[group].mean(), rel=0.04), x
    assert (holdout + calibration).mean() == pytest.approx(
        model.expected_purchases(T + horizon), rel=0.02
    )


# ----- extremes ------------------------------------------------------------------------------
def test_one_repeat_buyer_among_many_gives_finite_answers_and_a_flag():
    frame = pd.DataFrame({"x": [0] * 200 + [3], "t_x": [0.0] * 200 + [20.0], "T": [30.0] * 201})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = BGNBD().fit(frame)
    assert np.isfinite(model.loglik) and all(np.isfinite(list(model.params.values())))
    table = model.summary()
    assert (
        table["at_boundary"].any() or (table["se"].isna() | (table["se"] > table["estimate"])).any()
    )


def test_huge_x_and_tiny_T_stay_finite():
    model = BGNBD().set_params(**PUBLISHED)
    assert 0.99 < model.p_alive(1000, 38.9, 39.0) <= 1
    assert 500 < model.conditional_expected_purchases(39, 1000, 38.9, 39.0) < 1100
    assert np.isfinite(model.p_alive(1, 1e-9, 1e-9))
    assert np.isfinite(model.conditional_expected_purchases(10, 0, 0, 1e-12))
    rows = model._loglik_rows(
        np.array(list(PUBLISHED.values())),
        x=np.array([1000.0, 0.0, 1.0]),
        t_x=np.array([38.0, 0.0, 1e-9]),
        T=np.array([39.0, 1e-12, 1e-9]),
    )
    assert np.all(np.isfinite(rows))


def test_data_without_dropout_are_flagged_and_predictions_never_return_nan():
    rng = np.random.default_rng(3)
    rate = rng.gamma(50.0, 1 / 100.0, 3000)
    x = rng.poisson(rate * 39.0)
    t_x = np.where(x > 0, 39.0 * rng.beta(np.maximum(x, 1), 1), 0.0)
    with pytest.warns(cl.models.ConvergenceWarning, match="ran to the edge"):
        model = BGNBD().fit(pd.DataFrame({"x": x, "t_x": t_x, "T": 39.0}))
    assert model.summary()["at_boundary"].any()
    try:
        value = model.conditional_expected_purchases(39, x[:50], t_x[:50], 39.0)
    except ValueError as error:
        assert "too extreme" in str(error)
    else:
        assert np.isfinite(value).all()


def test_scalars_give_scalars_and_arrays_broadcast():
    model = BGNBD().set_params(**PUBLISHED)
    assert isinstance(model.p_alive(2, 30.0, 39.0), float)
    assert isinstance(model.expected_purchases(39), float)
    grid = model.conditional_expected_purchases(np.array([[10.0], [20.0]]), [0, 2], [0, 30], 39.0)
    assert grid.shape == (2, 2) and (grid[1] > grid[0]).all()
    with pytest.raises(ValueError, match="n must be whole numbers"):
        model.probability_of_purchases(1.5, 39)


# ----- tracking figures ----------------------------------------------------------------------
def test_tracking_figures_render(model, calibration, holdout, transactions, tmp_path):
    import matplotlib.pyplot as plt

    from crmlab.plots import (
        plot_conditional_expectations,
        plot_frequency_fit,
        plot_p_alive_map,
        plot_tracking,
    )

    axes = {
        "frequency": plot_frequency_fit(model, calibration),
        "cumulative": plot_tracking(model, transactions, "1997-09-30"),
        "weekly": plot_tracking(model, transactions, "1997-09-30", cumulative=False),
        "conditional": plot_conditional_expectations(model, holdout),
        "p_alive": plot_p_alive_map(model, 38.86, mark=(2, 30.43)),
    }
    for name, ax in axes.items():
        assert "weeks" in ax.get_xlabel() + ax.get_ylabel() + ax.get_title(), name
        path = tmp_path / f"{name}.png"
        ax.figure.savefig(path)
        assert path.stat().st_size > 5_000
    # The cumulative curve ends near the 4,339 repeat purchase days of the 78 weeks.
    observed, expected = (line.get_ydata() for line in axes["cumulative"].get_lines()[:2])
    assert observed[-1] == 4339
    assert expected[-1] == pytest.approx(observed[-1], rel=0.06)
    plt.close("all")


def test_weekly_repeat_transactions_add_up_to_the_summaries(transactions, holdout):
    weekly = cl.plots.repeat_transactions_by_period(transactions, "W")
    assert len(weekly) == 78
    assert weekly.sum() == holdout["x"].sum() + holdout["x_holdout"].sum()


def test_expectations_are_continuous_through_a_equal_one():
    # Eq. 7 and eq. 10 divide by a - 1; the expectations themselves are smooth there.
    values = []
    for a in (1 - 1e-4, 1.0, 1 + 1e-4):
        model = BGNBD().set_params(r=0.243, alpha=4.414, a=a, b=2.426)
        values.append(
            [model.expected_purchases(39.0), model.conditional_expected_purchases(39, 2, 30, 39)]
        )
    values = np.array(values)
    assert np.isfinite(values).all()
    assert values[1] == pytest.approx((values[0] + values[2]) / 2, rel=1e-6)
