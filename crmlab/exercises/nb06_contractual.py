"""Checks for notebook 06, CLV in contractual settings.

Every expected value comes from ``crmlab.clv`` and the sBG fits of crmlab itself. The
DERL check takes the learner's function and compares it with ``cl.clv.derl`` at several
points, so it cannot be satisfied by typing the published table.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

import crmlab as cl
from crmlab.exercises._core import Feedback, exercise, number
from crmlab.exercises.nb05_retention import _judge_function

# ----------------------------------------------------------------------- exercise 1

_M, _R, _D = 50, 0.75, 0.10


def _end_expected() -> float:
    return cl.clv.simple_clv(_M, _R, _D, timing="end")


@exercise(
    "clv_end_of_period",
    hints=[
        "With the end timing the first payment counted arrives one period from now, and "
        "only if she renews: every payment carries one more factor r / (1 + d) than with "
        "the beginning timing.",
        "Sum m (r / (1 + d))^t from t = 1 to infinity; the geometric series gives the "
        "second formula of section 1.",
        "clv_end = 50 * 0.75 / (1 + 0.10 - 0.75)",
    ],
    right=lambda: [_end_expected(), round(_end_expected(), 2)],
    wrong=lambda: [
        (cl.clv.simple_clv(_M, _R, _D, timing="beginning"), "payment today"),
        (_M / (1 - _R), "discount"),
        (_M * _R / (1 - _R), "discount"),
        (_M / (1 + _D - _R), "renew"),
        (_M * _R / (1 + 10 - _R), "10%"),
    ],
)
def _end_of_period(answer: object) -> Feedback | None:
    """CLV with margin 50, retention 0.75, discount 0.10, first payment at the end of period 1."""
    expected = _end_expected()
    return number(
        answer,
        expected,
        decimals=2,
        correct=(
            f"${expected:.2f}: m r / (1 + d - r), one margin less than the "
            f"${expected + _M:.2f} of the beginning timing."
        ),
        mistakes=[
            (
                cl.clv.simple_clv(_M, _R, _D, timing="beginning"),
                "that counts a payment today too; here the first payment comes at the end "
                "of period 1.",
            ),
            (_M / (1 - _R), "you forgot to discount: divide by (1 + d - r), not (1 - r)."),
            (
                _M * _R / (1 - _R),
                "the timing is right but you forgot to discount: the denominator is "
                "(1 + d - r), not (1 - r).",
            ),
            (
                _M / (1 + _D - _R),
                "the first payment arrives only if she renews: the numerator has the factor r.",
            ),
            (
                _M * _R / (1 + 10 - _R),
                "the discount rate went in as 10 (a percentage); 10% is d = 0.10.",
            ),
        ],
    )


# ----------------------------------------------------------------------- exercise 2


def _rate_for(extra: float, m: float = 80, r: float = 0.85, d: float = 0.12) -> float:
    """Retention at which the end-timing CLV is ``extra`` above its value at ``r``."""
    target = cl.clv.simple_clv(m, r, d, timing="end") + extra
    return target * (1 + d) / (m + target)


def _linear_rate() -> float:
    # Extrapolating the value of one point: ignores that each point is worth more.
    return 0.85 + 0.01 * 50 / cl.clv.retention_point_value(80, 0.85, 0.12, timing="end")


@exercise(
    "clv_rate_for_fifty",
    hints=[
        "The question runs the formula backwards: you know the CLV you want (today's plus "
        "$50) and look for the r that gives it.",
        "Set m r / (1 + d - r) = V with V = CLV_end(0.85) + 50 and solve for r: "
        "r (m + V) = V (1 + d).",
        "target_end = cl.clv.simple_clv(80, 0.85, 0.12, timing='end') + 50; "
        "new_rate_end = target_end * 1.12 / (80 + target_end)",
    ],
    right=lambda: [_rate_for(50), round(_rate_for(50), 3)],
    wrong=lambda: [
        (_rate_for(50) - 0.85, "increase"),
        (_linear_rate(), "each point"),
        (100 * _rate_for(50), "percentage"),
    ],
)
def _rate_for_fifty(answer: object) -> Feedback | None:
    """Retention that adds $50 to an end-timing CLV (m = 80, d = 0.12, r = 0.85), 3 decimals."""
    expected = _rate_for(50)
    return number(
        answer,
        expected,
        decimals=3,
        fraction=True,
        correct=(
            f"{expected:.3f}: {100 * (expected - 0.85):.1f} points of retention add $50, "
            "whichever the timing."
        ),
        mistakes=[
            (
                expected - 0.85,
                "that is the increase in retention; the question asks for the new rate.",
            ),
            (
                _linear_rate(),
                "that extrapolates the value of the first point in a straight line, but each "
                "point is worth more than the last, so fewer are needed: solve the formula.",
            ),
            (
                cl.clv.simple_clv(80, 0.85, 0.12, timing="end") + 50,
                "that is the target CLV; the question asks for the retention rate that gives it.",
            ),
        ],
    )


# ----------------------------------------------------------------------- exercise 3


def _derl(alpha: float, beta: float, discount: float, n: int) -> float:
    return float(cl.clv.derl(alpha, beta, discount, n))


def _derl_slip(alpha: float, beta: float, discount: float, n: int, slip: str) -> float:
    """DERL with one of the slips a learner may make when summing the series."""
    value = _derl(alpha, beta, discount, n)
    if slip == "discounted from sign-up":
        return value / (1 + discount) ** n
    if slip == "not conditioned":
        return value * float(np.exp(_log_survival(alpha, beta, n - 1)))
    if slip == "current payment":
        return 1 + value / (1 + discount)
    raise ValueError(slip)


def _log_survival(alpha: float, beta: float, t: int) -> float:
    from scipy import special

    return float(special.betaln(alpha, beta + t) - special.betaln(alpha, beta))


_DERL_POINTS = (
    (3.8, 15.2, 0.1, 1),
    (3.8, 15.2, 0.1, 3),
    (3.8, 15.2, 0.1, 5),
    (0.704, 1.182, 0.1, 8),
    (1.0, 2.0, 0.2, 2),
)


def _derl_wrong() -> list[tuple[Any, str]]:
    return [
        (lambda a, b, d, n: _derl_slip(a, b, d, n, "discounted from sign-up"), "(t - n)"),
        (lambda a, b, d, n: _derl_slip(a, b, d, n, "not conditioned"), "S(n - 1)"),
        (lambda a, b, d, n: _derl_slip(a, b, d, n, "current payment"), "t = n"),
        (lambda a, b, d, n: None, "None"),
        (3.59, "function itself"),
    ]


@exercise(
    "clv_derl_by_sum",
    hints=[
        "DERL adds up, from her next renewal on, the chance she is still a customer at "
        "each future period, each discounted back to now.",
        "For t = n, n + 1, ... the term is S(t) / S(n - 1) / (1 + d)^(t - n); with "
        "S(t) = B(alpha, beta + t) / B(alpha, beta) the ratio is "
        "exp(betaln(alpha, beta + t) - betaln(alpha, beta + n - 1)). Use a numpy array of "
        "t and sum.",
        "t = np.arange(n, n + terms); still_there = np.exp(special.betaln(alpha, beta + t) "
        "- special.betaln(alpha, beta + n - 1)); return float(np.sum(still_there / "
        "(1 + discount) ** (t - n)))",
    ],
    right=lambda: [_derl],
    wrong=_derl_wrong,
    scalar=False,
)
def _derl_by_sum(answer: object) -> Feedback | None:
    """derl_by_sum(alpha, beta, discount, n): DERL by summing its series, against crmlab."""
    points = [(args, 5e-4) for args in _DERL_POINTS]
    table = ", ".join(f"{_derl(3.8, 15.2, 0.1, n):.2f}" for n in range(1, 6))
    return _judge_function(
        answer,
        "derl_by_sum",
        _derl,
        points,
        [
            (
                lambda a, b, d, n: _derl_slip(a, b, d, n, "discounted from sign-up"),
                "you discounted from sign-up, (1 + d)^t; DERL stands at period n, so the "
                "discount factor is (1 + d)^(t - n) and the first term is not discounted.",
            ),
            (
                lambda a, b, d, n: _derl_slip(a, b, d, n, "not conditioned"),
                "you used S(t) itself; she has already lasted n - 1 periods, so divide by "
                "S(n - 1) to get the chance she is still there given that.",
            ),
            (
                lambda a, b, d, n: _derl_slip(a, b, d, n, "current payment"),
                "your sum starts at t = n - 1 and counts the current period's payment, "
                "which is already banked; start at t = n.",
            ),
        ],
        f"your sum agrees with cl.clv.derl at five points, including the paper's {table}.",
    )


# ----------------------------------------------------------------------- exercise 4


@cache
def _fit(group: str, last_year: int = 7) -> tuple[float, float]:
    counts = cl.datasets.load_survival()[group].loc[:last_year]
    params = cl.models.ShiftedBetaGeometric().fit(counts).params
    return params["alpha"], params["beta"]


def _alive(group: str) -> float:
    return float(cl.datasets.load_survival()[group].loc[7])


def _equity(group: str, n: int = 8, last_year: int = 7) -> float:
    alpha, beta = _fit(group, last_year)
    return _alive(group) * 100 * _derl(alpha, beta, 0.10, n)


def _naive_equity(group: str) -> float:
    counts = cl.datasets.load_survival()[group]
    rate = counts.loc[7] / counts.loc[6]
    return _alive(group) * rate * cl.clv.simple_clv(100, rate, 0.10, timing="beginning")


@exercise(
    "clv_high_end_equity",
    hints=[
        "Each survivor is worth the margin times her DERL; the base is worth the sum over "
        "its survivors, who all have the same tenure here.",
        "Fit ShiftedBetaGeometric to the High End counts of years 0-7; each of the "
        "survival['high_end'].loc[7] survivors is in her 8th period: 100 * derl(alpha, "
        "beta, 0.10, 8).",
        "m = cl.models.ShiftedBetaGeometric().fit(high_end.loc[:7]); high_end.loc[7] * 100 "
        "* cl.clv.derl(m.params['alpha'], m.params['beta'], 0.10, 8)",
    ],
    right=lambda: [_equity("high_end"), round(_equity("high_end"))],
    wrong=lambda: [
        (_naive_equity("high_end"), "latest retention"),
        (_equity("high_end", n=7), "8th"),
        (_equity("high_end") / _alive("high_end"), "per customer"),
        (_alive("high_end") * 100 * _derl(*_fit("regular"), 0.10, 8), "Regular"),
        (_equity("high_end", last_year=12), "years 0-7"),
    ],
)
def _high_end_equity(answer: object) -> Feedback | None:
    """sBG customer equity of the High End survivors at year 7 (m = 100, d = 0.10), to $10."""
    expected = _equity("high_end")
    naive = _naive_equity("high_end")
    return number(
        answer,
        expected,
        decimals=-1,
        correct=(
            f"${expected:,.0f}, about ${expected / _alive('high_end'):,.0f} for each of the "
            f"{_alive('high_end'):.0f} survivors."
        ),
        mistakes=[
            (
                naive,
                "that is the naive valuation with the latest retention rate; the question "
                "asks for the sBG's.",
            ),
            (
                _equity("high_end", n=7),
                "at year 7 a customer has renewed 7 times and is in her 8th period: n = 8.",
            ),
            (
                expected / _alive("high_end"),
                "that is the value per customer; multiply by the number of survivors.",
            ),
            (
                _alive("high_end") * 100 * _derl(*_fit("regular"), 0.10, 8),
                "those are the Regular group's parameters; fit the High End counts.",
            ),
            (
                _equity("high_end", last_year=12),
                "that fit uses all 12 years; value the base at year 7 with what was known "
                "then, years 0-7.",
            ),
        ],
    )


# ----------------------------------------------------------------------- exercise 5


def _del_value(group: str = "regular") -> float:
    alpha, beta = _fit(group)
    return 100 * float(cl.clv.del_sbg(alpha, beta, 0.10))


def _constant_value() -> float:
    counts = list(cl.datasets.load_survival()["regular"].loc[:7])
    rate = cl.retention.constant_retention_rate(counts)
    return cl.clv.simple_clv(100, rate, 0.10, timing="beginning")


@exercise(
    "clv_max_acquisition_regular",
    hints=[
        "The most one may pay for a customer is what she is expected to bring, in today's "
        "money, counting the margin paid at sign-up.",
        "That is the margin times DEL, evaluated at the Regular group's fitted alpha and "
        "beta (sbg.params) with d = 0.10.",
        "max_cost = 100 * cl.clv.del_sbg(sbg.params['alpha'], sbg.params['beta'], 0.10)",
    ],
    right=lambda: [_del_value(), round(_del_value(), 2)],
    wrong=lambda: [
        (_del_value() - 100, "sign-up"),
        (_constant_value(), "constant"),
        (_del_value("high_end"), "High End"),
        (100 * _derl(*_fit("regular"), 0.10, 1), "DERL"),
    ],
)
def _max_acquisition(answer: object) -> Feedback | None:
    """Most one may spend to acquire a Regular-type customer: m * DEL (m = 100, d = 0.10)."""
    expected = _del_value()
    return number(
        answer,
        expected,
        decimals=2,
        correct=(
            f"${expected:.2f}. One constant retention rate fitted to the same years would say "
            f"${_constant_value():.2f}."
        ),
        mistakes=[
            (
                expected - 100,
                "that leaves out the margin collected at sign-up: DEL counts the payment at t = 0.",
            ),
            (
                _constant_value(),
                "that uses one constant retention rate; the question asks for the sBG, "
                "which lets the survivors be the loyal customers.",
            ),
            (_del_value("high_end"), "those are the High End parameters; use Regular's."),
            (
                100 * _derl(*_fit("regular"), 0.10, 1),
                "that is 100 DERL(1), the value of a customer in her first period standing "
                "before her first renewal; at acquisition use DEL.",
            ),
        ],
    )


# ----------------------------------------------------------------------- exercise 6

_COST = 260.0


def _payback(discount: float = 0.10, group: str = "regular", constant: bool = False) -> int:
    """Year n of her life (year 1 pays at t = 0) by which the discounted margins reach $260."""
    t = np.arange(0, 200)
    if constant:
        counts = list(cl.datasets.load_survival()[group].loc[:7])
        survival = cl.retention.constant_retention_rate(counts) ** t
    else:
        alpha, beta = _fit(group)
        model = cl.models.ShiftedBetaGeometric().set_params(alpha=alpha, beta=beta)
        survival = model.survival(t)
    cumulative = np.cumsum(100 * survival / (1 + discount) ** t)
    return int(t[cumulative >= _COST][0]) + 1


@exercise(
    "clv_payback_year",
    hints=[
        "Add up, year by year, what the customer is expected to pay, discounted to today; "
        "payback is the first year in which the running total reaches the cost.",
        "Year n of her life pays at t = n - 1: its expected discounted margin is "
        "100 S(t) / 1.1^t with S(t) = sbg.survival(t); `np.cumsum` gives the running total, "
        "and year 1 is the year of sign-up (t = 0).",
        "t = np.arange(0, 40); cumulative = np.cumsum(100 * sbg.survival(t) / 1.10**t); "
        "int(t[cumulative >= 260][0]) + 1",
    ],
    right=lambda: [_payback()],
    wrong=lambda: [
        (_payback() - 1, "t = 0"),
        (_payback() - 1, "discounting"),
        (_payback() + 1, "one year"),
        (_payback(group="high_end"), "High End"),
    ],
)
def _payback_year(answer: object) -> Feedback | None:
    """Payback year of a $260 acquisition cost for a Regular-type customer (year 1 = sign-up)."""
    expected = _payback()
    alpha, beta = _fit("regular")
    model = cl.models.ShiftedBetaGeometric().set_params(alpha=alpha, beta=beta)
    t = np.arange(0, expected + 1)
    cumulative = np.cumsum(100 * model.survival(t) / 1.1**t)
    mistakes = {
        expected - 1: (
            f"by the end of year {expected - 1} of her life (payments at t = 0 to "
            f"{expected - 2}) the expected discounted margins add up to "
            f"${cumulative[expected - 2]:.0f}, still short of $260. If you counted years "
            "from t = 0, add one: year 1 is the year of sign-up. (Without discounting, or "
            "with one constant retention rate, the total would come earlier.)"
        ),
        expected + 1: (f"by year {expected} the total has already passed $260: one year too late."),
    }
    mistakes.setdefault(
        _payback(group="high_end"),
        "that is what a High End customer, or one constant retention rate counted from "
        "t = 0, would give; use the Regular sBG.",
    )
    return number(
        answer,
        expected,
        decimals=0,
        sign=False,
        correct=(
            f"year {expected} of her life: by then the expected discounted margins reach "
            f"${cumulative[expected - 1]:.0f}. That is a long wait for a customer worth "
            f"${_del_value():.0f}."
        ),
        mistakes=list(mistakes.items()),
    )
