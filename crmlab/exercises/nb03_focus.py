"""Checks for notebook 03, from product focus to customer focus (default simulation).

The two firms are those of :func:`crmlab.simulate.simulate_firms` with its defaults:
budget 100,000 a year, acquisition shares 0.8 and 0.4, retention 0.6 and 0.9, margin
200, acquisition cost 250, discount 0.10. Every expected value is computed from crmlab.
"""

from __future__ import annotations

from functools import cache

import crmlab as cl
from crmlab.exercises._core import Feedback, choice, exercise, number

_PRODUCT, _CUSTOMER = "product focus", "customer focus"


@cache
def _firms(horizon: int = 10):
    return cl.simulate.simulate_firms(horizon=horizon)


def _at(column: str, firm: str, year: int, horizon: int = 10) -> float:
    table = _firms(horizon)
    return float(table.loc[(table["firm"] == firm) & (table["year"] == year), column].iloc[0])


def _long_run(firm: str) -> float:
    # Far enough out that the base has settled to many digits: 0.9 ** 400 is negligible.
    return _at("customers", firm, 400, horizon=400)


def _first_year_at(firm: str, share: float) -> int:
    table = _firms(400)
    path = table[table["firm"] == firm].set_index("year")["customers"]
    return int(path.index[path >= share * _long_run(firm)][0])


@exercise(
    "focus_steady_state_customers",
    hints=[
        "in the long run the base stops growing: the customers lost each year equal the "
        "customers won.",
        "set N_t = N_{t-1} = N* in the recursion and solve for N*; A is the budget for "
        "acquisition divided by the cost of one customer.",
        "A = 100_000 * 0.4 / 250, then answer = A / (1 - 0.9)",
    ],
    right=lambda: [_long_run(_CUSTOMER), 1600],
    wrong=lambda: [
        (_long_run(_PRODUCT), "product-focused"),
        (_at("customers", _CUSTOMER, 10), "year 10"),
        (160 / 0.9, "1 - r"),
        (160, "new customers"),
    ],
)
def _steady_state(answer: object) -> Feedback | None:
    """Long-run number of customers N* of the customer-focused firm."""
    acquired = _at("new_customers", _CUSTOMER, 1)
    return number(
        answer,
        _long_run(_CUSTOMER),
        decimals=0,
        correct=f"N* = A / (1 - r) = {acquired:.0f} / 0.1 = {_long_run(_CUSTOMER):,.0f}.",
        mistakes=[
            (_long_run(_PRODUCT), "that is the product-focused firm's N*; use r = 0.9, s = 0.4."),
            (
                _at("customers", _CUSTOMER, 10),
                "that is the base in year 10, still growing; N* is where it levels off.",
            ),
            (acquired / 0.9, "divide A by the share LOST each year, 1 - r, not by r."),
            (acquired, "that is A, the new customers of one year; the base adds up many years."),
        ],
    )


@exercise(
    "focus_years_to_ninety",
    hints=[
        "the gap to the long-run base shrinks by the factor r every year.",
        "solve N* - r^t (N* - N_0) >= 0.9 N* for t, or follow the simulation far beyond "
        "year 10; the answer is a whole year.",
        "firms_long = cl.simulate.simulate_firms(horizon=40), then the first year in which "
        "the customer firm's customers >= 0.9 * 1600",
    ],
    right=lambda: [_first_year_at(_CUSTOMER, 0.9)],
    wrong=lambda: [
        (_first_year_at(_CUSTOMER, 0.9) - 1, "next whole year"),
        (_first_year_at(_PRODUCT, 0.9), "product-focused"),
        (10, "horizon"),
    ],
)
def _years_to_ninety(answer: object) -> Feedback | None:
    """First year in which the customer-focused firm has at least 90% of its N*."""
    expected = _first_year_at(_CUSTOMER, 0.9)
    return number(
        answer,
        expected,
        decimals=0,
        correct=f"year {expected}: after ten years the firm is far from its long run.",
        mistakes=[
            (
                expected - 1,
                "the formula crosses 90% a little after that year; the base is counted at "
                "the end of each year, so the answer is the next whole year.",
            ),
            (_first_year_at(_PRODUCT, 0.9), "that is the product-focused firm (r = 0.6)."),
            (10, "10 is the horizon of the table, not the year the base reaches 90%."),
        ],
    )


