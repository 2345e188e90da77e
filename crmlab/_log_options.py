"""The keywords every log-reading function takes, declared once.

A transaction log is read the same way by :func:`crmlab.transactions.validate_transactions`,
:func:`~crmlab.transactions.diagnose`, :func:`~crmlab.transactions.summarize`,
:func:`~crmlab.transactions.calibration_holdout`, :func:`~crmlab.transactions.cohort_table`
and the plots and summaries built on them: the same column names, the same cleaning
options and, for the summaries, the same engine settings. Rather than repeat a dozen
keywords (and their defaults) in every signature, each function takes ``**options``
typed with one of the :class:`~typing.TypedDict` below, and :func:`log_options` checks
the keywords and fills in the defaults in one place. Editors and type checkers still
see every keyword (PEP 692).

>>> log_options({"customer_col": "id"}, LogOptions)["customer_col"]
'id'
>>> log_options({"customer_column": "id"}, LogOptions)
Traceback (most recent call last):
...
TypeError: unexpected keyword argument 'customer_column' (did you mean 'customer_col'?); ...
"""

from __future__ import annotations

import difflib
import os
from typing import Any, Literal, TypedDict

from crmlab._cleaning import Currency, Duplicates, OnInvalid, Returns

__all__ = [
    "DEFAULTS",
    "CleaningOptions",
    "DuckDBSettings",
    "LogColumns",
    "LogOptions",
    "SourceOptions",
    "SummaryOptions",
    "log_options",
    "split_options",
]

Engine = Literal["memory", "duckdb", "spark"]


class LogColumns(TypedDict, total=False):
    """Where the log keeps its customer ids, dates and amounts."""

    customer_col: str
    date_col: str
    amount_col: str | None


class CleaningOptions(TypedDict, total=False):
    """What to do with invalid rows, returns, exact duplicates and currency strings."""

    on_invalid: OnInvalid
    returns: Returns
    duplicates: Duplicates
    currency: Currency


class LogOptions(LogColumns, CleaningOptions, total=False):
    """The columns and the cleaning options: how any function reads a log."""


class DuckDBSettings(TypedDict, total=False):
    """How much memory the DuckDB engine may hold, where it spills, how many passes."""

    memory_limit: str | None
    temp_directory: str | os.PathLike[str] | None
    partitions: int | None


class SourceOptions(LogOptions, DuckDBSettings, total=False):
    """How to read a log from any source: its columns, cleaning, engine and settings."""

    engine: Engine | None


class SummaryOptions(SourceOptions, total=False):
    """Everything a summary takes besides its dates, unit and ``merge``."""

    to_pandas: bool


#: The default of every keyword above.
DEFAULTS: dict[str, Any] = {
    "customer_col": "customer_id",
    "date_col": "date",
    "amount_col": "amount",
    "on_invalid": "raise",
    "returns": "raise",
    "duplicates": "keep",
    "currency": None,
    "engine": None,
    "memory_limit": None,
    "temp_directory": None,
    "partitions": None,
    "to_pandas": False,
}


def log_options(given: dict[str, Any], kind: type, **overrides: Any) -> dict[str, Any]:
    """The keywords of ``kind`` with their defaults, updated by ``given``.

    ``overrides`` change a default for one function (``amount_col=None`` where
    amounts are not needed). An unknown keyword is a ``TypeError`` that names it
    and the nearest known one, as Python's own would.

    >>> sorted(log_options({}, LogColumns, amount_col=None).items())
    [('amount_col', None), ('customer_col', 'customer_id'), ('date_col', 'date')]
    """
    # In the order of DEFAULTS, not of the frozenset, so that messages are stable.
    keys = kind.__required_keys__ | kind.__optional_keys__
    known = tuple(name for name in DEFAULTS if name in keys)
    unknown = [name for name in given if name not in known]
    if unknown:
        name = unknown[0]
        near = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
        raise TypeError(
            f"unexpected keyword argument {name!r}{hint}; this function takes "
            f"{', '.join(sorted(known))}"
        )
    options = {name: overrides.get(name, DEFAULTS[name]) for name in known}
    options.update(given)
    return options


def split_options(options: dict[str, Any], kind: type) -> dict[str, Any]:
    """The entries of ``options`` that belong to ``kind``.

    >>> split_options({"customer_col": "id", "partitions": 4}, DuckDBSettings)
    {'partitions': 4}
    """
    known = kind.__required_keys__ | kind.__optional_keys__
    return {name: value for name, value in options.items() if name in known}
