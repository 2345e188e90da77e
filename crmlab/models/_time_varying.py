"""Time-varying covariates: a transaction log and a long covariate table, laid out for a model.

A time-varying covariate holds one value per customer and *period* (a week, a
month...): the season, whether a mailing went out, the price level. It comes as a
long table, one row per (customer, period), with the period given by its first
day, as CLVTools' ``SetDynamicCovariates`` takes it (columns ``Id``, ``Cov.Date``
and the covariates; Bachmann, Meierer & Näf 2021)::

    customer_id   period       season  mailing
    a             2024-01-01   0.0     1.0
    a             2024-01-08   0.0     0.0
    ...

Covariates of the calendar alone (a season, holidays, a price index) may come as a
table without the customer column, one row per period for everyone; a fit then
merges customers alike in history into weighted rows.

Periods are regular: every start lies on one grid (``period="W"``: every 7 days
from the earliest start; ``"D"``; a number of days; ``"M"`` / ``"Q"``: calendar
months or quarters, starts on their first day). A customer needs a row for every
period from the one of her first purchase to the one holding the last day used
(``observation_end`` when fitting, the end of the horizon when predicting); a gap
is a named error, never filled in.

The likelihood needs more than (x, t_x, T): the covariates in force at each repeat
purchase. So :func:`time_varying_data` reads the transaction log itself, with the
conventions of :func:`crmlab.transactions.summarize` (purchases of one day are
one transaction, or every row at its time with ``merge="none"``; time from the
first purchase, in ``unit``), and keeps per
repeat transaction the period it fell in. :class:`TimeVaryingData` holds the
result; a model turns it into *pieces* with :func:`pieces`: per customer, the
stretches of time over which its covariates stay the same.

>>> import pandas as pd
>>> log = pd.DataFrame({"customer_id": ["a", "a", "b"],
...                     "date": pd.to_datetime(["2024-01-02", "2024-01-10", "2024-01-09"])})
>>> table = pd.DataFrame({"customer_id": ["a"] * 3 + ["b"] * 2,
...                       "period": pd.to_datetime(["2024-01-01", "2024-01-08", "2024-01-15",
...                                                 "2024-01-08", "2024-01-15"]),
...                       "mailing": [0.0, 1.0, 0.0, 1.0, 1.0]})
>>> data = time_varying_data(log, table, observation_end="2024-01-16", unit="W")
>>> data.summary().round(3)
               x    t_x      T
customer_id
a            1.0  1.143  2.000
b            0.0  0.000  1.000
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from crmlab._units import unit_length_days
from crmlab._validate import Problem, first_rows, raise_problems
from crmlab.models._covariates import MissingCovariateError, read_covariates

__all__ = ["Pieces", "TimeVaryingData", "calendar_runs", "pieces", "time_varying_data"]

_FIXED_DAYS = {"D": 1, "W": 7}
_MONTHS = {"M": 1, "Q": 3}


def _days(values: Any) -> np.ndarray:
    """Day numbers (days since 1970-01-01) of datetime-like values, whole days."""
    stamps = pd.to_datetime(pd.Series(values), errors="coerce")
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_localize(None)
    raw = stamps.to_numpy().astype("datetime64[D]")
    out = raw.astype(np.int64)
    out[np.isnat(raw)] = np.iinfo(np.int64).min
    return out


def _day_label(day: int) -> str:
    return str(np.datetime64(int(day), "D"))


@dataclass(frozen=True)
class _Grid:
    """Period starts: ``edge(k)`` is the first day of period ``k`` (``k = 0`` the earliest)."""

    period: str | int
    origin: int

    def index(self, days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Period index of each day, and whether the day is a period start."""
        days = np.asarray(days, dtype=np.int64)
        if isinstance(self.period, int):
            offset = days - self.origin
            return np.floor_divide(offset, self.period), offset % self.period == 0
        months = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
        step = _MONTHS[self.period]
        origin = int(np.datetime64(self.origin, "D").astype("datetime64[M]").astype(np.int64))
        k = np.floor_divide(months - origin, step)
        return k, (self.edges(k) == days)

    def edges(self, k: np.ndarray) -> np.ndarray:
        """First day of periods ``k``."""
        k = np.asarray(k, dtype=np.int64)
        if isinstance(self.period, int):
            return self.origin + k * self.period
        origin = np.datetime64(self.origin, "D").astype("datetime64[M]").astype(np.int64)
        months = origin + k * _MONTHS[self.period]
        return months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def _period_kind(period: str | int) -> str | int:
    if isinstance(period, bool):
        raise ValueError(f"period must be 'D', 'W', 'M', 'Q' or a number of days, got {period!r}")
    if isinstance(period, int | np.integer):
        if period < 1:
            raise ValueError(f"period must be at least one day, got {period}")
        return int(period)
    if period in _FIXED_DAYS:
        return _FIXED_DAYS[period]
    if period in _MONTHS:
        return period
    raise ValueError(
        f"period must be 'D', 'W', 'M', 'Q' or a number of days, got {period!r}: the length "
        "of one covariate period (one row per customer and period in the covariate table)"
    )


