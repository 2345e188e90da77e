"""The machinery behind ``check``: a registry of exercise checks that never raise.

A check is a small function registered under a globally unique name with
:func:`exercise`. In a notebook the learner calls ``check.NAME(answer)``, which prints
one line of feedback and returns nothing; ``check.run("NAME", answer)`` returns the
:class:`Feedback` instead. Neither ever raises, whatever the learner passes.

The four rules every check follows
----------------------------------
**1. One tolerance rule for numbers.** A numeric check states ``decimals``, the number
of decimals the quantity is displayed with (and the question asks for). An answer ``a``
for the exact value ``e`` is accepted when

    ``|a - e| <= 0.5 * 10**(-decimals) + 1e-6 * |e|``

that is, anything within half a unit of the last displayed digit (plus a small relative
slack for floating point and for values a learner computes by another route). So a
learner may type what the notebook shows: ``1077`` for 1076.98 shown as ``1,077.0``
(``decimals=1``), ``0.155`` for 0.15479 shown as ``15.5%`` (``decimals=3``). An answer
that agrees only to fewer decimals than asked (``0.15``) is told to keep more digits.
Without ``decimals``, three significant digits are asked for.

**2. Common mistakes are diagnosed by name** before any hint is shown, by :func:`number`
(and :func:`choice`, :func:`text`), in this order: the placeholder ``...``; ``None``; a
one-element pandas/numpy container (accepted as its value, with a note: we would rather
teach ``.item()`` than reject a right number); a container of many values (a boolean one
is told to count with ``.sum()`` or take a share with ``.mean()``); text where a number
is due (and what the text would give as a number); ``True``/``False``; a length of time
(``Timedelta``) or a date where a number is due; NaN and infinity; then, against the
expected value: mistakes the check declares (``mistakes=[(value, message)]``), a
percentage given for a fraction (``fraction=True``) or a fraction for a percentage
(``percent=True``), unit slips the check declares as factors (``slips={7: "that looks
like days; ..."}``, for an answer 7 times the right one), a wrong sign, and too few
decimals.

**3. A hint ladder.** Each check declares ``hints``: a conceptual nudge first, then a
pointer to the right table, column or function, and code only on the last rung. A wrong
answer that no diagnosis explains shows the next rung: the first wrong attempt at a
check shows hint 1, the second hint 2, and so on, staying on the last. The count is
kept per check name in the kernel (``check.attempts(name)``: rungs shown so far), is
deterministic (it depends only on the calls made), climbs only on wrong answers that no
diagnosis explains (a named mistake already says what to fix; the placeholder is no
attempt), and is reset by a right answer or ``check.reset()``. ``check.hint(name)``
shows the next rung without an answer.

**4. Right and wrong answers live next to the check.** ``@exercise(name, right=...,
wrong=...)`` declares answers that must pass and answers that must fail; ``wrong`` holds
``(answer, word)`` pairs, the word being one the message must contain, so that it names
the mistake. Either may be a zero-argument callable returning the list, so nothing is
computed at import. ``tests/test_exercises.py`` walks the registry and checks every
declaration, the placeholder and a set of odd answers (``None``, text, NaN, a Series, an
object), and that no check ever falls into its error path.

How to write a check
--------------------
1. Put it in ``crmlab/exercises/nbNN_<topic>.py``; it is registered on import. Prefix
   the name with the notebook's topic (``focus_``, ``rfm_``) so names stay unique.
2. Compute the expected value inside the function (``functools.cache`` heavy parts),
   from crmlab itself, never a hard-coded number.
3. Return ``number(answer, expected, decimals=...)`` (or :func:`choice`, :func:`text`).
   They return a :class:`Feedback` when the answer is right or a mistake is recognised,
   and ``None`` otherwise; a check returning ``None`` gets the next rung of its ladder.
4. Declare the mistakes you expect (the other firm, the other column, ``<=`` for ``<``,
   days for weeks) with a message that says what was done and what to do instead,
   without handing over the code.
5. Write three hints (the tests ask for at least three distinct rungs): a nudge about the
   idea, a pointer to where the answer lives, and only then the code.
6. Declare ``right=`` (the exact value and the rounded one the notebook displays) and
   ``wrong=`` (each declared mistake with a word of its message); run
   ``pytest tests/test_exercises.py``.
7. A check takes one answer. For a decision, offer lettered options and use
   :func:`choice` (every option gets its own explanation). For an answer that is a table,
   an array or a function, pass ``scalar=False`` and judge it yourself.
8. The question (in the notebook and the check's docstring) states the unit and the
   number of decimals; the answer must not be on the screen before the exercise.

Example
-------
>>> demo = Checks()
>>> @exercise(
...     "demo_share",
...     hints=["A share divides a part by the whole.", "Part: 3 buyers; whole: 8.", "3 / 8"],
...     right=[0.375, 0.38],
...     wrong=[(37.5, "percentage"), (3, "whole")],
...     registry=demo,
... )
... def _demo_share(answer):
...     "Share of 8 customers who bought, when 3 did (two decimals)."
...     return number(answer, 3 / 8, decimals=2, fraction=True,
...                   mistakes=[(3, "that is the count; divide by the whole, 8.")])
>>> demo.demo_share(0.38)
Correct: 0.38.
>>> demo.demo_share(37.5)
Not yet: that looks like a percentage; give a fraction between 0 and 1 (0.25, not 25).
>>> demo.demo_share(0.5)  # doctest: +ELLIPSIS
Not yet: A share divides a part by the whole. (hint 1 of 3; answer again, or run check.hint...
>>> demo.demo_share(0.6)  # doctest: +ELLIPSIS
Not yet: Part: 3 buyers; whole: 8. (hint 2 of 3; ...
>>> demo.attempts("demo_share")  # the percentage was diagnosed, so it did not climb
2
>>> demo.demo_share("0.375")
Not yet: '0.375' is text (a string); give the number without quotes: 0.375.
>>> import pandas as pd
>>> demo.demo_share(pd.Series([0.375]))
Correct: 0.38. (You gave a one-element Series; that works; `.item()` gives the plain number.)
>>> demo.run("demo_share", ...).ok
False
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Checks",
    "Exercise",
    "Feedback",
    "check",
    "choice",
    "exercise",
    "is_close",
    "number",
    "text",
    "tolerance",
]

RELATIVE_SLACK = 1e-6
"""Relative slack added to the half-unit of the last displayed digit (rule 1)."""

_PLACEHOLDER_MESSAGE = (
    "Not answered yet: replace the `...` with your answer and run the cell again."
)
_DEFAULT_HINT = "compare each step of your work with the question, and read it once more."


@dataclass(frozen=True)
class Feedback:
    """The verdict of a check: whether the answer is right, and what to tell the learner.

    ``kind`` says how the verdict was reached: ``"correct"``, ``"diagnosed"`` (a named
    mistake), ``"hint"`` (a rung of the ladder), ``"placeholder"`` or ``"error"`` (the
    check itself failed on this answer, which the tests forbid).
    """

    ok: bool
    message: str
    kind: str = field(default="", compare=False)

    @classmethod
    def correct(cls, message: str = "well done.") -> Feedback:
        return cls(True, f"Correct: {message}", "correct")

    @classmethod
    def wrong(cls, hint: str) -> Feedback:
        return cls(False, f"Not yet: {hint}", "diagnosed")

    def with_note(self, note: str) -> Feedback:
        """The same verdict with ``note`` appended to the message."""
        return Feedback(self.ok, f"{self.message} {note}", self.kind)


@dataclass(frozen=True)
class Exercise:
    """A registered check and what it declares about itself."""

    name: str
    func: Callable[..., Feedback | None]
    hints: tuple[str, ...]
    right: Sequence[Any] | Callable[[], Sequence[Any]] = ()
    wrong: Sequence[tuple[Any, str]] | Callable[[], Sequence[tuple[Any, str]]] = ()
    scalar: bool = True

    def right_answers(self) -> list[Any]:
        """The declared right answers (computed now if declared lazily)."""
        return list(self.right() if callable(self.right) else self.right)

    def wrong_answers(self) -> list[tuple[Any, str]]:
        """The declared ``(wrong answer, word its message must contain)`` pairs."""
        return [tuple(pair) for pair in (self.wrong() if callable(self.wrong) else self.wrong)]


def tolerance(expected: float, decimals: int | None = None) -> float:
    """Largest accepted distance from ``expected`` under the one tolerance rule.

    Half a unit of the last displayed decimal plus a relative slack of 1e-6; without
    ``decimals``, three significant digits.

    >>> tolerance(0.15479, decimals=3)
    0.00050015479
    >>> round(tolerance(1076.98), 6)  # three significant digits: whole customers
    0.501077
    """
    if decimals is None:
        decimals = _default_decimals(expected)
    return 0.5 * 10.0 ** (-decimals) + RELATIVE_SLACK * abs(expected)


def _default_decimals(expected: float) -> int:
    if expected == 0 or not math.isfinite(expected):
        return 3
    return max(0, 2 - math.floor(math.log10(abs(expected))))


def is_close(answer: Any, expected: float, rel: float = 1e-3, abs_tol: float = 1e-9) -> bool:
    """True when ``answer`` is a number within ``rel`` relative tolerance of ``expected``.

    Kept for checks written before :func:`number`; new checks use :func:`number`, whose
    tolerance follows the one rule of this module.

    >>> is_close(0.6312, 0.631, rel=1e-3), is_close("0.63", 0.63)
    (True, False)
    """
    if isinstance(answer, (bool, str)) or not hasattr(answer, "__float__"):
        return False
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return False
    return math.isfinite(value) and math.isclose(value, expected, rel_tol=rel, abs_tol=abs_tol)


# --------------------------------------------------------------------------- answers


def _size_and_values(answer: Any) -> tuple[int, Any, bool] | None:
    """(size, flat values, is boolean) for a pandas/numpy container, else None."""
    module = type(answer).__module__.split(".")[0]
    if module not in ("pandas", "numpy") or not hasattr(answer, "__len__"):
        return None
    import numpy as np

    try:
        values = np.asarray(answer).ravel()
    except Exception:  # an exotic object: let the check decide
        return None
    return values.size, values, values.dtype == bool


def _one_value(answer: Any) -> tuple[Any, str | None] | Feedback:
    """Unwrap a one-element container; diagnose one with zero or many values."""
    shape = _size_and_values(answer)
    if shape is None:
        return answer, None
    size, values, boolean = shape
    kind = type(answer).__name__
    if size == 1:
        value = values[0]
        value = value.item() if hasattr(value, "item") else value
        note = f"(You gave a one-element {kind}; that works; `.item()` gives the plain number.)"
        return value, note
    if size == 0:
        return Feedback.wrong(
            f"this {kind} is empty: the selection kept no rows. Check the filter's "
            "condition (spelling, type, and the range of values)."
        )
    if boolean:
        return Feedback.wrong(
            f"this is a {kind} of {size} True/False values, one per row. The question "
            "asks for one number: count the True values with `.sum()`, or take their "
            "share with `.mean()`."
        )
    return Feedback.wrong(
        f"this is a {kind} of {size} values; the question asks for one number. Pick the "
        "row you need, or summarise the values (a sum, a mean, a count)."
    )


def _as_float(answer: Any) -> float | Feedback:
    """The answer as a float, or a Feedback naming why it is not a number."""
    if answer is None:
        return Feedback.wrong(
            "the answer is None. Did you assign the result of `print(...)`, or of a "
            "function that returns nothing? Assign the value itself."
        )
    if isinstance(answer, bool) or type(answer).__name__ == "bool_":
        return Feedback.wrong(
            "True/False is not a number. If you meant to count the True values of a "
            "condition, use `.sum()`; for their share, `.mean()`."
        )
    if isinstance(answer, str):
        cleaned = answer.strip().replace(",", "").replace("_", "")
        percent = cleaned.endswith("%")
        try:
            value = float(cleaned.rstrip("%").strip())
        except ValueError:
            return Feedback.wrong(
                f"{answer!r} is text (a string), not a number; give the number itself, "
                "without quotes."
            )
        shown = f"{value:g}" + (
            " (a percentage; a fraction is that divided by 100)" if percent else ""
        )
        return Feedback.wrong(
            f"{answer!r} is text (a string); give the number without quotes: {shown}."
        )
    kind = type(answer).__name__
    if kind in ("Timedelta", "timedelta", "timedelta64"):
        return Feedback.wrong(
            f"this is a {kind}, a length of time, not a number: express it in the unit the "
            "question asks for, e.g. `.days / 7` for weeks, or divide by pd.Timedelta(weeks=1)."
        )
    if kind in ("Timestamp", "datetime", "datetime64", "date", "Period"):
        return Feedback.wrong(
            f"this is a date ({kind}), not a number; a time in the summary is a difference "
            "of two dates, in the question's unit."
        )
    if isinstance(answer, complex) or not hasattr(answer, "__float__"):
        return Feedback.wrong(
            f"this is a {type(answer).__name__}, not a number. If it is a result object or "
            "a table, take the attribute, column or cell that holds the number you need."
        )
    try:
        value = float(answer)
    except (TypeError, ValueError):
        return Feedback.wrong(f"could not read {answer!r} as a number.")
    if math.isnan(value):
        return Feedback.wrong(
            "the answer is NaN (not a number). That usually comes from a mean or a division "
            "over an empty selection, or from a missing value; check the rows you kept."
        )
    if math.isinf(value):
        return Feedback.wrong("the answer is infinite: is something divided by zero?")
    return value


def _typed_decimals(value: float) -> int | None:
    """Decimals in the shortest representation of ``value`` (None for exponent form)."""
    shown = repr(float(value))
    if "e" in shown or "inf" in shown or "nan" in shown:
        return None
    return len(shown.split(".")[1].rstrip("0")) if "." in shown else 0


def _format(value: float, decimals: int) -> str:
    return f"{value:,.{max(decimals, 0)}f}"


def number(
    answer: Any,
    expected: float,
    *,
    decimals: int | None = None,
    correct: str | None = None,
    mistakes: Iterable[tuple[float, str]] = (),
    fraction: bool = False,
    percent: bool = False,
    slips: Mapping[float, str] | None = None,
    sign: bool = True,
) -> Feedback | None:
    """Judge a numeric answer: right, a named mistake, or ``None`` (not recognised).

    Parameters
    ----------
    answer
        What the learner gave.
    expected
        The exact value.
    decimals
        Decimals the notebook displays and the question asks for (rule 1 of the module).
    correct
        Message after "Correct: "; default: the value with ``decimals`` decimals.
    mistakes
        ``(value, message)`` pairs: a value a plausible mistake gives, and what to say.
    fraction, percent
        The expected value is a fraction (diagnose 100 times it as a percentage) or a
        percentage (diagnose a hundredth of it as a fraction).
    slips
        Unit slips as ``{factor: message}``: an answer ``factor`` times the right one
        (7 for days where weeks are asked, 1/7 for the reverse, 12 for months per year).
    sign
        Diagnose the right magnitude with the wrong sign.

    Examples
    --------
    >>> number(1077, 1076.98, decimals=1).ok
    True
    >>> number(1076.9, 1076.98, decimals=1) is None  # not recognised: the ladder decides
    True
    >>> print(number(0.15, 0.15479, decimals=3).message)
    Not yet: 0.15 is right to 2 decimals only; the question asks for 3: keep more digits.
    >>> print(number(-0.4, 0.4, decimals=2).message)
    Not yet: the size is right but the sign is wrong; check the order of the subtraction.
    >>> days = {7: "that looks like days; the model counts weeks."}
    >>> print(number(70.0, 10.0, decimals=1, slips=days).message)
    Not yet: that looks like days; the model counts weeks.
    """
    value = _one_value(answer)
    if isinstance(value, Feedback):
        return value
    value, note = value
    value = _as_float(value)
    if isinstance(value, Feedback):
        return value
    expected = float(expected)
    if decimals is None:
        decimals = _default_decimals(expected)
    tol = tolerance(expected, decimals)

    def add_note(feedback: Feedback) -> Feedback:
        return feedback.with_note(note) if note else feedback

    if abs(value - expected) <= tol:
        return add_note(Feedback.correct(correct or f"{_format(expected, decimals)}."))
    for mistaken, message in mistakes:
        mistaken = float(mistaken)
        if abs(value - mistaken) <= tolerance(mistaken, decimals):
            return add_note(Feedback.wrong(message))
    scaled: list[tuple[float, str]] = []
    if fraction:
        scaled.append(
            (100.0, "that looks like a percentage; give a fraction between 0 and 1 (0.25, not 25).")
        )
    if percent:
        scaled.append((0.01, "that looks like a fraction; give a percentage (25, not 0.25)."))
    scaled.extend((slips or {}).items())
    for factor, message in scaled:
        if abs(value - factor * expected) <= abs(factor) * tol:
            return add_note(Feedback.wrong(message))
    if sign and expected != 0 and abs(value + expected) <= tol:
        return add_note(
            Feedback.wrong(
                "the size is right but the sign is wrong; check the order of the subtraction."
            )
        )
    typed = _typed_decimals(value)
    if (
        typed is not None
        and typed < decimals
        and abs(value - expected) <= tolerance(expected, typed)
    ):
        return add_note(
            Feedback.wrong(
                f"{value:g} is right to {typed} decimal{'s' if typed != 1 else ''} only; the "
                f"question asks for {decimals}: keep more digits."
            )
        )
    return None


def _normalise(word: str) -> str:
    return re.sub(r"[\s_\-]+", " ", word.strip().casefold().strip("()[]'\"."))


def text(
    answer: Any,
    accepted: Iterable[str],
    *,
    correct: str | None = None,
    mistakes: Mapping[str, str] | None = None,
) -> Feedback | None:
    """Judge a short text answer, ignoring case, spaces, hyphens and underscores.

    >>> text("Customer-centric", ["customer centric"]).ok
    True
    >>> phase_3 = {"process": "that is phase 3."}
    >>> print(text("process", ["customer centric"], mistakes=phase_3).message)
    Not yet: that is phase 3.
    """
    accepted = [_normalise(word) for word in accepted]
    if answer is None:
        return Feedback.wrong("the answer is None; give the words as a string in quotes.")
    if not isinstance(answer, str):
        return Feedback.wrong(
            f"this is a {type(answer).__name__}; the question asks for words, as a string "
            "in quotes."
        )
    given = _normalise(answer)
    if given in accepted:
        return Feedback.correct(correct or f"{answer.strip()}.")
    for wrong, message in (mistakes or {}).items():
        if given == _normalise(wrong):
            return Feedback.wrong(message)
    return None


def choice(
    answer: Any,
    right: str,
    options: Mapping[str, str],
    *,
    correct: str | None = None,
) -> Feedback:
    """Judge a multiple-choice answer given as the option's letter (``"b"``).

    ``options`` maps every letter to what to say when that option is chosen: for a
    wrong option, why it is wrong; for the right one, why it is right (used as the
    "Correct" message unless ``correct`` is given). A choice is always diagnosed, so
    a check built on it never climbs to a code hint.

    >>> opts = {"a": "a higher margin is not enough.", "b": "retention compounds."}
    >>> print(choice("B", "b", opts).message)
    Correct: retention compounds.
    >>> print(choice("a", "b", opts).message)
    Not yet: a higher margin is not enough.
    >>> print(choice(2, "b", opts).message)
    Not yet: answer with the letter of one option, as a string: 'a' or 'b'.
    """
    letters = sorted(options)
    quoted = [f"'{letter}'" for letter in letters]
    listed = ", ".join(quoted[:-1]) + f" or {quoted[-1]}" if len(quoted) > 1 else quoted[0]
    if not isinstance(answer, str) or _normalise(answer) not in letters:
        return Feedback.wrong(f"answer with the letter of one option, as a string: {listed}.")
    given = _normalise(answer)
    if given == right:
        return Feedback.correct(correct or options[right])
    return Feedback.wrong(options[given])


# --------------------------------------------------------------------------- registry


class Checks:
    """Namespace of registered checks: ``check.<name>(answer, ...)``.

    Besides the checks themselves: ``run``, ``names``, ``spec``, ``hint``,
    ``attempts``, ``solved`` and ``reset``.
    """

    def __init__(self) -> None:
        self._registry: dict[str, Exercise] = {}
        self._attempts: dict[str, int] = {}
        self._solved: set[str] = set()

    def register(self, spec: Exercise) -> None:
        if spec.name in self._registry:
            raise ValueError(f"an exercise check named {spec.name!r} is already registered")
        self._registry[spec.name] = spec

    def names(self) -> list[str]:
        """The names of every registered check, sorted."""
        return sorted(self._registry)

    def spec(self, name: str) -> Exercise:
        """What check ``name`` declares: its function, hints, right and wrong answers."""
        return self._registry[name]

    def attempts(self, name: str) -> int:
        """Rungs of check ``name``'s hint ladder shown since its last right answer or reset."""
        return self._attempts.get(name, 0)

    def solved(self, name: str) -> bool:
        """Whether check ``name`` has accepted an answer in this kernel since the last reset.

        A cell that discusses an exercise's result can wait for it, so that a learner who
        runs ahead is not shown the answer:

        >>> demo = Checks()
        >>> @exercise("demo_two", hints=["a", "b", "c"], right=[2], wrong=[(3, "one")],
        ...           registry=demo)
        ... def _demo_two(answer):
        ...     "One plus one."
        ...     return number(answer, 2, decimals=0, mistakes=[(3, "one plus one, not two.")])
        >>> demo.solved("demo_two")
        False
        >>> demo.demo_two(2)
        Correct: 2.
        >>> demo.solved("demo_two")
        True
        """
        self._require(name)
        return name in self._solved

    def reset(self, name: str | None = None) -> None:
        """Start the hint ladder again, for one check or (without a name) for all."""
        if name is None:
            self._attempts.clear()
            self._solved.clear()
        else:
            self._attempts.pop(name, None)
            self._solved.discard(name)

    def _rung(self, name: str, step: int) -> str:
        hints = self._registry[name].hints
        index = min(step, len(hints)) - 1
        if index + 1 < len(hints):
            more = (
                f" (hint {index + 1} of {len(hints)}; answer again, or run "
                f"check.hint('{name}'), for the next one)"
            )
        elif len(hints) > 1:
            more = f" (hint {len(hints)} of {len(hints)})"
        else:
            more = ""
        return f"{hints[index]}{more}"

    def hint(self, name: str) -> None:
        """Print the next rung of check ``name``'s hint ladder (and climb to it)."""
        self._require(name)
        self._climb(name)
        print(f"Hint: {self._rung(name, self._attempts[name])}")

    def _climb(self, name: str) -> None:
        self._attempts[name] = min(self.attempts(name) + 1, len(self._registry[name].hints))

    def _require(self, name: str) -> None:
        if name not in self._registry:
            raise AttributeError(
                f"no exercise check named {name!r}; known: {', '.join(self.names())}"
            )

    def run(self, name: str, *answers: Any, **kwargs: Any) -> Feedback:
        """Evaluate check ``name`` and return its :class:`Feedback` without printing."""
        self._require(name)
        spec = self._registry[name]
        if any(answer is Ellipsis for answer in answers):
            return Feedback(False, _PLACEHOLDER_MESSAGE, "placeholder")
        feedback = self._judge(spec, answers, kwargs)
        if feedback.ok:
            self._attempts.pop(name, None)
            self._solved.add(name)
        elif feedback.kind == "hint":
            self._climb(name)
            rung = self._rung(name, self._attempts[name])
            feedback = Feedback(False, f"Not yet: {rung}{feedback.message}", "hint")
        return feedback

    def _judge(self, spec: Exercise, answers: tuple, kwargs: dict) -> Feedback:
        notes = []
        if spec.scalar:
            unwrapped = []
            for answer in answers:
                value = _one_value(answer)
                if isinstance(value, Feedback):
                    return value
                unwrapped.append(value[0])
                if value[1]:
                    notes.append(value[1])
            answers = tuple(unwrapped)
            for answer in answers:
                if answer is None:
                    return _as_float(None)
                if isinstance(answer, float) and math.isnan(answer):
                    return _as_float(answer)
        try:
            feedback = spec.func(*answers, **kwargs)
        except Exception as error:  # a learner's odd answer must never crash the notebook
            return Feedback(
                False,
                f"Not yet: the check could not use this answer ({type(error).__name__}: "
                f"{error}). Look at the type and shape the question asks for.",
                "error",
            )
        if feedback is None:
            return Feedback(False, "", "hint")
        for note in notes:
            if note not in feedback.message:
                feedback = feedback.with_note(note)
        return feedback

    def __getattr__(self, name: str) -> Callable[..., None]:
        if name.startswith("_"):
            raise AttributeError(name)
        self._require(name)

        def run_and_print(*answers: Any, **kwargs: Any) -> None:
            # Returns nothing, so a notebook cell shows the feedback and no stray value;
            # use ``check.run`` for the verdict itself.
            print(self.run(name, *answers, **kwargs).message)

        run_and_print.__name__ = name
        run_and_print.__doc__ = self._registry[name].func.__doc__
        return run_and_print

    def __dir__(self) -> list[str]:
        return self.names()


