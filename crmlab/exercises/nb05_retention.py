"""Checks for notebook 05, retention."""

from __future__ import annotations

import crmlab as cl
from crmlab.exercises._core import Feedback, exercise, is_close


def _regular():
    return cl.datasets.load_survival()["regular"]


@exercise(
    "retention_year_two_rate",
    hints=["divide the survivors at year 2 by those at year 1."],
    right=lambda: [_regular().loc[2] / _regular().loc[1]],
    wrong=[(0.468, "survival"), (1 - 468 / 631, "churn")],
)
def _year_two(answer: object) -> Feedback | None:
    """Retention rate of the Regular group from year 1 to year 2 (survivors 2 / survivors 1)."""
    survivors = _regular()
    expected = survivors.loc[2] / survivors.loc[1]
    if is_close(answer, expected, rel=1e-3):
        return Feedback.correct(
            f"{expected:.3f}: {survivors.loc[2]} of {survivors.loc[1]} renewed."
        )
    if is_close(answer, survivors.loc[2] / survivors.loc[0], rel=1e-3):
        return Feedback.wrong(
            "that is survival since acquisition; retention compares with the year before."
        )
    if is_close(answer, 1 - expected, rel=1e-3):
        return Feedback.wrong("that is the churn rate; retention is its complement.")
    return None


def _high_end_model():
    return cl.models.ShiftedBetaGeometric().fit(cl.datasets.load_survival()["high_end"].loc[:7])


@exercise(
    "retention_high_end_year_12",
    hints=["fit on survivors of years 0-7 (.loc[:7]) and call .survival(12)."],
    right=lambda: [_high_end_model().survival(12)],
    wrong=[(37.8, "percentage"), (378.0, "number of customers")],
)
def _high_end_12(answer: object) -> Feedback | None:
    """sBG fitted to High End years 0-7: projected share still active at year 12."""
    expected = _high_end_model().survival(12)
    if is_close(answer, expected, rel=2e-3):
        return Feedback.correct(f"the model projects {expected:.1%}; the data show 39.4%.")
    if is_close(answer, 100 * expected, rel=2e-3):
        return Feedback.wrong("give a share between 0 and 1, not a percentage.")
    if is_close(answer, 1000 * expected, rel=2e-3):
        return Feedback.wrong("that is a number of customers; the question asks for the share.")
    return None


@exercise(
    "retention_paradox_rate",
    hints=["fit the Regular group on years 0-7 and call .retention_rate(8)."],
    right=lambda: [cl.models.ShiftedBetaGeometric().fit(_regular().loc[:7]).retention_rate(8)],
    wrong=[(0.5, "retention_rate(8)")],
)
def _paradox(answer: object) -> Feedback | None:
    """Retention rate of the sBG Regular model in year 8, r_8 = (beta + 7) / (alpha + beta + 7)."""
    model = cl.models.ShiftedBetaGeometric().fit(_regular().loc[:7])
    expected = model.retention_rate(8)
    if is_close(answer, expected, rel=1e-3):
        return Feedback.correct(
            f"{expected:.3f}, far above the {model.retention_rate(1):.3f} of year 1."
        )
    if is_close(answer, model.retention_rate(7), rel=1e-3):
        return Feedback.wrong("that is year 7; retention_rate(t) compares year t with year t - 1.")
    return None