@dataclass(frozen=True, eq=False)
class TimeVaryingData:
    """A customer base with time-varying covariates, ready for a model (see the module).

    Built by :func:`time_varying_data`. Per customer (sorted by id, as in
    :func:`crmlab.transactions.summarize`): ``x``, ``t_x``, ``T`` in ``unit``, the day
    of the first purchase; per repeat transaction, its customer and period; and the
    covariate table, sorted by (customer, period), one contiguous block of periods
    per customer.
    """

    customers: pd.Index
    x: np.ndarray
    t_x: np.ndarray
    T: np.ndarray
    first_day: np.ndarray  # per customer: first purchase, in days since 1970 (float)
    end_day: int  # observation_end, as a day number
    unit: str
    grid: _Grid
    names: tuple[str, ...]
    table: pd.DataFrame  # the covariate columns, rows sorted by (customer, period)
    row_start: np.ndarray  # per customer: first row of its block in ``table`` (-1: none)
    period_start: np.ndarray  # per customer: period index of that row
    n_periods: np.ndarray  # per customer: rows in its block
    purchase_customer: np.ndarray  # per repeat transaction: customer position
    purchase_period: np.ndarray  # per repeat transaction: period index
    shared: bool = False  # one block of periods for every customer (no customer column)
    end_time: float | None = None  # where T ends, in days (end_day, or end_day + 1)

    @property
    def window_end(self) -> float:
        """Where each customer's T ends, in days since 1970."""
        return float(self.end_day) if self.end_time is None else self.end_time

    @property
    def unit_days(self) -> float:
        """Length of the time unit in days."""
        return unit_length_days(self.unit)

    def __len__(self) -> int:
        return len(self.customers)

    def summary(self) -> pd.DataFrame:
        """The (x, t_x, T) summary, as :func:`crmlab.transactions.summarize` gives it."""
        frame = pd.DataFrame(
            {"x": self.x, "t_x": self.t_x, "T": self.T}, index=self.customers.copy()
        )
        frame.attrs["unit"] = self.unit
        frame.attrs["observation_end"] = _day_label(self.end_day)
        return frame

    def rows(self, customer: np.ndarray, k: np.ndarray, what: str) -> np.ndarray:
        """Row of ``table`` holding customer ``customer``'s covariates in period ``k``.

        Raises a :class:`MissingCovariateError` naming the (customer, period) pairs
        without a row.
        """
        offset = k - self.period_start[customer]
        bad = (self.row_start[customer] < 0) | (offset < 0) | (offset >= self.n_periods[customer])
        if bad.any():
            labels = [
                f"{self.customers[c]!r} in the period starting {_day_label(d)}"
                for c, d in zip(customer[bad][:5], self.grid.edges(k[bad][:5]), strict=True)
            ]
            more = int(bad.sum()) - len(labels)
            shown = ", ".join(labels) + (f" (and {more:,} more)" if more > 0 else "")
            raise MissingCovariateError(
                f"covariate table: {int(bad.sum()):,} (customer, period) pair(s) {what} have no "
                f"row: {shown}. Give every customer one row for each period from that of her "
                "first purchase on; crmlab fills nothing in"
            )
        return self.row_start[customer] + offset

    def covariates(self, names: Sequence[str], *, fitting: bool) -> np.ndarray:
        """The covariates ``names`` as a (rows, k) matrix, checked (missing, constant)."""
        used = self._used_rows()
        labels = _RowLabels(self.table.index, used)
        try:
            read_covariates(self.table.iloc[used], names, index=labels, require_variation=fitting)
        except MissingCovariateError as error:
            raise MissingCovariateError(
                f"{error} (rows of the covariate table are named 'customer / period start'; "
                f"the table has columns {list(self.names)})"
            ) from None
        return read_covariates(self.table, names, require_variation=False)

    def by_calendar_only(self, values: np.ndarray) -> bool:
        """Whether ``values`` (rows of the table) depend on the period alone, not the customer.

        Then customers with the same first purchase day and history have the same
        likelihood, and a fit may merge them.
        """
        if values.shape[1] == 0 or self.shared:
            return True
        customer = np.repeat(np.arange(len(self)), self.n_periods)
        k = self.period_start[customer] + (np.arange(len(customer)) - self.row_start[customer])
        if len(k) == 0:
            return True
        # any one row of each period stands for it: every row equal to its period's
        # (one pass, no sort of the table; NaN equals nothing, so it never merges)
        k = k - k.min()
        representative = np.empty(int(k.max()) + 1, dtype=np.int64)
        representative[k] = np.arange(len(k))
        return bool(np.all(values == values[representative[k]]))

    def _used_rows(self) -> np.ndarray:
        """Rows inside some customer's observation window (the ones a fit reads)."""
        if self.shared:
            first = np.floor(self.first_day).astype(np.int64)
            low = int(self.grid.index(first)[0].min()) - int(self.period_start[0])
            high = int(self.grid.index(np.array([self.end_day]))[0][0]) - int(self.period_start[0])
            return np.arange(max(low, 0), min(high + 1, len(self.table)))
        customer = np.repeat(np.arange(len(self)), np.maximum(self.n_periods, 0))
        offset = np.arange(len(customer)) - np.repeat(
            np.cumsum(self.n_periods) - self.n_periods, self.n_periods
        )
        k = self.period_start[customer] + offset
        first_k = self.grid.index(np.floor(self.first_day).astype(np.int64))[0][customer]
        last_k = self.grid.index(np.array([self.end_day]))[0][0]
        inside = (k >= first_k) & (k <= last_k)
        return (self.row_start[customer] + offset)[inside]


