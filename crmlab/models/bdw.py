"""The beta-discrete-Weibull (BdW) model of contract renewal (Fader et al. 2018).

Story. As in the sBG, customer i cancels with her own probability ``theta``,
``theta ~ Beta(alpha, beta)`` across customers; but her chance of still being a
customer after ``t`` periods is ``(1 - theta)^(t^c)``, a discrete Weibull. With
``c = 1`` this is the sBG (constant churn probability for each customer); ``c > 1``
means each customer's churn probability rises with tenure, ``c < 1`` that it falls.
Across customers::

    S(t) = B(alpha, beta + t^c) / B(alpha, beta)

The paper's finding is that cohort retention rates rising over time are mostly
the sorting effect of heterogeneity (the sBG's story), and that individual churn
propensities rarely fall.

Checked against (``tests/test_models_published.py``): the High End estimates that
the R package foretell and its port retenmod print, and the polarization of the
High End fits that the paper's text reports; the paper's tables themselves could
not be read for this library.

Value. ``derl`` and ``retention_elasticity`` are the sBG's quantities (Fader &
Hardie 2010; the elasticity is crmlab's derivation, see
:meth:`ShiftedBetaGeometric.retention_elasticity`) for the BdW: the discounted
expected residual lifetime of a customer in her ``n``-th period,
``sum_{t>=n} S(t) / S(n-1) / (1+d)^(t-n)``, and its elasticity to a 1 % rise in
every per-period retention probability (which multiplies ``S(t)`` by ``1.01^t``).
With no closed form, both sums are taken term by term until the discount has made
the rest negligible. At ``c = 1`` they are the sBG's closed forms.

Reference: Fader, P. S., Hardie, B. G. S., Liu, Y., Davin, J., & Steenburgh, T.
(2018). "How to project customer retention" revisited: The role of duration
dependence. *Journal of Interactive Marketing*, 43, 1–16.

>>> import crmlab as cl
>>> regular = cl.datasets.load_survival()["regular"].loc[:7]
>>> bdw = cl.models.BetaDiscreteWeibull().fit(regular)
>>> sbg = cl.models.ShiftedBetaGeometric().fit(regular)
>>> bool(bdw.loglik >= sbg.loglik - 1e-6)  # it nests the sBG
True
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import special

from crmlab._validate import check_values
from crmlab.models._base import MLEModel, as_float_array, as_output, broadcast_inputs
from crmlab.models.sbg import survivors_to_durations

__all__ = ["BetaDiscreteWeibull"]


def _log_survival(alpha: float, beta: float, c: float, t: Any) -> Any:
    return special.betaln(alpha, beta + np.power(t, c)) - special.betaln(alpha, beta)


class BetaDiscreteWeibull(MLEModel):
    """Beta-discrete-Weibull model, fitted on survivor counts ``n_0, n_1, ..., n_k``.

    Parameters ``alpha``, ``beta`` (the Beta distribution of churn probabilities)
    and ``c`` (duration dependence; 1 is the sBG).

    Examples
    --------
    >>> m = BetaDiscreteWeibull().set_params(alpha=0.704, beta=1.182, c=1.0)
    >>> m.survival([0, 1, 2]).round(3)  # the sBG's, at c = 1
    array([1.   , 0.627, 0.474])

    The paper's five-year calibration of the High End group (years 0-4): individual
    churn probabilities rise with tenure (``c > 1``), and the Beta is more polarized
    than the sBG's, ``1 / (alpha + beta + 1) = 0.335`` against 0.099:

    >>> import crmlab as cl
    >>> high_end = cl.datasets.load_survival()["high_end"].loc[:4]
    >>> bdw = BetaDiscreteWeibull().fit(high_end)
    >>> {k: round(v, 3) for k, v in bdw.params.items()}, round(bdw.loglik, 2)
    ({'alpha': 0.259, 'beta': 1.723, 'c': 1.584}, -1222.75)
    >>> round(1 / (bdw.params["alpha"] + bdw.params["beta"] + 1), 3)
    0.335
    """

    param_names: ClassVar[tuple[str, ...]] = ("alpha", "beta", "c")

    def _read(self, data: Any, weights: Any | None) -> tuple[dict[str, np.ndarray], np.ndarray]:
        if weights is not None:
            raise ValueError("BetaDiscreteWeibull.fit takes survivor counts; weights do not apply")
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
        return [np.array([1.0, 1.0, 1.0]), np.array([0.5, 3.0, 1.0])]

    def _loglik_rows(self, params: Any, period: np.ndarray, churned: np.ndarray) -> np.ndarray:
        alpha, beta, c = params
        before = _log_survival(alpha, beta, c, period - 1)
        after = _log_survival(alpha, beta, c, period)
        with np.errstate(divide="ignore"):
            log_churn = before + np.log(-np.expm1(np.minimum(after - before, 0.0)))
        return np.where(churned > 0, log_churn, after)

    def survival(self, t: Any) -> Any:
        """S(t): share of the cohort still customers after ``t`` periods."""
        alpha, beta, c = self._require_fit()
        (t,), is_scalar = broadcast_inputs(t)
        check_values(t, "t", low=0)
        return as_output(np.exp(_log_survival(alpha, beta, c, t)), is_scalar)

    def retention_rate(self, t: Any) -> Any:
        """r(t) = S(t) / S(t - 1), for t = 1, 2, ...

        >>> m = BetaDiscreteWeibull().set_params(alpha=0.704, beta=1.182, c=1.0)
        >>> round(m.retention_rate(2), 3)
        0.756
        """
        alpha, beta, c = self._require_fit()
        (t,), is_scalar = broadcast_inputs(t)
        check_values(t, "t", low=1)
        log_ratio = _log_survival(alpha, beta, c, t) - _log_survival(alpha, beta, c, t - 1)
        return as_output(np.exp(log_ratio), is_scalar)

    def derl(self, discount: Any, n: Any) -> Any:
        """DERL of a customer in her ``n``-th period (``n >= 1``), discount rate ``> 0``.

        >>> m = BetaDiscreteWeibull().set_params(alpha=3.8, beta=15.2, c=1.0)
        >>> round(m.derl(0.1, 1), 2)  # the sBG's
        3.31
        """
        total, _ = self._discounted_sums(discount, n)
        return total

    def retention_elasticity(self, discount: Any, n: Any = 1) -> Any:
        """% change in DERL for a 1 % rise in every retention probability (point elasticity).

        ``sum_j (j + 1) w_j / sum_j w_j`` with ``w_j = S(n + j) / S(n - 1) / (1 + d)^j``:
        the derivative of ``log DERL`` when ``S(t)`` becomes ``(1 + k)^t S(t)``, at
        ``k = 0``; see :meth:`ShiftedBetaGeometric.retention_elasticity`.

        >>> m = BetaDiscreteWeibull().set_params(alpha=0.704, beta=1.182, c=1.0)
        >>> round(m.retention_elasticity(0.1, 1), 2)  # the sBG's
        6.46
        """
        total, weighted = self._discounted_sums(discount, n)
        return weighted / total

    def _discounted_sums(self, discount: Any, n: Any) -> tuple[Any, Any]:
        """``sum_j w_j`` and ``sum_j (j + 1) w_j``, as floats for scalars, else arrays."""
        alpha, beta, c = self._require_fit()
        (discount, n), is_scalar = broadcast_inputs(discount, n)
        check_values(discount, "discount", above=0.0)
        check_values(n, "n", low=1, whole=True)
        flat_d, flat_n = discount.ravel(), n.ravel()
        totals, weighted = np.empty(flat_d.size), np.empty(flat_d.size)
        for i, (d, period) in enumerate(zip(flat_d, flat_n, strict=True)):
            log_z = -np.log1p(d)
            # Terms are below (j + 1) z^j: stop where the rest of that bound is < 1e-22.
            terms = int(np.ceil((np.log(1e-22) + 2 * np.log1p(-np.exp(log_z))) / log_z)) + 1
            j = np.arange(min(terms, 10_000_000), dtype=float)
            log_w = (
                _log_survival(alpha, beta, c, period + j)
                - _log_survival(alpha, beta, c, period - 1)
                + j * log_z
            )
            w = np.exp(log_w)
            totals[i], weighted[i] = w.sum(), ((j + 1) * w).sum()
        shape = discount.shape
        return (
            as_output(totals.reshape(shape), is_scalar),
            as_output(weighted.reshape(shape), is_scalar),
        )

    def project(self, periods: int) -> pd.Series:
        """Survivors expected at the end of periods 0..``periods`` for the fitted cohort."""
        cohort = float(getattr(self, "survivors_", [1.0])[0])
        return pd.Series(cohort * self.survival(np.arange(periods + 1)), name="expected")

    def simulate(self, n_customers: int, periods: int, seed: int | None = 0) -> np.ndarray:
        """Survivor counts ``n_0..n_periods`` of a simulated cohort.

        Each customer's tenure is the smallest t with ``U > (1 - theta)^(t^c)``.

        >>> counts = BetaDiscreteWeibull().set_params(alpha=1.0, beta=2.0, c=1.5).simulate(100, 3)
        >>> int(counts[0]), bool((np.diff(counts) <= 0).all())
        (100, True)
        """
        alpha, beta, c = self._require_fit()
        rng = np.random.default_rng(seed)
        theta = rng.beta(alpha, beta, n_customers)
        with np.errstate(divide="ignore"):
            tenure = np.ceil((np.log(rng.uniform(size=n_customers)) / np.log1p(-theta)) ** (1 / c))
        return np.array([int((tenure > t).sum()) for t in range(periods + 1)])
