"""Issue 10: real, dirty logs. Every problem reported at once, nothing lost, choices visible.

Each test names the point of the issue it covers (1-10).
"""

from __future__ import annotations

import os

import numpy as np
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


def test_point9_a_validated_copy_can_keep_the_time_of_day_for_merge_none():
    log = _log([("a", "2024-01-01 09:00", 1.0), ("a", "2024-01-01 17:00", 2.0)])
    day_only, _ = validate_transactions(log)
    with_time, _ = validate_transactions(log, keep_time=True)
    assert day_only["date"].dt.hour.tolist() == [0, 0]
    assert with_time["date"].dt.hour.tolist() == [9, 17]
    s = summarize(with_time, "2024-01-31", unit="D", merge="none")
    assert s.loc["a", "x"] == 1 and s.loc["a", "t_x"] == pytest.approx(8 / 24)


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
    later = diagnose(log, observation_end="2024-01-31").problems
    assert [p.count for p in later] == [2] and not later[0].blocking
    assert "after observation_end" in later[0].what and "row 1" in later[0].rows
    assert diagnose(log).problems == []


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


# ----- 2. Gamma-Gamma and zero spend: one behaviour in validation, summary and model ---
def _zero_spend_log():
    return _log(
        [
            ("a", "2024-01-01", 10.0),
            ("a", "2024-01-08", 0.0),  # a's only repeat purchase was free
            ("b", "2024-01-02", 5.0),
            ("b", "2024-01-09", 7.0),
            ("b", "2024-01-20", 9.0),
            ("c", "2024-01-03", 6.0),
            ("c", "2024-01-10", 12.0),
            ("d", "2024-01-04", 8.0),
            ("d", "2024-01-05", 3.0),
            ("d", "2024-01-30", 4.0),
        ]
    )


def test_point2_zero_spend_buyers_are_set_aside_by_gamma_gamma_and_counted_everywhere(
    cdnow_calibration,
):
    log = _zero_spend_log()
    _, report = validate_transactions(log)
    assert report.zero_amounts == 1 and "Gamma-Gamma" in str(report)
    s = summarize(log, "2024-02-29", unit="W")
    assert s.attrs["zero_spend_customers"] == 1
    # The old code raised here; now she is set aside, counted and named.
    with_her = pd.concat([cdnow_calibration, s.loc[["a"]]])
    with pytest.warns(cl.models.ZeroSpendWarning, match=r"1 repeat buyer.*set aside.*row 'a'"):
        gg = cl.models.GammaGamma().fit(with_her)
    assert gg.n_set_aside == 1 and gg.set_aside == ["a"]
    # The same fit as without her: she is set aside, not half-used.
    reference = cl.models.GammaGamma().fit(cdnow_calibration)
    for name, value in reference.params.items():
        assert gg.params[name] == pytest.approx(value, rel=1e-9)
    # Her expected spend is still predicted, shrunk towards the population mean.
    assert 0 < gg.conditional_expected_spend(1, 0.0) < gg.mean_spend()


def test_point2_negative_spend_is_still_refused():
    with pytest.raises(ValueError, match=r"'monetary' must be positive.*row 'a'"):
        cl.models.GammaGamma().fit(
            pd.DataFrame({"x": [1, 2], "monetary": [-1.0, 3.0]}, index=["a", "b"])
        )


# ----- 4. the models say which columns they ignore ----------------------------------
def test_point4_extra_columns_are_named_in_a_warning(cdnow_calibration):
    with_channel = cdnow_calibration.assign(channel="paid")
    with pytest.warns(
        cl.models.IgnoredColumnsWarning,
        match=r"ignores column\(s\) 'channel'.*purchase_covariates=, dropout_covariates=",
    ):
        cl.models.BGNBD().fit(with_channel)
    with pytest.warns(cl.models.IgnoredColumnsWarning, match="'channel'"):
        cl.models.GammaGamma().fit(with_channel)


