"""The MBG/NBD model (Batislam, Denizel & Filiztekin 2007).

Story. As in the BG/NBD, an active customer buys at Poisson rate ``lambda`` and
``lambda ~ Gamma(r, alpha)``; she may become inactive with probability ``p``,
``p ~ Beta(a, b)``. The one change: she may also drop out right after her *first*
purchase, at time 0, not only after each repeat purchase. So a customer with no
repeat purchase is no longer certainly alive, which the BG/NBD assumes and which
makes its P(alive) of one-time buyers equal to 1 however long ago they bought.

Likelihood (each customer has ``x + 1`` chances to drop out by ``t_x``)::

    L = B(a, b + x + 1) / B(a, b) · Γ(r + x) α^r / (Γ(r) (α + T)^(r + x))
        + B(a + 1, b + x) / B(a, b) · Γ(r + x) α^r / (Γ(r) (α + t_x)^(r + x))

Reference: Batislam, E. P., Denizel, M., & Filiztekin, A. (2007). Empirical
validation and comparison of models for customer base analysis. *International
Journal of Research in Marketing*, 24(3), 201–209. The same model is the CNBD-1
case of Platzer & Reutterer's MBG/CNBD-k (BTYDplus).

On the CDNOW summary of Fader, Hardie & Lee (2005), BTYDplus and lifetimes
report r = 0.525, α = 6.183, a = 0.891, b = 1.614:

>>> import crmlab as cl
>>> m = cl.models.MBGNBD().fit(cl.datasets.load_cdnow_published_summary())
>>> {k: round(v, 3) for k, v in m.params.items()}
{'r': 0.525, 'alpha': 6.183, 'a': 0.891, 'b': 1.614}
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from scipy import special

from crmlab._validate import check_values
from crmlab.models import bgnbd
from crmlab.models._base import (
    as_output,
    broadcast_inputs,
    quiet,
)
from crmlab.models._counts import log_nbd
from crmlab.models._intervals import interval_option
from crmlab.models.bgnbd import BGNBD, _away_from_one

__all__ = ["MBGNBD"]


def _log_terms(
    r: float,
    alpha: Any,
    a: Any,
    b: Any,
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,
    levels: dict[str, Any] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Log of the 'still active at T' and 'dropped out at t_x' terms of the likelihood.

    The BG/NBD's terms with one more chance to drop out (see :func:`bgnbd._log_terms`).
    """
    return bgnbd._log_terms(r, alpha, a, b, x, t_x, T, levels, shift=1)


