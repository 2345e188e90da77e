"""What the tracking plot draws, computed from a log or from a table built elsewhere.

The plot needs two daily series and nothing else: how many customers made their
first purchase on each day, and how many repeat purchase days fell on it (a
customer's purchases on one day count once, her first day not at all). That is
:func:`tracking_table`, one row per day, small whatever the size of the log, and
what SQL or Spark can produce where the log lives (see its docstring). From it:

* the observed repeat transactions per period are a ``bincount`` of the days;
* the model's expected cumulative repeat transactions are, for each period edge,
  the sum over acquisition days of (customers acquired that day) ×
  ``E[X(edge - day)]``: one evaluation of ``expected_purchases`` per distinct time
  difference, never one per customer.

No matplotlib here: the figures are in :mod:`crmlab.plots.tracking`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pandas as pd

__all__ = ["TRACKING_COLUMNS", "Curves", "DailyCounts", "daily_counts", "tracking_table"]

#: The columns of a tracking table, in order.
TRACKING_COLUMNS = ("day", "new_customers", "repeat_transactions")

_NO_DAY = np.iinfo(np.int64).min


class DailyCounts(NamedTuple):
    """A checked tracking table as day numbers (days since 1970-01-01) and counts."""

    day: np.ndarray
    new_customers: np.ndarray
    repeat_transactions: np.ndarray


def _log_days(transactions: pd.DataFrame, customer_col: str, date_col: str) -> DailyCounts:
    """Daily counts of a raw log: one sort of the (customer, day) keys, then bincounts."""
    from crmlab._cleaning import clean_days

    missing = [name for name in (customer_col, date_col) if name not in transactions.columns]
    if missing:
        raise ValueError(
            f"the log lacks column(s) {missing}; it has {list(map(str, transactions.columns))}. "
            "Name the columns with customer_col= and date_col=, or pass a tracking table "
            f"with columns {list(TRACKING_COLUMNS)}"
        )
    from crmlab.transactions import _fast_arrays

    fast = _fast_arrays(transactions, customer_col, date_col, None, as_days=True)
    if fast is not None:
        ids, days, _ = fast  # clean datetime64 dates and ids: no copy, nothing to report
    else:
        ids, days = transactions[customer_col].to_numpy(), clean_days(transactions[date_col])
        _refuse_bad_rows(transactions, ids, days, customer_col, date_col)
    if len(days) == 0:
        raise ValueError("the log has no transactions: there is nothing to track")
    first_day = int(days.min())
    span = int(days.max()) - first_day + 1
    key = _customer_key(ids, span)
    # key = customer * span + day: one sort finds the distinct (customer, day) pairs, and
    # puts each customer's first day first among hers. Updates are in place: at tens of
    # millions of rows every fresh array costs more than the arithmetic on it.
    key += days
    key -= first_day
    key.sort()
    distinct = np.empty(len(key), dtype=bool)
    distinct[0] = True
    np.not_equal(key[1:], key[:-1], out=distinct[1:])
    key = key[distinct]
    customer, offset = np.divmod(key, span)
    starts = np.empty(len(key), dtype=bool)
    starts[0] = True
    np.not_equal(customer[1:], customer[:-1], out=starts[1:])
    new = np.bincount(offset[starts], minlength=span)
    repeats = np.bincount(offset, minlength=span) - new
    return DailyCounts(first_day + np.arange(span, dtype=np.int64), new, repeats)


def _customer_key(ids: np.ndarray, span: int) -> np.ndarray:
    """``customer * span`` as a fresh int64 array, customers numbered by their ids if integer."""
    from crmlab._summary_engine import customer_codes

    if ids.dtype.kind in "iu" and len(ids):
        low, high = int(ids.min()), int(ids.max())
        if (high - low + 1) * span < 2**62:
            key = ids.astype(np.int64)
            key -= low
            key *= span
            return key
    codes, _ = customer_codes(ids)
    key = codes.astype(np.int64)
    key *= span
    return key


def _refuse_bad_rows(
    transactions: pd.DataFrame, ids: np.ndarray, days: np.ndarray, customer_col: str, date_col: str
) -> None:
    """Name the rows without a date or a customer id, all in one error."""
    from crmlab._validate import Problem, first_rows, raise_problems

    problems = []
    bad = days == _NO_DAY
    if bad.any():
        problems.append(
            Problem(
                f"column {date_col!r}",
                int(bad.sum()),
                "value(s) are missing or not dates",
                first_rows(bad, transactions[date_col], labels=transactions.index),
                "Fix or drop those rows (crmlab.transactions.diagnose lists them)",
            )
        )
    no_id = pd.isna(ids) if ids.dtype.kind not in "iub" else np.zeros(len(ids), dtype=bool)
    if no_id.any():
        problems.append(
            Problem(
                f"column {customer_col!r}",
                int(no_id.sum()),
                "missing customer id(s)",
                first_rows(no_id, ids, labels=transactions.index),
                "Drop those rows or give them an id",
            )
        )
    raise_problems(problems, "the log cannot be tracked:")


def tracking_table(
    transactions: pd.DataFrame, *, customer_col: str = "customer_id", date_col: str = "date"
) -> pd.DataFrame:
    """Per calendar day of a log: customers acquired that day and repeat purchase days on it.

    This small table is all :func:`crmlab.plots.plot_tracking` needs, so a log too
    big for memory can be reduced where it lives and the table passed instead of
    the log. The columns (:data:`TRACKING_COLUMNS`):

    ``day``
        A calendar day (datetime64, or anything ``pandas.to_datetime`` reads), each
        at most once. Days without activity may be left out.
    ``new_customers``
        Customers whose first purchase is on that day.
    ``repeat_transactions``
        Distinct (customer, day) pairs on that day that are not the customer's first
        day: several purchases of one customer on one day count once.

    The same table in SQL (DuckDB, Spark SQL, ...), over a log ``log(customer_id,
    date)``::

        WITH days AS (SELECT DISTINCT customer_id, CAST(date AS DATE) AS day FROM log),
             firsts AS (SELECT customer_id, min(day) AS first FROM days GROUP BY customer_id)
        SELECT day,
               count(*) FILTER (WHERE day = first) AS new_customers,
               count(*) FILTER (WHERE day > first) AS repeat_transactions
        FROM days JOIN firsts USING (customer_id)
        GROUP BY day ORDER BY day

    The whole log is used: ``plot_tracking``'s ``observation_end`` cuts the table,
    as it cuts a log.

    Parameters
    ----------
    transactions : pandas.DataFrame
        One row per transaction.
    customer_col, date_col : str
        The columns holding the customer id and the date (a time of day is ignored).

    Returns
    -------
    pandas.DataFrame
        One row per day from the first to the last day of the log.

    Examples
    --------
    >>> log = pd.DataFrame({"customer_id": [1, 1, 1, 2, 2],
    ...                     "date": pd.to_datetime(["2024-01-01", "2024-01-03", "2024-01-03",
    ...                                             "2024-01-02", "2024-01-03"])})
    >>> tracking_table(log)
             day  new_customers  repeat_transactions
    0 2024-01-01              1                    0
    1 2024-01-02              1                    0
    2 2024-01-03              0                    2
    """
    counts = _log_days(transactions, customer_col, date_col)
    return pd.DataFrame(
        {
            "day": counts.day.astype("datetime64[D]").astype("datetime64[ns]"),
            "new_customers": counts.new_customers,
            "repeat_transactions": counts.repeat_transactions,
        }
    )


def _table_days(table: pd.DataFrame) -> DailyCounts:
    """Check a tracking table built elsewhere; every problem is named in one error."""
    from crmlab._cleaning import clean_days
    from crmlab._validate import Problem, first_rows, raise_problems

    missing = [name for name in TRACKING_COLUMNS if name not in table.columns]
    if missing:
        raise ValueError(
            f"the tracking table lacks column(s) {missing}; it has "
            f"{list(map(str, table.columns))}. Build it with crmlab.plots.tracking_table, "
            "or in SQL as that function's docstring shows"
        )
    days = clean_days(table["day"])
    fix = "See crmlab.plots.tracking_table for what each column holds"
    problems = []
    bad = days == _NO_DAY
    if bad.any():
        problems.append(
            Problem(
                "column 'day'",
                int(bad.sum()),
                "value(s) are missing or not dates",
                first_rows(bad, table["day"], labels=table.index),
                fix,
            )
        )
    repeated = pd.Series(days).duplicated(keep=False).to_numpy() & ~bad
    if repeated.any():
        problems.append(
            Problem(
                "column 'day'",
                int(repeated.sum()),
                "row(s) repeat a day",
                first_rows(repeated, table["day"], labels=table.index),
                "Give each day one row (add up the counts of a day)",
            )
        )
    counts = {}
    for name in TRACKING_COLUMNS[1:]:
        column = table[name]
        values = pd.to_numeric(column, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(values) | (values < 0) | (values != np.round(values))
        if bad.any():
            problems.append(
                Problem(
                    f"column {name!r}",
                    int(bad.sum()),
                    "value(s) are not counts (whole numbers >= 0)",
                    first_rows(bad, column, labels=table.index),
                    fix,
                )
            )
        counts[name] = np.where(bad, 0, values).astype(np.int64)
    raise_problems(problems, "the tracking table cannot be used:")
    new, repeats = counts["new_customers"], counts["repeat_transactions"]
    if new.sum() == 0:
        raise ValueError(
            "the tracking table has no new customers (new_customers is 0 on every day): "
            "there is nothing to track"
        )
    order = np.argsort(days, kind="stable")
    days, new, repeats = days[order], new[order], repeats[order]
    first = int(np.flatnonzero(new)[0])
    early = repeats[:first] > 0
    if early.any():
        raise_problems(
            [
                Problem(
                    "column 'repeat_transactions'",
                    int(early.sum()),
                    "day(s) with repeat transactions before any customer's first purchase",
                    first_rows(early, table["day"].to_numpy()[order][:first]),
                    fix,
                )
            ]
        )
    active = (new > 0) | (repeats > 0)
    return DailyCounts(days[active], new[active], repeats[active])


def daily_counts(data: pd.DataFrame, customer_col: str, date_col: str) -> DailyCounts:
    """A tracking table (recognised by its count columns) checked, or a raw log reduced to one."""
    if isinstance(data, pd.DataFrame) and set(TRACKING_COLUMNS[1:]) & set(data.columns):
        return _table_days(data)
    if not isinstance(data, pd.DataFrame):
        raise TypeError(
            "expected a transaction log or a tracking table (pandas DataFrames), got "
            f"{type(data).__name__}; a Spark or DuckDB table: build the tracking table "
            "there and pass it with .toPandas() / .df()"
        )
    return _log_days(data, customer_col, date_col)


class Curves(NamedTuple):
    """What the tracking plot draws, in periods of the chosen unit since the log's start.

    ``observed``: repeat transactions in each period; ``expected``: the model's
    cumulative expectation at each period's end (``edges``).
    """

    edges: np.ndarray
    observed: np.ndarray
    expected: np.ndarray
    start_day: int
    length: float


def observed_by_period(counts: DailyCounts, length: float, last_day: int) -> np.ndarray:
    """Repeat transactions per period of ``length`` days, from the first day to ``last_day``."""
    start = int(counts.day[0])
    keep = counts.day <= last_day
    period = ((counts.day[keep] - start) // length).astype(np.intp)
    n_periods = int((last_day - start) // length) + 1
    return np.bincount(
        period, weights=counts.repeat_transactions[keep], minlength=n_periods
    ).astype(np.int64)


def tracking_curves(
    model: Any, counts: DailyCounts, unit: str, end_day: int | None, show_after: bool
) -> Curves:
    """Observed repeat transactions per period, expected ones cumulated to each edge (1, 2, ...).

    The expectation: each acquisition day contributes its customers times
    ``E[X(edge - offset)]``, with ``expected_purchases`` evaluated once per distinct
    time difference over all edges and days.
    """
    from crmlab.transactions import unit_length_days

    length = unit_length_days(unit)
    start = int(counts.day[0])
    if end_day is not None and end_day < start:
        first = np.datetime64(start, "D")
        raise ValueError(
            f"observation_end={np.datetime64(end_day, 'D')} is before the first purchase of "
            f"the log ({first}): give the last day of the data window"
        )
    cut = end_day is not None and not show_after
    last = end_day if cut else int(counts.day[-1])
    observed = observed_by_period(counts, length, last)
    acquired = counts.new_customers > 0
    if cut:
        acquired &= counts.day <= end_day
    offsets = (counts.day[acquired] - start) / length
    edges = np.arange(1, len(observed) + 1, dtype=float)
    elapsed = np.clip(edges[:, None] - offsets[None, :], 0, None)
    times, inverse = np.unique(elapsed, return_inverse=True)
    expected_at = np.asarray(model.expected_purchases(times), dtype=float)
    per_edge = expected_at[inverse.reshape(elapsed.shape)]
    expected = per_edge @ counts.new_customers[acquired].astype(float)
    return Curves(edges, observed, expected, start, length)
