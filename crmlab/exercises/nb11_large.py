"""Checks for notebook 11, logs of any size (DuckDB, Spark, compress, score)."""

from __future__ import annotations

import math
from functools import cache

import crmlab as cl
from crmlab.exercises._core import Feedback, choice, exercise, number


@cache
def _master_weekly():
    return cl.transactions.summarize(cl.datasets.load_cdnow("master"), "1997-09-30", unit="W")


def _loyal() -> int:
    return int((_master_weekly()["x"] >= 5).sum())


def _distinct_rows(unit: str) -> int:
    summary = cl.transactions.summarize(cl.datasets.load_cdnow("master"), "1997-09-30", unit=unit)
    return len(cl.transactions.compress(summary))


@exercise(
    "large_loyal_in_sql",
    hints=[
        "A summary is two group-bys: first one row per customer and day, then one per customer.",
        "Count the days of each customer up to 1997-09-30; x is that count minus the first day.",
        "WITH d AS (SELECT customer_id, CAST(date AS DATE) AS day FROM master "
        "WHERE date <= DATE '1997-09-30' GROUP BY ALL) SELECT count(*) FROM (SELECT "
        "customer_id FROM d GROUP BY customer_id HAVING count(*) - 1 >= 5)",
    ],
    right=lambda: [_loyal()],
    wrong=lambda: [(int((_master_weekly()["x"] > 5).sum()), "at least")],
)
def _loyal_in_sql(answer: object) -> Feedback | None:
    """Customers of the master file with at least 5 repeat purchase days by 1997-09-30."""
    over = int((_master_weekly()["x"] > 5).sum())
    return number(
        answer,
        _loyal(),
        decimals=0,
        mistakes=[(over, "that counts more than 5; the question says at least 5 (>= 5).")],
        correct="the same number crmlab's summary gives: your query is the engine's.",
    )


@exercise(
    "large_distinct_days",
    hints=[
        "Measured in days, two customers share a row only if their histories match to the day.",
        "Summarise the master file with unit='D' and compress it; count the rows.",
        "len(cl.transactions.compress(cl.transactions.summarize(master, '1997-09-30', unit='D')))",
    ],
    right=lambda: [_distinct_rows("D")],
    wrong=[(23570, "customers")],
)
def _distinct_days(answer: object) -> Feedback | None:
    """Distinct (x, t_x, T) rows of the master file's calibration summary in days."""
    return number(
        answer,
        _distinct_rows("D"),
        decimals=0,
        mistakes=[(23570, "that is the number of customers; compress the summary first.")],
        correct="days and weeks give the same distinct rows here: t_x and T are whole "
        "days either way, only divided by 7. Compression depends on how finely times are "
        "recorded, not on the unit they are shown in.",
    )


@exercise(
    "large_engine_choice",
    hints=[
        "Ask where the log is, and whether it fits in the memory of the machine at hand.",
        "900 GB does not fit in a laptop's memory; moving it off the cluster costs hours.",
        "The log is already a table on the company's Spark cluster.",
    ],
    right=["C", "c"],
    wrong=[("A", "memory"), ("B", "move")],
)
def _engine_choice(answer: object) -> Feedback | None:
    """Which engine for a 900 GB log kept as a table on the firm's Spark cluster?"""
    return choice(
        answer,
        "c",
        {
            "a": "a pandas frame must fit in memory: 900 GB does not fit in a laptop's.",
            "b": "DuckDB would cope with the size, but you would first move 900 GB off the "
            "cluster; summarise where the data are.",
            "c": "the summary runs where the log lives and only the small compressed table "
            "comes back to fit the model.",
        },
    )


def _default_partitions(gigabytes: int = 4) -> int:
    """The engine's own count for 300 M valid rows at ``memory_limit`` of ``gigabytes`` GB."""
    from crmlab._duckdb_engine import partition_count

    return partition_count(300_000_000, gigabytes * 10**9)


@exercise(
    "large_default_partitions",
    hints=[
        "The engine budgets a fixed number of bytes per valid row, and a pass may use only "
        "part of the memory limit.",
        "Section 4: 64 bytes a row, three quarters of memory_limit a pass; the passes "
        "must hold all the rows, so round up.",
        "math.ceil(300_000_000 * 64 / (0.75 * 4 * 10**9))",
    ],
    right=lambda: [_default_partitions(), float(_default_partitions())],
    wrong=[(5, "three quarters"), (6, "round up"), (6.4, "whole number"), (1, "19 GB")],
)
def _default_partitions_check(answer: object) -> Feedback | None:
    """Partitions the DuckDB engine chooses for 300 M valid rows at memory_limit="4GB"."""
    if (
        isinstance(answer, int | float)
        and not isinstance(answer, bool)
        and math.isfinite(answer)
        and answer != round(answer)
    ):
        return Feedback.wrong(
            "a pass over the log is a whole number: a fraction of a pass still needs a "
            "pass of its own, so round up."
        )
    expected, doubled = _default_partitions(), _default_partitions(8)
    return number(
        answer,
        expected,
        decimals=0,
        mistakes=[
            (
                5,
                "that gives each pass the whole memory limit; the engine lets a pass use "
                "three quarters of it and keeps the rest for everything else.",
            ),
            (
                6,
                "6 passes of 50 M rows need 3.2 GB each, more than the 3 GB a pass may "
                "use: round up.",
            ),
            (
                1,
                "one pass over 300 M rows would hold about 19 GB of groups, nearly five "
                "times the memory limit; divide the rows' bytes by what one pass may use.",
            ),
        ],
        correct=f"{expected} passes of about {300 / expected:.0f} M rows, each within three "
        f"quarters of 4 GB. Doubling the memory limit gives {doubled}; the summary itself "
        "is the same for any count.",
    )


@exercise(
    "large_partition_effect",
    hints=[
        "Every purchase of a customer lands in the same partition.",
        "Ask what a pass holds in memory, and what the passes' results are put together into.",
        "A partition's summary is its customers' rows of the whole summary.",
    ],
    right=["b", "B"],
    wrong=[("a", "same partition"), ("c", "faster"), ("d", "disk")],
)
def _partition_effect(answer: object) -> Feedback | None:
    """What changes when the summary of section 4 runs in 16 partitions instead of 4?"""
    return choice(
        answer,
        "b",
        {
            "a": "a customer is hashed by id, so all of a customer's purchases land in the "
            "same partition; no history is cut in two.",
            "b": "each customer's history is whole in one partition, so the summaries "
            "stack to the same table; a pass holds about a sixteenth of the (customer, "
            "day) groups instead of a quarter, so DuckDB needs less memory at once.",
            "c": "more passes is not faster: the split copy is written once either way, "
            "and each pass has its own start-up cost; partitions buy memory, not speed.",
            "d": "the split copy holds the valid rows once, whatever the number of "
            "partitions: the disk it needs is about the same.",
        },
    )
