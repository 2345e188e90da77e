"""The BG/BB model for discrete transaction opportunities (Fader, Hardie & Shang 2010).

Story. A customer has a transaction opportunity in each period (a yearly donation
drive, an annual event). While alive she transacts at each opportunity with
probability ``p``; before each opportunity she may die with probability ``theta``.
Across customers ``p ~ Beta(alpha, beta)`` and ``theta ~ Beta(gamma, delta)``.

A customer who transacted ``x`` times in ``n`` opportunities, the last at
opportunity ``t_x``, has likelihood (eq. 5 of the paper)::

    L = B(alpha + x, beta + n - x) / B(alpha, beta) · B(gamma, delta + n) / B(gamma, delta)
        + sum_{i=0}^{n - t_x - 1} B(alpha + x, beta + t_x - x + i) / B(alpha, beta)
                                  · B(gamma + 1, delta + t_x + i) / B(gamma, delta)

The sum runs over the opportunity after which she may have died; it is computed for
all customers at once, one term per possible ``i``.

Predictions: E[X(n)] (eq. 7), P(X(n) = x) (eq. 8), P(alive) (eq. 11), expected
transactions in the next ``n*`` opportunities (eq. 13) and the discounted expected
residual transactions, DERT (eq. 14), for valuing a customer.

Reference: Fader, P. S., Hardie, B. G. S., & Shang, J. (2010). Customer-base
analysis in a discrete-time noncontractual setting. *Marketing Science*, 29(6),
1086–1108.

>>> import crmlab as cl
>>> bb = cl.models.BGBB().fit(cl.datasets.load_donations())
>>> {k: round(v, 3) for k, v in bb.params.items()}
{'alpha': 1.204, 'beta': 0.75, 'gamma': 0.657, 'delta': 2.783}
>>> round(bb.loglik, 1)
-33225.6
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from scipy import special

from crmlab._validate import check_values, first_rows
from crmlab.models._base import (
    MLEModel,
    as_output,
    broadcast_inputs,
    read_columns,
)

__all__ = ["BGBB"]


def _check_bb(x: np.ndarray, t_x: np.ndarray, n: np.ndarray, index: Any = None) -> None:
    for values, name in ((x, "x"), (t_x, "t_x"), (n, "n")):
        bad = ~np.isfinite(values) | (values < 0) | (values != np.round(values))
        if bad.any():
            raise ValueError(
                f"column {name!r} must hold whole numbers >= 0: "
                f"{first_rows(bad, values, labels=index)}"
            )
    checks = [
        (x > t_x, "x > t_x (more transactions than the opportunity of the last one)"),
        (t_x > n, "t_x > n (last transaction after the last opportunity)"),
        ((x > 0) & (t_x == 0), "x > 0 with t_x = 0"),
        ((x == 0) & (t_x > 0), "x = 0 with t_x > 0"),
    ]
    for bad, what in checks:
        if bad.any():
            raise ValueError(
                f"{what} in {int(bad.sum())} row(s): {first_rows(bad, x, t_x, n, labels=index)}"
            )


def _death_weighted_growth(
    gamma: float, delta: float, start: np.ndarray, stop: np.ndarray
) -> np.ndarray:
    """Expected alive opportunities between ``start`` and ``stop``, given alive through ``start``.

    Returns ``delta / (gamma - 1) * G(gamma + delta) / G(1 + delta) * [R(start) - R(stop)]``
    with ``R(k) = G(1 + delta + k) / G(gamma + delta + k)`` (``G`` the gamma function),
    the factor shared by eqs. 7 and 13 of the paper. At ``gamma = 1`` the two terms
    of the bracket cancel and the division by ``gamma - 1`` is 0 / 0; the limit,
    ``delta * (digamma(1 + delta + stop) - digamma(1 + delta + start))``, is used there.
    """
    log_r_start = special.gammaln(1 + delta + start) - special.gammaln(gamma + delta + start)
    log_r_stop = special.gammaln(1 + delta + stop) - special.gammaln(gamma + delta + stop)
    scale = np.exp(special.gammaln(gamma + delta) - special.gammaln(1 + delta) + log_r_stop)
    if abs(gamma - 1) > 1e-6:
        quotient = np.expm1(log_r_start - log_r_stop) / (gamma - 1)
    else:
        quotient = special.digamma(1 + delta + stop) - special.digamma(1 + delta + start)
    return delta * scale * quotient


def _check_counts(x: np.ndarray, n: np.ndarray) -> None:
    for values, name in ((x, "x"), (n, "n")):
        check_values(values, name, low=0, whole=True)
    bad = x > n
    if bad.any():
        raise ValueError(
            f"x cannot exceed the number of opportunities n: {int(bad.sum())} row(s) with "
            f"x > n: {first_rows(bad, x, n)}"
        )


class BGBB(MLEModel):
    """Beta-geometric/beta-Bernoulli model.

    ``fit`` takes a frame with columns ``x``, ``t_x``, ``n`` and an optional
    ``weight`` (the compressed form of :func:`crmlab.datasets.load_donations`).

    Examples
    --------
    >>> bb = BGBB().set_params(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
    >>> round(bb.expected_purchases(6), 3)
    2.22
    >>> round(bb.p_alive(x=6, t_x=6, n=6), 3)
    0.93
    """

    param_names: ClassVar[tuple[str, ...]] = ("alpha", "beta", "gamma", "delta")
    data_columns: ClassVar[tuple[str, ...]] = ("x", "t_x", "n")

    def _read(self, data: Any, weights: Any | None) -> tuple[dict[str, np.ndarray], np.ndarray]:
        columns, row_weights, index = read_columns(data, weights, columns=("x", "t_x", "n"))
        _check_bb(columns["x"], columns["t_x"], columns["n"], index)
        return columns, row_weights

    def _starts(self, columns: dict[str, np.ndarray], weights: np.ndarray) -> list[np.ndarray]:
        return [np.array([1.0, 1.0, 1.0, 1.0]), np.array([1.0, 0.5, 0.5, 3.0])]

    def _loglik_rows(
        self, params: np.ndarray, x: np.ndarray, t_x: np.ndarray, n: np.ndarray
    ) -> np.ndarray:
        alpha, beta, gamma, delta = params
        log_b_ab = special.betaln(alpha, beta)
        log_b_gd = special.betaln(gamma, delta)
        alive = (
            special.betaln(alpha + x, beta + n - x)
            - log_b_ab
            + special.betaln(gamma, delta + n)
            - log_b_gd
        )
        terms = [alive]
        for i in range(int(np.max(n - t_x, initial=0))):
            died_after = (
                special.betaln(alpha + x, beta + t_x - x + i)
                - log_b_ab
                + special.betaln(gamma + 1, delta + t_x + i)
                - log_b_gd
            )
            terms.append(np.where(i < n - t_x, died_after, -np.inf))
        return special.logsumexp(np.stack(terms), axis=0)

    def expected_purchases(self, n: Any) -> Any:
        """E[X(n)]: expected transactions of a new customer in ``n`` opportunities (eq. 7)."""
        alpha, beta, gamma, delta = self._require_fit()
        (n,), is_scalar = broadcast_inputs(n)
        check_values(n, "n", low=0)
        alive = _death_weighted_growth(gamma, delta, np.zeros_like(n), n)
        return as_output(alpha / (alpha + beta) * alive, is_scalar)

    def probability_of_purchases(self, x: Any, n: Any) -> Any:
        """P(X(n) = x): probability of exactly ``x`` transactions in ``n`` opportunities (eq. 8).

        >>> bb = BGBB().set_params(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
        >>> round(float(bb.probability_of_purchases(np.arange(7), 6).sum()), 6)
        1.0
        """
        alpha, beta, gamma, delta = self._require_fit()
        (x, n), is_scalar = broadcast_inputs(x, n)
        _check_counts(x, n)
        log_choose = special.gammaln(n + 1) - special.gammaln(x + 1) - special.gammaln(n - x + 1)
        value = np.exp(
            log_choose
            + special.betaln(alpha + x, beta + n - x)
            - special.betaln(alpha, beta)
            + special.betaln(gamma, delta + n)
            - special.betaln(gamma, delta)
        )
        for i in range(int(np.max(n, initial=0))):
            i_term = np.exp(
                special.gammaln(i + 1)
                - special.gammaln(x + 1)
                - special.gammaln(i - x + 1)
                + special.betaln(alpha + x, beta + i - x)
                - special.betaln(alpha, beta)
                + special.betaln(gamma + 1, delta + i)
                - special.betaln(gamma, delta)
            )
            value = value + np.where((x <= i) & (i <= n - 1), np.nan_to_num(i_term), 0.0)
        return as_output(value, is_scalar)

    def p_alive(self, x: Any, t_x: Any, n: Any) -> Any:
        """Probability of being alive at opportunity ``n + 1`` given (x, t_x, n) (eq. 11)."""
        alpha, beta, gamma, delta = self._require_fit()
        (x, t_x, n), is_scalar = broadcast_inputs(x, t_x, n)
        _check_bb(x.ravel(), t_x.ravel(), n.ravel())
        params = self._require_fit()
        log_alive = (
            special.betaln(alpha + x, beta + n - x)
            - special.betaln(alpha, beta)
            + special.betaln(gamma, delta + n + 1)
            - special.betaln(gamma, delta)
        )
        value = np.exp(log_alive - self._loglik_rows(params, x, t_x, n))
        return as_output(value, is_scalar)

    def conditional_expected_purchases(self, n_star: Any, x: Any, t_x: Any, n: Any) -> Any:
        """Expected transactions in the next ``n_star`` opportunities given (x, t_x, n) (eq. 13).

        >>> bb = BGBB().set_params(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
        >>> round(bb.conditional_expected_purchases(5, x=6, t_x=6, n=6), 2)
        3.75
        """
        alpha, beta, gamma, delta = self._require_fit()
        (n_star, x, t_x, n), is_scalar = broadcast_inputs(n_star, x, t_x, n)
        _check_bb(x.ravel(), t_x.ravel(), n.ravel())
        check_values(n_star, "n_star", low=0)
        params = self._require_fit()
        # Posterior weight of "alive through n" times E[p | x, n], over the likelihood.
        log_front = special.betaln(alpha + x + 1, beta + n - x) - special.betaln(alpha, beta)
        growth = _death_weighted_growth(gamma, delta, n, n + n_star)
        value = np.exp(log_front - self._loglik_rows(params, x, t_x, n)) * growth
        return as_output(value, is_scalar)

    def discounted_expected_residual_transactions(
        self, discount: Any, x: Any, t_x: Any, n: Any
    ) -> Any:
        """DERT: expected transactions from opportunity ``n + 1`` on, discounted (eq. 14).

        The transaction at opportunity ``n + k`` is discounted by ``(1 + d)**k``; in
        closed form::

            DERT = B(alpha + x + 1, beta + n - x) / B(alpha, beta)
                   * B(gamma, delta + n + 1) / (B(gamma, delta) (1 + d))
                   * 2F1(1, delta + n + 1; gamma + delta + n + 1; 1 / (1 + d)) / L

        Multiply by the value of a transaction for the customer's residual value.
        With ``discount = 0`` it is the expected number of all future transactions,
        infinite when ``gamma <= 1``.

        >>> bb = BGBB().set_params(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
        >>> bb.discounted_expected_residual_transactions(0.1, x=[6, 0], t_x=[6, 0], n=6).round(2)
        array([5.91, 0.11])
        """
        from crmlab.clv import _residual_sum

        alpha, beta, gamma, delta = self._require_fit()
        (d, x, t_x, n), is_scalar = broadcast_inputs(discount, x, t_x, n)
        _check_bb(x.ravel(), t_x.ravel(), n.ravel())
        check_values(d, "discount", low=0)
        params = self._require_fit()
        log_front = (
            special.betaln(alpha + x + 1, beta + n - x)
            - special.betaln(alpha, beta)
            + special.betaln(gamma, delta + n + 1)
            - special.betaln(gamma, delta)
            - np.log1p(d)
            - self._loglik_rows(params, x, t_x, n)
        )
        series = _residual_sum(np.full_like(n, gamma), delta + n + 1, d)
        return as_output(np.exp(log_front) * series, is_scalar)

    def simulate(self, n_customers: int, n: int, seed: int | None = 0) -> dict[str, np.ndarray]:
        """Draw a customer base: x, t_x and n for ``n_customers`` over ``n`` opportunities.

        >>> base = BGBB().set_params(alpha=1.2, beta=0.75, gamma=0.66, delta=2.8).simulate(3, 6)
        >>> base["n"].tolist()
        [6.0, 6.0, 6.0]
        """
        alpha, beta, gamma, delta = self._require_fit()
        for value, name in ((n_customers, "n_customers"), (n, "n")):
            if isinstance(value, bool) or int(value) != value or value < 1:
                raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
        n_customers, n = int(n_customers), int(n)
        rng = np.random.default_rng(seed)
        p = rng.beta(alpha, beta, n_customers)
        # A Beta draw can underflow to 0 for tiny gamma; such a customer never dies.
        theta = np.maximum(rng.beta(gamma, delta, n_customers), 1e-300)
        # Opportunities survived: death strikes before opportunity k with probability theta.
        alive_through = np.minimum(rng.geometric(theta) - 1, n)
        opportunity = np.arange(1, n + 1)
        buys = (rng.random((n_customers, n)) < p[:, None]) & (
            opportunity[None, :] <= alive_through[:, None]
        )
        x = buys.sum(axis=1)
        t_x = np.where(x > 0, n - np.argmax(buys[:, ::-1], axis=1), 0)
        return {"x": x.astype(float), "t_x": t_x.astype(float), "n": np.full(n_customers, float(n))}
