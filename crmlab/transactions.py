"""Transaction logs: validation, the (x, t_x, T, monetary) summary, holdout split, cohorts.

The models of :mod:`crmlab.models` never see raw logs; they are fed the per-customer
summary built here. :func:`summarize` is a thin front: it validates, converts dates
to whole days, and hands integer arrays to an engine (:mod:`crmlab._summary_engine`)
that a DuckDB or Spark engine can later replace.

Time is measured in an explicit unit: ``"D"`` (days), ``"W"`` (weeks = days / 7, as
the CLV literature uses them), ``"M"`` (months = days / (365.25 / 12)) or ``"Y"``
(years = days / 365.25). Every result carries its unit in ``result.attrs["unit"]``.

>>> import crmlab as cl
>>> tx = cl.datasets.load_cdnow("sample")
>>> s = cl.transactions.summarize(tx, observation_end="1997-09-30", unit="W")
>>> len(s), int((s["x"] > 0).sum())
(2357, 946)
>>> s.loc[1, ["x", "t_x", "T"]].round(2).tolist()
[2.0, 30.43, 38.86]
>>> s.attrs["unit"]
'W'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from crmlab import _summary_engine

__all__ = [
    "UNITS",
    "ValidationReport",
    "calibration_holdout",
    "cohort_table",
    "summarize",
    "unit_length_days",
    "validate_transactions",
]

#: Length of one time unit in days.
UNITS: dict[str, float] = {"D": 1.0, "W": 7.0, "M": 365.25 / 12, "Y": 365.25}

_SHOWN_ROWS = 5


def unit_length_days(unit: str) -> float:
    """Return the length of ``unit`` in days.

    >>> unit_length_days("W")
    7.0
    """
    try:
        return UNITS[unit]
    except KeyError:
        raise ValueError(
            f"unknown time unit {unit!r}; use one of {', '.join(repr(u) for u in UNITS)}"
        ) from None


@dataclass
class ValidationReport:
    """What :func:`validate_transactions` found and did.

    Attributes
    ----------
    rows_in, rows_out : int
        Rows received and rows returned.
    exact_duplicates : int
        Rows that repeat another row exactly (kept: they are legitimate purchases).
    zero_amounts : int
        Rows with an amount of 0 (kept).
    dropped : dict
        Rows dropped by ``on_invalid="drop"``, by reason.
    returns_netted : int
        Negative-amount rows netted out by ``returns="net"`` or dropped by ``returns="drop"``.
    """

    rows_in: int
    rows_out: int
    exact_duplicates: int = 0
    zero_amounts: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    returns_netted: int = 0

    def __str__(self) -> str:
        lines = [
            f"{self.rows_in:,} rows checked, {self.rows_out:,} kept",
            f"{self.exact_duplicates:,} exact duplicate rows (kept)",
            f"{self.zero_amounts:,} rows with a zero amount (kept)",
        ]
        lines += [f"{count:,} rows dropped: {reason}" for reason, count in self.dropped.items()]
        if self.returns_netted:
            lines.append(f"{self.returns_netted:,} return rows (negative amounts) handled")
        return "\n".join(lines)


def _offending(frame: pd.DataFrame, mask: np.ndarray, column: str) -> str:
    """The first offending rows, by label and value (positional, so duplicate labels are fine)."""
    positions = np.flatnonzero(mask)
    first = positions[:_SHOWN_ROWS]
    # tolist() gives plain Python values, so messages read 'row 1: -4.0', not numpy reprs.
    labels, values = frame.index[first].tolist(), frame[column].iloc[first].tolist()
    shown = ", ".join(
        f"row {label!r}: {value!r}" for label, value in zip(labels, values, strict=True)
    )
    more = len(positions) - _SHOWN_ROWS
    return shown + (f" (and {more:,} more)" if more > 0 else "")


def validate_transactions(
    tx: pd.DataFrame,
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str | None = "amount",
    on_invalid: Literal["raise", "drop"] = "raise",
    returns: Literal["raise", "net", "drop"] = "raise",
) -> tuple[pd.DataFrame, ValidationReport]:
    """Check a transaction log and return a clean copy with a report.

    The copy has the columns ``customer_id``, ``date`` (datetime64, normalised to
    the day) and, when ``amount_col`` is given, ``amount`` (float). The input frame
    is never modified.

    Parameters
    ----------
    tx : pandas.DataFrame
        One row per purchase (or purchase line).
    customer_col, date_col, amount_col : str
        Column names in ``tx``. ``amount_col=None`` validates a log without amounts.
    on_invalid : {"raise", "drop"}
        What to do with rows whose date does not parse, whose customer id is missing,
        or whose amount is missing or not a number. ``"raise"`` (default) raises
        ``ValueError`` naming the problem, the column and the first offending rows;
        ``"drop"`` removes them and counts them in the report.
    returns : {"raise", "net", "drop"}
        Negative amounts are returns. ``"raise"`` (default) refuses them; ``"drop"``
        removes them; ``"net"`` subtracts each return from the same customer's
        purchases of that day (the day's rows are merged into one) and keeps the day
        only if something is left.

    Returns
    -------
    (pandas.DataFrame, ValidationReport)

    Raises
    ------
    ValueError
        Missing columns, unparseable dates, missing customer ids, non-numeric or
        negative amounts, with the column and the first offending rows named.

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({"customer_id": [1, 1, 2], "date": ["2024-01-02", "2024-01-02",
    ...                     "2024-02-30"], "amount": [5.0, 5.0, 3.0]})
    >>> validate_transactions(log)
    Traceback (most recent call last):
    ...
    ValueError: column 'date': 1 value(s) are not dates: row 2: '2024-02-30'
    >>> clean, report = validate_transactions(log, on_invalid="drop")
    >>> print(report)
    3 rows checked, 2 kept
    1 exact duplicate rows (kept)
    0 rows with a zero amount (kept)
    1 rows dropped: unparseable date in 'date'
    """
    if not isinstance(tx, pd.DataFrame):
        raise TypeError(f"expected a pandas DataFrame, got {type(tx).__name__}")
    wanted = [customer_col, date_col] + ([amount_col] if amount_col is not None else [])
    missing = [column for column in wanted if column not in tx.columns]
    if missing:
        raise ValueError(
            f"missing column(s) {', '.join(repr(c) for c in missing)}; the log has "
            f"{', '.join(repr(str(c)) for c in tx.columns)}. Name yours with "
            "customer_col=, date_col= and amount_col="
        )
    if on_invalid not in ("raise", "drop"):
        raise ValueError(f"on_invalid must be 'raise' or 'drop', got {on_invalid!r}")
    if returns not in ("raise", "net", "drop"):
        raise ValueError(f"returns must be 'raise', 'net' or 'drop', got {returns!r}")

    frame = pd.DataFrame({"customer_id": tx[customer_col]}, index=tx.index)
    frame["date"] = _parse_dates(tx[date_col])
    if amount_col is not None:
        frame["amount"] = pd.to_numeric(tx[amount_col], errors="coerce").astype("float64")

    report = ValidationReport(rows_in=len(tx), rows_out=len(tx))
    problems = [
        (
            frame["customer_id"].isna(),
            customer_col,
            "are missing customer ids",
            "missing customer id",
        ),
        (frame["date"].isna(), date_col, "are not dates", "unparseable date"),
    ]
    if amount_col is not None:
        problems.append(
            (
                frame["amount"].isna(),
                amount_col,
                "are missing or not numbers",
                "missing or non-numeric amount",
            )
        )
    keep = np.ones(len(frame), dtype=bool)
    for mask, column, what, reason in problems:
        bad = mask.to_numpy()
        if not bad.any():
            continue
        if on_invalid == "raise":
            raise ValueError(
                f"column {column!r}: {int(bad.sum()):,} value(s) {what}: "
                f"{_offending(tx, bad, column)}"
            )
        report.dropped[f"{reason} in {column!r}"] = int((bad & keep).sum())
        keep &= ~bad
    source_columns = [c for c in wanted if c in tx.columns]
    report.exact_duplicates = int(tx[source_columns][keep].duplicated().sum())
    frame = frame[keep]

    if amount_col is not None:
        negative = frame["amount"].to_numpy() < 0
        if negative.any():
            if returns == "raise":
                offending = np.zeros(len(tx), dtype=bool)
                offending[np.flatnonzero(keep)[negative]] = True
                raise ValueError(
                    f"column {amount_col!r}: {int(negative.sum()):,} negative amount(s) "
                    f"(returns?): {_offending(tx, offending, amount_col)}. "
                    "Pass returns='net' to offset them against the same day's purchases "
                    "or returns='drop' to remove them"
                )
            report.returns_netted = int(negative.sum())
            frame = frame[~negative] if returns == "drop" else _net_returns(frame)
        report.zero_amounts = int((frame["amount"] == 0).sum())
    report.rows_out = len(frame)
    return frame, report


def _parse_dates(values: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values
        if getattr(parsed.dt, "tz", None) is not None:
            parsed = parsed.dt.tz_localize(None)
    else:
        parsed = pd.to_datetime(values, errors="coerce", format="mixed")
    return parsed.dt.normalize().astype("datetime64[ns]")


def _net_returns(frame: pd.DataFrame) -> pd.DataFrame:
    # A return cancels value bought the same day; a day whose net value is not
    # positive is no purchase at all.
    daily = frame.groupby(["customer_id", "date"], sort=False, as_index=False)["amount"].sum()
    return daily[daily["amount"] > 0]


def _log_arrays(
    tx: pd.DataFrame,
    customer_col: str,
    date_col: str,
    amount_col: str | None,
    returns: Literal["raise", "net", "drop"],
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Customer ids, day numbers and amounts of a log, validated, as numpy arrays.

    The common case (clean data, returns refused) is checked with cheap array tests
    and never copies the frame; any problem, or a request to net or drop returns,
    goes through :func:`validate_transactions`, which explains or repairs it.
    """
    fast = returns == "raise" and isinstance(tx, pd.DataFrame)
    if fast:
        needed = [customer_col, date_col] + ([amount_col] if amount_col is not None else [])
        fast = all(column in tx.columns for column in needed)
    if fast:
        ids = tx[customer_col].to_numpy()
        dates = tx[date_col]
        days, bad_dates = _day_numbers(dates) if _is_naive_datetime(dates) else (None, True)
        amounts = None
        amounts_ok = True
        if amount_col is not None:
            column = tx[amount_col]
            if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
                amounts = column.to_numpy(dtype="float64", na_value=np.nan)
                amounts_ok = bool(np.isfinite(amounts).all() and (amounts >= 0).all())
            else:
                amounts_ok = False
        ids_ok = ids.dtype.kind in "iu" or not pd.isna(ids).any()
        if ids_ok and not bad_dates and amounts_ok:
            return ids, days, amounts
    clean, _ = validate_transactions(
        tx, customer_col=customer_col, date_col=date_col, amount_col=amount_col, returns=returns
    )
    days, _ = _day_numbers(clean["date"])
    amounts = clean["amount"].to_numpy() if amount_col is not None else None
    return clean["customer_id"].to_numpy(), days, amounts


def _is_naive_datetime(values: pd.Series) -> bool:
    return pd.api.types.is_datetime64_dtype(values) and getattr(values.dt, "tz", None) is None


def _day_numbers(dates: pd.Series) -> tuple[np.ndarray, bool]:
    """Whole days since 1970-01-01 of naive datetimes, and whether any is missing."""
    raw = dates.to_numpy()
    missing = bool(np.isnat(raw).any())
    return raw.astype("datetime64[D]").astype(np.int64), missing


def _day_number(moment: str | pd.Timestamp, name: str) -> int:
    try:
        stamp = pd.Timestamp(moment)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name}={moment!r} is not a date") from error
    if pd.isna(stamp):
        raise ValueError(f"{name} must be a date, got {moment!r}")
    return int(np.datetime64(stamp.normalize().tz_localize(None), "D").astype(np.int64))