_PROFIT_OPTIONS = {
    "a": "the customer-focused firm has not earned more yet: compare cumulative_profit of "
    "the two firms in year 10.",
    "b": "the product-focused firm has earned more so far; the customer-focused firm's lead "
    "is in what its customers will bring later, its equity.",
    "c": "they are not level: compare cumulative_profit of the two firms in year 10.",
}


@exercise(
    "focus_profit_leader",
    hints=[
        "profit so far is margin earned minus marketing spent, discounted, summed to year 10.",
        "the table has a column cumulative_profit; compare the two firms in year 10.",
        "firms[firms['year'] == 10][['firm', 'cumulative_profit']]",
    ],
    right=["b", "B"],
    wrong=[("a", "cumulative_profit"), ("c", "not level"), (2, "letter")],
)
def _profit_leader(answer: object) -> Feedback:
    """Which firm has the larger discounted profit summed over years 1-10? ('a', 'b' or 'c')"""
    # The options state the result; confirm it from the simulation so the text stays true.
    product = _at("cumulative_profit", _PRODUCT, 10)
    customer = _at("cumulative_profit", _CUSTOMER, 10)
    right = "b" if product > customer else "a"
    return choice(answer, right, _PROFIT_OPTIONS)


def _breakeven(metric: str) -> float:
    return float(cl.simulate.retention_crossover(metric=metric).breakeven_retention)


@exercise(
    "focus_equity_breakeven",
    hints=[
        "the customer-focused firm's equity in year 10 grows with its retention rate, so "
        "there is one rate at which it equals the product firm's.",
        "bisection: keep an interval [low, high] with the answer inside; simulate at the "
        "middle and keep the half where the sign of the difference changes.",
        "equity = lambda r: simulate_firms(retention=(0.6, r)) ... year 10, customer "
        "focus; halve [0, 1] about 20 times",
    ],
    right=lambda: [_breakeven("customer_equity"), 0.707],
    wrong=lambda: [
        (_breakeven("customers"), "customers"),
        (100 * _breakeven("customer_equity"), "percentage"),
        (0.9, "retention it has"),
    ],
)
def _equity_breakeven(answer: object) -> Feedback | None:
    """Retention rate from which the customer-focused firm's equity matches in year 10."""
    expected = _breakeven("customer_equity")
    return number(
        answer,
        expected,
        decimals=3,
        fraction=True,
        correct=f"a retention rate of {expected:.3f} is enough: retained customers are "
        "worth more than their head count.",
        mistakes=[
            (
                _breakeven("customers"),
                "that is the break-even on customers; the question is about equity.",
            ),
            (0.9, "0.9 is the retention it has; the question asks for the least it needs."),
        ],
    )


def _net_equity(firm: str, timing: str = "end") -> float:
    keep = {_PRODUCT: 0.6, _CUSTOMER: 0.9}[firm]
    customers = _at("customers", firm, 10)
    spend = _at("retention_spend_per_customer", firm, 10)
    return float(customers * cl.clv.simple_clv(200 - spend, keep, 0.10, timing=timing))


def _net_ratio(timing: str = "end") -> float:
    return _net_equity(_CUSTOMER, timing) / _net_equity(_PRODUCT, timing)


def _gross_ratio() -> float:
    return _at("customer_equity", _CUSTOMER, 10) / _at("customer_equity", _PRODUCT, 10)


