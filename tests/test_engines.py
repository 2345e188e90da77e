"""Every summary engine gives the same answer: the in-memory engine against DuckDB.

The DuckDB engine reads Parquet and CSV files, DuckDB relations and Polars frames;
its x, t_x and T must equal the in-memory engine's to 1e-9 and its monetary value to
1e-9 relative, with the same ``attrs`` (but the engine's name), on CDNOW and on
generated logs with the oddities real logs have.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from engine_checks import assert_same_report, assert_same_summary, odd_log
from hypothesis import given, settings
from hypothesis import strategies as st

import crmlab as cl

duckdb = pytest.importorskip("duckdb")


@pytest.fixture(scope="module")
def cdnow_parquet(tmp_path_factory):
    path = tmp_path_factory.mktemp("cdnow") / "cdnow.parquet"
    cl.datasets.load_cdnow("sample").to_parquet(path)
    return path


def test_duckdb_on_parquet_reproduces_the_cdnow_summary(cdnow_parquet, cdnow_calibration):
    s = cl.transactions.summarize(str(cdnow_parquet), observation_end="1997-09-30", unit="W")
    assert s.attrs["engine"] == "duckdb" and cdnow_calibration.attrs["engine"] == "memory"
    assert_same_summary(s, cdnow_calibration)
    assert s.loc[1, ["x", "t_x", "T"]].round(2).tolist() == [2.0, 30.43, 38.86]


def test_duckdb_calibration_holdout_equals_memory_on_cdnow(cdnow_parquet):
    tx = cl.datasets.load_cdnow("sample")
    ours = cl.transactions.calibration_holdout(
        tx, "1997-09-30", "1998-06-30", unit="W", engine="duckdb"
    )
    theirs = cl.transactions.calibration_holdout(tx, "1997-09-30", "1998-06-30", unit="W")
    assert_same_summary(ours, theirs)
    assert int(ours["x_holdout"].sum()) == 1882
    from_file = cl.transactions.calibration_holdout(
        cdnow_parquet, "1997-09-30", "1998-06-30", unit="W"
    )
    assert_same_summary(from_file, theirs)


@pytest.mark.parametrize("merge", ["day", "none", "W", "M"])
@pytest.mark.parametrize("duplicates", ["keep", "drop"])
def test_duckdb_equals_memory_on_an_odd_log(tmp_path, merge, duplicates):
    log = odd_log()
    path = tmp_path / "log.parquet"
    log.to_parquet(path)
    options = {"merge": merge, "duplicates": duplicates, "unit": "D"}
    memory = cl.transactions.summarize(log, "2024-12-31", **options)
    assert_same_summary(cl.transactions.summarize(path, "2024-12-31", **options), memory)
    assert memory.attrs["rows_after_observation_end"] > 0
    memory_ch = cl.transactions.calibration_holdout(log, "2024-09-30", "2024-12-31", **options)
    duck_ch = cl.transactions.calibration_holdout(path, "2024-09-30", "2024-12-31", **options)
    assert_same_summary(duck_ch, memory_ch)


def test_duckdb_reads_csv_globs_relations_and_polars(tmp_path):
    log = odd_log(seed=3, customers=100)
    memory = cl.transactions.summarize(log, "2024-12-31", unit="W")
    halves = np.array_split(np.arange(len(log)), 2)
    for number, rows in enumerate(halves):
        log.iloc[rows].to_csv(tmp_path / f"part{number}.csv", index=False)
    assert_same_summary(cl.transactions.summarize(str(tmp_path / "*.csv"), "2024-12-31"), memory)
    relation = duckdb.from_df(log)
    assert_same_summary(cl.transactions.summarize(relation, "2024-12-31"), memory)
    polars = pytest.importorskip("polars")
    assert_same_summary(cl.transactions.summarize(polars.from_pandas(log), "2024-12-31"), memory)


def test_duckdb_reports_the_same_named_errors(tmp_path):
    log = pd.DataFrame(
        {
            "customer_id": [1, None, 2, 3, 3],
            "date": ["2024-01-02", "2024-01-03", "2024-02-30", "2024-03-01", "2024-03-02"],
            "amount": [5.0, 6.0, 7.0, -2.0, 3.0],
        }
    )
    path = tmp_path / "bad.parquet"
    log.to_parquet(path)
    with pytest.raises(ValueError) as raised:
        cl.transactions.summarize(path, "2024-12-31")
    message = str(raised.value)
    for expected in (
        "column 'customer_id': 1 value(s) are missing customer ids: row 1",
        "column 'date': 1 value(s) are not dates: row 2: '2024-02-30'",
        "column 'amount': 1 negative amount(s) (returns?): row 3: -2.0",
        "on_invalid='drop'",
        "returns='drop'",
    ):
        assert expected in message, message
    with pytest.raises(ValueError) as memory:
        cl.transactions.summarize(log, "2024-12-31")
    assert "missing customer ids" in str(memory.value) and "not dates" in str(memory.value)
    cleaned = cl.transactions.summarize(path, "2024-12-31", on_invalid="drop", returns="drop")
    assert cleaned.index.tolist() == [1, 3]
    assert cleaned.attrs["cleaning"]["dropped"] == {
        "missing customer id in 'customer_id'": 1,
        "unparseable date in 'date'": 1,
    }


def test_duckdb_refuses_bad_options_and_says_what_to_do_instead(tmp_path):
    path = tmp_path / "log.parquet"
    odd_log(customers=20).to_parquet(path)
    with pytest.raises(ValueError, match="returns must be one of"):
        cl.transactions.summarize(path, "2024-12-31", returns="netted")
    with pytest.raises(ValueError, match="missing column"):
        cl.transactions.summarize(path, "2024-12-31", customer_col="client")
    with pytest.raises(ValueError, match="engine='memory' needs a pandas DataFrame"):
        cl.transactions.summarize(path, "2024-12-31", engine="memory")
    with pytest.raises(ValueError, match="no file matches"):
        cl.transactions.summarize(str(tmp_path / "nothing*.parquet"), "2024-12-31")


def test_duckdb_spills_under_a_small_memory_limit(tmp_path):
    log = odd_log(seed=11, customers=2_000)
    path = tmp_path / "log.parquet"
    log.to_parquet(path)
    tight = cl.transactions.summarize(path, "2024-12-31", memory_limit="64MB")
    assert_same_summary(tight, cl.transactions.summarize(log, "2024-12-31"))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 6),  # customer
            st.integers(0, 60 * 24 * 3),  # minutes since the start
            st.sampled_from([0.0, 1.5, 10.0, 99.99]),
        ),
        min_size=1,
        max_size=40,
    ),
    st.sampled_from(["day", "none", "W", "M"]),
)
def test_every_engine_gives_the_same_summary_of_any_log(rows, merge):
    ids, minutes, amounts = zip(*rows, strict=True)
    log = pd.DataFrame(
        {
            "customer_id": list(ids),
            "date": np.datetime64("2024-03-01T00:00") + np.array(minutes).astype("timedelta64[m]"),
            "amount": list(amounts),
        }
    )
    memory = cl.transactions.summarize(log, "2024-03-02", unit="D", merge=merge)
    duck = cl.transactions.summarize(log, "2024-03-02", unit="D", merge=merge, engine="duckdb")
    assert_same_summary(duck, memory)


def test_duckdb_summarises_a_log_without_amounts(cdnow_parquet):
    tx = cl.datasets.load_cdnow("sample")
    memory = cl.transactions.summarize(tx, "1997-09-30", amount_col=None)
    duck = cl.transactions.summarize(cdnow_parquet, "1997-09-30", amount_col=None)
    assert "monetary" not in duck.columns and len(duck) == 2357
    assert_same_summary(duck, memory)


MERGES = ["day", "none", "W", "M", "Q", "Y"]


@pytest.mark.parametrize("merge", MERGES)
@pytest.mark.parametrize("duplicates", ["keep", "drop"])
def test_duckdb_partitioned_passes_equal_the_one_pass_query(tmp_path, merge, duplicates):
    log = odd_log(seed=5, customers=300)
    path = tmp_path / "log.parquet"
    log.to_parquet(path)
    options = {"merge": merge, "duplicates": duplicates, "unit": "D"}
    one = cl.transactions.summarize(path, "2024-12-31", partitions=1, **options)
    split = cl.transactions.summarize(path, "2024-12-31", partitions=4, **options)
    assert_same_summary(split, one)
    # and both equal the in-memory engine, report included (none without cleaning)
    memory = cl.transactions.summarize(log, "2024-12-31", **options)
    assert_same_summary(split, memory)
    assert split.attrs["cleaning"] == one.attrs["cleaning"] == memory.attrs["cleaning"]
    if duplicates == "drop":
        assert one.attrs["cleaning"]["duplicates_dropped"] > 0
    one_ch = cl.transactions.calibration_holdout(
        path, "2024-09-30", "2024-12-31", partitions=1, **options
    )
    split_ch = cl.transactions.calibration_holdout(
        path, "2024-09-30", "2024-12-31", partitions=3, **options
    )
    assert_same_summary(split_ch, one_ch)
    assert split_ch.attrs["cleaning"] == one_ch.attrs["cleaning"] == memory.attrs["cleaning"]


@pytest.fixture(scope="module")
def dirty(tmp_path_factory):
    from dirty_log import make_dirty_log

    made = make_dirty_log(2_000, seed=11)
    path = tmp_path_factory.mktemp("dirty") / "dirty.parquet"
    made.log.to_parquet(path)
    return made, path


DIRTY_NAMES = {"customer_col": "client", "date_col": "order_ts", "amount_col": "revenue"}


def _problem_lines(error: pytest.ExceptionInfo) -> list[str]:
    # The in-memory header also points to diagnose(), which takes pandas frames only.
    return str(error.value).splitlines()[1:]


def test_duckdb_names_a_dirty_logs_problems_as_memory_does(dirty):
    made, path = dirty
    with pytest.raises(ValueError) as memory:
        cl.transactions.summarize(made.log, made.observation_end, **DIRTY_NAMES)
    for partitions in (1, 5):
        with pytest.raises(ValueError) as duck:
            cl.transactions.summarize(
                path, made.observation_end, partitions=partitions, **DIRTY_NAMES
            )
        assert _problem_lines(duck) == _problem_lines(memory)
    assert any("currency strings" in line for line in _problem_lines(memory))


@pytest.mark.parametrize("on_invalid", ["drop", "drop_customer"])
@pytest.mark.parametrize("currency", [None, "."])
@pytest.mark.parametrize("duplicates", ["keep", "drop"])
def test_duckdb_cleans_a_dirty_log_as_memory_does(dirty, on_invalid, currency, duplicates):
    made, path = dirty
    options = {
        **DIRTY_NAMES,
        "on_invalid": on_invalid,
        "currency": currency,
        "returns": "drop",
        "duplicates": duplicates,
    }
    memory = cl.transactions.summarize(made.log, made.observation_end, **options)
    report = memory.attrs["cleaning"]
    assert report["exact_duplicates"] > 0 and report["returns_dropped"] > 0
    assert report["currency_parsed" if currency else "dropped"]
    if on_invalid == "drop_customer":
        assert report["customers_dropped"] > 0
    for partitions in (1, 5):
        duck = cl.transactions.summarize(
            path, made.observation_end, partitions=partitions, **options
        )
        assert_same_summary(duck, memory)
        assert duck.attrs["cleaning"] == report
    holdout = cl.transactions.calibration_holdout(
        made.log, "2023-06-30", made.observation_end, **options
    )
    duck = cl.transactions.calibration_holdout(
        path, "2023-06-30", made.observation_end, partitions=3, **options
    )
    assert_same_summary(duck, holdout)
    assert duck.attrs["cleaning"] == holdout.attrs["cleaning"]


def test_duckdb_chooses_partitions_from_the_memory_limit_and_removes_its_files(
    tmp_path, monkeypatch
):
    from crmlab import _duckdb_engine

    assert _duckdb_engine.partition_count(10**9, 10 * 10**9) > 1
    assert _duckdb_engine.partition_count(10**5, 10**9) == 1
    log = odd_log(seed=2, customers=500)
    path = tmp_path / "log.parquet"
    log.to_parquet(path)
    used = []
    passes = _duckdb_engine._passes

    def counted(con, valid, kept, distinct, partitions):
        used.append(partitions)
        yield from passes(con, valid, kept, distinct, partitions)

    monkeypatch.setattr(_duckdb_engine, "_passes", counted)
    monkeypatch.setattr(_duckdb_engine, "BYTES_PER_ROW", 10_000)  # a log "bigger" than memory
    spill = tmp_path / "spill"
    tight = cl.transactions.summarize(path, "2024-12-31", memory_limit="20MB", temp_directory=spill)
    expected = _duckdb_engine.partition_count(len(log), 20 * 10**6)
    assert used == [expected] and expected > 1
    assert_same_summary(tight, cl.transactions.summarize(log, "2024-12-31"))
    assert spill.is_dir() and not list(spill.glob("crmlab-partitions-*"))


def test_duckdb_only_settings_are_refused_elsewhere(tmp_path):
    log = odd_log(customers=20)
    with pytest.raises(ValueError, match="temp_directory set"):
        cl.transactions.summarize(log, "2024-12-31", temp_directory=tmp_path)
    with pytest.raises(ValueError, match="memory_limit, partitions set"):
        cl.transactions.calibration_holdout(
            log, "2024-09-30", "2024-12-31", memory_limit="1GB", partitions=2
        )
    with pytest.raises(ValueError, match="partitions must be a whole number"):
        cl.transactions.summarize(log, "2024-12-31", engine="duckdb", partitions=0)


def assert_same_cohorts(ours: pd.DataFrame, theirs: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(ours, theirs, check_exact=False, rtol=1e-9)
    for name in ("period", "on_invalid", "returns", "duplicates", "currency"):
        assert ours.attrs[name] == theirs.attrs[name], name


@pytest.mark.parametrize("period", ["M", "Q", "W", "Y"])
def test_duckdb_cohort_table_equals_memory_on_cdnow(tmp_path, period):
    tx = cl.datasets.load_cdnow("master")
    path = tmp_path / "master.parquet"
    tx.to_parquet(path)
    memory = cl.transactions.cohort_table(tx, period=period)
    duck = cl.transactions.cohort_table(path, period=period, partitions=3)
    assert duck.attrs["engine"] == "duckdb" and memory.attrs["engine"] == "memory"
    assert_same_cohorts(duck, memory)


@pytest.mark.parametrize("duplicates", ["keep", "drop"])
def test_duckdb_cohort_table_equals_memory_on_an_odd_log(tmp_path, duplicates):
    log = odd_log(seed=9)
    path = tmp_path / "log.parquet"
    log.to_parquet(path)
    for end in (None, "2024-10-15"):
        options = {"duplicates": duplicates, "observation_end": end}
        memory = cl.transactions.cohort_table(log, period="W", **options)
        assert_same_cohorts(cl.transactions.cohort_table(path, period="W", **options), memory)
    assert (memory["active"] == 0).any()  # the grid keeps empty periods


@pytest.mark.parametrize("duplicates", ["keep", "drop"])
@pytest.mark.parametrize("merge", ["day", "none", "W"])
def test_duckdb_nets_returns_as_memory_does(tmp_path, duplicates, merge):
    from engine_checks import returns_log

    log = returns_log()
    path = tmp_path / "returns.parquet"
    log.to_parquet(path)
    options = {"returns": "net", "duplicates": duplicates, "merge": merge, "unit": "D"}
    memory = cl.transactions.summarize(log, "2024-12-31", **options)
    report = memory.attrs["cleaning"]
    for kind in ("returns_netted", "returns_unmatched", "purchases_cancelled"):
        assert report[kind] > 0, kind
    assert report["purchases_reduced"] > 0 and report["unmatched_return_value"] > 0
    assert report["customers_returned_whole"] > 0
    for partitions in (1, 4):
        duck = cl.transactions.summarize(path, "2024-12-31", partitions=partitions, **options)
        assert_same_summary(duck, memory)
        assert_same_report(duck.attrs["cleaning"], report)
    ch = cl.transactions.calibration_holdout(log, "2024-09-30", "2024-12-31", **options)
    duck_ch = cl.transactions.calibration_holdout(
        path, "2024-09-30", "2024-12-31", partitions=3, **options
    )
    assert_same_summary(duck_ch, ch)
    assert_same_report(duck_ch.attrs["cleaning"], ch.attrs["cleaning"])
    cohorts = cl.transactions.cohort_table(log, period="M", returns="net", duplicates=duplicates)
    duck_cohorts = cl.transactions.cohort_table(
        path, period="M", returns="net", duplicates=duplicates, partitions=2
    )
    pd.testing.assert_frame_equal(duck_cohorts, cohorts, check_exact=False, rtol=1e-9)
