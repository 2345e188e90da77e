"""The one place where crmlab checks its inputs and words what is wrong with them.

Every complaint has the same five parts, in this order, so that a reader (or a
test) always finds them in the same place::

    <where>: <count> <problem>: <first rows>. <what to do>

for example ``column 'amount': 3 value(s) are negative: row 4: -2.5, row 9: -1.0,
row 12: -7.0. Pass returns='net' ... or returns='drop' ...``. ``<where>`` is a
column of a frame or an argument with the rule it breaks (``t must be finite and
>= 0``); the first rows are at most :data:`SHOWN_ROWS`, named by their index label
when there is one, followed by ``(and N more)``. Several problems found at once are
raised together in one :class:`InputError`, one problem per line.

The helpers:

* :func:`first_rows` formats the first offending rows;
* :class:`Problem` is one complaint, :func:`raise_problems` raises a list of them;
* :func:`check_values` checks numbers against bounds (finite, ``>= low``,
  ``<= high``, ``> low``, whole);
* :func:`broadcast` and :func:`as_output` broadcast scalar-or-array inputs like
  numpy and give scalars back for scalars.

>>> check_values(np.array([0.5, 1.5, 2.0]), "retention", low=0, high=1)
Traceback (most recent call last):
...
crmlab._validate.InputError: retention must be finite and between 0 and 1: 2 value(s) are not: ...
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "SHOWN_ROWS",
    "InputError",
    "Problem",
    "as_output",
    "broadcast",
    "check_values",
    "first_rows",
    "raise_problems",
]

#: How many offending rows a message shows.
SHOWN_ROWS = 5


class InputError(ValueError):
    """Bad input; ``problems`` lists every :class:`Problem` found (one per message line)."""

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


def _shown(value: Any) -> str:
    if isinstance(value, float | np.floating):
        # Shortest exact form: 38.86, -4.0, nan; never 'np.float64(...)'.
        return repr(float(value))
    if isinstance(value, np.generic):
        return repr(value.item())
    return repr(value)


def first_rows(
    mask: np.ndarray,
    *columns: Any,
    labels: Sequence[Any] | None = None,
    limit: int = SHOWN_ROWS,
    noun: str = "row",
) -> str:
    """The first offending rows: ``row <label>: <value>`` or ``row <label>: (<v>, ...)``.

    ``columns`` are array-likes aligned with ``mask`` (positional, so duplicate labels
    are fine); ``labels`` name the rows (an index), else positions are shown;
    ``noun`` is what a row is (``"customer"`` for per-customer findings).

    >>> first_rows(np.array([True, False, True]), [-1.0, 2.0, -3.0], labels=["a", "b", "c"])
    "row 'a': -1.0, row 'c': -3.0"
    >>> first_rows(np.ones(7, bool), np.arange(7), np.arange(7) * 2, limit=2)
    'row 0: (0, 0), row 1: (1, 2) (and 5 more)'
    """
    mask = np.asarray(mask, dtype=bool).ravel()
    positions = np.flatnonzero(mask)
    first = positions[:limit]
    names = [labels[i] for i in first] if labels is not None else first.tolist()
    parts = []
    for position, name in zip(first, names, strict=True):
        values = [_value_at(column, position) for column in columns]
        shown = values[0] if len(values) == 1 else f"({', '.join(values)})"
        parts.append(f"{noun} {_shown(name)}: {shown}" if columns else f"{noun} {_shown(name)}")
    more = len(positions) - len(first)
    return ", ".join(parts) + (f" (and {more:,} more)" if more > 0 else "")


def _value_at(column: Any, position: int) -> str:
    if hasattr(column, "iloc"):
        return _shown(column.iloc[position])
    return _shown(np.asarray(column).ravel()[position])


def _values(values: np.ndarray, mask: np.ndarray, limit: int = SHOWN_ROWS) -> str:
    bad = np.asarray(values).ravel()[np.asarray(mask).ravel()]
    shown = "[" + ", ".join(_shown(v) for v in bad[:limit]) + "]"
    more = len(bad) - limit
    return shown + (f" (and {more:,} more)" if more > 0 else "")


@dataclass(frozen=True)
class Problem:
    """One complaint about an input: where, how many, what, which rows, what to do.

    ``handled_by`` names the option that deals with it (``"on_invalid"``, ...) or is
    ``None`` when only fixing the data helps; ``blocking`` is False for findings that
    are reported but not refused (exact duplicates kept, rows after the window).

    >>> print(Problem("column 'date'", 1, "value(s) are not dates", "row 2: '2024-02-30'",
    ...               "Pass on_invalid='drop'"))
    column 'date': 1 value(s) are not dates: row 2: '2024-02-30'. Pass on_invalid='drop'
    """

    where: str
    count: int
    what: str
    rows: str = ""
    fix: str = ""
    handled_by: str | None = None
    blocking: bool = True

    def __str__(self) -> str:
        text = f"{self.where}: {self.count:,} {self.what}"
        if self.rows:
            text += f": {self.rows}"
        if self.fix:
            text += f". {self.fix}"
        return text


def raise_problems(problems: Sequence[Problem], header: str = "") -> None:
    """Raise one :class:`InputError` for all blocking ``problems`` (nothing if there are none).

    One problem gives a one-line message; several give ``header`` and one numbered
    line each.
    """
    blocking = [problem for problem in problems if problem.blocking]
    if not blocking:
        return
    if len(blocking) == 1:
        raise InputError(str(blocking[0]), blocking)
    lines = [header or f"{len(blocking)} problems:"]
    lines += [f"  {number}. {problem}" for number, problem in enumerate(blocking, start=1)]
    raise InputError("\n".join(lines), blocking)


def check_values(
    values: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    above: float | None = None,
    whole: bool = False,
    finite: bool = True,
    labels: Sequence[Any] | None = None,
) -> None:
    """Refuse values that are not finite or break a bound, naming ``name`` and the values.

    ``low``/``high`` are inclusive bounds, ``above`` an exclusive lower bound;
    ``whole`` asks for whole numbers. With ``labels`` the offending rows are named,
    otherwise their values are listed.

    >>> check_values(np.array([1.0, -2.0]), "t", low=0)
    Traceback (most recent call last):
    ...
    crmlab._validate.InputError: t must be finite and >= 0: 1 value(s) are not: [-2.0]
    """
    array = np.asarray(values, dtype="float64")
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(array) if finite else np.isnan(array)
        bounds = []
        if low is not None and high is not None:
            bad |= (array < low) | (array > high)
            bounds.append(f"between {low:g} and {high:g}")
        elif low is not None:
            bad |= array < low
            bounds.append(f">= {low:g}")
        elif high is not None:
            bad |= array > high
            bounds.append(f"<= {high:g}")
        if above is not None:
            bad |= array <= above
            bounds.append(f"> {above:g}")
        if whole:
            bad |= np.isfinite(array) & (array != np.round(array))
    # "whole numbers >= 0" says finite already; otherwise "finite and >= 0".
    head = "whole numbers" if whole else ("finite" if finite else "numbers")
    rule = " ".join([head, *bounds]) if whole else " and ".join([head, *bounds])
    if np.any(bad):
        shown = first_rows(bad, array, labels=labels) if labels is not None else _values(array, bad)
        problem = Problem(f"{name} must be {rule}", int(np.sum(bad)), "value(s) are not", shown)
        raise InputError(str(problem), [problem])


def broadcast(*values: Any, names: Sequence[str] | None = None) -> tuple[list[np.ndarray], bool]:
    """Broadcast inputs to float arrays like numpy; remember whether all were scalars.

    >>> arrays, is_scalar = broadcast(1.0, [1, 2])
    >>> [a.tolist() for a in arrays], is_scalar
    ([[1.0, 1.0], [1.0, 2.0]], False)
    """
    names = list(names) if names is not None else [f"argument {i + 1}" for i in range(len(values))]
    arrays = []
    for name, value in zip(names, values, strict=True):
        try:
            arrays.append(np.asarray(value, dtype="float64"))
        except (TypeError, ValueError):
            raise InputError(f"{name} must be numeric, got {value!r}") from None
    is_scalar = all(array.ndim == 0 for array in arrays)
    try:
        return list(np.broadcast_arrays(*arrays)), is_scalar
    except ValueError:
        shapes = {name: array.shape for name, array in zip(names, arrays, strict=True)}
        raise InputError(f"the inputs cannot be broadcast together: shapes {shapes}") from None


def as_output(
    values: Any, is_scalar: bool, what: str = "the prediction", *, refuse_nan: bool = True
) -> Any:
    """A float for scalar inputs, the float array otherwise; optionally refuse NaN.

    The inputs were checked before, so a NaN from a model's formula comes from
    parameters so extreme that the formulas break down; saying so beats handing
    back NaN.

    >>> as_output(np.array(2.0), True), as_output(np.array([1, 2]), False)
    (2.0, array([1., 2.]))
    """
    array = np.asarray(values, dtype="float64")
    if refuse_nan and np.isnan(array).any():
        raise InputError(
            f"{what} is not a number for some inputs: the parameters are too extreme for "
            "the formulas (see the model's summary(), where they are flagged at_boundary)"
        )
    return float(array) if is_scalar else array
