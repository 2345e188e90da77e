"""Checks for notebook 10, customer-centric CRM in practice (CDNOW, 52 weeks, a simulated
randomised retention campaign)."""

from __future__ import annotations

from functools import cache
from typing import Any

import pandas as pd

import crmlab as cl
from crmlab.exercises._core import Feedback, exercise, number

BUDGET, COST, ASSUMED_UPLIFT, LIST_LENGTH = 500, 2, 0.10, 250


@cache
def _world() -> dict[str, Any]:
    """Everything the notebook builds before its exercises, built the same way."""
    summary = cl.cdnow.calibration()
    purchases = cl.models.ParetoNBD().fit(summary)
    spend = cl.models.GammaGamma().fit(summary)
    value = cl.targeting.expected_customer_value(
        purchases, spend, summary, horizon=52, discount=(0.10, "Y"), margin=0.3
    )
    p_alive = pd.Series(
        purchases.p_alive(*(summary[c].to_numpy() for c in ("x", "t_x", "T"))),
        index=summary.index,
        name="p_alive",
    )
    naive = cl.targeting.plan_campaign(
        value, budget=BUDGET, cost_per_customer=COST, uplift=ASSUMED_UPLIFT
    )
    trial = cl.simulate.retention_campaign(p_alive, max_uplift=0.10, seed=2018)
    return {
        "value": value,
        "p_alive": p_alive,
        "naive": naive,
        "targeted": naive.customers["targeted"].reindex(value.index),
        "trial": trial,
        "true_increment": trial["uplift"] * value / p_alive,
    }


def _uplift(trial: pd.DataFrame) -> float:
    treated = trial["treated"]
    return float(trial.loc[treated, "retained"].mean() - trial.loc[~treated, "retained"].mean())


# ----- Exercise 1 ---------------------------------------------------------------------
def _half() -> dict[str, float]:
    ranked = _world()["value"].sort_values(ascending=False, kind="stable")
    share = ranked.cumsum() / ranked.sum()
    count = int((share < 0.5).sum()) + 1
    return {"count": count, "below": count - 1, "share": count / len(ranked)}


@exercise(
    "practice_half_value_count",
    hints=[
        "rank customers from the most to the least valuable and add up their values as "
        "you go down the list.",
        "cumulative_share holds, for each rank, the share of value held so far; you need "
        "the first rank at which it reaches 0.5.",
        "int((cumulative_share < 0.5).sum()) + 1",
    ],
    right=lambda: [_half()["count"]],
    wrong=lambda: [(_half()["below"], "still short"), (_half()["share"], "count")],
)
def _half_value_count(answer: object) -> Feedback | None:
    """Smallest number of customers holding at least half of the total expected value."""
    h = _half()
    return number(
        answer,
        h["count"],
        decimals=0,
        correct=f"{h['count']} customers, {h['share']:.1%} of the base, hold half the value.",
        mistakes=[
            (
                h["below"],
                "those customers hold just under half; one more is needed, so you are still "
                "short by one.",
            ),
            (h["share"], "that is a share of the customers; the question asks for a count."),
        ],
    )


# ----- Exercise 2 ---------------------------------------------------------------------
def _overall() -> dict[str, float]:
    trial = _world()["trial"]
    treated = trial["treated"]
    contacted = float(trial.loc[treated, "retained"].mean())
    control = float(trial.loc[~treated, "retained"].mean())
    return {
        "uplift": contacted - control,
        "ratio": contacted / control,
        "contacted": contacted,
        "true": float(trial["uplift"].mean()),
    }