class _RowLabels:
    """Names 'customer / period start' of table rows, made only for the rows a message shows."""

    def __init__(self, index: pd.MultiIndex, rows: np.ndarray) -> None:
        self.index, self.rows = index, rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> str:
        label = self.index[self.rows[i]]
        if not isinstance(label, tuple):  # a table shared by all customers
            return f"period {pd.Timestamp(label).date()}"
        customer, start = label
        return f"{customer} / {pd.Timestamp(start).date()}"


def time_varying_data(
    transactions: pd.DataFrame,
    covariates: pd.DataFrame,
    observation_end: str | pd.Timestamp,
    *,
    unit: str = "W",
    period: str | int = "W",
    customer_col: str = "customer_id",
    date_col: str = "date",
    period_col: str = "period",
    merge: str = "day",
) -> TimeVaryingData:
    """Read a transaction log and a long covariate table into a :class:`TimeVaryingData`.

    Parameters
    ----------
    transactions : DataFrame
        The log: ``customer_col`` and ``date_col`` (other columns are not used).
        Purchases of one day count as one transaction, as in ``summarize``.
    covariates : DataFrame
        One row per (customer, period): ``customer_col``, ``period_col`` (the first
        day of the period) and numeric covariate columns. Customers of the table
        without purchases are left out of the base (they have no history). A table
        without ``customer_col`` holds one row per period, the same for every
        customer (a season, a holiday, a price index): it is not repeated per
        customer, and a fit merges customers alike in history.
    observation_end : date-like
        Last day of the observation window, included.
    unit : {"D", "W", "M", "Y"}
        Time unit of ``t_x``, ``T`` and of the model's rates.
    period : {"W", "D", "M", "Q"} or int
        Length of a covariate period (an int: days).
    merge : {"day", "none"}
        As in ``summarize``: ``"day"`` counts a customer's purchases of one day as one
        transaction at the start of that day; ``"none"`` counts every row at its
        timestamp (the window then ends at midnight after ``observation_end``).

    Raises
    ------
    ValueError
        Period starts off the grid (irregular periods), a (customer, period) given
        twice, a gap in a customer's periods, unreadable dates.
    MissingCovariateError
        A customer has no row for a period she was observed in.
    """
    from crmlab._log_options import DEFAULTS, CleaningOptions, split_options
    from crmlab.transactions import _day_number, _log_arrays

    unit_length_days(unit)
    kind = _period_kind(period)
    end_day = _day_number(observation_end, "observation_end")
    shared = customer_col not in covariates.columns
    for column in (period_col,):
        if column not in covariates.columns:
            raise ValueError(
                f"the covariate table lacks column {column!r}; it has "
                f"{list(map(str, covariates.columns))}. Name the columns with "
                "customer_col= and period_col="
            )
    if merge not in ("day", "none"):
        raise ValueError(
            f"merge must be 'day' (a customer's purchases of one day are one transaction) "
            f"or 'none' (every row, at its timestamp), got {merge!r}"
        )
    ids, times, _, _, _, per_day = _log_arrays(
        transactions, customer_col, date_col, None, split_options(DEFAULTS, CleaningOptions), merge
    )
    # Times in days (fractions of a day with merge="none"); as in summarize, the
    # window ends at the start of observation_end's day ("day") or at midnight after
    # it ("none").
    moments = np.asarray(times, dtype=np.int64)
    end_time = float(end_day) if merge == "day" else float(end_day + 1)
    first_by_id = pd.Series(moments).groupby(ids).min()
    first_by_id = first_by_id[first_by_id / per_day <= end_day]
    customers = pd.Index(first_by_id.index, name=customer_col)
    first_tick = first_by_id.to_numpy(dtype=np.int64)
    position = customers.get_indexer(ids)
    # purchases on observation_end's day count (at T with merge="day")
    keep = (position >= 0) & (moments < (end_day + 1) * per_day)
    if merge == "day":
        # one transaction per customer and day
        low = int(moments[keep].min()) if keep.any() else 0
        span = int(moments[keep].max()) - low + 1 if keep.any() else 1
        key = np.unique(position[keep].astype(np.int64) * span + (moments[keep] - low))
        who_bought, tick_bought = key // span, key % span + low
    else:
        who_bought, tick_bought = position[keep], moments[keep]
    repeat = tick_bought > first_tick[who_bought]
    if merge == "none":
        # a second row at the very moment of the first purchase has no time of its own
        twins = np.bincount(who_bought[~repeat], minlength=len(customers)) > 1
        if twins.any():
            raise_problems(
                [
                    Problem(
                        f"column {date_col!r}",
                        int(twins.sum()),
                        "customer(s) with several rows at the moment of their first purchase",
                        first_rows(
                            twins,
                            first_tick.astype("datetime64[ns]"),
                            labels=customers,
                            noun="customer",
                        ),
                        "With merge='none' give times that tell a customer's purchases apart, "
                        "or use merge='day'",
                    )
                ]
            )
    buyer, buy_tick = who_bought[repeat], tick_bought[repeat]
    unit_days = unit_length_days(unit)
    x = np.bincount(buyer, minlength=len(customers)).astype(float)
    last = first_tick.copy()
    np.maximum.at(last, buyer, buy_tick)
    first_day = first_tick / per_day
    buy_day = np.floor_divide(buy_tick, per_day)
    t_x = (last - first_tick) / per_day / unit_days
    T = (end_time - first_day) / unit_days

    kept_columns = [c for c in covariates.columns if c not in (customer_col, period_col)]
    names = tuple(str(c) for c in kept_columns)
    start_days = _days(covariates[period_col])
    unreadable = start_days == np.iinfo(np.int64).min
    if unreadable.any():
        raise ValueError(
            f"column {period_col!r}: {int(unreadable.sum()):,} value(s) are not dates: "
            f"{first_rows(unreadable, covariates[period_col], labels=covariates.index)}. "
            "Give the first day of each period"
        )
    origin = int(start_days.min()) if len(start_days) else end_day
    grid = _Grid(kind, origin)
    k, on_grid = grid.index(start_days)
    if not on_grid.all():
        what = (
            f"every {kind} day(s) from the earliest, {_day_label(origin)}"
            if isinstance(kind, int)
            else f"first days of calendar {'months' if kind == 'M' else 'quarters'}"
        )
        raise_problems(
            [
                Problem(
                    f"column {period_col!r}",
                    int((~on_grid).sum()),
                    f"period start(s) off the grid of period={period!r} ({what}): the "
                    "periods are irregular",
                    first_rows(~on_grid, covariates[period_col], labels=covariates.index),
                    "Give each row the first day of its period, or pass the period= the table uses",
                )
            ]
        )
    if shared:
        table_position = np.zeros(len(covariates), dtype=np.int64)
    else:
        table_position = customers.get_indexer(covariates[customer_col])
    inside = table_position >= 0
    order = np.lexsort((k[inside], table_position[inside]))
    who, when = table_position[inside][order], k[inside][order]
    same = np.diff(who) == 0
    problems = []
    shown = (
        np.full(len(who), "(all)", dtype=object) if shared else customers[who],
        np.datetime_as_string(grid.edges(when).astype("datetime64[D]")),
    )
    original = covariates.index[inside][order]
    duplicate = np.concatenate([[False], same & (np.diff(when) == 0)])
    if duplicate.any():
        problems.append(
            Problem(
                f"columns {customer_col!r}, {period_col!r}",
                int(duplicate.sum()),
                "(customer, period) pair(s) given more than once"
                + (
                    f" (the table has no column {customer_col!r}, so it is read as one row "
                    "per period for every customer; name its customer column with "
                    "customer_col=)"
                    if shared
                    else ""
                ),
                first_rows(duplicate, *shown, labels=original),
                "Keep one row per customer and period",
            )
        )
    gap = np.concatenate([[False], same & (np.diff(when) > 1)])
    if gap.any():
        problems.append(
            Problem(
                f"column {period_col!r}",
                int(gap.sum()),
                "gap(s) in a customer's periods (the row before is not the previous period)",
                first_rows(gap, *shown, labels=original),
                "Give every customer one row for each period, without holes",
            )
        )
    raise_problems(problems)
    table = covariates.loc[inside, kept_columns].iloc[order]
    table.columns = list(names)
    n = len(customers)
    if shared:
        table.index = pd.DatetimeIndex(grid.edges(when).astype("datetime64[D]"), name=period_col)
        n_periods = np.full(n, len(table), dtype=np.int64)
        row_start = np.zeros(n, dtype=np.int64) if len(table) else np.full(n, -1)
        period_start = np.full(n, when[0] if len(table) else 0, dtype=np.int64)
    else:
        table.index = pd.MultiIndex.from_arrays(
            [customers[who], grid.edges(when).astype("datetime64[D]")]
        )
        n_periods = np.bincount(who, minlength=n)
        row_start = np.where(n_periods > 0, np.cumsum(n_periods) - n_periods, -1)
        period_start = np.zeros(n, dtype=np.int64)
        period_start[n_periods > 0] = when[row_start[n_periods > 0]]
    data = TimeVaryingData(
        customers=customers,
        x=x,
        t_x=t_x,
        T=T,
        first_day=first_day,
        end_day=end_day,
        unit=unit,
        grid=grid,
        names=names,
        table=table,
        row_start=row_start,
        period_start=period_start,
        n_periods=n_periods,
        purchase_customer=buyer,
        purchase_period=grid.index(buy_day)[0],
        shared=shared,
        end_time=end_time,
    )
    # Every period a customer was observed in must be there: check it now, once.
    window = pieces(data, None, np.zeros((len(table), 0)))
    del window
    data.rows(buyer, data.purchase_period, "holding a repeat purchase")
    return data


