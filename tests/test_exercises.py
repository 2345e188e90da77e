"""Every exercise check, from what it declares next to itself in ``crmlab/exercises/``.

Each check declares right answers (which must pass), wrong answers with a word the
message must contain (which must fail and name the mistake), and a hint ladder. These
tests walk the registry, so a new check is tested as soon as it is written.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlab.exercises import check
from crmlab.exercises._core import _DEFAULT_HINT, Checks, exercise, number

NAMES = check.names()
#: Checks that take one number or word (the others judge a table, an array or a function).
SCALAR_NAMES = [name for name in NAMES if check.spec(name).scalar]

# Answers no check expects; each must fail with a message, never through the error path.
ODD_ANSWERS = [
    None,
    "text",
    [1, 2],
    float("nan"),
    True,
    pd.Series([1.0, 2.0, 3.0]),
    pd.Series([True, False]),
    pd.Series([], dtype=float),
    object(),
]


@pytest.fixture(autouse=True)
def fresh_ladders():
    check.reset()
    yield
    check.reset()


@pytest.mark.parametrize("name", NAMES)
def test_every_check_declares_hints_and_answers(name):
    spec = check.spec(name)
    assert _DEFAULT_HINT not in spec.hints, "declare hints=[nudge, pointer, code]"
    assert spec.func.__doc__, "the docstring states the question"
    assert spec.right_answers(), "declare right=[...] next to the check"
    assert spec.wrong_answers(), "declare wrong=[(answer, word), ...] next to the check"


@pytest.mark.parametrize("name", NAMES)
def test_hint_ladders_climb_from_a_nudge_to_code(name):
    hints = check.spec(name).hints
    assert len(hints) >= 3, "hints=[conceptual nudge, pointer, code]"
    assert len(set(hints)) == len(hints), "each rung says something new"


@pytest.mark.parametrize("name", NAMES)
def test_declared_right_answers_pass(name):
    for answer in check.spec(name).right_answers():
        check.reset()
        feedback = check.run(name, answer)
        assert feedback.ok, f"{answer!r}: {feedback.message}"
        assert feedback.message.startswith("Correct")


@pytest.mark.parametrize("name", NAMES)
def test_declared_wrong_answers_fail_naming_the_mistake(name):
    for answer, word in check.spec(name).wrong_answers():
        check.reset()
        feedback = check.run(name, answer)
        assert not feedback.ok, f"{answer!r} was accepted"
        assert feedback.kind != "error", feedback.message
        assert feedback.message.startswith("Not yet:")
        assert word in feedback.message, f"{answer!r}: {feedback.message!r} lacks {word!r}"


@pytest.mark.parametrize("name", NAMES)
def test_the_placeholder_fails_without_climbing_the_ladder(name):
    feedback = check.run(name, ...)
    assert not feedback.ok and feedback.kind == "placeholder"
    assert feedback.message.startswith("Not answered yet")
    assert check.attempts(name) == 0


@pytest.mark.parametrize("name", NAMES)
def test_odd_answers_fail_with_a_message_and_never_raise(name, capsys):
    for odd in ODD_ANSWERS:
        feedback = check.run(name, odd)
        assert not feedback.ok and feedback.kind != "error", f"{odd!r}: {feedback.message}"
        assert feedback.message.startswith("Not yet:")
        getattr(check, name)(odd)
        assert capsys.readouterr().out.startswith("Not yet")


@pytest.mark.parametrize("name", SCALAR_NAMES)
def test_a_one_element_series_of_a_right_answer_is_accepted(name):
    right = pd.Series([check.spec(name).right_answers()[0]])
    assert check.run(name, right).ok


# --- the machinery itself, on a private registry -------------------------------------


@pytest.fixture
def demo():
    registry = Checks()

    @exercise(
        "share",
        hints=["nudge", "pointer", "code"],
        right=[0.375],
        wrong=[(37.5, "percentage")],
        registry=registry,
    )
    def _share(answer):
        "Share of 8 who bought, when 3 did."
        return number(
            answer,
            3 / 8,
            decimals=3,
            fraction=True,
            slips={7: "days, not weeks"},
            mistakes=[(3, "count, not share")],
        )

    return registry


def test_the_ladder_climbs_on_unexplained_answers_only_and_stays_on_the_last_rung(demo):
    messages = [demo.run("share", answer).message for answer in (0.5, 37.5, 0.6, 0.7, 0.8)]
    assert messages[0].startswith("Not yet: nudge (hint 1 of 3")
    assert "percentage" in messages[1]
    assert messages[2].startswith("Not yet: pointer (hint 2 of 3")
    assert messages[3].startswith("Not yet: code (hint 3 of 3)")
    assert messages[4] == messages[3]
    assert demo.attempts("share") == 3


def test_a_right_answer_and_reset_start_the_ladder_again(demo):
    demo.run("share", 0.5)
    assert demo.run("share", 0.375).ok and demo.attempts("share") == 0
    demo.run("share", 0.5)
    demo.reset("share")
    assert demo.run("share", 0.5).message.startswith("Not yet: nudge")


def test_hint_shows_the_next_rung_without_an_answer(demo, capsys):
    demo.hint("share")
    demo.hint("share")
    assert capsys.readouterr().out.startswith("Hint: nudge")
    assert demo.run("share", 0.9).message.startswith("Not yet: code")


@pytest.mark.parametrize(
    ("answer", "ok"),
    [
        (0.375, True),
        (0.3754, True),  # within half a unit of the third decimal
        (0.3756, False),
        (np.float64(0.375), True),
        (np.array([0.375]), True),
        (pd.DataFrame({"a": [0.375]}), True),
    ],
)
def test_one_tolerance_rule(demo, answer, ok):
    assert demo.run("share", answer).ok is ok


@pytest.mark.parametrize(
    ("answer", "word"),
    [
        (37.5, "percentage"),
        (2.625, "days"),
        (-0.375, "sign"),
        (3, "count, not share"),
        (0.38, "more digits"),
        ("0.375", "without quotes"),
        ("37.5%", "percentage"),
        (None, "None"),
        (float("nan"), "NaN"),
        (np.inf, "infinite"),
        (True, "True/False"),
        (pd.Series([True, False, True]), ".sum()"),
        (pd.Series([0.1, 0.2]), "2 values"),
        (pd.Series([], dtype=float), "empty"),
        (object(), "not a number"),
        (pd.Timedelta(days=3), "length of time"),
        (pd.Timestamp("1997-01-01"), "date"),
    ],
)
def test_common_mistakes_are_diagnosed_by_name(demo, answer, word):
    feedback = demo.run("share", answer)
    assert not feedback.ok and feedback.kind == "diagnosed"
    assert word in feedback.message, feedback.message
    assert demo.attempts("share") == 0


def test_a_duplicate_name_is_refused(demo):
    with pytest.raises(ValueError, match="already registered"):
        exercise("share", registry=demo)(lambda answer: None)
