"""Checks for notebook 01, the origins of CRM: ordering, matching and spotting exercises."""

from __future__ import annotations

import itertools

from crmlab.exercises._core import Feedback, exercise

#: Undated events of exercise 1, with their year and the clue that places them.
EVENTS = {
    "A": (1987, "a contact manager on a personal computer belongs to the PC era of the 1980s"),
    "B": (1954, "Drucker's 'create a customer' is the idea the others build on, from the 1950s"),
    "C": (2016, "the GDPR replaced the 1995 directive, so it is the most recent"),
    "D": (1983, "Levitt's 'and keep' extends Drucker's sentence, decades later"),
    "E": (1999, "renting software through a web browser needs the web of the late 1990s"),
    "F": (1995, "the EU directive came first and was later replaced by a regulation"),
}
#: Exercise 2: each firm's move and the perspective (1-10) it reflects.
MOVES = {"a": 3, "b": 4, "c": 9, "d": 6}
_MOVE_HINTS = {
    "a": "the order cards become records that software keeps by itself: perspective 3.",
    "b": "the insurer acts before the customer leaves, not after: proactive, perspective 4.",
    "c": "the budget moves from new prospects to more business with existing customers: 9.",
    "d": "the carmaker turns from how cars are shipped to what buyers value: perspective 6.",
}
#: Exercise 3: the memo sentence that states the assumption the others rest on.
MEMO_ASSUMPTION = 2
_MEMO_HINTS = {
    1: "sentence 1 is a claim about the product, which may well be true; what does the memo "
    "assume about customers?",
    3: "sentence 3 is a decision; it follows from an assumption stated earlier.",
    4: "sentence 4 is reactive service, a consequence; look for the belief behind the plan.",
    5: "sentence 5 is the yardstick that follows from the plan, not the belief behind it.",
}


@exercise(
    "origins_order_events",
    hints=[
        "reason from what each event needs first: an idea that another idea extends, a "
        "technology (the personal computer, the web), a law that a later law replaces.",
        "two pairs are fixed by logic: Levitt (D) extends Drucker (B), and the GDPR (C) "
        "replaced the directive (F); place the two software events (A, E) by the "
        "technology they need.",
        "the timeline has every one of them: cl.history.timeline()[['year', 'title']].",
    ],
    right=[["B", "D", "A", "F", "E", "C"], ("B", "D", "A", "F", "E", "C")],
    wrong=[
        (["A", "B", "D", "F", "E", "C"], "comes after"),
        (["B", "D", "A", "E", "F", "C"], "directive"),
        (["B", "D", "A"], "six letters"),
    ],
    scalar=False,
)
def _order(answer: object) -> Feedback | None:
    """Put the undated events A-F in the order in which they happened (oldest first)."""
    if not isinstance(answer, (list, tuple)) or sorted(map(str, answer)) != sorted(EVENTS):
        return Feedback.wrong(
            "give a list of the six letters, each once, oldest first, e.g. ['B', 'A', ...]."
        )
    order = [str(letter) for letter in answer]
    expected = sorted(EVENTS, key=lambda letter: EVENTS[letter][0])
    if order == expected:
        return Feedback.correct(
            "B (1954), D (1983), A (1987), F (1995), E (1999), C (2016): the idea first, "
            "then the software, then the rules for customer data."
        )
    for earlier, later in itertools.pairwise(order):
        if EVENTS[earlier][0] > EVENTS[later][0]:
            return Feedback.wrong(
                f"{earlier} comes after {later}, not before: {EVENTS[later][1]}, while "
                f"{EVENTS[earlier][1]}."
            )
    return None


@exercise(
    "origins_match_perspective",
    hints=[
        "for each move ask what changes: how information is kept, when the firm acts, whom "
        "it spends on, or what it measures.",
        "read the ten perspectives again: cl.history.perspectives('en').",
        "a keeps records by software, b acts before the customer leaves, c spends on "
        "existing customers, d asks what customers value.",
    ],
    right=[{"a": 3, "b": 4, "c": 9, "d": 6}],
    wrong=[
        ({"a": 3, "b": 4, "c": 5, "d": 6}, "existing customers"),
        ({"a": 3, "b": 9, "c": 9, "d": 6}, "proactive"),
        ({"a": 3}, "keys"),
    ],
    scalar=False,
)
def _match(answer: object) -> Feedback | None:
    """Match each firm's move (a-d) to the number (1-10) of the perspective it reflects."""
    if not isinstance(answer, dict) or set(map(str, answer)) != set(MOVES):
        return Feedback.wrong("give a dict with the keys 'a', 'b', 'c', 'd' and numbers 1-10.")
    wrong = [key for key in sorted(MOVES) if answer.get(key) != MOVES[key]]
    if not wrong:
        return Feedback.correct(
            "records kept by software (3), acting before the customer leaves (4), more "
            "business with existing customers (9), what the customer values (6)."
        )
    key = wrong[0]
    if key == "c" and answer.get(key) == 5:
        return Feedback.wrong(
            "move c is about whom the money is spent on, existing customers rather than new "
            "prospects; that is more specific than perspective 5."
        )
    return Feedback.wrong(f"{len(wrong)} of 4 not yet right. Move {key}: {_MOVE_HINTS[key]}")


@exercise(
    "origins_memo_assumption",
    hints=[
        "an assumption is a belief the memo does not argue for; the decisions follow from it.",
        "look for the sentence about what customers will do, not about the product or the plan.",
        "sentences 3-5 are a budget, a service rule and a yardstick; 1 is about the product.",
    ],
    right=[2],
    wrong=[(5, "yardstick"), (1, "assume about customers"), (9, "from 1 to 5")],
)
def _memo(answer: object) -> Feedback | None:
    """Number (1-5) of the memo sentence that states the product-centric assumption."""
    if answer == MEMO_ASSUMPTION:
        return Feedback.correct(
            "sentence 2 assumes that a good product brings customers by itself: customers "
            "are buyers to be found, not relationships to be built. The budget (3), the "
            "reactive service (4) and the yardstick (5) all follow from it."
        )
    if isinstance(answer, int) and not isinstance(answer, bool) and answer in _MEMO_HINTS:
        return Feedback.wrong(_MEMO_HINTS[answer])
    return Feedback.wrong("give the number of one sentence of the memo, from 1 to 5.")
