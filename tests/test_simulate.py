"""Properties of the firm simulator and of the heterogeneous cohort."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmlab.simulate import (
    FIRM_METRICS,
    heterogeneous_cohort,
    retention_crossover,
    simulate_firms,
)

rates = st.floats(0.0, 1.0)
open_rates = st.floats(0.01, 0.99)


def firm(table, name: str, column: str) -> np.ndarray:
    return table.loc[table["firm"] == name, column].to_numpy()


def test_tidy_shape_and_columns():
    table = simulate_firms(horizon=7)
    assert len(table) == 14
    assert set(table["firm"]) == {"product focus", "customer focus"}
    assert table.groupby("firm")["year"].apply(list).map(lambda y: y == list(range(1, 8))).all()
    for column in (*FIRM_METRICS, "new_customers", "lost_customers", "gross_margin"):
        assert column in table


@given(initial=st.floats(0, 1e6), horizon=st.integers(1, 30))
def test_full_retention_without_acquisition_keeps_every_customer(initial, horizon):
    table = simulate_firms(
        acquisition_share=0.0, retention=1.0, initial_customers=initial, horizon=horizon
    )
    np.testing.assert_allclose(table["customers"], initial)
    assert (table["lost_customers"] == 0).all()
    assert (table["new_customers"] == 0).all()


@given(retention=rates, share=rates, initial=st.floats(0, 1e4), horizon=st.integers(1, 25))
def test_customers_follow_the_geometric_closed_form(retention, share, initial, horizon):
    budget, cost = 50_000.0, 125.0
    table = simulate_firms(
        budget=budget,
        acquisition_cost=cost,
        acquisition_share=share,
        retention=retention,
        initial_customers=initial,
        horizon=horizon,
    )
    t = np.arange(1, horizon + 1)
    new = budget * share / cost
    # C_t = r^t C_0 + n (1 + r + ... + r^(t-1))
    series = np.array([np.sum(retention ** np.arange(k)) for k in t])
    expected = retention**t * initial + new * series
    np.testing.assert_allclose(
        firm(table, "product focus", "customers"), expected, rtol=1e-9, atol=1e-300
    )


def test_zero_retention_keeps_only_the_new_customers():
    table = simulate_firms(retention=0.0, acquisition_share=0.5, budget=1000, acquisition_cost=10)
    np.testing.assert_allclose(table["customers"], 50.0)


@given(retention=rates, horizon=st.integers(1, 40), equity_horizon=st.integers(0, 60))
def test_finite_equity_horizon_gives_finite_equity_even_without_discount(
    retention, horizon, equity_horizon
):
    table = simulate_firms(
        retention=retention, discount=0.0, horizon=horizon, equity_horizon=equity_horizon
    )
    assert np.isfinite(table["customer_equity"]).all()
    assert (table["customer_equity"] >= 0).all()


def test_undiscounted_everlasting_customers_are_worth_infinitely_much():
    table = simulate_firms(retention=1.0, discount=0.0)
    assert np.isinf(table["customer_equity"]).all()
    # ... yet every other column stays finite
    assert np.isfinite(table["customers"]).all()


def test_equity_is_the_base_times_the_value_of_its_future_margins():
    margin, r, d = 200.0, 0.9, 0.1
    table = simulate_firms(retention=r, margin=margin, discount=d)
    per_customer = margin * r / (1 + d - r)  # next year's margin onwards, end of year
    np.testing.assert_allclose(table["customer_equity"], table["customers"] * per_customer)


def test_profit_is_margin_minus_marketing_and_discounted_at_year_end():
    table = simulate_firms(margin=150, budget=80_000, discount=0.08)
    np.testing.assert_allclose(table["profit"], table["customers"] * 150 - 80_000)
    np.testing.assert_allclose(
        table["discounted_profit"], table["profit"] / 1.08 ** table["year"].to_numpy()
    )
    product = table[table["firm"] == "product focus"]
    np.testing.assert_allclose(product["cumulative_profit"], product["discounted_profit"].cumsum())


def test_revenue_per_customer_is_separate_from_margin():
    table = simulate_firms(margin=100, revenue_per_customer=400)
    np.testing.assert_allclose(table["revenue"], 4 * table["gross_margin"])


def test_stochastic_version_is_seeded_whole_and_centred_on_the_expectation():
    common = {"initial_customers": 20_000, "budget": 2_000_000.0, "horizon": 5}
    one = simulate_firms(stochastic=True, seed=7, **common)
    again = simulate_firms(stochastic=True, seed=7, **common)
    other = simulate_firms(stochastic=True, seed=8, **common)
    assert one.equals(again)
    assert not one.equals(other)
    assert (one["customers"] == np.round(one["customers"])).all()
    expected = simulate_firms(**common)["customers"].to_numpy()
    # binomial + Poisson noise on ~10^4 customers: a few hundred at most
    assert np.max(np.abs(one["customers"].to_numpy() - expected) / np.sqrt(expected)) < 5
    assert not np.allclose(one["customers"], expected)


@settings(max_examples=50, deadline=None)
@given(
    product_retention=st.floats(0.0, 0.8),
    gap=st.floats(0.05, 0.19),
    product_share=st.floats(0.3, 0.8),
)
def test_crossover_exists_when_the_retainer_has_the_larger_steady_state(
    product_retention, gap, product_share
):
    customer_retention = product_retention + gap
    # steady state n / (1 - r): choose the customer firm's share so that its is 20% larger
    customer_share = 1.2 * product_share * (1 - customer_retention) / (1 - product_retention)
    crossover = retention_crossover(
        metric="customers",
        acquisition_share=(product_share, customer_share),
        retention=(product_retention, customer_retention),
        initial_customers=0.0,
        horizon=200,
    )
    assert crossover.year is not None
    assert crossover.customer_focus_ahead
    assert crossover.breakeven_retention is not None
    assert crossover.breakeven_retention <= customer_retention


def test_no_crossover_when_the_customer_firm_is_dominated():
    crossover = retention_crossover(
        metric="customer_equity", acquisition_share=(0.8, 0.5), retention=(0.7, 0.6)
    )
    assert crossover.year is None
    assert not crossover.customer_focus_ahead


@pytest.mark.parametrize("metric", FIRM_METRICS)
def test_breakeven_retention_equalises_the_last_year(metric):
    crossover = retention_crossover(metric=metric, horizon=15, tolerance=1e-12)
    rate = crossover.breakeven_retention
    assert rate is not None and 0 < rate < 1
    table = simulate_firms(retention=(0.6, rate), horizon=15)
    last = table[table["year"] == 15].set_index("firm")[metric]
    assert last["customer focus"] == pytest.approx(last["product focus"], rel=1e-6)


def test_crossover_year_is_the_first_year_ahead():
    table = simulate_firms()
    customers = table.pivot(index="year", columns="firm", values="customers")
    ahead = customers["customer focus"] >= customers["product focus"]
    crossover = retention_crossover(metric="customers")
    assert crossover.year == ahead.idxmax()
    assert not ahead.loc[: crossover.year - 1].any()


def test_unreachable_breakeven_is_none():
    crossover = retention_crossover(metric="customers", acquisition_share=(1.0, 0.0))
    assert crossover.breakeven_retention is None  # no acquisition at all, 100 customers at most


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"retention": 1.5}, "retention"),
        ({"retention": (0.5, -0.1)}, "retention[1]"),
        ({"retention": (0.5, 0.6, 0.7)}, "retention"),
        ({"acquisition_share": float("nan")}, "acquisition_share"),
        ({"acquisition_cost": 0}, "acquisition_cost"),
        ({"discount": -0.1}, "discount"),
        ({"horizon": 0}, "horizon"),
        ({"horizon": 2.5}, "horizon"),
        ({"margin": float("inf")}, "margin"),
        ({"firms": ("a", "a")}, "firms"),
        ({"initial_customers": 10.5, "stochastic": True}, "initial_customers"),
    ],
)
def test_bad_input_names_the_argument(arguments, named):
    with pytest.raises(ValueError, match=named.replace("[", r"\[").replace("]", r"\]")):
        simulate_firms(**arguments)


def test_crossover_refuses_bad_metric_and_unknown_arguments():
    with pytest.raises(ValueError, match="metric"):
        retention_crossover(metric="happiness")
    with pytest.raises(ValueError, match="retension"):
        retention_crossover(retension=0.5)
    with pytest.raises(ValueError, match="stochastic"):
        retention_crossover(stochastic=True)


@given(
    loyal=st.floats(0.05, 1.0),
    fickle=st.floats(0.0, 1.0),
    share=st.floats(0.01, 0.99),
    periods=st.integers(1, 30),
)
def test_aggregate_retention_rises_between_the_segment_rates(loyal, fickle, share, periods):
    fickle = min(fickle, loyal)
    cohort = heterogeneous_cohort(
        loyal_share=share, loyal_retention=loyal, fickle_retention=fickle, periods=periods
    )
    rate = cohort["retention_rate"].dropna().to_numpy()
    assert np.all(np.diff(rate) >= -1e-12)
    assert np.all(rate >= fickle - 1e-12)
    assert np.all(rate <= loyal + 1e-12)
    # the survivors grow more loyal
    assert np.all(np.diff(cohort["loyal_share"].dropna()) >= -1e-12)


def test_homogeneous_cohort_has_constant_retention():
    cohort = heterogeneous_cohort(loyal_retention=0.7, fickle_retention=0.7, periods=8)
    np.testing.assert_allclose(cohort["retention_rate"].iloc[1:], 0.7)


def test_cohort_first_rate_is_the_mixture_mean_and_tends_to_the_loyal_rate():
    cohort = heterogeneous_cohort(
        loyal_share=0.25, loyal_retention=0.95, fickle_retention=0.4, periods=60
    )
    assert cohort["retention_rate"].iloc[1] == pytest.approx(0.25 * 0.95 + 0.75 * 0.4)
    assert cohort["retention_rate"].iloc[-1] == pytest.approx(0.95, abs=1e-6)


def test_cohort_extremes_give_nan_not_errors_once_everyone_left():
    cohort = heterogeneous_cohort(loyal_retention=0.0, fickle_retention=0.0, periods=3)
    assert cohort["alive"].iloc[1:].eq(0).all()
    assert cohort["retention_rate"].iloc[1] == 0.0
    assert cohort["retention_rate"].iloc[2:].isna().all()
    empty = heterogeneous_cohort(n_customers=0)
    assert empty["survival"].isna().all()


def test_stochastic_cohort_is_seeded_and_close_to_expectation():
    cohort = heterogeneous_cohort(n_customers=100_000, stochastic=True, seed=3, periods=5)
    assert cohort.equals(
        heterogeneous_cohort(n_customers=100_000, stochastic=True, seed=3, periods=5)
    )
    expected = heterogeneous_cohort(n_customers=100_000, periods=5)
    np.testing.assert_allclose(cohort["alive"], expected["alive"], rtol=0.02)
    assert (cohort["alive"] == np.round(cohort["alive"])).all()
    # the paradox survives sampling noise
    assert cohort["retention_rate"].iloc[-1] > cohort["retention_rate"].iloc[1]


def test_cohort_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="loyal_share"):
        heterogeneous_cohort(loyal_share=2)
    with pytest.raises(ValueError, match="periods"):
        heterogeneous_cohort(periods=0)
    assert math.isnan(heterogeneous_cohort()["retention_rate"].iloc[0])
