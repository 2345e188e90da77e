"""Customer lifetime value in contractual settings: simple formulas, DEL, DERL, equity.

Timing conventions
------------------
A customer pays a margin ``m`` for each period she is a customer; each period she
renews with probability ``r``; money is discounted at rate ``d`` per period. The
textbook formula comes in two versions that differ by exactly one payment, and
mixing them up is the commonest error in CLV spreadsheets (Fader & Hardie 2010):

* ``timing="beginning"`` (alias ``"immediate"``): the first payment is made today,
  when she signs up, undiscounted. The payment at the start of period ``t + 1``
  arrives only if she renewed ``t`` times (probability ``r**t``) and is worth
  ``1 / (1 + d)**t`` today, so

      CLV = m * sum_{t >= 0} (r / (1 + d))**t = m (1 + d) / (1 + d - r).

* ``timing="end"`` (alias ``"delayed"``): today's payment is already banked (or the
  first payment falls due only at the end of period 1, if she renews); what is
  counted starts one period from now,

      CLV = m * sum_{t >= 1} (r / (1 + d))**t = m r / (1 + d - r),

  the form of Gupta & Lehmann (2003). ``beginning = m + end``.

With ``horizon=k`` both versions count ``k`` payments (times ``0..k-1`` or ``1..k``).

Heterogeneity
-------------
Customers differ in their propensity to leave, so a cohort's retention rate rises
with tenure as the leavers sort themselves out. The shifted-beta-geometric (sBG)
model of :mod:`crmlab.models.sbg` describes this; under it :func:`del_sbg` values a
new customer, :func:`derl` an existing one of a given tenure and
:func:`customer_equity` a whole customer base. Valuing the same base with a single
aggregate retention rate (:func:`constant_retention_equity`) is biased downwards.

Edge cases
----------
Retention must lie in [0, 1] and discount rates be >= 0. With ``retention = 1`` and
``discount = 0`` (or an sBG with ``alpha <= 1`` and ``discount = 0``) the expected
sum is infinite and the functions return ``inf`` rather than raise, so that a
slider may reach the corner. Any other bad input raises ``ValueError`` naming the
argument and the first offending values.

References
----------
Gupta, S., & Lehmann, D. R. (2003). Customers as assets. *Journal of Interactive
Marketing*, 17(1), 9–24.
Fader, P. S., & Hardie, B. G. S. (2010). Customer-base valuation in a contractual
setting: The perils of ignoring heterogeneity. *Marketing Science*, 29(1), 85–93.

Examples
--------
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

from crmlab._validate import as_output, broadcast, check_values

__all__ = [
    "aggregate_retention_rate",
    "constant_retention_equity",
    "customer_equity",
    "del_sbg",
    "derl",
    "max_acquisition_cost",
    "new_customer_clv",
    "retention_point_value",
    "simple_clv",
]

Timing = Literal["beginning", "end", "immediate", "delayed"]

_TIMING_ALIASES = {
    "beginning": "beginning",
    "immediate": "beginning",
    "end": "end",
    "delayed": "end",
}


def _arrays(**named: Any) -> tuple[dict[str, np.ndarray], bool]:
    """Broadcast the named inputs to float arrays (:func:`crmlab._validate.broadcast`)."""
    arrays, is_scalar = broadcast(*named.values(), names=list(named))
    return dict(zip(named, arrays, strict=True)), is_scalar


def _timing(timing: str) -> str:
    try:
        return _TIMING_ALIASES[timing]
    except (KeyError, TypeError):
        raise ValueError(
            "timing must be 'beginning' (first payment now, alias 'immediate') or 'end' "
            f"(first payment one period from now, alias 'delayed'); got {timing!r}"
        ) from None


def _geometric_sum(ratio: np.ndarray, horizon: int | None) -> np.ndarray:
    """sum_{t=0}^{horizon-1} ratio**t (to infinity when ``horizon`` is None); ratio in [0, 1]."""
    below_one = ratio < 1
    safe = np.where(below_one, ratio, 0.0)
    if horizon is None:
        return np.where(below_one, 1 / (1 - safe), np.inf)
    return np.where(below_one, (1 - safe**horizon) / (1 - safe), float(horizon))


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
        Margin per period while a customer (may be negative).
    retention : float or array
        Probability of renewing each period, in [0, 1].
    discount : float or array
        Discount rate per period, >= 0.
    timing : {"beginning", "end"}
        ``"beginning"`` (or ``"immediate"``): the first margin is paid now,
        CLV = m (1 + d) / (1 + d - r). ``"end"`` (or ``"delayed"``): the first margin
        counted is one period from now, if she renews, CLV = m r / (1 + d - r).
    horizon : int, optional
        Number of periods (payments) to count; default forever.

    Returns
    -------
    float or numpy.ndarray
        The CLV, broadcast over the inputs; ``inf`` when ``retention = 1`` and
        ``discount = 0`` with no horizon (the sum diverges).

    Raises
    ------
    ValueError
        Retention outside [0, 1], a negative discount rate, a non-finite margin, a
        negative or fractional horizon, or an unknown timing.

    Examples
    --------
    >>> simple_clv(100, [0.0, 0.5, 1.0], 0.0, horizon=3)
    array([100., 175., 300.])
    >>> simple_clv(100, [0.0, 0.5, 1.0], 0.0, horizon=3, timing="end")
    array([  0. ,  87.5, 300. ])
    >>> simple_clv(100, 1.0, 0.0)
    inf
    """
    timing = _timing(timing)
    arrays, is_scalar = _arrays(margin=margin, retention=retention, discount=discount)
    m, r, d = arrays["margin"], arrays["retention"], arrays["discount"]
    check_values(r, "retention", low=0.0, high=1.0)
    check_values(d, "discount", low=0.0)
    check_values(m, "margin")
    if horizon is not None and (
        isinstance(horizon, bool) or not float(horizon).is_integer() or horizon < 0
    ):
        raise ValueError(f"horizon must be a whole number of periods >= 0, got {horizon!r}")
    k = None if horizon is None else int(horizon)
    ratio = r / (1 + d)  # value today of the next payment, given she is a customer now
    payments = _geometric_sum(ratio, k)
    if timing == "end":
        # Every payment moves one period later: one more renewal, one more discount.
        payments = payments * ratio
    with np.errstate(invalid="ignore"):
        # A zero margin is worth nothing even over an infinite life (0 * inf is NaN).
        value = np.where(m == 0, 0.0, m * payments)
    return as_output(value, is_scalar, refuse_nan=False)


