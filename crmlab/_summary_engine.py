"""The in-memory engine behind :func:`crmlab.transactions.summarize`.

It works on plain integer arrays (customer codes and integer times: day numbers,
period starts or nanoseconds, as the front's ``merge`` chooses), so that another
engine (DuckDB on Parquet files, Spark on a cluster) can take its place behind the
same front. Codes index a table of customers ``0..n-1``; a code that never occurs
is a customer with no row (the front drops her), so integer customer numbers can
serve as codes without being renumbered.

With merging (the default), one sort of a combined integer key (customer, time)
gives everything but the money: the distinct times, each customer's first and last
time and her number of transactions, all read off the sorted key in sequential
passes. Sums come from ``add.at`` over the rows in their own order, so a
customer's amounts are added in the order of the log. There is no Python loop over
customers. The loops over blocks of rows keep the temporaries small: at tens of
millions of rows, faulting in a fresh array as long as the log costs more than the
arithmetic done on it, so the sorted key is the only one made.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["Summary", "count_days", "customer_codes", "customer_slots", "summarize_arrays"]

#: Rows per block in the loops that build full-length arrays from temporaries.
_BLOCK = 1 << 20


class Summary(NamedTuple):
    """Per-customer arrays, in the times' ticks, for the codes ``customers`` (sorted).

    ``monetary`` is None without amounts.
    """

    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    monetary: np.ndarray | None
    customers: np.ndarray


class _TimeGroups(NamedTuple):
    """Each present customer's code, number of distinct times, first and last time."""

    customers: np.ndarray
    distinct: np.ndarray
    first: np.ndarray
    last: np.ndarray


def _blocks(n: int) -> range:
    return range(0, n, _BLOCK)


def _sorted_keys(
    codes: np.ndarray, times: np.ndarray, n_customers: int, ticks: int
) -> tuple[np.ndarray, int, int]:
    """The combined keys ``code * span + (time - base)``, sorted; ``span`` and ``base``.

    ``time`` is ``times // ticks``. An unsigned 32-bit key sorts in under half the
    time of a 64-bit one; it fits while customers x time span < 2**32 (5 M customers
    over two years of days do).
    """
    base = int(times.min()) // ticks
    span = int(times.max()) // ticks - base + 1
    # The largest key is n_customers * span - 1.
    dtype = np.uint32 if n_customers * span - 1 <= np.iinfo(np.uint32).max else np.int64
    key = np.empty(len(codes), dtype=dtype)
    scratch = np.empty((2, min(_BLOCK, len(codes))), dtype=np.int64)
    for start in _blocks(len(codes)):
        stop = min(start + _BLOCK, len(codes))
        block, day = scratch[0, : stop - start], scratch[1, : stop - start]
        np.multiply(codes[start:stop], span, out=block)
        block += _engine_times(times[start:stop], ticks, day)
        block -= base
        key[start:stop] = block
    key.sort()
    return key, span, base


def _engine_times(times: np.ndarray, ticks: int, out: np.ndarray) -> np.ndarray:
    if ticks == 1:
        out[...] = times
    else:
        np.floor_divide(times, ticks, out=out)
    return out


def _time_groups(codes: np.ndarray, times: np.ndarray, n_customers: int, ticks: int) -> _TimeGroups:
    """Distinct times per customer, and the first and last, from one sort of the keys.

    The sorted keys are read block by block: a block's distinct keys, the customers
    that start in it (their first key) and the keys that end the customers before
    them (their last). Nothing as long as the log is made besides the keys.
    """
    if len(codes) == 0:
        return _TimeGroups(*(np.zeros(0, dtype=t) for t in (np.intp, np.int64, np.int64, np.int64)))
    key, span, base = _sorted_keys(codes, times, n_customers, ticks)
    width = key.dtype.type(span)
    heads: list[np.ndarray] = []  # position of each customer's first distinct key
    firsts: list[np.ndarray] = []  # and that key
    lasts: list[np.ndarray] = []  # the key before each head: the previous customer's last
    seen = 0  # distinct keys in the blocks before this one
    previous = None  # the last distinct key of the blocks before this one
    for start in _blocks(len(key)):
        block = key[start : start + _BLOCK]
        new = np.empty(len(block), dtype=bool)
        new[0] = previous is None or block[0] != previous
        np.not_equal(block[1:], block[:-1], out=new[1:])
        distinct = block[new]
        customer = distinct // width
        starts = np.empty(len(distinct), dtype=bool)
        if len(distinct):
            starts[0] = previous is None or customer[0] != previous // width
            np.not_equal(customer[1:], customer[:-1], out=starts[1:])
            local = np.flatnonzero(starts)
            before = distinct[np.maximum(local - 1, 0)]
            if len(local) and local[0] == 0 and previous is not None:
                before[0] = previous
            elif len(local) and local[0] == 0:
                before = before[1:]
            heads.append(local + seen)
            firsts.append(distinct[local])
            lasts.append(before)
            seen += len(distinct)
            previous = distinct[-1]
    lasts.append(np.array([previous], dtype=key.dtype))
    del key
    # One array per customer column, worked on in place (each is millions long).
    first = np.concatenate(firsts).astype(np.int64)
    last = np.concatenate(lasts).astype(np.int64)
    customers = np.floor_divide(first, span).astype(np.intp, copy=False)
    for column in (first, last):
        np.remainder(column, span, out=column)
        column += base
    starts_at = np.concatenate(heads)
    counts = np.empty_like(starts_at)
    np.subtract(starts_at[1:], starts_at[:-1], out=counts[:-1])
    counts[-1] = seen - starts_at[-1]
    return _TimeGroups(customers=customers, distinct=counts, first=first, last=last)


