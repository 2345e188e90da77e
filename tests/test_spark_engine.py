"""The Spark engine: a real local Spark session gives the in-memory engine's summary.

The summary of a Spark DataFrame stays in Spark (a Spark DataFrame, one row per
customer); ``to_pandas=True`` or ``compress`` bring back only per-customer or
distinct rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from engine_checks import assert_same_report, assert_same_summary, odd_log, returns_log

import crmlab as cl


@pytest.fixture(scope="module")
def spark_cdnow(spark):
    return spark.createDataFrame(cl.datasets.load_cdnow("sample"))


def test_a_spark_log_gives_a_spark_summary_that_matches_memory(spark_cdnow, cdnow_calibration):
    from pyspark.sql import DataFrame

    summary = cl.transactions.summarize(spark_cdnow, observation_end="1997-09-30", unit="W")
    assert isinstance(summary, DataFrame), "the summary stays in Spark"
    assert summary.attrs["engine"] == "spark" and summary.attrs["unit"] == "W"
    assert summary.count() == 2357
    collected = cl.transactions.summarize(spark_cdnow, "1997-09-30", unit="W", to_pandas=True)
    assert_same_summary(collected, cdnow_calibration)


def test_compress_groups_in_spark_and_fits_the_published_model(spark_cdnow):
    summary = cl.transactions.summarize(spark_cdnow, observation_end="1997-09-30", unit="W")
    rows = cl.transactions.compress(summary)
    assert isinstance(rows, pd.DataFrame) and int(rows["weight"].sum()) == 2357
    model = cl.models.BGNBD().fit(rows)
    assert round(model.loglik, 2) == -9582.43


# Spark jobs are slow to start: each run pairs one merge with one duplicates option
# instead of the whole grid that the DuckDB tests run.
@pytest.mark.parametrize(("merge", "duplicates"), [("day", "keep"), ("none", "drop")])
def test_spark_equals_memory_on_an_odd_log(spark, merge, duplicates):
    log = odd_log(seed=5, customers=150)
    frame = spark.createDataFrame(log)
    options = {"merge": merge, "duplicates": duplicates, "unit": "D"}
    memory = cl.transactions.summarize(log, "2024-12-31", **options)
    ours = cl.transactions.summarize(frame, "2024-12-31", to_pandas=True, **options)
    assert_same_summary(ours, memory)
    if duplicates == "keep":
        # A clean log of typed columns takes memory's fast path: no report from either.
        assert ours.attrs["cleaning"] is None and memory.attrs["cleaning"] is None
    else:
        assert memory.attrs["cleaning"]["duplicates_dropped"] > 0
        assert_same_report(ours.attrs["cleaning"], memory.attrs["cleaning"])
    memory_ch = cl.transactions.calibration_holdout(log, "2024-09-30", "2024-12-31", **options)
    ours_ch = cl.transactions.calibration_holdout(
        frame, "2024-09-30", "2024-12-31", to_pandas=True, **options
    )
    assert_same_summary(ours_ch, memory_ch)
    if duplicates == "drop":
        assert_same_report(ours_ch.attrs["cleaning"], memory_ch.attrs["cleaning"])


def test_spark_reports_the_named_errors(spark):
    log = pd.DataFrame(
        {
            "customer_id": [1.0, np.nan, 2.0, 3.0],
            "date": ["2024-01-02", "2024-01-03", "not a date", "2024-03-01"],
            "amount": [5.0, 6.0, 7.0, -2.0],
        }
    )
    frame = spark.createDataFrame(log).replace(float("nan"), None, subset=["customer_id"])
    with pytest.raises(ValueError) as raised:
        cl.transactions.summarize(frame, "2024-12-31")
    message = str(raised.value)
    for expected in (
        "column 'customer_id': 1 value(s) are missing customer ids",
        "column 'date': 1 value(s) are not dates: row with raw_date='not a date'",
        "column 'amount': 1 negative amount(s) (returns?)",
    ):
        assert expected in message, message
    assert "Pass returns='net'" in message, message


def test_scoring_a_spark_summary_stays_in_spark(spark_cdnow, cdnow_calibration):
    from pyspark.sql import DataFrame

    model = cl.models.BGNBD().fit(cdnow_calibration)
    summary = cl.transactions.summarize(spark_cdnow, observation_end="1997-09-30", unit="W")
    scored = model.score(summary, t=39)
    assert isinstance(scored, DataFrame)
    back = scored.toPandas().set_index("customer_id").sort_index()
    expected = model.score(cdnow_calibration, t=39)
    np.testing.assert_allclose(back["p_alive"], expected["p_alive"])
    np.testing.assert_allclose(back["expected_purchases"], expected["expected_purchases"])


def test_spark_scores_a_covariate_model_at_each_customers_covariates(spark):
    from test_scoring_covariates import HORIZON, MODELS, covariate_base, one_by_one

    from crmlab.models import GammaGamma, MissingCovariateError

    model = MODELS["ParetoNBD"]()
    spend = GammaGamma(spend_covariates=["h"]).set_params(
        p=6.25, q=3.74, gamma=15.44, **{"spend.h": 0.4}
    )
    base = covariate_base(n=60)
    frame = spark.createDataFrame(base.reset_index()).repartition(3)
    scored = model.score(frame, t=HORIZON, spend_model=spend, discount=0.01)
    back = scored.toPandas().set_index("customer_id").loc[base.index]
    expected = one_by_one(model, spend, base)
    for name in expected.columns:
        np.testing.assert_allclose(back[name], expected[name], rtol=1e-12, atol=1e-14)
    # Refused on the driver, before Spark runs anything.
    with pytest.raises(MissingCovariateError, match=r"ParetoNBD has covariates \['g'\]"):
        model.score(frame.drop("g"), t=HORIZON)


@pytest.mark.parametrize("name", ["BGNBD", "ParetoNBD"])
def test_spark_shares_horizon_terms_and_scores_as_memory(spark, name, tmp_path):
    """(x, T, z) repeat here, so both paths take the grouped one; same scores to 1e-12.

    The frame comes in 8 partitions, which scoring joins into one per core, and
    Spark's batches are cut to 100 rows, so each partition's are joined into one
    chunk before scoring (a chunk of 100, or a partition of 200, would not group).
    """
    from test_scoring_covariates import DISCOUNT, HORIZON, MODELS, covariate_base

    from crmlab.models import GammaGamma
    from crmlab.scoring import _pair_tables
    from crmlab.targeting import _value_schedule

    model = MODELS[name]()
    spend = GammaGamma(spend_covariates=["h"]).set_params(
        p=6.25, q=3.74, gamma=15.44, **{"spend.h": 0.4}
    )
    base = covariate_base(n=1600, seed=8, h_levels=[-0.5, 0.0, 0.5])
    edges, weights = _value_schedule("W", HORIZON, DISCOUNT, 1.0, 1.0)
    plan = {"edges": edges, "weights": weights, "margin": 1.0}
    wanted = ["expected_purchases", "clv"]
    assert _pair_tables(base.iloc[::2], model, HORIZON, wanted, plan) is not None, "groups"
    assert _pair_tables(base.iloc[:100], model, HORIZON, wanted, plan) is None, "a batch won't"
    expected = model.score(base, t=HORIZON, spend_model=spend, discount=DISCOUNT)
    frame = spark.createDataFrame(base.reset_index()).repartition(8)
    options = {"t": HORIZON, "spend_model": spend, "discount": DISCOUNT}
    cores = spark.sparkContext.defaultParallelism
    assert model.score(frame, **options).rdd.getNumPartitions() == cores == 2
    key = "spark.sql.execution.arrow.maxRecordsPerBatch"
    before = spark.conf.get(key)
    spark.conf.set(key, "100")
    try:
        back = model.score(frame, **options).toPandas()
        written = model.score(frame, **options, output=tmp_path / "scores")
    finally:
        spark.conf.set(key, before)
    back = back.set_index("customer_id").loc[base.index]
    pd.testing.assert_frame_equal(back[base.columns], base)
    for column in cl.scoring.COLUMNS:
        np.testing.assert_allclose(back[column], expected[column], rtol=1e-12, atol=1e-14)
    again = pd.read_parquet(written).set_index("customer_id").loc[base.index]
    np.testing.assert_allclose(again["clv"], expected["clv"], rtol=1e-12, atol=1e-14)


def test_spark_refuses_missing_covariate_values_on_the_driver(spark, tmp_path):
    from test_scoring_covariates import HORIZON, MODELS, covariate_base

    from crmlab.models import MissingCovariateError

    model = MODELS["ParetoNBD"]()
    from pyspark.sql import functions as F

    base = covariate_base(n=40).reset_index()
    ids = base["customer_id"]
    row = F.col("customer_id")
    # A Spark null and a NaN in a double column; a null in an integer column.
    frame = spark.createDataFrame(base).select(
        "customer_id",
        "x",
        "t_x",
        "T",
        F.when(row == int(ids[12]), None).otherwise(F.col("g")).cast("int").alias("g"),
        F.when(row == int(ids[5]), None)
        .when(row == int(ids[30]), float("nan"))
        .otherwise(F.col("h"))
        .alias("h"),
    )
    target = tmp_path / "scores"
    # Raised by score() itself, on the driver: nothing has run in an executor yet.
    with pytest.raises(MissingCovariateError) as raised:
        model.score(frame, t=HORIZON, output=target)
    message = str(raised.value)
    g_rows = f"row with customer_id={ids[12]}: nan"
    h_rows = f"row with customer_id={ids[5]}: nan, row with customer_id={ids[30]}: nan"
    assert f"covariate 'g': 1 missing or infinite value(s): {g_rows}" in message, message
    assert f"covariate 'h': 2 missing or infinite value(s): {h_rows}" in message, message
    assert "Fill them" in message
    assert not target.exists(), "refused before anything is written"
    with pytest.raises(MissingCovariateError, match=r"ParetoNBD has covariates \['h'\]"):
        model.score(frame.drop("h"), t=HORIZON, output=target)
    assert not target.exists()
    with pytest.raises(ValueError, match="covariate 'g' is not numeric"):
        model.score(frame.withColumn("g", frame["g"].cast("string")), t=HORIZON)
    with pytest.raises(ValueError, match=r"summary lacks column\(s\) \['t_x'\]"):
        model.score(frame.drop("t_x"), t=HORIZON)


@pytest.mark.parametrize(("period", "duplicates"), [("M", "keep"), ("W", "drop")])
def test_spark_cohort_table_equals_memory(spark, period, duplicates):
    log = odd_log(seed=9, customers=150)
    frame = spark.createDataFrame(log)
    for end in (None, "2024-10-15"):
        options = {"period": period, "observation_end": end, "duplicates": duplicates}
        memory = cl.transactions.cohort_table(log, **options)
        ours = cl.transactions.cohort_table(frame, **options)
        assert ours.attrs["engine"] == "spark"
        pd.testing.assert_frame_equal(ours, memory, check_exact=False, rtol=1e-9)
    master = cl.datasets.load_cdnow("master")
    pd.testing.assert_frame_equal(
        cl.transactions.cohort_table(spark.createDataFrame(master), period="Q"),
        cl.transactions.cohort_table(master, period="Q"),
        check_exact=False,
        rtol=1e-9,
    )


@pytest.mark.parametrize("on_invalid", ["drop", "drop_customer"])
@pytest.mark.parametrize("currency", [None, "."])
def test_spark_drops_customers_and_reads_currency_as_memory_does(spark, on_invalid, currency):
    from dirty_log import make_dirty_log

    made = make_dirty_log(1_500, seed=11)
    names = {"customer_col": "client", "date_col": "order_ts", "amount_col": "revenue"}
    # Duplicates are dropped in half the runs, so that duplicates_dropped is compared too.
    duplicates = "drop" if on_invalid == "drop_customer" else "keep"
    options = {**names, "on_invalid": on_invalid, "currency": currency, "returns": "drop"}
    options["duplicates"] = duplicates
    frame = spark.createDataFrame(made.log)
    memory = cl.transactions.summarize(made.log, made.observation_end, **options)
    ours = cl.transactions.summarize(frame, made.observation_end, to_pandas=True, **options)
    assert_same_summary(ours, memory)
    theirs = memory.attrs["cleaning"]
    assert theirs["currency_parsed" if currency else "dropped"]
    assert theirs["exact_duplicates"] > 0 and theirs["returns_dropped"] > 0
    assert theirs["zero_amounts"] > 0 and theirs["rows_out"] < theirs["rows_in"]
    assert_same_report(ours.attrs["cleaning"], theirs)
    if currency is None:
        with pytest.raises(ValueError, match="currency strings") as raised:
            cl.transactions.summarize(frame, made.observation_end, **names)
        assert "Pass currency='.'" in str(raised.value)


@pytest.mark.parametrize(("duplicates", "merges"), [("keep", ("day", "none")), ("drop", ("W",))])
def test_spark_nets_returns_as_memory_does(spark, duplicates, merges):
    # Spark jobs are slow to start: the merges are shared out between the two runs.
    log = returns_log()
    frame = spark.createDataFrame(log)
    base = {"returns": "net", "duplicates": duplicates}
    for merge in merges:
        options = {**base, "merge": merge, "unit": "D"}
        memory = cl.transactions.summarize(log, "2024-12-31", **options)
        report = memory.attrs["cleaning"]
        for kind in ("returns_netted", "returns_unmatched", "purchases_cancelled"):
            assert report[kind] > 0, kind
        assert report["purchases_reduced"] > 0 and report["unmatched_return_value"] > 0
        assert report["customers_returned_whole"] > 0
        ours = cl.transactions.summarize(frame, "2024-12-31", to_pandas=True, **options)
        assert_same_summary(ours, memory)
        assert_same_report(ours.attrs["cleaning"], report)
    # calibration_holdout and cohort_table with both duplicates options, as DuckDB's.
    ch = cl.transactions.calibration_holdout(log, "2024-09-30", "2024-12-31", **options)
    ours_ch = cl.transactions.calibration_holdout(
        frame, "2024-09-30", "2024-12-31", to_pandas=True, **options
    )
    assert_same_summary(ours_ch, ch)
    assert_same_report(ours_ch.attrs["cleaning"], ch.attrs["cleaning"])
    cohorts = cl.transactions.cohort_table(log, period="M", **base)
    ours_cohorts = cl.transactions.cohort_table(frame, period="M", **base)
    pd.testing.assert_frame_equal(ours_cohorts, cohorts, check_exact=False, rtol=1e-9)
