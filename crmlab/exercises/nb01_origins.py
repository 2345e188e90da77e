"""Checks for notebook 01, the origins of CRM."""

from __future__ import annotations

from crmlab import history
from crmlab.exercises._core import Feedback, exercise


@exercise("origins_decade")
def _decade(answer: object) -> Feedback:
    """Decade in which CRM was born, as a year such as 1950."""
    if answer == 1970:
        return Feedback.correct("the early 1970s, when firms turned from product to customer.")
    if answer == 1954:
        return Feedback.wrong(
            "1954 is Drucker's book, an idea CRM later grew from; look for the birth."
        )
    if answer in (1980, 1990):
        return Feedback.wrong(
            "software came later; the idea is older. Filter the timeline on 'ideas'."
        )
    return Feedback.wrong("give the decade as a year ending in 0, e.g. 1960.")


@exercise("origins_principle_count")
def _principles(answer: object) -> Feedback:
    """How many founding principles did early CRM rest on?"""
    expected = len(history.principles())
    if answer == expected:
        return Feedback.correct("protect, foster, grow the value of all customers.")
    if answer == len(history.perspectives()):
        return Feedback.wrong("that counts the perspectives, not the principles.")
    return Feedback.wrong("count the rows of cl.history.principles().")


@exercise("origins_events_before_1990")
def _before_1990(answer: object) -> Feedback:
    """How many events of the timeline are dated before 1990?"""
    events = history.timeline()
    expected = int((events["year"] < 1990).sum())
    if answer == expected:
        return Feedback.correct(f"{expected} events; CRM's ideas are older than its software.")
    if answer == int((events["year"] <= 1990).sum()):
        return Feedback.wrong("'before 1990' excludes 1990 itself: use < rather than <=.")
    return Feedback.wrong("filter cl.history.timeline() on year < 1990 and count the rows.")