class Pieces(NamedTuple):
    """Stretches of constant covariates, customer by customer (sorted by customer, time).

    ``start`` and ``length`` are in the model's unit, measured from the customer's
    first purchase; ``z`` holds the covariates in force (one row per piece). For a
    table shared by all customers, ``run`` numbers each piece's run of equal
    periods (see :func:`calendar_runs`).
    """

    customer: np.ndarray
    start: np.ndarray
    length: np.ndarray
    z: np.ndarray
    run: np.ndarray | None = None


def pieces(
    data: TimeVaryingData,
    window: tuple[np.ndarray, np.ndarray] | None,
    values: np.ndarray,
    customers: np.ndarray | None = None,
) -> Pieces:
    """Cut each customer's window into pieces of constant ``values`` (rows of the table).

    ``window`` is per customer ``(from_day, to_day)`` (days, floats allowed);
    ``None`` means the observation window, from the first purchase to
    ``observation_end``. Consecutive periods with equal values merge into one
    piece, so covariates that never change give one piece per customer.
    ``customers`` (positions) restricts the cut to those customers; ``customer`` in
    the result then counts among them.
    """
    chosen = np.arange(len(data)) if customers is None else np.asarray(customers)
    size = len(chosen)
    if window is None:
        low = data.first_day[chosen].astype(float)
        high = np.full(size, data.window_end)
    else:
        low, high = (np.broadcast_to(np.asarray(v, dtype=float), (size,)) for v in window)
    k_low = data.grid.index(np.floor(low).astype(np.int64))[0]
    # The window is [low, high): its last period is the one of the day before ``high``
    # (a purchase on the day of observation_end is checked with the purchases).
    k_high = data.grid.index(np.ceil(high).astype(np.int64) - 1)[0]
    if data.shared:
        return _shared_pieces(data, chosen, low, high, k_low, k_high, values)
    count = np.maximum(k_high - k_low + 1, 0)
    customer = np.repeat(np.arange(size), count)
    offset = np.arange(len(customer)) - np.repeat(np.cumsum(count) - count, count)
    k = k_low[customer] + offset
    rows = data.rows(chosen[customer], k, "inside the window")
    edge_low, edge_high = data.grid.edges(k), data.grid.edges(k + 1)
    start = np.maximum(edge_low, low[customer])
    end = np.minimum(edge_high, high[customer])
    keep = end > start
    customer, start, end, rows = customer[keep], start[keep], end[keep], rows[keep]
    z = values[rows]
    if len(customer) > 1:
        same = (customer[1:] == customer[:-1]) & np.all(z[1:] == z[:-1], axis=1)
        first = np.concatenate([[True], ~same])
        last = np.append(np.flatnonzero(first)[1:] - 1, len(customer) - 1)
        customer, start, z = customer[first], start[first], z[first]
        end = end[last]
    origin = data.first_day[chosen[customer]]
    unit_days = data.unit_days
    return Pieces(customer, (start - origin) / unit_days, (end - start) / unit_days, z)


