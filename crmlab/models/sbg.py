"""The shifted-beta-geometric (sBG) model of contract renewal (Fader & Hardie 2007).

Story. At the end of each period a customer cancels with probability ``theta``,
which stays constant for her; across customers ``theta ~ Beta(alpha, beta)``. The
probability of cancelling in period ``t`` and of surviving past it are::

    P(T = t) = B(alpha + 1, beta + t - 1) / B(alpha, beta)
    S(t)     = B(alpha, beta + t) / B(alpha, beta)

so the retention rate ``S(t) / S(t-1) = (beta + t - 1) / (alpha + beta + t - 1)``
rises with tenure: not because anyone grows more loyal, but because the customers
prone to leave have already gone.

Reference: Fader, P. S., & Hardie, B. G. S. (2007). How to project customer
retention. *Journal of Interactive Marketing*, 21(1), 76–90.

>>> import crmlab as cl
>>> regular = cl.datasets.load_survival()["regular"].loc[:7]
>>> sbg = cl.models.ShiftedBetaGeometric().fit(regular)
>>> {k: round(v, 3) for k, v in sbg.params.items()}, round(sbg.loglik, 2)
({'alpha': 0.704, 'beta': 1.182}, -1680.27)
"""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import special

from crmlab._validate import check_values
from crmlab.models._base import (
    ConvergenceWarning,
    MLEModel,
    as_float_array,
    as_output,
    broadcast_inputs,
)

__all__ = ["ShiftedBetaGeometric", "survivors_to_durations"]


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


class ShiftedBetaGeometric(MLEModel):
    """Shifted-beta-geometric model for contractual retention.

    ``fit`` takes the number of customers still active at the start of periods
    0, 1, ..., k of one cohort (a list, array or Series starting with the cohort
    size).

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
    """

    param_names: ClassVar[tuple[str, ...]] = ("alpha", "beta")

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

    def _read(self, data: Any, weights: Any | None) -> tuple[dict[str, np.ndarray], np.ndarray]:
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

    def _loglik_rows(
        self, params: np.ndarray, period: np.ndarray, churned: np.ndarray
    ) -> np.ndarray:
        alpha, beta = params
        log_churn = special.betaln(alpha + 1, beta + period - 1) - special.betaln(alpha, beta)
        log_survive = special.betaln(alpha, beta + period) - special.betaln(alpha, beta)
        return np.where(churned > 0, log_churn, log_survive)

    def survival(self, t: Any) -> Any:
        """S(t): share of a new cohort still customers after ``t`` periods."""
        alpha, beta = self._require_fit()
        (t,), is_scalar = broadcast_inputs(t)
        _check_periods(t, minimum=0)
        value = np.exp(special.betaln(alpha, beta + t) - special.betaln(alpha, beta))
        return as_output(value, is_scalar)

    def churn_probability(self, t: Any) -> Any:
        """P(T = t): probability that a new customer cancels in period ``t`` (t >= 1).

        >>> round(ShiftedBetaGeometric().set_params(alpha=1, beta=1).churn_probability(1), 3)
        0.5
        """
        alpha, beta = self._require_fit()
        (t,), is_scalar = broadcast_inputs(t)
        _check_periods(t, minimum=1)
        value = np.exp(special.betaln(alpha + 1, beta + t - 1) - special.betaln(alpha, beta))
        return as_output(value, is_scalar)

    def retention_rate(self, t: Any) -> Any:
        """r_t = S(t) / S(t - 1): share of those active in period t - 1 who renew (t >= 1)."""
        alpha, beta = self._require_fit()
        (t,), is_scalar = broadcast_inputs(t)
        _check_periods(t, minimum=1)
        return as_output((beta + t - 1) / (alpha + beta + t - 1), is_scalar)

    def expected_lifetime(self) -> float:
        """Mean number of periods a new customer stays, ``(alpha + beta - 1) / (alpha - 1)``.

        Infinite when ``alpha <= 1``: the Beta mixture then puts so many customers
        near a zero cancellation probability that the mean diverges.

        >>> ShiftedBetaGeometric().set_params(alpha=3.8, beta=15.2).expected_lifetime()
        6.428571428571429
        """
        alpha, beta = self._require_fit()
        return float((alpha + beta - 1) / (alpha - 1)) if alpha > 1 else float("inf")

    def project(self, periods: int, cohort_size: float | None = None) -> pd.DataFrame:
        """Expected survivors and retention for periods ``0..periods``.

        >>> sbg = ShiftedBetaGeometric().set_params(alpha=0.704, beta=1.182)
        >>> sbg.project(2, cohort_size=1000)["survivors"].round(1).tolist()
        [1000.0, 626.7, 473.8]
        """
        if periods < 0 or int(periods) != periods:
            raise ValueError(f"periods must be a whole number >= 0, got {periods!r}")
        if cohort_size is None:
            cohort_size = float(getattr(self, "survivors_", [1000.0])[0])
        t = np.arange(int(periods) + 1, dtype=float)
        survival = self.survival(t)
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

    def discounted_expected_lifetime(self, discount: Any) -> Any:
        """DEL of a new customer: :func:`crmlab.clv.del_sbg` at the fitted parameters.

        >>> sbg = ShiftedBetaGeometric().set_params(alpha=3.8, beta=15.2)
        >>> round(sbg.discounted_expected_lifetime(0.1), 3)
        4.009
        """
        from crmlab.clv import del_sbg

        alpha, beta = self._require_fit()
        return del_sbg(alpha, beta, discount)

    def derl(self, discount: Any, n: Any) -> Any:
        """DERL of a customer in her ``n``-th period: :func:`crmlab.clv.derl` at the fit.

        >>> sbg = ShiftedBetaGeometric().set_params(alpha=3.8, beta=15.2)
        >>> sbg.derl(0.1, [1, 2]).round(2)
        array([3.31, 3.45])
        """
        from crmlab.clv import derl

        alpha, beta = self._require_fit()
        return derl(alpha, beta, discount, n)

    def simulate(self, n_customers: int, periods: int, seed: int | None = 0) -> np.ndarray:
        """Survivor counts ``n_0..n_periods`` of a simulated cohort of ``n_customers``.

        Each customer draws her churn probability from Beta(alpha, beta) and then
        her cancellation period from the geometric distribution.

        >>> ShiftedBetaGeometric().set_params(alpha=1, beta=1).simulate(1000, 3, seed=1)[0]
        np.int64(1000)
        """
        alpha, beta = self._require_fit()
        for value, name, low in ((n_customers, "n_customers", 1), (periods, "periods", 0)):
            if isinstance(value, bool) or int(value) != value or value < low:
                raise ValueError(f"{name} must be a whole number >= {low}, got {value!r}")
        rng = np.random.default_rng(seed)
        # A Beta draw can underflow to 0 for tiny alpha; such a customer never leaves.
        theta = np.maximum(rng.beta(alpha, beta, int(n_customers)), 1e-300)
        lifetimes = rng.geometric(theta)  # period in which each customer cancels
        t = np.arange(int(periods) + 1)
        return (lifetimes[None, :] > t[:, None]).sum(axis=1)


def _check_periods(t: np.ndarray, minimum: int) -> None:
    check_values(t, "periods", low=minimum)
