"""Checks for notebook 06, CLV in contractual settings."""

from __future__ import annotations

import crmlab as cl
from crmlab.exercises._core import Feedback, exercise, is_close


@exercise(
    "clv_end_of_period",
    hints=["use cl.clv.simple_clv(margin, retention, discount, timing='end')."],
    right=lambda: [cl.clv.simple_clv(50, 0.75, 0.10, timing="end")],
    wrong=[(50 * 1.1 / 0.35, "payment today"), (200.0, "discount")],
)
def _end_of_period(answer: object) -> Feedback | None:
    """CLV with margin 50, retention 0.75, discount 0.10, first payment at the end of period 1."""
    expected = cl.clv.simple_clv(50, 0.75, 0.10, timing="end")
    beginning = cl.clv.simple_clv(50, 0.75, 0.10, timing="beginning")
    if is_close(answer, expected, rel=1e-4):
        return Feedback.correct(f"${expected:.2f}: m r / (1 + d - r).")
    if is_close(answer, beginning, rel=1e-4):
        return Feedback.wrong(
            "that counts a payment today too; here the first comes at the end of period 1."
        )
    if is_close(answer, 50 / (1 - 0.75), rel=1e-4):
        return Feedback.wrong("you forgot to discount: divide by (1 + d - r), not (1 - r).")
    return None


@exercise(
    "clv_derl_third_period",
    hints=["call cl.clv.derl(alpha, beta, discount, n) with n = 3."],
    right=lambda: [cl.clv.derl(3.8, 15.2, 0.1, 3)],
    wrong=lambda: [(cl.clv.derl(3.8, 15.2, 0.1, 2), "n = 3")],
)
def _derl(answer: object) -> Feedback | None:
    """DERL of a customer in her 3rd period (2 renewals) with alpha=3.8, beta=15.2, d=0.1."""
    expected = cl.clv.derl(3.8, 15.2, 0.1, 3)
    if is_close(answer, expected, rel=1e-4):
        return Feedback.correct(f"{expected:.3f} discounted payments still to come.")
    if is_close(answer, cl.clv.derl(3.8, 15.2, 0.1, 2), rel=1e-4):
        return Feedback.wrong(
            "that is the 2nd period: n counts periods, so 2 renewals means n = 3."
        )
    return None


@exercise(
    "clv_retention_point",
    hints=["subtract the CLV at 0.90 from the CLV at 0.91."],
    right=lambda: [cl.clv.retention_point_value(100, 0.90, 0.10)],
    wrong=lambda: [(cl.clv.simple_clv(100, 0.91, 0.10), "difference")],
)
def _retention_point(answer: object) -> Feedback | None:
    """Gain in CLV (beginning timing) when retention rises from 0.90 to 0.91; m=100, d=0.1."""
    expected = cl.clv.retention_point_value(100, 0.90, 0.10)
    if is_close(answer, expected, rel=1e-4):
        return Feedback.correct(f"${expected:.2f}, more than twice the gain at 80% retention.")
    if is_close(answer, cl.clv.simple_clv(100, 0.91, 0.10), rel=1e-4):
        return Feedback.wrong("that is the CLV at 91%; the question asks for the difference.")
    return None