@exercise(
    "focus_net_equity_ratio",
    hints=[
        "each customer costs the firm its share of the non-acquisition budget every year "
        "she stays; take it off her margin before valuing her.",
        "the column retention_spend_per_customer gives rho; value a customer at "
        "(m - rho) r / (1 + d - r), then multiply by the customers of year 10.",
        "net = customers * cl.clv.simple_clv(200 - rho, r, 0.10, timing='end') for each "
        "firm in year 10; answer = net_customer / net_product",
    ],
    right=lambda: [_net_ratio(), round(_net_ratio(), 2)],
    wrong=lambda: [
        (_gross_ratio(), "gross"),
        (1 / _net_ratio(), "upside down"),
        (_net_ratio("beginning"), "timing"),
        (_net_equity(_CUSTOMER), "one firm"),
    ],
)
def _net_equity_ratio(answer: object) -> Feedback | None:
    """Net customer equity of the customer-focused firm over the product firm's, year 10."""
    expected = _net_ratio()
    return number(
        answer,
        expected,
        decimals=2,
        correct=f"{expected:.2f}: still far ahead, but not the {_gross_ratio():.1f} times "
        "of the gross equity.",
        mistakes=[
            (_gross_ratio(), "that is the gross ratio; subtract the spending that keeps them."),
            (1 / _net_ratio(), "upside down: customer focus over product focus."),
            (
                _net_ratio("beginning"),
                "that counts this year's margin again (beginning timing); the customers of "
                "year 10 have paid it: use the end timing, m r / (1 + d - r).",
            ),
            (_net_equity(_CUSTOMER), "that is one firm's net equity; divide by the other's."),
        ],
    )


def _worth_at_acquisition(retention: float) -> float:
    return float(cl.clv.max_acquisition_cost(200, retention, 0.10, timing="beginning"))


_CHANNEL_OPTIONS = {
    "a": "the product firm's new customers are worth less than $500 at acquisition: "
    "with 60% retention they bring m (1 + d) / (1 + d - r) in all.",
    "b": "a customer kept at 90% is worth m (1 + d) / (1 + d - r) = $1,100 at acquisition, "
    "one kept at 60% only $440: $500 pays for the first, not the second.",
    "c": "the customer-focused firm's new customers are worth more than $500 at "
    "acquisition; compute m (1 + d) / (1 + d - r) with r = 0.9.",
    "d": "it is the other way round: compute m (1 + d) / (1 + d - r) for r = 0.6 and 0.9.",
}


@exercise(
    "focus_channel_decision",
    hints=[
        "a new customer is worth the discounted margins she will bring, her first one "
        "included; buying her pays when that exceeds the price.",
        "use the value at acquisition (beginning timing) for r = 0.6 and for r = 0.9.",
        "cl.clv.max_acquisition_cost(200, r, 0.10, timing='beginning') for r = 0.6 and 0.9",
    ],
    right=["b"],
    wrong=[("a", "$500"), ("c", "r = 0.9"), ("d", "other way"), ("yes", "letter")],
)
def _channel(answer: object) -> Feedback:
    """A channel sells customers at $500 each: which firm should buy? ('a' to 'd')"""
    product, customer = _worth_at_acquisition(0.6), _worth_at_acquisition(0.9)
    right = {(False, True): "b", (True, True): "a", (False, False): "c"}.get(
        (product > 500, customer > 500), "d"
    )
    return choice(answer, right, _CHANNEL_OPTIONS)


def _payback(retention: float, cost: float, discount: float = 0.10) -> int | None:
    """First year whose cumulative expected discounted margin covers ``cost``."""
    for years in range(1, 500):
        worth = cl.clv.simple_clv(200, retention, discount, timing="beginning", horizon=years)
        if float(worth) >= cost:
            return years
    return None


@exercise(
    "focus_payback_years",
    hints=[
        "payback is the first year in which what the customer has brought so far, "
        "discounted and weighted by the chance she is still there, covers her price.",
        "year k (k = 1, 2, ...) brings m (r / (1 + d))^(k - 1); add them up until the sum "
        "reaches $500.",
        "cl.clv.simple_clv(200, 0.9, 0.10, timing='beginning', horizon=n) for n = 1, 2, ...",
    ],
    right=lambda: [_payback(0.9, 500)],
    wrong=lambda: [
        (_payback(0.9, 500, discount=0.0), "discount"),
        (_payback(0.9, 250), "$250"),
    ],
)
def _payback_years(answer: object) -> Feedback | None:
    """Payback year of a customer-focused firm's customer bought at $500 (r = 0.9)."""
    expected = _payback(0.9, 500)
    return number(
        answer,
        expected,
        decimals=0,
        correct=f"year {expected}: the $500 comes back in the customer's {expected}th year.",
        mistakes=[
            (
                _payback(0.9, 500, discount=0.0),
                "that ignores the discount: a dollar in year k is worth 1 / (1 + d)^(k - 1) today.",
            ),
            (_payback(0.9, 250), "that is the payback at the usual $250; the channel asks $500."),
        ],
    )
