"""Checks for notebook 09, discrete time: the BG/BB model on the donations data."""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
from scipy import special

import crmlab as cl
from crmlab.exercises._core import Feedback, choice, exercise, number

#: The donor of Exercises 2 and 3, and of Exercise 6.
PATTERN = (2, 4, 6)
DERT_PATTERN = (2, 5, 6)


@cache
def _model() -> cl.models.BGBB:
    return cl.models.BGBB().fit(cl.datasets.load_donations())


def _ratio(a_top: float, b_top: float, a: float, b: float) -> float:
    return float(np.exp(special.betaln(a_top, b_top) - special.betaln(a, b)))


def _pieces(x: int, t_x: int, n: int, extra_terms: int = 0) -> dict[str, float]:
    """The terms of the likelihood, as a learner would compute them (and slips of them)."""
    p = _model().params
    a, b, g, d = p["alpha"], p["beta"], p["gamma"], p["delta"]
    alive_n = _ratio(a + x, b + n - x, a, b) * _ratio(g, d + n, g, d)
    died = sum(
        _ratio(a + x, b + t_x - x + i, a, b) * _ratio(g + 1, d + t_x + i, g, d)
        for i in range(n - t_x + extra_terms)
    )
    return {
        "alive_n": alive_n,
        "died": died,
        "alive_next": _ratio(a + x, b + n - x, a, b) * _ratio(g, d + n + 1, g, d),
    }


def _likelihood() -> float:
    x, t_x, n = PATTERN
    return float(np.exp(_model().log_likelihood(pd.DataFrame({"x": [x], "t_x": [t_x], "n": [n]}))))


def _donors(pattern: tuple[int, int, int] | None = None) -> float:
    """Donors in the data, all of them or those sharing ``pattern``."""
    don = cl.datasets.load_donations()
    if pattern is not None:
        x, t_x, n = pattern
        don = don[(don["x"] == x) & (don["t_x"] == t_x) & (don["n"] == n)]
    return float(don["weight"].sum())


# ----- Exercise 1 ---------------------------------------------------------------------
_SETTINGS = (
    ("D", "the season ticket"),
    ("B", "the reunion"),
    ("C", "the electricity contract"),
    ("A", "the bookshop"),
)
_CONTRACTUAL = {"A": False, "B": False, "C": True, "D": True}
_DISCRETE = {"A": False, "B": True, "C": False, "D": True}


@exercise(
    "bgbb_settings_quadrants",
    hints=[
        "two questions per setting: does the firm learn the day the customer leaves, and "
        "can the transaction happen at any moment or only on fixed occasions?",
        "A and B are the non-contractual cells (no notice of leaving), C and D the "
        "contractual ones; B and D are those with fixed occasions.",
        "season ticket: renewed once a year, with notice; reunion: yearly, no notice; "
        "electricity: any day, with notice; bookshop: any day, no notice.",
    ],
    right=["DBCA", "dbca", "D B C A"],
    wrong=[
        ("CBDA", "fixed occasions"),
        ("BBCA", "notice"),
        ("DBC", "four letters"),
    ],
)
def _quadrants(answer: object) -> Feedback | None:
    """The cell (A, B, C or D) of each of the four settings, as a string of four letters."""
    if not isinstance(answer, str):
        return Feedback.wrong("give the four letters as one string in quotes, for example 'ABCD'.")
    letters = [c for c in answer.upper() if c.isalpha()]
    if len(letters) != 4 or not set(letters) <= set("ABCD"):
        return Feedback.wrong(
            "give exactly four letters, each A, B, C or D, one per setting in order."
        )
    if letters == [right for right, _ in _SETTINGS]:
        return Feedback.correct(
            "the season ticket and the electricity contract are contractual (the firm "
            "is told when they end); the reunion and the ticket come on fixed occasions."
        )
    for given, (right, name) in zip(letters, _SETTINGS, strict=True):
        if given == right:
            continue
        if _CONTRACTUAL[given] != _CONTRACTUAL[right]:
            return Feedback.wrong(
                f"look again at {name}: is the firm given notice when the customer leaves?"
            )
        return Feedback.wrong(
            f"look again at {name}: can it happen at any moment, or only on fixed occasions?"
        )
    return None