class MBGNBD(BGNBD):
    """Modified BG/NBD: like :class:`BGNBD`, but customers may also drop out at time 0.

    Same data, parameters (``r``, ``alpha``, ``a``, ``b``), covariates and
    prediction methods as :class:`BGNBD`.

    Examples
    --------
    >>> m = MBGNBD().set_params(r=0.525, alpha=6.183, a=0.891, b=1.614)
    >>> round(m.p_alive(0, 0, 38.86), 3)  # a one-time buyer is no longer surely alive
    0.39
    >>> round(m.expected_purchases(39), 3)
    1.183
    """

    # P(alive) is the BG/NBD's, compared on these terms (one more chance to drop out).
    _history_terms = staticmethod(_log_terms)

    def _starts(self, columns: dict[str, np.ndarray], weights: np.ndarray) -> list[np.ndarray]:
        # alpha as r over the mean purchase rate, so that each start's mean rate
        # r / alpha matches the data's: Newton's method then needs fewer steps.
        alpha = 1.0 / self._mean_purchase_rate(columns, weights)
        return [np.array([1.0, alpha, 0.8, 2.5]), np.array([0.5, alpha / 2, 0.9, 1.6])]

    # The likelihood and its gradient are the BG/NBD's with this one change.
    _extra_chances: ClassVar[int] = 1

    @quiet
    def expected_purchases(self, t: Any, *, covariates: Any = None) -> Any:
        """E[X(t)] of a new customer, ``b/(a-1) [1 - (α/(α+t))^r 2F1(r, b+1; a+b; t/(α+t))]``.

        >>> m = MBGNBD().set_params(r=0.525, alpha=6.183, a=0.891, b=1.614)
        >>> m.expected_purchases([0, 78]).round(3)
        array([0.   , 1.805])
        """
        (t, r, alpha, a, b), is_scalar = broadcast_inputs(
            self._in_unit(t), *self._individual(covariates)
        )
        check_values(t, "t", low=0)

        def curve(a: Any) -> np.ndarray:
            hyper = special.hyp2f1(r, b + 1, a + b, t / (alpha + t))
            # + 0.0: at t = 0 the product is -0.0 when a < 1
            return b / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyper) + 0.0

        return as_output(_away_from_one(curve, a), is_scalar)

    @quiet
    def probability_of_purchases(self, n: Any, t: Any, *, covariates: Any = None) -> Any:
        """P(X(t) = n) of a new customer.

        She makes exactly ``n`` purchases either by surviving all ``n + 1`` chances to
        drop out and buying ``n`` times, or by dropping out at the ``n``-th chance
        with at least ``n`` purchases possible.

        >>> m = MBGNBD().set_params(r=0.525, alpha=6.183, a=0.891, b=1.614)
        >>> round(float(sum(m.probability_of_purchases(range(300), 39))), 6)
        1.0
        """
        from scipy import stats

        (n, t, r, alpha, a, b), is_scalar = broadcast_inputs(
            n, self._in_unit(t), *self._individual(covariates)
        )
        check_values(t, "t", low=0)
        check_values(n, "n", low=0, whole=True)
        log_b_ab = special.betaln(a, b)
        survived = np.exp(special.betaln(a, b + n + 1) - log_b_ab + log_nbd(n, t, r, alpha))
        at_least = np.where(n > 0, 1 - stats.nbinom.cdf(n - 1, r, alpha / (alpha + t)), 1.0)
        dropped = np.exp(special.betaln(a + 1, b + n) - log_b_ab) * at_least
        return as_output(survived + dropped, is_scalar)

    def _b_after(self, b: Any, x: Any) -> Any:
        # Active at T means having survived x + 1 chances (the one at time 0 too); from
        # then on dropout chances come after purchases, as in the BG/NBD.
        return b + x + 1

    @quiet
    @interval_option("t", "x", "t_x", "T")
    def conditional_expected_purchases(
        self,
        t: Any,
        x: Any,
        t_x: Any,
        T: Any,
        *,
        covariates: Any = None,
    ) -> Any:
        """Expected purchases in ``(T, T + t]`` given (x, t_x, T).

        ``(a+b+x)/(a-1) [1 - ((α+T)/(α+T+t))^(r+x) 2F1(r+x, b+x+1; a+b+x; t/(α+T+t))]``
        times P(alive). ``covariates`` as in :meth:`BGNBD.p_alive`.

        >>> m = MBGNBD().set_params(r=0.525, alpha=6.183, a=0.891, b=1.614)
        >>> round(m.conditional_expected_purchases(39, 2, 30.43, 38.86), 3)
        1.263
        """
        (t, x, t_x, T), is_scalar = broadcast_inputs(self._in_unit(t), x, t_x, T)
        check_values(t, "t", low=0)
        alive = self.p_alive(x, t_x, T, covariates=covariates)
        (t, x, t_x, T, r, alpha, a, b, alive), is_scalar = broadcast_inputs(
            t, x, t_x, T, *self._individual(covariates), alive, scalar=is_scalar
        )
        decay = np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + t)))

        def growth(a: Any) -> np.ndarray:
            hyper = special.hyp2f1(r + x, b + x + 1, a + b + x, t / (alpha + T + t))
            return (a + b + x) / (a - 1) * (1 - decay * hyper)

        return as_output(_away_from_one(growth, a) * alive, is_scalar)

    def simulate(
        self, n_customers: int, T: Any, seed: int | None = 0, *, covariates: Any = None
    ) -> dict[str, np.ndarray]:
        """Draw a base: the first chance to drop out comes right after the first purchase.

        >>> base = MBGNBD().set_params(r=0.5, alpha=6.0, a=0.9, b=1.6).simulate(5, 39.0)
        >>> sorted(base)
        ['T', 't_x', 'x']
        """
        r, alpha, a, b = (
            np.broadcast_to(value, (n_customers,)) for value in self._individual(covariates)
        )
        rng = np.random.default_rng(seed)
        T_values = np.broadcast_to(np.asarray(T, dtype=float), (n_customers,)).copy()
        rate = rng.gamma(r, 1.0 / alpha, n_customers)
        dropout = rng.beta(a, b, n_customers)
        purchases_before_dropout = rng.geometric(dropout) - 1  # the 0th chance is at time 0
        arrivals = rng.poisson(rate * T_values)
        x = np.minimum(arrivals, purchases_before_dropout)
        position = rng.beta(np.maximum(x, 1), arrivals - x + 1)
        t_x = np.where(x > 0, T_values * position, 0.0)
        return {"x": x.astype(float), "t_x": t_x, "T": T_values}
