"""``first_purchase_value``: the value of each customer's first transaction, by the engine.

Checked against a plain pandas group-by on the log as ``validate_transactions`` cleans
it, and against the summary it complements: total spend = first value + x · monetary.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import crmlab as cl
from crmlab.transactions import first_purchase_value, validate_transactions


def _log(seed: int = 7, rows: int = 3_000, customers: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2024-01-01").value
    seconds = rng.integers(0, 200 * 86_400, rows) * 10**9
    return pd.DataFrame(
        {
            "customer_id": rng.integers(1_000, 1_000 + customers, rows),
            "date": pd.to_datetime(start + seconds),
            "amount": rng.gamma(2.0, 15.0, rows).round(2),
        }
    )


def _reference(tx: pd.DataFrame, merge: str, **options) -> pd.Series:
    clean, _ = validate_transactions(tx, keep_time=merge == "none", **options)
    if merge == "day":
        moment = clean["date"].dt.normalize()
    elif merge == "none":
        moment = clean["date"]
    else:
        moment = clean["date"].dt.to_period(merge).dt.start_time
    first = moment.groupby(clean["customer_id"]).transform("min")
    on_first = clean[moment == first].groupby("customer_id")["amount"]
    return (on_first.mean() if merge == "none" else on_first.sum()).rename("first_value")


@pytest.mark.parametrize("merge", ["day", "none", "W", "M"])
def test_first_value_matches_a_group_by_on_the_cleaned_log(merge):
    tx = _log()
    got = first_purchase_value(tx, merge=merge)
    pd.testing.assert_series_equal(got, _reference(tx, merge), check_index_type=False, rtol=1e-12)


def test_same_day_purchases_add_up_and_later_days_do_not_count():
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b", "b"],
            "date": pd.to_datetime(
                [
                    "2024-01-01 09:00",
                    "2024-01-01 17:30",
                    "2024-01-02 08:00",
                    "2024-01-05 08:00",
                    "2024-01-04 08:00",
                ]
            ),
            "amount": [10.0, 5.0, 100.0, 1.0, 2.0],
        }
    )
    got = first_purchase_value(tx)
    assert got.to_dict() == {"a": 15.0, "b": 2.0}
    assert first_purchase_value(tx, merge="none").to_dict() == {"a": 10.0, "b": 2.0}


def test_cleaning_options_apply_as_in_the_summary():
    tx = _log(seed=3)
    tx.loc[5, "amount"] = np.nan
    tx = pd.concat([tx, tx.iloc[[10, 11]]], ignore_index=True)  # two exact duplicates
    options = {"on_invalid": "drop", "duplicates": "drop"}
    got = first_purchase_value(tx, **options)
    pd.testing.assert_series_equal(got, _reference(tx, "day", **options), check_index_type=False)
    with pytest.raises(ValueError, match="amount"):
        first_purchase_value(tx)  # the missing amount is refused by default, as everywhere


def test_returns_are_netted_before_the_first_value_is_taken():
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 1],
            "date": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-02-01"]),
            "amount": [30.0, -10.0, 5.0],
        }
    )
    assert first_purchase_value(tx, returns="net").to_dict() == {1: 20.0}


def test_total_spend_is_the_first_value_plus_the_repeat_transactions():
    tx = _log(seed=11)
    end = tx["date"].max()
    summary = cl.transactions.summarize(tx, observation_end=end, unit="D")
    first = first_purchase_value(tx)
    total = tx.groupby("customer_id")["amount"].sum()
    rebuilt = first + (summary["x"] * summary["monetary"].fillna(0.0))
    np.testing.assert_allclose(rebuilt.reindex(total.index), total, rtol=1e-10)


def test_the_cdnow_first_day_spend_is_what_notebook_08_used_before():
    tx = cl.datasets.load_cdnow("sample")
    got = first_purchase_value(tx)
    assert len(got) == 2_357
    pd.testing.assert_series_equal(got, _reference(tx, "day"), check_index_type=False)


def test_bad_calls_are_named():
    tx = _log()
    with pytest.raises(ValueError, match="amount_col"):
        first_purchase_value(tx, amount_col=None)
    with pytest.raises(ValueError, match="pandas DataFrame"):
        first_purchase_value("log.parquet")
    with pytest.raises(ValueError, match="merge"):
        first_purchase_value(tx, merge="fortnight")


def test_the_input_is_not_modified():
    tx = _log()
    before = tx.copy()
    first_purchase_value(tx, merge="W")
    pd.testing.assert_frame_equal(tx, before)