# ----- Exercise 2 ---------------------------------------------------------------------
def _likelihood_slips() -> list[tuple[float, str]]:
    x, t_x, n = PATTERN
    exact = _pieces(x, t_x, n)
    one_more = _pieces(x, t_x, n, extra_terms=1)
    return [
        (
            float(np.log(_likelihood())),
            "that is the logarithm of the likelihood; the question asks for L itself "
            "(np.exp of it).",
        ),
        (
            exact["alive_n"],
            "that is only the first term, 'alive at all six drives'; add the ways she may "
            "have died after her last gift.",
        ),
        (
            exact["died"],
            "that is only the sum over the times she may have died; add the first term, "
            "'alive at all six drives'.",
        ),
        (
            one_more["alive_n"] + one_more["died"],
            "the sum has one term too many: i runs from 0 to n - t_x - 1, which "
            "range(n - t_x) gives.",
        ),
    ]


@exercise(
    "bgbb_pattern_likelihood",
    hints=[
        "the likelihood adds two ways the history could have happened: alive at all six "
        "drives, or gone after the last gift at drive 4, before drive 5 or before drive 6.",
        "each way multiplies a ratio of beta functions for p by one for theta; "
        "B(u, v) / B(alpha, beta) is np.exp(special.betaln(u, v) - special.betaln(alpha, beta)).",
        "first term: B(a+2, b+4)/B(a, b) * B(g, d+6)/B(g, d); then for i in range(2): "
        "B(a+2, b+2+i)/B(a, b) * B(g+1, d+4+i)/B(g, d).",
    ],
    right=lambda: [_likelihood(), round(_likelihood(), 5)],
    wrong=lambda: list(
        zip(
            [value for value, _ in _likelihood_slips()],
            ["logarithm", "first term", "add the first term", "one term too many"],
            strict=True,
        )
    ),
)
def _pattern_likelihood(answer: object) -> Feedback | None:
    """L(alpha, beta, gamma, delta | x=2, t_x=4, n=6) at the fitted parameters (5 decimals)."""
    return number(
        answer,
        _likelihood(),
        decimals=5,
        correct=(
            f"L = {_likelihood():.5f}. It is the chance of one sequence of gifts; three "
            "sequences share (2, 4, 6) (the other gift in 1996, 1997 or 1998), so the model "
            f"expects about {3 * _likelihood() * _donors():,.0f} such donors; the data have "
            f"{_donors(PATTERN):,.0f}."
        ),
        mistakes=_likelihood_slips(),
    )


# ----- Exercise 3 ---------------------------------------------------------------------
def _p_alive() -> float:
    return float(_model().p_alive(*PATTERN))


@exercise(
    "bgbb_pattern_p_alive",
    hints=[
        "Bayes: P(alive at 7 | history) = P(history and alive at 7) / P(history).",
        "the numerator is the first term of L with one more survival: theta's ratio gets "
        "delta + n + 1 instead of delta + n; the denominator is your L.",
        "B(a+2, b+4)/B(a, b) * B(g, d+7)/B(g, d) / likelihood",
    ],
    right=lambda: [_p_alive(), round(_p_alive(), 3)],
    wrong=lambda: [
        (1 - _p_alive(), "left"),
        (_pieces(*PATTERN)["alive_n"] / _likelihood(), "drive 7"),
        (_pieces(*PATTERN)["alive_next"], "divide"),
    ],
)
def _pattern_p_alive(answer: object) -> Feedback | None:
    """P(alive at drive 7) of the donor (x=2, t_x=4, n=6) (3 decimals)."""
    pieces = _pieces(*PATTERN)
    return number(
        answer,
        _p_alive(),
        decimals=3,
        fraction=True,
        correct=f"{_p_alive():.3f}: a little better than even odds that she is still a donor.",
        mistakes=[
            (1 - _p_alive(), "that is the probability that she has left; take its complement."),
            (
                pieces["alive_n"] / _likelihood(),
                "that is the probability she was alive at drive 6; she may still have left "
                "before drive 7 (use delta + n + 1).",
            ),
            (
                pieces["alive_next"],
                "that is P(history and alive at 7); divide by the likelihood of the history.",
            ),
        ],
    )