def summarize_arrays(
    codes: np.ndarray,
    times: np.ndarray,
    amounts: np.ndarray | None,
    *,
    n_customers: int,
    end_day: int,
    distinct: bool = True,
    ticks: int = 1,
) -> Summary:
    """Repeat transactions, recency and age of the customers in ``codes``, in units of ``end_day``.

    ``codes`` are integers in ``0..n_customers-1``; the result covers the codes that
    occur, listed in ``customers`` (sorted). The time of a row is ``times // ticks``
    (``ticks`` microseconds a day turns microsecond timestamps into day numbers
    without a day array as long as the log). With ``distinct`` (same-day or
    same-period merging) a transaction is a distinct time of the customer; without
    it every row is one (``ticks`` must be 1), and if several rows share a
    customer's first time, her first purchase is worth their mean.

    >>> s = summarize_arrays(np.array([0, 0, 2, 0]), np.array([3, 3, 5, 10]),
    ...                      np.array([1.0, 2.0, 4.0, 6.0]), n_customers=3, end_day=12)
    >>> s.customers.tolist(), s.x.tolist(), s.t_x.tolist(), s.T.tolist()
    ([0, 2], [1, 0], [7, 0], [9, 7])
    >>> s.monetary.tolist()
    [6.0, nan]
    """
    codes = np.asarray(codes, dtype=np.intp)
    if distinct:
        groups = _time_groups(codes, times, n_customers, ticks)
        customers, first, last = groups.customers, groups.first, groups.last
        x = groups.distinct
        x -= 1
    else:
        if ticks != 1:
            raise ValueError("without merging, times are used as they are (ticks=1)")
        rows = np.zeros(n_customers, dtype=np.int64)
        np.add.at(rows, codes, 1)
        first_all = np.full(n_customers, np.iinfo(np.int64).max)
        np.minimum.at(first_all, codes, times)
        last_all = np.full(n_customers, np.iinfo(np.int64).min)
        np.maximum.at(last_all, codes, times)
        customers = np.flatnonzero(rows)
        first, last = first_all[customers], last_all[customers]
        x = rows[customers] - 1
    monetary = None
    if amounts is not None:
        monetary = _monetary(
            codes, times, ticks, amounts, customers, first, x, n_customers, distinct
        )
    # The per-customer arrays are the engine's own: reuse them (last, then first).
    t_x = np.subtract(last, first, out=last)
    T = np.subtract(end_day, first, out=first)
    return Summary(x=x, t_x=t_x, T=T, monetary=monetary, customers=customers)


def _monetary(
    codes: np.ndarray,
    times: np.ndarray,
    ticks: int,
    amounts: np.ndarray,
    customers: np.ndarray,
    first: np.ndarray,
    x: np.ndarray,
    n_customers: int,
    distinct: bool,
) -> np.ndarray:
    """Mean value of the repeat transactions: (total - first purchase) / x, NaN for x = 0.

    A customer's amounts are summed in the order of her rows, as a group-by in the
    log's order sums them, by ``add.at`` (the same additions as ``bincount``, which
    would copy a read-only column, as pandas 3 hands them out, before counting); the
    rows on her first day are found and added a block at a time.
    """
    total = np.zeros(n_customers)
    np.add.at(total, codes, amounts)
    total = total[customers]
    total -= _first_totals(codes, times, ticks, amounts, customers, first, n_customers, distinct)
    with np.errstate(invalid="ignore", divide="ignore"):
        total /= x
    total[x == 0] = np.nan
    return total


