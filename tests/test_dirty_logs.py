"""Issue 10: real, dirty logs. Every problem reported at once, nothing lost, choices visible.

Each test names the point of the issue it covers (1-10).
"""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import crmlab as cl
from crmlab.transactions import (
    calibration_holdout,
    cohort_table,
    diagnose,
    summarize,
    validate_transactions,
)


def _log(rows):
    return pd.DataFrame(rows, columns=["customer_id", "date", "amount"])


# ----- 1. returns="net" touches only the purchases a return is matched to ---------------
def test_point1_net_keeps_free_orders_and_reports_unmatched_returns():
    log = _log(
        [
            ("a", "2024-01-01", 0.0),  # a free order, no return: must stay
            ("a", "2024-01-10", 20.0),
            ("b", "2024-01-03", 0.0),  # b's only purchase is free: b must stay
            ("c", "2024-01-05", -7.0),  # a return with no earlier purchase: unmatched
            ("c", "2024-01-08", 9.0),
            ("d", "2024-01-02", 30.0),
            ("d", "2024-01-06", -10.0),  # matched to d's purchase of 2024-01-02
            ("e", "2024-01-04", 15.0),
            ("e", "2024-01-04", -15.0),  # cancels e's purchase of the same day whole
            ("e", "2024-01-09", 4.0),
        ]
    )
    clean, report = validate_transactions(log, returns="net")
    assert report.returns_netted == 2 and report.returns_unmatched == 1
    assert report.purchases_cancelled == 1 and report.purchases_reduced == 1
    # No purchase that no return touched was removed or changed.
    untouched = log.index[[0, 1, 2, 4, 9]]
    pd.testing.assert_series_equal(
        clean.loc[untouched, "amount"], log.loc[untouched, "amount"].astype(float)
    )
    assert clean.loc[5, "amount"] == 20.0  # 30 - 10
    assert 7 not in clean.index  # e's cancelled purchase
    assert sorted(clean["customer_id"].unique()) == ["a", "b", "c", "d", "e"]
    s = summarize(log, "2024-01-31", unit="D", returns="net")
    assert len(s) == 5 and s.loc["a", "x"] == 1 and s.loc["b", "x"] == 0
    assert "1 return rows with no earlier purchase dropped" in str(report)


def test_point1_the_old_rule_lost_free_orders():
    # The old code merged each day and removed days whose total was not positive: a
    # customer whose only purchase was free vanished.
    log = _log([("b", "2024-01-03", 0.0), ("a", "2024-01-01", 5.0), ("a", "2024-01-02", -1.0)])
    s = summarize(log, "2024-01-31", unit="D", returns="net")
    assert "b" in s.index


purchase_rows = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=6),
        st.integers(min_value=0, max_value=40),
        st.sampled_from([0.0, 0.5, 1.0, 9.99, 120.0]),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(purchase_rows)
def test_point1_property_net_changes_nothing_without_negative_rows(rows):
    customers, days, amounts = zip(*rows, strict=True)
    log = pd.DataFrame(
        {
            "customer_id": customers,
            "date": pd.Timestamp("2023-05-01") + pd.to_timedelta(days, unit="D"),
            "amount": amounts,
        }
    )
    raised, _ = validate_transactions(log)
    netted, report = validate_transactions(log, returns="net")
    pd.testing.assert_frame_equal(netted, raised)
    assert report.returns_netted == report.returns_unmatched == report.purchases_cancelled == 0
    pd.testing.assert_frame_equal(
        summarize(log, "2023-06-30", returns="net"), summarize(log, "2023-06-30")
    )


# ----- 3. a dropped first purchase is reported; drop_customer removes the customer -----
def test_point3_dropped_first_purchase_is_reported_and_can_drop_the_customer():
    log = _log(
        [
            ("a", "2021-01-04", "$12.00"),  # a's first purchase, unreadable
            ("a", "2021-06-01", 10.0),
            ("a", "2021-09-01", 11.0),
            ("b", "2021-02-01", 5.0),
            ("b", "2021-05-01", "n/a"),  # a later purchase: b's T does not move
        ]
    )
    kept = summarize(log, "2021-12-31", unit="W", on_invalid="drop")
    assert kept.loc["a", "T"] == pytest.approx(
        (pd.Timestamp("2021-12-31") - pd.Timestamp("2021-06-01")).days / 7
    )
    report = kept.attrs["cleaning"]
    assert report["first_purchase_dropped"] == 1
    problems = diagnose(log).problems
    lost = [p for p in problems if "first purchase" in p.what]
    assert lost and lost[0].count == 1 and "customer 'a'" in lost[0].rows
    assert "drop_customer" in lost[0].fix
    dropped = summarize(log, "2021-12-31", unit="W", on_invalid="drop_customer")
    assert dropped.index.tolist() == ["b"]
    assert dropped.attrs["cleaning"]["customers_dropped"] == 1
    assert dropped.attrs["cleaning"]["customer_rows_dropped"] == 2
    assert dropped.attrs["on_invalid"] == "drop_customer"


