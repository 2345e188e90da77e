"""The in-memory engine's own paths: blocks, key widths, timestamp ticks, customer codes.

Each summary is compared, to the last bit, with a reference written the slow and
obvious way: a Python loop over the rows that adds each customer's amounts in the
order of the log.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmlab import _summary_engine
from crmlab._summary_engine import count_days, customer_slots, summarize_arrays
from crmlab.transactions import summarize


def reference(log: pd.DataFrame, end: str, unit_days: float = 1.0) -> pd.DataFrame:
    """x, t_x, T, monetary of a clean log by a loop over its rows (days merged)."""
    end_day = pd.Timestamp(end).normalize()
    days: dict = {}
    spend: dict = {}
    for customer, date, amount in log[["customer_id", "date", "amount"]].itertuples(index=False):
        day = pd.Timestamp(date).normalize()
        if day > end_day:
            continue
        days.setdefault(customer, set()).add(day)
        spend.setdefault(customer, []).append((day, amount))
    rows = {}
    for customer in sorted(days):
        first, last = min(days[customer]), max(days[customer])
        x = len(days[customer]) - 1
        total = 0.0
        first_total = 0.0
        for day, amount in spend[customer]:
            total += amount
            if day == first:
                first_total += amount
        rows[customer] = {
            "x": float(x),
            "t_x": (last - first).days / unit_days,
            "T": (end_day - first).days / unit_days,
            "monetary": (total - first_total) / x if x > 0 else np.nan,
        }
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index = frame.index.astype(log["customer_id"].dtype)
    frame.index.name = "customer_id"
    return frame


def assert_bit_identical(ours: pd.DataFrame, theirs: pd.DataFrame) -> None:
    assert ours.index.tolist() == theirs.index.tolist()
    assert ours.index.dtype == theirs.index.dtype
    for column in ("x", "t_x", "T", "monetary"):
        a, b = ours[column].to_numpy(), theirs[column].to_numpy()
        assert np.array_equal(a, b, equal_nan=True), column


logs = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=12),  # customer
        st.integers(min_value=0, max_value=40),  # day
        st.integers(min_value=0, max_value=1439),  # minute of the day
        st.floats(min_value=0, max_value=500, allow_nan=False),
    ),
    min_size=1,
    max_size=80,
)


def _frame(rows) -> pd.DataFrame:
    customers, days, minutes, amounts = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "customer_id": np.array(customers, dtype=np.int64),
            "date": pd.Timestamp("2023-03-01")
            + pd.to_timedelta(np.array(days) * 1440 + np.array(minutes), unit="min"),
            "amount": amounts,
        }
    )


@settings(max_examples=60, deadline=None)
@given(logs, st.sampled_from([1, 2, 3, 7, 64]))
def test_blocks_of_any_size_give_the_reference_summary(rows, block):
    # Small blocks put customers, days and duplicate keys across block edges, where the
    # block-by-block reading of the sorted keys has to join them up.
    log = _frame(rows)
    expected = reference(log, "2023-04-15")
    old = _summary_engine._BLOCK
    _summary_engine._BLOCK = block
    try:
        ours = summarize(log, "2023-04-15", unit="D")
    finally:
        _summary_engine._BLOCK = old
    assert_bit_identical(ours, expected)


@pytest.mark.parametrize("customers, fits", [(2**16, True), (2**16 + 1, False)])
def test_keys_are_32_bits_exactly_while_customers_times_days_fit(customers, fits):
    # customers x span = 2**32 is the widest 32-bit key: its largest value is 2**32 - 1.
    codes = np.array([0, customers - 1, customers - 1, 3, 3])
    days = np.array([0, 2**16 - 1, 2**16 - 1, 5, 9])
    key, span, _ = _summary_engine._sorted_keys(codes, days, customers, 1)
    assert span == 2**16
    assert key.dtype == (np.uint32 if fits else np.int64)
    s = summarize_arrays(codes, days, None, n_customers=customers, end_day=2**16)
    assert s.customers.tolist() == [0, 3, customers - 1]
    assert s.x.tolist() == [0, 1, 0]
    assert s.t_x.tolist() == [0, 4, 0]
    assert s.T.tolist() == [2**16, 2**16 - 5, 1]


@pytest.mark.parametrize("resolution", ["s", "ms", "us", "ns"])
def test_timestamps_of_every_resolution_give_the_same_days(resolution):
    # Day numbers come from the raw ticks by floor division: before 1970 the last hour
    # of a day still belongs to that day.
    log = pd.DataFrame(
        {
            "customer_id": [5, 5, 5, 2, 2],
            "date": pd.to_datetime(
                [
                    "1969-12-31 23:30:00",
                    "1970-01-01 00:10:00",
                    "1969-12-31 00:00:01",
                    "1969-06-01 12:00:00",
                    "1970-03-01 06:00:00",
                ]
            ).as_unit(resolution),
            "amount": [1.5, 2.25, 4.0, 3.0, 0.1],
        }
    )
    assert log["date"].dtype == f"datetime64[{resolution}]"
    ours = summarize(log, "1970-06-30", unit="W")
    assert_bit_identical(ours, reference(log, "1970-06-30", unit_days=7.0))
    assert ours.loc[5, "x"] == 1.0 and ours.loc[5, "t_x"] == 1 / 7


def test_first_days_more_than_89_years_apart_are_looked_up_in_a_wider_table():
    # 16-bit offsets hold 32,767 days; these first days are 45,000 days apart.
    log = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2, 2],
            "date": pd.to_datetime(
                ["1900-01-01", "1900-01-01", "1950-05-05", "2023-03-01", "2024-01-01"]
            ),
            "amount": [1.0, 2.0, 4.0, 8.0, 16.0],
        }
    )
    ours = summarize(log, "2024-12-31", unit="D")
    assert_bit_identical(ours, reference(log, "2024-12-31"))
    assert ours["monetary"].tolist() == [4.0, 16.0]


@pytest.mark.parametrize(
    "ids, codes, table",
    [
        (np.array([3, 0, 3]), [3, 0, 3], [0, 1, 2, 3]),  # numbers from 0: their own codes
        (np.array([5003, 5001]), [2, 0], [5001, 5002, 5003]),  # shifted to start at 0
        (np.array([-2, 1]), [0, 3], [-2, -1, 0, 1]),
        (np.array([7, 10**12]), [0, 1], [7, 10**12]),  # too wide for a table: dense codes
        (np.array(["b", "a", "b"], dtype=object), [1, 0, 1], ["a", "b"]),
    ],
)
def test_customer_slots_number_the_customers(ids, codes, table):
    got_codes, got_table = customer_slots(ids)
    assert got_codes.tolist() == codes
    assert np.asarray(got_table).tolist() == table
    assert np.asarray(got_table).dtype == ids.dtype


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint64", "uint16"])
def test_customers_absent_from_the_number_range_are_left_out(dtype):
    log = pd.DataFrame(
        {
            "customer_id": np.array([40, 7, 40, 12], dtype=dtype),
            "date": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-09", "2024-01-05"]),
            "amount": [1.0, 2.0, 3.0, 4.0],
        }
    )
    ours = summarize(log, "2024-01-31", unit="D")
    assert ours.index.tolist() == [7, 12, 40]
    assert ours.index.dtype == np.dtype(dtype)
    assert_bit_identical(ours, reference(log, "2024-01-31"))


def test_every_row_after_the_end_leaves_its_customer_out_of_a_numbered_table():
    log = pd.DataFrame(
        {
            "customer_id": [0, 1, 2],
            "date": pd.to_datetime(["2024-01-01", "2024-03-01", "2024-01-05"]),
            "amount": [1.0, 2.0, 3.0],
        }
    )
    ours = summarize(log, "2024-01-31", unit="D")
    assert ours.index.tolist() == [0, 2]
    assert ours.attrs["rows_after_observation_end"] == 1


def test_a_typed_date_column_with_nat_is_refused_by_name():
    log = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "date": pd.to_datetime(["2024-01-01", None]),
            "amount": [1.0, 2.0],
        }
    )
    with pytest.raises(ValueError, match=r"column 'date': 1 value\(s\) are not dates: row 1"):
        summarize(log, "2024-01-31")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, -1.0])
def test_float_amounts_that_are_not_purchases_are_refused_by_name(bad):
    log = pd.DataFrame(
        {
            "customer_id": [1, 2, 3],
            "date": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]),
            "amount": [1.0, bad, 2.0],
        }
    )
    with pytest.raises(ValueError, match=r"column 'amount': 1 .*: row 1"):
        summarize(log, "2024-01-31")


def test_rows_are_counted_one_by_one_without_merging_and_ticks_must_be_one():
    codes, times = np.array([0, 0, 1]), np.array([5, 5, 9])
    s = summarize_arrays(
        codes, times, np.array([1.0, 3.0, 2.0]), n_customers=2, end_day=10, distinct=False
    )
    # Both rows share customer 0's first time: her first purchase is worth their mean
    # (2.0), and her one repeat transaction what is left of the 4.0 she spent.
    assert s.x.tolist() == [1, 0] and np.isnan(s.monetary[1]) and s.monetary[0] == 2.0
    with pytest.raises(ValueError, match="ticks=1"):
        summarize_arrays(codes, times, None, n_customers=2, end_day=10, distinct=False, ticks=2)


def test_holdout_days_come_from_raw_ticks_as_the_calibration_days_do():
    from crmlab.transactions import calibration_holdout

    log = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 1],
            "date": pd.to_datetime(
                ["2024-01-01 09:00", "2024-01-31 23:59", "2024-02-01 00:01", "2024-02-01 18:00"]
            ).as_unit("us"),
            "amount": [1.0, 2.0, 3.0, 4.0],
        }
    )
    ch = calibration_holdout(log, "2024-01-31", "2024-02-29", unit="D")
    assert ch.loc[1, ["x", "t_x", "x_holdout", "monetary_holdout"]].tolist() == [1, 30, 1, 7.0]
    counts, _ = count_days(
        np.array([0, 0]),
        np.array([86_400 * 10**6, 2 * 86_400 * 10**6 - 1]),
        None,
        n_customers=1,
        ticks=86_400 * 10**6,
    )
    assert counts.tolist() == [1]
