"""Checks for notebook 03, from product focus to customer focus (default simulation)."""

from __future__ import annotations

import crmlab as cl
from crmlab.exercises._core import Feedback, exercise, number


def _year_ten(column: str, firm: str) -> float:
    table = cl.simulate.simulate_firms()
    row = table[(table["firm"] == firm) & (table["year"] == 10)]
    return float(row[column].iloc[0])


@exercise(
    "focus_customers_year_ten",
    hints=[
        "each firm's base is last year's customers kept, plus this year's new ones.",
        "the simulation table has one row per firm and year; you need one cell of it.",
        "firms[(firms['firm'] == 'customer focus') & (firms['year'] == 10)]['customers']",
    ],
    right=lambda: [_year_ten("customers", "customer focus"), 1077],
    wrong=lambda: [(_year_ten("customers", "product focus"), "product-focused")],
)
def _customers(answer: object) -> Feedback | None:
    """Customers of the customer-focused firm at the end of year 10 (default simulation)."""
    return number(
        answer,
        _year_ten("customers", "customer focus"),
        decimals=1,
        mistakes=[
            (
                _year_ten("customers", "product focus"),
                "that is the product-focused firm; the question asks about customer focus.",
            )
        ],
    )


@exercise(
    "focus_equity_breakeven",
    hints=[
        "equity rewards retention more than head counts do, so its break-even lies lower.",
        "retention_crossover finds the retention rate at which the two firms are level.",
        "cl.simulate.retention_crossover(metric='customer_equity').breakeven_retention",
    ],
    right=lambda: [
        cl.simulate.retention_crossover(metric="customer_equity").breakeven_retention,
        0.707,
    ],
    wrong=lambda: [
        (cl.simulate.retention_crossover(metric="customers").breakeven_retention, "customers"),
        (70.7, "percentage"),
    ],
)
def _breakeven(answer: object) -> Feedback | None:
    """Retention rate from which the customer-focused firm's equity matches in year 10."""
    expected = cl.simulate.retention_crossover(metric="customer_equity").breakeven_retention
    customers = cl.simulate.retention_crossover(metric="customers").breakeven_retention
    return number(
        answer,
        expected,
        decimals=3,
        fraction=True,
        correct=f"a retention rate of {expected:.3f} is enough.",
        mistakes=[
            (customers, "that is the break-even on customers; the question is about equity.")
        ],
    )


@exercise(
    "focus_overtake_year",
    hints=[
        "the customer-focused firm starts behind and catches up as retention compounds.",
        "the first year in which its customers are at least the product firm's.",
        "cl.simulate.retention_crossover(metric='customers').year",
    ],
    right=lambda: [cl.simulate.retention_crossover(metric="customers").year],
    wrong=lambda: [(cl.simulate.retention_crossover(metric="customers").year - 1, "early")],
)
def _overtake(answer: object) -> Feedback | None:
    """First year in which the customer-focused firm has at least as many customers."""
    expected = cl.simulate.retention_crossover(metric="customers").year
    return number(
        answer,
        expected,
        decimals=0,
        correct=f"year {expected}.",
        mistakes=[(expected - 1, "one year early: in that year the product firm still leads.")],
    )
