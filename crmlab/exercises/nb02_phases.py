"""Checks for notebook 02: classify cases into the four phases, spot a weakened assumption,
and match online moves to the components of e-CRM."""

from __future__ import annotations

from crmlab.exercises._core import Feedback, choice, exercise

#: Exercise 1: the phase (1-4) of each case, and the clue that decides it.
CASES = {
    "A": (1, "paper becomes a database and calls are logged: automation of manual work"),
    "B": (2, "two departments share one customer record and one satisfaction goal: integration"),
    "C": (3, "the organisation itself is rebuilt around customers and judged on satisfaction"),
    "D": (4, "the customers' answers come first and the channels are designed around them"),
}
#: Exercise 2: the weakened assumption (a, b or c) the plan relies on.
PLAN_ASSUMPTION = "a"
#: Exercise 3: the e-CRM component behind each online move.
COMPONENTS = {"a": "web_analytics", "b": "content_management", "c": "collaboration"}


@exercise(
    "phases_classify_cases",
    hints=[
        "ask of each case how much of the firm changes: a tool, the links between "
        "departments, the organisation, or the starting point of the design.",
        "compare each case with the explanations in cl.history.phases('en').",
        "A automates, B shares one record, C restructures, D starts from the customers.",
    ],
    right=[{"A": 1, "B": 2, "C": 3, "D": 4}],
    wrong=[
        ({"A": 1, "B": 3, "C": 3, "D": 4}, "restructures the firm"),
        ({"A": 1, "B": 2, "C": 4, "D": 4}, "customers' own answers"),
        ({"A": 2, "B": 2, "C": 3, "D": 4}, "automation"),
        ({"A": 1}, "keys"),
    ],
    scalar=False,
)
def _classify(answer: object) -> Feedback | None:
    """Phase (1-4) of each case A-D in the four-phase framework of seed text 001."""
    if not isinstance(answer, dict) or set(map(str, answer)) != set(CASES):
        return Feedback.wrong("give a dict with the keys 'A', 'B', 'C', 'D' and phases 1-4.")
    wrong = [case for case in sorted(CASES) if answer.get(case) != CASES[case][0]]
    if not wrong:
        return Feedback.correct(
            "A 1 (paper becomes a database), B 2 (one shared record and goal), C 3 (the "
            "organisation itself is rebuilt), D 4 (the customers' answers come first)."
        )
    case = wrong[0]
    given, clue = answer.get(case), CASES[case][1]
    if case == "B" and given == 3:
        return Feedback.wrong(
            "case B links two departments but leaves the organisation as it is; phase 3 "
            "restructures the firm itself."
        )
    if case == "C" and given == 4:
        return Feedback.wrong(
            "case C reorganises around customers but starts from the firm's segments; in "
            "phase 4 the customers' own answers come first."
        )
    return Feedback.wrong(f"{len(wrong)} of 4 not yet right. Case {case}: {clue}.")


_PLAN_OPTIONS = {
    "a": "the plan reuses 2015-2019 behaviour for five years: it assumes that past behaviour "
    "predicts future behaviour, which the seed says no longer holds when markets keep "
    "opening new ways to buy.",
    "b": "the plan says nothing about the offer staying attractive; it reuses old behaviour.",
    "c": "the plan is about predicting who leaves, not about relationships securing loyalty.",
}


@exercise(
    "phases_weak_assumption",
    hints=[
        "ask what the plan takes from the past and keeps unchanged for five years.",
        "compare that with the three beliefs in the table of section 2.",
        "the model learned 2015-2019 behaviour; which belief says that is enough?",
    ],
    right=["a", "A"],
    wrong=[("b", "old behaviour"), ("c", "predicting"), ("d", "letter")],
)
def _assumption(answer: object) -> Feedback:
    """Letter (a, b or c) of the weakened assumption the plan relies on."""
    return choice(answer, PLAN_ASSUMPTION, _PLAN_OPTIONS)


@exercise(
    "phases_ecrm_match",
    hints=[
        "ask of each move whether it measures, publishes, or lets several parties work together.",
        "the keys and explanations are in cl.history.ecrm_components('en').",
        "a measures (web_analytics), b publishes (content_management), c lets three "
        "parties work together (collaboration).",
    ],
    right=[{"a": "web_analytics", "b": "content_management", "c": "collaboration"}],
    wrong=[
        ({"a": "content_management", "b": "web_analytics", "c": "collaboration"}, "swapped"),
        ({"a": "web_analytics", "b": "collaboration", "c": "collaboration"}, "move b"),
        ({"a": "web_analytics"}, "keys"),
    ],
    scalar=False,
)
def _ecrm(answer: object) -> Feedback:
    """Component of e-CRM behind each online move a-c."""
    if not isinstance(answer, dict) or set(map(str, answer)) != set(COMPONENTS):
        return Feedback.wrong(
            "give a dict with the keys 'a', 'b', 'c' and values among 'web_analytics', "
            "'content_management', 'collaboration' (the keys of cl.history.ecrm_components())."
        )
    given = {key: str(value).strip().casefold() for key, value in answer.items()}
    wrong = [key for key in sorted(COMPONENTS) if given[key] != COMPONENTS[key]]
    if not wrong:
        return Feedback.correct(
            "measuring where visitors drop out is web analytics, one system for the pages "
            "each customer sees is content management, three parties on one ticket is "
            "multi-level collaboration."
        )
    if set(given.values()) == set(COMPONENTS.values()):
        return Feedback.wrong(
            f"each component is used once, but {len(wrong)} are swapped: ask for each move "
            "whether it measures, publishes or lets several parties work together."
        )
    return Feedback.wrong(
        f"move {wrong[0]} not yet right: measuring is web analytics, publishing is content "
        "management, working together is collaboration."
    )