def test_point4_crmlabs_own_summary_columns_do_not_warn(cdnow_calibration):
    import warnings

    holdout = calibration_holdout(
        cl.datasets.load_cdnow("sample"), "1997-09-30", "1998-06-30", unit="W"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", cl.models.IgnoredColumnsWarning)
        cl.models.BGNBD().fit(holdout)
        cl.models.ParetoNBD().fit(cdnow_calibration)
        cl.models.BGBB().fit(cl.datasets.load_donations())


# ----- 5. the tracking plot stops at the observation end --------------------------------
def _last_x(ax):
    """Largest x of the curves (not of the vertical marker lines)."""
    curves = [np.asarray(line.get_xdata(), float) for line in ax.get_lines()]
    return max(float(x.max()) for x in curves if len(x) > 2)


def test_point5_tracking_stops_at_observation_end_or_marks_what_follows(cdnow_calibration):
    import matplotlib.pyplot as plt

    tx = cl.datasets.load_cdnow("sample")  # runs to 1998-06-30
    model = cl.models.BGNBD().fit(cdnow_calibration)
    end = "1998-03-31"
    last_week = (pd.Timestamp(end) - tx["date"].min()).days / 7 + 1
    ax = cl.plots.plot_tracking(model, tx, "1997-09-30", observation_end=end)
    assert (
        max(float(line.get_xdata().max()) for line in ax.get_lines() if len(line.get_xdata()) > 2)
        <= last_week
    )
    plt.close(ax.figure)
    ax = cl.plots.plot_tracking(model, tx, "1997-09-30", observation_end=end, show_after=True)
    labels = [line.get_label() for line in ax.get_lines()]
    assert "observed after observation_end" in labels
    assert any("after\nobservation_end" in text.get_text() for text in ax.texts)
    plt.close(ax.figure)
    # Without observation_end the plot runs to the end of the log, as before.
    ax = cl.plots.plot_tracking(model, tx, "1997-09-30")
    assert _last_x(ax) == 78
    plt.close(ax.figure)
    counts = cl.plots.repeat_transactions_by_period(tx, observation_end=end)
    direct = tx[tx["date"] <= end]
    assert len(counts) == int(last_week)
    assert counts.sum() == cl.plots.repeat_transactions_by_period(direct).sum()


# ----- 10. units travel with the model ------------------------------------------------
@pytest.fixture(scope="module")
def weekly_and_monthly():
    tx = cl.datasets.load_cdnow("sample")
    weeks = summarize(tx, "1997-09-30", unit="W")
    months = summarize(tx, "1997-09-30", unit="M")
    return weeks, months, cl.models.BGNBD().fit(weeks), cl.models.BGNBD().fit(months)


def test_point10_a_fitted_model_keeps_and_shows_its_unit(weekly_and_monthly):
    _, _, in_weeks, in_months = weekly_and_monthly
    assert in_weeks.unit == "W" and in_months.unit == "M"
    table = in_weeks.summary()
    assert table.attrs["unit"] == "W" and "time unit: W" in str(table)
    assert "unit='M'" in repr(in_months)
    assert cl.models.BGNBD().set_params(r=1, alpha=1, a=1, b=1).unit is None


def test_point10_horizons_with_units_mean_the_same_time_whatever_the_data(weekly_and_monthly):
    weeks, months, in_weeks, in_months = weekly_and_monthly
    row = weeks.loc[1]
    as_weeks = in_weeks.conditional_expected_purchases("1Y", row["x"], row["t_x"], row["T"])
    plain = in_weeks.conditional_expected_purchases(365.25 / 7, row["x"], row["t_x"], row["T"])
    assert as_weeks == pytest.approx(plain, rel=1e-12)
    mrow = months.loc[1]
    as_months = in_months.conditional_expected_purchases(
        (12, "M"), mrow["x"], mrow["t_x"], mrow["T"]
    )
    # The same year forecast from a weekly and a monthly fit (alpha scales with the unit).
    assert as_months == pytest.approx(as_weeks, rel=1e-4)
    # The trap the issue describes: a plain 52 means 52 months on the monthly fit.
    wrong = in_months.conditional_expected_purchases(52, mrow["x"], mrow["t_x"], mrow["T"])
    assert wrong > 2 * as_weeks
    gg = cl.models.GammaGamma().fit(weeks)
    clv_w = cl.targeting.expected_customer_value(
        in_weeks, gg, weeks, horizon="1Y", period_length="M", discount=(0.1, "Y")
    )
    clv_m = cl.targeting.expected_customer_value(
        in_months, gg, months, horizon="1Y", period_length="M", discount=(0.1, "Y")
    )
    assert clv_w.sum() == pytest.approx(clv_m.sum(), rel=1e-4)
    assert clv_w.attrs["unit"] == "W"


def test_point10_mixing_units_is_an_error(weekly_and_monthly):
    weeks, months, in_weeks, _ = weekly_and_monthly
    gg = cl.models.GammaGamma().fit(weeks)
    with pytest.raises(
        ValueError, match=r"in unit 'M' but BGNBD was fitted in 'W'.*never rescales"
    ):
        cl.targeting.expected_customer_value(in_weeks, gg, months, horizon=12)
    with pytest.raises(ValueError, match=r"in unit 'M' but BGNBD was fitted in 'W'"):
        in_weeks.log_likelihood(months)
    unknown = cl.models.BGNBD().set_params(**in_weeks.params)
    with pytest.raises(ValueError, match="does not know the time unit"):
        unknown.expected_purchases("1Y")
    with pytest.raises(ValueError, match="not a duration"):
        in_weeks.expected_purchases("a year")


def test_point10_one_documented_month_length():
    from crmlab._units import UNITS, to_unit

    assert UNITS["M"] == 365.25 / 12 and UNITS["Y"] == 365.25
    assert to_unit("1M", "W") == pytest.approx(4.348, abs=1e-3)
    assert to_unit("12M", "Y") == pytest.approx(1.0)
    assert cl.transactions.UNITS is UNITS
    import crmlab._units as units_module

    assert "4.345" in units_module.__doc__  # the peer's month, named so users can compare


# ----- one message format (issue 16) ----------------------------------------------------
@pytest.mark.parametrize(
    "call",
    [
        lambda: validate_transactions(_log([("a", "not a date", 1.0)])),
        lambda: cl.models.BGNBD().fit(pd.DataFrame({"x": [1, -1], "t_x": [2, 0], "T": [5, 5]})),
        lambda: cl.clv.simple_clv(100, [0.5, 1.5], 0.1),
        lambda: (
            cl.models.BGNBD()
            .set_params(r=0.2, alpha=4, a=0.8, b=2.4)
            .conditional_expected_purchases(-1, 1, 2, 5)
        ),
        lambda: cl.simulate.simulate_firms(horizon=0),
        lambda: cl.models.ShiftedBetaGeometric().set_params(alpha=1, beta=1).survival(-1),
        lambda: (
            cl.models.ParetoNBD()
            .set_params(r=0.5, alpha=10, s=0.6, beta=11)
            .expected_purchases([1.0, -2.0])
        ),
        lambda: (
            cl.models.GammaGamma()
            .set_params(p=6, q=4, gamma=15)
            .conditional_expected_spend([1, -1], [2.0, 3.0])
        ),
        lambda: (
            cl.models.BGBB()
            .set_params(alpha=1, beta=1, gamma=1, delta=1)
            .probability_of_purchases(1, -1)
        ),
        lambda: cl.targeting.plan_campaign([1.0, -2.0], budget=1, cost_per_customer=1, uplift=0.1),
        lambda: cl.clv.derl(3.8, 15.2, -0.1, 1),
        lambda: summarize(_log([("a", "2024-01-01", "$5")]), "2024-01-31"),
    ],
)
def test_errors_follow_the_one_message_format(call):
    import re

    with pytest.raises(ValueError) as caught:
        call()
    lines = [line.strip() for line in str(caught.value).splitlines()]
    problems = [re.sub(r"^\d+\. ", "", line) for line in lines if re.match(r"\d+\. ", line)]
    for line in problems or lines[:1]:
        # <where>: <count> <problem>: <first rows or values>
        assert re.match(r"^[^:]+: [\d,]+ [^:]+: \S", line), line


# ----- the duplicate finder agrees with pandas ---------------------------------------
@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 3), st.sampled_from([0.0, -0.0, 1.5, 2.0])),
        min_size=1,
        max_size=30,
    )
)
def test_duplicate_mask_equals_pandas(rows):
    from crmlab._cleaning import _duplicate_mask

    codes, times, amounts = (np.array(column) for column in zip(*rows, strict=True))
    ours = _duplicate_mask(codes.astype(np.int64), times.astype(np.int64), amounts.astype(float))
    theirs = pd.DataFrame({"c": codes, "t": times, "a": amounts + 0.0}).duplicated().to_numpy()
    assert ours.tolist() == theirs.tolist()