# ----- Exercise 4 ---------------------------------------------------------------------
@exercise(
    "bgbb_who_is_alive",
    hints=[
        "think of what each donor's silence at two drives would mean if she were alive.",
        "P(alive) weighs two explanations of the silence: she left, or she is alive and "
        "simply did not give; which is likelier for a donor who gives rarely?",
        "compare bb.p_alive(4, 4, 6) with bb.p_alive(1, 4, 6).",
    ],
    right=["b", "B", "(b)"],
    wrong=[("a", "silence"), ("c", "letter")],
)
def _who_is_alive(answer: object) -> Feedback | None:
    """Which donor is likelier alive: (a) x=4, t_x=4 or (b) x=1, t_x=4, both n=6?"""
    model = _model()
    a, b = model.p_alive(4, 4, 6), model.p_alive(1, 4, 6)
    return choice(
        answer,
        "b",
        {
            "a": (
                f"the generous donor has P(alive) = {a:.2f} only: she would very probably "
                "have given in two drives if alive, so her silence weighs heavily."
            ),
            "b": (
                f"{b:.2f} against {a:.2f}: the occasional donor's silence is what one expects "
                "of her alive, so it says little about her having left."
            ),
        },
    )


# ----- Exercise 5 ---------------------------------------------------------------------
@cache
def _cohort() -> dict[str, float]:
    model = _model()
    don = cl.datasets.load_donations()
    per = model.conditional_expected_purchases(5, don["x"], don["t_x"], don["n"])
    donors = float(don["weight"].sum())
    return {
        "total": float((per * don["weight"]).sum()),
        "unweighted": float(np.sum(per)),
        "per_donor": float((per * don["weight"]).sum() / donors),
        "unconditional": donors * (model.expected_purchases(11) - model.expected_purchases(6)),
        "first_five": donors * model.expected_purchases(5),
    }


@exercise(
    "bgbb_cohort_next_five",
    hints=[
        "each donor's expectation depends on her own history; the cohort's is the sum over "
        "all 11,104 donors.",
        "conditional_expected_purchases(5, x, t_x, n) gives one value per row of don; a row "
        "stands for 'weight' donors.",
        "(bb.conditional_expected_purchases(5, don['x'], don['t_x'], don['n']) "
        "* don['weight']).sum()",
    ],
    right=lambda: [_cohort()["total"], round(_cohort()["total"])],
    wrong=lambda: [
        (_cohort()["unweighted"], "weight"),
        (_cohort()["per_donor"], "per donor"),
        (_cohort()["unconditional"], "history"),
        (_cohort()["first_five"], "first five"),
    ],
)
def _cohort_next_five(answer: object) -> Feedback | None:
    """Expected gifts of the 11,104 donors in 2002-2006, given their histories (whole gifts)."""
    c = _cohort()
    return number(
        answer,
        c["total"],
        decimals=0,
        correct=f"about {c['total']:,.0f} gifts, {c['per_donor']:.2f} per donor.",
        mistakes=[
            (
                c["unweighted"],
                "that adds the 22 patterns once each; each row stands for 'weight' donors.",
            ),
            (c["per_donor"], "that is per donor; the question asks for the whole cohort."),
            (
                c["unconditional"],
                "that is what the model expects of a cohort it knows nothing about; use each "
                "donor's history (conditional_expected_purchases). Close, because the model "
                "fits, but not the same.",
            ),
            (
                c["first_five"],
                "that is the first five drives of a new donor, E[X(5)]; the question asks for "
                "drives 7 to 11 of these donors.",
            ),
        ],
    )


# ----- Exercise 6 ---------------------------------------------------------------------
@cache
def _dert_variants() -> dict[str, float]:
    model = _model()
    k = np.arange(0, 501)
    cumulative = np.asarray(model.conditional_expected_purchases(k, *DERT_PATTERN), float)
    each = np.diff(cumulative)
    return {
        "exact": float(model.discounted_expected_residual_transactions(0.10, *DERT_PATTERN)),
        "first_undiscounted": float(np.sum(each / 1.10 ** (k[1:] - 1))),
        "undiscounted": float(each.sum()),
        "cumulative": float(np.sum(cumulative[1:] / 1.10 ** k[1:])),
        "percent_rate": float(np.sum(each * np.exp(-k[1:] * np.log(11.0)))),
    }


