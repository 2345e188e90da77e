"""Checks for notebook 04, customer data and RFM (CDNOW, calibration to 1997-09-30)."""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

import crmlab as cl
from crmlab.exercises._core import Feedback, choice, exercise, number

_END = "1997-09-30"


@cache
def _log(kind: str = "sample") -> pd.DataFrame:
    return cl.datasets.load_cdnow(kind)


@cache
def _summary() -> pd.DataFrame:
    return cl.transactions.summarize(_log(), _END, unit="W")


def _weeks(later: str, earlier: str) -> float:
    return (pd.Timestamp(later) - pd.Timestamp(earlier)).days / 7


def _rows(customer: int) -> pd.DataFrame:
    log = _log()
    return log[log["customer_id"] == customer]


@exercise(
    "rfm_t_x_by_hand",
    hints=[
        "t_x is measured from the customer's FIRST purchase, in weeks, and only purchases "
        "up to the end of the calibration period count.",
        "keep customer 11's rows dated on or before 1997-09-30; t_x is the time from the "
        "first of them to the last.",
        "rows = calibration[calibration['customer_id'] == 11]; "
        "(rows['date'].max() - rows['date'].min()).days / 7",
    ],
    right=lambda: [float(_summary().loc[11, "t_x"]), 24.43],
    wrong=lambda: [
        (7 * float(_summary().loc[11, "t_x"]), "days"),
        (_weeks(_rows(11)["date"].max(), _rows(11)["date"].min()), "after"),
        (float(_summary().loc[11, "T"]), "T"),
        (float(_summary().loc[11, "T"] - _summary().loc[11, "t_x"]), "since"),
    ],
)
def _t_x_by_hand(answer: object) -> Feedback | None:
    """t_x of customer 11 (weeks, two decimals), computed from the raw log."""
    row = _summary().loc[11]
    rows = _rows(11)
    return number(
        answer,
        row["t_x"],
        decimals=2,
        correct=f"t_x = {row['t_x']:.2f} weeks, as summarize() finds.",
        slips={7: "that looks like days; the summary counts weeks: divide by 7."},
        mistakes=[
            (
                _weeks(rows["date"].max(), rows["date"].min()),
                "that includes a purchase after 30 September 1997, outside the calibration period.",
            ),
            (row["T"], "that is T, the time from the first purchase to the END of the period."),
            (
                row["T"] - row["t_x"],
                "that is the time since the last purchase, T - t_x; t_x is measured from the "
                "first purchase.",
            ),
        ],
    )


def _monetary_variants() -> dict[str, float]:
    rows = _rows(267)
    first = rows["date"].min()
    inside = rows[rows["date"] <= _END]
    repeat = inside[inside["date"] > first]
    by_day = repeat.groupby("date")["amount"].sum()
    all_days = rows[rows["date"] > first].groupby("date")["amount"].sum()
    with_first = inside.groupby("date")["amount"].sum()
    return {
        "unmerged": float(repeat["amount"].mean()),
        "with_first": float(with_first.mean()),
        "after_end": float(all_days.mean()),
        "every_row": float(rows["amount"].mean()),
        "right": float(by_day.mean()),
    }


@exercise(
    "rfm_monetary_by_hand",
    hints=[
        "monetary is the mean value of the REPEAT transactions, and a transaction is a "
        "day: several orders on one day are one purchase.",
        "drop the first purchase and anything after 1997-09-30, add up each day's "
        "amounts, then take the mean over days.",
        "repeat.groupby('date')['amount'].sum().mean()",
    ],
    right=lambda: [float(_summary().loc[267, "monetary"]), 21.36],
    wrong=lambda: [
        (_monetary_variants()["unmerged"], "same day"),
        (_monetary_variants()["with_first"], "first purchase"),
        (_monetary_variants()["after_end"], "after"),
        (_monetary_variants()["every_row"], "every row"),
    ],
)
def _monetary_by_hand(answer: object) -> Feedback | None:
    """monetary of customer 267 (dollars, two decimals), computed from the raw log."""
    variants = _monetary_variants()
    expected = float(_summary().loc[267, "monetary"])
    return number(
        answer,
        expected,
        decimals=2,
        correct=f"${expected:.2f}: two repeat purchase days, the first made of two orders.",
        mistakes=[
            (
                variants["unmerged"],
                "two orders on the same day are one transaction: add them up before "
                "taking the mean.",
            ),
            (
                variants["with_first"],
                "that includes the first purchase; monetary averages the repeat ones only.",
            ),
            (
                variants["after_end"],
                "that includes a purchase after 30 September 1997, outside the period.",
            ),
            (
                variants["every_row"],
                "that is the mean of every row of the log; keep the repeat purchases in the "
                "period, merged by day.",
            ),
        ],
    )


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


