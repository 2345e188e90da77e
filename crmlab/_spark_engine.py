"""The Spark engine behind :func:`crmlab.transactions.summarize`: logs that live on a cluster.

A Spark DataFrame is summarised in Spark, by the same two-stage group-by as the other
engines (customer and time, then customer), and the summary stays a Spark DataFrame,
one row per customer, unless ``to_pandas=True``: the log is never collected to the
driver. Validation runs as Spark expressions: one aggregate counts every problem, and
only the first offending rows of a problem found (at most five) are fetched, to name
them in the same messages as the other engines. Spark rows have no position, so a
message names them by their values.

Supported options: the DuckDB engine's (``on_invalid`` "raise", "drop" or
"drop_customer", ``returns`` "raise", "net" or "drop", ``duplicates`` "keep" or "drop",
``currency`` None, "." or ",") and every ``merge``, with the in-memory engine's
cleaning report.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmlab._duckdb_engine import SUPPORTED, cleaning_report, log_problems, raise_log_problems

__all__ = ["calibration_holdout", "cohort_counts", "is_source", "summarize"]

_SHOWN_ROWS = 5
_TRUNC = {"W": "week", "M": "month", "Q": "quarter", "Y": "year"}  # Spark weeks start Monday
_NS_PER_DAY = 86_400 * 10**9


def is_source(source: Any) -> bool:
    """True for a Spark DataFrame."""
    return type(source).__module__.startswith("pyspark")


def _refuse_unsupported(options: dict[str, Any]) -> None:
    for name, value in options.items():
        if value not in SUPPORTED[name]:
            raise ValueError(
                f"{name}={value!r} is not available in the Spark engine, which supports "
                f"{', '.join(repr(v) for v in SUPPORTED[name])}: it matches rows one by one. "
                "Clean the log first (in Spark), or summarise a pandas frame with "
                "engine='memory'"
            )


def _prepare(
    log: Any, customer_col: str, date_col: str, amount_col: str | None, options: dict[str, Any]
) -> tuple[Any, dict[str, Any] | None]:
    """Validate in Spark; return the clean (cust, ts, amt) DataFrame and the report."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import (
        DateType,
        NumericType,
        StringType,
        TimestampNTZType,
        TimestampType,
    )

    _refuse_unsupported(options)
    wanted = [customer_col, date_col] + ([amount_col] if amount_col is not None else [])
    missing = [column for column in wanted if column not in log.columns]
    if missing:
        raise ValueError(
            f"missing column(s) {', '.join(repr(c) for c in missing)}; the log has "
            f"{', '.join(repr(str(c)) for c in log.columns)}. Name yours with "
            "customer_col=, date_col= and amount_col="
        )
    date_type = log.schema[date_col].dataType
    if isinstance(date_type, TimestampType | TimestampNTZType | DateType):
        ts = F.col(date_col).cast("timestamp")
    else:
        ts = F.try_to_timestamp(F.col(date_col).cast(StringType()))
    amount = F.col(amount_col).try_cast("double") if amount_col else F.lit(None).cast("double")
    looks = F.lit(False)
    if amount_col and isinstance(log.schema[amount_col].dataType, StringType):
        amount, looks = _currency(F.col(amount_col), options["currency"])
    typed = log.select(
        F.col(customer_col).alias("cust"),
        ts.alias("ts"),
        amount.alias("amt"),
        looks.alias("cur"),
        F.col(date_col).alias("raw_date"),
        (F.col(amount_col) if amount_col else F.lit(None)).alias("raw_amount"),
    )
    finite = (
        F.col("amt").isNotNull() & ~F.isnan("amt") & (F.abs("amt") != float("inf"))
        if amount_col
        else F.lit(True)
    )
    valid = F.col("cust").isNotNull() & F.col("ts").isNotNull() & finite
    unread = ~F.col("cur") if options["currency"] is None else F.lit(True)
    known = F.col("cust").isNotNull() & F.col("ts").isNotNull()
    checks = {
        "rows_in": F.lit(True),
        "no_id": F.col("cust").isNull(),
        "bad_date": F.col("ts").isNull(),
        "bad_amount": unread & ~finite if amount_col else F.lit(False),
        "currency": F.col("cur") & ~finite,
        "currency_parsed": F.col("cur") & finite,
        "bad_date_only": F.col("cust").isNotNull() & F.col("ts").isNull(),
        "currency_only": known & F.col("cur") & ~finite,
        "bad_amount_only": known & unread & ~finite if amount_col else F.lit(False),
        "negative": valid & (F.col("amt") < 0) if amount_col else F.lit(False),
        "zero": valid & (F.col("amt") == 0) if amount_col else F.lit(False),
    }
    counted = typed.agg(
        *[F.sum(F.when(cond, 1).otherwise(0)).alias(name) for name, cond in checks.items()]
    ).collect()[0]
    counts = {name: int(counted[name] or 0) for name in checks}
    if counts["currency"]:
        counts["currency_examples"] = [
            str(row[0])
            for row in typed.filter(F.col("cur") & ~finite).select("raw_amount").limit(50).collect()
        ]

    def first(condition: Any, shown: str | None) -> str:
        picked = typed.filter(condition).limit(_SHOWN_ROWS).collect()
        if shown is None:
            parts = [f"row ({row['cust']!r}, {str(row['raw_date'])!r})" for row in picked]
        else:
            parts = [f"row with {shown}={row[shown]!r}" for row in picked]
        more = counts_by_condition(condition) - len(picked)
        return ", ".join(parts) + (f" (and {more:,} more)" if more > 0 else "")

    def counts_by_condition(condition: Any) -> int:
        return int(typed.filter(condition).count())

    clean = typed.filter(valid).select("cust", "ts", "amt")
    where = {
        "no_id": (F.col("cust").isNull(), "raw_date"),
        "bad_date": (F.col("ts").isNull(), "raw_date"),
        "bad_amount": (unread & ~finite, "raw_amount"),
        "currency": (F.col("cur") & ~finite, "raw_amount"),
        "negative": (valid & (F.col("amt") < 0), "amt"),
        "zero": (valid & (F.col("amt") == 0), None),
    }
    # Duplicates never block, so the error can be raised before they are counted.
    problems = log_problems(
        {**counts, "duplicates": 0},
        lambda kind: first(*where[kind]),
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        options=options,
    )
    raise_log_problems(problems)
    # The in-memory engine takes a fast path, without counting duplicates or writing a
    # report, for a log of typed timestamps, numeric amounts and nothing to clean.
    invalid = counts["no_id"] + counts["bad_date"] + counts["bad_amount"] + counts["currency"]
    fast = (
        isinstance(date_type, TimestampType | TimestampNTZType)
        and (amount_col is None or isinstance(log.schema[amount_col].dataType, NumericType))
        and options["duplicates"] == "keep"
        and not invalid
        and not counts["negative"]
    )
    if not fast:
        # Counted as memory counts them: on every valid row, returns and lost customers'
        # rows included, before anything is dropped.
        counts["duplicates"] = int(
            clean.groupBy("cust", "ts", "amt")
            .count()
            .agg(F.sum(F.col("count") - 1))
            .collect()[0][0]
            or 0
        )
    lost = _lost_customers(typed, valid, options, counts)
    if lost is not None and options["on_invalid"] == "drop_customer":
        clean = clean.join(lost, on="cust", how="left_anti")
    dropping = options["duplicates"] == "drop"
    if dropping:
        clean = clean.dropDuplicates(["cust", "ts", "amt"])
    if fast:
        return clean, None
    kept = clean
    if amount_col is not None and counts["negative"]:
        if options["returns"] == "net":
            clean = _net_returns(kept, counts)
        else:
            clean = kept.filter(F.col("amt") >= 0)
    left = clean.agg(F.count(F.lit(1)), F.sum(F.when(F.col("amt") == 0, 1).otherwise(0))).collect()[
        0
    ]
    returned = kept.agg(F.sum(F.when(F.col("amt") < 0, 1).otherwise(0))).collect()[0][0]
    report = cleaning_report(
        {**counts, "zero": int(left[1] or 0), "negative": int(returned or 0)},
        rows_out=int(left[0]),
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        options=options,
        duplicates_dropped=counts["duplicates"] - counts["lost_duplicates"] if dropping else 0,
    )
    return clean, report


