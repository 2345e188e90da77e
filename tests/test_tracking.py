"""The tracking plot: from a raw log or from a tracking table built elsewhere, the same figure."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import crmlab as cl
from crmlab._validate import InputError

VARIANTS = {
    "weeks": {},
    "per period": {"cumulative": False},
    "days": {"unit": "D"},
    "months": {"unit": "M"},
    "cut at observation_end": {"observation_end": "1998-01-15"},
    "shown after observation_end": {"observation_end": "1998-01-15", "show_after": True},
}


@pytest.fixture(scope="module")
def log():
    return cl.datasets.load_cdnow("sample")


@pytest.fixture(scope="module")
def model(log):
    return cl.models.BGNBD().fit(cl.transactions.summarize(log, "1997-09-30", unit="W"))


def _drawn(model, data, **options):
    fig, ax = plt.subplots()
    cl.plots.plot_tracking(model, data, "1997-09-30", ax=ax, **options)
    lines = [(line.get_label(), line.get_xydata().copy()) for line in ax.lines]
    texts = [(text.get_text(), text.get_position()) for text in ax.texts]
    plt.close(fig)
    return lines, texts


def _reference(model, log, unit, end=None):
    """The figure's arrays computed the slow, obvious way: per customer, per edge."""
    length = cl.transactions.unit_length_days(unit)
    days = pd.to_datetime(log["date"]).dt.normalize()
    frame = pd.DataFrame({"c": log["customer_id"], "day": days}).drop_duplicates()
    if end is not None:
        frame = frame[frame["day"] <= pd.Timestamp(end)]
    start = frame["day"].min()
    last = pd.Timestamp(end) if end is not None else frame["day"].max()
    first = frame.groupby("c")["day"].transform("min")
    n_periods = int((last - start).days // length) + 1
    period = ((frame.loc[frame["day"] > first, "day"] - start).dt.days // length).astype(int)
    observed = np.bincount(period, minlength=n_periods)
    offsets = (frame.groupby("c")["day"].min() - start).dt.days.to_numpy() / length
    edges = np.arange(1, n_periods + 1, dtype=float)
    expected = [model.expected_purchases(np.clip(e - offsets, 0, None)).sum() for e in edges]
    return edges, np.cumsum(observed), np.array(expected)


@pytest.mark.parametrize("unit", ["W", "D", "M"])
def test_the_curves_are_the_per_customer_computation(model, log, unit):
    (observed, expected, *_), _ = _drawn(model, log, unit=unit)
    edges, cumulative, reference = _reference(model, log, unit)
    np.testing.assert_array_equal(observed[1], np.column_stack([edges, cumulative]))
    np.testing.assert_allclose(expected[1][:, 1], reference, rtol=1e-12)
    end = "1998-01-15"
    (observed, expected, *_), _ = _drawn(model, log, unit=unit, observation_end=end)
    edges, cumulative, reference = _reference(model, log, unit, end)
    np.testing.assert_array_equal(observed[1][:, 1], cumulative)
    np.testing.assert_allclose(expected[1][:, 1], reference, rtol=1e-12)


@pytest.mark.parametrize("options", VARIANTS.values(), ids=VARIANTS.keys())
def test_a_tracking_table_draws_the_figure_of_its_log(model, log, options):
    from_log = _drawn(model, log, **options)
    from_table = _drawn(model, cl.plots.tracking_table(log), **options)
    assert [label for label, _ in from_log[0]] == [label for label, _ in from_table[0]]
    for (_, drawn_log), (_, drawn_table) in zip(from_log[0], from_table[0], strict=True):
        np.testing.assert_array_equal(drawn_log, drawn_table)
    assert from_log[1] == from_table[1]


def test_a_table_built_in_sql_draws_the_same_figure(model, log):
    """The query of tracking_table's docstring, run by DuckDB on the log, is a valid input."""
    import duckdb

    query = cl.plots.tracking_table.__doc__.split("::")[1].split("The whole log")[0]
    con = duckdb.connect()
    con.register("log", log[["customer_id", "date"]])
    table = con.execute(query).df()
    con.close()
    assert list(table.columns) == ["day", "new_customers", "repeat_transactions"]
    assert len(table) < len(cl.plots.tracking_table(log))  # days without activity left out
    for options in ({}, {"unit": "D", "observation_end": "1998-01-15", "show_after": True}):
        from_log, from_sql = _drawn(model, log, **options), _drawn(model, table, **options)
        for (_, drawn_log), (_, drawn_sql) in zip(from_log[0], from_sql[0], strict=True):
            np.testing.assert_array_equal(drawn_log, drawn_sql)


def test_the_table_counts_what_the_summary_counts(log):
    table = cl.plots.tracking_table(log)
    summary = cl.transactions.summarize(log, log["date"].max(), unit="D")
    assert table["new_customers"].sum() == len(summary)
    assert table["repeat_transactions"].sum() == summary["x"].sum()
    assert table["day"].iloc[0] == pd.Timestamp(log["date"].min()).normalize()
    weekly = cl.plots.repeat_transactions_by_period(table)
    pd.testing.assert_series_equal(weekly, cl.plots.repeat_transactions_by_period(log))


def test_a_customer_buying_twice_a_day_counts_once():
    log = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b"],
            "date": ["2024-01-01 09:00", "2024-01-05 10:00", "2024-01-05 18:00", "2024-01-05"],
        }
    )
    table = cl.plots.tracking_table(log)
    assert table["new_customers"].tolist() == [1, 0, 0, 0, 1]
    assert table["repeat_transactions"].tolist() == [0, 0, 0, 0, 1]


