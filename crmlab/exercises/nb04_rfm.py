"""Checks for notebook 04, customer data and RFM."""

from __future__ import annotations

from functools import cache

import crmlab as cl
from crmlab.exercises._core import Feedback, exercise


@cache
def _summary():
    return cl.transactions.summarize(cl.datasets.load_cdnow("sample"), "1997-09-30", unit="W")


@exercise("rfm_loyal_count")
def _loyal_count(answer: object) -> Feedback:
    """How many CDNOW sample customers made at least two repeat purchases by 1997-09-30?"""
    expected = int((_summary()["x"] >= 2).sum())
    if answer == expected:
        return Feedback.correct(f"{expected} customers bought again at least twice.")
    if answer == int((_summary()["x"] >= 1).sum()):
        return Feedback.wrong(
            "that counts customers with at least ONE repeat purchase; use x >= 2."
        )
    if answer == int((_summary()["x"] == 2).sum()):
        return Feedback.wrong("that counts exactly two; 'at least two' includes more.")
    return Feedback.wrong("filter the summary on x >= 2 and count the rows.")


@exercise("rfm_first_month_retention")
def _first_month_retention(answer: object) -> Feedback:
    """Share of the 1997-02 cohort of the master file active in its second month (period 1)."""
    table = cl.transactions.cohort_table(cl.datasets.load_cdnow("master"), period="M")
    row = table[(table["cohort"] == "1997-02") & (table["period"] == 1)].iloc[0]
    expected = float(row["retention"])
    if cl.exercises.is_close(answer, expected, rel=1e-3):
        return Feedback.correct(f"{expected:.1%} of February's new customers bought in March.")
    if cl.exercises.is_close(answer, 100 * expected, rel=1e-3):
        return Feedback.wrong("give the share as a fraction between 0 and 1, not a percentage.")
    if cl.exercises.is_close(answer, row["active"], rel=1e-9):
        return Feedback.wrong("that is the number of active customers; divide by the cohort size.")
    return Feedback.wrong("pick the row with cohort '1997-02' and period 1, column 'retention'.")


@exercise("rfm_best_segment_size")
def _best_segment(answer: object) -> Feedback:
    """How many customers score 3 on R, F and M (segment '333')?"""
    scores = cl.rfm.rfm_scores(_summary())
    expected = int((scores["segment"] == "333").sum())
    if answer == expected:
        return Feedback.correct(f"{expected} customers are in the best segment.")
    if answer == int((scores["segment"] == "111").sum()):
        return Feedback.wrong("that is segment '111', the least valuable one.")
    return Feedback.wrong("count the rows whose segment equals the string '333'.")
