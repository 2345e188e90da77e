"""Scoring a customer base: P(alive), expected purchases, spend and CLV for every customer.

:func:`score` (also ``model.score(...)``) applies a fitted purchase model, and
optionally a spend model, to a per-customer summary of any size: in memory chunk by
chunk, to a Parquet file chunk by chunk (memory bounded by the chunk, not the base),
or inside Spark through ``mapInPandas`` when the summary is a Spark DataFrame (the
customers never reach the driver). All of them score a table of customers by the
same function (:func:`_scored`); Spark gives it a partition's batches joined up to
``chunk_size`` customers. Every prediction is vectorised: there is no Python loop
over customers. For the BG/NBD, MBG/NBD and Pareto/NBD, P(alive) is
computed once per customer and the horizon terms (expected purchases, the CLV's
period by period sum) once per distinct (x, T) of the base, which times recorded to
the day make a few thousand (:mod:`crmlab._horizons`; the same numbers to 1e-12).

A model fitted with covariates (``purchase_covariates=``, ``dropout_covariates=``,
a Gamma–Gamma's ``spend_covariates=``) reads them from the summary's columns of the
same names, customer by customer. Its horizon terms depend on the covariates too:
for the BG/NBD, MBG/NBD and Pareto/NBD they are computed once per distinct
(x, T, covariates) of the base, the groups :func:`crmlab.targeting.expected_customer_value`
uses.

>>> import crmlab as cl
>>> bg = cl.models.BGNBD().set_params(r=0.243, alpha=4.414, a=0.793, b=2.426, unit="W")
>>> s = pd.DataFrame({"x": [2.0, 0.0], "t_x": [30.43, 0.0], "T": [38.86, 38.86]})
>>> score(bg, s, t=39).round(3)
   x    t_x      T  p_alive  expected_purchases
0  2.0  30.43  38.86    0.727               1.226
1  0.0   0.00  38.86    1.000               0.195
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["COLUMNS", "score"]

#: What :func:`score` can add, in this order.
COLUMNS = ("p_alive", "expected_purchases", "expected_spend", "clv")
#: Group customers only when a group holds this many on average (as _horizons does).
_MIN_SHARE = 4.0


def _wanted(columns: Sequence[str] | None, spend_model: Any) -> list[str]:
    if columns is None:
        return list(COLUMNS if spend_model is not None else COLUMNS[:2])
    unknown = [c for c in columns if c not in COLUMNS]
    if unknown:
        raise ValueError(f"columns {unknown} cannot be scored; choose from {list(COLUMNS)}")
    if spend_model is None and {"expected_spend", "clv"} & set(columns):
        raise ValueError("expected_spend and clv need a fitted spend model: pass spend_model=")
    return list(columns)


def _scores(
    chunk: pd.DataFrame,
    model: Any,
    t: float,
    wanted: list[str],
    spend_model: Any,
    plan: dict[str, Any],
    tables: dict[str, Any] | None = None,
    start: int = 0,
) -> dict[str, np.ndarray]:
    """The wanted scores of one chunk of customers (rows ``start...`` of the base), as arrays.

    ``tables`` (from :func:`_pair_tables`) hold, per distinct (x, T) of the base (with
    covariates: per distinct (x, T, z)), what an active customer is expected to buy:
    then P(alive) is computed once per customer and the rest is gathered. Without
    them the models are asked directly. Every model is given the chunk's covariates
    when it was fitted with some.
    """
    from crmlab.targeting import _covariates, _customer_value, _given

    x, t_x, T = (chunk[name].to_numpy(dtype="float64") for name in ("x", "t_x", "T"))
    z, z_spend = _given(_covariates(model, chunk)), _given(_covariates(spend_model, chunk))
    alive = codes = None
    if "p_alive" in wanted or tables:
        alive = np.asarray(model.p_alive(x, t_x, T, **z), dtype="float64")
    if tables and "rows" in tables:
        codes = tables["rows"][start : start + len(chunk)]
    elif tables:
        codes = tables["groups"].codes(x, T)
    out: dict[str, np.ndarray] = {}
    if "p_alive" in wanted:
        out["p_alive"] = alive
    if "expected_purchases" in wanted:
        if tables:
            out["expected_purchases"] = alive * tables["expected_purchases"][codes]
        else:
            out["expected_purchases"] = np.asarray(
                model.conditional_expected_purchases(t, x, t_x, T, **z), dtype="float64"
            )
    spend = None
    if {"expected_spend", "clv"} & set(wanted):
        spend = np.asarray(
            spend_model.conditional_expected_spend(x, chunk["monetary"].to_numpy(float), **z_spend),
            dtype="float64",
        )
    if "expected_spend" in wanted:
        out["expected_spend"] = spend
    if "clv" in wanted:
        purchases = alive * tables["clv"][codes] if tables else None
        out["clv"] = _customer_value(
            model, spend_model, chunk, **plan, purchases=purchases, spend=spend
        )
    return out


def _scored(
    frame: pd.DataFrame,
    model: Any,
    t: float,
    wanted: list[str],
    spend_model: Any,
    plan: dict[str, Any],
    chunk_size: int,
) -> Iterator[tuple[pd.DataFrame, dict[str, np.ndarray]]]:
    """Every chunk of ``frame`` with its scores: the one path of memory, Parquet and Spark.

    The horizon terms are computed once per distinct (x, T) (with covariates:
    (x, T, z)) of the whole ``frame`` (:func:`_pair_tables`), and gathered chunk by
    chunk. Spark gives it a partition's batches joined up to ``chunk_size`` rows.
    """
    tables = _pair_tables(frame, model, t, wanted, plan)
    for start in range(0, len(frame), chunk_size):
        chunk = frame.iloc[start : start + chunk_size]
        yield chunk, _scores(chunk, model, t, wanted, spend_model, plan, tables, start)


def _pair_tables(
    summary: pd.DataFrame, model: Any, t: float, wanted: list[str], plan: dict[str, Any]
) -> dict[str, Any] | None:
    """Per distinct (x, T) of the whole base: the horizon terms of the wanted scores.

    None when the model does not factorise (see :mod:`crmlab._horizons`), when no
    wanted score needs them, or when (x, T) (with covariates: (x, T, z)) hardly repeat.
    """
    from crmlab._horizons import (
        expected_if_alive,
        factorises,
        factorises_when_alive,
        group_histories,
        pair_discounted,
    )
    from crmlab.models._base import check_rfm

    if not factorises_when_alive(model) or not {"expected_purchases", "clv"} & set(wanted):
        return None
    x, t_x, T = (summary[name].to_numpy(dtype="float64") for name in ("x", "t_x", "T"))
    check_rfm(x, t_x, T, summary.index)  # grouping reads x and T before any chunk is checked
    if not factorises(model):
        return _covariate_tables(summary, model, t, wanted, plan, x, T)
    groups = group_histories(x, T)
    if groups is None:
        return None
    tables: dict[str, Any] = {"groups": groups}
    if "expected_purchases" in wanted:
        tables["expected_purchases"] = expected_if_alive(model, t, groups.x, groups.T)
    if "clv" in wanted:
        tables["clv"] = pair_discounted(model, groups, plan["edges"], plan["weights"])
    return tables


def _covariate_tables(
    summary: pd.DataFrame,
    model: Any,
    t: float,
    wanted: list[str],
    plan: dict[str, Any],
    x: np.ndarray,
    T: np.ndarray,
) -> dict[str, Any] | None:
    """:func:`_pair_tables` for a model with covariates: per distinct (x, T, z) of the base.

    The groups are those of :func:`crmlab.targeting.expected_customer_value`, and so
    are the CLV's terms; ``rows`` gives each customer's group, by position.
    """
    from crmlab._horizons import expected_if_alive
    from crmlab.targeting import _alive_purchases, _covariates, _given, _pairs, _rows_of

    z = _covariates(model, summary)
    assert z is not None  # a model that does not factorise on (x, T) alone has covariates
    # score() has checked the covariates on the whole base, so a missing value is
    # named at its own row, not at the row that stands for its group.
    first, rows = _pairs(x, T, z)
    if len(first) * _MIN_SHARE > len(x):
        return None
    tables: dict[str, Any] = {"rows": rows}
    if "expected_purchases" in wanted:
        tables["expected_purchases"] = expected_if_alive(
            model, t, x[first], T[first], **_given(_rows_of(z, first))
        )
    if "clv" in wanted:
        tables["clv"], _ = _alive_purchases(
            model, x, T, z, plan["edges"], plan["weights"], (first, rows)
        )
    return tables


def score(
    model: Any,
    summary: Any,
    t: float,
    *,
    columns: Sequence[str] | None = None,
    spend_model: Any = None,
    horizon: Any = None,
    discount: Any = 0.0,
    margin: float = 1.0,
    period_length: Any = 1.0,
    chunk_size: int = 1_000_000,
    output: str | os.PathLike | None = None,
) -> Any:
    """Score every customer of ``summary`` with a fitted purchase model (and spend model).

    Parameters
    ----------
    model : fitted purchase model
        BG/NBD, Pareto/NBD, ... (anything with ``p_alive`` and
        ``conditional_expected_purchases``).
    summary : pandas.DataFrame or pyspark.sql.DataFrame
        One row per customer with ``x``, ``t_x``, ``T`` (and ``monetary`` for spend
        and CLV), in the model's time unit, and the covariate columns the model and
        the spend model were fitted with (``purchase_covariates=``, ...): each
        customer is scored at her own covariates.
    t : float
        Horizon of ``expected_purchases``, in the model's time unit.
    columns : sequence of str, optional
        Which of :data:`COLUMNS` to add (default: all that the models given allow).
    spend_model : fitted GammaGamma, optional
        Needed for ``expected_spend`` and ``clv``.
    horizon, discount, margin, period_length
        CLV options of :func:`crmlab.targeting.expected_customer_value`
        (``horizon`` defaults to ``t``).
    chunk_size : int
        Customers scored at once; memory grows with it, not with the base.
    output : path, optional
        Write the scored table to this Parquet file, chunk by chunk, and return the
        path instead of a frame. With a Spark summary, Spark writes it as a folder
        of Parquet files (one per partition), and refuses a path that exists.

    Returns
    -------
    pandas.DataFrame, pathlib.Path or pyspark.sql.DataFrame
        The summary's columns plus the scores; a Spark input gives a Spark DataFrame.

    Raises
    ------
    crmlab.models.MissingCovariateError
        A covariate of the model (or of the spend model) is not a column of
        ``summary``, or has missing values (counted, first rows named). Both are
        checked on the whole summary before any customer is scored or anything is
        written; on a Spark summary that is one Spark job, which computes the
        summary once more (cache or write a costly one first).
    ValueError
        A covariate column does not hold numbers.

    Examples
    --------
    A model with covariates scores each customer at her own covariates:

    >>> from crmlab.models import BGNBD
    >>> vip = BGNBD(purchase_covariates=["vip"]).set_params(
    ...     r=0.243, alpha=4.414, a=0.793, b=2.426, **{"purchase.vip": 0.5})
    >>> s = pd.DataFrame({"x": [2.0, 2.0], "t_x": [30.43, 30.43], "T": [38.86, 38.86],
    ...                   "vip": [0, 1]})
    >>> score(vip, s, t=39, columns=["expected_purchases"]).round(3)
         x    t_x      T  vip  expected_purchases
    0  2.0  30.43  38.86    0               1.226
    1  2.0  30.43  38.86    1               1.261
    >>> score(vip, s.drop(columns="vip"), t=39)
    Traceback (most recent call last):
    ...
    crmlab.models._covariates.MissingCovariateError: BGNBD has covariates ['vip'] ...
    """
    wanted = _wanted(columns, spend_model)
    if isinstance(chunk_size, bool) or int(chunk_size) != chunk_size or chunk_size < 1:
        raise ValueError(f"chunk_size must be a whole number >= 1, got {chunk_size!r}")
    from crmlab.models._covariates import read_covariates
    from crmlab.targeting import _common_unit, _covariate_names, _value_schedule

    spark = type(summary).__module__.startswith("pyspark")
    needed = ["x", "t_x", "T"] + (["monetary"] if spend_model is not None else [])
    missing = [c for c in needed if c not in summary.columns]
    if missing:
        raise ValueError(f"summary lacks column(s) {missing}; scoring needs {needed}")
    # Refused here, before anything is written, rather than in a chunk (or a Spark
    # executor) halfway through the base; a missing value is named at its own row.
    names = [_covariate_names(fitted, list(summary.columns)) for fitted in (model, spend_model)]
    names = list(dict.fromkeys(name for group in names for name in group))
    if spark:
        _check_spark_covariates(summary, names)
    elif names:
        read_covariates(summary, names, require_variation=False)
    # A weekly model never scores a monthly summary; a Spark frame carries no unit.
    unit = getattr(model, "unit", None) if spark else _common_unit(model, summary)
    plan: dict[str, Any] = {}
    if "clv" in wanted:
        schedule = _value_schedule(
            unit, t if horizon is None else horizon, discount, period_length, margin
        )
        plan = {"edges": schedule[0], "weights": schedule[1], "margin": margin}
    if spark:
        scored = _score_spark(summary, model, t, wanted, spend_model, plan, int(chunk_size))
        if output is None:
            return scored
        # Spark writes a folder of Parquet files, one per partition, and refuses an
        # existing one rather than replace what is there.
        scored.write.parquet(str(output))
        return Path(output)
    pieces = _scored(summary, model, t, wanted, spend_model, plan, int(chunk_size))
    if output is None:
        # Scores go into whole-base arrays and join the summary once: no per-chunk
        # frame copies.
        columns_out = {name: np.empty(len(summary)) for name in wanted}
        start = 0
        for chunk, scores in pieces:
            for name, values in scores.items():
                columns_out[name][start : start + len(chunk)] = values
            start += len(chunk)
        # Joined without copying: assign would copy every new column once more.
        kept = summary.drop(columns=[name for name in wanted if name in summary.columns])
        scores = pd.DataFrame(columns_out, index=summary.index, copy=False)
        scored = pd.concat([kept, scores], axis=1)
        scored.attrs = dict(summary.attrs)
        return scored
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(output)
    writer = None
    try:
        for chunk, scores in pieces:
            table = pa.Table.from_pandas(chunk, preserve_index=True)
            for name in wanted:
                table = table.append_column(name, pa.array(scores[name]))
            if writer is None:
                # Scores are continuous: dictionary-encoding them costs time and saves nothing.
                kept = [name for name in table.schema.names if name not in wanted]
                writer = pq.ParquetWriter(path, table.schema, use_dictionary=kept)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()
    return path


def _check_spark_covariates(summary: Any, names: list[str]) -> None:
    """Refuse, on the driver, covariates that are not numbers or have missing values.

    The in-memory checks of :func:`crmlab.models._covariates.read_covariates`, with
    the same messages, in one Spark job (a second one, on failure, finds the first
    rows): an executor's error would name a row by its place in a batch, and only
    once the scores are computed. Rows are named by the first column that no model
    reads (a summary's customer id), else by (x, t_x, T).
    """
    from pyspark.sql import functions as F
    from pyspark.sql.types import BooleanType, NumericType

    from crmlab._validate import SHOWN_ROWS, _shown
    from crmlab.models._covariates import missing_values, not_numeric, raise_missing

    if not names:
        return
    for name in names:
        kind = summary.schema[name].dataType
        if not isinstance(kind, NumericType | BooleanType):
            raise not_numeric(name, kind.simpleString())

    def column(name: str) -> Any:
        return F.col("`" + name.replace("`", "``") + "`")

    def bad(name: str) -> Any:
        value = column(name).cast("double")
        return value.isNull() | F.isnan(value) | (F.abs(value) == float("inf"))

    counted = summary.agg(
        *[F.sum(bad(name).cast("int")).alias(f"c{i}") for i, name in enumerate(names)]
    ).collect()[0]
    counts = {name: int(counted[f"c{i}"] or 0) for i, name in enumerate(names)}
    if not any(counts.values()):
        return
    read = {"x", "t_x", "T", "monetary", *names}
    labels = [c for c in summary.columns if c not in read][:1] or ["x", "t_x", "T"]
    problems = []
    for name, count in counts.items():
        if not count:
            continue
        picked = summary.filter(bad(name)).select(
            *[column(c).alias(f"l{i}") for i, c in enumerate(labels)], column(name).alias("v")
        )
        parts = []
        for row in picked.limit(SHOWN_ROWS).collect():
            where = ", ".join(f"{c}={_shown(row[f'l{i}'])}" for i, c in enumerate(labels))
            value = float("nan") if row["v"] is None else float(row["v"])
            parts.append(f"row with {where}: {_shown(value)}")
        more = count - len(parts)
        rows = ", ".join(parts) + (f" (and {more:,} more)" if more > 0 else "")
        problems.append(missing_values(name, count, rows))
    raise_missing(problems)


def _score_spark(
    summary: Any,
    model: Any,
    t: float,
    wanted: list[str],
    spend_model: Any,
    plan: dict[str, Any],
    chunk_size: int,
) -> Any:
    """Scores computed in Spark's executors through ``mapInPandas``, as in memory."""
    from functools import partial

    from pyspark.sql.types import DoubleType, StructField, StructType

    # A score column already in the summary is replaced, as in memory.
    summary = _fewer_partitions(summary.drop(*[c for c in wanted if c in summary.columns]))
    schema = StructType(
        list(summary.schema.fields) + [StructField(name, DoubleType()) for name in wanted]
    )
    scorer = partial(
        _spark_batches,
        model=model,
        t=t,
        wanted=wanted,
        spend_model=spend_model,
        plan=plan,
        chunk_size=chunk_size,
    )
    return summary.mapInPandas(scorer, schema=schema)


def _fewer_partitions(summary: Any) -> Any:
    """``summary`` in one partition per core when it has more, without a shuffle.

    Customers share horizon terms only within a partition, and a frame made from
    pandas, or read from many small files, comes in partitions of a few thousand
    customers, too few to share them; one partition per core keeps every core busy.
    """
    try:
        cores = summary.sparkSession.sparkContext.defaultParallelism
    except Exception:  # Spark Connect has no SparkContext: leave the partitions alone
        return summary
    return summary.coalesce(cores) if summary.rdd.getNumPartitions() > cores else summary


def _spark_batches(
    frames: Iterator[pd.DataFrame],
    *,
    model: Any,
    t: float,
    wanted: list[str],
    spend_model: Any,
    plan: dict[str, Any],
    chunk_size: int,
) -> Iterator[pd.DataFrame]:
    """One partition's Arrow batches, scored: the ``mapInPandas`` function of :func:`score`.

    Spark's batches (10,000 rows by default) are too small for customers to share
    their horizon terms, so they are joined up to ``chunk_size`` rows and scored by
    :func:`_scored`, as a chunk in memory is; the scored rows leave in the batches
    they came in.
    """

    def score_joined(waiting: list[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        joined = waiting[0] if len(waiting) == 1 else pd.concat(waiting, ignore_index=True)
        ((chunk, scores),) = _scored(joined, model, t, wanted, spend_model, plan, len(joined))
        scored, start = chunk.assign(**scores), 0
        for frame in waiting:
            yield scored.iloc[start : start + len(frame)]
            start += len(frame)

    waiting: list[pd.DataFrame] = []
    rows = 0
    for frame in frames:
        if frame.empty:
            continue
        waiting.append(frame)
        rows += len(frame)
        if rows >= chunk_size:
            yield from score_joined(waiting)
            waiting, rows = [], 0
    if waiting:
        yield from score_joined(waiting)