@exercise(
    "practice_overall_uplift",
    hints=[
        "what the campaign changes is the difference between the contacted and the "
        "customers left alone, who show what would have happened anyway.",
        "split the trial on the 'treated' column and take the mean of 'retained' in each part.",
        "trial.loc[trial['treated'], 'retained'].mean() "
        "- trial.loc[~trial['treated'], 'retained'].mean()",
    ],
    right=lambda: [_overall()["uplift"], round(_overall()["uplift"], 3)],
    wrong=lambda: [
        (_overall()["true"], "uplift column"),
        (_overall()["ratio"], "ratio"),
        (_overall()["contacted"], "control"),
        (-_overall()["uplift"], "sign"),
        (100 * _overall()["uplift"], "percentage"),
    ],
)
def _overall_uplift(answer: object) -> Feedback | None:
    """Retention of the contacted minus retention of the control group (3 decimals)."""
    o = _overall()
    return number(
        answer,
        o["uplift"],
        decimals=3,
        fraction=True,
        correct=(
            f"{o['uplift']:.3f}: the campaign keeps about {100 * o['uplift']:.0f} more "
            "customers in a hundred than doing nothing."
        ),
        mistakes=[
            (
                o["true"],
                "that is the mean of the uplift column, which no real campaign shows; "
                "estimate it from 'treated' and 'retained'.",
            ),
            (
                o["ratio"],
                "that is the ratio of the two retention shares; the uplift is their difference.",
            ),
            (
                o["contacted"],
                "that is the retention of the contacted customers alone; subtract the "
                "control group's, which shows what happens without a contact.",
            ),
        ],
    )


# ----- Exercise 3 ---------------------------------------------------------------------
def _targets() -> dict[str, float]:
    world = _world()
    return {
        "uplift": _uplift(world["trial"][world["targeted"]]),
        "others": _uplift(world["trial"][~world["targeted"]]),
        "true": float(world["trial"].loc[world["targeted"], "uplift"].mean()),
    }


@exercise(
    "practice_uplift_of_targets",
    hints=[
        "the same comparison as in Exercise 2, on a smaller group of customers.",
        "keep the rows of the trial whose customer the plan targets (trial[targeted]), "
        "then compare contacted and control within them.",
        "chosen = trial[targeted]; chosen.loc[chosen['treated'], 'retained'].mean() "
        "- chosen.loc[~chosen['treated'], 'retained'].mean()",
    ],
    right=lambda: [_targets()["uplift"], round(_targets()["uplift"], 3)],
    wrong=lambda: [
        (_overall()["uplift"], "over everyone"),
        (_targets()["others"], "NOT target"),
        (_targets()["true"], "uplift column"),
    ],
)
def _uplift_of_targets(answer: object) -> Feedback | None:
    """Uplift in retention among the customers the value-ranked plan targets (3 decimals)."""
    t = _targets()
    return number(
        answer,
        t["uplift"],
        decimals=3,
        fraction=True,
        correct=(
            f"{t['uplift']:.3f} against {_overall()['uplift']:.3f} for everyone: the "
            "customers the value ranking picks are among those the campaign moves least."
        ),
        mistakes=[
            (
                _overall()["uplift"],
                "that is the uplift over everyone (Exercise 2); keep only the targeted rows.",
            ),
            (
                t["others"],
                "that is the uplift among the customers the plan does NOT target; keep "
                "those with targeted True.",
            ),
            (
                t["true"],
                "that is the mean of the uplift column, which a real campaign never shows; "
                "estimate it from 'treated' and 'retained'.",
            ),
        ],
    )


# ----- Exercise 4 ---------------------------------------------------------------------
def _overlap() -> dict[str, float]:
    world = _world()
    top_value = world["value"].sort_values(ascending=False, kind="stable").index[:LIST_LENGTH]
    top_increment = (
        world["true_increment"].sort_values(ascending=False, kind="stable").index[:LIST_LENGTH]
    )
    top_uplift = world["trial"]["uplift"].sort_values(ascending=False, kind="stable")
    return {
        "both": len(set(top_value) & set(top_increment)),
        "uplift_only": len(set(top_value) & set(top_uplift.index[:LIST_LENGTH])),
        "share": len(set(top_value) & set(top_increment)) / LIST_LENGTH,
    }


