"""Checks for notebook 02, the four phases of CRM and e-CRM."""

from __future__ import annotations

from crmlab import history
from crmlab.exercises._core import Feedback, exercise


@exercise(
    "phases_current_phase",
    hints=["read the explanation of each phase in cl.history.phases()."],
    right=[3],
    wrong=[(4, "entering")],
)
def _current(answer: object) -> Feedback | None:
    """Number of the phase the source calls 'the current phase' of CRM (before the fourth)."""
    if answer == 3:
        return Feedback.correct("phase 3, process: firms restructure around their customers.")
    if answer == 4:
        return Feedback.wrong("phase 4 is the one firms are now entering, not the current one.")
    return None


@exercise(
    "phases_fourth_name",
    hints=["take the 'name' of the last row of cl.history.phases('en')."],
    right=lambda: [history.phases("en")["name"].iloc[3]],
    wrong=[("Process", "phase 3")],
)
def _fourth(answer: object) -> Feedback | None:
    """The English name of the fourth phase."""
    expected = history.phases("en")["name"].iloc[3]
    if isinstance(answer, str) and answer.strip().casefold() == expected.casefold():
        return Feedback.correct(f"{expected}.")
    if isinstance(answer, str) and answer.strip().casefold() == "process":
        return Feedback.wrong("that is phase 3; take the last row.")
    return None


@exercise(
    "phases_ecrm_components",
    hints=["count the rows of cl.history.ecrm_components()."],
    right=lambda: [len(history.ecrm_components())],
    wrong=[(4, "phases")],
)
def _ecrm(answer: object) -> Feedback | None:
    """How many components does e-CRM add according to the source?"""
    expected = len(history.ecrm_components())
    if answer == expected:
        return Feedback.correct("web analytics, content management and collaboration.")
    if answer == 4:
        return Feedback.wrong("that is the number of phases of CRM, not of e-CRM components.")
    return None
