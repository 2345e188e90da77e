"""Checks for notebook 11, logs of any size (DuckDB, Spark, compress, score)."""

from __future__ import annotations

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
