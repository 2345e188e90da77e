"""Transaction logs: validation, the (x, t_x, T, monetary) summary, holdout, cohorts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import crmlab as cl
from crmlab.transactions import (
    calibration_holdout,
    cohort_table,
    summarize,
    validate_transactions,
)


@pytest.fixture(scope="module")
def cdnow():
    return cl.datasets.load_cdnow("sample")


@pytest.fixture(scope="module")
def cdnow_summary(cdnow):
    return summarize(cdnow, observation_end="1997-09-30", unit="W")


# ----- golden figures ------------------------------------------------------------------
def test_cdnow_summary_has_the_published_counts(cdnow_summary):
    assert len(cdnow_summary) == 2357
    assert int((cdnow_summary["x"] > 0).sum()) == 946
    assert cdnow_summary.loc[1, ["x", "t_x", "T"]].round(2).tolist() == [2.0, 30.43, 38.86]
    assert cdnow_summary.attrs["unit"] == "W"


def test_cdnow_summary_matches_the_published_table_for_every_customer(cdnow_summary):
    published = cl.datasets.load_cdnow_published_summary()
    ours = cdnow_summary.reindex(published.index)
    assert (ours["x"] == published["x"]).all()
    assert np.allclose(ours["t_x"].round(2), published["t_x"], atol=1e-9)
    assert np.allclose(ours["T"].round(2), published["T"], atol=1e-9)
    buyers = published["x"] > 0
    # zbar is printed to the cent; our means are exact.
    assert np.allclose(ours.loc[buyers, "monetary"], published.loc[buyers, "zbar"], atol=0.0051)
    assert ours.loc[~buyers, "monetary"].isna().all()


def test_units_are_days_divided_by_their_length(cdnow):
    in_days = summarize(cdnow, "1997-09-30", unit="D")
    in_weeks = summarize(cdnow, "1997-09-30", unit="W")
    in_months = summarize(cdnow, "1997-09-30", unit="M")
    assert np.allclose(in_days["T"] / 7, in_weeks["T"])
    assert np.allclose(in_days["t_x"] / (365.25 / 12), in_months["t_x"])
    assert in_days.attrs["unit"] == "D" and in_months.attrs["unit"] == "M"
    with pytest.raises(ValueError, match="unknown time unit 'fortnight'"):
        summarize(cdnow, "1997-09-30", unit="fortnight")


def test_holdout_counts_purchase_days_after_calibration(cdnow):
    ch = calibration_holdout(cdnow, "1997-09-30", "1998-06-30", unit="W")
    # An independent count with plain pandas: distinct purchase days in the holdout window.
    window = cdnow[(cdnow["date"] > "1997-09-30") & (cdnow["date"] <= "1998-06-30")]
    expected = window.groupby("customer_id")["date"].nunique()
    assert int(ch["x_holdout"].sum()) == int(expected.sum())
    assert (ch["x_holdout"].reindex(expected.index) == expected).all()
    assert np.allclose(ch["duration_holdout"], 273 / 7)
    assert (ch.loc[ch["x_holdout"] == 0, "monetary_holdout"].isna()).all()


def test_transactions_after_observation_end_are_the_holdout_not_an_error(cdnow):
    early = summarize(cdnow, "1997-03-31")
    # Customers acquired later are not yet customers.
    first = cdnow.groupby("customer_id")["date"].min()
    assert len(early) == int((first <= "1997-03-31").sum())
    assert early["T"].max() <= 90 / 7


# ----- validation ----------------------------------------------------------------------
def _log(**columns):
    base = {
        "customer_id": [1, 1, 2, 3],
        "date": ["2024-01-01", "2024-01-05", "2024-01-02", "2024-01-03"],
        "amount": [10.0, 12.0, 5.0, 7.0],
    }
    base.update(columns)
    return pd.DataFrame(base)


def test_missing_columns_are_named():
    with pytest.raises(ValueError, match=r"missing column\(s\) 'amount'.*customer_col="):
        validate_transactions(_log().drop(columns="amount"))


def test_unparseable_dates_name_column_and_rows():
    log = _log(date=["2024-01-01", "not a date", "2024-01-02", "2024-13-01"])
    with pytest.raises(
        ValueError, match=r"column 'date': 2 value\(s\) are not dates: row 1: 'not a date', row 3"
    ):
        validate_transactions(log)


def test_missing_customer_ids_name_rows():
    log = _log(customer_id=[1, None, 2, 3])
    with pytest.raises(ValueError, match=r"column 'customer_id'.*missing customer ids: row 1"):
        validate_transactions(log)


def test_non_numeric_amounts_name_rows():
    log = _log(amount=[10.0, "ten", 5.0, 7.0])
    with pytest.raises(ValueError, match=r"column 'amount'.*not numbers: row 1: 'ten'"):
        validate_transactions(log)


def test_negative_amounts_are_refused_with_the_options_named():
    log = _log(amount=[10.0, -4.0, 5.0, 7.0])
    with pytest.raises(ValueError, match=r"negative amount.*row 1: -4.0.*returns='net'"):
        validate_transactions(log)


def test_returns_can_be_netted_or_dropped_and_are_reported():
    log = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2],
            "date": ["2024-01-01", "2024-01-01", "2024-01-09", "2024-01-02"],
            "amount": [10.0, -4.0, 3.0, 5.0],
        }
    )
    netted, report = validate_transactions(log, returns="net")
    assert report.returns_netted == 1
    assert netted.loc[netted["date"] == "2024-01-01", "amount"].tolist() == [6.0]
    dropped, report = validate_transactions(log, returns="drop")
    assert report.returns_dropped == 1 and report.returns_netted == 0 and len(dropped) == 3


def test_bad_rows_can_be_dropped_and_are_counted():
    log = _log(date=["2024-01-01", "garbage", "2024-01-02", "2024-01-03"])
    clean, report = validate_transactions(log, on_invalid="drop")
    assert len(clean) == 3
    assert report.dropped == {"unparseable date in 'date'": 1}
    assert "1 rows dropped" in str(report)


def test_duplicates_and_zero_amounts_are_reported_not_rejected(cdnow):
    clean, report = validate_transactions(cdnow[["customer_id", "date", "amount", "quantity"]])
    assert len(clean) == len(cdnow)
    assert report.zero_amounts == 8
    # Duplicates among the columns validated (id, date, amount).
    assert report.exact_duplicates == int(
        cdnow[["customer_id", "date", "amount"]].duplicated().sum()
    )
    assert report.exact_duplicates >= 21


def test_the_users_frame_is_not_modified(cdnow):
    copy = cdnow.copy()
    summarize(cdnow, "1997-09-30")
    validate_transactions(cdnow, returns="net")
    pd.testing.assert_frame_equal(cdnow, copy)


def test_other_column_names_and_string_ids():
    log = pd.DataFrame(
        {
            "client": ["b", "a", "a", "a"],
            "purchase_day": pd.to_datetime(
                ["2024-01-08", "2024-01-01", "2024-01-15", "2024-01-15"]
            ),
            "value": [7.0, 10.0, 5.0, 15.0],
        }
    )
    result = summarize(
        log,
        "2024-01-29",
        unit="D",
        customer_col="client",
        date_col="purchase_day",
        amount_col="value",
    )
    assert result.index.tolist() == ["a", "b"]
    assert result.loc["a"].tolist() == [1.0, 14.0, 28.0, 20.0]
    assert result.loc["b", "T"] == 21.0


def test_times_of_day_are_ignored():
    log = pd.DataFrame(
        {
            "customer_id": [1, 1],
            "date": ["2024-01-01 09:00", "2024-01-01 17:30"],
            "amount": [1.0, 2.0],
        }
    )
    result = summarize(log, "2024-01-08", unit="D")
    assert result.loc[1, "x"] == 0 and result.loc[1, "T"] == 7


def test_observation_end_must_be_a_date(cdnow):
    with pytest.raises(ValueError, match="observation_end"):
        summarize(cdnow, "end of September")
    with pytest.raises(ValueError, match="must come after calibration_end"):
        calibration_holdout(cdnow, "1998-01-01", "1997-01-01")


# ----- properties ----------------------------------------------------------------------
purchase_logs = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=8),  # customer
        st.integers(min_value=0, max_value=60),  # day
        st.floats(min_value=0, max_value=500, allow_nan=False),  # amount
    ),
    min_size=1,
    max_size=60,
)


def _frame(rows):
    customers, days, amounts = zip(*rows, strict=True)
    return pd.DataFrame(
        {
            "customer_id": customers,
            "date": pd.Timestamp("2023-03-01") + pd.to_timedelta(days, unit="D"),
            "amount": amounts,
        }
    )


@settings(max_examples=60, deadline=None)
@given(purchase_logs, st.integers(min_value=0, max_value=80), st.randoms(use_true_random=False))
def test_summary_properties(rows, end_offset, random):
    log = _frame(rows)
    end = pd.Timestamp("2023-03-01") + pd.Timedelta(days=end_offset)
    window = log[log["date"] <= end]
    if window.empty:
        return
    result = summarize(log, end, unit="D")
    assert (result["t_x"] >= 0).all() and (result["t_x"] <= result["T"]).all()
    distinct_days = window.groupby("customer_id")["date"].nunique()
    assert (result["x"] + 1).astype(int).to_dict() == distinct_days.to_dict()
    assert result["monetary"].isna().eq(result["x"] == 0).all()
    # Row order does not matter.
    shuffled = log.sample(frac=1.0, random_state=random.randint(0, 10_000))
    pd.testing.assert_frame_equal(summarize(shuffled, end, unit="D"), result)
    # Moving every date, and the end, by the same number of days changes nothing.
    shifted = log.assign(date=log["date"] + pd.Timedelta(days=11))
    pd.testing.assert_frame_equal(
        summarize(shifted, end + pd.Timedelta(days=11), unit="D"), result, check_like=True
    )
    # Merging same-day purchases into one row changes nothing.
    merged = log.groupby(["customer_id", "date"], as_index=False)["amount"].sum()
    pd.testing.assert_frame_equal(summarize(merged, end, unit="D"), result)
    # Weeks are days divided by seven.
    weeks = summarize(log, end, unit="W")
    assert np.allclose(weeks["T"] * 7, result["T"])


# ----- cohorts -------------------------------------------------------------------------
def test_cohort_table_counts_match_a_direct_count():
    master = cl.datasets.load_cdnow("master")
    table = cohort_table(master, period="M")
    assert table.loc[table["period"] == 0, "cohort_size"].tolist() == [7846, 8476, 7248]
    assert (table.loc[table["period"] == 0, "retention"] == 1).all()
    month = master["date"].dt.to_period("M")
    first = month.groupby(master["customer_id"]).transform("min")
    january = master[first == pd.Period("1997-01", "M")]
    active_in_march = january.loc[
        january["date"].dt.to_period("M") == pd.Period("1997-03", "M"), "customer_id"
    ].nunique()
    row = table[(table["cohort"] == "1997-01") & (table["period"] == 2)].iloc[0]
    assert row["active"] == active_in_march
    assert row["retention"] == pytest.approx(active_in_march / 7846)
    assert table["revenue"].sum() == pytest.approx(master["amount"].sum())
    # 18 months of data for the January cohort: periods 0..17.
    assert table.loc[table["cohort"] == "1997-01", "period"].max() == 17


def test_cohort_table_rejects_an_unknown_period():
    with pytest.raises(ValueError, match="period must be one of"):
        cohort_table(cl.datasets.load_cdnow("sample"), period="fortnight")


def test_duplicate_index_labels_do_not_confuse_the_messages():
    log = _log(amount=[10.0, 12.0, -5.0, 7.0]).set_axis([7, 7, 8, 8])
    with pytest.raises(ValueError, match=r"row 8: -5.0"):
        validate_transactions(log)
    netted, report = validate_transactions(log, returns="drop")
    assert len(netted) == 3 and report.returns_dropped == 1


def test_distinct_days_are_counted_right_with_keys_too_wide_for_32_bits():
    from crmlab._summary_engine import count_days

    codes = np.array([0, 0, 0, 1, 2, 2])
    days = np.array([0, 2**31, 2**31, 5, 7, 2**32])
    counts, _ = count_days(codes, days, None, n_customers=3)
    assert counts.tolist() == [2, 1, 2]
    narrow, _ = count_days(codes, days % 1000, None, n_customers=3)
    assert narrow.tolist() == [2, 1, 2]