@exercise(
    "bgbb_dert_by_hand",
    hints=[
        "DERT adds, for every future drive, the expected gift at that drive divided by "
        "(1 + d) to the power of how many drives ahead it is.",
        "the expected gift at drive n + k is the step of the cumulative expectation from "
        "k - 1 to k: np.diff of conditional_expected_purchases over k = 0, 1, ..., 500.",
        "k = np.arange(501); each = np.diff(bb.conditional_expected_purchases(k, 2, 5, 6)); "
        "(each / 1.10 ** k[1:]).sum()",
    ],
    right=lambda: [_dert_variants()["exact"], round(_dert_variants()["exact"], 2)],
    wrong=lambda: [
        (_dert_variants()["first_undiscounted"], "next drive"),
        (_dert_variants()["undiscounted"], "discount"),
        (_dert_variants()["cumulative"], "cumulative"),
        (_dert_variants()["percent_rate"], "0.10"),
    ],
)
def _dert_by_hand(answer: object) -> Feedback | None:
    """DERT at d = 0.10 of the donor (x=2, t_x=5, n=6), by summing the series (2 decimals)."""
    v = _dert_variants()
    return number(
        answer,
        v["exact"],
        decimals=2,
        correct=f"{v['exact']:.2f} discounted gifts, as the closed form says.",
        mistakes=[
            (
                v["first_undiscounted"],
                "the gift at the next drive is a period away: divide it by (1 + d) too "
                "(the exponent is k, not k - 1).",
            ),
            (v["undiscounted"], "that is the undiscounted total; discount each drive's gift."),
            (
                v["cumulative"],
                "that discounts the cumulative expectation; take the gift of each drive, the "
                "step from k - 1 to k (np.diff).",
            ),
            (v["percent_rate"], "the discount rate is 0.10, not 10: divide by 1.10 ** k."),
        ],
    )


# ----- Exercise 7 ---------------------------------------------------------------------
@cache
def _recent_share() -> dict[str, float]:
    model = _model()
    don = cl.datasets.load_donations()
    dert = model.discounted_expected_residual_transactions(0.10, don["x"], don["t_x"], don["n"])
    weighted = dert * don["weight"]
    recent = don["t_x"] == 6
    return {
        "share": float(weighted[recent].sum() / weighted.sum()),
        "donors": float(don.loc[recent, "weight"].sum() / don["weight"].sum()),
        "unweighted": float(dert[recent].sum() / dert.sum()),
    }


@exercise(
    "bgbb_dert_recent_share",
    hints=[
        "a share of value: the value of one group of donors over the value of all of them.",
        "a pattern's value is its DERT times its donors (weight); the group is t_x == 6.",
        "w = values['dert'] * values['weight']; w[values['t_x'] == 6].sum() / w.sum()",
    ],
    right=lambda: [_recent_share()["share"], round(_recent_share()["share"], 3)],
    wrong=lambda: [
        (_recent_share()["donors"], "donors"),
        (_recent_share()["unweighted"], "weight"),
        (100 * _recent_share()["share"], "percentage"),
    ],
)
def _dert_recent_share(answer: object) -> Feedback | None:
    """Share of the cohort's DERT (d = 0.10) held by donors who gave in 2001 (3 decimals)."""
    s = _recent_share()
    return number(
        answer,
        s["share"],
        decimals=3,
        fraction=True,
        correct=(
            f"{s['share']:.1%} of the value sits with the {s['donors']:.1%} of donors who gave "
            "in 2001: recency is value."
        ),
        mistakes=[
            (s["donors"], "that is the share of donors; weigh each pattern by its DERT too."),
            (
                s["unweighted"],
                "that treats each pattern as one donor; weigh each by its 'weight' of donors.",
            ),
        ],
    )
