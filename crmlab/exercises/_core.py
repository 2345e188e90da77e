"""The machinery behind ``check``: a registry of exercise checks that never raise."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from types import EllipsisType
from typing import Any

__all__ = ["Checks", "Feedback", "check", "exercise", "is_close"]

_PLACEHOLDER_MESSAGE = (
    "Not answered yet: replace the `...` with your answer and run the cell again."
)


@dataclass(frozen=True)
class Feedback:
    """The verdict of a check: whether the answer is right, and what to tell the learner."""

    ok: bool
    message: str

    @classmethod
    def correct(cls, message: str = "well done.") -> Feedback:
        return cls(True, f"Correct: {message}")

    @classmethod
    def wrong(cls, hint: str) -> Feedback:
        return cls(False, f"Not yet: {hint}")


def is_close(answer: Any, expected: float, rel: float = 1e-3, abs_tol: float = 1e-9) -> bool:
    """True when ``answer`` is a number within ``rel`` relative tolerance of ``expected``.

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


class Checks:
    """Namespace of registered checks: ``check.<name>(answer, ...)``."""

    def __init__(self) -> None:
        self._registry: dict[str, Callable[..., Feedback]] = {}

    def register(self, name: str, func: Callable[..., Feedback]) -> None:
        if name in self._registry:
            raise ValueError(f"an exercise check named {name!r} is already registered")
        self._registry[name] = func

    def names(self) -> list[str]:
        """The names of every registered check, sorted."""
        return sorted(self._registry)

    def run(self, name: str, *answers: Any, **kwargs: Any) -> Feedback:
        """Evaluate check ``name`` and return its :class:`Feedback` without printing."""
        func = self._registry[name]
        if any(answer is Ellipsis for answer in answers):
            return Feedback(False, _PLACEHOLDER_MESSAGE)
        try:
            return func(*answers, **kwargs)
        except Exception as error:  # a learner's odd answer must never crash the notebook
            return Feedback(
                False,
                f"Not yet: the check could not use this answer ({type(error).__name__}: "
                f"{error}). Look at the type and shape the question asks for.",
            )

    def __getattr__(self, name: str) -> Callable[..., None]:
        if name.startswith("_") or name not in self._registry:
            raise AttributeError(
                f"no exercise check named {name!r}; known: {', '.join(self.names())}"
            )

        def run_and_print(*answers: Any, **kwargs: Any) -> None:
            # Returns nothing, so a notebook cell shows the feedback and no stray value;
            # use ``check.run`` for the verdict itself.
            print(self.run(name, *answers, **kwargs).message)

        run_and_print.__name__ = name
        run_and_print.__doc__ = self._registry[name].__doc__
        return run_and_print

    def __dir__(self) -> list[str]:
        return self.names()


check = Checks()


def exercise(name: str) -> Callable[[Callable[..., Feedback]], Callable[..., Feedback]]:
    """Register a function ``answer -> Feedback`` as ``check.<name>``."""

    def decorate(func: Callable[..., Feedback]) -> Callable[..., Feedback]:
        check.register(name, func)
        return func

    return decorate


# Re-exported for type hints in the per-notebook modules.
Placeholder = EllipsisType
