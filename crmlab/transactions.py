"""Transaction logs: validation, the (x, t_x, T, monetary) summary, holdout split, cohorts.

The models of :mod:`crmlab.models` never see raw logs; they are fed the per-customer
summary built here. :func:`summarize` is a thin front: it validates (with
:mod:`crmlab._cleaning`), converts dates to integer times, and hands arrays to an engine
(:mod:`crmlab._summary_engine`) that a DuckDB or Spark engine can later replace.

Time is measured in an explicit unit: ``"D"`` (days), ``"W"`` (weeks = days / 7, as
the CLV literature uses them), ``"M"`` (months = days / (365.25 / 12)) or ``"Y"``
(years = days / 365.25); see :mod:`crmlab._units`. Every result carries its unit in
``result.attrs["unit"]``, and the cleaning choices beside it.

Dirty logs. Every problem is reported at once, in one ``ValueError`` with one line
per problem class (column, count, first rows, the option that handles it), and
:func:`diagnose` returns the same list without raising. The options, the same in
:func:`validate_transactions`, :func:`summarize`, :func:`calibration_holdout` and
:func:`cohort_table`:

* ``on_invalid="raise" | "drop" | "drop_customer"``: rows with a missing customer id,
  an unparseable date, a missing or non-numeric amount;
* ``currency=None | "." | ","``: amounts written as currency strings ("$37.85",
  "1,234.50" with ``"."``; "12,50 €" with ``","``, the decimal mark);
* ``duplicates="keep" | "drop"``: exact repeats of (customer, timestamp, amount);
  kept by default (the CDNOW sample's are real purchases);
* ``returns="raise" | "net" | "drop"``: negative amounts (the netting rule is in
  :func:`crmlab._cleaning.net_returns`);
* ``merge="day" | "none" | "W" | "M" | "Q" | "Y"`` (summaries only): which purchases
  count as one transaction.

>>> import crmlab as cl
>>> tx = cl.datasets.load_cdnow("sample")
>>> s = cl.transactions.summarize(tx, observation_end="1997-09-30", unit="W")
>>> len(s), int((s["x"] > 0).sum())
(2357, 946)
>>> s.loc[1, ["x", "t_x", "T"]].round(2).tolist()
[2.0, 30.43, 38.86]
>>> s.attrs["unit"], s.attrs["merge"]
('W', 'day')
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from crmlab import _summary_engine
from crmlab._cleaning import (
    CleanLog,
    Currency,
    Diagnosis,
    Duplicates,
    OnInvalid,
    Returns,
    ValidationReport,
    check_options,
    clean_days,
    clean_log,
)
from crmlab._log_options import (
    CleaningOptions,
    DuckDBSettings,
    LogColumns,
    LogOptions,
    SourceOptions,
    SummaryOptions,
    log_options,
    split_options,
)
from crmlab._units import UNITS, unit_length_days
from crmlab._validate import Problem, first_rows

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = [
    "MERGES",
    "UNITS",
    "Diagnosis",
    "ValidationReport",
    "calibration_holdout",
    "cohort_table",
    "compress",
    "diagnose",
    "first_purchase_value",
    "summarize",
    "unit_length_days",
    "validate_transactions",
]

Merge = Literal["day", "none", "W", "M", "Q", "Y"]
#: What counts as one transaction: same day (the literature's convention), every row,
#: or one calendar period (weeks start on Monday).
MERGES: tuple[str, ...] = ("day", "none", "W", "M", "Q", "Y")
_NS_PER_DAY = 86_400 * 10**9


def validate_transactions(
    tx: pd.DataFrame,
    *,
    keep_time: bool = False,
    **log: Unpack[LogOptions],
) -> tuple[pd.DataFrame, ValidationReport]:
    """Check a transaction log and return a clean copy with a report.

    The copy has the columns ``customer_id``, ``date`` (datetime64, normalised to
    the day unless ``keep_time``) and, when ``amount_col`` is given, ``amount``
    (float); its index keeps the labels of the rows kept. The input frame is never
    modified.

    Parameters
    ----------
    tx : pandas.DataFrame
        One row per purchase (or purchase line).
    customer_col, date_col, amount_col : str
        Column names in ``tx``. ``amount_col=None`` validates a log without amounts.
    on_invalid : {"raise", "drop", "drop_customer"}
        Rows whose customer id is missing, whose date does not parse, or whose amount
        is missing or not a number. ``"raise"`` (default) raises; ``"drop"`` removes
        them and counts them in the report, which also counts the customers whose
        first purchase may be among them (their ``T`` would shrink);
        ``"drop_customer"`` removes those customers whole as well.
    returns : {"raise", "net", "drop"}
        Negative amounts are returns. ``"raise"`` (default) refuses them; ``"drop"``
        removes them; ``"net"`` matches each to the same customer's latest purchase
        day on or before it and subtracts it there (a purchase it cancels whole is
        removed; a return with no earlier purchase is removed and counted as
        unmatched; no other purchase is touched). See
        :func:`crmlab._cleaning.net_returns`.
    duplicates : {"keep", "drop"}
        Exact repeats of (customer, timestamp, amount): kept by default (real
        purchases in CDNOW) or dropped; counted either way.
    currency : {None, ".", ","}
        Amounts such as "$37.85", "1,234.50" or "12,50 €". ``None`` (default) refuses
        them with the pattern found; ``"."`` reads them with a decimal point (``,``
        groups thousands), ``","`` with a decimal comma (``.`` groups thousands).
    keep_time : bool
        Keep the time of day in ``date`` (for ``summarize(..., merge="none")`` on the
        clean copy, which needs it to tell a customer's purchases of one day apart).

    Returns
    -------
    (pandas.DataFrame, ValidationReport)

    Raises
    ------
    ValueError
        Missing columns; or every problem the options do not handle, all in one
        message, one line each: ``column 'C': N <problem>: <first rows>. <what to do>``.

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({"customer_id": [1, 1, 2, None], "date": ["2024-01-02",
    ...     "2024-01-02", "2024-02-30", "2024-01-05"], "amount": [5.0, 5.0, 3.0, "$4"]})
    >>> try:
    ...     validate_transactions(log)
    ... except ValueError as error:
    ...     for line in str(error).splitlines():
    ...         print(line[:88].rstrip())
    the transaction log has problems; nothing was changed. Each line names the option that h
      1. column 'customer_id': 1 value(s) are missing customer ids: row 3: nan. Pass on_inva
      2. column 'date': 1 value(s) are not dates: row 2: '2024-02-30'. Pass on_invalid='drop
      3. column 'amount': 1 value(s) are currency strings (currency sign(s) $): row 3: '$4'.
    >>> clean, report = validate_transactions(log, on_invalid="drop")
    >>> for line in str(report).splitlines():
    ...     print(line[:88].rstrip())
    4 rows checked, 2 kept
    1 exact duplicate rows (kept)
    0 rows with a zero amount (kept; the Gamma-Gamma spend model sets aside customers whose
    1 rows dropped: missing customer id in 'customer_id'
    1 rows dropped: unparseable date in 'date'
    1 customers may have lost their first purchase among the dropped rows (their T may be sh
    """

    o = log_options(log, LogOptions)
    clean = _clean(tx, **o)
    frame = pd.DataFrame(
        {
            "customer_id": clean.ids,
            "date": (clean.times if keep_time else clean.times // _NS_PER_DAY * _NS_PER_DAY).view(
                "datetime64[ns]"
            ),
        },
        index=tx.index[clean.positions],
    )
    if o["amount_col"] is not None:
        frame["amount"] = clean.amounts
    return frame, clean.report


def diagnose(
    tx: pd.DataFrame,
    *,
    observation_end: str | pd.Timestamp | None = None,
    **log: Unpack[LogOptions],
) -> Diagnosis:
    """Every problem of a transaction log, without raising and without cleaning it.

    Takes the arguments of :func:`validate_transactions`; each problem is marked
    *refused* if those options would raise for it, *reported* otherwise. With
    ``observation_end`` it also counts the rows after it, which a summary leaves out
    (they are the holdout).

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({"customer_id": [1, 1, None], "date": ["2024-01-02",
    ...     "not a date", "2024-01-03"], "amount": [5.0, -5.0, 1.0]})
    >>> d = diagnose(log)
    >>> d.ok, len(d.problems)
    (False, 3)
    >>> print(d.to_frame()[["where", "count", "option"]])
                   where  count     option
    0  column 'customer_id'      1  on_invalid
    1         column 'date'      1  on_invalid
    2  column 'customer_id'      1  on_invalid
    """

    o = log_options(log, LogOptions)
    result = clean_log(tx, **o, diagnose_only=True)
    assert isinstance(result, Diagnosis)
    if observation_end is not None:
        end_day = _day_number(observation_end, "observation_end")
        days = clean_days(tx[o["date_col"]])
        later = days > end_day
        if later.any():
            result.problems.append(
                Problem(
                    f"column {o['date_col']!r}",
                    int(later.sum()),
                    f"row(s) dated after observation_end ({observation_end}), left out of "
                    "the summary",
                    first_rows(later, tx[o["date_col"]], labels=tx.index),
                    "They are the holdout: calibration_holdout(tx, calibration_end, "
                    "observation_end) counts them",
                    None,
                    False,
                )
            )
    return result


def _clean(
    tx: pd.DataFrame,
    customer_col: str,
    date_col: str,
    amount_col: str | None,
    on_invalid: OnInvalid,
    returns: Returns,
    duplicates: Duplicates,
    currency: Currency,
) -> CleanLog:
    result = clean_log(
        tx,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        on_invalid=on_invalid,
        returns=returns,
        duplicates=duplicates,
        currency=currency,
    )
    assert isinstance(result, CleanLog)
    return result


def _fast_arrays(
    tx: Any, customer_col: str, date_col: str, amount_col: str | None, as_days: bool | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None] | None:
    """Ids, integer times and amounts of a log that needs no cleaning, else None.

    Times are day numbers with ``as_days``, int64 nanoseconds with ``False``, and
    the column's own ticks, uncopied, with ``None`` (:func:`_ticks_per_day` says
    how many make a day).

    Clean data (datetime64 dates, numeric non-negative amounts, no missing id) are
    checked with cheap array tests and never copied; anything else goes through
    :func:`crmlab._cleaning.clean_log`, which explains or repairs it.
    """
    if not isinstance(tx, pd.DataFrame):
        return None
    needed = [customer_col, date_col] + ([amount_col] if amount_col is not None else [])
    if not all(column in tx.columns for column in needed):
        return None
    dates = tx[date_col]
    if not (pd.api.types.is_datetime64_dtype(dates) and getattr(dates.dt, "tz", None) is None):
        return None
    raw = dates.to_numpy()
    # NaT is the smallest int64: a reduction finds it without a mask as long as the log.
    if len(raw) and raw.view(np.int64).min() == np.iinfo(np.int64).min:
        return None
    if as_days is None:
        times = raw.view(np.int64)
    else:
        unit = "datetime64[D]" if as_days else "datetime64[ns]"
        times = raw.astype(unit, copy=False).view(np.int64)
    amounts = None
    if amount_col is not None:
        column = tx[amount_col]
        if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
            return None
        amounts = column.to_numpy(dtype="float64", na_value=np.nan)
        # min >= 0 fails on a NaN (min is NaN) and on -inf; a finite max rules out +inf.
        # Two reductions, no mask as long as the log.
        if len(amounts) and not (amounts.min() >= 0 and np.isfinite(amounts.max())):
            return None
    ids = tx[customer_col].to_numpy()
    if ids.dtype.kind not in "iu" and pd.isna(ids).any():
        return None
    return ids, times, amounts


def _log_arrays(
    tx: pd.DataFrame,
    customer_col: str,
    date_col: str,
    amount_col: str | None,
    options: dict[str, Any],
    merge: str,
    raw_ticks: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, ValidationReport | None, Any, int]:
    """Ids, integer times and amounts of a log, validated; the report; the codes; ticks a day.

    Times are nanoseconds for ``merge="none"`` (the time of day counts), day numbers
    otherwise (one tick a day). With ``raw_ticks`` and ``merge="day"`` they are the
    timestamps as they come (the column's ticks, or nanoseconds after cleaning), for
    an engine that takes the day itself. ``coded`` is ``(codes, uniques)`` (sorted
    customer codes) when cleaning made them, so the summary need not hash the ids
    again.
    """
    # A log that needs no cleaning skips the cleaner, which checks the options too.
    check_options(**options)
    raw = raw_ticks and merge == "day"
    as_days = merge != "none"
    per_day = 1 if as_days and not raw else _NS_PER_DAY
    if options["duplicates"] == "keep":
        fast = _fast_arrays(tx, customer_col, date_col, amount_col, None if raw else as_days)
        if fast is not None:
            if raw:
                per_day = _ticks_per_day(tx[date_col].dtype)
            return (*fast, None, None, per_day)
    clean = _clean(tx, customer_col, date_col, amount_col, **options)
    times = np.floor_divide(clean.times, _NS_PER_DAY) if as_days and not raw else clean.times
    coded = (clean.codes, clean.uniques)
    return clean.ids, times, clean.amounts, clean.report, coded, per_day


def _ticks_per_day(dtype: Any) -> int:
    """Ticks of a datetime64 dtype in a day (86,400,000,000 for microseconds)."""
    unit, count = np.datetime_data(dtype)
    return int(np.timedelta64(1, "D") // np.timedelta64(count, unit))


def _customer_codes(ids: np.ndarray, coded: Any, keep: np.ndarray | None) -> tuple[np.ndarray, Any]:
    """Codes of the customers in ``ids[keep]`` into a sorted table of ids (see
    :func:`crmlab._summary_engine.customer_slots`; the table may hold ids with no row)."""
    if coded is None:
        return _summary_engine.customer_slots(ids if keep is None else ids[keep])
    codes, uniques = coded
    return (codes if keep is None else codes[keep]), uniques


def _merge_times(
    times: np.ndarray, merge: str, end_day: int, per_day: int
) -> tuple[np.ndarray, int, bool, float, int]:
    """Engine times for ``merge``: (times, end, count distinct times?, engine ticks per day,
    the divisor the engine applies to the times).

    ``"day"`` gives the times as they are, which the engine divides into day
    numbers; ``"none"`` nanoseconds, with the window ending at the end of
    ``end_day``; a calendar period gives the first day of each purchase's period,
    ``end_day`` likewise moved to the start of its period.
    """
    if merge == "none":
        return times, (end_day + 1) * per_day, False, float(per_day), 1
    if merge == "day":
        return times, end_day, True, 1.0, per_day
    days = times if per_day == 1 else np.floor_divide(times, per_day)
    both = np.append(days, end_day)
    starts = _period_start(both, merge)
    return starts[:-1], int(starts[-1]), True, 1.0, 1


def _period_start(days: np.ndarray, period: str) -> np.ndarray:
    """Day number of the first day of each day's calendar period (weeks start on Monday)."""
    if period == "W":
        # 1970-01-01 (day 0) was a Thursday: Monday is three days earlier.
        return days - (days + 3) % 7
    months = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    if period == "Q":
        months = months - months % 3
    elif period == "Y":
        months = months - months % 12
    return months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def _check_merge(merge: str) -> str:
    merge = "day" if merge == "D" else merge
    if merge not in MERGES:
        raise ValueError(
            f"merge must be one of {', '.join(repr(m) for m in MERGES)}, got {merge!r}: "
            "'day' merges a customer's purchases of one day into one transaction (the "
            "literature's convention), 'none' counts every row, 'W' (weeks from Monday), "
            "'M', 'Q', 'Y' merge calendar periods"
        )
    return merge


def _day_number(moment: str | pd.Timestamp, name: str) -> int:
    try:
        stamp = pd.Timestamp(moment)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name}={moment!r} is not a date") from error
    if pd.isna(stamp):
        raise ValueError(f"{name} must be a date, got {moment!r}")
    return int(np.datetime64(stamp.normalize().tz_localize(None), "D").astype(np.int64))


def _duckdb_settings(options: dict[str, Any]) -> dict[str, Any]:
    """The DuckDB engine's settings, with the spill folder as a plain path."""
    settings = split_options(options, DuckDBSettings)
    if settings["temp_directory"] is not None:
        settings["temp_directory"] = os.fspath(settings["temp_directory"])
    return settings


def _summary_frame(
    ids: np.ndarray,
    times: np.ndarray,
    amounts: np.ndarray | None,
    end_day: int,
    unit: str,
    merge: str,
    customer_col: str,
    coded: Any = None,
    per_day: int = _NS_PER_DAY,
) -> pd.DataFrame:
    """The (x, t_x, T, monetary) frame of validated arrays (rows after ``end_day`` ignored)."""
    unit_days = unit_length_days(unit)
    limit = (end_day + 1) * per_day
    keep = None
    after = 0
    # A log that ends within the window (the usual case) needs no mask and no copies.
    if len(times) and times.max() >= limit:
        in_window = times < limit
        after = int(len(times) - in_window.sum())
        keep = in_window
        times = times[in_window]
        amounts = amounts[in_window] if amounts is not None else None
    codes, uniques = _customer_codes(ids, coded, keep)
    engine_times, end, distinct, ticks, divisor = _merge_times(times, merge, end_day, per_day)
    result = _summary_engine.summarize_arrays(
        codes,
        engine_times,
        amounts,
        n_customers=len(uniques),
        end_day=end,
        distinct=distinct,
        ticks=divisor,
    )
    scale = ticks * unit_days
    columns = ["x", "t_x", "T"] + (["monetary"] if amounts is not None else [])
    # One block the frame takes over as it is: building it column by column would copy
    # every column once more.
    values = np.empty((len(columns), len(result.customers)))
    values[0] = result.x
    np.divide(result.t_x, scale, out=values[1])
    np.divide(result.T, scale, out=values[2])
    if result.monetary is not None:
        values[3] = result.monetary
    frame = pd.DataFrame(
        values.T,
        index=pd.Index(uniques[result.customers], name=customer_col, copy=False),
        columns=columns,
        copy=False,
    )
    frame.attrs["rows_after_observation_end"] = after
    return frame


def _record(
    frame: pd.DataFrame,
    unit: str,
    merge: str,
    options: dict[str, Any],
    report: ValidationReport | dict[str, Any] | None,
    engine: str = "memory",
) -> None:
    frame.attrs["unit"] = unit
    frame.attrs["engine"] = engine
    frame.attrs["merge"] = merge
    frame.attrs.update(options)
    if "monetary" in frame.columns and isinstance(frame, pd.DataFrame):
        zero = (frame["x"] > 0) & (frame["monetary"] == 0)
        frame.attrs["zero_spend_customers"] = int(zero.sum())
    if isinstance(report, ValidationReport):
        report = report.as_dict()
    frame.attrs["cleaning"] = report


ENGINES: tuple[str, ...] = ("memory", "duckdb", "spark")


def _engine(source: Any, engine: str | None) -> str:
    """The engine for ``source``: files, globs, DuckDB relations and Polars frames go to
    DuckDB, Spark DataFrames to Spark, pandas frames stay in memory."""
    from crmlab import _duckdb_engine, _spark_engine

    if _spark_engine.is_source(source):
        if engine not in (None, "spark"):
            raise ValueError(f"a Spark DataFrame is summarised by engine='spark', not {engine!r}")
        return "spark"
    if engine == "spark":
        raise ValueError(
            f"engine='spark' needs a Spark DataFrame, got {type(source).__name__} "
            "(spark.read.parquet(...) makes one)"
        )
    if engine is None:
        return "duckdb" if _duckdb_engine.is_source(source) else "memory"
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(map(repr, ENGINES))}, got {engine!r}")
    if engine == "memory" and not isinstance(source, pd.DataFrame):
        raise ValueError(
            f"engine='memory' needs a pandas DataFrame, got {type(source).__name__}: "
            "pass engine='duckdb' (or no engine) for files and DuckDB relations"
        )
    return engine


def _duckdb_only(chosen: str, **settings: Any) -> None:
    given = [name for name, value in settings.items() if value is not None]
    if given and chosen != "duckdb":
        raise ValueError(
            f"{', '.join(given)} set(s) the DuckDB engine, but this log goes to the "
            f"{chosen!r} engine: pass a Parquet or CSV path (or engine='duckdb'), or "
            f"leave {', '.join(given)} out"
        )


def _spark_result(
    summary: Any,
    customer_col: str,
    to_pandas: bool,
    unit: str,
    merge: str,
    options: dict[str, Any],
    report: dict[str, Any] | None,
    windows: dict[str, str],
) -> Any:
    """A Spark summary, left in Spark or collected, with the attrs of the other engines."""
    if to_pandas:
        from crmlab._spark_engine import to_pandas as collect

        frame = collect(summary, customer_col)
    else:
        frame = summary
        frame.attrs = {}  # a Spark DataFrame carries the same record as a plain attribute
    _record(frame, unit, merge, options, report, engine="spark")
    frame.attrs.update(windows)
    return frame


def summarize(
    tx: pd.DataFrame,
    observation_end: str | pd.Timestamp,
    unit: str = "W",
    *,
    merge: Merge = "day",
    **log: Unpack[SummaryOptions],
) -> pd.DataFrame:
    """Summarise a transaction log into one (x, t_x, T, monetary) row per customer.

    By default purchases on the same day count as one transaction (their amounts
    add up), the convention of the CDNOW analyses (Fader, Hardie & Lee 2005); see
    ``merge``. Only transactions on or before ``observation_end`` count; later ones
    are the holdout (see :func:`calibration_holdout`), counted in
    ``attrs["rows_after_observation_end"]``, and customers whose first purchase
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
    returns, on_invalid, duplicates, currency
        How to treat returns, invalid rows, exact duplicates and currency strings
        (see :func:`validate_transactions`).
    merge : {"day", "none", "W", "M", "Q", "Y"}
        What counts as one transaction. ``"day"`` (default, the literature's
        convention): a customer's purchases on one day; times are whole days.
        ``"none"``: every row, at its timestamp (the time of day kept; the window
        ends at midnight after ``observation_end``). On logs where customers buy
        several times a day, same-day merging biases a fit (fewer, larger
        transactions); ``"none"`` does not, but needs times that tell a customer's
        purchases apart. ``"W"`` (weeks starting Monday, lifetimes' ``freq="W"``),
        ``"M"``, ``"Q"``, ``"Y"``: one calendar period; every time, and
        ``observation_end``, moves to the start of its period.
    engine : {"memory", "duckdb", "spark"}, optional
        Forces an engine; by default a pandas frame is summarised in memory, files,
        globs, lists of files, DuckDB relations and Polars frames by DuckDB, and a
        Spark DataFrame by Spark.
    memory_limit, temp_directory : str, optional
        DuckDB engine only: the most memory DuckDB may hold (``"8GB"``; DuckDB's
        default is 80 % of the machine's) and the folder it spills to past it
        (default: ``crmlab`` in the system's temporary folder).
    partitions : int, optional
        DuckDB engine only: summarise the customers in this many hash partitions,
        one pass over the log each, so that no pass holds more than its share of
        the (customer, day) groups. By default it is chosen from the log's rows and
        ``memory_limit`` (one pass while the log has fewer rows than
        ``memory_limit`` in bytes / 85, about 94 M rows at 8 GB; see
        ``crmlab._duckdb_engine.partition_count``). The result does
        not depend on it.
    to_pandas : bool
        Spark engine only: collect the summary into pandas instead of returning a
        Spark DataFrame.

    Returns
    -------
    pandas.DataFrame
        Indexed by customer id, sorted. Columns ``x`` (repeat transactions after the
        first), ``t_x`` (time from the first to the last), ``T`` (time from the
        first to ``observation_end``) and ``monetary`` (mean value of the repeat
        transactions, NaN when ``x == 0``). ``attrs`` record ``unit``,
        ``observation_end``, ``merge``, ``on_invalid``, ``returns``, ``duplicates``,
        ``currency``, ``rows_after_observation_end``, ``zero_spend_customers``
        (``x > 0`` with ``monetary == 0``) and ``cleaning`` (the validation report's
        counts, or None when the log needed no cleaning).

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
    >>> summarize(log, observation_end="2024-01-29", unit="D", merge="none").loc["a", "x"]
    np.float64(2.0)
    """

    o = log_options(log, SummaryOptions)
    columns = split_options(o, LogColumns)
    unit_length_days(unit)
    merge = _check_merge(merge)
    end_day = _day_number(observation_end, "observation_end")
    options = split_options(o, CleaningOptions)
    chosen = _engine(tx, o["engine"])
    _duckdb_only(chosen, **split_options(o, DuckDBSettings))
    if chosen == "spark":
        from crmlab import _spark_engine

        spark_summary, report, after = _spark_engine.summarize(
            tx,
            end_day=end_day,
            unit_days=unit_length_days(unit),
            merge=merge,
            **columns,
            options=options,
        )
        return _spark_result(
            spark_summary,
            o["customer_col"],
            o["to_pandas"],
            unit,
            merge,
            options,
            report,
            {
                "observation_end": str(pd.Timestamp(observation_end).date()),
                "rows_after_observation_end": after,
            },
        )
    if chosen == "duckdb":
        from crmlab import _duckdb_engine

        frame, report = _duckdb_engine.summarize(
            tx,
            end_day=end_day,
            unit_days=unit_length_days(unit),
            merge=merge,
            **columns,
            options=options,
            **_duckdb_settings(o),
        )
        _record(frame, unit, merge, options, report, engine="duckdb")
    else:
        ids, times, amounts, report, coded, per_day = _log_arrays(
            tx, o["customer_col"], o["date_col"], o["amount_col"], options, merge, raw_ticks=True
        )
        frame = _summary_frame(
            ids, times, amounts, end_day, unit, merge, o["customer_col"], coded, per_day
        )
        _record(frame, unit, merge, options, report)
    frame.attrs["observation_end"] = str(pd.Timestamp(observation_end).date())
    return frame


def first_purchase_value(
    tx: pd.DataFrame,
    *,
    merge: Merge = "day",
    **log: Unpack[LogOptions],
) -> pd.Series:
    """The value of each customer's first transaction, from the log cleaned as a summary cleans it.

    The first transaction is the one the summary counts as the first (``merge="day"``:
    every purchase of her first day, amounts added), so it is what :func:`summarize`
    leaves out of ``monetary`` (the mean of the *repeat* transactions): a covariate
    known at acquisition that counts nothing twice. The log is validated with the same
    options and by the same fast path as :func:`summarize` (a clean log is only checked,
    not copied); reading it once more costs about what the summary costs.

    Parameters
    ----------
    tx : pandas.DataFrame
        The transaction log, in memory (for files or Spark, compute it there:
        the first time per customer, then the sum of the amounts at it).
    merge : {"day", "none", "W", "M", "Q", "Y"}
        What counts as one transaction, as in :func:`summarize`; with ``"none"``
        rows that share a customer's first timestamp give their mean, as the
        summary's ``monetary`` takes it.
    customer_col, date_col, amount_col, on_invalid, returns, duplicates, currency
        As in :func:`validate_transactions`; ``amount_col`` is needed.

    Returns
    -------
    pandas.Series
        Named ``first_value``, indexed by customer id (sorted), one row per customer
        with a valid transaction.

    Examples
    --------
    >>> import pandas as pd
    >>> log = pd.DataFrame({"customer_id": ["a", "a", "a", "b"],
    ...                     "date": ["2024-01-01", "2024-01-01", "2024-01-15", "2024-01-08"],
    ...                     "amount": [10.0, 5.0, 20.0, 7.0]})
    >>> first_purchase_value(log)
    customer_id
    a    15.0
    b     7.0
    Name: first_value, dtype: float64
    """
    o = log_options(log, LogOptions)
    if o["amount_col"] is None:
        raise ValueError("first_purchase_value needs amounts: pass amount_col (the column name)")
    if not isinstance(tx, pd.DataFrame):
        raise ValueError(
            f"first_purchase_value reads a pandas DataFrame, got {type(tx).__name__}; for a "
            "file or a Spark DataFrame, compute each customer's first time and the sum of "
            "her amounts at it in that engine"
        )
    merge = _check_merge(merge)
    options = split_options(o, CleaningOptions)
    ids, times, amounts, _, coded, per_day = _log_arrays(
        tx, o["customer_col"], o["date_col"], o["amount_col"], options, merge, raw_ticks=True
    )
    codes, uniques = _customer_codes(ids, coded, None)
    end_day = int(times.max() // per_day) if len(times) else 0
    engine_times, _, distinct, _, divisor = _merge_times(times, merge, end_day, per_day)
    customers, values = _summary_engine.first_values(
        codes, engine_times, amounts, n_customers=len(uniques), distinct=distinct, ticks=divisor
    )
    return pd.Series(
        values,
        index=pd.Index(uniques[customers], name=o["customer_col"], copy=False),
        name="first_value",
    )


def calibration_holdout(
    tx: pd.DataFrame,
    calibration_end: str | pd.Timestamp,
    observation_end: str | pd.Timestamp,
    unit: str = "W",
    *,
    merge: Merge = "day",
    **log: Unpack[SummaryOptions],
) -> pd.DataFrame:
    """Summarise a calibration period and count each customer's holdout purchases.

    Customers are those acquired by ``calibration_end``. The calibration columns are
    those of :func:`summarize`; ``x_holdout`` counts transactions (merged as
    ``merge`` says) in (``calibration_end``, ``observation_end``],
    ``duration_holdout`` is that period's length in ``unit`` and
    ``monetary_holdout`` the mean value of those transactions (NaN if none). The
    cleaning options are those of :func:`validate_transactions`; the log is
    validated once. ``engine``, ``memory_limit``, ``temp_directory``,
    ``partitions`` and ``to_pandas`` are those of :func:`summarize`.

    Examples
    --------
    >>> import crmlab as cl
    >>> ch = cl.transactions.calibration_holdout(cl.datasets.load_cdnow("sample"),
    ...     calibration_end="1997-09-30", observation_end="1998-06-30", unit="W")
    >>> int(ch["x_holdout"].sum()), round(float(ch["duration_holdout"].iloc[0]), 2)
    (1882, 39.0)
    """

    o = log_options(log, SummaryOptions)
    columns = split_options(o, LogColumns)
    cal_day = _day_number(calibration_end, "calibration_end")
    end_day = _day_number(observation_end, "observation_end")
    if end_day <= cal_day:
        raise ValueError(
            f"observation_end ({observation_end}) must come after calibration_end "
            f"({calibration_end})"
        )
    unit_days = unit_length_days(unit)
    merge = _check_merge(merge)
    options = split_options(o, CleaningOptions)
    if merge in ("day", "none"):
        duration = (end_day - cal_day) / unit_days
    else:
        starts = _period_start(np.array([cal_day, end_day]), merge)
        duration = (starts[1] - starts[0]) / unit_days
    chosen = _engine(tx, o["engine"])
    _duckdb_only(chosen, **split_options(o, DuckDBSettings))
    if chosen == "spark":
        from crmlab import _spark_engine

        spark_summary, report, after = _spark_engine.calibration_holdout(
            tx,
            cal_day=cal_day,
            end_day=end_day,
            unit_days=unit_days,
            merge=merge,
            **columns,
            options=options,
            duration=duration,
        )
        return _spark_result(
            spark_summary,
            o["customer_col"],
            o["to_pandas"],
            unit,
            merge,
            options,
            report,
            {
                "calibration_end": str(pd.Timestamp(calibration_end).date()),
                "observation_end": str(pd.Timestamp(observation_end).date()),
                "rows_after_observation_end": after,
            },
        )
    if chosen == "duckdb":
        from crmlab import _duckdb_engine

        calibration, report = _duckdb_engine.calibration_holdout(
            tx,
            cal_day=cal_day,
            end_day=end_day,
            unit_days=unit_days,
            merge=merge,
            **columns,
            options=options,
            **_duckdb_settings(o),
        )
        calibration.insert(
            calibration.columns.get_loc("x_holdout") + 1, "duration_holdout", duration
        )
        _record(calibration, unit, merge, options, report, engine="duckdb")
        calibration.attrs["calibration_end"] = str(pd.Timestamp(calibration_end).date())
        calibration.attrs["observation_end"] = str(pd.Timestamp(observation_end).date())
        return calibration
    ids, times, amounts, report, coded, per_day = _log_arrays(
        tx, o["customer_col"], o["date_col"], o["amount_col"], options, merge, raw_ticks=True
    )
    calibration = _summary_frame(
        ids, times, amounts, cal_day, unit, merge, o["customer_col"], coded, per_day
    )
    days = times if per_day == 1 else np.floor_divide(times, per_day)
    holdout = (days > cal_day) & (days <= end_day)
    codes = calibration.index.get_indexer(ids[holdout])
    known = codes >= 0  # customers first seen in the holdout are not in the calibration base
    holdout_amounts = amounts[holdout][known] if amounts is not None else None
    engine_times, _, distinct, _, divisor = _merge_times(
        times[holdout][known], merge, end_day, per_day
    )
    counts, totals = _summary_engine.count_days(
        codes[known],
        engine_times,
        holdout_amounts,
        n_customers=len(calibration),
        distinct=distinct,
        ticks=divisor,
    )
    calibration["x_holdout"] = counts.astype("float64")
    calibration["duration_holdout"] = duration
    if totals is not None:
        with np.errstate(invalid="ignore", divide="ignore"):
            calibration["monetary_holdout"] = np.where(counts > 0, totals / counts, np.nan)
    after = calibration.attrs.pop("rows_after_observation_end")
    calibration.attrs["rows_after_observation_end"] = int(after - holdout.sum())
    _record(calibration, unit, merge, options, report)
    calibration.attrs["calibration_end"] = str(pd.Timestamp(calibration_end).date())
    calibration.attrs["observation_end"] = str(pd.Timestamp(observation_end).date())
    return calibration


def cohort_table(
    tx: pd.DataFrame,
    period: str = "M",
    *,
    observation_end: str | pd.Timestamp | None = None,
    **log: Unpack[SourceOptions],
) -> pd.DataFrame:
    """Acquisition cohorts: for each cohort and period since acquisition, who was active.

    A customer's cohort is the calendar period (``"M"`` month, ``"Q"`` quarter,
    ``"W"`` week, ``"Y"`` year) of the first purchase; period 0 is that period.
    The cleaning options are those of :func:`validate_transactions` (there is no
    ``merge``: a customer is active in a period whatever the number of purchases).
    ``tx`` and ``engine``, ``memory_limit``, ``temp_directory`` and ``partitions``
    are those of :func:`summarize`: files and DuckDB relations are counted in DuckDB
    and Spark DataFrames in Spark, and only the small table comes back.

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

    o = log_options(log, SourceOptions)
    columns = split_options(o, LogColumns)
    freq = {"M": "M", "Q": "Q", "W": "W", "Y": "Y"}.get(period)
    if freq is None:
        raise ValueError(f"period must be one of 'M', 'Q', 'W', 'Y', got {period!r}")
    options = split_options(o, CleaningOptions)
    chosen = _engine(tx, o["engine"])
    _duckdb_only(chosen, **split_options(o, DuckDBSettings))
    end_day = None if observation_end is None else _day_number(observation_end, "observation_end")
    if chosen in ("duckdb", "spark"):
        if chosen == "duckdb":
            from crmlab import _duckdb_engine

            counted, last_day, cleaning = _duckdb_engine.cohort_counts(
                tx,
                period=period,
                end_day=end_day,
                options=options,
                **_duckdb_settings(o),
                **columns,
            )
        else:
            from crmlab import _spark_engine

            counted, last_day, cleaning = _spark_engine.cohort_counts(
                tx, period=period, end_day=end_day, options=options, **columns
            )
        cohorts = pd.to_datetime(counted["cohort_start"]).dt.to_period(freq)
        periods = pd.to_datetime(counted["period_start"]).dt.to_period(freq)
        table = pd.DataFrame(
            {
                "cohort": cohorts.astype(str),
                "period": _period_difference(periods, cohorts),
                "active": counted["active"].astype("int64"),
            }
        )
        if o["amount_col"] is not None:
            table["revenue"] = counted["revenue"].astype("float64")
        table = table.sort_values(["cohort", "period"], ignore_index=True)
        sizes = table[table["period"] == 0].set_index("cohort")["active"]
        end = pd.Timestamp(0) if last_day is None else _day_timestamp(int(last_day))
    else:
        clean, report = validate_transactions(tx, **columns, **options)
        cleaning = report.as_dict()
        end = clean["date"].max() if observation_end is None else pd.Timestamp(observation_end)
        clean = clean[clean["date"] <= end]
        periods = clean["date"].dt.to_period(freq)
        first = periods.groupby(clean["customer_id"]).transform("min")
        offset = _period_difference(periods, first)
        work = pd.DataFrame(
            {"customer_id": clean["customer_id"], "cohort": first.astype(str), "period": offset}
        )
        if o["amount_col"] is not None:
            work["revenue"] = clean["amount"]
        sizes = work[work["period"] == 0].groupby("cohort")["customer_id"].nunique()
        grouped = work.groupby(["cohort", "period"])
        table = grouped["customer_id"].nunique().rename("active").to_frame()
        if o["amount_col"] is not None:
            table["revenue"] = grouped["revenue"].sum()
        table = table.reset_index()
    table = _cohort_grid(table, sizes, end, freq, o["amount_col"] is not None)
    table.attrs["period"] = period
    table.attrs.update(options)
    table.attrs["cleaning"] = cleaning
    table.attrs["engine"] = chosen
    return table


def _day_timestamp(day: int) -> pd.Timestamp:
    return pd.Timestamp("1970-01-01") + pd.Timedelta(days=day)


def _cohort_grid(
    table: pd.DataFrame, sizes: pd.Series, end: pd.Timestamp, freq: str, with_amounts: bool
) -> pd.DataFrame:
    """Every (cohort, period) up to ``end``, periods with no active customer as zeros."""
    table = table.copy()
    table.insert(2, "cohort_size", table["cohort"].map(sizes).astype("int64"))
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
    if with_amounts:
        table["revenue"] = table["revenue"].fillna(0.0)
    return table.reset_index()


def _period_difference(later: pd.Series, earlier: pd.Series) -> pd.Series:
    later_index = pd.PeriodIndex(later)
    earlier_index = pd.PeriodIndex(earlier)
    return pd.Series((later_index.asi8 - earlier_index.asi8).astype("int64"), index=later.index)


def compress(
    summary: Any, columns: tuple[str, ...] = ("x", "t_x", "T"), weight: str = "weight"
) -> pd.DataFrame:
    """The distinct rows of a summary's ``columns`` with the number of customers in each.

    Models fit on this small table exactly as on the customers themselves (a
    ``weight`` column counts the customers a row stands for), so a summary that
    stays in Spark, or one of millions of customers, is fitted from a frame of its
    distinct patterns. Works on a pandas summary from any engine and on a Spark
    DataFrame (grouped in Spark; only the distinct rows reach the driver).

    Examples
    --------
    >>> import crmlab as cl
    >>> s = summarize(cl.datasets.load_cdnow("sample"), "1997-09-30", unit="W")
    >>> rows = compress(s)
    >>> len(rows) < 2357, int(rows["weight"].sum())
    (True, 2357)
    >>> round(cl.models.BGNBD().fit(rows).loglik, 2)
    -9582.43
    """
    if type(summary).__module__.startswith("pyspark"):
        grouped = summary.groupBy(*columns).count().withColumnRenamed("count", weight)
        rows = grouped.toPandas()
    else:
        missing = [column for column in columns if column not in summary.columns]
        if missing:
            raise ValueError(
                f"compress: the summary has no column(s) {missing}; it has {list(summary.columns)}"
            )
        rows = summary.groupby(list(columns), sort=True).size().rename(weight).reset_index()
    rows[weight] = rows[weight].astype("float64")
    rows = rows.sort_values(list(columns), kind="stable").reset_index(drop=True)
    rows.attrs = dict(getattr(summary, "attrs", {}))
    return rows
