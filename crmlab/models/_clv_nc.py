"""Discounted lifetime value per customer in a non-contractual setting.

A transaction model (BG/NBD or Pareto/NBD) says how many purchases a customer with
history (x, t_x, T) will make in each future period; the Gamma–Gamma model says what
each is worth. Because the model assumes spend independent of the purchase process,
the expected value of period ``k`` is the product of the two expectations:

    CLV = margin · E[spend | x, m] · Σ_{k=1..H} (C(k L) - C((k - 1) L)) / (1 + d)^k

where ``C(t)`` is the conditional expected number of purchases in ``(T, T + t]``,
``L`` the length of a period in the model's time unit and ``d`` the discount rate per
period; each period's purchases are discounted from its end.

Reference: Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). RFM and CLV: Using
iso-value curves for customer base analysis. *Journal of Marketing Research*, 42(4),
415–430 (who use continuous discounting; the sum above is its period-by-period form).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["customer_lifetime_value"]


def customer_lifetime_value(
    transaction_model: Any,
    spend_model: Any,
    data: pd.DataFrame,
    horizon: int,
    discount_rate_per_period: float = 0.0,
    margin: float = 1.0,
    period_length: float = 1.0,
) -> pd.Series:
    """Expected discounted margin of each customer over the next ``horizon`` periods.

    Parameters
    ----------
    transaction_model : BGNBD or ParetoNBD
        Fitted (or :meth:`set_params`) model with
        ``conditional_expected_purchases(t, x, t_x, T)``.
    spend_model : GammaGamma
        Fitted spend model with ``conditional_expected_spend(x, monetary)``.
    data : pandas.DataFrame
        One row per customer with columns ``x``, ``t_x``, ``T`` and ``monetary``
        (``NaN`` allowed where ``x == 0``: such customers get the population mean spend).
    horizon : int
        Number of future periods (>= 1).
    discount_rate_per_period : float
        Discount rate per period (>= 0), e.g. ``0.01`` a month.
    margin : float
        Share of spend kept as margin (>= 0).
    period_length : float
        Length of one period in the time unit of ``data`` (for weekly data and
        monthly discounting, ``52 / 12``).

    Returns
    -------
    pandas.Series
        Named ``clv``, indexed like ``data``.

    Examples
    --------
    >>> from crmlab.models import BGNBD, GammaGamma
    >>> bg = BGNBD().set_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> gg = GammaGamma().set_params(p=6.25, q=3.74, gamma=15.44)
    >>> s = pd.DataFrame({"x": [2, 0], "t_x": [30.43, 0], "T": [38.86, 38.86],
    ...                   "monetary": [22.35, np.nan]})
    >>> customer_lifetime_value(bg, gg, s, horizon=39).round(2).tolist()
    [30.24, 6.87]
    >>> customer_lifetime_value(bg, gg, s, horizon=12, discount_rate_per_period=0.01,
    ...                         period_length=52 / 12).round(2).tolist()
    [36.21, 8.35]
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a DataFrame, got {type(data).__name__}")
    missing = [name for name in ("x", "t_x", "T", "monetary") if name not in data.columns]
    if missing:
        raise ValueError(f"data lack column(s) {missing}; they need x, t_x, T and monetary")
    if isinstance(horizon, bool) or not float(horizon).is_integer() or horizon < 1:
        raise ValueError(f"horizon must be a whole number of periods >= 1, got {horizon!r}")
    for name, value in (
        ("discount_rate_per_period", discount_rate_per_period),
        ("margin", margin),
    ):
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be finite and >= 0, got {value!r}")
    if not (math.isfinite(period_length) and period_length > 0):
        raise ValueError(f"period_length must be finite and > 0, got {period_length!r}")

    x = data["x"].to_numpy(dtype=float)
    t_x = data["t_x"].to_numpy(dtype=float)
    T = data["T"].to_numpy(dtype=float)
    # Customers sharing a history share their forecast: compute it once per history.
    codes, histories = pd.factorize(pd.MultiIndex.from_arrays([x, t_x, T]))
    hx, htx, hT = (histories.get_level_values(i).to_numpy(dtype=float) for i in range(3))
    discounted = np.zeros(len(histories))
    previous = np.zeros(len(histories))
    for k in range(1, int(horizon) + 1):  # a loop over periods, not over customers
        cumulative = np.asarray(
            transaction_model.conditional_expected_purchases(k * period_length, hx, htx, hT)
        )
        discounted += (cumulative - previous) / (1.0 + discount_rate_per_period) ** k
        previous = cumulative
    spend = np.asarray(
        spend_model.conditional_expected_spend(x, data["monetary"].to_numpy(dtype=float))
    )
    return pd.Series(margin * spend * discounted[codes], index=data.index, name="clv")
