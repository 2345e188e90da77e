"""Retention: cohort retention matrices, lapse durations and Kaplan–Meier survival.

>>> import crmlab as cl
>>> table = cl.transactions.cohort_table(cl.datasets.load_cdnow("master"), period="M")
>>> matrix = retention_matrix(table)
>>> matrix.shape
(3, 18)
>>> round(float(matrix.loc["1997-01", 1]), 3)
0.147
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

__all__ = ["constant_retention_rate", "kaplan_meier", "lapse_durations", "retention_matrix"]


def retention_matrix(cohort_table: pd.DataFrame, value: str = "retention") -> pd.DataFrame:
    """Pivot a :func:`crmlab.transactions.cohort_table` into a cohort x period grid.

    Cells a young cohort has not reached yet are NaN, not zero.
    """
    if value not in cohort_table.columns:
        raise ValueError(
            f"value must be a column of the cohort table: {list(cohort_table.columns)}"
        )
    matrix = cohort_table.pivot(index="cohort", columns="period", values=value)
    matrix.columns.name = f"periods since acquisition ({cohort_table.attrs.get('period', '?')})"
    return matrix


def lapse_durations(
    summary: pd.DataFrame,
    lapse_after: float,
    *,
    censor_at: Literal["observation_end", "last_purchase"] = "observation_end",
) -> pd.DataFrame:
    """Turn a (t_x, T) summary into durations with right-censoring, for survival analysis.

    In a non-contractual business nobody announces leaving, so a rule must stand in
    for churn: a customer counts as *lapsed* once ``lapse_after`` time units pass
    with no purchase. Her duration is then ``t_x`` (the time of her last purchase).
    A customer whose last purchase is more recent than that is still *at risk*: her
    duration is censored.

    Parameters
    ----------
    summary : pandas.DataFrame
        Columns ``t_x`` and ``T`` (as from :func:`crmlab.transactions.summarize`).
    lapse_after : float
        Silence, in the summary's time unit, after which a customer counts as lapsed.
    censor_at : {"observation_end", "last_purchase"}
        Where a customer who has not lapsed is censored. ``"last_purchase"``
        (``t_x``) is consistent with the lapse rule: a lapsed customer's duration is
        the time of her last purchase, and of a customer not yet lapsed we know only
        that this time will be at least her current ``t_x`` (she may never buy
        again). ``"observation_end"`` (``T``, the earlier behaviour, kept as the
        default so that existing results do not move) treats her as known to last
        until the end of the window, which overstates survival a little.

    Returns
    -------
    pandas.DataFrame
        Columns ``duration`` and ``lapsed`` (False = censored), the summary's index.

    Examples
    --------
    >>> s = pd.DataFrame({"t_x": [2.0, 30.0], "T": [39.0, 39.0]})
    >>> lapse_durations(s, lapse_after=13)
       duration  lapsed
    0       2.0    True
    1      39.0   False
    >>> lapse_durations(s, lapse_after=13, censor_at="last_purchase")["duration"].tolist()
    [2.0, 30.0]
    """
    if lapse_after <= 0:
        raise ValueError(f"lapse_after must be positive, got {lapse_after}")
    if censor_at not in ("observation_end", "last_purchase"):
        raise ValueError(
            "censor_at must be 'last_purchase' (censor a customer who has not lapsed at her "
            f"last purchase, t_x) or 'observation_end' (at T); got {censor_at!r}"
        )
    lapsed = (summary["T"] - summary["t_x"]) > lapse_after
    censored_at = summary["t_x"] if censor_at == "last_purchase" else summary["T"]
    duration = np.where(lapsed, summary["t_x"], censored_at)
    return pd.DataFrame({"duration": duration, "lapsed": lapsed.to_numpy()}, index=summary.index)


def constant_retention_rate(survivors: Any) -> float:
    """Maximum-likelihood retention rate of one cohort if every customer were alike.

    The benchmark that the sBG model is judged against: each customer renews with
    the same probability ``r`` every period, so lifetimes are geometric. With
    survivor counts ``n_0, ..., n_k`` the ``n_(t-1) - n_t`` who left in period ``t``
    contribute ``(1 - r) r^(t-1)`` each and the ``n_k`` still there ``r^k``; the
    likelihood is maximised at

        1 - r = (customers lost) / (customer-periods survived and lost in),

    that is lost customers over the renewal decisions they and the survivors faced.
    Projected survival is then ``r^t``.

    Parameters
    ----------
    survivors : sequence of int
        Customers still active at the start of periods 0..k, starting with the
        cohort size (the form :class:`crmlab.models.ShiftedBetaGeometric` fits).

    Returns
    -------
    float
        The constant retention rate ``r`` in [0, 1].

    Examples
    --------
    >>> round(constant_retention_rate([1000, 631, 468, 382, 326, 289, 262, 241]), 3)
    0.774
    >>> constant_retention_rate([100, 100])
    1.0
    """
    from crmlab.models.sbg import survivors_to_durations

    rows = survivors_to_durations(survivors)
    lost = float(rows.loc[rows["churned"] == 1, "weight"].sum())
    decisions = float((rows["period"] * rows["weight"]).sum())
    return 1.0 - lost / decisions


def kaplan_meier(
    durations: Any, observed: Any, weights: Any | None = None, confidence: float = 0.95
) -> pd.DataFrame:
    """Kaplan–Meier survival curve with right-censoring, via :func:`scipy.stats.ecdf`.

    Parameters
    ----------
    durations : array-like
        Time until the event, or until censoring.
    observed : array-like of bool
        True where the event (churn) was seen, False where the duration is censored.
    weights : array-like of int, optional
        Number of customers behind each row (repeats the row).
    confidence : float
        Level of the pointwise confidence band (Greenwood's formula, log-log scale).

    Returns
    -------
    pandas.DataFrame
        Indexed by the distinct event times (0 first), columns ``survival``,
        ``lower`` and ``upper``.

    Examples
    --------
    Twelve customers: 2 leave after one period, 3 after two, the other 7 are still
    there after three (censored).

    >>> km = kaplan_meier([1, 2, 3], [True, True, False], weights=[2, 3, 7])
    >>> km["survival"].round(3).tolist()
    [1.0, 0.833, 0.583, 0.583]
    """
    from scipy import stats

    time = np.asarray(durations, dtype=float)
    event = np.asarray(observed, dtype=bool)
    if time.shape != event.shape:
        raise ValueError("durations and observed must have the same length")
    if np.any(~np.isfinite(time)) or np.any(time < 0):
        raise ValueError("durations must be finite and >= 0")
    if weights is not None:
        counts = np.asarray(weights)
        if np.any(counts < 0) or np.any(counts != np.round(counts)):
            raise ValueError("weights must be whole numbers >= 0")
        time = np.repeat(time, counts.astype(int))
        event = np.repeat(event, counts.astype(int))
    if not event.any():
        raise ValueError("no event is observed: every duration is censored")
    data = stats.CensoredData(uncensored=time[event], right=time[~event])
    result = stats.ecdf(data)
    band = result.sf.confidence_interval(confidence_level=confidence, method="log-log")
    times = result.sf.quantiles
    frame = pd.DataFrame(
        {
            "survival": result.sf.probabilities,
            "lower": band.low.probabilities,
            "upper": band.high.probabilities,
        },
        index=pd.Index(times, name="time"),
    )
    start = pd.DataFrame(
        {"survival": [1.0], "lower": [1.0], "upper": [1.0]}, index=pd.Index([0.0], name="time")
    )
    return pd.concat([start, frame[frame.index > 0]]).fillna({"lower": 0.0, "upper": 1.0})