def new_customer_clv(
    margin: Any,
    retention: Any,
    discount: Any,
    acquisition_cost: Any,
    *,
    timing: Timing = "beginning",
) -> Any:
    """CLV of a customer about to be acquired, net of what acquiring her costs.

    Parameters
    ----------
    margin, retention, discount, timing
        As in :func:`simple_clv`.
    acquisition_cost : float or array
        What it costs to acquire her, paid now.

    Returns
    -------
    float or numpy.ndarray
        ``simple_clv(...) - acquisition_cost``; positive when acquiring pays.

    Examples
    --------
    >>> round(new_customer_clv(100, 0.8, 0.1, acquisition_cost=150), 2)
    216.67
    >>> new_customer_clv(100, 0.8, 0.1, acquisition_cost=[100, 400]).round(2)
    array([266.67, -33.33])
    """
    arrays, is_scalar = _arrays(
        margin=margin, retention=retention, discount=discount, acquisition_cost=acquisition_cost
    )
    check_values(arrays["acquisition_cost"], "acquisition_cost")
    gross = simple_clv(arrays["margin"], arrays["retention"], arrays["discount"], timing=timing)
    return as_output(gross - arrays["acquisition_cost"], is_scalar, refuse_nan=False)


def max_acquisition_cost(
    margin: Any, retention: Any, discount: Any, *, timing: Timing = "beginning"
) -> Any:
    """The most one may spend to acquire a customer: her gross CLV.

    Spending more destroys value on average. Which timing applies depends on
    whether the first margin is collected at acquisition (``"beginning"``).

    Examples
    --------
    >>> round(max_acquisition_cost(50, 0.9, 0.12), 2)
    254.55
    >>> round(max_acquisition_cost(50, 0.9, 0.12, timing="end"), 2)
    204.55
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

    The raised retention is capped at 1. The gain grows steeply as retention nears
    1; it is ``inf`` when the raise reaches retention 1 with no discounting, and 0
    when the customer is already certain to stay forever.

    Examples
    --------
    >>> round(retention_point_value(100, 0.80, 0.10), 2)
    12.64
    >>> round(retention_point_value(100, 0.90, 0.10), 2)
    28.95
    >>> retention_point_value(100, [0.995, 1.0], 0.0)
    array([inf,  0.])
    """
    if not np.isfinite(points) or points < 0:
        raise ValueError(f"points must be finite and >= 0, got {points!r}")
    arrays, is_scalar = _arrays(margin=margin, retention=retention, discount=discount)
    check_values(arrays["retention"], "retention", low=0.0, high=1.0)
    raised = np.minimum(arrays["retention"] + points, 1.0)
    before = np.asarray(simple_clv(margin, arrays["retention"], discount, timing=timing))
    after = np.asarray(simple_clv(margin, raised, discount, timing=timing))
    with np.errstate(invalid="ignore"):
        gain = np.where(np.isinf(before) & (after == before), 0.0, after - before)
    return as_output(gain, is_scalar, refuse_nan=False)