def summarize(
    tx: pd.DataFrame,
    observation_end: str | pd.Timestamp,
    unit: str = "W",
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str | None = "amount",
    returns: Literal["raise", "net", "drop"] = "raise",
) -> pd.DataFrame:
    """Summarise a transaction log into one (x, t_x, T, monetary) row per customer.

    Purchases on the same day count as one transaction (their amounts add up).
    Only transactions on or before ``observation_end`` count; later ones are the
    holdout (see :func:`calibration_holdout`), and customers whose first purchase
    comes later are not in the summary.

    Parameters
    ----------
    tx : pandas.DataFrame
        The transaction log; it is validated first (:func:`validate_transactions`).
    observation_end : date-like
        Last day of the observation window, included.
    unit : {"D", "W", "M", "Y"}
        Time unit of ``t_x`` and ``T``.
    customer_col, date_col, amount_col : str
        Column names; ``amount_col=None`` gives no ``monetary`` column.
    returns : {"raise", "net", "drop"}
        How to treat negative amounts (see :func:`validate_transactions`).

    Returns
    -------
    pandas.DataFrame
        Indexed by customer id, sorted. Columns ``x`` (repeat transactions: purchase
        days after the first), ``t_x`` (time from the first to the last purchase),
        ``T`` (time from the first purchase to the end of ``observation_end``'s day
        boundary, i.e. ``observation_end - first``) and ``monetary`` (mean value of
        the repeat purchase days, NaN when ``x == 0``). ``attrs["unit"]`` and
        ``attrs["observation_end"]`` record the window.

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({"customer_id": ["a", "a", "a", "b"],
    ...                     "date": ["2024-01-01", "2024-01-01", "2024-01-15", "2024-01-08"],
    ...                     "amount": [10.0, 5.0, 20.0, 7.0]})
    >>> summarize(log, observation_end="2024-01-29", unit="W")
                   x  t_x    T  monetary
    customer_id
    a            1.0  2.0  4.0      20.0
    b            0.0  0.0  3.0       NaN
    """
    unit_days = unit_length_days(unit)
    end_day = _day_number(observation_end, "observation_end")
    ids, days, amounts = _log_arrays(tx, customer_col, date_col, amount_col, returns)
    in_window = days <= end_day
    if not in_window.all():
        ids, days = ids[in_window], days[in_window]
        amounts = amounts[in_window] if amounts is not None else None
    codes, uniques = pd.factorize(ids, sort=True)
    result = _summary_engine.summarize_arrays(
        codes, days, amounts, n_customers=len(uniques), end_day=end_day
    )
    frame = pd.DataFrame(
        {
            "x": result.x.astype("float64"),
            "t_x": result.t_x / unit_days,
            "T": result.T / unit_days,
        },
        index=pd.Index(uniques, name=customer_col),
    )
    if amounts is not None:
        frame["monetary"] = result.monetary
    frame.attrs["unit"] = unit
    frame.attrs["observation_end"] = str(pd.Timestamp(observation_end).date())
    return frame