# ----- the researcher's scenario: 1 M dirty rows, known parameters ---------------------
DIRTY_COLUMNS = {"customer_col": "client", "date_col": "order_ts", "amount_col": "revenue"}
CLEANING = {"on_invalid": "drop", "currency": ".", "returns": "net", "duplicates": "drop"}


# 20,000 customers (about 208,000 rows) by default, so that the suite stays quick on a
# shared machine; CRMLAB_DIRTY_LOG_FULL=1 runs the researcher's 100,000 (1.04 M rows).
FULL = os.environ.get("CRMLAB_DIRTY_LOG_FULL") == "1"
N_CUSTOMERS = 100_000 if FULL else 20_000


@pytest.fixture(scope="module")
def researchers_log():
    from dirty_log import make_dirty_log

    return make_dirty_log(N_CUSTOMERS, seed=2026)


def test_the_dirty_log_is_reported_in_full(researchers_log):
    dirty = researchers_log
    report = diagnose(dirty.log, **DIRTY_COLUMNS)
    assert [p.handled_by for p in report.blocking] == [
        "on_invalid",
        "on_invalid",
        "currency",
        "returns",
    ]
    by_what = {p.what.split(" (")[0]: p.count for p in report.problems}
    assert by_what["value(s) are missing customer ids"] == dirty.dirt["missing_client"]
    assert by_what["value(s) are not dates"] == dirty.dirt["bad_date"]
    assert by_what["value(s) are currency strings"] == dirty.dirt["dollar_strings"]
    assert by_what["negative amount(s)"] == dirty.dirt["returns"]
    assert by_what["zero amount(s), kept as purchases"] == dirty.dirt["zero_revenue"]
    duplicates = [p for p in report.problems if p.handled_by == "duplicates"]
    assert duplicates[0].count == dirty.dirt["duplicates"]