def _first_totals(
    codes: np.ndarray,
    times: np.ndarray,
    ticks: int,
    amounts: np.ndarray,
    customers: np.ndarray,
    first: np.ndarray,
    n_customers: int,
    distinct: bool,
) -> np.ndarray:
    """Value of the first transaction of each of ``customers`` (first time ``first``).

    With ``distinct`` it is the sum of the amounts at her first time; without it, the
    mean of the rows that share it. The rows on her first time are found and added a
    block at a time.
    """
    # Each row looks up her customer's first time at random: the narrowest table of
    # first times (as offsets from the earliest) stays in cache best.
    low = int(first.min()) if len(first) else 0
    width = int(first.max()) - low if len(first) else 0
    narrow = next(t for t in (np.int16, np.int32, np.int64) if width < np.iinfo(t).max)
    first_of = np.zeros(n_customers, dtype=narrow)
    first_of[customers] = first - low
    first_total = np.zeros(n_customers)
    first_rows = np.zeros(n_customers if not distinct else 0, dtype=np.int64)
    scratch = np.empty(min(_BLOCK, len(codes)), dtype=np.int64)
    for start in _blocks(len(codes)):
        stop = min(start + _BLOCK, len(codes))
        block_codes = codes[start:stop]
        time = _engine_times(times[start:stop], ticks, scratch[: stop - start])
        time -= low
        on_first = time == first_of[block_codes]
        first_codes = block_codes[on_first]
        np.add.at(first_total, first_codes, amounts[start:stop][on_first])
        if not distinct:
            np.add.at(first_rows, first_codes, 1)
    first_total = first_total[customers]
    if not distinct:
        first_total /= first_rows[customers]
    return first_total


def first_values(
    codes: np.ndarray,
    times: np.ndarray,
    amounts: np.ndarray,
    *,
    n_customers: int,
    distinct: bool = True,
    ticks: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """The customers in ``codes`` (sorted) and the value of each one's first transaction.

    Times, ``distinct`` and ``ticks`` as in :func:`summarize_arrays`, whose ``monetary``
    is (total - this value) / x.

    >>> customers, values = first_values(np.array([0, 0, 2, 0]), np.array([3, 3, 5, 10]),
    ...                                  np.array([1.0, 2.0, 4.0, 6.0]), n_customers=3)
    >>> customers.tolist(), values.tolist()
    ([0, 2], [3.0, 4.0])
    """
    codes = np.asarray(codes, dtype=np.intp)
    if distinct:
        groups = _time_groups(codes, times, n_customers, ticks)
        customers, first = groups.customers, groups.first
    else:
        if ticks != 1:
            raise ValueError("without merging, times are used as they are (ticks=1)")
        first_all = np.full(n_customers, np.iinfo(np.int64).max)
        np.minimum.at(first_all, codes, times)
        customers = np.flatnonzero(first_all != np.iinfo(np.int64).max)
        first = first_all[customers]
    values = _first_totals(codes, times, ticks, amounts, customers, first, n_customers, distinct)
    return customers, values


def count_days(
    codes: np.ndarray,
    days: np.ndarray,
    amounts: np.ndarray | None,
    *,
    n_customers: int,
    distinct: bool = True,
    ticks: int = 1,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Number of distinct purchase days (or of rows) per customer code, and their total value.

    >>> count_days(np.array([1, 1, 1]), np.array([4, 4, 9]), None, n_customers=3)[0].tolist()
    [0, 2, 0]
    """
    codes = np.asarray(codes, dtype=np.intp)
    if distinct:
        groups = _time_groups(codes, days, n_customers, ticks)
        counts = np.zeros(n_customers, dtype=np.int64)
        counts[groups.customers] = groups.distinct
    else:
        counts = np.bincount(codes, minlength=n_customers)
    totals = None
    if amounts is not None:
        totals = np.bincount(codes, weights=amounts, minlength=n_customers)
    return counts, totals


def customer_slots(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Codes of the customer ids into a sorted table of ids, which may hold ids not in ``ids``.

    Integer ids in a range narrow beside the log (the usual case: a customer number)
    are their own codes, shifted to start at 0 if they need to be, so nothing is
    hashed, sorted or looked up; :func:`summarize_arrays` leaves out the table's ids
    that have no row. Other ids get the dense codes of :func:`customer_codes`.

    >>> codes, table = customer_slots(np.array([3, 1, 3]))
    >>> codes.tolist(), table.tolist()
    ([3, 1, 3], [0, 1, 2, 3])
    """
    if ids.dtype.kind in "iu" and len(ids):
        low, high = int(ids.min()), int(ids.max())
        # The per-customer arrays are as long as the table: keep it short beside the log.
        room = len(ids) // 4 + 1024
        if 0 <= low and high < room:
            return ids.astype(np.intp, copy=False), np.arange(high + 1, dtype=ids.dtype)
        if high - low < room:
            codes = np.subtract(ids, low, dtype=np.intp, casting="unsafe")
            return codes, np.arange(low, high + 1, dtype=ids.dtype)
    return customer_codes(ids)


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
