"""The shifted-beta-geometric (sBG) model of contract renewal (Fader & Hardie 2007).

Story. At the end of each period a customer cancels with probability ``theta``,
which stays constant for her; across customers ``theta ~ Beta(alpha, beta)``. The
probability of cancelling in period ``t`` and of surviving past it are::

    P(T = t) = B(alpha + 1, beta + t - 1) / B(alpha, beta)
    S(t)     = B(alpha, beta + t) / B(alpha, beta)

so the retention rate ``S(t) / S(t-1) = (beta + t - 1) / (alpha + beta + t - 1)``
rises with tenure: not because anyone grows more loyal, but because the customers
prone to leave have already gone.

Covariates. With ``churn_covariates=[...]`` customer i's Beta distribution is
``Beta(alpha, beta_i)`` with ``beta_i = beta * exp(-gamma . z_i)``. The odds of her
mean churn probability, ``alpha / beta_i``, are then ``exp(gamma . z_i)`` times the
baseline odds, so a positive coefficient means faster churn (as a positive dropout
coefficient of the Pareto/NBD means faster dropout). The exponential link is the one of
Fader & Hardie's note on time-invariant covariates (2007); pymc-marketing's design for
sBG covariates scales ``alpha`` and ``beta`` each with its own coefficients, of which
this is the case with none on ``alpha``. Leaving ``alpha`` common keeps one coefficient per
covariate and a common long-run tail (``S(t)`` falls like ``t^-alpha``); it is also
what the paper's two groups show: Regular and High End differ in ``beta`` (1.18 vs
3.81), hardly in ``alpha`` (0.70 vs 0.67). Such a model is fitted on one row per
customer or group (``period``, ``churned``, optional ``weight`` and the covariates),
e.g. cohorts' :func:`survivors_to_durations` stacked with a column that tells them
apart.

Retention elasticity, in the setting of Fader & Hardie (2010): the percentage change
in the discounted expected residual lifetime (DERL) of the customers in their ``n``-th
period, so in the residual value of the base, for a 1 % rise in every customer's
retention probability ``1 - theta``. Multiplying each ``1 - theta`` by ``1 + k``
multiplies ``S(t)`` by ``(1 + k)^t``; the derivative at ``k = 0`` is, with
``z = 1 / (1 + d)`` and ``d`` the discount rate per period::

    eta(n) = 2F1(2, beta + n; alpha + beta + n; z) / 2F1(1, beta + n; alpha + beta + n; z)

It exceeds the ``(1 + d) / (1 + d - r)`` of a model with one constant retention
rate ``r`` fitted to the same cohort: ignoring heterogeneity understates what
better retention is worth, as the paper finds. This formula is crmlab's own
derivation: the paper's equation (8) and the elasticities it prints could not be
read for this library (see :meth:`ShiftedBetaGeometric.retention_elasticity`).

References: Fader, P. S., & Hardie, B. G. S. (2007). How to project customer
retention. *Journal of Interactive Marketing*, 21(1), 76–90. Fader, P. S., &
Hardie, B. G. S. (2010). Customer-base valuation in a contractual setting: The
perils of ignoring heterogeneity. *Marketing Science*, 29(1), 85–93. Fader, P. S.,
& Hardie, B. G. S. (2007). Incorporating time-invariant covariates into the
Pareto/NBD and BG/NBD models. http://brucehardie.com/notes/019/

>>> import crmlab as cl
>>> regular = cl.datasets.load_survival()["regular"].loc[:7]
>>> sbg = cl.models.ShiftedBetaGeometric().fit(regular)
>>> {k: round(v, 3) for k, v in sbg.params.items()}, round(sbg.loglik, 2)
({'alpha': 0.704, 'beta': 1.182}, -1680.27)
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import special

from crmlab._validate import Problem, check_values, first_rows, raise_problems
from crmlab.models._base import (
    ConvergenceWarning,
    MLEModel,
    as_float_array,
    as_output,
    broadcast_inputs,
    read_columns,
)
from crmlab.models._covariates import read_covariates

__all__ = [
    "ShiftedBetaGeometric",
    "read_durations",
    "retention_elasticity",
    "survivors_to_durations",
]


def survivors_to_durations(survivors: Any) -> pd.DataFrame:
    """Turn survivor counts ``n_0, n_1, ..., n_k`` into (period, churned, weight) rows.

    Customers lost between ``t - 1`` and ``t`` cancelled in period ``t``
    (``churned = 1``); the ``n_k`` still there at the end are right-censored at ``k``
    (``churned = 0``).

    Raises
    ------
    ValueError
        If the counts are fewer than two, negative, not whole numbers, or rise.

    >>> survivors_to_durations([100, 60, 45])
       period  churned  weight
    0       1        1    40.0
    1       2        1    15.0
    2       2        0    45.0
    """
    if isinstance(survivors, pd.DataFrame):
        raise ValueError(
            "survivors must be one series of counts; pick a column of the frame, for "
            f"example survivors[{str(survivors.columns[-1])!r}] (columns: "
            f"{[str(c) for c in survivors.columns]})"
        )
    array = as_float_array(survivors, "survivors")
    if array.ndim != 1:
        raise ValueError(
            f"survivors must be a 1-d sequence of counts (one cohort); got shape {array.shape}"
        )
    counts = array
    labels = list(survivors.index) if isinstance(survivors, pd.Series) else list(range(len(counts)))
    if len(counts) < 2:
        raise ValueError("survivors needs at least two counts: the cohort size and one more")
    bad = ~np.isfinite(counts) | (counts < 0) | (counts != np.round(counts))
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"survivor counts must be whole numbers >= 0; period {labels[first]!r} has "
            f"{counts[first]:g}"
        )
    rising = np.flatnonzero(np.diff(counts) > 0)
    if len(rising):
        first = int(rising[0]) + 1
        raise ValueError(
            f"survivor counts cannot rise: period {labels[first]!r} has {counts[first]:g} "
            f"after {counts[first - 1]:g} (pass the number still customers, not new ones)"
        )
    if counts[0] <= 0:
        raise ValueError("the cohort is empty: the first survivor count must be positive")
    periods = np.arange(1, len(counts))
    frame = pd.DataFrame(
        {
            "period": np.r_[periods, len(counts) - 1],
            "churned": np.r_[np.ones(len(periods), dtype=int), 0],
            "weight": np.r_[-np.diff(counts), counts[-1]],
        }
    )
    return frame


def read_durations(
    data: Any, weights: Any | None = None
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The ``period`` and ``churned`` columns of ``data`` (and weights), checked.

    One row per customer (or per group of alike customers, with a ``weight``):
    ``period`` is the last period observed (whole, >= 1) and ``churned`` says
    whether she cancelled in it (1) or was still a customer at its end (0).

    >>> columns, w = read_durations({"period": [1, 3], "churned": [1, 0]})
    >>> columns["period"].tolist(), w.tolist()
    ([1.0, 3.0], [1.0, 1.0])
    """
    columns, row_weights, index = read_columns(data, weights, columns=("period", "churned"))
    period, churned = columns["period"], columns["churned"]
    fix = (
        "Build the rows with survivors_to_durations (one cohort's survivor counts) or "
        "give each customer her last period observed and whether she cancelled in it"
    )
    problems = []
    with np.errstate(invalid="ignore"):
        bad_period = ~np.isfinite(period) | (period < 1) | (period != np.round(period))
        bad_churned = ~np.isin(churned, (0.0, 1.0))
    for bad, name, rule in (
        (bad_period, "period", "not whole numbers >= 1"),
        (bad_churned, "churned", "neither 0 nor 1"),
    ):
        if bad.any():
            values = columns[name]
            problems.append(
                Problem(
                    f"column {name!r}",
                    int(bad.sum()),
                    f"value(s) {rule}",
                    first_rows(bad, values, labels=index),
                    fix,
                )
            )
    raise_problems(problems)
    return {"period": period, "churned": churned}, row_weights


