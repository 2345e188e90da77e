"""Checks for notebook 02, the four phases of CRM and e-CRM."""

from __future__ import annotations

from crmlab import history
from crmlab.exercises._core import Feedback, exercise


@exercise("phases_current_phase")
def _current(answer: object) -> Feedback:
    """Number of the phase the source calls 'the current phase' of CRM (before the fourth)."""
    if answer == 3:
        return Feedback.correct("phase 3, process: firms restructure around their customers.")
    if answer == 4:
        return Feedback.wrong("phase 4 is the one firms are now entering, not the current one.")
    return Feedback.wrong("read the explanation of each phase in cl.history.phases().")


@exercise("phases_fourth_name")
def _fourth(answer: object) -> Feedback:
    """The English name of the fourth phase."""
    expected = history.phases("en")["name"].iloc[3]
    if isinstance(answer, str) and answer.strip().casefold() == expected.casefold():
        return Feedback.correct(f"{expected}.")
    if isinstance(answer, str) and answer.strip().casefold() == "process":
        return Feedback.wrong("that is phase 3; take the last row.")
    return Feedback.wrong("take the 'name' of the last row of cl.history.phases('en').")


@exercise("phases_ecrm_components")
def _ecrm(answer: object) -> Feedback:
    """How many components does e-CRM add according to the source?"""
    expected = len(history.ecrm_components())
    if answer == expected:
        return Feedback.correct("web analytics, content management and collaboration.")
    if answer == 4:
        return Feedback.wrong("that is the number of phases of CRM, not of e-CRM components.")
    return Feedback.wrong("count the rows of cl.history.ecrm_components().")
