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
"""

from __future__ import annotations

import importlib
import pkgutil

from crmlab.exercises._core import Feedback, check, exercise, is_close

__all__ = ["Feedback", "check", "exercise", "is_close"]


@exercise("demo_square")
def _demo_square(answer: object) -> Feedback:
    """What is 3 squared? (used by the documentation and the course introduction)"""
    if answer == 9:
        return Feedback.correct("3 squared is 9.")
    return Feedback.wrong(f"{answer!r} is not 3 squared; multiply 3 by itself.")


def _register_notebook_checks() -> None:
    # Each notebook keeps its checks in a module named nbNN_<topic>.py; importing it
    # registers them, so a new notebook needs no edit here.
    for module in pkgutil.iter_modules(__path__):
        if module.name.startswith("nb"):
            importlib.import_module(f"{__name__}.{module.name}")


_register_notebook_checks()