# ----- 6. every problem in one error; diagnose() without raising ----------------------
def _dirty():
    return pd.DataFrame(
        {
            "client": ["a", None, "b", "b", "c", "c", "d"],
            "order_ts": [
                "2021-01-01",
                "2021-01-02",
                "not a date",
                "2021-01-03",
                "2021-01-05",
                "2021-01-05",
                "2021-01-06",
            ],
            "revenue": ["12.50", "3", "4", "$37.85", "-5", "9", "1,234.50"],
        }
    )


COLUMNS = {"customer_col": "client", "date_col": "order_ts", "amount_col": "revenue"}


def test_point6_all_problems_in_one_error_each_with_column_count_rows_and_option():
    with pytest.raises(ValueError) as caught:
        validate_transactions(_dirty(), **COLUMNS)
    message = str(caught.value)
    lines = [line for line in message.splitlines() if line.startswith("  ")]
    assert len(lines) == 4, message
    expected = [
        ("'client'", "missing customer ids", "row 1:", "on_invalid='drop'"),
        ("'order_ts'", "not dates", "row 2: 'not a date'", "on_invalid='drop'"),
        ("'revenue'", "currency strings", "row 3: '$37.85', row 6: '1,234.50'", "currency='.'"),
        ("'revenue'", "negative amount", "row 4: '-5'", "returns='net'"),
    ]
    for line, parts in zip(lines, expected, strict=True):
        for part in parts:
            assert part in line, (part, line)
    assert [p.handled_by for p in caught.value.problems] == [
        "on_invalid",
        "on_invalid",
        "currency",
        "returns",
    ]


def test_point6_diagnose_returns_the_report_without_raising():
    report = diagnose(_dirty(), **COLUMNS)
    assert not report.ok and len(report.blocking) == 4
    table = report.to_frame()
    assert list(table.columns) == [
        "where",
        "count",
        "problem",
        "first_rows",
        "what_to_do",
        "option",
        "blocking",
    ]
    assert table["count"].sum() >= 5
    handled = diagnose(_dirty(), **COLUMNS, on_invalid="drop", currency=".", returns="net")
    assert handled.ok
    assert "[reported]" in str(handled)
    assert cl.transactions.diagnose is diagnose


def test_point6_one_option_at_a_time_removes_its_line():
    with pytest.raises(ValueError) as caught:
        validate_transactions(_dirty(), **COLUMNS, on_invalid="drop")
    # Currency strings still refused? No: on_invalid='drop' drops them; only returns remain.
    assert [p.handled_by for p in caught.value.problems] == ["returns"]


# ----- 7. currency strings: parsed by an option or refused with the pattern ------------
def test_point7_currency_strings_are_parsed_with_the_option():
    log = _log(
        [
            ("a", "2024-01-01", "$37.85"),
            ("a", "2024-01-02", "1,234.50"),
            ("a", "2024-01-03", "USD 5"),
            ("a", "2024-01-04", "7.5"),
        ]
    )
    clean, report = validate_transactions(log, currency=".")
    assert clean["amount"].tolist() == [37.85, 1234.5, 5.0, 7.5]
    assert report.currency_parsed == 3
    euro = _log([("a", "2024-01-01", "12,50 €"), ("a", "2024-01-02", "1.234,50 €")])
    assert validate_transactions(euro, currency=",")[0]["amount"].tolist() == [12.5, 1234.5]


def test_point7_currency_strings_are_refused_with_the_pattern_and_the_fix():
    euro = _log([("a", "2024-01-01", "12,50 €"), ("a", "2024-01-02", "3,10 €")])
    with pytest.raises(
        ValueError, match=r"currency strings \(currency sign\(s\) €, decimal comma\).*currency=','"
    ):
        validate_transactions(euro)
    dollars = _log([("a", "2024-01-01", "$37.85")])
    with pytest.raises(ValueError, match=r"currency sign\(s\) \$.*Pass currency='\.'"):
        validate_transactions(dollars)
    with pytest.raises(ValueError, match="currency must be one of"):
        validate_transactions(dollars, currency="$")


# ----- 8. exact duplicates: kept by default, dropped on request, reported --------------
def test_point8_duplicates_can_be_dropped_and_are_reported():
    log = _log(
        [
            ("a", "2024-01-01 10:00", 5.0),
            ("a", "2024-01-01 10:00", 5.0),  # double-logged
            ("a", "2024-01-01 11:00", 5.0),  # another purchase at another time: not a duplicate
            ("b", "2024-01-02", 3.0),
        ]
    )
    kept, report = validate_transactions(log)
    assert len(kept) == 4 and report.exact_duplicates == 1 and report.duplicates_dropped == 0
    dropped, report = validate_transactions(log, duplicates="drop")
    assert dropped.index.tolist() == [0, 2, 3] and report.duplicates_dropped == 1
    assert "1 exact duplicate rows (dropped)" in str(report)
    s = summarize(log, "2024-01-31", unit="D", merge="none", duplicates="drop")
    assert s.loc["a", "x"] == 1 and s.attrs["duplicates"] == "drop"
    with pytest.raises(ValueError, match="duplicates must be one of"):
        summarize(log, "2024-01-31", duplicates="remove")


