"""The in-memory engine behind :func:`crmlab.transactions.summarize`.

It works on plain integer arrays (customer codes 0..n-1 and day numbers), so that
another engine (DuckDB on Parquet files, Spark on a cluster) can take its place
behind the same front. One sort of a combined (customer, day) key does all the work;
there is no Python loop over customers.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["Summary", "count_days", "summarize_arrays"]


class Summary(NamedTuple):
    """Per-customer arrays, in days; ``monetary`` is None without amounts."""

    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    monetary: np.ndarray | None


def _purchase_days(
    codes: np.ndarray, days: np.ndarray, amounts: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Collapse rows to one per (customer, day), sorted, with the day's total amount."""
    if len(codes) == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, None if amounts is None else np.empty(0)
    base_day = days.min()
    span = np.int64(days.max() - base_day + 1)
    key = codes.astype(np.int64) * span + (days - base_day)
    order = np.argsort(key, kind="stable")
    key = key[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    unique_key = key[starts]
    day_codes = unique_key // span
    day_numbers = unique_key % span + base_day
    day_totals = None if amounts is None else np.add.reduceat(amounts[order], starts)
    return day_codes, day_numbers, day_totals


def summarize_arrays(
    codes: np.ndarray,
    days: np.ndarray,
    amounts: np.ndarray | None,
    *,
    n_customers: int,
    end_day: int,
) -> Summary:
    """Repeat purchase days, recency and age (in days) for customers ``0..n_customers-1``.

    Every customer code must occur at least once (the front guarantees it).

    >>> s = summarize_arrays(np.array([0, 0, 1, 0]), np.array([3, 3, 5, 10]),
    ...                      np.array([1.0, 2.0, 4.0, 6.0]), n_customers=2, end_day=12)
    >>> s.x.tolist(), s.t_x.tolist(), s.T.tolist(), s.monetary.tolist()
    ([1, 0], [7, 0], [9, 7], [6.0, nan])
    """
    day_codes, day_numbers, day_totals = _purchase_days(codes, days, amounts)
    first_index = np.flatnonzero(np.r_[True, day_codes[1:] != day_codes[:-1]])
    last_index = np.r_[first_index[1:] - 1, len(day_codes) - 1]
    purchase_days = last_index - first_index + 1
    if len(first_index) != n_customers:
        raise AssertionError("every customer code must have at least one transaction")
    first_day = day_numbers[first_index]
    x = purchase_days - 1
    t_x = day_numbers[last_index] - first_day
    age = end_day - first_day
    monetary = None
    if day_totals is not None:
        totals = np.add.reduceat(day_totals, first_index)
        repeat_value = totals - day_totals[first_index]
        with np.errstate(invalid="ignore", divide="ignore"):
            monetary = np.where(x > 0, repeat_value / x, np.nan)
    return Summary(x=x, t_x=t_x, T=age, monetary=monetary)


def count_days(
    codes: np.ndarray, days: np.ndarray, amounts: np.ndarray | None, *, n_customers: int
) -> tuple[np.ndarray, np.ndarray | None]:
    """Number of distinct purchase days per customer code, and their total value.

    >>> count_days(np.array([1, 1, 1]), np.array([4, 4, 9]), None, n_customers=3)[0].tolist()
    [0, 2, 0]
    """
    day_codes, _, day_totals = _purchase_days(codes, days, amounts)
    counts = np.bincount(day_codes, minlength=n_customers)
    totals = None
    if amounts is not None:
        totals = np.bincount(day_codes, weights=day_totals, minlength=n_customers)
    return counts, totals
