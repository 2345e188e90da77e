"""Retention-based CLV: both timing conventions, DEL, DERL, customer equity.

Published figures: DERL of Fader & Hardie (2010). Every closed form is also checked
against the plain discounted sum it stands for, computed here term by term.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import betaln

import crmlab as cl
from crmlab import clv


def _survival(alpha, beta, t):
    return np.exp(betaln(alpha, beta + t) - betaln(alpha, beta))


def _discounted_payments(margin, retention, discount, first, last):
    """sum_{t=first}^{last} m r^t / (1+d)^t, one term at a time."""
    t = np.arange(first, last + 1)
    return float(np.sum(margin * retention**t / (1 + discount) ** t))


# ----- simple CLV ----------------------------------------------------------------------
@pytest.mark.parametrize("retention, discount", [(0.8, 0.1), (0.5, 0.0), (0.95, 0.12), (0.0, 0.1)])
def test_both_timing_conventions_are_the_discounted_sums_they_claim(retention, discount):
    beginning = clv.simple_clv(100, retention, discount, timing="beginning")
    end = clv.simple_clv(100, retention, discount, timing="end")
    assert beginning == pytest.approx(_discounted_payments(100, retention, discount, 0, 5000))
    assert end == pytest.approx(_discounted_payments(100, retention, discount, 1, 5000))
    # The textbook closed forms, written out.
    assert beginning == pytest.approx(100 * (1 + discount) / (1 + discount - retention))
    assert end == pytest.approx(100 * retention / (1 + discount - retention))


def test_gupta_lehmann_form_is_the_end_convention():
    # Gupta & Lehmann (2003): CLV = m r / (1 + i - r); margin 100, r = 0.8, i = 0.12.
    assert clv.simple_clv(100, 0.8, 0.12, timing="end") == pytest.approx(250.0)


def test_timing_aliases():
    assert clv.simple_clv(10, 0.7, 0.1, timing="immediate") == clv.simple_clv(10, 0.7, 0.1)
    assert clv.simple_clv(10, 0.7, 0.1, timing="delayed") == clv.simple_clv(
        10, 0.7, 0.1, timing="end"
    )


@given(
    margin=st.floats(-1e4, 1e4),
    retention=st.floats(0, 0.999),
    discount=st.floats(0, 2),
)
def test_beginning_is_end_plus_todays_payment(margin, retention, discount):
    beginning = clv.simple_clv(margin, retention, discount)
    end = clv.simple_clv(margin, retention, discount, timing="end")
    assert beginning == pytest.approx(end + margin, rel=1e-9, abs=1e-6)


@pytest.mark.parametrize("timing, first", [("beginning", 0), ("end", 1)])
@pytest.mark.parametrize("horizon", [0, 1, 2, 7])
def test_finite_horizon_counts_horizon_payments(timing, first, horizon):
    value = clv.simple_clv(50, 0.85, 0.08, timing=timing, horizon=horizon)
    expected = _discounted_payments(50, 0.85, 0.08, first, first + horizon - 1)
    assert value == pytest.approx(expected, abs=1e-12)


def test_finite_horizon_approaches_the_infinite_one():
    assert clv.simple_clv(1, 0.9, 0.1, horizon=2000) == pytest.approx(clv.simple_clv(1, 0.9, 0.1))


def test_broadcasting_and_scalars():
    assert isinstance(clv.simple_clv(100, 0.8, 0.1), float)
    grid = clv.simple_clv(100, np.array([[0.5], [0.8]]), np.array([0.0, 0.1, 0.2]))
    assert grid.shape == (2, 3)
    assert grid[1, 1] == pytest.approx(clv.simple_clv(100, 0.8, 0.1))
    # higher retention and lower discount are both worth more
    assert np.all(np.diff(grid, axis=0) > 0) and np.all(np.diff(grid, axis=1) < 0)


# ----- extremes the widgets reach --------------------------------------------------------
@pytest.mark.parametrize("timing", ["beginning", "end"])
def test_extremes_give_numbers_or_inf_never_nan(timing):
    r = np.array([0.0, 0.0, 1.0, 1.0, 0.5])
    d = np.array([0.0, 0.1, 0.1, 0.0, 0.0])
    values = clv.simple_clv(100, r, d, timing=timing)
    assert not np.isnan(values).any()
    first_payment = 100.0 if timing == "beginning" else 0.0
    assert values[0] == values[1] == first_payment  # nobody renews: today's payment at most
    assert values[2] == pytest.approx(100 * 1.1 / 0.1 - (0 if timing == "beginning" else 100))
    assert np.isinf(values[3])  # stays forever, no discounting
    assert clv.simple_clv(0, 1.0, 0.0, timing=timing) == 0.0
    assert clv.simple_clv(100, 1.0, 0.0, timing=timing, horizon=5) == pytest.approx(500)
    gains = clv.retention_point_value(100, r, d, timing=timing)
    assert not np.isnan(gains).any()
    assert gains[3] == 0.0  # already certain to stay: one more point changes nothing
    assert np.isinf(clv.retention_point_value(100, 0.995, 0.0, timing=timing))


def test_retention_point_is_worth_more_the_higher_retention_is():
    levels = np.array([0.5, 0.7, 0.8, 0.9, 0.95])
    gains = clv.retention_point_value(100, levels, 0.10)
    assert np.all(np.diff(gains) > 0)
    assert gains[2] == pytest.approx(clv.simple_clv(100, 0.81, 0.1) - clv.simple_clv(100, 0.8, 0.1))


def test_acquisition():
    gross = clv.simple_clv(100, 0.8, 0.1)
    assert clv.max_acquisition_cost(100, 0.8, 0.1) == gross
    assert clv.new_customer_clv(100, 0.8, 0.1, acquisition_cost=gross) == pytest.approx(0.0)
    net = clv.new_customer_clv(100, 0.8, 0.1, acquisition_cost=[0, 500])
    assert net.tolist() == pytest.approx([gross, gross - 500])


# ----- bad input --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"retention": 1.2}, "retention"),
        ({"retention": -0.1}, "retention"),
        ({"retention": np.nan}, "retention"),
        ({"discount": -0.05}, "discount"),
        ({"margin": np.inf}, "margin"),
        ({"margin": "lots"}, "margin"),
        ({"timing": "middle"}, "timing"),
        ({"horizon": -1}, "horizon"),
        ({"horizon": 2.5}, "horizon"),
    ],
)
def test_bad_input_names_the_argument(kwargs, message):
    arguments = {"margin": 100, "retention": 0.8, "discount": 0.1} | kwargs
    with pytest.raises(ValueError, match=message):
        clv.simple_clv(**arguments)


def test_bad_input_shows_the_first_offending_values():
    with pytest.raises(ValueError, match=r"\[1\.5, 2\.0\]"):
        clv.simple_clv(100, [0.5, 1.5, 2.0], 0.1)
    with pytest.raises(ValueError, match="broadcast"):
        clv.simple_clv([1, 2], [0.5, 0.6, 0.7], 0.1)
    with pytest.raises(ValueError, match="acquisition_cost"):
        clv.new_customer_clv(100, 0.8, 0.1, acquisition_cost=np.nan)
    with pytest.raises(ValueError, match="points"):
        clv.retention_point_value(100, 0.8, 0.1, points=-0.01)


# ----- DEL and DERL under the sBG (Fader & Hardie 2010) ----------------------------------
def test_derl_reproduces_fader_hardie_2010():
    values = clv.derl(3.80, 15.20, 0.10, np.arange(1, 6))
    assert np.round(values, 2).tolist() == [3.31, 3.45, 3.59, 3.72, 3.84]


@pytest.mark.parametrize("alpha, beta", [(3.8, 15.2), (0.704, 1.182), (0.668, 3.806), (50, 5)])
@pytest.mark.parametrize("discount", [0.01, 0.1, 0.5])
def test_del_and_derl_are_the_discounted_survival_sums(alpha, beta, discount):
    t = np.arange(0, 200_000)
    factor = np.exp(-t * np.log1p(discount))  # 1 / (1 + d)^t without overflow
    weights = _survival(alpha, beta, t) * factor
    assert clv.del_sbg(alpha, beta, discount) == pytest.approx(weights.sum(), rel=1e-8)
    for n in (1, 2, 8):
        # payments at t = n, n+1, ... given alive through period n, discounted back to n
        future = _survival(alpha, beta, t[n:]) / _survival(alpha, beta, n - 1)
        expected = np.sum(future * factor[: len(future)])
        assert clv.derl(alpha, beta, discount, n) == pytest.approx(expected, rel=1e-8)


def test_derl_rises_with_tenure_and_falls_with_discount():
    by_tenure = clv.derl(3.8, 15.2, 0.1, np.arange(1, 30))
    assert np.all(np.diff(by_tenure) > 0)
    by_discount = clv.derl(3.8, 15.2, np.array([0.0, 0.05, 0.1, 0.2]), 3)
    assert np.all(np.diff(by_discount) < 0)


def test_homogeneous_limit_is_the_constant_retention_formula():
    # beta -> inf with alpha / (alpha + beta) fixed: everyone churns with probability 0.2.
    churn, big = 0.2, 1e7
    alpha, beta = churn * big, (1 - churn) * big
    assert clv.del_sbg(alpha, beta, 0.1) == pytest.approx(clv.simple_clv(1, 0.8, 0.1), rel=1e-5)
    assert clv.derl(alpha, beta, 0.1, 4) == pytest.approx(
        float(clv.constant_retention_equity(1, 0.8, 0.1)), rel=1e-5
    )


def test_undiscounted_lifetimes():
    model = cl.models.ShiftedBetaGeometric().set_params(alpha=3.8, beta=15.2)
    assert clv.del_sbg(3.8, 15.2, 0.0) == pytest.approx(model.expected_lifetime())
    assert clv.derl(3.8, 15.2, 0.0, 3) == pytest.approx((15.2 + 2) / (3.8 - 1))
    # tiny discount rates approach the undiscounted value continuously
    assert clv.del_sbg(3.8, 15.2, 1e-9) == pytest.approx(clv.del_sbg(3.8, 15.2, 0.0), rel=1e-6)
    # alpha <= 1: the mean lifetime diverges
    assert np.isinf(clv.del_sbg(0.704, 1.182, 0.0))
    assert np.isinf(clv.derl(1.0, 1.182, 0.0, 2))
    assert np.isfinite(clv.derl(0.704, 1.182, 0.1, 2))


def test_cross_check_with_a_published_python_example():
    # JD Maturen's shifted_beta_geometric_py README: High End fit on years 1-7, d = 0.10,
    # residual lifetime of the survivors after year 7 = 7.530 (their t = 7 is our n = 8).
    assert clv.derl(0.668, 3.806, 0.10, 8) == pytest.approx(7.530, abs=1e-3)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: clv.derl(-1, 15.2, 0.1, 1), "alpha"),
        (lambda: clv.derl(3.8, 0, 0.1, 1), "beta"),
        (lambda: clv.derl(3.8, 15.2, -0.1, 1), "discount"),
        (lambda: clv.derl(3.8, 15.2, 0.1, 0), "n must be a whole number"),
        (lambda: clv.derl(3.8, 15.2, 0.1, 1.5), "n must be a whole number"),
        (lambda: clv.del_sbg(3.8, np.nan, 0.1), "beta"),
    ],
)
def test_derl_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ----- customer equity ----------------------------------------------------------------
def test_customer_equity_is_the_sum_of_derls():
    active = [1000, 631, 468, 0, 326]
    expected = sum(
        count * 100 * clv.derl(0.704, 1.182, 0.1, k + 1) for k, count in enumerate(active)
    )
    assert clv.customer_equity(0.704, 1.182, 0.1, active, margin=100) == pytest.approx(expected)
    with_payment = clv.customer_equity(
        0.704, 1.182, 0.1, active, margin=100, include_current_payment=True
    )
    assert with_payment == pytest.approx(expected + 100 * sum(active))


def test_ignoring_heterogeneity_undervalues_the_base():
    # Fader & Hardie (2010): valuing a mixed-tenure base with the single retention rate it
    # shows in aggregate biases its residual value downwards. Base: five yearly cohorts of
    # 1,000 customers each, survivors as the sBG expects.
    alpha, beta, discount = 3.80, 15.20, 0.10
    active = 1000 * _survival(alpha, beta, np.arange(5))
    rate = clv.aggregate_retention_rate(alpha, beta, active)
    pooled = np.dot(active, (beta + np.arange(5)) / (alpha + beta + np.arange(5))) / active.sum()
    assert rate == pytest.approx(pooled)
    right = clv.customer_equity(alpha, beta, discount, active)
    naive = clv.constant_retention_equity(active.sum(), rate, discount)
    assert naive < right
    assert 0.05 < 1 - naive / right < 0.5


def test_customer_equity_extremes_and_bad_input():
    assert clv.customer_equity(3.8, 15.2, 0.1, [0, 0]) == 0.0
    assert np.isinf(clv.customer_equity(0.7, 1.2, 0.0, [10]))
    with pytest.raises(ValueError, match=r"period 2\) has -5"):
        clv.customer_equity(3.8, 15.2, 0.1, [10, -5])
    with pytest.raises(ValueError, match="1-d"):
        clv.customer_equity(3.8, 15.2, 0.1, [[1, 2]])
    with pytest.raises(ValueError, match="no customers"):
        clv.aggregate_retention_rate(3.8, 15.2, [0, 0])
