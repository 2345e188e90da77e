"""Checks for notebook 04, customer data and RFM."""

from __future__ import annotations

from functools import cache

import crmlab as cl
from crmlab.exercises._core import Feedback, exercise, number


@cache
def _summary():
    return cl.transactions.summarize(cl.datasets.load_cdnow("sample"), "1997-09-30", unit="W")


def _count(condition) -> int:
    return int(condition(_summary()["x"]).sum())


@exercise(
    "rfm_loyal_count",
    hints=[
        "x counts REPEAT purchases: the first purchase is not in it.",
        "'at least two' keeps x equal to 2 and everything above.",
        "(summary['x'] >= 2).sum()",
    ],
    right=lambda: [_count(lambda x: x >= 2)],
    wrong=lambda: [
        (_count(lambda x: x >= 1), "ONE repeat"),
        (_count(lambda x: x == 2), "exactly two"),
        (_count(lambda x: x > 2), "more than two"),
    ],
)
def _loyal_count(answer: object) -> Feedback | None:
    """How many CDNOW sample customers made at least two repeat purchases by 1997-09-30?"""
    expected = _count(lambda x: x >= 2)
    return number(
        answer,
        expected,
        decimals=0,
        correct=f"{expected} customers bought again at least twice.",
        mistakes=[
            (_count(lambda x: x >= 1), "that counts at least ONE repeat purchase; 'two' is asked."),
            (_count(lambda x: x == 2), "that counts exactly two; 'at least two' includes more."),
            (_count(lambda x: x > 2), "that counts more than two; 'at least two' includes 2."),
        ],
    )


@cache
def _cohorts(kind: str):
    return cl.transactions.cohort_table(cl.datasets.load_cdnow(kind), period="M")


def _february(kind: str, column: str = "retention") -> float:
    table = _cohorts(kind)
    row = table[(table["cohort"] == "1997-02") & (table["period"] == 1)].iloc[0]
    return float(row[column])


@exercise(
    "rfm_first_month_retention",
    hints=[
        "the share compares the customers active in month 1 with the size of the cohort.",
        "the cohort table has one row per cohort and period; February is '1997-02'.",
        "table[(table['cohort'] == '1997-02') & (table['period'] == 1)]['retention']",
    ],
    right=lambda: [_february("master"), 0.155],
    wrong=lambda: [
        (100 * _february("master"), "percentage"),
        (_february("master", "active"), "number of active"),
    ],
)
def _first_month_retention(answer: object) -> Feedback | None:
    """Share of the 1997-02 cohort of the master file active in its second month (period 1)."""
    expected = _february("master")
    return number(
        answer,
        expected,
        decimals=3,
        fraction=True,
        correct=f"{expected:.1%} of February's new customers bought in March.",
        mistakes=[
            (
                _february("master", "active"),
                "that is the number of active customers; divide by the cohort size.",
            ),
        ],
    )


def _segment_size(segment: str) -> int:
    return int((cl.rfm.rfm_scores(_summary())["segment"] == segment).sum())


@exercise(
    "rfm_best_segment_size",
    hints=[
        "the best customers score highest on all three of R, F and M.",
        "the segment column holds strings such as '231'.",
        "(scores['segment'] == '333').sum()",
    ],
    right=lambda: [_segment_size("333")],
    wrong=lambda: [(_segment_size("111"), "'111'")],
)
def _best_segment(answer: object) -> Feedback | None:
    """How many customers score 3 on R, F and M (segment '333')?"""
    expected = _segment_size("333")
    return number(
        answer,
        expected,
        decimals=0,
        correct=f"{expected} customers are in the best segment.",
        mistakes=[(_segment_size("111"), "that is segment '111', the least valuable one.")],
    )
