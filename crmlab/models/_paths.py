"""The P(alive) path along one customer's history, for any model with ``p_alive(x, t_x, T)``.

At each age ``t`` of a customer (time since her first purchase) her history so far
is ``x(t)``, the repeat purchases up to ``t``, ``t_x(t)``, the time of the last one,
and ``T = t``; the path is ``p_alive(x(t), t_x(t), t)`` along a grid of ages. Between
purchases it falls (no news is bad news); at a purchase it jumps up. How far it
jumps is the model's story:

* Pareto/NBD: to 1, since a customer who has just bought is alive (dropout happens
  at any time, and she has not dropped out yet);
* BG/NBD: to ``1 / (1 + a / (b + x - 1))``, not 1, since she may drop out right
  after the purchase she has just made; until her first repeat purchase it stays
  at 1 (no chance to drop out yet), so that first purchase *lowers* it;
* MBG/NBD: to ``1 / (1 + a / (b + x))``; it is below 1 already at the first purchase;
* BG/BB (discrete opportunities, a grid of whole numbers): its ``p_alive`` at
  ``(x, t_x, n)``, which is for the next opportunity.

Beyond ``T``, the end of observation, the path shows what P(alive) becomes if she
buys nothing more (as lifetimes' ``calculate_alive_path`` does when asked for more
periods than observed). That is not P(alive at T + t), which averages over the
purchases she may still make (the models' ``p_alive_at``).

>>> from crmlab.models import BGNBD
>>> m = BGNBD().set_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
>>> path = p_alive_path(m, [0.0, 2.0, 5.0], T=8.0, grid=[0, 1, 2, 4, 5, 8])
>>> path["p_alive"].round(3).tolist()
[1.0, 1.0, 0.754, 0.686, 0.812, 0.699]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmlab._units import to_unit, unit_length_days
from crmlab._validate import check_values, first_rows

__all__ = ["p_alive_path"]

#: Points of the default grid (besides the purchase times and T itself).
GRID_POINTS = 241


def p_alive_path(
    model: Any,
    purchases: Any,
    *,
    T: Any = None,
    horizon: Any = 0.0,
    grid: Any = None,
    covariates: Any = None,
    customer: Any = None,
    customer_col: str = "customer_id",
    date_col: str = "date",
    unit: str | None = None,
) -> pd.DataFrame:
    """P(alive) of one customer along her history, from her first purchase to ``T + horizon``.

    Parameters
    ----------
    model
        A fitted model with ``p_alive(x, t_x, T)``: BG/NBD, MBG/NBD, Pareto/NBD or
        BG/BB (for the BG/BB, times are opportunities: whole numbers).
    purchases
        Her purchase times, first one included: numbers in the model's time unit
        (from any origin), or dates; or a transaction log (a DataFrame) together
        with ``customer=``. Purchases at the same time (for dates: the same day)
        count once, as :func:`crmlab.transactions.summarize` counts them by default.
    T
        End of observation: her age then (a number in the model's unit, counted
        from her first purchase), or a date when the purchases are dates. Default:
        her last purchase.
    horizon
        How far past ``T`` to go (a number in the model's unit, or ``"26W"``).
    grid
        Ages at which to evaluate (time since the first purchase, >= 0). Default:
        241 evenly spaced points from 0 to ``T + horizon`` plus every purchase and
        ``T`` itself (whole numbers 0, 1, ... for the BG/BB).
    covariates
        Her covariate values (one row), for a model with covariates.
    customer, customer_col, date_col
        With a log: the customer, and the log's column names.
    unit
        Time unit of the model for dates (default: ``model.unit``, which a fit on a
        summary records).

    Returns
    -------
    DataFrame
        Indexed by ``age``: ``x``, ``t_x``, ``p_alive`` and ``observed`` (age <= T);
        ``attrs`` holds ``unit``, ``T`` and the purchase ages.

    Raises
    ------
    ValueError
        No purchases, a purchase after ``T``, a negative or non-finite grid, dates
        without a known unit, or a log without ``customer=``.
    """
    unit = unit if unit is not None else getattr(model, "unit", None)
    ages, T_age = _ages(purchases, T, unit, customer, customer_col, date_col)
    end = T_age + to_unit(horizon, unit, "horizon")
    check_values(np.array([end - T_age]), "horizon", low=0)
    discrete = _is_discrete(model)
    if grid is None:
        if discrete:
            grid_ages = np.arange(0.0, np.floor(end) + 1)
        else:
            grid_ages = np.union1d(np.linspace(0.0, end, GRID_POINTS), np.r_[ages, T_age])
    else:
        grid_ages = np.asarray(grid, dtype="float64").ravel()
        check_values(grid_ages, "grid", low=0)
    repeat = ages[1:]
    x = np.searchsorted(repeat, grid_ages, side="right")
    t_x = np.where(x > 0, repeat[np.maximum(x - 1, 0)] if repeat.size else 0.0, 0.0)
    options = {} if covariates is None else {"covariates": covariates}
    alive = np.asarray(model.p_alive(x.astype(float), t_x, grid_ages, **options), dtype=float)
    path = pd.DataFrame(
        {
            "x": x,
            "t_x": t_x,
            "p_alive": np.broadcast_to(alive, grid_ages.shape),
            "observed": grid_ages <= T_age,
        },
        index=pd.Index(grid_ages, name="age"),
    )
    path.attrs.update(unit=unit, T=T_age, purchases=ages.tolist())
    return path


def _is_discrete(model: Any) -> bool:
    from crmlab.models.bgbb import BGBB

    return isinstance(model, BGBB)


def _ages(
    purchases: Any,
    T: Any,
    unit: str | None,
    customer: Any,
    customer_col: str,
    date_col: str,
) -> tuple[np.ndarray, float]:
    """Purchase ages (first at 0, ascending, distinct) and the age at ``T``."""
    if isinstance(purchases, pd.DataFrame):
        purchases = _one_customer(purchases, customer, customer_col, date_col)
    elif customer is not None:
        raise ValueError("customer= picks a customer from a log; pass the log as a DataFrame")
    values = pd.Series(np.asarray(purchases).ravel() if np.ndim(purchases) else [purchases])
    if values.empty:
        raise ValueError("purchases is empty: a customer's path starts at her first purchase")
    if pd.api.types.is_datetime64_any_dtype(values) or isinstance(values.iloc[0], pd.Timestamp):
        return _date_ages(pd.to_datetime(values), T, unit)
    times = np.asarray(values, dtype="float64")
    check_values(times, "purchases")
    times = np.unique(times)
    ages = times - times[0]
    if T is None:
        return ages, float(ages[-1])
    if isinstance(T, str | pd.Timestamp) or np.issubdtype(np.asarray(T).dtype, np.datetime64):
        raise ValueError("T is a date but the purchases are numbers: give T as her age, a number")
    return ages, _check_T(ages, float(T))


def _date_ages(dates: pd.Series, T: Any, unit: str | None) -> tuple[np.ndarray, float]:
    if unit is None:
        raise ValueError(
            "the purchases are dates, but the model does not know its time unit: pass "
            "unit='W' (the unit of the summary it was fitted on) or set model.unit"
        )
    if dates.isna().any():
        raise ValueError(f"purchases hold missing dates: {first_rows(dates.isna(), dates)}")
    days = np.unique(dates.dt.normalize().to_numpy())
    length = unit_length_days(unit)
    ages = (days - days[0]) / np.timedelta64(1, "D") / length
    if T is None:
        return ages, float(ages[-1])
    if isinstance(T, int | float | np.number):
        return ages, _check_T(ages, float(T))
    end = pd.Timestamp(T).normalize()
    return ages, _check_T(ages, (end - pd.Timestamp(days[0])) / pd.Timedelta(days=1) / length)


def _check_T(ages: np.ndarray, T: float) -> float:
    check_values(np.array([T]), "T", low=0)
    late = ages > T
    if late.any():
        raise ValueError(
            f"{int(late.sum())} purchase(s) come after T = {T:g} (ages "
            f"{ages[late][:5].round(4).tolist()}): T is the end of observation, so it "
            "cannot come before her last purchase; leave T out to end at the last one"
        )
    return T


def _one_customer(log: pd.DataFrame, customer: Any, customer_col: str, date_col: str) -> Any:
    for column in (customer_col, date_col):
        if column not in log.columns:
            raise ValueError(
                f"the log has no column {column!r} (its columns: {list(map(str, log.columns))}); "
                "name the columns with customer_col= and date_col="
            )
    if customer is None:
        found = log[customer_col].unique()
        if len(found) != 1:
            raise ValueError(
                f"the log holds {len(found):,} customers: pick one with customer=, e.g. "
                f"customer={found[0]!r}"
            )
        customer = found[0]
    rows = log.loc[log[customer_col] == customer, date_col]
    if rows.empty:
        raise ValueError(f"customer {customer!r} is not in the log's column {customer_col!r}")
    return pd.to_datetime(rows)
