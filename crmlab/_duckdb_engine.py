"""The DuckDB engine behind :func:`crmlab.transactions.summarize`: logs larger than memory.

DuckDB (embedded, nothing to start) scans Parquet or CSV files, a DuckDB relation, or
a pandas or Polars frame, and does in SQL what the in-memory engine does in numpy:
validation (counts and the first offending rows of each problem, the same
:class:`~crmlab._validate.Problem` messages), the cleaning options, and the summary as
a two-stage group-by (customer and time, then customer). Only the per-customer result
comes back to Python, so the log itself never has to fit in memory: DuckDB spills to
``temp_directory`` past ``memory_limit``.

Rows are named in messages by their position in the scan (0-based, in file order), as
the in-memory engine names them by their index label.

Large logs are summarised in hash partitions of the customers (``partitions``, chosen
from the rows and ``memory_limit`` by :func:`partition_count`): the valid rows are
written once, split by partition, to Parquet in ``temp_directory``, and each
partition's (customer, day) groups are summarised on their own, so that no step
holds more than its share of them. The result does not depend on the partitions.

Supported options: ``on_invalid`` "raise", "drop" or "drop_customer", ``returns``
"raise" or "drop", ``duplicates`` "keep" or "drop", ``currency`` None, "." or ",",
and every ``merge``; the cleaning report has the in-memory engine's counts. Netting
returns against purchases (``returns="net"``) is refused with the way round it.
"""

from __future__ import annotations

import glob
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from crmlab._validate import Problem, raise_problems

__all__ = [
    "BYTES_PER_ROW",
    "SUPPORTED",
    "calibration_holdout",
    "cleaning_report",
    "cohort_counts",
    "connect",
    "is_source",
    "log_problems",
    "memory_limit_bytes",
    "partition_count",
    "raise_log_problems",
    "summarize",
]

#: Option values this engine implements.
SUPPORTED = {
    "on_invalid": ("raise", "drop", "drop_customer"),
    "returns": ("raise", "net", "drop"),
    "duplicates": ("keep", "drop"),
    "currency": (None, ".", ","),
}
_SHOWN_ROWS = 5
#: What one valid log row may cost DuckDB in one pass (see :func:`partition_count`).
BYTES_PER_ROW = 64
_TRUNC = {"W": "week", "M": "month", "Q": "quarter", "Y": "year"}  # DuckDB weeks start Monday


def is_source(source: Any) -> bool:
    """True for what only this engine reads: paths, globs, lists of files, DuckDB relations."""
    if isinstance(source, str | os.PathLike):
        return True
    if (
        isinstance(source, list | tuple)
        and source
        and all(isinstance(item, str | os.PathLike) for item in source)
    ):
        return True
    return type(source).__module__.startswith(("duckdb", "polars"))


def connect(memory_limit: str | None = None, temp_directory: str | None = None) -> Any:
    """A DuckDB connection that spills to disk instead of failing on large logs.

    >>> con = connect(memory_limit="1GB")
    >>> con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    '953.6 MiB'
    """
    import duckdb

    config = {"temp_directory": temp_directory or os.path.join(tempfile.gettempdir(), "crmlab")}
    if memory_limit is not None:
        config["memory_limit"] = memory_limit
    con = duckdb.connect(config=config)
    # Times are read as written: no time zone moves a purchase to another day.
    con.execute("SET TimeZone = 'UTC'")
    # A progress bar would land in notebooks' saved outputs and in scripts' logs.
    con.execute("SET enable_progress_bar = false")
    return con


def _files(source: str | os.PathLike | Sequence[Any]) -> list[str]:
    items = [source] if isinstance(source, str | os.PathLike) else list(source)
    files: list[str] = []
    for item in items:
        text = os.fspath(item)
        matched = sorted(glob.glob(text)) if glob.has_magic(text) else [text]
        if not matched or not all(Path(name).is_file() for name in matched):
            raise ValueError(f"no file matches {text!r}: give Parquet or CSV files or a glob")
        files.extend(matched)
    kinds = {Path(name).suffix.lower() for name in files}
    if not kinds <= {".parquet", ".csv", ".pq", ".tsv", ".gz"} or len(kinds - {".gz"}) > 1:
        raise ValueError(
            f"the files must all be Parquet (.parquet) or all CSV (.csv), got {sorted(kinds)}"
        )
    return files


def _relation(con: Any, source: Any) -> Any:
    """The log as a DuckDB relation (nothing is read yet)."""
    if isinstance(source, str | os.PathLike | list | tuple):
        files = _files(source)
        listed = "[" + ", ".join("'" + name.replace("'", "''") + "'" for name in files) + "]"
        if Path(files[0]).suffix.lower() in (".parquet", ".pq"):
            return con.sql(f"SELECT * FROM read_parquet({listed})")
        return con.sql(f"SELECT * FROM read_csv({listed}, header = true)")
    if type(source).__module__.startswith("duckdb"):
        # A relation belongs to its own connection: it crosses over as an Arrow table
        # (the validation and the summary both scan it, and a stream reads only once).
        stream = source.arrow()
        source = stream.read_all() if hasattr(stream, "read_all") else stream
    con.register("crmlab_source", source)  # a pandas or Polars frame, scanned in place
    return con.sql("SELECT * FROM crmlab_source")


