"""Checks for notebook 01, the origins of CRM."""

from __future__ import annotations

from crmlab import history
from crmlab.exercises._core import Feedback, exercise


@exercise(
    "origins_decade",
    hints=["give the decade as a year ending in 0, e.g. 1960."],
    right=[1970],
    wrong=[(1954, "Drucker"), (1990, "software")],
)
def _decade(answer: object) -> Feedback | None:
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
    return None


@exercise(
    "origins_principle_count",
    hints=["count the rows of cl.history.principles()."],
    right=lambda: [len(history.principles())],
    wrong=[(10, "perspectives")],
)
def _principles(answer: object) -> Feedback | None:
    """How many founding principles did early CRM rest on?"""
    expected = len(history.principles())
    if answer == expected:
        return Feedback.correct("protect, foster, grow the value of all customers.")
    if answer == len(history.perspectives()):
        return Feedback.wrong("that counts the perspectives, not the principles.")
    return None


@exercise(
    "origins_events_before_1990",
    hints=["filter cl.history.timeline() on year < 1990 and count the rows."],
    right=lambda: [int((history.timeline()["year"] < 1990).sum())],
    wrong=[(99, "count")],
)
def _before_1990(answer: object) -> Feedback | None:
    """How many events of the timeline are dated before 1990?"""
    events = history.timeline()
    expected = int((events["year"] < 1990).sum())
    if answer == expected:
        return Feedback.correct(f"{expected} events; CRM's ideas are older than its software.")
    if answer == int((events["year"] <= 1990).sum()):
        return Feedback.wrong("'before 1990' excludes 1990 itself: use < rather than <=.")
    return None
