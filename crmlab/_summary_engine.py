"""The in-memory engine behind :func:`crmlab.transactions.summarize`.

It works on plain integer arrays (customer codes 0..n-1 and integer times: day
numbers, period starts or nanoseconds, as the front's ``merge`` chooses), so that
another engine (DuckDB on Parquet files, Spark on a cluster) can take its place
behind the same front. Per-customer first and last days come from unbuffered
``minimum.at``/``maximum.at``, sums from ``bincount``; only the count of distinct
purchase days needs a sort. There is no Python loop over customers.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["Summary", "count_days", "customer_codes", "summarize_arrays"]


class Summary(NamedTuple):
    """Per-customer arrays, in days; ``monetary`` is None without amounts."""

    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    monetary: np.ndarray | None


def _distinct_days_per_customer(
    codes: np.ndarray, days: np.ndarray, n_customers: int
) -> np.ndarray:
    """Number of distinct purchase days of each customer code.

    Sorting the combined (customer, day) key as plain integers, without an index
    permutation, is the one O(n log n) step, and the fastest way numpy offers to
    find distinct pairs.
    """
    if len(codes) == 0:
        return np.zeros(n_customers, dtype=np.int64)
    base_day = days.min()
    span = np.int64(days.max() - base_day + 1)
    # A 32-bit key sorts about a third faster; it fits unless customers x days > 2**31.
    dtype = np.int32 if n_customers * span < np.iinfo(np.int32).max else np.int64
    key = codes.astype(dtype) * dtype(span) + (days - base_day).astype(dtype)
    key.sort()
    starts = np.empty(len(key), dtype=bool)
    starts[0] = True
    np.not_equal(key[1:], key[:-1], out=starts[1:])
    return np.bincount(key[starts] // span, minlength=n_customers)


def summarize_arrays(
    codes: np.ndarray,
    days: np.ndarray,
    amounts: np.ndarray | None,
    *,
    n_customers: int,
    end_day: int,
    distinct: bool = True,
) -> Summary:
    """Repeat transactions, recency and age (in the times' ticks) for codes ``0..n_customers-1``.

    With ``distinct`` (same-day or same-period merging) a transaction is a distinct
    time of the customer; without it every row is one, and if several rows share a
    customer's first time, her first purchase is worth their mean. Every customer
    code must occur at least once (the front guarantees it).

    >>> s = summarize_arrays(np.array([0, 0, 1, 0]), np.array([3, 3, 5, 10]),
    ...                      np.array([1.0, 2.0, 4.0, 6.0]), n_customers=2, end_day=12)
    >>> s.x.tolist(), s.t_x.tolist(), s.T.tolist(), s.monetary.tolist()
    ([1, 0], [7, 0], [9, 7], [6.0, nan])
    """
    rows = np.bincount(codes, minlength=n_customers)
    if n_customers and rows.min() == 0:
        raise AssertionError("every customer code must have at least one transaction")
    first_day = np.full(n_customers, np.iinfo(np.int64).max)
    np.minimum.at(first_day, codes, days)
    last_day = np.full(n_customers, np.iinfo(np.int64).min)
    np.maximum.at(last_day, codes, days)
    x = (_distinct_days_per_customer(codes, days, n_customers) if distinct else rows) - 1
    monetary = None
    if amounts is not None:
        total = np.bincount(codes, weights=amounts, minlength=n_customers)
        on_first_day = days == first_day[codes]
        first_total = np.bincount(
            codes[on_first_day], weights=amounts[on_first_day], minlength=n_customers
        )
        if not distinct:
            first_total = first_total / np.bincount(codes[on_first_day], minlength=n_customers)
        with np.errstate(invalid="ignore", divide="ignore"):
            monetary = np.where(x > 0, (total - first_total) / x, np.nan)
    return Summary(x=x, t_x=last_day - first_day, T=end_day - first_day, monetary=monetary)


def count_days(
    codes: np.ndarray,
    days: np.ndarray,
    amounts: np.ndarray | None,
    *,
    n_customers: int,
    distinct: bool = True,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Number of distinct purchase days (or of rows) per customer code, and their total value.

    >>> count_days(np.array([1, 1, 1]), np.array([4, 4, 9]), None, n_customers=3)[0].tolist()
    [0, 2, 0]
    """
    if distinct:
        counts = _distinct_days_per_customer(codes, days, n_customers)
    else:
        counts = np.bincount(codes, minlength=n_customers)
    totals = None
    if amounts is not None:
        totals = np.bincount(codes, weights=amounts, minlength=n_customers)
    return counts, totals


def customer_codes(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes 0..n-1 of the customer ids, in sorted order of the ids, and the sorted ids.

    Integer ids in a range not much wider than the log (the usual case: a customer
    number) are ranked by a table lookup, in linear time; anything else goes through
    a sorting factorisation.

    >>> codes, uniques = customer_codes(np.array([30, 10, 30, 20]))
    >>> codes.tolist(), uniques.tolist()
    ([2, 0, 2, 1], [10, 20, 30])
    """
    import pandas as pd

    if ids.dtype.kind in "iu" and len(ids):
        low, high = int(ids.min()), int(ids.max())
        span = high - low + 1
        if span <= 4 * len(ids) + 1024:
            offsets = (ids - low).astype(np.intp, copy=False)
            present = np.zeros(span, dtype=bool)
            present[offsets] = True
            rank = np.cumsum(present, dtype=np.intp) - 1
            uniques = (np.flatnonzero(present) + low).astype(ids.dtype, copy=False)
            return rank[offsets], uniques
    codes, uniques = pd.factorize(ids, sort=True)
    return codes, np.asarray(uniques)
