"""Self-checks for the notebook exercises.

Each exercise in the solution edition ends with a call such as
``check.retention_rate(answer)``. A check prints friendly feedback and never
raises, so the student edition, where the answer is still the placeholder ``...``,
runs from top to bottom without error. ``check.run(name, answer)`` returns the
verdict as a :class:`Feedback` instead of printing it.

>>> from crmlab.exercises import check
>>> check.demo_square(9)
Correct: 3 squared is 9.
>>> check.demo_square(...)
Not answered yet: replace the `...` with your answer and run the cell again.
>>> check.run("demo_square", 4).ok
False

How checks judge answers, the hint ladder, and how to write one: see
:mod:`crmlab.exercises._core`.
"""

from __future__ import annotations

import importlib
import pkgutil

from crmlab.exercises._core import (
    Feedback,
    check,
    choice,
    exercise,
    is_close,
    number,
    text,
    tolerance,
)

__all__ = ["Feedback", "check", "choice", "exercise", "is_close", "number", "text", "tolerance"]


@exercise(
    "demo_square",
    hints=[
        "Squaring a number multiplies it by itself.",
        "3 squared is 3 times 3.",
        "answer = 3 ** 2",
    ],
    right=[9, 9.0],
    wrong=[(6, "multiply"), (3, "multiply")],
)
def _demo_square(answer: object) -> Feedback | None:
    """What is 3 squared? (used by the documentation and the course introduction)"""
    return number(
        answer,
        9,
        decimals=0,
        correct="3 squared is 9.",
        mistakes=[
            (6, "6 is 3 + 3 or 3 times 2; squaring means: multiply 3 by itself."),
            (3, "3 is the number itself; squaring means: multiply 3 by itself."),
        ],
    )


def _register_notebook_checks() -> None:
    # Each notebook keeps its checks in a module named nbNN_<topic>.py; importing it
    # registers them, so a new notebook needs no edit here.
    for module in pkgutil.iter_modules(__path__):
        if module.name.startswith("nb"):
            importlib.import_module(f"{__name__}.{module.name}")


_register_notebook_checks()