def _is_durations(data: Any) -> bool:
    return isinstance(data, pd.DataFrame | Mapping) and {"period", "churned"} <= set(data)


class ShiftedBetaGeometric(MLEModel):
    """Shifted-beta-geometric model for contractual retention.

    ``fit`` takes the number of customers still active at the start of periods
    0, 1, ..., k of one cohort (a list, array or Series starting with the cohort
    size), or a table of durations: one row per customer or group, columns
    ``period`` (last period observed), ``churned`` (1 if she cancelled in it, 0 if
    still a customer), optionally ``weight``, and the covariates if any.

    Parameters
    ----------
    churn_covariates : list of str, optional
        Columns of the durations table that shift the churn distribution:
        ``beta_i = beta * exp(-gamma_churn . z_i)`` (parameters ``"churn.<column>"``).
        A positive coefficient raises the odds of the mean churn probability by
        ``exp(gamma)`` per unit of the covariate: faster churn. Every prediction
        then takes ``covariates=``, the covariate values of the customers (or
        cohorts) predicted for.

    Examples
    --------
    >>> sbg = ShiftedBetaGeometric().set_params(alpha=0.704, beta=1.182)
    >>> sbg.survival([0, 1, 2]).round(3)
    array([1.   , 0.627, 0.474])
    >>> sbg.retention_rate([1, 2, 12]).round(3)
    array([0.627, 0.756, 0.945])

    Fitting to the High End group's survivors, years 0-7:

    >>> m = ShiftedBetaGeometric().fit([1000, 869, 743, 653, 593, 551, 517, 491])
    >>> round(m.params["alpha"], 3), round(m.params["beta"], 3)
    (0.668, 3.806)

    Both groups in one fit, told apart by a covariate:

    >>> import crmlab as cl
    >>> survival = cl.datasets.load_survival()
    >>> rows = pd.concat([
    ...     survivors_to_durations(survival[group].loc[:7]).assign(high_end=flag)
    ...     for group, flag in (("regular", 0.0), ("high_end", 1.0))])
    >>> both = ShiftedBetaGeometric(churn_covariates=["high_end"]).fit(rows)
    >>> round(both.params["churn.high_end"], 2)  # High End churns less
    -1.24
    >>> both.survival(12, covariates={"high_end": [0, 1]}).round(3)
    array([0.172, 0.374])
    """

    param_names: ClassVar[tuple[str, ...]] = ("alpha", "beta")
    data_columns: ClassVar[tuple[str, ...]] = ("period", "churned")
    covariate_effects: ClassVar[Mapping[str, tuple[tuple[str, float], ...]]] = {
        "churn": (("beta", -1.0),),
    }

    def __init__(self, churn_covariates: Sequence[str] | None = None) -> None:
        super().__init__({"churn": churn_covariates})

    def _check_data(self, columns: dict[str, np.ndarray], weights: np.ndarray) -> None:
        churned = columns["churned"] > 0
        lost, stayed = weights[churned].sum(), weights[~churned].sum()
        if lost == 0 or stayed == 0:
            what = "no customer left" if lost == 0 else "every customer left"
            warnings.warn(
                f"ShiftedBetaGeometric: {what} during the observed periods, so the data "
                "cannot pin down the spread of churn probabilities; the estimates run to "
                "the edge of their range. Observe more periods before trusting projections.",
                ConvergenceWarning,
                stacklevel=3,
            )

    def _read_all(
        self, data: Any, weights: Any | None, *, fitting: bool
    ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        if self.covariates and not _is_durations(data):
            raise ValueError(
                "an sBG with churn_covariates is fitted on a table of durations (columns "
                "'period', 'churned', optionally 'weight', and the covariates), not on "
                "survivor counts; stack each cohort's survivors_to_durations(counts) with "
                "its covariate values, e.g. survivors_to_durations(counts).assign(group=1)"
            )
        return super()._read_all(data, weights, fitting=fitting)

    def _read(self, data: Any, weights: Any | None) -> tuple[dict[str, np.ndarray], np.ndarray]:
        if _is_durations(data):
            # A cohort size belongs to survivor counts only; a stale one would mislead project().
            self.__dict__.pop("survivors_", None)
            return read_durations(data, weights)
        if weights is not None:
            raise ValueError("ShiftedBetaGeometric.fit takes survivor counts; weights do not apply")
        durations = survivors_to_durations(data)
        self.survivors_ = as_float_array(data, "survivors")
        return (
            {
                "period": durations["period"].to_numpy(float),
                "churned": durations["churned"].to_numpy(float),
            },
            durations["weight"].to_numpy(float),
        )

    def _starts(self, columns: dict[str, np.ndarray], weights: np.ndarray) -> list[np.ndarray]:
        return [np.array([1.0, 1.0]), np.array([0.5, 3.0])]

    def _loglik_rows(self, params: Any, period: np.ndarray, churned: np.ndarray) -> np.ndarray:
        alpha, beta = params
        log_churn = special.betaln(alpha + 1, beta + period - 1) - special.betaln(alpha, beta)
        log_survive = special.betaln(alpha, beta + period) - special.betaln(alpha, beta)
        return np.where(churned > 0, log_churn, log_survive)

    def survival(self, t: Any, *, covariates: Any = None) -> Any:
        """S(t): share of a new cohort still customers after ``t`` periods.

        With covariates, one value per row of ``covariates`` (broadcast with ``t``
        like numpy: ``t[:, None]`` gives a periods-by-customers table).
        """
        (t, alpha, beta), is_scalar = broadcast_inputs(t, *self._individual(covariates))
        _check_periods(t, minimum=0)
        value = np.exp(special.betaln(alpha, beta + t) - special.betaln(alpha, beta))
        return as_output(value, is_scalar)

    def churn_probability(self, t: Any, *, covariates: Any = None) -> Any:
        """P(T = t): probability that a new customer cancels in period ``t`` (t >= 1).

        >>> round(ShiftedBetaGeometric().set_params(alpha=1, beta=1).churn_probability(1), 3)
        0.5
        """
        (t, alpha, beta), is_scalar = broadcast_inputs(t, *self._individual(covariates))
        _check_periods(t, minimum=1)
        value = np.exp(special.betaln(alpha + 1, beta + t - 1) - special.betaln(alpha, beta))
        return as_output(value, is_scalar)

    def retention_rate(self, t: Any, *, covariates: Any = None) -> Any:
        """r_t = S(t) / S(t - 1): share of those active in period t - 1 who renew (t >= 1)."""
        (t, alpha, beta), is_scalar = broadcast_inputs(t, *self._individual(covariates))
        _check_periods(t, minimum=1)
        return as_output((beta + t - 1) / (alpha + beta + t - 1), is_scalar)

    def expected_lifetime(self, *, covariates: Any = None) -> Any:
        """Mean number of periods a new customer stays, ``(alpha + beta - 1) / (alpha - 1)``.

        Infinite when ``alpha <= 1``: the Beta mixture then puts so many customers
        near a zero cancellation probability that the mean diverges.

        >>> ShiftedBetaGeometric().set_params(alpha=3.8, beta=15.2).expected_lifetime()
        6.428571428571429
        """
        (alpha, beta), is_scalar = broadcast_inputs(*self._individual(covariates))
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.where(alpha > 1, (alpha + beta - 1) / (alpha - 1), np.inf)
        return float(value) if is_scalar else value

    def project(
        self, periods: int, cohort_size: float | None = None, *, covariates: Any = None
    ) -> pd.DataFrame:
        """Expected survivors and retention for periods ``0..periods``.

        With covariates the cohort is the customers of ``covariates`` (one row
        each): its survival is the average of theirs, and ``cohort_size`` defaults
        to their number.

        >>> sbg = ShiftedBetaGeometric().set_params(alpha=0.704, beta=1.182)
        >>> sbg.project(2, cohort_size=1000)["survivors"].round(1).tolist()
        [1000.0, 626.7, 473.8]
        """
        if periods < 0 or int(periods) != periods:
            raise ValueError(f"periods must be a whole number >= 0, got {periods!r}")
        t = np.arange(int(periods) + 1, dtype=float)
        if self.covariates:
            each = np.atleast_2d(self.survival(t[:, None], covariates=covariates))
            survival = each.mean(axis=1)
            default_size = float(each.shape[1])
        else:
            survival = self.survival(t, covariates=covariates)
            default_size = float(getattr(self, "survivors_", [1000.0])[0])
        cohort_size = default_size if cohort_size is None else cohort_size
        retention = np.r_[np.nan, survival[1:] / survival[:-1]]
        frame = pd.DataFrame(
            {
                "survival": survival,
                "survivors": cohort_size * survival,
                "retention_rate": retention,
            },
            index=pd.Index(t.astype(int), name="period"),
        )
        return frame.round({"survival": 3, "retention_rate": 3})

    def discounted_expected_lifetime(self, discount: Any, *, covariates: Any = None) -> Any:
        """DEL of a new customer: :func:`crmlab.clv.del_sbg` at the fitted parameters.

        >>> sbg = ShiftedBetaGeometric().set_params(alpha=3.8, beta=15.2)
        >>> round(sbg.discounted_expected_lifetime(0.1), 3)
        4.009
        """
        from crmlab.clv import del_sbg

        return del_sbg(*self._individual(covariates), discount)

    def derl(self, discount: Any, n: Any, *, covariates: Any = None) -> Any:
        """DERL of a customer in her ``n``-th period: :func:`crmlab.clv.derl` at the fit.

        >>> sbg = ShiftedBetaGeometric().set_params(alpha=3.8, beta=15.2)
        >>> sbg.derl(0.1, [1, 2]).round(2)
        array([3.31, 3.45])
        """
        from crmlab.clv import derl

        alpha, beta = self._individual(covariates)
        return derl(alpha, beta, discount, n)

    def retention_elasticity(self, discount: Any, n: Any = 1, *, covariates: Any = None) -> Any:
        """% change in DERL for a 1 % rise in every retention probability.

        The point elasticity ``d log DERL / d log(1 + k)`` at ``k = 0`` when each
        customer's retention probability ``1 - theta`` becomes ``(1 + k)(1 - theta)``,
        for the customers in their ``n``-th period (see the module docstring)::

            2F1(2, beta + n; alpha + beta + n; z) / 2F1(1, beta + n; alpha + beta + n; z)

        with ``z = 1 / (1 + discount)``.

        Where it comes from. Fader & Hardie (2010) ask by how much the residual
        value of a contractual base grows for a 1 % rise in retention, and find
        that the textbook ``(1 + d) / (1 + d - r)`` of one constant retention rate
        understates it when customers differ. Their equation (8) and the
        elasticities they print could not be read for this library, so this is
        crmlab's own derivation in that setting, the elasticity of the customers'
        total DERL (their residual value, for a constant margin). It is checked
        against quadrature over ``theta`` with finite differences of DERL, and
        against the paper's finding on its Table 3 cases
        (``tests/test_models_published.py``); it is not checked against the
        paper's own numbers.

        It is a different quantity from pymc-marketing's
        ``expected_retention_elasticity``: that is the plain average of the
        customers' own elasticities ``(1 + d) / (1 + d - (1 - theta))``, which is
        ``2F1(1, beta + n - 1; alpha + beta + n - 1; z)``. The total's elasticity
        weights each customer by her DERL (the loyal ones, worth most, gain most),
        so it is the larger. It is also the discounted mean time to the further
        payments, counted in periods (the duration of the customer asset of
        Pfeifer & Farris 2004). Infinite at ``discount = 0`` when ``alpha <= 2``.

        >>> sbg = ShiftedBetaGeometric().set_params(alpha=0.704, beta=1.182)
        >>> sbg.retention_elasticity(0.1, [1, 5]).round(2)
        array([6.46, 7.74])
        """
        alpha, beta = self._individual(covariates)
        return retention_elasticity(alpha, beta, discount, n)

    def simulate(self, n_customers: int, periods: int, seed: int | None = 0) -> np.ndarray:
        """Survivor counts ``n_0..n_periods`` of a simulated cohort of ``n_customers``.

        Each customer draws her churn probability from Beta(alpha, beta) and then
        her cancellation period from the geometric distribution.

        >>> ShiftedBetaGeometric().set_params(alpha=1, beta=1).simulate(1000, 3, seed=1)[0]
        np.int64(1000)
        """
        if self.covariates:
            raise ValueError(
                "a covariate sBG simulates customers, not one cohort: use "
                "simulate_durations(periods, covariates=...)"
            )
        alpha, beta = self._require_fit()
        _check_whole(n_customers, "n_customers", 1)
        _check_whole(periods, "periods", 0)
        lifetimes = _draw_lifetimes(alpha, beta, int(n_customers), np.random.default_rng(seed))
        t = np.arange(int(periods) + 1)
        return (lifetimes[None, :] > t[:, None]).sum(axis=1)

    def simulate_durations(
        self,
        periods: int,
        *,
        n_customers: int | None = None,
        covariates: Any = None,
        seed: int | None = 0,
    ) -> pd.DataFrame:
        """One simulated row per customer, observed for ``periods`` periods, ready to fit.

        Columns ``period`` (the period she cancelled in, or ``periods`` if she was
        still a customer then) and ``churned``, plus the covariate columns of a
        covariate model (``covariates``: one row per customer; ``n_customers`` is
        their number). Without covariates pass ``n_customers``.

        >>> m = ShiftedBetaGeometric(churn_covariates=["g"]).set_params(
        ...     alpha=1.0, beta=2.0, **{"churn.g": 0.5})
        >>> rows = m.simulate_durations(5, covariates={"g": [0.0, 1.0, 1.0]}, seed=1)
        >>> list(rows.columns), len(rows)
        (['period', 'churned', 'g'], 3)
        """
        _check_whole(periods, "periods", 1)
        alpha, beta = self._individual(covariates)
        size = np.size(beta) if self.covariates else n_customers
        if size is None:
            raise ValueError("pass n_customers, the number of customers to simulate")
        _check_whole(size, "n_customers", 1)
        if self.covariates and n_customers is not None and n_customers != size:
            raise ValueError(
                f"n_customers={n_customers} but covariates hold {size} rows; give one "
                "covariate row per customer (or leave n_customers out)"
            )
        rng = np.random.default_rng(seed)
        lifetimes = _draw_lifetimes(alpha, np.broadcast_to(beta, (int(size),)), int(size), rng)
        frame = pd.DataFrame(
            {
                "period": np.minimum(lifetimes, int(periods)),
                "churned": (lifetimes <= periods).astype(int),
            }
        )
        for names in self.covariates.values():
            matrix = read_covariates(covariates, names, require_variation=False)
            for position, name in enumerate(names):
                frame[name] = matrix[:, position]
        return frame


def retention_elasticity(alpha: Any, beta: Any, discount: Any, n: Any = 1) -> Any:
    """sBG retention elasticity of DERL for a customer in her ``n``-th period (F&H 2010).

    See :meth:`ShiftedBetaGeometric.retention_elasticity`. Where scipy's
    ``hyp2f1`` gives up, both series are summed term by term.

    >>> round(retention_elasticity(1.0, 1.0, 0.1), 3)
    5.106
    """
    from crmlab.clv import _sbg_inputs

    arrays, is_scalar = _sbg_inputs(alpha=alpha, beta=beta, discount=discount, n=n)
    a, b, d, period = arrays["alpha"], arrays["beta"], arrays["discount"], arrays["n"]
    check_values(period, "n", low=1, whole=True)
    b_n = b + period
    with np.errstate(divide="ignore", invalid="ignore"):
        z = 1 / (1 + d)
        top = np.asarray(special.hyp2f1(2.0, b_n, a + b_n, z), dtype="float64")
        bottom = np.asarray(special.hyp2f1(1.0, b_n, a + b_n, z), dtype="float64")
        value = top / bottom
        # Undiscounted, the mean of the further periods counted with their weight:
        # finite only when the tail of the survival curve is light enough (alpha > 2).
        value = np.where(d == 0, np.where(a > 2, (a + b_n - 2) / (a - 2), np.inf), value)
    failed = (d > 0) & ~np.isfinite(value)
    if np.any(failed):
        value = np.array(value, dtype=float)
        value[failed] = _elasticity_by_series(a[failed], b_n[failed], z[failed])
    return as_output(value, is_scalar)


def _elasticity_by_series(alpha: np.ndarray, b_n: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Sum the two series of the elasticity directly, on the log scale (large parameters)."""
    top = np.zeros_like(alpha)
    bottom = np.zeros_like(alpha)
    log_term = np.zeros_like(alpha)  # log of (b_n)_j / (alpha + b_n)_j z^j
    for j in range(200_000):
        term = np.exp(log_term)
        top += (j + 1) * term
        bottom += term
        if np.all((j + 1) * term <= 1e-16 * top):
            break
        log_term = log_term + np.log(z) + np.log1p(-alpha / (alpha + b_n + j))
    return top / bottom


def _draw_lifetimes(alpha: Any, beta: Any, size: int, rng: np.random.Generator) -> np.ndarray:
    """Each customer's cancellation period: theta ~ Beta(alpha, beta), then geometric."""
    # A Beta draw can underflow to 0 for tiny alpha; such a customer never leaves.
    theta = np.maximum(rng.beta(alpha, beta, size), 1e-300)
    return rng.geometric(theta)


def _check_whole(value: Any, name: str, low: int) -> None:
    if isinstance(value, bool) or int(value) != value or value < low:
        raise ValueError(f"{name} must be a whole number >= {low}, got {value!r}")


def _check_periods(t: np.ndarray, minimum: int) -> None:
    check_values(t, "periods", low=minimum)
