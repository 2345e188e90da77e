"""What the engine tests share: one equality of summaries and one log with every oddity."""

from __future__ import annotations

import numpy as np
import pandas as pd

SHARED_ATTRS = ("unit", "merge", "on_invalid", "returns", "duplicates", "observation_end")


def assert_same_summary(ours: pd.DataFrame, theirs: pd.DataFrame) -> None:
    assert list(ours.columns) == list(theirs.columns)
    assert ours.index.tolist() == theirs.index.tolist()
    for column in ours.columns:
        rel = 1e-9 if column.startswith("monetary") else 0.0
        np.testing.assert_allclose(
            ours[column].to_numpy(float), theirs[column].to_numpy(float), rtol=rel, atol=1e-9
        )
    for name in SHARED_ATTRS:
        assert ours.attrs.get(name) == theirs.attrs.get(name), name
    assert ours.attrs["rows_after_observation_end"] == theirs.attrs["rows_after_observation_end"]


def odd_log(seed: int = 7, customers: int = 400) -> pd.DataFrame:
    """Same-day purchases, exact duplicates, zero amounts, times of day, purchases after
    the end of observation and customers whose only purchase is on its last day."""
    rng = np.random.default_rng(seed)
    n = customers * 6
    ids = rng.integers(0, customers, n)
    start = np.datetime64("2024-01-01T00:00")
    minutes = rng.integers(0, 500 * 24 * 60, n)
    dates = start + minutes.astype("timedelta64[m]")
    amounts = np.round(rng.gamma(2.0, 20.0, n), 2)
    amounts[rng.random(n) < 0.03] = 0.0
    log = pd.DataFrame({"customer_id": ids, "date": dates, "amount": amounts})
    same_day = log.sample(len(log) // 16, random_state=seed).assign(
        amount=lambda f: f["amount"] + 1
    )
    duplicates = log.sample(len(log) // 60, random_state=seed + 1)
    last_day = pd.DataFrame(
        {
            "customer_id": [customers + 1, customers + 2],
            "date": pd.to_datetime(["2024-12-31 10:00", "2024-12-31 23:59"]),
            "amount": [5.0, 6.0],
        }
    )
    return pd.concat([log, same_day, duplicates, last_day], ignore_index=True)


def returns_log(seed: int = 3, customers: int = 300) -> pd.DataFrame:
    """A log with returns of every kind: partial, whole-day, larger than the purchase,
    on the purchase's day, before any purchase (unmatched), several against one day,
    and customers who return everything."""
    rng = np.random.default_rng(seed)
    log = odd_log(seed=seed, customers=customers)
    buys = log[log["amount"] > 0].sample(len(log) // 8, random_state=seed)
    later = pd.to_timedelta(rng.integers(0, 20 * 24 * 60, len(buys)), unit="min")
    share = rng.choice([0.3, 1.0, 1.5], len(buys))
    returns = pd.DataFrame(
        {
            "customer_id": buys["customer_id"].to_numpy(),
            "date": (buys["date"] + later).to_numpy(),
            "amount": -np.round(buys["amount"].to_numpy() * share, 2),
        }
    )
    early = pd.DataFrame(
        {
            "customer_id": rng.integers(0, customers, 10),
            "date": pd.Timestamp("2023-12-01"),
            "amount": -5.0,
        }
    )
    whole = log[log["customer_id"] == log["customer_id"].iloc[0]]
    everything = whole.assign(amount=-whole["amount"] - 1, date=whole["date"] + pd.Timedelta("1h"))
    return pd.concat([log, returns, early, everything], ignore_index=True)


def assert_same_report(ours: dict, theirs: dict) -> None:
    """Equal cleaning reports: the same keys and counts; the unmatched return value, a
    sum of amounts added in another order by each engine, to 1e-9 relative."""
    import pytest

    rest = {key: value for key, value in ours.items() if key != "unmatched_return_value"}
    assert rest == {key: value for key, value in theirs.items() if key in rest}
    assert set(ours) == set(theirs)
    assert ours["unmatched_return_value"] == pytest.approx(
        theirs["unmatched_return_value"], rel=1e-9
    )
