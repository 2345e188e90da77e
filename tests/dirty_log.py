"""A researcher's dirty transaction log, simulated with known parameters (seeded).

The scenario of issue 10: customers buy by the BG/NBD process in weeks and spend by
the Gamma–Gamma model; the log then gets the usual dirt. Import it from tests
(``from dirty_log import make_dirty_log``) or run it to write a file::

    python tests/dirty_log.py out.csv --customers 100000     # ~1 M rows

Truth (as in the researcher's trial): purchases λ ~ Gamma(r=0.9, α=6.0) per week,
drop-out after each repeat purchase with p ~ Beta(a=0.8, b=7.0); spend per purchase
z ~ Gamma(p=6, ν) with ν ~ Gamma(q=4, γ=15) (mean spend $30). Customers are acquired
uniformly over 2021 at any time of day (the acquisition is the first purchase); the
observation window ends with 2023-12-31 and the log runs on to 2024-02-29.

Columns: ``client``, ``order_ts`` (ISO timestamps with the time of day), ``revenue``
(strings such as "12.50"), ``channel`` (no effect on buying) and ``order_id``; rows
shuffled. The dirt, per 100,000 customers (scaled with ``n_customers``):

* 20 extra rows with a missing client, 10 with an unparseable date;
* 15 returns (negative revenue), 1-19 days after one of the customer's purchases;
* 500 exact duplicates of real rows (double-logged);
* 800 real purchases with revenue "0.00" and 30 written as currency, "$37.85";
* the purchases after the observation end (the holdout, about 3 % of rows);
* several purchases of a customer on one day, as the process makes them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

TRUTH = {"r": 0.9, "alpha": 6.0, "a": 0.8, "b": 7.0, "p": 6.0, "q": 4.0, "gamma": 15.0}
ACQUISITION_START = pd.Timestamp("2021-01-01")
OBSERVATION_END = "2023-12-31"
LOG_END = pd.Timestamp("2024-03-01")  # exclusive: the log runs through 2024-02-29
_NS_PER_WEEK = 7 * 86_400 * 10**9
_DIRT_PER_100K = {
    "missing_client": 20,
    "bad_date": 10,
    "returns": 15,
    "duplicates": 500,
    "zero_revenue": 800,
    "dollar_strings": 30,
}


@dataclass
class DirtyLog:
    """The log, the true parameters and what dirt was added (row counts)."""

    log: pd.DataFrame
    truth: dict[str, float]
    dirt: dict[str, int]
    true_purchases: int
    observation_end: str = OBSERVATION_END


def _purchases(n_customers: int, rng: np.random.Generator) -> pd.DataFrame:
    """Every true purchase: customer number, time in ns since the epoch, amount."""
    r, alpha, a, b = (TRUTH[k] for k in ("r", "alpha", "a", "b"))
    start = ACQUISITION_START.value
    year = (pd.Timestamp("2022-01-01") - ACQUISITION_START).value
    acquired = start + rng.random(n_customers) * year
    rate = rng.gamma(r, 1.0 / alpha, n_customers)  # per week
    dropout = rng.beta(a, b, n_customers)
    until_dropout = rng.geometric(dropout)  # repeat purchases made before she leaves
    span_weeks = (LOG_END.value - acquired) / _NS_PER_WEEK
    arrivals = rng.poisson(rate * span_weeks)
    # Given the count, arrival times of a Poisson process are uniform; keep the first ones.
    owner = np.repeat(np.arange(n_customers), arrivals)
    offset = rng.random(len(owner)) * span_weeks[owner]
    order = np.lexsort((offset, owner))
    owner, offset = owner[order], offset[order]
    rank = np.arange(len(owner)) - np.repeat(np.cumsum(arrivals) - arrivals, arrivals)
    keep = rank < until_dropout[owner]
    owner, offset = owner[keep], offset[keep]
    customer = np.r_[np.arange(n_customers), owner]
    times = np.r_[acquired, acquired[owner] + offset * _NS_PER_WEEK]
    # Spend: each customer's nu ~ Gamma(q, rate gamma), each purchase z ~ Gamma(p, rate nu).
    nu = rng.gamma(TRUTH["q"], 1.0 / TRUTH["gamma"], n_customers)
    amount = rng.gamma(TRUTH["p"], 1.0 / nu[customer])
    # Whole seconds, as order systems log them.
    seconds = (times // 10**9).astype(np.int64)
    return pd.DataFrame({"customer": customer, "seconds": seconds, "amount": amount})


def make_dirty_log(n_customers: int = 100_000, seed: int = 2026) -> DirtyLog:
    """Simulate the dirty log for ``n_customers`` (about 10.5 rows each).

    >>> d = make_dirty_log(2_000, seed=1)
    >>> sorted(d.log.columns)
    ['channel', 'client', 'order_id', 'order_ts', 'revenue']
    >>> d.dirt["duplicates"], d.dirt["missing_client"]
    (10, 1)
    """
    rng = np.random.default_rng(seed)
    buys = _purchases(n_customers, rng)
    n = len(buys)
    scale = n_customers / 100_000
    dirt = {name: max(1, round(count * scale)) for name, count in _DIRT_PER_100K.items()}
    stamps = buys["seconds"].to_numpy().astype("datetime64[s]")
    log = pd.DataFrame(
        {
            "client": np.char.add("C", np.char.zfill(buys["customer"].to_numpy().astype(str), 7)),
            "order_ts": np.datetime_as_string(stamps, unit="s"),
            "revenue": np.char.mod("%.2f", buys["amount"].to_numpy()),
            "channel": rng.choice(["organic", "paid", "referral"], n),
            "order_id": np.arange(1, n + 1),
        }
    ).astype({"client": object, "order_ts": object, "revenue": object})
    chosen = rng.choice(n, dirt["zero_revenue"] + dirt["dollar_strings"], replace=False)
    zero, dollar = chosen[: dirt["zero_revenue"]], chosen[dirt["zero_revenue"] :]
    log.loc[zero, "revenue"] = "0.00"
    log.loc[dollar, "revenue"] = "$" + log.loc[dollar, "revenue"]
    untouched = np.ones(n, dtype=bool)
    untouched[chosen] = False
    untouched = np.flatnonzero(untouched)
    # Returns: a share of one purchase's value, 1-19 days later.
    bought = rng.choice(untouched, dirt["returns"], replace=False)
    returned = log.loc[bought].copy()
    later = stamps[bought] + rng.integers(1, 20, len(bought)) * np.timedelta64(86_400, "s")
    returned["order_ts"] = np.datetime_as_string(later, unit="s")
    value = buys["amount"].to_numpy()[bought] * rng.uniform(0.2, 1.0, len(bought))
    returned["revenue"] = np.char.mod("%.2f", -value)
    returned["order_id"] = n + 1 + np.arange(len(bought))
    missing = log.loc[rng.choice(n, dirt["missing_client"], replace=False)].copy()
    missing["client"] = None
    bad = log.loc[rng.choice(n, dirt["bad_date"], replace=False)].copy()
    bad["order_ts"] = rng.choice(["2021-06-31T08:00:00", "not a date", ""], len(bad))
    duplicated = log.loc[rng.choice(untouched, dirt["duplicates"])]
    frame = pd.concat([log, returned, missing, bad, duplicated], ignore_index=True)
    frame = frame.iloc[rng.permutation(len(frame))].reset_index(drop=True)
    return DirtyLog(log=frame, truth=dict(TRUTH), dirt=dirt, true_purchases=n)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", help="output file (.csv or .parquet)")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2026)
    arguments = parser.parse_args()
    result = make_dirty_log(arguments.customers, arguments.seed)
    if arguments.path.endswith(".parquet"):
        result.log.to_parquet(arguments.path, index=False)
    else:
        result.log.to_csv(arguments.path, index=False)
    print(
        f"{len(result.log):,} rows ({result.true_purchases:,} true purchases) -> {arguments.path}"
    )