_ONE_TIME_OPTIONS = {
    "a": "they have not bought again, so there is no 'again' to be recent: look at what "
    "T - t_x is when t_x = 0.",
    "b": "with t_x = 0, T - t_x is T, the time since they were acquired: R sorts one-time "
    "buyers by their date of acquisition, not by any recent purchase.",
    "c": "R does not look at money; compare their recency with their T.",
    "d": "it is not random: compare their recency with their T.",
}


@exercise(
    "rfm_one_time_buyers_r",
    hints=[
        "for a customer with no repeat purchase, what are t_x and T - t_x?",
        "compare scores['recency'] with summary['T'] for the rows with x == 0.",
        "(scores['recency'] == summary['T'])[summary['x'] == 0].all()",
    ],
    right=["b"],
    wrong=[("a", "T - t_x"), ("c", "money"), ("d", "not random"), (2, "letter")],
)
def _one_time(answer: object) -> Feedback:
    """For customers with x = 0, what does crmlab's R score sort them by? ('a' to 'd')"""
    summary = _summary()
    scores = cl.rfm.rfm_scores(summary)
    once = summary["x"] == 0
    right = "b" if np.allclose(scores.loc[once, "recency"], summary.loc[once, "T"]) else "a"
    return choice(answer, right, _ONE_TIME_OPTIONS)


def _r_score(values: pd.Series, method: str = "min") -> pd.Series:
    return np.ceil(3 * values.rank(method=method, pct=True)).clip(1, 3).astype("int64")


def _r_changes(values: pd.Series, method: str = "min") -> int:
    crmlab_r = cl.rfm.rfm_scores(_summary())["R"]
    return int((_r_score(values, method) != crmlab_r).sum())


@exercise(
    "rfm_r_changes",
    hints=[
        "with FHL's recency t_x, a LARGER value is better (the last purchase came later "
        "in the customer's life), so it is ranked as it is.",
        "apply the score formula to t_x with ties given the lowest rank, then compare "
        "with scores['R'] customer by customer and count the differences.",
        "R_fhl = np.ceil(3 * summary['t_x'].rank(method='min', pct=True)).clip(1, 3); "
        "(R_fhl != scores['R']).sum()",
    ],
    right=lambda: [_r_changes(_summary()["t_x"])],
    wrong=lambda: [
        (_r_changes(-_summary()["t_x"]), "direction"),
        (_r_changes(_summary()["t_x"], "average"), "ties"),
        (len(_summary()) - _r_changes(_summary()["t_x"]), "keep"),
    ],
)
def _r_changes_check(answer: object) -> Feedback | None:
    """Customers whose R score changes when recency is t_x (FHL) instead of T - t_x."""
    t_x = _summary()["t_x"]
    expected = _r_changes(t_x)
    return number(
        answer,
        expected,
        decimals=0,
        correct=f"{expected} of {len(t_x):,} customers, a third of the base, change score.",
        mistakes=[
            (
                _r_changes(-t_x),
                "wrong direction: for t_x, larger is better, so rank t_x itself, not -t_x.",
            ),
            (
                _r_changes(t_x, "average"),
                "ties: customers with the same t_x must share the LOWEST rank among them "
                "(rank(method='min')), as in the formula.",
            ),
            (
                len(t_x) - expected,
                "that counts the customers who keep their score; the question asks for "
                "those whose score changes.",
            ),
        ],
    )


@cache
def _cohorts(kind: str = "master") -> pd.DataFrame:
    return cl.transactions.cohort_table(_log(kind), period="M")


def _share(cohort: str, period: int, kind: str = "master", column: str = "retention") -> float:
    table = _cohorts(kind)
    row = table[(table["cohort"] == cohort) & (table["period"] == period)].iloc[0]
    return float(row[column])


