"""Checks for notebook 03, from product focus to customer focus (default simulation)."""

from __future__ import annotations

import crmlab as cl
from crmlab.exercises._core import Feedback, exercise, is_close


def _year_ten(column: str, firm: str) -> float:
    table = cl.simulate.simulate_firms()
    row = table[(table["firm"] == firm) & (table["year"] == 10)]
    return float(row[column].iloc[0])


@exercise("focus_customers_year_ten")
def _customers(answer: object) -> Feedback:
    """Customers of the customer-focused firm at the end of year 10 (default simulation)."""
    expected = _year_ten("customers", "customer focus")
    if is_close(answer, expected, rel=1e-6):
        return Feedback.correct(f"{expected:,.1f} customers.")
    if is_close(answer, _year_ten("customers", "product focus"), rel=1e-6):
        return Feedback.wrong("that is the product-focused firm; pick firm == 'customer focus'.")
    return Feedback.wrong(
        "filter the table on firm 'customer focus' and year 10, column 'customers'."
    )


@exercise("focus_equity_breakeven")
def _breakeven(answer: object) -> Feedback:
    """Retention rate from which the customer-focused firm's equity matches in year 10."""
    expected = cl.simulate.retention_crossover(metric="customer_equity").breakeven_retention
    customers = cl.simulate.retention_crossover(metric="customers").breakeven_retention
    if is_close(answer, expected, rel=1e-3):
        return Feedback.correct(f"a retention rate of {expected:.3f} is enough.")
    if is_close(answer, customers, rel=1e-3):
        return Feedback.wrong("that is the break-even on customers; the question is about equity.")
    return Feedback.wrong(
        "call retention_crossover(metric='customer_equity') and read breakeven_retention."
    )


@exercise("focus_overtake_year")
def _overtake(answer: object) -> Feedback:
    """First year in which the customer-focused firm has at least as many customers."""
    expected = cl.simulate.retention_crossover(metric="customers").year
    if answer == expected:
        return Feedback.correct(f"year {expected}.")
    if isinstance(answer, int) and answer == expected - 1:
        return Feedback.wrong("one year early: in that year the product firm still leads.")
    return Feedback.wrong("use retention_crossover(metric='customers').year.")