def calibration_holdout(
    tx: pd.DataFrame,
    calibration_end: str | pd.Timestamp,
    observation_end: str | pd.Timestamp,
    unit: str = "W",
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str | None = "amount",
    returns: Literal["raise", "net", "drop"] = "raise",
) -> pd.DataFrame:
    """Summarise a calibration period and count each customer's holdout purchases.

    Customers are those acquired by ``calibration_end``. The calibration columns are
    those of :func:`summarize`; ``x_holdout`` counts purchase days in
    (``calibration_end``, ``observation_end``], ``duration_holdout`` is that period's
    length in ``unit`` and ``monetary_holdout`` the mean value of those days (NaN if
    none).

    Examples
    --------
    >>> import crmlab as cl
    >>> ch = cl.transactions.calibration_holdout(cl.datasets.load_cdnow("sample"),
    ...     calibration_end="1997-09-30", observation_end="1998-06-30", unit="W")
    >>> int(ch["x_holdout"].sum()), round(float(ch["duration_holdout"].iloc[0]), 2)
    (1882, 39.0)
    """
    cal_day = _day_number(calibration_end, "calibration_end")
    end_day = _day_number(observation_end, "observation_end")
    if end_day <= cal_day:
        raise ValueError(
            f"observation_end ({observation_end}) must come after calibration_end "
            f"({calibration_end})"
        )
    unit_days = unit_length_days(unit)
    calibration = summarize(
        tx,
        calibration_end,
        unit,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        returns=returns,
    )
    ids, days, amounts = _log_arrays(tx, customer_col, date_col, amount_col, returns)
    holdout = (days > cal_day) & (days <= end_day)
    codes = calibration.index.get_indexer(ids[holdout])
    known = codes >= 0  # customers first seen in the holdout are not in the calibration base
    holdout_amounts = amounts[holdout][known] if amounts is not None else None
    counts, totals = _summary_engine.count_days(
        codes[known], days[holdout][known], holdout_amounts, n_customers=len(calibration)
    )
    calibration["x_holdout"] = counts.astype("float64")
    calibration["duration_holdout"] = (end_day - cal_day) / unit_days
    if totals is not None:
        with np.errstate(invalid="ignore", divide="ignore"):
            calibration["monetary_holdout"] = np.where(counts > 0, totals / counts, np.nan)
    calibration.attrs["calibration_end"] = str(pd.Timestamp(calibration_end).date())
    calibration.attrs["observation_end"] = str(pd.Timestamp(observation_end).date())
    return calibration