@exercise(
    "rfm_february_active_share",
    hints=[
        "a cohort is fixed by the month of the FIRST purchase; its share in period 1 "
        "counts who bought in the following month.",
        "find each customer's first month in the master log, keep those of February 1997, "
        "and count who has a purchase in March 1997; divide by the cohort's size.",
        "first = master.groupby('customer_id')['date'].transform('min').dt.to_period('M'); "
        "month = master['date'].dt.to_period('M')",
    ],
    right=lambda: [_share("1997-02", 1), 0.155],
    wrong=lambda: [
        (100 * _share("1997-02", 1), "percentage"),
        (_share("1997-02", 1, column="active"), "number of active"),
        (_share("1997-02", 1, kind="sample"), "sample"),
        (_share("1997-01", 1), "January"),
        (1.0, "period 0"),
    ],
)
def _february(answer: object) -> Feedback | None:
    """Share of the master file's 1997-02 cohort active in period 1 (three decimals)."""
    expected = _share("1997-02", 1)
    return number(
        answer,
        expected,
        decimals=3,
        fraction=True,
        correct=f"{expected:.3f}: {expected:.1%} of February's new customers bought in March.",
        mistakes=[
            (
                _share("1997-02", 1, column="active"),
                "that is the number of active customers; divide by the cohort size.",
            ),
            (
                _share("1997-02", 1, kind="sample"),
                "that is the 1/10th sample; the question uses the master file.",
            ),
            (_share("1997-01", 1), "that is the January cohort; the question asks for February."),
            (1.0, "that is period 0, the month of acquisition, when everybody buys."),
        ],
    )


def _came_back(cohort: str, first_period: int, last_period: int) -> float:
    log = _log("master")
    month = log["date"].dt.year * 12 + log["date"].dt.month - 1
    first = month.groupby(log["customer_id"]).transform("min")
    year, index = divmod(int(pd.Period(cohort, "M").ordinal), 12)
    members = first == (year + 1970) * 12 + index
    window = members & (month - first).between(first_period, last_period)
    back = log.loc[window, "customer_id"].nunique()
    return float(back / log.loc[members, "customer_id"].nunique())


@cache
def _january_back() -> float:
    return _came_back("1997-01", 1, 3)


@exercise(
    "rfm_january_came_back",
    hints=[
        "a customer who bought in February AND in April is one customer who came back, not two.",
        "collect the January customers with at least one purchase in periods 1, 2 or 3, "
        "count them once each, and divide by the cohort's size.",
        "jan = master[first == '1997-01']; back = jan[month.between('1997-02', "
        "'1997-04')]['customer_id'].nunique()",
    ],
    right=lambda: [_january_back(), round(_january_back(), 3)],
    wrong=lambda: [
        (sum(_share("1997-01", k) for k in (1, 2, 3)), "twice"),
        (_share("1997-01", 1), "only period 1"),
        (100 * _january_back(), "percentage"),
    ],
)
def _january(answer: object) -> Feedback | None:
    """Share of the January 1997 cohort buying at least once in periods 1-3 (3 decimals)."""
    expected = _january_back()
    monthly = [_share("1997-01", k) for k in (1, 2, 3)]
    return number(
        answer,
        expected,
        decimals=3,
        fraction=True,
        correct=f"{expected:.3f}: about one in four came back within three months, although "
        f"no single month shows more than {max(monthly):.0%} active.",
        mistakes=[
            (
                sum(monthly),
                "adding the monthly shares counts a customer who bought in two of the "
                "months twice; count each customer once.",
            ),
            (monthly[0], "that is only period 1; periods 2 and 3 belong to the window too."),
        ],
    )


_RISE_OPTIONS = {
    "a": "nothing says they had left: in a non-contractual setting a quiet month is not a "
    "departure, and the cohort never gains members.",
    "b": "a customer can skip a month and buy the next: the activity share counts buyers of "
    "the month, not customers still with the firm, so it may rise.",
    "c": "the log passed validation; a rise is what intermittent buying looks like.",
}


@exercise(
    "rfm_rising_activity",
    hints=[
        "think about a customer who buys in month 3, not in month 4, and again in month 5.",
        "what does 'active in month k' count, and can a customer be a customer of the "
        "firm without buying that month?",
        "compare with notebook 05: survival counts customers still there, it cannot rise.",
    ],
    right=["b"],
    wrong=[("a", "departure"), ("c", "validation"), ("e", "letter")],
)
def _rising(answer: object) -> Feedback:
    """Why can a cohort's activity share rise from one month to the next? ('a' to 'c')"""
    path = _cohorts()[_cohorts()["cohort"] == "1997-02"]["retention"].to_numpy()
    # The question rests on a rise in February's row; if the data ever lost it, say so.
    right = "b" if (np.diff(path[1:]) > 0).any() else "c"
    return choice(answer, right, _RISE_OPTIONS)
