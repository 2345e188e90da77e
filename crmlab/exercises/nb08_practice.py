"""Checks for notebook 08, customer-centric CRM in practice (CDNOW, 52 weeks)."""

from __future__ import annotations

from functools import cache

import crmlab as cl
from crmlab.exercises._core import Feedback, exercise, is_close


@cache
def _values():
    summary = cl.transactions.summarize(cl.datasets.load_cdnow("sample"), "1997-09-30", unit="W")
    purchases = cl.models.BGNBD().fit(summary)
    spend = cl.models.GammaGamma().fit(summary)
    weekly = 1.10 ** (7 / 365.25) - 1
    return cl.targeting.expected_customer_value(
        purchases, spend, summary, horizon=52, discount=weekly, margin=0.3
    )


def _top_share() -> float:
    ranked = _values().sort_values(ascending=False)
    return float(ranked.iloc[: len(ranked) // 10].sum() / ranked.sum())


def _plan():
    return cl.targeting.plan_campaign(_values(), budget=500, cost_per_customer=2, uplift=0.10)


@exercise(
    "practice_top_decile_share",
    hints=["sort the values in descending order, sum the first 10%, divide by the total."],
    right=lambda: [_top_share()],
    wrong=[(56.7, "percentage")],
)
def _top_decile(answer: object) -> Feedback | None:
    """Share of total expected value held by the 10% most valuable customers."""
    ranked = _values().sort_values(ascending=False)
    top = ranked.iloc[: len(ranked) // 10].sum() / ranked.sum()
    if is_close(answer, top, rel=5e-3):
        return Feedback.correct(f"{top:.1%} of the value sits with a tenth of the customers.")
    if is_close(answer, 100 * top, rel=5e-3):
        return Feedback.wrong("give a share between 0 and 1, not a percentage.")
    return None


@exercise(
    "practice_targeted_count",
    hints=["call plan_campaign(...) and read n_targeted."],
    right=lambda: [_plan().n_targeted],
    wrong=[(250, "budget allows")],
)
def _targeted(answer: object) -> Feedback | None:
    """Customers targeted with budget 500, cost 2 per contact, uplift 10%."""
    plan = cl.targeting.plan_campaign(_values(), budget=500, cost_per_customer=2, uplift=0.10)
    if answer == plan.n_targeted:
        return Feedback.correct(f"{plan.n_targeted} customers, limited by {plan.limited_by}.")
    if answer == 250:
        return Feedback.wrong("500 / 2 = 250 is what the budget allows; not all of them pay back.")
    return None


@exercise(
    "practice_campaign_return",
    hints=["read expected_return of the plan."],
    right=lambda: [_plan().expected_return],
    wrong=[(1243.45, "subtract")],
)
def _return(answer: object) -> Feedback | None:
    """Expected return of that campaign (incremental value minus spend)."""
    plan = cl.targeting.plan_campaign(_values(), budget=500, cost_per_customer=2, uplift=0.10)
    if is_close(answer, plan.expected_return, rel=1e-3):
        return Feedback.correct(f"${plan.expected_return:,.0f}.")
    if is_close(answer, plan.incremental_value, rel=1e-3):
        return Feedback.wrong("that is the value added; subtract what the contacts cost.")
    return None
