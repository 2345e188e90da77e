"""Time units: their lengths in days, and durations and rates written with a unit.

One table of unit lengths serves the whole package, so a month is the same length in
a summary, a model's horizon and a CLV discount:

* ``"D"`` day, 1 day;
* ``"W"`` week, 7 days (the CLV literature's unit: days / 7);
* ``"M"`` month, 365.25 / 12 = 30.4375 days (4.348 weeks; lifetimes' CLV uses
  4.345 weeks, which makes its monthly CLV about 0.26 % different);
* ``"Y"`` year, 365.25 days (52.18 weeks).

A duration is a plain number (already in the data's unit), a string such as
``"1Y"``, ``"26W"``, ``"2.5M"`` or ``"M"`` (one month), or a pair ``(12, "M")``.
Converting a duration into another unit is always explicit (:func:`to_unit`); a
duration with a unit given to a model that does not know its own unit is an error,
never a guess.

>>> round(to_unit("1Y", "W"), 2)
52.18
>>> to_unit((12, "M"), "Y")
1.0
>>> to_unit(26, "W")
26.0
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["UNITS", "UNIT_NAMES", "parse_duration", "rate_per", "to_unit", "unit_length_days"]

#: Length of one time unit in days.
UNITS: dict[str, float] = {"D": 1.0, "W": 7.0, "M": 365.25 / 12, "Y": 365.25}
#: Plural names, for axis labels and messages.
UNIT_NAMES: dict[str, str] = {"D": "days", "W": "weeks", "M": "months", "Y": "years"}

_DURATION = re.compile(r"^\s*([0-9]*\.?[0-9]+)?\s*([DWMY])\s*$", re.IGNORECASE)


def unit_length_days(unit: str) -> float:
    """Return the length of ``unit`` in days.

    >>> unit_length_days("W")
    7.0
    """
    try:
        return UNITS[unit]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown time unit {unit!r}; use one of {', '.join(repr(u) for u in UNITS)}"
        ) from None


def parse_duration(value: Any, name: str = "horizon") -> tuple[float, str | None]:
    """Split a duration into (amount, unit); a plain number has unit ``None``.

    >>> parse_duration("1Y"), parse_duration((12, "M")), parse_duration(52)
    ((1.0, 'Y'), (12.0, 'M'), (52.0, None))
    """
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match is None:
            raise ValueError(
                f"{name}={value!r} is not a duration; write a number in the data's unit, "
                "a string such as '1Y', '26W', '12M', '90D', or a pair such as (12, 'M')"
            )
        # A bare unit ("M") is one of it.
        amount, unit = float(match.group(1) or 1), match.group(2).upper()
    elif isinstance(value, tuple):
        if len(value) != 2:
            raise ValueError(f"{name}={value!r}: a duration pair is (amount, unit), e.g. (12, 'M')")
        amount, unit = value
        unit_length_days(unit)
        try:
            amount = float(amount)
        except (TypeError, ValueError):
            raise ValueError(f"{name}={value!r}: the amount must be a number") from None
    elif isinstance(value, bool):
        raise ValueError(f"{name} must be a number or a duration such as '1Y', got {value!r}")
    else:
        try:
            amount, unit = float(value), None
        except (TypeError, ValueError):
            raise ValueError(
                f"{name} must be a number or a duration such as '1Y' or (12, 'M'), got {value!r}"
            ) from None
    return amount, unit


def to_unit(value: Any, unit: str | None, name: str = "horizon") -> float:
    """``value`` (a number, ``"1Y"`` or ``(12, "M")``) expressed in ``unit``.

    A plain number is taken to be in ``unit`` already. A duration with a unit needs
    ``unit`` to be known: converting into an unknown unit would be a silent guess.

    >>> to_unit("4W", "D")
    28.0
    >>> to_unit("1Y", None)
    Traceback (most recent call last):
    ...
    ValueError: horizon='1Y' has a unit, but the model does not know the time unit of its data ...
    """
    amount, given = parse_duration(value, name)
    if given is None:
        return amount
    if unit is None:
        raise ValueError(
            f"{name}={value!r} has a unit, but the model does not know the time unit of its "
            "data (fit it on a summary from crmlab.transactions.summarize, whose "
            "attrs['unit'] records it, or set model.unit = 'W'); or give "
            f"{name} as a plain number in the data's unit"
        )
    return amount * unit_length_days(given) / unit_length_days(unit)


def rate_per(rate: float, per: str | None, unit: str | None, name: str = "discount") -> float:
    """Convert a compound rate per ``per`` into the equivalent rate per ``unit``.

    ``(1 + rate) ** (length(unit) / length(per)) - 1``: 10 % a year is 0.183 % a week.

    >>> round(rate_per(0.10, "Y", "W"), 6)
    0.001828
    """
    if per is None:
        return float(rate)
    if unit is None:
        raise ValueError(
            f"{name} is given per {per!r}, but the time unit of the data is unknown; give it "
            "per period as a plain number, or fit on a summary that records its unit"
        )
    return float((1.0 + rate) ** (unit_length_days(unit) / unit_length_days(per)) - 1.0)
