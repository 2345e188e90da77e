"""Synthetic firms and customer bases with known parameters.

Two simulations support the course:

* :func:`simulate_firms` — two firms with the same marketing budget. The
  *product-focused* firm spends most of it on acquisition and product push and keeps
  few customers; the *customer-focused* firm spends most of it on keeping the
  customers it has. Year by year: customers, new customers, revenue, profit and
  customer equity. :func:`retention_crossover` says when (which year) and from which
  retention rate the customer-focused firm comes out ahead.
* :func:`heterogeneous_cohort` — a cohort mixing loyal and fickle customers, in which
  every customer's retention rate is constant and yet the *aggregate* retention rate
  rises year after year, because the fickle leave first (the retention "paradox").
* :func:`retention_campaign` — a randomised retention campaign whose effect differs
  from customer to customer, so that the customers a contact moves most are not the
  ones most at risk, nor the most valuable (Ascarza 2018).

Both have a deterministic expected-value version (the default) and a seeded
stochastic version (``stochastic=True, seed=...``) in which retention is a binomial
draw and acquisition a Poisson draw.

Timing convention used throughout: in year ``t`` the survivors of year ``t - 1``
stay with probability ``retention``, the year's acquisition budget brings
``budget * acquisition_share / acquisition_cost`` new customers, every customer of
the year yields ``margin``, and the year's cash flow is discounted by
``(1 + discount) ** t`` (end of the year).
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from crmlab._validate import check_values

__all__ = [
    "FIRM_METRICS",
    "Crossover",
    "heterogeneous_cohort",
    "retention_campaign",
    "retention_crossover",
    "simulate_firms",
    "write_cdnow_copies",
]

#: Columns of :func:`simulate_firms` that :func:`retention_crossover` can compare.
FIRM_METRICS = ("customers", "revenue", "profit", "cumulative_profit", "customer_equity")

DEFAULT_FIRMS = ("product focus", "customer focus")


def _check_fraction(name: str, value: float) -> float:
    check_values(value, name, low=0.0, high=1.0)
    return float(value)


def _check_nonnegative(name: str, value: float) -> float:
    check_values(value, name, low=0.0)
    return float(value)


def _check_positive(name: str, value: float) -> float:
    check_values(value, name, above=0.0)
    return float(value)


def _check_count(name: str, value: int, minimum: int = 1) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    check_values(value, name, low=minimum, whole=True)
    return int(value)


def _pair(name: str, value: float | Sequence[float]) -> tuple[float, float]:
    """One value per firm: a scalar is used for both firms."""
    if np.ndim(value) == 0:
        return _check_fraction(name, value), _check_fraction(name, value)  # type: ignore[arg-type]
    values = list(value)  # type: ignore[arg-type]
    if len(values) != 2:
        raise ValueError(f"{name} needs one value per firm (2), got {len(values)}: {values!r}")
    return _check_fraction(f"{name}[0]", values[0]), _check_fraction(f"{name}[1]", values[1])


def _value_of_base(
    margin: float, retention: float, discount: float, equity_horizon: int | None
) -> float:
    """Discounted future margins of one current customer (next year's margin onwards)."""
    # A current customer's next margin comes a year from now, if she stays: the
    # "end" timing of crmlab.clv.
    from crmlab.clv import simple_clv

    return float(simple_clv(margin, retention, discount, timing="end", horizon=equity_horizon))


def _firm_names(firms: Sequence[str]) -> list[str]:
    names = list(firms)
    if len(names) != 2 or names[0] == names[1]:
        raise ValueError(f"firms needs two different names, got {names!r}")
    return names


@dataclass(frozen=True)
class _FirmInputs:
    """The checked inputs shared by both firms, and the arithmetic of one firm."""

    budget: float
    margin: float
    acquisition_cost: float
    discount: float
    horizon: int
    initial_customers: float
    price: float
    equity_horizon: int | None

    @classmethod
    def validated(
        cls,
        *,
        budget: float,
        margin: float,
        acquisition_cost: float,
        discount: float,
        horizon: int,
        initial_customers: float,
        revenue_per_customer: float | None,
        equity_horizon: int | None,
    ) -> _FirmInputs:
        margin = _check_nonnegative("margin", margin)
        price = margin if revenue_per_customer is None else revenue_per_customer
        return cls(
            budget=_check_nonnegative("budget", budget),
            margin=margin,
            acquisition_cost=_check_positive("acquisition_cost", acquisition_cost),
            discount=_check_nonnegative("discount", discount),
            horizon=_check_count("horizon", horizon),
            initial_customers=_check_nonnegative("initial_customers", initial_customers),
            price=_check_nonnegative("revenue_per_customer", price),
            equity_horizon=None
            if equity_horizon is None
            else _check_count("equity_horizon", equity_horizon, minimum=0),
        )

    def firm_columns(
        self, share: float, keep: float, rng: np.random.Generator | None = None
    ) -> dict[str, np.ndarray]:
        """Year-by-year columns of one firm; expected values unless ``rng`` is given."""
        horizon = self.horizon
        expected_new = self.budget * share / self.acquisition_cost
        customers = np.empty(horizon)
        new = np.empty(horizon)
        lost = np.empty(horizon)
        previous = self.initial_customers
        for i in range(horizon):
            if rng is not None:
                survivors = float(rng.binomial(int(previous), keep))
                new[i] = float(rng.poisson(expected_new))
            else:
                survivors = previous * keep
                new[i] = expected_new
            lost[i] = previous - survivors
            customers[i] = survivors + new[i]
            previous = customers[i]
        years = np.arange(1, horizon + 1)
        gross_margin = customers * self.margin
        profit = gross_margin - self.budget
        discounted = profit / (1.0 + self.discount) ** years
        value = _value_of_base(self.margin, keep, self.discount, self.equity_horizon)
        with np.errstate(all="ignore"):
            # Nobody left: no spend per customer to speak of, and no equity (not 0 * inf).
            per_customer = np.where(customers > 0, self.budget * (1 - share) / customers, np.nan)
            equity = np.where(customers > 0, customers * value, 0.0)
        return {
            "year": years,
            "customers": customers,
            "new_customers": new,
            "lost_customers": lost,
            "revenue": customers * self.price,
            "gross_margin": gross_margin,
            "marketing": np.full(horizon, self.budget),
            "profit": profit,
            "discounted_profit": discounted,
            "cumulative_profit": np.cumsum(discounted),
            "retention_spend_per_customer": per_customer,
            "customer_equity": equity,
        }


def simulate_firms(
    *,
    budget: float = 100_000.0,
    acquisition_share: float | Sequence[float] = (0.8, 0.4),
    retention: float | Sequence[float] = (0.6, 0.9),
    margin: float = 200.0,
    acquisition_cost: float = 250.0,
    discount: float = 0.10,
    horizon: int = 10,
    initial_customers: float = 100.0,
    revenue_per_customer: float | None = None,
    equity_horizon: int | None = None,
    firms: Sequence[str] = DEFAULT_FIRMS,
    stochastic: bool = False,
    seed: int | None = 0,
) -> pd.DataFrame:
    """Simulate a product-focused and a customer-focused firm with the same budget.

    Each firm spends ``budget`` a year on marketing: the share
    ``acquisition_share`` buys new customers at ``acquisition_cost`` each, the rest
    goes to product push (product focus) or to keeping customers (customer focus);
    what that spending achieves is summarised by each firm's ``retention`` rate.
    Both firms start with ``initial_customers``.

    Parameters
    ----------
    budget : float
        Marketing budget per firm and year (currency units).
    acquisition_share : float or pair of float
        Share of the budget spent on acquisition, per firm (a scalar is used for both).
    retention : float or pair of float
        Share of last year's customers still buying this year, per firm.
    margin : float
        Margin per customer and year, before marketing spend.
    acquisition_cost : float
        Cost of acquiring one customer (> 0).
    discount : float
        Yearly discount rate (>= 0).
    horizon : int
        Years simulated (>= 1).
    initial_customers : float
        Customers of each firm at the start (year 0).
    revenue_per_customer : float, optional
        Sales per customer and year; defaults to ``margin`` (revenue then reads as
        gross margin).
    equity_horizon : int, optional
        Years of future margins counted in customer equity; ``None`` counts them all
        (infinite when ``retention == 1`` and ``discount == 0``).
    firms : pair of str
        Names of the two firms.
    stochastic : bool
        Draw retention (binomial) and acquisition (Poisson) instead of using the
        expected values; customer counts are then whole numbers.
    seed : int, optional
        Seed of :func:`numpy.random.default_rng` for the stochastic version.

    Returns
    -------
    pandas.DataFrame
        One row per firm and year (1 … ``horizon``) with columns ``firm``, ``year``,
        ``customers`` (at the end of the year), ``new_customers``, ``lost_customers``,
        ``revenue``, ``gross_margin``, ``marketing``, ``profit`` (gross margin minus
        marketing), ``discounted_profit``, ``cumulative_profit`` (discounted, from
        year 1), ``retention_spend_per_customer`` and ``customer_equity`` (the
        discounted future margins of the customers at the end of the year).

    Examples
    --------
    >>> df = simulate_firms(horizon=3)
    >>> df.pivot(index="year", columns="firm", values="customers").round(1)
    firm  customer focus  product focus
    year
    1             250.0          380.0
    2             385.0          548.0
    3             506.5          648.8
    >>> round(df["customer_equity"].iloc[-1])
    455850
    """
    inputs = _FirmInputs.validated(
        budget=budget,
        margin=margin,
        acquisition_cost=acquisition_cost,
        discount=discount,
        horizon=horizon,
        initial_customers=initial_customers,
        revenue_per_customer=revenue_per_customer,
        equity_horizon=equity_horizon,
    )
    shares = _pair("acquisition_share", acquisition_share)
    retentions = _pair("retention", retention)
    names = _firm_names(firms)
    if stochastic and initial_customers != int(initial_customers):
        raise ValueError(
            f"initial_customers must be a whole number when stochastic, got {initial_customers!r}"
        )
    rng = np.random.default_rng(seed) if stochastic else None
    frames = [
        pd.DataFrame({"firm": name, **inputs.firm_columns(share, keep, rng)})
        for name, share, keep in zip(names, shares, retentions, strict=True)
    ]
    return pd.concat(frames, ignore_index=True)


@dataclass(frozen=True)
class Crossover:
    """When, and from which retention rate, the customer-focused firm comes out ahead.

    Attributes
    ----------
    metric : str
        The column of :func:`simulate_firms` compared.
    year : int or None
        First year in which the customer-focused firm's ``metric`` is at least the
        product-focused firm's; ``None`` if that never happens within the horizon.
    breakeven_retention : float or None
        Retention rate of the customer-focused firm at which its ``metric`` in the
        last year equals the product-focused firm's (all else as given); ``None`` if
        even retention 1 is not enough; 0.0 if any retention is enough.
    customer_focus_ahead : bool
        Whether the customer-focused firm leads in the last year.
    """

    metric: str
    year: int | None
    breakeven_retention: float | None
    customer_focus_ahead: bool


_SIMULATE_ARGUMENTS = frozenset(inspect.signature(simulate_firms).parameters)


def retention_crossover(
    *,
    metric: Literal[
        "customers", "revenue", "profit", "cumulative_profit", "customer_equity"
    ] = "customer_equity",
    tolerance: float = 1e-6,
    **firm_parameters: object,
) -> Crossover:
    """Year and retention rate at which retention beats acquisition.

    Runs the deterministic :func:`simulate_firms` with ``firm_parameters`` and
    compares the second firm (customer focus) with the first (product focus) on
    ``metric``. The break-even retention rate is found by bisection: every metric
    grows with the customer-focused firm's retention rate.

    Parameters
    ----------
    metric : str
        One of :data:`FIRM_METRICS`.
    tolerance : float
        Precision of the break-even retention rate.
    **firm_parameters
        Keyword arguments of :func:`simulate_firms` (``stochastic`` is not allowed).

    Returns
    -------
    Crossover

    Examples
    --------
    >>> c = retention_crossover(metric="customers", horizon=20)
    >>> c.year, round(c.breakeven_retention, 4), c.customer_focus_ahead
    (6, 0.8021, True)
    >>> retention_crossover(metric="customers", horizon=2).year is None
    True
    """
    if metric not in FIRM_METRICS:
        raise ValueError(f"metric must be one of {FIRM_METRICS}, got {metric!r}")
    if firm_parameters.get("stochastic"):
        raise ValueError("retention_crossover compares expected values: stochastic must be False")
    unknown = set(firm_parameters) - _SIMULATE_ARGUMENTS
    if unknown:
        raise ValueError(f"unknown argument(s) of simulate_firms: {sorted(unknown)}")
    table = simulate_firms(**firm_parameters)  # type: ignore[arg-type]
    names = _firm_names(firm_parameters.get("firms", DEFAULT_FIRMS))  # type: ignore[arg-type]
    wide = table.pivot(index="year", columns="firm", values=metric)
    product, customer = wide[names[0]].to_numpy(), wide[names[1]].to_numpy()
    ahead = np.flatnonzero(customer >= product)
    year = int(wide.index[ahead[0]]) if ahead.size else None

    # Re-simulating only the customer-focused firm's arrays keeps the bisection cheap.
    signature = inspect.signature(simulate_firms)
    defaults = {name: p.default for name, p in signature.parameters.items()}
    given = {**defaults, **firm_parameters}
    inputs = _FirmInputs.validated(
        **{
            name: given[name]
            for name in (
                "budget",
                "margin",
                "acquisition_cost",
                "discount",
                "horizon",
                "initial_customers",
                "revenue_per_customer",
                "equity_horizon",
            )
        }
    )
    share = _pair("acquisition_share", given["acquisition_share"])[1]  # type: ignore[arg-type]
    target = product[-1]

    def last_value(rate: float) -> float:
        return float(inputs.firm_columns(share, rate)[metric][-1])

    if last_value(0.0) >= target:
        breakeven: float | None = 0.0
    elif last_value(1.0) < target:
        breakeven = None
    else:
        low, high = 0.0, 1.0
        while high - low > tolerance:
            middle = 0.5 * (low + high)
            if last_value(middle) >= target:
                high = middle
            else:
                low = middle
        breakeven = high
    return Crossover(metric, year, breakeven, bool(customer[-1] >= product[-1]))


def heterogeneous_cohort(
    *,
    n_customers: float = 1000.0,
    loyal_share: float = 0.3,
    loyal_retention: float = 0.9,
    fickle_retention: float = 0.5,
    periods: int = 10,
    stochastic: bool = False,
    seed: int | None = 0,
) -> pd.DataFrame:
    """A cohort of loyal and fickle customers whose aggregate retention rises.

    Every customer keeps her own retention rate for ever; the fickle ones leave
    faster, so the survivors are more and more loyal and the aggregate retention
    rate climbs from the cohort average towards ``loyal_retention`` — a rising curve
    that says nothing about customers growing more loyal.

    Parameters
    ----------
    n_customers : float
        Size of the cohort at period 0.
    loyal_share : float
        Share of loyal customers at period 0.
    loyal_retention, fickle_retention : float
        Per-period retention rate of each segment.
    periods : int
        Periods simulated after period 0 (>= 1).
    stochastic : bool
        Draw the survivors of each segment binomially (whole numbers).
    seed : int, optional
        Seed of :func:`numpy.random.default_rng` for the stochastic version.

    Returns
    -------
    pandas.DataFrame
        One row per period 0 … ``periods`` with columns ``period``, ``loyal``,
        ``fickle``, ``alive``, ``survival`` (share of the cohort alive),
        ``retention_rate`` (alive now / alive a period earlier; NaN in period 0 and
        once nobody is left) and ``loyal_share`` of the survivors (NaN once nobody
        is left).

    Examples
    --------
    >>> heterogeneous_cohort(periods=3)[["period", "alive", "retention_rate"]].round(3)
       period  alive  retention_rate
    0       0  1000.0             NaN
    1       1   620.0           0.620
    2       2   418.0           0.674
    3       3   306.2           0.733
    """
    n_customers = _check_nonnegative("n_customers", n_customers)
    loyal_share = _check_fraction("loyal_share", loyal_share)
    loyal_retention = _check_fraction("loyal_retention", loyal_retention)
    fickle_retention = _check_fraction("fickle_retention", fickle_retention)
    periods = _check_count("periods", periods)
    if stochastic and n_customers != int(n_customers):
        raise ValueError(f"n_customers must be a whole number when stochastic, got {n_customers!r}")
    rng = np.random.default_rng(seed)

    steps = np.arange(periods + 1)
    if stochastic:
        loyal = np.empty(periods + 1)
        fickle = np.empty(periods + 1)
        loyal[0] = float(rng.binomial(int(n_customers), loyal_share))
        fickle[0] = n_customers - loyal[0]
        for t in range(1, periods + 1):
            loyal[t] = rng.binomial(int(loyal[t - 1]), loyal_retention)
            fickle[t] = rng.binomial(int(fickle[t - 1]), fickle_retention)
    else:
        loyal = n_customers * loyal_share * loyal_retention**steps
        fickle = n_customers * (1 - loyal_share) * fickle_retention**steps
    alive = loyal + fickle
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.concatenate([[np.nan], np.where(alive[:-1] > 0, alive[1:] / alive[:-1], np.nan)])
        survival = alive / n_customers if n_customers > 0 else np.full(periods + 1, np.nan)
        share_loyal = np.where(alive > 0, loyal / alive, np.nan)
    return pd.DataFrame(
        {
            "period": steps,
            "loyal": loyal,
            "fickle": fickle,
            "alive": alive,
            "survival": survival,
            "retention_rate": rate,
            "loyal_share": share_loyal,
        }
    )


def retention_campaign(
    baseline: Sequence[float] | np.ndarray | pd.Series,
    *,
    max_uplift: float = 0.2,
    treated_share: float = 0.5,
    responsiveness_shape: float = 2.0,
    seed: int | None = 0,
) -> pd.DataFrame:
    """A randomised retention campaign with an effect that differs between customers.

    Each customer ``i`` would stay (be active at the end of the campaign period) with
    probability ``baseline[i]`` if left alone. A contact raises that probability by
    her *uplift*

    ``uplift[i] = min(max_uplift * 4 b (1 - b) * m[i], 1 - b)``,  ``b = baseline[i]``,

    where ``m[i]`` is her responsiveness, drawn from a gamma distribution with mean 1
    and shape ``responsiveness_shape`` independently of everything else. The factor
    ``4 b (1 - b)`` encodes the assumption behind Ascarza (2018): a customer who will
    stay anyway (``b`` near 1) cannot be moved, nor can one who is already as good
    as gone (``b`` near 0); the wavering middle moves most, and within it some
    customers respond and others do not. Every customer is assigned to the
    treatment group with probability ``treated_share``, then her outcome is drawn.

    Parameters
    ----------
    baseline : array-like or pandas.Series
        Probability of staying without a contact, each in [0, 1]; a Series keeps its
        index in the result.
    max_uplift : float
        Uplift of a customer with ``b = 0.5`` and average responsiveness, in [0, 1].
    treated_share : float
        Probability of being assigned to the campaign, in (0, 1).
    responsiveness_shape : float
        Shape of the gamma distribution of responsiveness (> 0); smaller is more
        unequal.
    seed : int, optional
        Seed of :func:`numpy.random.default_rng`.

    Returns
    -------
    pandas.DataFrame
        One row per customer: ``baseline``, ``uplift`` (the true effect, which a real
        campaign never reveals), ``treated`` (bool) and ``retained`` (bool).

    References
    ----------
    Ascarza, E. (2018). Retention futility: Targeting high-risk customers might be
    ineffective. *Journal of Marketing Research*, 55(1), 80–98.

    Examples
    --------
    >>> trial = retention_campaign([0.05, 0.5, 0.95], seed=1)
    >>> trial.columns.tolist()
    ['baseline', 'uplift', 'treated', 'retained']
    >>> bool(trial["uplift"].idxmax() == 1)  # the wavering customer moves most on average
    True
    """
    index = baseline.index if isinstance(baseline, pd.Series) else None
    b = np.asarray(baseline, dtype=float).ravel()
    bad = ~np.isfinite(b) | (b < 0) | (b > 1)
    if bad.any():
        where = np.flatnonzero(bad)[:5].tolist()
        raise ValueError(
            f"baseline must hold probabilities in [0, 1]; {int(bad.sum())} value(s) do not, "
            f"at positions {where}: {b[where].tolist()}"
        )
    max_uplift = _check_fraction("max_uplift", max_uplift)
    treated_share = _check_fraction("treated_share", treated_share)
    if treated_share in (0.0, 1.0):
        raise ValueError(
            f"treated_share must be strictly between 0 and 1 (a campaign needs both a "
            f"treated and a control group), got {treated_share!r}"
        )
    responsiveness_shape = _check_positive("responsiveness_shape", responsiveness_shape)
    rng = np.random.default_rng(seed)
    # Drawn in a fixed order so that a seed gives the same customers whatever is asked.
    responsiveness = rng.gamma(responsiveness_shape, 1.0 / responsiveness_shape, b.size)
    treated = rng.random(b.size) < treated_share
    draws = rng.random(b.size)
    uplift = np.minimum(max_uplift * 4.0 * b * (1.0 - b) * responsiveness, 1.0 - b)
    retained = draws < b + np.where(treated, uplift, 0.0)
    return pd.DataFrame(
        {"baseline": b, "uplift": uplift, "treated": treated, "retained": retained},
        index=index,
    )


def write_cdnow_copies(path: str | os.PathLike, copies: int, jitter_days: int = 7) -> int:
    """Write a large, realistic log to Parquet: ``copies`` shifted copies of CDNOW's master file.

    Copy ``k`` of customer ``i`` is customer ``100_000 * k + i``, whose whole history
    moves by a shift of 0..``jitter_days`` days that depends only on (k, i), so every
    copy buys like a real CDNOW customer while the copies do not fall on the same days.
    DuckDB writes the file without the log passing through Python, so a copy count of
    a few hundred (tens of millions of rows) costs seconds and little memory. The same
    arguments always give the same file.

    Returns the number of rows written (69,659 per copy).

    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "log.parquet"
    >>> write_cdnow_copies(out, copies=2)
    139318
    """
    import duckdb

    from crmlab.datasets import load_cdnow

    _check_count("copies", copies)
    _check_count("jitter_days", jitter_days, minimum=0)
    master = load_cdnow("master")[["customer_id", "date", "amount"]]
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        con.register("master", master)
        target = os.fspath(path).replace("'", "''")
        con.execute(
            f"""COPY (
                SELECT CAST(100000 * k + customer_id AS BIGINT) AS customer_id,
                       CAST(date AS DATE)
                           + CAST(hash(k, customer_id) % {int(jitter_days) + 1} AS INTEGER)
                           AS date,
                       amount
                FROM master CROSS JOIN range({int(copies)}) AS copies(k)
                ORDER BY k, customer_id
            ) TO '{target}' (FORMAT parquet)"""
        )
    finally:
        con.close()
    return len(master) * int(copies)
