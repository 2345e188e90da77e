"""Checks for notebook 07, CLV in non-contractual settings (CDNOW, 39-week calibration)."""

from __future__ import annotations

from functools import cache

import crmlab as cl
from crmlab.exercises._core import Feedback, exercise, is_close


@cache
def _fitted():
    summary = cl.transactions.summarize(cl.datasets.load_cdnow("sample"), "1997-09-30", unit="W")
    return summary, cl.models.BGNBD().fit(summary)


def _p_alive_expected() -> float:
    summary, model = _fitted()
    row = summary.loc[1]
    return float(model.p_alive(row["x"], row["t_x"], row["T"]))


def _share_gone_expected() -> float:
    summary, model = _fitted()
    buyers = summary[summary["x"] > 0]
    return float((model.p_alive(buyers["x"], buyers["t_x"], buyers["T"]) < 0.5).mean())


@exercise(
    "nc_p_alive_customer_one",
    hints=["call model.p_alive(x, t_x, T) with customer 1's row of the summary."],
    right=lambda: [_p_alive_expected()],
    wrong=[(0.273, "dropped out"), (0.5, "p_alive")],
)
def _p_alive(answer: object) -> Feedback | None:
    """BG/NBD P(alive) of customer 1 (x=2, t_x=30.43, T=38.86) with the CDNOW fit."""
    summary, model = _fitted()
    row = summary.loc[1]
    expected = model.p_alive(row["x"], row["t_x"], row["T"])
    if is_close(answer, expected, rel=2e-3):
        return Feedback.correct(f"{expected:.3f}.")
    if is_close(answer, 1 - expected, rel=2e-3):
        return Feedback.wrong("that is the probability the customer has dropped out.")
    return None


@exercise(
    "nc_expected_in_a_year",
    hints=["use model.expected_purchases(52)."],
    right=lambda: [_fitted()[1].expected_purchases(52)],
    wrong=[(52, "expected_purchases")],
)
def _expected_year(answer: object) -> Feedback | None:
    """E[X(52)]: expected repeat purchases of a new CDNOW customer in her first 52 weeks."""
    _, model = _fitted()
    expected = model.expected_purchases(52)
    if is_close(answer, expected, rel=2e-3):
        return Feedback.correct(f"{expected:.3f} repeat purchases.")
    if is_close(answer, model.expected_purchases(52 / 7), rel=2e-3):
        return Feedback.wrong("the model works in weeks: t = 52, not 52 / 7.")
    return None


@exercise(
    "nc_share_likely_gone",
    hints=["compute p_alive for the rows with x > 0 and take the mean of (p < 0.5)."],
    right=lambda: [_share_gone_expected()],
    wrong=[(1.0, "x > 0")],
)
def _share_gone(answer: object) -> Feedback | None:
    """Share of the 946 repeat buyers whose BG/NBD P(alive) is below 0.5."""
    summary, model = _fitted()
    buyers = summary[summary["x"] > 0]
    alive = model.p_alive(buyers["x"], buyers["t_x"], buyers["T"])
    expected = float((alive < 0.5).mean())
    if is_close(answer, expected, rel=1e-3):
        return Feedback.correct(f"{expected:.1%} of repeat buyers have probably left.")
    if is_close(answer, float((alive < 0.5).sum()), rel=1e-9):
        return Feedback.wrong("that is a count; divide by the number of repeat buyers.")
    everyone = model.p_alive(summary["x"], summary["t_x"], summary["T"])
    if is_close(answer, float((everyone < 0.5).mean()), rel=1e-3):
        return Feedback.wrong("keep only customers with x > 0 before taking the share.")
    return None
