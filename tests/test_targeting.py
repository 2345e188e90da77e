"""Campaign targeting by CLV: ranking, budget, profitability, and the value per customer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmlab.models import BGNBD, GammaGamma
from crmlab.targeting import expected_customer_value, plan_campaign

values_strategy = st.lists(st.floats(0, 1e4), min_size=1, max_size=50)


@given(
    values=values_strategy,
    budget=st.floats(0, 1e5),
    cost=st.floats(0.01, 100),
    uplift=st.floats(0, 1),
)
def test_plan_respects_budget_and_only_targets_profitable_best_customers(
    values, budget, cost, uplift
):
    plan = plan_campaign(values, budget=budget, cost_per_customer=cost, uplift=uplift)
    chosen = plan.customers[plan.customers["targeted"]]
    assert plan.spend <= budget + 1e-9
    assert (chosen["net_value"] > 0).all()
    # nobody left out is better than someone chosen
    left = plan.customers[~plan.customers["targeted"]]
    if len(chosen) and len(left):
        assert left["incremental_value"].max() <= chosen["incremental_value"].min()
    assert plan.expected_return == pytest.approx(
        chosen["incremental_value"].sum() - len(chosen) * cost, abs=1e-6
    )
    assert plan.expected_return >= -1e-9


def test_budget_or_profitability_limits_the_plan():
    values = [100.0, 90.0, 80.0, 1.0]
    by_budget = plan_campaign(values, budget=20, cost_per_customer=10, uplift=0.5)
    assert by_budget.n_targeted == 2 and by_budget.limited_by == "budget"
    by_profit = plan_campaign(values, budget=1000, cost_per_customer=10, uplift=0.5)
    assert by_profit.n_targeted == 3 and by_profit.limited_by == "profitability"
    assert by_profit.roi == pytest.approx((135 - 30) / 30)
    free = plan_campaign(values, budget=0, cost_per_customer=0, uplift=0.1)
    assert free.n_targeted == 4 and np.isnan(free.roi)


def test_plan_keeps_customer_ids_and_cumulative_return():
    values = pd.Series([5.0, 50.0, 20.0], index=["x", "y", "z"])
    plan = plan_campaign(values, budget=100, cost_per_customer=1, uplift=0.1)
    assert plan.customers.index.tolist() == ["y", "z", "x"]
    np.testing.assert_allclose(plan.customers["cumulative_return"], [4.0, 5.0, 4.5])


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"budget": -1}, "budget"),
        ({"cost_per_customer": float("nan")}, "cost_per_customer"),
        ({"uplift": float("inf")}, "uplift"),
    ],
)
def test_bad_campaign_input_names_the_argument(arguments, named):
    kwargs = {"budget": 10, "cost_per_customer": 1, "uplift": 0.1, **arguments}
    with pytest.raises(ValueError, match=named):
        plan_campaign([1.0, 2.0], **kwargs)
    with pytest.raises(ValueError, match="clv"):
        plan_campaign([1.0, -2.0], budget=1, cost_per_customer=1, uplift=0.1)


@pytest.fixture(scope="module")
def published_models():
    bg = BGNBD().set_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    gg = GammaGamma().set_params(p=6.25, q=3.74, gamma=15.44)
    return bg, gg


def test_undiscounted_value_is_expected_purchases_times_expected_spend(published_models):
    bg, gg = published_models
    summary = pd.DataFrame(
        {
            "x": [2, 0, 10],
            "t_x": [30.43, 0, 38.0],
            "T": [38.86, 38.86, 38.86],
            "monetary": [22.35, np.nan, 40.0],
        }
    )
    value = expected_customer_value(bg, gg, summary, horizon=39, margin=0.5)
    expected = (
        0.5
        * bg.conditional_expected_purchases(39, summary["x"], summary["t_x"], summary["T"])
        * gg.conditional_expected_spend(summary["x"], summary["monetary"])
    )
    np.testing.assert_allclose(value, expected, rtol=1e-10)
    # discounting lowers every value, and more so for a longer horizon's later weeks
    discounted = expected_customer_value(bg, gg, summary, horizon=39, margin=0.5, discount=0.01)
    assert (discounted < value).all()


def test_value_needs_the_summary_columns(published_models):
    bg, gg = published_models
    with pytest.raises(ValueError, match="monetary"):
        expected_customer_value(bg, gg, pd.DataFrame({"x": [1], "t_x": [1], "T": [2]}))
    with pytest.raises(ValueError, match="horizon"):
        expected_customer_value(
            bg, gg, pd.DataFrame({"x": [1], "t_x": [1], "T": [2], "monetary": [3]}), horizon=0
        )