check = Checks()


def exercise(
    name: str,
    *,
    hints: Sequence[str] = (),
    right: Sequence[Any] | Callable[[], Sequence[Any]] = (),
    wrong: Sequence[tuple[Any, str]] | Callable[[], Sequence[tuple[Any, str]]] = (),
    scalar: bool = True,
    registry: Checks | None = None,
) -> Callable[[Callable[..., Feedback | None]], Callable[..., Feedback | None]]:
    """Register a function ``answer -> Feedback | None`` as ``check.<name>``.

    Parameters
    ----------
    name
        Globally unique, prefixed with the notebook's topic.
    hints
        The ladder: a conceptual nudge, a pointer, and code only on the last rung.
    right
        Answers that must pass (the exact value and the rounded value on display), or a
        zero-argument callable returning them.
    wrong
        ``(answer, word)`` pairs that must fail with a message containing ``word``, or a
        zero-argument callable returning them.
    scalar
        The check expects one value: a one-element Series/array/DataFrame is unwrapped
        (with a note), and one with zero or many values, ``None`` and NaN are diagnosed
        before the function runs. Pass ``False`` for checks that take a table, an array
        or a function.
    registry
        Where to register (default: the shared ``check``; the doctests use their own).
    """

    def decorate(func: Callable[..., Feedback | None]) -> Callable[..., Feedback | None]:
        spec = Exercise(
            name=name,
            func=func,
            hints=tuple(hints) or (_DEFAULT_HINT,),
            right=right,
            wrong=wrong,
            scalar=scalar,
        )
        (registry if registry is not None else check).register(spec)
        func.exercise = spec  # type: ignore[attr-defined]
        return func

    return decorate