@pytest.fixture(scope="module")
def fits_by_merge(researchers_log):
    dirty = researchers_log
    fits = {}
    for merge in ("none", "day"):
        s = summarize(
            dirty.log, dirty.observation_end, unit="W", merge=merge, **CLEANING, **DIRTY_COLUMNS
        )
        fits[merge] = (s, cl.models.BGNBD().fit(s))
    return fits


@pytest.mark.parametrize("merge", ["none", "day"])
def test_the_cleaned_dirty_log_loses_nothing_and_says_what_it_did(
    researchers_log, fits_by_merge, merge
):
    dirty = researchers_log
    s, _ = fits_by_merge[merge]
    assert len(s) == N_CUSTOMERS  # every customer is there
    cleaning = s.attrs["cleaning"]
    assert s.attrs["merge"] == merge
    assert cleaning["duplicates_dropped"] == dirty.dirt["duplicates"]
    assert cleaning["returns_netted"] + cleaning["returns_unmatched"] == dirty.dirt["returns"]
    assert cleaning["currency_parsed"] == dirty.dirt["dollar_strings"]
    assert (
        sum(cleaning["dropped"].values()) == dirty.dirt["missing_client"] + dirty.dirt["bad_date"]
    )
    assert s.attrs["rows_after_observation_end"] > 0


def test_bgnbd_recovers_the_true_parameters_with_merge_none(researchers_log, fits_by_merge):
    dirty = researchers_log
    _, model = fits_by_merge["none"]
    # Four intervals at once: each at 1 - 0.05 / 4 (Bonferroni) covers all four truths
    # with probability >= 95 %. On the full log each 95 % interval covers its truth.
    level = 0.95 if FULL else 1 - 0.05 / 4
    intervals = model.confidence_intervals(level)
    for name in ("r", "alpha", "a", "b"):
        low, high = intervals.loc[name, "lower"], intervals.loc[name, "upper"]
        assert low <= dirty.truth[name] <= high, (name, model.summary(level))


def test_same_day_merging_biases_the_purchase_rate_down(researchers_log, fits_by_merge):
    # On the same data, merging a customer's purchases of one day loses repeat purchases
    # (customers here do buy twice a day), so the mean rate r / alpha falls (the
    # researcher's 0.1456 against a true 0.15).
    (every, by_every), (daily, by_day) = fits_by_merge["none"], fits_by_merge["day"]
    assert daily["x"].sum() < 0.99 * every["x"].sum()
    rate = {m: f.params["r"] / f.params["alpha"] for m, f in (("none", by_every), ("day", by_day))}
    assert rate["day"] < 0.985 * rate["none"]
    assert rate["none"] == pytest.approx(0.9 / 6.0, rel=0.03)
    if FULL:
        intervals = by_day.confidence_intervals(0.95)
        assert not intervals.loc["alpha", "lower"] <= 6.0 <= intervals.loc["alpha", "upper"]