def _net_returns(rows: Any, counts: dict[str, Any]) -> Any:
    """Net the returns (negative amounts) of ``rows`` against the purchases, in Spark.

    The in-memory engine's rule (:func:`crmlab._cleaning.net_returns`): a return goes
    to the customer's latest day with purchases on or before its own (the last such day
    in a window over the customer's days, purchase days ordered before the returns of
    the same day), each purchase row of that day gives up its share of the day's
    returns, a day whose returns reach its value is cancelled, and returns with no such
    day are removed. Returns the netted rows; the counts of the cleaning report go
    into ``counts``.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    day = F.datediff(F.to_date("ts"), F.lit("1970-01-01").cast("date"))
    base = rows.withColumn("day", day).cache()
    days = (
        base.filter(F.col("amt") > 0)
        .groupBy("cust", "day")
        .agg(F.sum("amt").alias("value"), F.count(F.lit(1)).alias("purchases"))
    )
    returns = base.filter(F.col("amt") < 0).select("cust", "day", "amt")
    events = days.select(
        "cust", "day", F.lit(0).alias("kind"), F.lit(None).cast("double").alias("amt")
    ).union(returns.select("cust", "day", F.lit(1).alias("kind"), "amt"))
    so_far = (
        Window.partitionBy("cust")
        .orderBy("day", "kind")
        .rowsBetween(Window.unboundedPreceding, Window.currentRow)
    )
    latest = F.last(F.when(F.col("kind") == 0, F.col("day")), ignorenulls=True).over(so_far)
    matched = events.withColumn("matched", latest).filter(F.col("kind") == 1).cache()
    returned = (
        matched.filter(F.col("matched").isNotNull())
        .groupBy("cust", F.col("matched").alias("day"))
        .agg(F.sum(-F.col("amt")).alias("returned"))
    )
    netted = (
        days.join(returned, on=["cust", "day"], how="left")
        .withColumn("returned", F.coalesce("returned", F.lit(0.0)))
        .withColumn("cancelled", F.col("returned") >= F.col("value") * (1 - 1e-12))
        .cache()
    )
    out = (
        base.join(
            netted.select("cust", "day", "value", "returned", "cancelled"), ["cust", "day"], "left"
        )
        .filter(
            (F.col("amt") >= 0) & ~F.coalesce((F.col("amt") > 0) & F.col("cancelled"), F.lit(False))
        )
        .select(
            "cust",
            "ts",
            F.when(
                F.col("amt") > 0, F.col("amt") - F.col("returned") * F.col("amt") / F.col("value")
            )
            .otherwise(F.col("amt"))
            .alias("amt"),
        )
    )
    found = matched.agg(F.count("matched"), F.count(F.lit(1))).collect()[0]
    days_found = netted.agg(
        F.sum(F.when(F.col("cancelled"), F.col("purchases")).otherwise(0)),
        F.sum(
            F.when((F.col("returned") > 0) & ~F.col("cancelled"), F.col("purchases")).otherwise(0)
        ),
        F.sum(F.greatest(F.col("returned") - F.col("value"), F.lit(0.0))),
    ).collect()[0]
    before = base.filter(F.col("amt") >= 0).select("cust").distinct().count()
    after = out.select("cust").distinct().count()
    counts.update(
        returns_netted=int(found[0]),
        returns_unmatched=int(found[1]) - int(found[0]),
        purchases_cancelled=int(days_found[0] or 0),
        purchases_reduced=int(days_found[1] or 0),
        unmatched_return_value=float(days_found[2] or 0.0),
        customers_returned_whole=int(before) - int(after),
    )
    # The steps were kept only for these counts; a cache left behind would hold a copy of
    # the log for the rest of the session.
    for step in (base, matched, netted):
        step.unpersist()
    return out


def _currency(raw: Any, currency: str | None) -> tuple[Any, Any]:
    """The amount of a text column, currency strings read as ``currency`` says, and
    whether the text is a currency string (the in-memory engine's pattern)."""
    from pyspark.sql import functions as F

    from crmlab._cleaning import _CURRENCY

    number = raw.try_cast("double")
    # Java's regular expressions read the pattern as Python's do, \u00a0 included.
    looks = raw.isNotNull() & number.isNull() & raw.rlike(_CURRENCY.pattern)
    if currency is None:
        return number, looks
    digits = F.regexp_replace(raw, "[^0-9.,+-]", "")
    if currency == ",":
        digits = F.regexp_replace(F.regexp_replace(digits, "[.]", ""), ",", ".")
    else:
        digits = F.regexp_replace(digits, ",", "")
    return F.when(looks, digits.try_cast("double")).otherwise(number), looks


def _lost_customers(typed: Any, valid: Any, options: dict[str, Any], counts: dict[str, Any]) -> Any:
    """Customers whose first purchase may be among the invalid rows (the in-memory
    engine's rule; see :func:`crmlab._duckdb_engine._lost_customers`), as a Spark
    DataFrame of ``cust``, with their counts put into ``counts``; None when there are
    no invalid rows of known customers."""
    from pyspark.sql import functions as F

    counts.update(first_purchase_dropped=0, customers_dropped=0, customer_rows_dropped=0)
    counts["lost_duplicates"] = 0
    if not (counts["bad_date_only"] or counts["currency_only"] or counts["bad_amount_only"]):
        return None
    day = F.datediff(F.to_date("ts"), F.lit("1970-01-01").cast("date"))
    bad = (
        typed.filter(F.col("cust").isNotNull() & ~valid)
        .groupBy("cust")
        .agg(F.max(F.col("ts").isNull().cast("int")).alias("undated"), F.min(day).alias("bad"))
    )
    good = (
        typed.filter(valid)
        .join(bad.select("cust"), on="cust", how="left_semi")
        .groupBy("cust")
        .agg(F.min(day).alias("good"))
    )
    lost = (
        bad.join(good, on="cust", how="left")
        .filter((F.col("undated") == 1) | F.col("good").isNull() | (F.col("bad") <= F.col("good")))
        .select("cust")
        .cache()
    )
    number = int(lost.count())
    if options["on_invalid"] != "drop_customer":
        counts["first_purchase_dropped"] = number
        return lost
    rows = (
        typed.filter(valid)
        .join(lost, on="cust", how="left_semi")
        .groupBy("cust", "ts", "amt")
        .count()
        .agg(F.sum("count"), F.sum(F.col("count") - 1))
        .collect()[0]
    )
    counts.update(customers_dropped=number, customer_rows_dropped=int(rows[0] or 0))
    counts["lost_duplicates"] = int(rows[1] or 0)
    return lost


def _time(merge: str) -> Any:
    """The engine's integer time of a row: days, nanoseconds or the period's first day."""
    from pyspark.sql import functions as F

    epoch = F.lit("1970-01-01").cast("date")
    if merge == "none":
        return F.unix_micros("ts") * 1000
    if merge == "day":
        return F.datediff(F.to_date("ts"), epoch)
    return F.datediff(F.to_date(F.date_trunc(_TRUNC[merge], "ts")), epoch)


def _window_end(merge: str, end_day: int) -> int:
    if merge == "none":
        return (end_day + 1) * _NS_PER_DAY
    if merge == "day":
        return end_day
    from crmlab.transactions import _period_start

    return int(_period_start(np.array([end_day]), merge)[0])


def _in_window(end_day: int) -> Any:
    from pyspark.sql import functions as F

    return F.datediff(F.to_date("ts"), F.lit("1970-01-01").cast("date")) <= end_day


def _summary(
    clean: Any, merge: str, end_day: int, unit_days: float, with_amounts: bool, customer_col: str
) -> Any:
    from pyspark.sql import functions as F

    per_day = _NS_PER_DAY if merge == "none" else 1
    scale = float(per_day * unit_days)
    end = _window_end(merge, end_day)
    per_time = (
        clean.filter(_in_window(end_day))
        .withColumn("t", _time(merge))
        .groupBy("cust", "t")
        .agg(F.count(F.lit(1)).alias("n"), F.sum("amt").alias("v"))
    )
    count = F.sum("n") if merge == "none" else F.count(F.lit(1))
    first_value = F.min_by(F.col("v") / F.col("n"), "t") if merge == "none" else F.min_by("v", "t")
    per_customer = per_time.groupBy("cust").agg(
        (count - 1).alias("xi"),
        F.min("t").alias("first_t"),
        F.max("t").alias("last_t"),
        F.sum("v").alias("total"),
        first_value.alias("first_v"),
    )
    columns = [
        F.col("cust").alias(customer_col),
        F.col("xi").cast("double").alias("x"),
        ((F.col("last_t") - F.col("first_t")) / F.lit(scale)).alias("t_x"),
        ((F.lit(end) - F.col("first_t")) / F.lit(scale)).alias("T"),
    ]
    if with_amounts:
        columns.append(
            F.when(F.col("xi") > 0, (F.col("total") - F.col("first_v")) / F.col("xi")).alias(
                "monetary"
            )
        )
    return per_customer.select(*columns)


def to_pandas(summary: Any, customer_col: str) -> pd.DataFrame:
    """A Spark summary as the pandas frame the other engines return (sorted, indexed)."""
    frame = summary.toPandas().sort_values(customer_col, kind="stable")
    frame = frame.set_index(customer_col)
    for column in frame.columns:
        frame[column] = frame[column].astype("float64")
    return frame


def summarize(
    log: Any,
    *,
    end_day: int,
    unit_days: float,
    merge: str,
    customer_col: str,
    date_col: str,
    amount_col: str | None,
    options: dict[str, Any],
) -> tuple[Any, dict[str, Any] | None, int]:
    """The summary as a Spark DataFrame (one row per customer), the report, rows after the end."""
    clean, report = _prepare(log, customer_col, date_col, amount_col, options)
    summary = _summary(clean, merge, end_day, unit_days, amount_col is not None, customer_col)
    return summary, report, int(clean.filter(~_in_window(end_day)).count())


def calibration_holdout(
    log: Any,
    *,
    cal_day: int,
    end_day: int,
    unit_days: float,
    merge: str,
    customer_col: str,
    date_col: str,
    amount_col: str | None,
    options: dict[str, Any],
    duration: float,
) -> tuple[Any, dict[str, Any] | None, int]:
    """Calibration summary plus holdout counts (a Spark DataFrame), report, rows after the end."""
    from pyspark.sql import functions as F

    clean, report = _prepare(log, customer_col, date_col, amount_col, options)
    with_amounts = amount_col is not None
    calibration = _summary(clean, merge, cal_day, unit_days, with_amounts, customer_col)
    day = F.datediff(F.to_date("ts"), F.lit("1970-01-01").cast("date"))
    counted = F.count(F.lit(1)) if merge == "none" else F.count_distinct(_time(merge))
    aggregates = [counted.alias("x_holdout")]
    if with_amounts:
        aggregates.append(F.sum("amt").alias("total_holdout"))
    holdout = (
        clean.filter((day > cal_day) & (day <= end_day))
        .groupBy(F.col("cust").alias(customer_col))
        .agg(*aggregates)
    )
    joined = calibration.join(holdout, on=customer_col, how="left")
    x_holdout = F.coalesce(F.col("x_holdout"), F.lit(0)).cast("double")
    columns = [F.col(c) for c in calibration.columns]
    columns += [x_holdout.alias("x_holdout"), F.lit(float(duration)).alias("duration_holdout")]
    if with_amounts:
        columns.append(
            F.when(x_holdout > 0, F.col("total_holdout") / x_holdout).alias("monetary_holdout")
        )
    return joined.select(*columns), report, int(clean.filter(~_in_window(end_day)).count())


def cohort_counts(
    log: Any,
    *,
    period: str,
    end_day: int | None,
    customer_col: str,
    date_col: str,
    amount_col: str | None,
    options: dict[str, Any],
) -> tuple[pd.DataFrame, int | None, dict[str, Any] | None]:
    """Active customers (and revenue) per (cohort start, period start), counted in Spark.

    The same table as :func:`crmlab._duckdb_engine.cohort_counts`; only its rows (one
    per cohort and period) come to the driver.
    """
    from pyspark.sql import functions as F

    clean, report = _prepare(log, customer_col, date_col, amount_col, options)
    epoch = F.lit("1970-01-01").cast("date")
    day = F.datediff(F.to_date("ts"), epoch)
    if end_day is None:
        end_day = clean.agg(F.max(day)).collect()[0][0]
    if end_day is None:
        end_day_used = None
        end_day = -(10**6)
    else:
        end_day_used = end_day = int(end_day)
    rows = clean.filter(day <= end_day).select(
        "cust", F.to_date(F.date_trunc(_TRUNC[period], "ts")).alias("p"), "amt"
    )
    firsts = rows.groupBy("cust").agg(F.min("p").alias("cohort_start"))
    active = rows.groupBy("cust", "p").agg(F.sum("amt").alias("revenue"))
    aggregates = [F.count(F.lit(1)).alias("active")]
    if amount_col is not None:
        aggregates.append(F.sum("revenue").alias("revenue"))
    table = (
        active.join(firsts, on="cust")
        .groupBy("cohort_start", F.col("p").alias("period_start"))
        .agg(*aggregates)
        .toPandas()
    )
    return table, end_day_used, report