def test_point8_duplicates_are_counted_on_parsed_values_like_pandas():
    cdnow = cl.datasets.load_cdnow("sample")
    _, report = validate_transactions(cdnow)
    assert report.exact_duplicates == int(
        cdnow[["customer_id", "date", "amount"]].duplicated().sum()
    )


# ----- 9. same-day merging is a visible choice ----------------------------------------
def test_point9_merge_options_count_what_they_say_and_are_recorded():
    log = _log(
        [
            ("a", "2024-01-01 09:00", 1.0),  # Monday
            ("a", "2024-01-01 18:00", 2.0),
            ("a", "2024-01-03 12:00", 3.0),  # same week
            ("a", "2024-01-08 12:00", 4.0),  # next Monday
            ("a", "2024-02-05 12:00", 5.0),
        ]
    )
    end = "2024-02-29"
    by_day = summarize(log, end, unit="D")
    assert by_day.loc["a", "x"] == 3 and by_day.attrs["merge"] == "day"
    every = summarize(log, end, unit="D", merge="none")
    assert every.loc["a", "x"] == 4 and every.attrs["merge"] == "none"
    # Times of day are kept: last minus first purchase, and T to the end of the window.
    assert every.loc["a", "t_x"] == pytest.approx(35 + 3 / 24)
    assert every.loc["a", "T"] == pytest.approx(60 - 9 / 24)
    assert every.loc["a", "monetary"] == pytest.approx((2 + 3 + 4 + 5) / 4)
    weekly = summarize(log, end, unit="W", merge="W")
    assert weekly.loc["a", "x"] == 2 and weekly.loc["a", "t_x"] == 5
    # 2024-02-29 lies in the week of Monday 2024-02-26: eight weeks after 2024-01-01.
    assert weekly.loc["a", "T"] == 8
    monthly = summarize(log, end, unit="M", merge="M")
    assert monthly.loc["a", "x"] == 1
    assert summarize(log, end, merge="D").equals(summarize(log, end))
    with pytest.raises(ValueError, match=r"merge must be one of.*literature"):
        summarize(log, end, merge="hour")


def test_point9_holdout_uses_the_same_merge():
    log = _log(
        [
            ("a", "2024-01-01 09:00", 1.0),
            ("a", "2024-02-10 10:00", 2.0),
            ("a", "2024-02-10 16:00", 3.0),
        ]
    )
    by_day = calibration_holdout(log, "2024-01-31", "2024-02-29", unit="D")
    every = calibration_holdout(log, "2024-01-31", "2024-02-29", unit="D", merge="none")
    assert by_day.loc["a", "x_holdout"] == 1 and every.loc["a", "x_holdout"] == 2
    assert every.attrs["merge"] == "none" and every.attrs["rows_after_observation_end"] == 0


def test_cohort_table_takes_the_cleaning_options():
    log = _log([("a", "2024-01-01", "$5"), ("a", "2024-02-01", 3.0), ("b", "2024-01-09", 2.0)])
    with pytest.raises(ValueError, match="currency strings"):
        cohort_table(log)
    table = cohort_table(log, currency=".")
    assert table["revenue"].sum() == pytest.approx(10.0)
    assert table.attrs["currency"] == "."


def test_rows_after_the_end_are_counted():
    log = _log([("a", "2024-01-01", 1.0), ("a", "2024-03-01", 1.0), ("b", "2024-04-01", 1.0)])
    s = summarize(log, "2024-01-31")
    assert s.attrs["rows_after_observation_end"] == 2


def test_the_users_frame_is_never_modified_by_any_option():
    log = _dirty()
    copy = log.copy()
    validate_transactions(
        log, **COLUMNS, on_invalid="drop_customer", currency=".", returns="net", duplicates="drop"
    )
    diagnose(log, **COLUMNS)
    pd.testing.assert_frame_equal(log, copy)


def test_netting_matches_the_latest_earlier_purchase_not_a_later_one():
    log = _log(
        [
            ("a", "2024-01-01", 10.0),
            ("a", "2024-01-05", 10.0),
            ("a", "2024-01-07", -4.0),  # matched to 2024-01-05
            ("a", "2024-01-09", 10.0),  # later: never touched
        ]
    )
    clean, _ = validate_transactions(log, returns="net")
    assert clean["amount"].tolist() == [10.0, 6.0, 10.0]
    many = _log([("a", "2024-01-01", 6.0), ("a", "2024-01-01", 4.0), ("a", "2024-01-02", -5.0)])
    clean, report = validate_transactions(many, returns="net")
    assert clean["amount"].tolist() == [3.0, 2.0]  # in proportion to each row
    assert report.purchases_reduced == 2
    over = _log([("a", "2024-01-01", 6.0), ("a", "2024-01-02", -8.0), ("b", "2024-01-01", 1.0)])
    clean, report = validate_transactions(over, returns="net")
    assert clean["customer_id"].tolist() == ["b"]
    assert report.unmatched_return_value == pytest.approx(2.0)
    assert report.customers_returned_whole == 1