def test_bad_tables_are_refused_with_every_problem_named():
    table = pd.DataFrame(
        {
            "day": ["2024-01-01", "2024-01-02", "2024-01-02", "not a day"],
            "new_customers": [3, 1.5, 0, 2],
            "repeat_transactions": [0, 1, -1, 0],
        }
    )
    model = cl.models.BGNBD().set_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    with pytest.raises(InputError) as error:
        cl.plots.plot_tracking(model, table, "2024-01-02")
    message = str(error.value)
    assert "column 'day': 1 value(s) are missing or not dates: row 3: 'not a day'" in message
    assert "column 'day': 2 row(s) repeat a day: row 1: '2024-01-02'" in message
    assert "column 'new_customers': 1 value(s) are not counts" in message
    assert (
        "column 'repeat_transactions': 1 value(s) are not counts (whole numbers >= 0): row 2"
        in (message)
    )
    assert len(error.value.problems) == 4
    early = pd.DataFrame(
        {
            "day": ["2024-01-01", "2024-01-02"],
            "new_customers": [0, 4],
            "repeat_transactions": [2, 0],
        }
    )
    with pytest.raises(
        InputError, match=r"1 day\(s\) with repeat transactions before any customer"
    ):
        cl.plots.plot_tracking(model, early, "2024-01-02")
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['repeat_transactions'\]"):
        cl.plots.plot_tracking(model, table.drop(columns="repeat_transactions"), "2024-01-02")


def test_a_log_with_missing_dates_or_ids_is_refused_by_name():
    log = pd.DataFrame(
        {"customer_id": [1.0, np.nan, 2.0], "date": ["2024-01-01", "2024-01-02", None]}
    )
    with pytest.raises(InputError) as error:
        cl.plots.tracking_table(log)
    message = str(error.value)
    assert "column 'date': 1 value(s) are missing or not dates: row 2" in message
    assert "column 'customer_id': 1 missing customer id(s): row 1" in message


def test_the_summary_plots_take_a_collected_summary_and_name_what_is_missing(model, log):
    """plot_frequency_fit / plot_conditional_expectations need no log: a summary from any engine."""
    summary = cl.transactions.summarize(log, "1997-09-30", unit="W")
    fig, ax = plt.subplots()
    cl.plots.plot_frequency_fit(model, summary, ax=ax)
    heights = [patch.get_height() for patch in ax.patches][:16]
    plt.close(fig)
    T = summary["T"].to_numpy()
    expected = [model.probability_of_purchases(n, T).sum() for n in range(7)]
    expected.append(len(summary) - sum(expected))
    observed = np.bincount(np.minimum(summary["x"], 7).astype(int), minlength=8)
    np.testing.assert_allclose(heights, np.r_[observed, expected], rtol=1e-12)
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['T'\].*summarize"):
        cl.plots.plot_frequency_fit(model, summary.drop(columns="T"))
    holdout = cl.transactions.calibration_holdout(log, "1997-09-30", "1998-06-30", unit="W")
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['x_holdout'\].*calibration_holdout"):
        cl.plots.plot_conditional_expectations(model, holdout.drop(columns="x_holdout"))
    with pytest.raises(TypeError, match="collect a Spark or DuckDB summary"):
        cl.plots.plot_conditional_expectations(model, holdout.to_dict())


def test_an_observation_end_before_the_log_is_refused(model, log):
    with pytest.raises(
        ValueError, match=r"observation_end=1996-12-31 is before the first purchase"
    ):
        cl.plots.plot_tracking(model, log, "1997-09-30", observation_end="1996-12-31")
