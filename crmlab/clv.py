"""Customer lifetime value in contractual settings: simple formulas, DEL, DERL, equity.

Two timing conventions, named explicitly because mixing them up is the commonest
error in CLV spreadsheets (Fader & Hardie 2010):

* ``timing="beginning"``: the customer pays the margin ``m`` at the start of each
  period she is a customer, the first payment today. With retention ``r`` and
  discount rate ``d`` per period, CLV = m (1 + d) / (1 + d - r).
* ``timing="end"``: the first payment comes at the end of the first period, and only
  if she renews. CLV = m r / (1 + d - r).

The two differ by exactly one margin (the payment today): beginning = m + end.

With heterogeneous customers (the shifted-beta-geometric model of
:mod:`crmlab.models.sbg`), retention is not constant and these formulas undervalue a
customer base; :func:`del_sbg`, :func:`derl` and :func:`customer_equity` do it right.

References: Gupta, S., & Lehmann, D. R. (2003). Customers as assets. *Journal of
Interactive Marketing*, 17(1), 9–24. Fader, P. S., & Hardie, B. G. S. (2010).
Customer-base valuation in a contractual setting: The perils of ignoring
heterogeneity. *Marketing Science*, 29(1), 85–93.

>>> round(simple_clv(margin=100, retention=0.8, discount=0.1, timing="beginning"), 2)
366.67
>>> round(simple_clv(margin=100, retention=0.8, discount=0.1, timing="end"), 2)
266.67
>>> [round(derl(3.80, 15.20, 0.10, n), 2) for n in range(1, 6)]
[3.31, 3.45, 3.59, 3.72, 3.84]
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

__all__ = [
    "customer_equity",
    "del_sbg",
    "derl",
    "max_acquisition_cost",
    "new_customer_clv",
    "retention_point_value",
    "simple_clv",
]

Timing = Literal["beginning", "end"]


def _broadcast(**named: Any) -> tuple[dict[str, np.ndarray], bool]:
    arrays = {name: np.asarray(value, dtype="float64") for name, value in named.items()}
    is_scalar = all(array.ndim == 0 for array in arrays.values())
    broadcast = np.broadcast_arrays(*arrays.values())
    return dict(zip(arrays, broadcast, strict=True)), is_scalar


def _out(values: np.ndarray, is_scalar: bool) -> Any:
    return float(values) if is_scalar else values


def _check_range(values: np.ndarray, name: str, low: float, high: float | None) -> None:
    bad = ~np.isfinite(values) | (values < low)
    if high is not None:
        bad |= values > high
    if np.any(bad):
        bound = f"between {low:g} and {high:g}" if high is not None else f">= {low:g}"
        raise ValueError(f"{name} must be {bound}, got {values[bad].ravel()[:5].tolist()}")


def _check_timing(timing: str) -> None:
    if timing not in ("beginning", "end"):
        raise ValueError(f"timing must be 'beginning' or 'end', got {timing!r}")


def simple_clv(
    margin: Any,
    retention: Any,
    discount: Any,
    *,
    timing: Timing = "beginning",
    horizon: int | None = None,
) -> Any:
    """CLV of a customer with constant retention, margin and discount rate.

    Parameters
    ----------
    margin : float or array
        Margin per period while a customer.
    retention : float or array
        Probability of renewing each period, in [0, 1].
    discount : float or array
        Discount rate per period, >= 0.
    timing : {"beginning", "end"}
        ``"beginning"``: first margin paid now; ``"end"``: first margin at the end of
        period 1, if she renews (see the module notes).
    horizon : int, optional
        Number of payments to count (default: forever). With ``retention = 1`` and
        ``discount = 0`` the infinite sum diverges and the value is ``inf``.

    Examples
    --------
    >>> simple_clv(100, [0.0, 0.5, 1.0], 0.0, horizon=3)
    array([100., 175., 300.])
    >>> simple_clv(100, 1.0, 0.0)
    inf
    """
    _check_timing(timing)
    arrays, is_scalar = _broadcast(margin=margin, retention=retention, discount=discount)
    m, r, d = arrays["margin"], arrays["retention"], arrays["discount"]
    _check_range(r, "retention", 0.0, 1.0)
    _check_range(d, "discount", 0.0, None)
    _check_range(np.abs(m), "margin", 0.0, None)
    ratio = r / (1 + d)  # value today of one margin paid one period later, if retained
    if horizon is None:
        with np.errstate(divide="ignore", invalid="ignore"):
            total = np.where(ratio < 1, 1 / (1 - np.where(ratio < 1, ratio, 0.0)), np.inf)
    else:
        if horizon < 0 or int(horizon) != horizon:
            raise ValueError(f"horizon must be a whole number >= 0, got {horizon!r}")
        k = int(horizon)
        with np.errstate(divide="ignore", invalid="ignore"):
            total = np.where(ratio < 1, (1 - ratio**k) / (1 - np.where(ratio < 1, ratio, 0.0)), k)
    if timing == "end":
        # Paying at the end of each period drops today's payment and shifts the rest.
        total = total - 1 if horizon is None else total * ratio
    with np.errstate(invalid="ignore"):
        value = np.where(m == 0, 0.0, m * total)
    return _out(value, is_scalar)


def new_customer_clv(
    margin: Any,
    retention: Any,
    discount: Any,
    acquisition_cost: Any,
    *,
    timing: Timing = "beginning",
) -> Any:
    """CLV of a customer about to be acquired, net of what acquiring her costs.

    >>> round(new_customer_clv(100, 0.8, 0.1, acquisition_cost=150), 2)
    216.67
    """
    gross = simple_clv(margin, retention, discount, timing=timing)
    return (
        gross - np.asarray(acquisition_cost, dtype=float)
        if np.ndim(gross)
        else (gross - float(acquisition_cost))
    )


def max_acquisition_cost(
    margin: Any, retention: Any, discount: Any, *, timing: Timing = "beginning"
) -> Any:
    """The most one may pay to acquire a customer: her (gross) CLV.

    >>> round(max_acquisition_cost(50, 0.9, 0.12), 2)
    254.55
    """
    return simple_clv(margin, retention, discount, timing=timing)


def retention_point_value(
    margin: Any,
    retention: Any,
    discount: Any,
    *,
    points: float = 0.01,
    timing: Timing = "beginning",
) -> Any:
    """Increase of CLV when retention rises by ``points`` (default one point, 0.01).

    Retention is capped at 1. The gain grows steeply as retention approaches 1.

    >>> round(retention_point_value(100, 0.80, 0.10), 2)
    12.64
    >>> round(retention_point_value(100, 0.90, 0.10), 2)
    28.95
    """
    arrays, is_scalar = _broadcast(retention=retention)
    raised = np.minimum(arrays["retention"] + points, 1.0)
    before = simple_clv(margin, arrays["retention"], discount, timing=timing)
    after = simple_clv(margin, raised, discount, timing=timing)
    with np.errstate(invalid="ignore"):
        gain = np.where(np.isinf(before) & np.isinf(after), 0.0, np.asarray(after) - before)
    return _out(gain, is_scalar)


def _hyp2f1_unit(b: np.ndarray, c: np.ndarray, z: np.ndarray) -> np.ndarray:
    from scipy import special

    return special.hyp2f1(1.0, b, c, z)


def del_sbg(alpha: Any, beta: Any, discount: Any) -> Any:
    """Discounted expected lifetime of a new customer under the sBG model.

    Counts the payment today: DEL = Σ_t S(t) / (1 + d)^t = 2F1(1, β; α + β; 1/(1+d)).
    Multiply by the margin for the customer's expected value.

    >>> round(del_sbg(1.0, 1.0, 0.1), 3)
    2.638
    """
    arrays, is_scalar = _broadcast(alpha=alpha, beta=beta, discount=discount)
    a, b, d = arrays["alpha"], arrays["beta"], arrays["discount"]
    _check_range(a, "alpha", 1e-12, None)
    _check_range(b, "beta", 1e-12, None)
    _check_range(d, "discount", 1e-12, None)
    return _out(_hyp2f1_unit(b, a + b, 1 / (1 + d)), is_scalar)


def derl(alpha: Any, beta: Any, discount: Any, n: Any) -> Any:
    """Discounted expected residual lifetime of a customer in her ``n``-th period.

    The customer has renewed ``n - 1`` times. Standing just before her next renewal
    decision, DERL counts the payments from that renewal on, each weighted by the
    chance she is still there and discounted from the moment of that decision, so
    the first is not discounted (Fader & Hardie 2010, eq. 6)::

        DERL = B(α, β + n) / B(α, β + n - 1) · 2F1(1, β + n; α + β + n; 1 / (1 + d))

    Multiply by the margin for her expected residual value.

    >>> [round(derl(3.80, 15.20, 0.10, n), 2) for n in (1, 5)]
    [3.31, 3.84]
    """
    arrays, is_scalar = _broadcast(alpha=alpha, beta=beta, discount=discount, n=n)
    a, b, d, periods = arrays["alpha"], arrays["beta"], arrays["discount"], arrays["n"]
    _check_range(a, "alpha", 1e-12, None)
    _check_range(b, "beta", 1e-12, None)
    _check_range(d, "discount", 1e-12, None)
    _check_range(periods, "n", 1.0, None)
    renewal = (b + periods - 1) / (a + b + periods - 1)  # B(α, β+n) / B(α, β+n-1)
    return _out(renewal * _hyp2f1_unit(b + periods, a + b + periods, 1 / (1 + d)), is_scalar)


def customer_equity(
    alpha: float,
    beta: float,
    discount: float,
    active_by_tenure: Any,
    margin: float = 1.0,
    *,
    include_current_payment: bool = True,
) -> float:
    """Value of an existing customer base under the sBG model.

    Parameters
    ----------
    active_by_tenure : sequence of float
        ``active_by_tenure[k]`` customers are in their ``k + 1``-th period (have
        renewed ``k`` times).
    include_current_payment : bool
        Count the payment of the current period (default) besides the residual value.

    Examples
    --------
    A base of 1,000 customers in their first period and 500 in their second:

    >>> round(customer_equity(3.80, 15.20, 0.10, [1000, 500], margin=100))
    653532
    """
    counts = np.asarray(active_by_tenure, dtype="float64")
    _check_range(counts, "active_by_tenure", 0.0, None)
    tenure = np.arange(1, len(counts) + 1)
    residual = derl(alpha, beta, discount, tenure)
    per_customer = residual + (1.0 if include_current_payment else 0.0)
    return float(margin * np.dot(counts, per_customer))