def _quote(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


def _prepare(
    con: Any,
    source: Any,
    customer_col: str,
    date_col: str,
    amount_col: str | None,
    options: dict[str, Any],
    after_day: int,
) -> dict[str, Any]:
    """Validate the log in SQL (one scan) and create the view ``crmlab_typed``.

    Raises the blocking problems; returns the counts of each kind of row (exact
    duplicates are counted later, pass by pass, see :func:`_passes`).
    """
    from crmlab._cleaning import check_options

    check_options(**options)
    for name, value in options.items():
        if value not in SUPPORTED[name]:
            raise ValueError(
                f"{name}={value!r} is not available in the DuckDB engine, which supports "
                f"{', '.join(repr(v) for v in SUPPORTED[name])}: it matches rows one by one. "
                "Summarise a cleaned copy instead (for example clean the log with "
                f"cl.transactions.validate_transactions(..., {name}={value!r}) on a pandas "
                "frame), or pass engine='memory' with a pandas frame"
            )
    relation = _relation(con, source)
    columns = list(relation.columns)
    wanted = [customer_col, date_col] + ([amount_col] if amount_col is not None else [])
    missing = [column for column in wanted if column not in columns]
    if missing:
        raise ValueError(
            f"missing column(s) {', '.join(repr(c) for c in missing)}; the log has "
            f"{', '.join(repr(str(c)) for c in columns)}. Name yours with "
            "customer_col=, date_col= and amount_col="
        )
    con.register("crmlab_raw", relation)
    types = dict(zip(relation.columns, [str(t).upper() for t in relation.types], strict=True))
    customer, date = _quote(customer_col), _quote(date_col)
    if types[date_col].startswith(("TIMESTAMP", "DATE")):
        ts = f"CAST({date} AS TIMESTAMP)"
    else:
        ts = f"TRY_CAST(CAST({date} AS VARCHAR) AS TIMESTAMP)"
    amount, looks = "NULL::DOUBLE", "FALSE"
    if amount_col is not None:
        raw = _quote(amount_col)
        if types[amount_col].startswith(("BOOL",)):
            amount = "NULL::DOUBLE"
        else:
            amount = f"TRY_CAST({raw} AS DOUBLE)"
        if types[amount_col] == "VARCHAR":
            amount, looks = _currency_sql(raw, options["currency"])
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW crmlab_typed AS
        SELECT {customer} AS cust, {ts} AS ts,
               {amount} AS amt, {looks} AS cur, {date} AS raw_date
               {", " + _quote(amount_col) + " AS raw_amount" if amount_col else ""}
        FROM crmlab_raw"""
    )
    # A missing amount makes isfinite NULL, which must count as "not finite".
    finite = "coalesce(isfinite(amt), FALSE)" if amount_col is not None else "TRUE"
    valid = f"cust IS NOT NULL AND ts IS NOT NULL AND {finite}"
    kept = valid + (" AND amt >= 0" if amount_col is not None else "")
    later = _later(after_day)
    # Currency strings left unread are their own problem; read ones count as parsed.
    unread = "NOT cur" if options["currency"] is None else "TRUE"
    if amount_col is None:
        unread = "FALSE"
    # One scan counts every problem, and the rows after the window, at once.
    row = con.execute(
        f"""SELECT count(*) AS rows_in,
              count(*) FILTER (WHERE cust IS NULL) AS no_id,
              count(*) FILTER (WHERE ts IS NULL) AS bad_date,
              count(*) FILTER (WHERE {unread} AND NOT {finite}) AS bad_amount,
              count(*) FILTER (WHERE cur AND NOT {finite}) AS currency,
              count(*) FILTER (WHERE cur AND {finite}) AS currency_parsed,
              count(*) FILTER (WHERE cust IS NOT NULL AND ts IS NOT NULL
                               AND {finite if amount_col else "TRUE"} AND amt < 0) AS negative,
              count(*) FILTER (WHERE cust IS NOT NULL AND ts IS NOT NULL
                               AND {finite if amount_col else "TRUE"} AND amt = 0) AS zero,
              count(*) FILTER (WHERE NOT ({valid})) AS invalid,
              count(*) FILTER (WHERE cust IS NOT NULL AND ts IS NULL) AS bad_date_only,
              count(*) FILTER (WHERE cust IS NOT NULL AND ts IS NOT NULL
                               AND cur AND NOT {finite}) AS currency_only,
              count(*) FILTER (WHERE cust IS NOT NULL AND ts IS NOT NULL
                               AND {unread} AND NOT {finite}) AS bad_amount_only,
              count(*) FILTER (WHERE {kept} AND {later}) AS after,
              max(CAST(ts AS DATE) - DATE '1970-01-01') FILTER (WHERE {kept}) AS last_day
           FROM crmlab_typed"""
    ).fetchone()
    names = (
        "rows_in",
        "no_id",
        "bad_date",
        "bad_amount",
        "currency",
        "currency_parsed",
        "negative",
        "zero",
        "invalid",
        "bad_date_only",
        "currency_only",
        "bad_amount_only",
        "after",
    )
    counts = {name: int(value or 0) for name, value in zip(names, row[:-1], strict=True)}
    counts["last_day"] = row[-1]

    def first(condition: str, shown: str | None) -> str:
        # Row numbers cost a pass in scan order, so they are taken only when a problem is found.
        picked = con.execute(
            f"SELECT crmlab_row{', ' + shown if shown else ''} FROM "
            "(SELECT row_number() OVER () - 1 AS crmlab_row, * FROM crmlab_typed) "
            f"WHERE {condition} ORDER BY crmlab_row LIMIT {_SHOWN_ROWS}"
        ).fetchall()
        parts = [f"row {row[0]}: {row[1]!r}" if shown else f"row {row[0]}" for row in picked]
        more = con.execute(f"SELECT count(*) FROM crmlab_typed WHERE {condition}").fetchone()[
            0
        ] - len(picked)
        return ", ".join(parts) + (f" (and {more:,} more)" if more > 0 else "")

    where = {
        "no_id": ("cust IS NULL", "cust"),
        "bad_date": ("ts IS NULL", "raw_date"),
        "bad_amount": (f"{unread} AND NOT {finite}", "raw_amount"),
        "currency": (f"cur AND NOT {finite}", "raw_amount"),
        "negative": (f"{valid} AND amt < 0", "raw_amount"),
        "zero": (f"{valid} AND amt = 0", None),
    }
    if counts["currency"]:
        counts["currency_examples"] = [
            str(value)
            for (value,) in con.execute(
                f"SELECT raw_amount FROM crmlab_typed WHERE cur AND NOT {finite} LIMIT 50"
            ).fetchall()
        ]
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
    typed = types[date_col] in ("TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S")
    numeric = amount_col is None or types[amount_col].startswith(_NUMERIC)
    counts["fast"] = (
        typed
        and numeric
        and options["duplicates"] == "keep"
        and not any(counts[kind] for kind in ("invalid", "negative"))
    )
    counts.update(_lost_customers(con, valid, options, counts))
    if counts["customers_dropped"]:
        valid += " AND cust NOT IN (SELECT cust FROM crmlab_lost)"
        if options["on_invalid"] == "drop_customer":
            counts["last_day"] = con.execute(
                "SELECT max(CAST(ts AS DATE) - DATE '1970-01-01') FROM crmlab_typed "
                f"WHERE {valid}{' AND amt >= 0' if amount_col is not None else ''}"
            ).fetchone()[0]
    counts["valid_condition"] = valid
    return counts


def _currency_sql(raw: str, currency: str | None) -> tuple[str, str]:
    """The amount of a text column, currency strings read as ``currency`` says, and
    whether the text is a currency string (the in-memory engine's pattern)."""
    from crmlab._cleaning import _CURRENCY

    # RE2 writes code points as \x{...}; the pattern is otherwise the same.
    pattern = _CURRENCY.pattern.replace("\\u00a0", "\\x{00a0}").replace("\\u202f", "\\x{202f}")
    number = f"TRY_CAST({raw} AS DOUBLE)"
    quoted = "'" + pattern.replace("'", "''") + "'"
    looks = f"({raw} IS NOT NULL AND {number} IS NULL AND regexp_matches({raw}, {quoted}))"
    if currency is None:
        return number, looks
    digits = f"regexp_replace({raw}, '[^0-9.,+-]', '', 'g')"
    if currency == ",":
        digits = f"replace(replace({digits}, '.', ''), ',', '.')"
    else:
        digits = f"replace({digits}, ',', '')"
    return f"CASE WHEN {looks} THEN TRY_CAST({digits} AS DOUBLE) ELSE {number} END", looks


_NUMERIC = (
    "DOUBLE",
    "FLOAT",
    "REAL",
    "DECIMAL",
    "BIGINT",
    "INTEGER",
    "SMALLINT",
    "TINYINT",
    "HUGEINT",
    "UBIGINT",
    "UINTEGER",
    "USMALLINT",
    "UTINYINT",
    "UHUGEINT",
)


def _lost_customers(
    con: Any, valid: str, options: dict[str, Any], counts: dict[str, Any]
) -> dict[str, int]:
    """Customers whose first purchase may be among the invalid rows, as the in-memory
    engine counts them: an invalid row of hers is undated, or dated on or before her
    first valid row (or she has none). ``on_invalid="drop_customer"`` drops them
    whole; the table ``crmlab_lost`` then lists them.
    """
    out = {"first_purchase_dropped": 0, "customers_dropped": 0, "customer_rows_dropped": 0}
    out["lost_duplicates"] = 0
    if not (counts["bad_date_only"] or counts["bad_amount_only"]):
        return out
    day = "(CAST(ts AS DATE) - DATE '1970-01-01')"
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE crmlab_lost AS
        WITH bad AS (
            SELECT cust, bool_or(ts IS NULL) AS undated, min({day}) AS first_bad
            FROM crmlab_typed WHERE cust IS NOT NULL AND NOT ({valid}) GROUP BY cust
        ), good AS (
            SELECT cust, min({day}) AS first_good FROM crmlab_typed
            WHERE {valid} AND cust IN (SELECT cust FROM bad) GROUP BY cust
        )
        SELECT cust FROM bad LEFT JOIN good USING (cust)
        WHERE undated OR first_good IS NULL OR first_bad <= first_good"""
    )
    lost = int(con.execute("SELECT count(*) FROM crmlab_lost").fetchone()[0])
    if options["on_invalid"] != "drop_customer":
        out["first_purchase_dropped"] = lost
        return out
    rows, duplicates = con.execute(
        "SELECT coalesce(sum(n), 0), coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n "
        f"FROM crmlab_typed WHERE {valid} AND cust IN (SELECT cust FROM crmlab_lost) "
        "GROUP BY cust, ts, amt)"
    ).fetchone()
    out.update(customers_dropped=lost, customer_rows_dropped=int(rows))
    out["lost_duplicates"] = int(duplicates)
    return out


def _later(day: int) -> str:
    return f"CAST(ts AS DATE) > DATE '1970-01-01' + {int(day)}"


def memory_limit_bytes(con: Any) -> int:
    """DuckDB's memory limit on ``con``, in bytes.

    >>> round(memory_limit_bytes(connect(memory_limit="1GB")) / 1e6)
    1000
    """
    text = con.execute(
        "SELECT value FROM duckdb_settings() WHERE name = 'memory_limit'"
    ).fetchone()[0]
    number, _, unit = str(text).strip().partition(" ")
    scale = {"": 1, "bytes": 1, "b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12}
    scale |= {"kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
    return int(round(float(number) * scale[unit.strip().lower()], -3))


def partition_count(rows: int, memory_bytes: int) -> int:
    """Passes over the log that keep each pass's groups within DuckDB's memory.

    A pass holds, one after the other, its rows' (customer, time, amount) groups
    (to count exact duplicates) and its (customer, day) groups. On generated logs a
    row cost DuckDB 50 to 55 bytes in small passes (1.9 GiB for 38 M rows a pass at
    1,000 M rows, 3.2 GB for the whole process at 50 M rows in one pass) and 67 in
    large ones (5.7 GiB for 91 M rows a pass: the default 11 partitions at 1,000 M
    rows and ``memory_limit`` 8GB, unspilled). :data:`BYTES_PER_ROW` is about that;
    the quarter of the memory limit kept for the rest is the margin. A pass that
    still overflows spills only its own groups to disk.

    >>> partition_count(1_000_000_000, 10 * 10**9), partition_count(50_000_000, 8 * 10**9)
    (9, 1)
    """
    return max(1, math.ceil(rows * BYTES_PER_ROW / (memory_bytes * 0.75)))


def _passes(con: Any, valid: str, kept: str, distinct: bool, partitions: int) -> Any:
    """Point the views ``crmlab_rows`` and ``crmlab_part`` at one hash partition of the
    customers at a time.

    ``crmlab_rows`` holds the partition's valid rows, ``crmlab_part`` its clean rows
    (distinct ones when exact duplicates are dropped). Each customer lies in one
    partition, so per-customer results of the passes only need to be stacked, and no
    pass holds more than its share of the log's (customer, day) groups: that is what
    lets a billion rows through without spilling them all to disk. With several
    partitions the valid rows are first written once, split by partition, to Parquet
    files in DuckDB's temporary folder (removed afterwards), so that each pass reads
    its own share instead of the whole log.
    """
    if partitions == 1:
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW crmlab_rows AS SELECT * FROM crmlab_typed WHERE {valid}"
        )
        sources = ["crmlab_rows"]
        folder = None
    else:
        base = con.execute("SELECT current_setting('temp_directory')").fetchone()[0]
        os.makedirs(base, exist_ok=True)
        folder = tempfile.mkdtemp(prefix="crmlab-partitions-", dir=base)
        con.execute(
            f"""COPY (SELECT cust, ts, amt, CAST(hash(cust) % {partitions} AS INTEGER) AS part
                      FROM crmlab_typed WHERE {valid})
                TO '{folder.replace("'", "''")}' (FORMAT parquet, PARTITION_BY (part))"""
        )
        sources = [os.path.join(folder, f"part={part}") for part in range(partitions)]
    try:
        for source in sources:
            if folder is not None:
                if not os.path.isdir(source):
                    continue  # no customer hashed here
                files = os.path.join(source, "*.parquet").replace("'", "''")
                con.execute(
                    "CREATE OR REPLACE TEMP VIEW crmlab_rows AS SELECT cust, ts, amt FROM "
                    f"read_parquet('{files}', hive_partitioning = false)"
                )
            con.execute(
                "CREATE OR REPLACE TEMP VIEW crmlab_part AS SELECT "
                f"{'DISTINCT ' if distinct else ''}cust, ts, amt FROM crmlab_rows WHERE {kept}"
            )
            yield
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def _run_connected(
    source: Any, *, memory_limit: str | None, temp_directory: str | None, **run_options: Any
) -> tuple[dict[str, Any] | None, int, dict[str, pd.DataFrame]]:
    """:func:`_run` on a connection of its own, closed whatever happens."""
    con = connect(memory_limit, temp_directory)
    try:
        return _run(con, source, **run_options)
    finally:
        con.close()


def _run(
    con: Any,
    source: Any,
    *,
    customer_col: str,
    date_col: str,
    amount_col: str | None,
    options: dict[str, Any],
    after_day: int,
    partitions: int | None,
    queries: dict[str, str] | Callable[[dict[str, Any]], dict[str, str]],
) -> tuple[dict[str, Any] | None, int, dict[str, pd.DataFrame]]:
    """Validate, then run ``queries`` on every partition of ``crmlab_part``.

    ``queries`` may be a function of the validation's counts (``last_day``: the last
    clean day). Returns the cleaning report, the clean rows after ``after_day`` and
    each query's results stacked over the partitions.
    """
    counts = _prepare(con, source, customer_col, date_col, amount_col, options, after_day)
    valid = counts.pop("valid_condition")
    if callable(queries):
        queries = queries(counts)
    if partitions is None:
        partitions = partition_count(counts["rows_in"] - counts["invalid"], memory_limit_bytes(con))
    elif not isinstance(partitions, int | np.integer) or partitions < 1:
        raise ValueError(f"partitions must be a whole number >= 1, got {partitions!r}")
    nonneg = "amt >= 0" if amount_col is not None else "TRUE"
    dropping = options["duplicates"] == "drop"
    # What the cleaning leaves, counted per partition on its (customer, time, amount)
    # groups: duplicates, and the kept rows' returns, zero amounts and rows after the
    # window (each distinct row once when duplicates are dropped).
    weight = "1" if dropping else "n"
    stats = (
        "SELECT coalesce(sum(n - 1), 0), "
        f"coalesce(sum({weight}) FILTER (WHERE amt < 0), 0), "
        f"coalesce(sum({weight}) FILTER (WHERE amt = 0), 0), "
        f"coalesce(sum({weight}) FILTER (WHERE {nonneg} AND {_later(after_day)}), 0), "
        f"coalesce(sum({weight}) FILTER (WHERE {nonneg}), 0) "
        "FROM (SELECT cust, ts, amt, count(*) AS n FROM crmlab_rows GROUP BY ALL)"
    )
    found = np.zeros(5, dtype=np.int64)
    netting = options["returns"] == "net" and counts["negative"] > 0
    netted = dict.fromkeys(_NET_COUNTS, 0)
    pieces: dict[str, list[pd.DataFrame]] = {name: [] for name in queries}
    for _ in _passes(con, valid, nonneg, dropping, int(partitions)):
        if not counts["fast"]:
            found += np.array(con.execute(stats).fetchone(), dtype=np.int64)
        if netting:
            for name, value in _net_returns(con, dropping, after_day).items():
                netted[name] += value
        for name, sql in queries.items():
            pieces[name].append(con.execute(sql).df())
    if counts["fast"]:
        report, after = None, counts["after"]
    else:
        duplicates, negative, zero, after, rows_out = (int(v) for v in found)
        if netting:
            zero, after, rows_out = netted.pop("zero"), netted.pop("after"), netted.pop("rows")
            counts.update(netted)
        counts["duplicates"] = duplicates + counts["lost_duplicates"]
        report = cleaning_report(
            {**counts, "zero": zero, "negative": negative},
            rows_out=rows_out,
            customer_col=customer_col,
            date_col=date_col,
            amount_col=amount_col,
            options=options,
            duplicates_dropped=duplicates if dropping else 0,
        )
    stacked = {name: pd.concat(frames, ignore_index=True) for name, frames in pieces.items()}
    return report, after, stacked


_NET_COUNTS = (
    "returns_netted",
    "returns_unmatched",
    "purchases_cancelled",
    "purchases_reduced",
    "unmatched_return_value",
    "customers_returned_whole",
    "zero",
    "after",
    "rows",
)


def _net_returns(con: Any, distinct: bool, after_day: int) -> dict[str, Any]:
    """Net the partition's returns against its purchases (``returns="net"``), in SQL.

    The in-memory engine's rule (:func:`crmlab._cleaning.net_returns`): a return
    goes to the customer's latest day with purchases on or before its own (an ASOF
    join), each purchase row of that day gives up its share of the day's returns, a
    day whose returns reach its value is cancelled, and returns with no such day are
    removed. ``crmlab_part`` then holds the netted rows. Returns the counts of the
    cleaning report for this partition.
    """
    day = "CAST(ts AS DATE) - DATE '1970-01-01'"
    steps = [
        f"""CREATE OR REPLACE TEMP TABLE crmlab_base AS
            SELECT {"DISTINCT " if distinct else ""}cust, ts, amt, {day} AS day
            FROM crmlab_rows""",
        """CREATE OR REPLACE TEMP TABLE crmlab_days AS
            SELECT cust, day, sum(amt) AS value, count(*) AS purchases FROM crmlab_base
            WHERE amt > 0 GROUP BY cust, day""",
        """CREATE OR REPLACE TEMP TABLE crmlab_matched AS
            SELECT r.cust, r.amt, d.day AS matched
            FROM (SELECT cust, day, amt FROM crmlab_base WHERE amt < 0) r
            ASOF LEFT JOIN crmlab_days d ON r.cust = d.cust AND r.day >= d.day""",
        """CREATE OR REPLACE TEMP TABLE crmlab_netted AS
            SELECT d.cust, d.day, d.value, d.purchases, coalesce(m.returned, 0) AS returned,
                   coalesce(m.returned, 0) >= d.value * (1 - 1e-12) AS cancelled
            FROM crmlab_days d LEFT JOIN (
                SELECT cust, matched AS day, sum(-amt) AS returned FROM crmlab_matched
                WHERE matched IS NOT NULL GROUP BY cust, matched
            ) m USING (cust, day)""",
        """CREATE OR REPLACE TEMP VIEW crmlab_part AS
            SELECT b.cust, b.ts,
                   CASE WHEN b.amt > 0 THEN b.amt - n.returned * b.amt / n.value
                        ELSE b.amt END AS amt
            FROM crmlab_base b LEFT JOIN crmlab_netted n
                 ON b.amt > 0 AND b.cust = n.cust AND b.day = n.day
            WHERE b.amt >= 0 AND NOT coalesce(b.amt > 0 AND n.cancelled, FALSE)""",
    ]
    for step in steps:
        con.execute(step)
    netted, unmatched = con.execute(
        "SELECT count(matched), count(*) - count(matched) FROM crmlab_matched"
    ).fetchone()
    cancelled, reduced, excess = con.execute(
        """SELECT coalesce(sum(purchases) FILTER (WHERE cancelled), 0),
                  coalesce(sum(purchases) FILTER (WHERE returned > 0 AND NOT cancelled), 0),
                  coalesce(sum(greatest(returned - value, 0)), 0)
           FROM crmlab_netted"""
    ).fetchone()
    before = con.execute("SELECT count(DISTINCT cust) FROM crmlab_base WHERE amt >= 0").fetchone()[
        0
    ]
    zero, after, rows, customers = con.execute(
        f"""SELECT count(*) FILTER (WHERE amt = 0), count(*) FILTER (WHERE {_later(after_day)}),
                   count(*), count(DISTINCT cust) FROM crmlab_part"""
    ).fetchone()
    return {
        "returns_netted": int(netted),
        "returns_unmatched": int(unmatched),
        "purchases_cancelled": int(cancelled),
        "purchases_reduced": int(reduced),
        "unmatched_return_value": float(excess),
        "customers_returned_whole": int(before) - int(customers),
        "zero": int(zero),
        "after": int(after),
        "rows": int(rows),
    }


def log_problems(
    counts: dict[str, int],
    first_rows: Callable[[str], str],
    *,
    customer_col: str,
    date_col: str,
    amount_col: str | None,
    options: dict[str, Any],
    drop_customer: bool = True,
    net: bool = True,
) -> list[Problem]:
    """Every problem an engine found in a log, worded as the in-memory engine words them.

    ``counts`` holds the rows of each kind (``no_id``, ``bad_date``, ``bad_amount``,
    ``negative``, ``zero``, ``duplicates``); ``first_rows(kind)`` names the first ones
    (asked only for kinds that occur); ``currency`` (unread currency strings) and
    ``currency_examples`` are optional. The DuckDB and Spark engines share it;
    ``drop_customer`` and ``net`` say whether the engine offers
    ``on_invalid="drop_customer"`` and ``returns="net"``.
    """
    invalid_blocks = options["on_invalid"] == "raise"
    drop_fix = "Pass on_invalid='drop' to drop these rows"
    if drop_customer:
        drop_fix += (
            ", or on_invalid='drop_customer' to drop them and every customer whose first "
            "purchase may be among them"
        )
    currency = []
    if counts.get("currency"):
        from crmlab._cleaning import _currency_fix

        pattern, fix = _currency_fix(counts.get("currency_examples", []))
        what = f"value(s) are currency strings ({pattern})"
        currency = [
            ("currency", amount_col, what, f"{fix}; or on_invalid='drop' to drop them", "currency")
        ]
    found = [
        ("no_id", customer_col, "value(s) are missing customer ids", drop_fix, "on_invalid"),
        ("bad_date", date_col, "value(s) are not dates", drop_fix, "on_invalid"),
        (
            "bad_amount",
            amount_col,
            "value(s) are missing or not numbers",
            drop_fix,
            "on_invalid",
        ),
        (
            "negative",
            amount_col,
            "negative amount(s) (returns?)",
            "Pass returns='net' to offset each against the customer's latest purchase on "
            "or before its day, or returns='drop' to remove them"
            if net
            else "Pass returns='drop' to remove them (netting them against purchases, "
            "returns='net', needs the in-memory or DuckDB engine)",
            "returns",
        ),
    ]
    found[2:2] = currency
    problems = [
        Problem(
            f"column {column!r}",
            counts[kind],
            what,
            first_rows(kind),
            fix,
            option,
            invalid_blocks
            if option in ("on_invalid", "currency")
            else options["returns"] == "raise",
        )
        for kind, column, what, fix, option in found
        if counts[kind] and column is not None
    ]
    if counts["duplicates"]:
        dropping = options["duplicates"] == "drop"
        problems.append(
            Problem(
                "rows",
                counts["duplicates"],
                "exact duplicate(s) of an earlier row (same customer, time and amount), "
                + ("dropped" if dropping else "kept as purchases"),
                "",
                "" if dropping else "Pass duplicates='drop' if they are double-logged",
                "duplicates",
                False,
            )
        )
    if counts["zero"]:
        problems.append(
            Problem(
                f"column {amount_col!r}",
                counts["zero"],
                "zero amount(s), kept as purchases",
                first_rows("zero"),
                "The Gamma-Gamma spend model sets aside customers whose repeat spend "
                "averages 0 (GammaGamma.fit reports how many)",
                None,
                False,
            )
        )
    return problems


def raise_log_problems(problems: list[Problem]) -> None:
    """Raise the blocking problems in one error, under the in-memory engine's header."""
    raise_problems(
        problems,
        header=(
            "the transaction log has problems; nothing was changed. Each line names the "
            "option that handles it:"
        ),
    )


def cleaning_report(
    counts: dict[str, Any],
    *,
    rows_out: int | None,
    customer_col: str,
    date_col: str,
    amount_col: str | None,
    options: dict[str, Any],
    duplicates_dropped: int | None = None,
    always: bool = True,
) -> dict[str, Any] | None:
    """The summary's ``attrs["cleaning"]``, with the in-memory report's keys.

    ``counts`` holds the rows of each kind (``no_id``, ``bad_date``, ``bad_amount``,
    ``duplicates``, and the kept rows' ``negative`` and ``zero``; optionally
    ``bad_date_only``/``bad_amount_only``, the rows not already counted under an
    earlier reason, and the lost customers' counts of :func:`_lost_customers`).
    Without ``always`` it is None when the log had nothing to report.
    """
    kinds = ("no_id", "bad_date", "bad_amount", "negative", "zero", "duplicates")
    if not always and not any(counts.get(kind) for kind in kinds):
        return None
    dropped = {}
    if options["on_invalid"] != "raise":
        for kind, column, reason in (
            ("no_id", customer_col, "missing customer id"),
            ("bad_date_only", date_col, "unparseable date"),
            ("currency_only", amount_col, "currency string"),
            ("bad_amount_only", amount_col, "missing or non-numeric amount"),
        ):
            count = counts.get(kind, counts.get(kind.removesuffix("_only"), 0))
            if count:
                dropped[f"{reason} in {column!r}"] = count
    dropping = options["duplicates"] == "drop"
    if duplicates_dropped is None:
        duplicates_dropped = counts["duplicates"] if dropping else 0
    report = {
        "rows_in": counts["rows_in"],
        "rows_out": rows_out,
        "exact_duplicates": counts["duplicates"],
        "duplicates_dropped": duplicates_dropped,
        "zero_amounts": counts["zero"],
        "first_purchase_dropped": counts.get("first_purchase_dropped", 0),
        "customers_dropped": counts.get("customers_dropped", 0),
        "customer_rows_dropped": counts.get("customer_rows_dropped", 0),
        "currency_parsed": counts.get("currency_parsed", 0),
        "returns_netted": counts.get("returns_netted", 0),
        "returns_unmatched": counts.get("returns_unmatched", 0),
        "returns_dropped": counts["negative"] if options["returns"] == "drop" else 0,
        "purchases_cancelled": counts.get("purchases_cancelled", 0),
        "purchases_reduced": counts.get("purchases_reduced", 0),
        "unmatched_return_value": float(counts.get("unmatched_return_value", 0.0)),
        "customers_returned_whole": counts.get("customers_returned_whole", 0),
        "dropped": dropped,
        "options": dict(options),
    }
    if rows_out is None:
        del report["rows_out"]
    return report


def _time_sql(merge: str) -> str:
    """The engine's integer time of a row: days, nanoseconds or the period's first day."""
    if merge == "none":
        return "epoch_ns(ts)"
    if merge == "day":
        return "(CAST(ts AS DATE) - DATE '1970-01-01')"
    return f"(CAST(date_trunc('{_TRUNC[merge]}', ts) AS DATE) - DATE '1970-01-01')"


def _summary_sql(merge: str, end_day: int, with_amounts: bool) -> str:
    """Per customer of ``crmlab_part``: transactions, first and last time, total and
    first-time value."""
    # Stage one merges a customer's rows of one time (a day, a period, or one timestamp
    # for merge='none', where each row stays a transaction); stage two sums per customer.
    count = "sum(n)" if merge == "none" else "count(*)"
    first_value = "arg_min(v / n, t)" if merge == "none" else "arg_min(v, t)"
    return f"""
        WITH per_time AS (
            SELECT cust, {_time_sql(merge)} AS t, count(*) AS n, sum(amt) AS v
            FROM crmlab_part
            WHERE ts < TIMESTAMP '1970-01-01' + INTERVAL ({end_day + 1}) DAY
            GROUP BY cust, t
        )
        SELECT cust, {count} - 1 AS x, min(t) AS first_t, max(t) AS last_t
               {f", sum(v) AS total, {first_value} AS first_v" if with_amounts else ""}
        FROM per_time GROUP BY cust"""


def _holdout_sql(merge: str, cal_day: int, end_day: int, with_amounts: bool) -> str:
    """Per customer of ``crmlab_part``: transactions and their value in (cal_day, end_day]."""
    day = "(CAST(ts AS DATE) - DATE '1970-01-01')"
    counted = "count(*)" if merge == "none" else f"count(DISTINCT {_time_sql(merge)})"
    return f"""SELECT cust, {counted} AS x_holdout
                   {", sum(amt) AS total_holdout" if with_amounts else ""}
               FROM crmlab_part WHERE {day} > {cal_day} AND {day} <= {end_day}
               GROUP BY cust"""


def _frame(
    table: pd.DataFrame,
    merge: str,
    end: int,
    unit_days: float,
    with_amounts: bool,
    customer_col: str,
) -> pd.DataFrame:
    per_day = 86_400 * 10**9 if merge == "none" else 1
    scale = per_day * unit_days
    table = table.sort_values("cust", kind="stable")
    x = table["x"].to_numpy(dtype="int64")
    first = table["first_t"].to_numpy(dtype="int64")
    frame = pd.DataFrame(
        {
            "x": x.astype("float64"),
            "t_x": (table["last_t"].to_numpy(dtype="int64") - first) / scale,
            "T": (end - first) / scale,
        },
        index=pd.Index(table["cust"].to_numpy(), name=customer_col),
    )
    if with_amounts:
        total = table["total"].to_numpy(dtype="float64")
        first_value = table["first_v"].to_numpy(dtype="float64")
        with np.errstate(invalid="ignore", divide="ignore"):
            frame["monetary"] = np.where(x > 0, (total - first_value) / x, np.nan)
    return frame


def _window_end(merge: str, end_day: int) -> int:
    if merge == "none":
        return (end_day + 1) * 86_400 * 10**9
    if merge == "day":
        return end_day
    from crmlab.transactions import _period_start

    return int(_period_start(np.array([end_day]), merge)[0])


def summarize(
    source: Any,
    *,
    end_day: int,
    unit_days: float,
    merge: str,
    customer_col: str,
    date_col: str,
    amount_col: str | None,
    options: dict[str, Any],
    memory_limit: str | None = None,
    temp_directory: str | None = None,
    partitions: int | None = None,
) -> tuple[pd.DataFrame, dict[str, Any] | None]:
    """The (x, t_x, T, monetary) frame of ``source`` and the cleaning report (None if clean).

    Called by :func:`crmlab.transactions.summarize`, which adds the ``attrs``.
    ``partitions`` passes over the log (default: from its rows and the memory limit,
    :func:`partition_count`).
    """
    with_amounts = amount_col is not None
    report, after, tables = _run_connected(
        source,
        memory_limit=memory_limit,
        temp_directory=temp_directory,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        options=options,
        after_day=end_day,
        partitions=partitions,
        queries={"summary": _summary_sql(merge, end_day, with_amounts)},
    )
    end = _window_end(merge, end_day)
    frame = _frame(tables["summary"], merge, end, unit_days, with_amounts, customer_col)
    frame.attrs["rows_after_observation_end"] = int(after)
    return frame, report


def calibration_holdout(
    source: Any,
    *,
    cal_day: int,
    end_day: int,
    unit_days: float,
    merge: str,
    customer_col: str,
    date_col: str,
    amount_col: str | None,
    options: dict[str, Any],
    memory_limit: str | None = None,
    temp_directory: str | None = None,
    partitions: int | None = None,
) -> tuple[pd.DataFrame, dict[str, Any] | None]:
    """Calibration summary plus ``x_holdout`` (and ``monetary_holdout``) counted in SQL."""
    with_amounts = amount_col is not None
    report, after, tables = _run_connected(
        source,
        memory_limit=memory_limit,
        temp_directory=temp_directory,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        options=options,
        after_day=end_day,
        partitions=partitions,
        queries={
            "summary": _summary_sql(merge, cal_day, with_amounts),
            "holdout": _holdout_sql(merge, cal_day, end_day, with_amounts),
        },
    )
    end = _window_end(merge, cal_day)
    frame = _frame(tables["summary"], merge, end, unit_days, with_amounts, customer_col)
    holdout = tables["holdout"].set_index("cust").reindex(frame.index)
    counts = holdout["x_holdout"].fillna(0).to_numpy(dtype="float64")
    frame["x_holdout"] = counts
    if with_amounts:
        totals = holdout["total_holdout"].fillna(0).to_numpy(dtype="float64")
        with np.errstate(invalid="ignore", divide="ignore"):
            frame["monetary_holdout"] = np.where(counts > 0, totals / counts, np.nan)
    frame.attrs["rows_after_observation_end"] = int(after)
    return frame, report


_PERIOD_UNITS = {"M": "month", "Q": "quarter", "W": "week", "Y": "year"}


def cohort_counts(
    source: Any,
    *,
    period: str,
    end_day: int | None,
    customer_col: str,
    date_col: str,
    amount_col: str | None,
    options: dict[str, Any],
    memory_limit: str | None = None,
    temp_directory: str | None = None,
    partitions: int | None = None,
) -> tuple[pd.DataFrame, int | None, dict[str, Any] | None]:
    """Active customers (and revenue) per (cohort start, period start), counted in SQL.

    Only clean purchases on or before ``end_day`` (default: the last clean day)
    count; a customer's cohort is the period of her first one. Returns that table
    (columns ``cohort_start``, ``period_start``, ``active`` and, with amounts,
    ``revenue``), the end day used (None for an empty log) and the cleaning report.
    :func:`crmlab.transactions.cohort_table` makes the grid.
    """
    unit = _PERIOD_UNITS[period]
    with_amounts = amount_col is not None
    used: dict[str, Any] = {}

    def queries(counts: dict[str, Any]) -> dict[str, str]:
        last = counts["last_day"] if end_day is None else end_day
        used["end_day"] = last
        last = -(10**6) if last is None else int(last)
        return {
            "cohorts": f"""
            WITH rows_in AS (
                SELECT cust, CAST(date_trunc('{unit}', ts) AS DATE) AS p, amt FROM crmlab_part
                WHERE CAST(ts AS DATE) <= DATE '1970-01-01' + {last}
            ), firsts AS (
                SELECT cust, min(p) AS cohort_start FROM rows_in GROUP BY cust
            ), active AS (
                SELECT cust, p, sum(amt) AS revenue FROM rows_in GROUP BY cust, p
            )
            SELECT cohort_start, p AS period_start, count(*) AS active
                   {", sum(revenue) AS revenue" if with_amounts else ""}
            FROM active JOIN firsts USING (cust) GROUP BY cohort_start, p"""
        }

    report, _, tables = _run_connected(
        source,
        memory_limit=memory_limit,
        temp_directory=temp_directory,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        options=options,
        after_day=end_day if end_day is not None else 0,
        partitions=partitions,
        queries=queries,
    )
    table = tables["cohorts"]
    # Each customer lies in one partition, so the partitions' counts add up.
    table = table.groupby(["cohort_start", "period_start"], as_index=False).sum()
    return table, used["end_day"], report