def _residual_sum(alpha: np.ndarray, beta: np.ndarray, discount: np.ndarray) -> np.ndarray:
    """sum_{t>=0} (beta)_t / (alpha + beta)_t / (1 + d)**t = 2F1(1, beta; alpha + beta; 1/(1+d)).

    Term ``t`` is ``E[(1 - theta)**t] / (1 + d)**t`` for ``theta ~ Beta(alpha, beta)``:
    the chance of still being a customer ``t`` periods on, discounted. At ``d = 0``
    the series sums to ``(alpha + beta - 1) / (alpha - 1)`` when ``alpha > 1`` and
    diverges otherwise; that case is written out. Where scipy's ``hyp2f1`` gives up
    (large ``alpha + beta``, as for long tenures or nearly homogeneous customers), the
    series is summed directly.
    """
    from scipy import special

    alpha, beta, discount = np.broadcast_arrays(alpha, beta, discount)
    undiscounted = discount == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        at_zero = np.where(alpha > 1, (alpha + beta - 1) / (alpha - 1), np.inf)
        z = 1 / (1 + np.where(undiscounted, 1.0, discount))
        series = np.asarray(special.hyp2f1(1.0, beta, alpha + beta, z), dtype="float64")
    failed = ~undiscounted & ~np.isfinite(series)
    if np.any(failed):
        series = series.copy()
        series[failed] = _sum_series(alpha[failed], beta[failed], z[failed])
    return np.where(undiscounted, at_zero, series)