def _shared_pieces(
    data: TimeVaryingData,
    chosen: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    k_low: np.ndarray,
    k_high: np.ndarray,
    values: np.ndarray,
) -> Pieces:
    """:func:`pieces` for a table shared by all customers: runs of equal rows merged once."""
    spans = k_high >= k_low
    data.rows(chosen[spans], k_low[spans], "inside the window")
    data.rows(chosen[spans], k_high[spans], "inside the window")
    first_period = int(data.period_start[0]) if len(data.table) else 0
    run_of_row, run_first, run_end = calendar_runs(values)
    run_low = np.where(spans, run_of_row[np.clip(k_low - first_period, 0, None)], 0)
    run_high = np.where(spans, run_of_row[np.clip(k_high - first_period, 0, None)], -1)
    count = np.maximum(run_high - run_low + 1, 0)
    customer = np.repeat(np.arange(len(chosen)), count)
    run = run_low[customer] + (
        np.arange(len(customer)) - np.repeat(np.cumsum(count) - count, count)
    )
    start = np.maximum(data.grid.edges(first_period + run_first[run]), low[customer])
    end = np.minimum(data.grid.edges(first_period + run_end[run]), high[customer])
    keep = end > start
    customer, start, end, run = customer[keep], start[keep], end[keep], run[keep]
    origin = data.first_day[chosen[customer]]
    unit_days = data.unit_days
    return Pieces(
        customer,
        (start - origin) / unit_days,
        (end - start) / unit_days,
        values[run_first[run]],
        run,
    )


def calendar_runs(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Runs of equal consecutive rows of a shared table: each row's run, each run's first
    row and one past its last row.

    >>> calendar_runs(np.array([[0.0], [0.0], [1.0]]))
    (array([0, 0, 1]), array([0, 2]), array([2, 3]))
    """
    change = np.concatenate([[True], np.any(values[1:] != values[:-1], axis=1)])
    run_first = np.flatnonzero(change)
    return np.cumsum(change) - 1, run_first, np.append(run_first[1:], len(values))
