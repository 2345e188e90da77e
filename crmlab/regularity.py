"""Timing regularity in a log: the summary the BG/CNBD-k and MBG/CNBD-k models need.

Models with Erlang-k interpurchase times (Platzer & Reutterer 2016) need, besides
``x``, ``t_x`` and ``T``, one more statistic per customer: ``litt``, the sum of the
logarithms of her ``x`` intertransaction times within the observation window (the
name BTYDplus's ``elog2cbs`` gives it). By the inequality of the arithmetic and
geometric means ``litt <= x log(t_x / x)``, with equality when every gap is the same;
so, for given ``x`` and ``t_x``, a larger ``litt`` means more regular buying.

:func:`regularity_summary` is :func:`crmlab.transactions.summarize` plus that
column, with the same cleaning options, so its ``x``, ``t_x`` and ``T`` are exactly
``summarize``'s. A customer's purchases of one day count as one transaction (the
default ``merge="day"``), as in the CDNOW analyses and in BTYDplus.

Reference: Platzer, M., & Reutterer, T. (2016). Ticking away the moments: Timing
regularity helps to better predict customer activity. *Marketing Science*, 35(5),
779–799.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmlab._units import unit_length_days
from crmlab._validate import Problem, first_rows, raise_problems

__all__ = ["regularity_summary", "sum_log_gaps"]

_NS_PER_DAY = 86_400 * 10**9


def sum_log_gaps(codes: np.ndarray, times: np.ndarray, n_customers: int) -> np.ndarray:
    """Per customer code ``0..n_customers-1``, the sum of the logs of her successive gaps.

    ``times`` are the transaction times, in any order (one entry per transaction:
    merge first; input sorted by customer and time skips the sort). A customer with
    one transaction gets 0; gaps of zero give ``-inf``, and the caller decides what
    to say about them.

    >>> sum_log_gaps(np.array([0, 0, 0, 1]), np.array([0.0, 3.0, 1.0, 5.0]), 2).round(4).tolist()
    [0.6931, 0.0]
    """
    times = np.asarray(times, dtype="float64")
    if (
        len(codes) > 1
        and not ((np.diff(codes) > 0) | ((codes[1:] == codes[:-1]) & (np.diff(times) >= 0))).all()
    ):
        order = np.lexsort((times, codes))
        codes, times = codes[order], times[order]
    same = codes[1:] == codes[:-1]
    with np.errstate(divide="ignore"):
        logs = np.log(np.diff(times)[same])
    return np.bincount(codes[1:][same], weights=logs, minlength=n_customers)


def regularity_summary(
    tx: pd.DataFrame,
    observation_end: str | pd.Timestamp,
    unit: str = "W",
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str | None = "amount",
    merge: str = "day",
    **cleaning: Any,
) -> pd.DataFrame:
    """``summarize``'s (x, t_x, T, monetary) per customer plus ``litt``.

    Parameters
    ----------
    tx, observation_end, unit, customer_col, date_col, amount_col
        As for :func:`crmlab.transactions.summarize`.
    merge : {"day", "none"}
        ``"day"`` (default): a customer's purchases of one day are one transaction;
        ``"none"``: every row is one, at its timestamp (two rows of a customer at the
        same moment are refused: a gap of zero has no logarithm).
    **cleaning
        ``returns``, ``on_invalid``, ``duplicates``, ``currency``: as for
        ``summarize``, which cleans the log the same way here.

    Returns
    -------
    pandas.DataFrame
        ``summarize``'s frame (same index, columns, ``attrs``) with a column ``litt``:
        the sum over the customer's ``x`` repeat transactions of the log of the time
        since the previous one, in ``unit`` (0 when ``x == 0``).

    Examples
    --------
    Customer a buys on days 0, 7 (twice) and 21: gaps of 1 and 2 weeks.

    >>> log = pd.DataFrame({"customer_id": ["a", "a", "a", "a", "b"],
    ...     "date": pd.to_datetime(["2024-01-01", "2024-01-08", "2024-01-08",
    ...                             "2024-01-22", "2024-01-03"]),
    ...     "amount": [1.0, 2.0, 3.0, 4.0, 5.0]})
    >>> s = regularity_summary(log, "2024-01-29")
    >>> s[["x", "t_x", "T", "litt"]].round(4)
                   x  t_x       T    litt
    customer_id
    a            2.0  3.0  4.0000  0.6931
    b            0.0  0.0  3.7143  0.0000
    """
    from crmlab._log_options import CleaningOptions, log_options
    from crmlab.transactions import (
        _check_merge,
        _customer_codes,
        _day_number,
        _log_arrays,
        _record,
        _summary_frame,
    )

    if merge not in ("day", "D", "none"):
        raise ValueError(
            f"regularity_summary takes merge='day' or merge='none', got {merge!r}: the "
            "gaps between calendar periods ('W', 'M', ...) are whole periods, which "
            "hides the regularity the models look for; summarise by day instead"
        )
    # summarize's in-memory path, step by step, so that the log is cleaned once and
    # the gaps are read from the very arrays the summary counted.
    options = log_options(cleaning, CleaningOptions)
    unit_length_days(unit)
    merge = _check_merge(merge)
    end_day = _day_number(observation_end, "observation_end")
    ids, times, amounts, report, coded, per_day = _log_arrays(
        tx, customer_col, date_col, amount_col, options, merge
    )
    summary = _summary_frame(
        ids, times, amounts, end_day, unit, merge, customer_col, coded, per_day
    )
    _record(summary, unit, merge, options, report)
    summary.attrs["observation_end"] = str(pd.Timestamp(observation_end).date())
    inside = times < (end_day + 1) * per_day
    codes, uniques = _customer_codes(ids, coded, None if inside.all() else inside)
    # The code table may hold customers without a row in the window (integer ids are
    # their own codes); the summary lists only those with rows, in code order.
    present = np.bincount(codes, minlength=len(uniques)) > 0
    codes = (np.cumsum(present) - 1)[codes]
    if int(present.sum()) != len(summary):  # pragma: no cover - the summary's own codes
        raise AssertionError("the cleaned log holds customers the summary lacks")
    if merge == "none":
        dates = times[inside]
    else:
        # One transaction a customer a day: distinct (customer, day) pairs, in one
        # integer key (sorted by customer, then day).
        days = times[inside]
        low = int(days.min()) if len(days) else 0
        span = int(days.max()) - low + 1 if len(days) else 1
        key = np.sort(codes.astype(np.int64) * span + (days - low))
        if len(key):  # an empty window has no first key
            key = key[np.r_[True, key[1:] != key[:-1]]]  # np.unique hashes, slower than sorting
        codes, dates = key // span, (key % span + low) * _NS_PER_DAY
    unit_ns = unit_length_days(unit) * _NS_PER_DAY
    litt = sum_log_gaps(codes, dates / unit_ns, len(summary))
    counts = np.bincount(codes, minlength=len(summary)) - 1
    if not np.array_equal(counts, summary["x"].to_numpy()):  # pragma: no cover
        raise AssertionError("regularity_summary counted other transactions than summarize")
    bad = ~np.isfinite(litt)
    if bad.any():
        raise_problems(
            [
                Problem(
                    f"column {date_col!r}",
                    int(bad.sum()),
                    "customer(s) with two transactions at the same moment (a gap of zero "
                    "has no logarithm)",
                    first_rows(bad, summary["x"], labels=summary.index, noun="customer"),
                    "Use merge='day', or drop the repeated rows (duplicates='drop')",
                )
            ]
        )
    summary["litt"] = litt
    return summary