def cohort_table(
    tx: pd.DataFrame,
    period: str = "M",
    *,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str | None = "amount",
    observation_end: str | pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Acquisition cohorts: for each cohort and period since acquisition, who was active.

    A customer's cohort is the calendar period (``"M"`` month, ``"Q"`` quarter,
    ``"W"`` week, ``"Y"`` year) of the first purchase; period 0 is that period.

    Returns
    -------
    pandas.DataFrame
        One row per (``cohort``, ``period``) with ``cohort_size``, ``active``
        (customers with at least one purchase in that period), ``retention``
        (``active / cohort_size``) and, with amounts, ``revenue``. Periods after
        ``observation_end`` (default: the last date in the log) are left out, so
        young cohorts have fewer rows. Use :func:`crmlab.retention.retention_matrix`
        for the cohort x period grid.

    Examples
    --------
    >>> import crmlab as cl
    >>> table = cohort_table(cl.datasets.load_cdnow("master"), period="M")
    >>> table.loc[table["period"] == 0, "cohort_size"].tolist()
    [7846, 8476, 7248]
    >>> round(float(table.query("cohort == '1997-01' and period == 1")["retention"].iloc[0]), 3)
    0.147
    """
    freq = {"M": "M", "Q": "Q", "W": "W", "Y": "Y"}.get(period)
    if freq is None:
        raise ValueError(f"period must be one of 'M', 'Q', 'W', 'Y', got {period!r}")
    clean, _ = validate_transactions(
        tx, customer_col=customer_col, date_col=date_col, amount_col=amount_col
    )
    end = clean["date"].max() if observation_end is None else pd.Timestamp(observation_end)
    clean = clean[clean["date"] <= end]
    periods = clean["date"].dt.to_period(freq)
    first = periods.groupby(clean["customer_id"]).transform("min")
    offset = _period_difference(periods, first)
    work = pd.DataFrame(
        {"customer_id": clean["customer_id"], "cohort": first.astype(str), "period": offset}
    )
    if amount_col is not None:
        work["revenue"] = clean["amount"]
    sizes = work[work["period"] == 0].groupby("cohort")["customer_id"].nunique()
    grouped = work.groupby(["cohort", "period"])
    table = grouped["customer_id"].nunique().rename("active").to_frame()
    if amount_col is not None:
        table["revenue"] = grouped["revenue"].sum()
    table = table.reset_index()
    table.insert(2, "cohort_size", table["cohort"].map(sizes).astype("int64"))
    table["retention"] = table["active"] / table["cohort_size"]
    # Periods with no active customer still belong in the table, as zeros.
    last = _period_difference(
        pd.Series(end.to_period(freq), index=sizes.index),
        pd.Series(pd.PeriodIndex(sizes.index, freq=freq), index=sizes.index),
    )
    full = pd.MultiIndex.from_tuples(
        [(cohort, p) for cohort in sizes.index for p in range(int(last[cohort]) + 1)],
        names=["cohort", "period"],
    )
    table = table.set_index(["cohort", "period"]).reindex(full)
    table["cohort_size"] = table.index.get_level_values("cohort").map(sizes).astype("int64")
    table["active"] = table["active"].fillna(0).astype("int64")
    table["retention"] = table["active"] / table["cohort_size"]
    if amount_col is not None:
        table["revenue"] = table["revenue"].fillna(0.0)
    table = table.reset_index()
    table.attrs["period"] = period
    return table


def _period_difference(later: pd.Series, earlier: pd.Series) -> pd.Series:
    later_index = pd.PeriodIndex(later)
    earlier_index = pd.PeriodIndex(earlier)
    return pd.Series((later_index.asi8 - earlier_index.asi8).astype("int64"), index=later.index)