def _sum_series(alpha: np.ndarray, beta: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Sum 2F1(1, beta; alpha + beta; z), 0 < z < 1, term by term in blocks.

    Successive terms shrink by ``z (beta + t) / (alpha + beta + t) < z``; each block
    accumulates the logarithms of these ratios, so large parameters lose no precision.
    The tail left after the last block is bounded by ``last term * z / (1 - z)``.
    """
    block = 4096
    total = np.zeros_like(alpha)
    log_term = np.zeros_like(alpha)  # log of the first term of the current block
    offsets = np.arange(block)
    for start in range(0, 50_000_000, block):
        t = start + offsets[:, None]
        log_ratios = np.log(z) + np.log1p(-alpha / (alpha + beta + t))
        log_terms = log_term + np.concatenate(
            [np.zeros((1, alpha.size)), np.cumsum(log_ratios[:-1], axis=0)]
        )
        terms = np.exp(log_terms)
        total = total + terms.sum(axis=0)
        log_term = log_terms[-1] + log_ratios[-1]
        if np.all(np.exp(log_term) <= 1e-17 * total):
            break
    return total + np.exp(log_term) * z / (1 - z)


def _sbg_inputs(**named: Any) -> tuple[dict[str, np.ndarray], bool]:
    arrays, is_scalar = _arrays(**named)
    check_values(arrays["alpha"], "alpha", above=0.0)
    check_values(arrays["beta"], "beta", above=0.0)
    check_values(arrays["discount"], "discount", low=0.0)
    return arrays, is_scalar


def del_sbg(alpha: Any, beta: Any, discount: Any) -> Any:
    """Discounted expected lifetime (DEL) of a new customer under the sBG model.

    Counts the payment made at acquisition (undiscounted) and every later one,
    each weighted by the chance she is still there, ``S(t)``::

        DEL = sum_{t>=0} S(t) / (1 + d)**t = 2F1(1, beta; alpha + beta; 1 / (1 + d))

    Multiply by the margin for the customer's expected lifetime value. With
    ``discount = 0`` it is the expected lifetime in periods,
    ``(alpha + beta - 1) / (alpha - 1)``, or ``inf`` when ``alpha <= 1``.

    Parameters
    ----------
    alpha, beta : float or array
        sBG parameters (> 0).
    discount : float or array
        Discount rate per period (>= 0).

    Examples
    --------
    >>> round(del_sbg(1.0, 1.0, 0.1), 3)
    2.638
    >>> del_sbg(3.8, 15.2, [0.0, 0.1]).round(3)
    array([6.429, 4.009])
    """
    arrays, is_scalar = _sbg_inputs(alpha=alpha, beta=beta, discount=discount)
    value = _residual_sum(arrays["alpha"], arrays["beta"], arrays["discount"])
    return as_output(value, is_scalar, refuse_nan=False)


def derl(alpha: Any, beta: Any, discount: Any, n: Any) -> Any:
    """Discounted expected residual lifetime of a customer in her ``n``-th period.

    The customer has renewed ``n - 1`` times. Standing at the end of period ``n``,
    just before her next renewal decision, DERL counts the payments from that
    renewal on, each weighted by the chance she is still there and discounted from
    now, so the first is not discounted (Fader & Hardie 2010, eq. 6)::

        DERL = sum_{t>=n} S(t) / S(n - 1) / (1 + d)**(t - n)
             = (beta + n - 1) / (alpha + beta + n - 1)
               * 2F1(1, beta + n; alpha + beta + n; 1 / (1 + d))

    Multiply by the margin for her expected residual value.

    Parameters
    ----------
    alpha, beta : float or array
        sBG parameters (> 0).
    discount : float or array
        Discount rate per period (>= 0); at 0 DERL is the expected number of
        further periods, ``(beta + n - 1) / (alpha - 1)``, ``inf`` if ``alpha <= 1``.
    n : int or array of int
        The period she is in (``n >= 1``).

    Examples
    --------
    >>> [round(derl(3.80, 15.20, 0.10, n), 2) for n in (1, 5)]
    [3.31, 3.84]
    >>> derl(3.80, 15.20, 0.0, [1, 2]).round(3)
    array([5.429, 5.786])
    """
    arrays, is_scalar = _sbg_inputs(alpha=alpha, beta=beta, discount=discount, n=n)
    a, b, d, period = arrays["alpha"], arrays["beta"], arrays["discount"], arrays["n"]
    bad = ~np.isfinite(period) | (period < 1) | (period != np.round(period))
    if np.any(bad):
        raise ValueError(
            f"n must be a whole number >= 1 (the period the customer is in); "
            f"got {period[bad].ravel()[:5].tolist()}"
        )
    renewal = (b + period - 1) / (a + b + period - 1)  # r_n, the chance of the next renewal
    return as_output(renewal * _residual_sum(a, b + period, d), is_scalar, refuse_nan=False)


def _active_counts(active_by_tenure: Any) -> np.ndarray:
    try:
        counts = np.asarray(active_by_tenure, dtype="float64")
    except (TypeError, ValueError):
        raise ValueError(
            f"active_by_tenure must be numeric counts, got {active_by_tenure!r}"
        ) from None
    if counts.ndim != 1 or counts.size == 0:
        raise ValueError(
            "active_by_tenure must be a non-empty 1-d sequence: element k counts the "
            f"customers in their (k + 1)-th period; got shape {counts.shape}"
        )
    bad = ~np.isfinite(counts) | (counts < 0)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"active_by_tenure must hold counts >= 0; tenure position {first} "
            f"(period {first + 1}) has {counts[first]:g}"
        )
    return counts


def customer_equity(
    alpha: float,
    beta: float,
    discount: float,
    active_by_tenure: Any,
    margin: float = 1.0,
    *,
    include_current_payment: bool = False,
) -> float:
    """Residual value of an existing customer base under the sBG model.

    Each customer in her ``n``-th period is worth ``margin * derl(alpha, beta,
    discount, n)``; the base is worth their sum (Fader & Hardie 2010). Customers of
    several cohorts add up by tenure: a cohort of ``N`` acquired ``k`` periods ago
    has about ``N * S(k)`` customers in their ``(k + 1)``-th period.

    Parameters
    ----------
    alpha, beta : float
        sBG parameters.
    discount : float
        Discount rate per period (>= 0).
    active_by_tenure : sequence of float
        ``active_by_tenure[k]`` customers are in their ``k + 1``-th period (have
        renewed ``k`` times).
    margin : float
        Margin per customer per period.
    include_current_payment : bool
        Add the payment of the current period (default False: it is already paid).

    Returns
    -------
    float
        The value of the base today.

    Examples
    --------
    A base of 1,000 customers in their first period and 500 in their second:

    >>> round(customer_equity(3.80, 15.20, 0.10, [1000, 500], margin=100))
    503532
    """
    counts = _active_counts(active_by_tenure)
    check_values(np.asarray(margin, dtype=float), "margin")
    tenure = np.arange(1, counts.size + 1)
    per_customer = derl(alpha, beta, discount, tenure) + (1.0 if include_current_payment else 0.0)
    with np.errstate(invalid="ignore"):
        terms = np.where(counts == 0, 0.0, counts * per_customer)
    return float(margin * terms.sum()) if margin != 0 else 0.0


def aggregate_retention_rate(alpha: float, beta: float, active_by_tenure: Any) -> float:
    """The single retention rate an analyst would read off a mixed-tenure base.

    Expected renewals over active customers, pooling all tenures:
    ``sum_k N_k r_{k+1} / sum_k N_k`` with ``r_n = (beta + n - 1) / (alpha + beta + n - 1)``.

    Examples
    --------
    >>> round(aggregate_retention_rate(3.80, 15.20, [1000, 500]), 4)
    0.8033
    """
    counts = _active_counts(active_by_tenure)
    arrays, _ = _arrays(alpha=alpha, beta=beta)
    check_values(arrays["alpha"], "alpha", above=0.0)
    check_values(arrays["beta"], "beta", above=0.0)
    if counts.sum() <= 0:
        raise ValueError("active_by_tenure holds no customers: the retention rate is undefined")
    n = np.arange(1, counts.size + 1)
    rates = (beta + n - 1) / (alpha + beta + n - 1)
    return float(np.dot(counts, rates) / counts.sum())


def constant_retention_equity(
    active_customers: Any, retention: Any, discount: Any, margin: Any = 1.0
) -> Any:
    """Residual value of a base valued with one constant retention rate (the naive way).

    Each active customer, standing before her next renewal decision, is worth
    ``margin * r (1 + d) / (1 + d - r)`` (the DERL of a customer whose retention
    never changes). Under heterogeneity this undervalues the base: compare with
    :func:`customer_equity`.

    Examples
    --------
    >>> r = aggregate_retention_rate(3.80, 15.20, [1000, 500])
    >>> round(constant_retention_equity(1500, r, 0.10, margin=100))
    446798
    """
    arrays, is_scalar = _arrays(
        active_customers=active_customers, retention=retention, discount=discount, margin=margin
    )
    check_values(arrays["active_customers"], "active_customers", low=0.0)
    per_customer = simple_clv(
        arrays["margin"], arrays["retention"], arrays["discount"], timing="end"
    ) * (1 + arrays["discount"])
    with np.errstate(invalid="ignore"):
        value = np.where(
            arrays["active_customers"] == 0, 0.0, arrays["active_customers"] * per_customer
        )
    return as_output(value, is_scalar, refuse_nan=False)