@exercise(
    "practice_top_lists_overlap",
    hints=[
        "two lists of 250 customers; the question is how many names appear on both.",
        "sort each Series from highest to lowest, keep the index of the first 250, and "
        "intersect the two sets of customer ids.",
        "len(set(value.sort_values(ascending=False, kind='stable').index[:250]) & "
        "set(true_increment.sort_values(ascending=False, kind='stable').index[:250]))",
    ],
    right=lambda: [_overlap()["both"]],
    wrong=lambda: [
        (_overlap()["uplift_only"], "highest uplifts"),
        (_overlap()["share"], "share"),
        (LIST_LENGTH, "identical"),
    ],
)
def _top_lists_overlap(answer: object) -> Feedback | None:
    """Customers both among the 250 most valuable and the 250 with most true increment."""
    o = _overlap()
    return number(
        answer,
        o["both"],
        decimals=0,
        correct=(
            f"{o['both']} of 250: fewer than half of the most valuable customers are among "
            "those where a contact adds most."
        ),
        mistakes=[
            (
                o["uplift_only"],
                "that compares with the 250 highest uplifts in retention (the 'uplift' "
                "column); the question asks for the incremental value, uplift times value "
                "if kept (true_increment).",
            ),
            (o["share"], "that is a share of the list; the question asks for a count."),
            (
                LIST_LENGTH,
                "the two lists are not identical: sort each by its own column and compare "
                "the customer ids.",
            ),
        ],
    )


def _dollars(amount: float) -> str:
    return f"-${-amount:,.0f}" if amount < 0 else f"${amount:,.0f}"


# ----- Exercises 5 and 6 --------------------------------------------------------------
def _returns() -> dict[str, float]:
    world = _world()
    increment, targeted, naive = world["true_increment"], world["targeted"], world["naive"]
    at_risk = world["p_alive"].sort_values(kind="stable").index[:LIST_LENGTH]
    safest = world["p_alive"].sort_values(kind="stable").index[-LIST_LENGTH:]
    return {
        "naive": float(increment[targeted].sum() - naive.spend),
        "naive_gross": float(increment[targeted].sum()),
        "claimed": float(naive.expected_return),
        "risk": float(increment[at_risk].sum() - LIST_LENGTH * COST),
        "risk_gross": float(increment[at_risk].sum()),
        "safest": float(increment[safest].sum() - LIST_LENGTH * COST),
    }


@exercise(
    "practice_naive_true_return",
    hints=[
        "a campaign's return is what the contacts add minus what they cost; 'add' now "
        "means the true increment, not the assumed 10%.",
        "true_increment holds each customer's added value; 'targeted' marks the plan's "
        "customers; naive.spend is the cost.",
        "true_increment[targeted].sum() - naive.spend",
    ],
    right=lambda: [_returns()["naive"], round(_returns()["naive"])],
    wrong=lambda: [
        (_returns()["claimed"], "claimed"),
        (_returns()["naive_gross"], "cost"),
    ],
)
def _naive_true_return(answer: object) -> Feedback | None:
    """True return of the value-ranked plan: sum of true increments minus spend (dollars)."""
    r = _returns()
    return number(
        answer,
        r["naive"],
        decimals=0,
        correct=(
            f"${r['naive']:,.0f} against the ${r['claimed']:,.0f} it claimed: the 10% "
            "assumption overstated what the contacts add several times over."
        ),
        mistakes=[
            (
                r["claimed"],
                "that is what the plan claimed under its 10% assumption; use true_increment.",
            ),
            (r["naive_gross"], "that is what the contacts add; subtract their cost."),
        ],
    )


@exercise(
    "practice_high_risk_return",
    hints=[
        "most at risk means the lowest chance of still being a customer.",
        "sort p_alive from low to high, keep the first 250 customer ids, and add up their "
        "true increments; the contacts cost 250 x $2.",
        "true_increment[p_alive.sort_values(kind='stable').index[:250]].sum() - 500",
    ],
    right=lambda: [_returns()["risk"], round(_returns()["risk"])],
    wrong=lambda: [
        (_returns()["safest"], "highest"),
        (_returns()["risk_gross"], "cost"),
    ],
)
def _high_risk_return(answer: object) -> Feedback | None:
    """True return of contacting the 250 customers with the lowest P(alive) (dollars)."""
    r = _returns()
    return number(
        answer,
        r["risk"],
        decimals=0,
        correct=(
            f"{_dollars(r['risk'])}: the customers most likely to leave are hard to keep, "
            "and the campaign does not pay for itself."
        ),
        mistakes=[
            (
                r["safest"],
                "that takes the 250 with the highest P(alive), the safest customers; sort "
                "from low to high.",
            ),
            (r["risk_gross"], "that is what the contacts add; subtract their cost ($500)."),
        ],
    )
