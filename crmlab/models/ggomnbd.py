"""The Gamma/Gompertz/NBD model (Bemmaor & Glady 2012).

Story. While alive, a customer buys at Poisson rate ``lambda``, as in the Pareto/NBD,
with ``lambda ~ Gamma(r, alpha)`` across customers. Her lifetime is Gompertz: the
hazard of dying at age ``t`` is ``b eta e^(b t)``, so that the risk grows with age
when ``b > 0``; ``eta ~ Gamma(s, beta)`` across customers, independent of ``lambda``.
Across customers the lifetime survives to ``t`` with probability

    S(t) = (β / (β + e^(b t) - 1))^s,

and as ``b → 0`` with ``β / b`` held fixed, ``S(t) → (β_P / (β_P + t))^s`` with
``β_P = β / b``: the Pareto/NBD's lifetime. The GGom/NBD nests the Pareto/NBD at the
boundary ``b = 0`` (with ``β`` going to 0 alongside).

Likelihood of a customer with ``x`` repeat purchases, the last at ``t_x``, observed
for ``T``: alive at ``T``, or dead at some ``u`` in ``(t_x, T]``::

    L = Γ(r + x) α^r / Γ(r) · [ S(T) / (α + T)^(r + x) + ∫_{t_x}^T f(u) / (α + u)^(r + x) du ]

with ``f = -S'`` the lifetime density. The integral has no closed form (BTYDplus
and CLVTools integrate it adaptively per customer). Here it is computed for all rows
at once by Gauss–Legendre panels on ``w = log(c + u)``, ``c`` the distance to the
nearer of the integrand's real singularities (``u = -α`` of the purchase factor, the
Pareto-like pole of ``f`` near ``u = -β / b``); the map leaves only singularities a
distance of about π off the real axis, which 12-node panels of length at most 2
resolve: against :func:`scipy.integrate.quad` the log of the integral agrees to
1e-12 on the CDNOW rows and extreme ones, over a grid of parameters
(``tests/test_ggomnbd.py`` requires 1e-10).
Panels are shortened where the purchase factor is steep (large ``x``) or the
Gompertz clock fast (large ``b``), and the integral is cut where the purchase
factor has fallen by ``e^-60``.

Predictions. Alive at T, a customer's purchase rate is Gamma(r + x, α + T) and her
remaining lifetime Gamma/Gompertz with the same ``b`` and ``s`` and an aged
``β' = 1 - e^(-bT) + β e^(-bT)``, independent of each other; P(alive), the conditional
expectation, P(X(T, T+t] = n | history) and the DERT (Fader, Hardie & Lee 2005) follow
from these by one-dimensional quadratures, each computed once per distinct row of
what it depends on. As ``b → 0`` each tends to the Pareto/NBD's.

Reference: Bemmaor, A. C., & Glady, N. (2012). Modeling purchasing behavior with
sudden "death": A flexible customer lifetime model. *Management Science*, 58(5),
1012–1021. On the CDNOW sample (2,357 customers, 39 weeks) their Table 2 (p. 1018,
as quoted by CLVTools' ``tests/testthat/test_correctness_ggomnbd.R``) gives
r = 0.553, α = 10.578, b = 0.0002, s = 0.603, β = 0.0026 and log-likelihood
−9594.98. The surface is flat along ``b → 0`` with ``β / b`` fixed: with b held at
0.0002 the best fit is s = 0.604, β = 0.0023, log-likelihood −9594.978, and the
maximum lies on the boundary, −9594.976, the Pareto/NBD's (r 0.553, α 10.578,
s 0.606, β_P = β / b = 11.67). CLVTools stops at b = 1.1e-6 with −9594.9762. (The
printed b and β carry one or two figures, and the likelihood depends on their
ratio: at the printed values it is −9595.77.)

>>> import crmlab as cl
>>> s = cl.transactions.summarize(cl.datasets.load_cdnow("sample"), "1997-09-30", unit="W")
>>> near_limit = GGomNBD().set_params(r=0.5533, alpha=10.578, b=1e-7, s=0.6062, beta=1.1669e-6)
>>> round(near_limit.log_likelihood(s), 2)
-9594.98
>>> round(cl.models.ParetoNBD().fit(s).loglik, 2)
-9594.98
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np
from scipy import special

from crmlab._validate import check_values
from crmlab.models._base import (
    ConvergenceWarning,
    Fit,
    RFMModel,
    SummaryTable,
    _gradient_jacobian,
    _inverse_hessian,
    as_output,
    broadcast_inputs,
    check_rfm,
    quiet,
)
from crmlab.models._counts import log_nbd
from crmlab.models._intervals import distinct_rows, interval_option

__all__ = ["GGomNBD"]

_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(12)
#: Panel lengths on the log scale: at most 2 (the nearest singularities are about π
#: off the axis), at most 16 / steepness of the integrand (the purchase factor falls
#: like e^(-(r + x) w)), at most 4 / (b (c + upper end)) where the Gompertz clock is
#: fast. With 12 nodes the last two keep the error against quad at 1e-12 (16 nodes with
#: 24 and 6 gave the same; 12 nodes with 18 and 4.5 already 1e-10): a quarter fewer nodes.
_SPAN, _STEEP, _CLOCK = 0.5, 16.0, 4.0
_MAX_PANELS = 400


def _pole_distance(alpha: Any, b: float, beta: Any) -> Any:
    """Distance below 0 of the real singularities: ``u = -α`` and ``e^(b u) = 1 - β``."""
    below_one = np.where(beta < 1, beta, 0.5)
    lifetime = np.where(beta < 1, -np.log1p(-below_one) / b, np.inf)
    return np.minimum(alpha, lifetime)


def _log_panels(
    lo: np.ndarray, hi: np.ndarray, c: np.ndarray, panels: int
) -> tuple[np.ndarray, np.ndarray]:
    """Nodes ``u`` of ``panels`` equal panels on ``log(c + u)`` over (lo, hi), per row,
    and the logs of their weights, the Jacobian ``c + u`` included."""
    w_lo = np.log(c + lo)
    half = ((np.log(c + hi) - w_lo) / (2 * panels))[:, None]
    centres = w_lo[:, None] + half * (2 * np.arange(panels) + 1)
    w = (centres[..., None] + half[..., None] * _NODES).reshape(len(lo), -1)
    log_weight = np.broadcast_to(
        np.log(half)[..., None] + np.log(_WEIGHTS), (len(lo), panels, _NODES.size)
    ).reshape(len(lo), -1)
    return np.exp(w) - c[:, None], log_weight + w


def _log_integral(
    lo: Any,
    hi: Any,
    c: Any,
    steep: Any,
    b: float,
    evaluate: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, list[np.ndarray]]],
    n_means: int = 0,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """``log ∫_lo^hi exp(g(u)) du`` per row, and ``n_means`` means under ``exp(g)``.

    ``evaluate(u, rows)`` takes the nodes of the rows ``rows`` (indices into the
    flattened inputs) and gives ``g`` at each node and ``n_means`` arrays of values
    whose integrand-weighted means are wanted (what a derivative under the integral
    sign needs); one call, so that they can share intermediate results. Panel counts
    are chosen per row and rounded up to a power of two; rows with the same count
    are integrated together. Empty intervals give -inf (and means 0).
    """
    lo, hi, c, steep = np.broadcast_arrays(
        *(np.asarray(v, dtype=float) for v in (lo, hi, c, steep))
    )
    shape = lo.shape
    lo, hi, c, steep = (np.ravel(v) for v in (lo, hi, c, steep))
    total = np.full(lo.size, -np.inf)
    averages = [np.zeros(lo.size) for _ in range(n_means)]
    # On the log scale, so that an interval of a few ulps (t_x and T from different
    # roundings) that maps to width 0 counts as empty rather than giving 0 * inf.
    widths = np.log(c + hi) - np.log(c + lo)
    active = np.flatnonzero(widths > 0)
    if active.size:
        width = widths[active]
        density = np.maximum.reduce(
            [
                np.full(active.size, _SPAN),
                steep[active] / _STEEP,
                b * (c[active] + hi[active]) / _CLOCK,
            ]
        )
        need = np.clip(np.ceil(width * density), 1, _MAX_PANELS)
        buckets = np.exp2(np.ceil(np.log2(need))).astype(int)
        for panels in np.unique(buckets):
            rows = active[buckets == panels]
            u, log_weight = _log_panels(lo[rows], hi[rows], c[rows], int(panels))
            values, extras = evaluate(u, rows)
            terms = values + log_weight
            # logsumexp by hand, so that the exponentials also give the shares
            peak = terms.max(axis=1)
            peak = np.where(np.isfinite(peak), peak, 0.0)
            scaled = np.exp(terms - peak[:, None])
            mass = scaled.sum(axis=1)
            with np.errstate(divide="ignore"):
                total[rows] = peak + np.log(mass)
            if n_means:
                with np.errstate(invalid="ignore", divide="ignore"):
                    means = np.einsum("ij,kij->ki", scaled, np.asarray(extras)) / mass
                for average, mean in zip(averages, means, strict=True):
                    average[rows] = np.where(mass > 0, mean, 0.0)
    return total.reshape(shape), [average.reshape(shape) for average in averages]


def _log_survival(u: Any, b: float, s: float, beta: Any) -> Any:
    """log S(u) = s log(β / (β + e^(b u) - 1))."""
    return -s * np.log1p(np.expm1(b * u) / beta)


def _log_died(
    r: float,
    alpha: Any,
    b: float,
    s: float,
    beta: Any,
    x: Any,
    t_x: Any,
    T: Any,
    *,
    with_gradient: bool = False,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """log ∫_{t_x}^T f(u) (α + u)^-(r+x) du; with ``with_gradient`` also the means of
    ``log(α+u)``, ``1/(α+u)``, ``d log f / db``, ``log(β + e^(bu) - 1)`` and
    ``1/(β + e^(bu) - 1)`` under the integrand, from which the gradient follows."""
    x, t_x, T, alpha, beta = (
        np.asarray(v, dtype=float) for v in np.broadcast_arrays(x, t_x, T, alpha, beta)
    )
    k = r + x
    with np.errstate(over="ignore"):
        cut = (alpha + t_x) * np.exp(60.0 / k) - alpha
    # Past ``cut`` the purchase factor is below e^-60 of its value at t_x, and the
    # density cannot make that up unless the Gompertz clock runs fast.
    upper = np.where((cut < T) & (b * (cut - t_x) < 10.0), cut, T)
    flat_k, flat_alpha, flat_beta = k.ravel(), alpha.ravel(), beta.ravel()
    constant = np.log(b) + np.log(s)

    def evaluate(u: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        a_u = flat_alpha[rows, None] + u
        be = flat_beta[rows, None]
        grown = np.expm1(b * u)
        q = be + grown
        log_a, log_q = np.log(a_u), np.log(q)
        # log of (α + u)^-k f(u), f = b s β^s e^(bu) q^-(s+1)
        values = -flat_k[rows, None] * log_a + constant + s * np.log(be) + b * u - (s + 1) * log_q
        if not with_gradient:
            return values, []
        inv_q = 1 / q
        clock = 1 / b + u - (s + 1) * u * (1 + grown) * inv_q
        return values, [log_a, 1 / a_u, clock, log_q, inv_q]

    c = _pole_distance(alpha, b, beta)
    return _log_integral(t_x, upper, c, k + s + 1, b, evaluate, 5 if with_gradient else 0)


def _log_parts(
    params: Any, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log of the constant, of the 'alive at T' term and of the 'died in (t_x, T]' term."""
    r, alpha, b, s, beta = params
    constant = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    alive = -(r + x) * np.log(alpha + T) + _log_survival(T, b, s, beta)
    died, _ = _log_died(r, alpha, b, s, beta, x, t_x, T)
    return constant, alive, died


def _survival_integral(t: Any, b: float, s: float, beta: Any) -> np.ndarray:
    """∫_0^t S(u) du, the expected lifetime spent in (0, t], for S with (b, s, β)."""
    t, beta = (np.asarray(v, dtype=float) for v in np.broadcast_arrays(t, beta))
    with np.errstate(over="ignore"):
        cut = np.log1p(beta * np.expm1(60.0 / s)) / b  # where S has fallen to e^-60
    upper = np.minimum(t, cut)
    c = np.minimum(_pole_distance(np.inf, b, beta), np.maximum(upper, 1.0))
    flat_beta = beta.ravel()

    def evaluate(u: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        return _log_survival(u, b, s, flat_beta[rows, None]), []

    log_value, _ = _log_integral(np.zeros_like(upper), upper, c, s, b, evaluate)
    return np.exp(log_value)


def _discounted_survival(delta: Any, b: float, s: float, beta: Any) -> np.ndarray:
    """∫_0^∞ S(u) e^(-δ u) du, the discounted expected time alive, for S with (b, s, β).

    By the quadrature of :func:`_log_integral` on ``log(c + u)``. The integrand is
    cut where ``S`` or the discount has fallen by ``e^-60``; the discount's
    steepness on the log scale, ``δ (c + u)``, sets the panels as the Gompertz
    clock's does. (Substituting ``y = e^(bu)`` gives ``β^s / (δ + b s) ·
    2F1(s, s + δ/b; s + δ/b + 1; 1 - β)``, which ``tests/test_ggomnbd.py`` uses as a
    check; near the Pareto/NBD limit ``b → 0`` its parameters grow like ``1 / b``
    with ``z → 1``, where ``hyp2f1`` is not reliable, so the quadrature is used.)
    """
    delta, beta = (np.asarray(v, dtype=float) for v in np.broadcast_arrays(delta, beta))
    with np.errstate(over="ignore"):
        alive_cut = np.log1p(beta * np.expm1(60.0 / s)) / b
    upper = np.minimum(alive_cut, 60.0 / delta)
    c = np.minimum(_pole_distance(np.inf, b, beta), np.maximum(upper, 1.0))
    flat_beta, flat_delta = beta.ravel(), delta.ravel()

    def evaluate(u: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        log_s = _log_survival(u, b, s, flat_beta[rows, None])
        return log_s - flat_delta[rows, None] * u, []

    # steep / _STEEP >= δ (c + upper) / _CLOCK: panels as fine as for the clock.
    steep = s + _STEEP / _CLOCK * delta * (c + upper)
    log_value, _ = _log_integral(np.zeros_like(upper), upper, c, steep, b, evaluate)
    return np.exp(log_value)


#: Gauss–Legendre nodes for the mixture over the time of death in :func:`_pmf`.
_PMF_NODES, _PMF_WEIGHTS = np.polynomial.legendre.leggauss(64)


def _pmf(n: Any, t: Any, r: Any, alpha: Any, b: float, s: float, beta: Any) -> np.ndarray:
    """P(X(t) = n) of a customer fresh from (r, α, b, s, β); arrays broadcast.

    Alive throughout ``(0, t]`` she buys an NBD(r, α) count over ``t``; dead at
    ``u < t``, one over ``u``: ``S(t) NB(n; t) + ∫_0^t NB(n; u) dF(u)``. The
    integral is taken on the scale of ``F = 1 - S`` (64 Gauss–Legendre nodes), as
    :class:`crmlab.models.ParetoNBD` does for its lifetime, with the Gompertz
    quantile ``u(w) = log(1 + β ((1 - w)^(-1/s) - 1)) / b`` written in logs so
    that it neither overflows for small ``s`` nor loses digits as ``b → 0``.
    """
    n, t, r, alpha, beta = np.broadcast_arrays(
        *(np.asarray(v, dtype=float) for v in (n, t, r, alpha, beta))
    )

    log_survival = _log_survival(t, b, s, beta)
    alive = np.exp(log_survival + log_nbd(n, t, r, alpha))
    dead_share = -np.expm1(log_survival)[..., None]  # F(t)
    w = dead_share * (_PMF_NODES + 1) / 2  # F(u) at the nodes
    # e^(bu) - 1 = β ((1 - w)^(-1/s) - 1), its log from y = -log(1 - w) / s:
    y = -np.log1p(-w) / s
    with np.errstate(divide="ignore"):
        log_grown = np.log(beta[..., None]) + y + np.log(-np.expm1(-y))
    u = np.logaddexp(0.0, log_grown) / b
    died = np.exp(log_nbd(n[..., None], u, r[..., None], alpha[..., None]))
    return alive + (died * _PMF_WEIGHTS).sum(axis=-1) * dead_share[..., 0] / 2


def _per_distinct(func: Callable[..., np.ndarray], *arrays: Any) -> np.ndarray:
    """``func(*arrays)`` (broadcast), computed once per distinct row of the arrays.

    A quadrature per customer is the cost of a prediction; what it integrates
    depends on few of her values (the aged ``β'`` depends on T alone without
    covariates), so a base of a million customers has a few hundred distinct
    integrals.
    """
    arrays = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in arrays))
    shape = arrays[0].shape
    flat = [a.ravel() for a in arrays]
    if flat[0].size < 2:
        return np.asarray(func(*arrays), dtype=float)
    first, inverse = distinct_rows(flat, flat[0].size)
    return np.asarray(func(*(a[first] for a in flat)))[inverse].reshape(shape)


def _beta_given_alive(b: float, beta: Any, T: Any) -> Any:
    """β of the remaining lifetime of a customer alive at age T.

    Alive at T, ``eta ~ Gamma(s, β + e^(bT) - 1)``, and the hazard from there on is
    ``b eta e^(bT) e^(b u)``: the lifetime left is again Gamma/Gompertz with the same
    ``b`` and ``s`` and ``β' = (β + e^(bT) - 1) e^(-bT) = 1 - e^(-bT) + β e^(-bT)``.
    Using ``β + e^(bT) - 1`` itself in ``S``, as the R reference code in CLVTools'
    ``tests/testthat/test_correctness_ggomnbd.R`` and BTYDplus's ``R/gg-nbd.R`` do,
    restarts the customer's Gompertz clock at T; on a simulated base (b = 0.12) that
    forecasts three times the holdout purchases, while this form matches them
    (``tests/test_ggomnbd.py``).
    """
    return -np.expm1(-b * T) + beta * np.exp(-b * T)


class _GGomSummary(SummaryTable):
    """The summary table, whose header also says when b sits at its boundary."""

    @property
    def _constructor(self) -> type[_GGomSummary]:
        return _GGomSummary

    def header(self) -> str:
        note = self.attrs.get("boundary_note")
        header = super().header()
        return f"{header}\n{note}" if note and header else header


class GGomNBD(RFMModel):
    """Gamma/Gompertz/NBD model: the Pareto/NBD with a lifetime whose hazard grows with age.

    Parameters ``r``, ``alpha`` (purchasing, as in :class:`ParetoNBD`), ``b``
    (Gompertz ageing rate per unit of time), ``s`` and ``beta`` (gamma heterogeneity of
    the lifetime). Fit with :meth:`fit` on a frame with columns ``x``, ``t_x``, ``T``.

    Parameters
    ----------
    purchase_covariates, dropout_covariates : list of str, optional
        Time-invariant covariates, in the form CLVTools uses for this model:
        ``alpha_i = alpha * exp(-gamma_purchase . z_i)`` (positive: more purchasing) and
        ``beta_i = beta * exp(-gamma_dropout . z_i)`` (positive: earlier death).

    Notes
    -----
    When the data show no ageing the fit runs to the boundary ``b → 0`` (and
    ``beta → 0`` with ``beta / b`` fixed), where the model is the Pareto/NBD. The fit
    then warns, names ``b`` in :attr:`at_boundary`, in the fit's message and in the
    summary's header; its log-likelihood is the Pareto/NBD's (to 1e-3 or better), and
    ``compare([pareto, ggom])`` tests ``b = 0`` against the 50:50 mixture of
    chi-squared(0) and chi-squared(1) that a parameter on its boundary calls for.

    Examples
    --------
    >>> m = GGomNBD().set_params(r=0.85, alpha=4.45, b=0.12, s=0.75, beta=9.55)
    >>> round(m.expected_purchases(32), 3)
    4.123
    >>> round(m.p_alive(2, 30.43, 38.86), 3)
    0.429
    >>> round(m.conditional_expected_purchases(39, 2, 30.43, 38.86), 3)
    0.314
    """

    param_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "b", "s", "beta")
    covariate_effects: ClassVar[Mapping[str, tuple[tuple[str, float], ...]]] = {
        "purchase": (("alpha", -1.0),),
        "dropout": (("beta", -1.0),),
    }

    # ----- fitting ------------------------------------------------------------------
    def _starts(self, columns: dict[str, np.ndarray], weights: np.ndarray) -> list[np.ndarray]:
        alpha = 1.0 / self._mean_purchase_rate(columns, weights)
        mean_T = float(np.average(columns["T"], weights=weights))
        # b / beta fixes the scale of the Pareto-like part; b mean_T sets the ageing.
        ageing = 1.0 / mean_T
        return [
            np.array([1.0, alpha, ageing, 1.0, ageing * mean_T]),
            np.array([0.5, alpha, 0.1 * ageing, 0.5, 0.1 * ageing * mean_T / 3]),
        ]

    def _loglik_rows(
        self, params: Any, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
    ) -> np.ndarray:
        constant, alive, died = _log_parts(params, x, t_x, T)
        return constant + np.logaddexp(alive, died)

    def _gradient_rows(
        self, params: Any, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
    ) -> list[np.ndarray]:
        """Derivatives of each row's log-likelihood, the integral differentiated under the sign.

        The quadrature nodes move with the parameters, but the rule's value does not
        (to 1e-13), so differentiating the integrand at fixed nodes is exact enough.
        """
        return self._loglik_and_gradient_rows(params, x, t_x, T)[1]

    def _loglik_and_gradient_rows(
        self, params: Any, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Each row's log-likelihood and its gradient from one quadrature (see _gradient_rows)."""
        r, alpha, b, s, beta = params
        x, t_x, T, alpha, beta = np.broadcast_arrays(x, t_x, T, alpha, beta)
        died, (log_a, inv_a, clock, log_q, inv_q) = _log_died(
            r, alpha, b, s, beta, x, t_x, T, with_gradient=True
        )
        alive = -(r + x) * np.log(alpha + T) + _log_survival(T, b, s, beta)
        total = np.logaddexp(alive, died)
        w_alive, w_died = np.exp(alive - total), np.exp(died - total)
        q_T = beta + np.expm1(b * T)
        d_r = (
            special.digamma(r + x)
            - special.digamma(r)
            + np.log(alpha)
            - w_alive * np.log(alpha + T)
            - w_died * log_a
        )
        d_alpha = r / alpha - (r + x) * (w_alive / (alpha + T) + w_died * inv_a)
        d_b = w_alive * (-s * T * np.exp(b * T) / q_T) + w_died * clock
        d_s = w_alive * (np.log(beta) - np.log(q_T)) + w_died * (1 / s + np.log(beta) - log_q)
        d_beta = w_alive * s * (1 / beta - 1 / q_T) + w_died * (s / beta - (s + 1) * inv_q)
        constant = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
        return constant + total, [d_r, d_alpha, d_b, d_s, d_beta]

    def _optimise(
        self,
        columns: dict[str, np.ndarray],
        weights: np.ndarray,
        start_points: list[np.ndarray],
        n_obs: float,
        **options: Any,
    ) -> Fit:
        # ``options`` (the base's ``subsample``) pass through: a large base's fit
        # starts from a subsample's, which calls this again with subsample=False.
        result = super()._optimise(columns, weights, start_points, n_obs, **options)
        if "b" not in self._boundary_of(result.estimate):
            return result
        b, beta = result.estimate[2], result.estimate[4]
        note = (
            f"b at its boundary (b = {b:.2g} → 0): the data show no ageing of the lifetime, "
            f"and the fit is the Pareto/NBD it nests (its beta = beta / b = {beta / b:.4g})"
        )
        return dataclasses.replace(result, message=f"{result.message}; {note}")

    def _covariance_at(
        self, estimate: np.ndarray, columns: dict[str, np.ndarray], weights: np.ndarray
    ) -> np.ndarray | None:
        """Inverse Hessian from central differences of the exact gradient.

        That takes 2k gradients where differencing the likelihood takes about 4k²
        evaluations, each a quadrature. With b at its boundary the likelihood is flat
        along b → 0 and there is no covariance (None), as for any model at the edge.
        """
        if "b" in self._boundary_of(estimate):
            return None
        parameters = self.parameters

        def gradient(theta: np.ndarray) -> np.ndarray:
            slopes = np.array([p.free_slope(v) for p, v in zip(parameters, theta, strict=True)])
            with np.errstate(all="ignore"):
                free = self._free_gradient(self._to_free(theta), columns, weights)
            assert free is not None
            return free * slopes  # d(-LL)/d theta

        steps = 1e-5 * np.where(
            [p.space == "real" for p in parameters], np.maximum(np.abs(estimate), 1e-2), estimate
        )
        return _inverse_hessian(_gradient_jacobian(gradient, estimate, steps))

    def _boundary_of(self, estimate: np.ndarray) -> tuple[str, ...]:
        return tuple(
            p.name
            for p, value in zip(self.parameters, estimate, strict=True)
            if p.at_boundary(value)
        )

    @property
    def at_boundary(self) -> tuple[str, ...]:
        """Names of the parameters that ran to the edge of their range (``b``: no ageing)."""
        return self._boundary_of(self._require_fit())

    def _warn_about(self, result: Fit) -> None:
        flagged = self._boundary_of(result.estimate)
        if "b" not in flagged:
            super()._warn_about(result)
            return
        others = [name for name in flagged if name not in ("b", "beta")]
        b, beta = result.estimate[2], result.estimate[4]
        message = (
            f"GGomNBD: b ran to its boundary (b = {b:.2g}, with beta = {beta:.2g} following "
            f"it): the data show no ageing, and the fit is the Pareto/NBD (beta / b = "
            f"{beta / b:.4g} is its beta), whose log-likelihood it matches. Fit "
            "cl.models.ParetoNBD for interpretable estimates and standard errors; "
            "cl.models.compare([pareto, ggom]) tests b = 0 (50:50 chi-squared(0)/(1) mixture)."
        )
        if others:
            message += f" Also at the edge of their range: {', '.join(others)}."
        if not result.converged:
            message += f" The optimiser did not converge ({result.message})."
        warnings.warn(message, ConvergenceWarning, stacklevel=4)

    def summary(self, level: float = 0.95) -> SummaryTable:
        """As :meth:`MLEModel.summary`; the header adds a line when b is at its boundary.

        >>> m = GGomNBD().set_params(r=0.55, alpha=10.58, b=1e-7, s=0.61, beta=1.167e-6)
        >>> m.summary().attrs["at_boundary"]
        ('b', 'beta')
        """
        plain = super().summary(level)
        table = _GGomSummary(plain)
        table.attrs = dict(plain.attrs)
        flagged = self.at_boundary
        table.attrs["at_boundary"] = flagged
        if "b" in flagged:
            params = self.params
            table.attrs["boundary_note"] = (
                f"b at its boundary: no ageing in these data; the Pareto/NBD limit, its "
                f"beta = beta / b = {params['beta'] / params['b']:.4g}"
            )
        return table

    # ----- predictions --------------------------------------------------------------
    @quiet
    @interval_option("x", "t_x", "T")
    def p_alive(
        self,
        x: Any,
        t_x: Any,
        T: Any,
        *,
        covariates: Any = None,
    ) -> Any:
        """Probability that a customer with history (x, t_x, T) is alive at T.

        ``S(T) (α + T)^-(r+x)`` over the bracket of the likelihood. ``covariates``:
        the customers' covariate values (covariate models only). ``interval``: a level
        such as 0.9 returns ``estimate``, ``lower`` and ``upper`` from ``draws``
        parameter sets (``method="normal"`` or ``"bootstrap"``).

        >>> m = GGomNBD().set_params(r=0.85, alpha=4.45, b=0.12, s=0.75, beta=9.55)
        >>> m.p_alive([0, 5], [0, 38], [38.86, 38.86]).round(3)
        array([0.086, 0.927])
        """
        (x, t_x, T), is_scalar = broadcast_inputs(x, t_x, T)
        check_rfm(x.ravel(), t_x.ravel(), T.ravel())
        r, alpha, b, s, beta = self._individual(covariates)
        (x, t_x, T, alpha, beta), is_scalar = broadcast_inputs(
            x, t_x, T, alpha, beta, scalar=is_scalar
        )
        _, alive, died = _log_parts((r, alpha, b, s, beta), x, t_x, T)
        return as_output(np.exp(alive - np.logaddexp(alive, died)), is_scalar)

    @quiet
    def p_alive_at(self, t: Any, x: Any, t_x: Any, T: Any, *, covariates: Any = None) -> Any:
        """P(alive at ``T + t`` | x, t_x, T): alive at T and the lifetime lasts ``t`` more.

        >>> m = GGomNBD().set_params(r=0.85, alpha=4.45, b=0.12, s=0.75, beta=9.55)
        >>> round(m.p_alive_at(0, 2, 30.43, 38.86), 3), round(m.p_alive_at(10, 2, 30.43, 38.86), 3)
        (0.429, 0.181)
        """
        alive = self.p_alive(x, t_x, T, covariates=covariates)
        _, _, b, s, beta = self._individual(covariates)
        (t, T, beta, alive), is_scalar = broadcast_inputs(self._in_unit(t), T, beta, alive)
        check_values(t, "t", low=0)
        survive = np.exp(_log_survival(t, b, s, _beta_given_alive(b, beta, T)))
        return as_output(alive * survive, is_scalar)

    @quiet
    def expected_purchases(self, t: Any, *, covariates: Any = None) -> Any:
        """E[X(t)]: expected purchases in ``(0, t]`` of a newly acquired customer.

        ``(r / α) ∫_0^t S(u) du``: the purchase rate times the expected time alive.

        >>> m = GGomNBD().set_params(r=0.85, alpha=4.45, b=0.12, s=0.75, beta=9.55)
        >>> m.expected_purchases([0, 10, 78]).round(3)
        array([0.   , 1.786, 4.725])
        """
        r, alpha, b, s, beta = self._individual(covariates)
        (t, alpha, beta), is_scalar = broadcast_inputs(self._in_unit(t), alpha, beta)
        check_values(t, "t", low=0)
        return as_output(r / alpha * _survival_integral(t, b, s, beta), is_scalar)

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
        """Expected purchases in ``(T, T + t]`` of a customer with history (x, t_x, T).

        Alive at T, her purchase rate is Gamma(r + x, α + T) and her remaining lifetime
        Gamma/Gompertz with ``β' = 1 - e^(-bT) + β e^(-bT)`` (see the module), so

            P(alive) · (r + x) / (α + T) · ∫_0^t S'(u) du.

        ``covariates`` and ``interval`` as in :meth:`p_alive`.

        >>> m = GGomNBD().set_params(r=0.85, alpha=4.45, b=0.12, s=0.75, beta=9.55)
        >>> round(m.conditional_expected_purchases(39, 2, 30.43, 38.86), 3)
        0.314
        """
        (t, x, t_x, T), is_scalar = broadcast_inputs(self._in_unit(t), x, t_x, T)
        check_values(t, "t", low=0)
        alive = self.p_alive(x, t_x, T, covariates=covariates)
        r, alpha, b, s, beta = self._individual(covariates)
        (t, x, T, alpha, beta, alive), is_scalar = broadcast_inputs(
            t, x, T, alpha, beta, alive, scalar=is_scalar
        )
        rate = (r + x) / (alpha + T)
        remaining = _per_distinct(
            lambda t, be: _survival_integral(t, b, s, be), t, _beta_given_alive(b, beta, T)
        )
        return as_output(alive * rate * remaining, is_scalar)

    @quiet
    def probability_of_purchases(self, n: Any, t: Any, *, covariates: Any = None) -> Any:
        """P(X(t) = n): probability of exactly ``n`` purchases in ``(0, t]`` of a new customer.

        ``S(t) NB(n; t) + ∫_0^t NB(n; u) dF(u)`` with the Gamma/Gompertz lifetime
        ``S`` of the module and ``NB(n; u)`` the NBD(r, α) count over ``u``; the
        integral by quadrature on the scale of ``F = 1 - S``.

        >>> m = GGomNBD().set_params(r=0.85, alpha=4.45, b=0.12, s=0.75, beta=9.55)
        >>> p = m.probability_of_purchases(np.arange(300), 32)
        >>> round(float(p.sum()), 8), round(float((np.arange(300) * p).sum()), 3)
        (1.0, 4.123)
        """
        r, alpha, b, s, beta = self._individual(covariates)
        (n, t, alpha, beta), is_scalar = broadcast_inputs(n, self._in_unit(t), alpha, beta)
        check_values(t, "t", low=0)
        check_values(n, "n", low=0, whole=True)
        values = _per_distinct(lambda *v: _pmf(*v[:2], r, v[2], b, s, v[3]), n, t, alpha, beta)
        return as_output(values, is_scalar)

    @quiet
    @interval_option("n", "t", "x", "t_x", "T")
    def conditional_probability_of_purchases(
        self, n: Any, t: Any, x: Any, t_x: Any, T: Any, *, covariates: Any = None
    ) -> Any:
        """P(X(T, T + t] = n | x, t_x, T): exactly ``n`` purchases in the next ``t``.

        Alive at T, a customer's purchase rate is Gamma(r + x, α + T) and her
        remaining lifetime Gamma/Gompertz with ``β' = 1 - e^(-bT) + β e^(-bT)``
        (aged, see :meth:`conditional_expected_purchases`), independent; her
        future purchases follow :meth:`probability_of_purchases` with those
        parameters, and a customer already dead buys nothing:
        ``P(alive) · P_updated(n; t) + (1 - P(alive)) · [n = 0]``. This is the
        form of Fader, Hardie & Shang's note for the Pareto/NBD (2006), which the
        GGom/NBD nests. ``n = 0`` gives the probability of no purchase.
        ``covariates`` and ``interval`` as in :meth:`p_alive`.

        >>> m = GGomNBD().set_params(r=0.85, alpha=4.45, b=0.12, s=0.75, beta=9.55)
        >>> p = m.conditional_probability_of_purchases(np.arange(200), 39, 2, 30.43, 38.86)
        >>> round(float(p.sum()), 8), round(float((np.arange(200) * p).sum()), 3)
        (1.0, 0.314)
        """
        alive = self.p_alive(x, t_x, T, covariates=covariates)
        r, alpha, b, s, beta = self._individual(covariates)
        (n, t, x, T, alpha, beta, alive), is_scalar = broadcast_inputs(
            n, self._in_unit(t), x, T, alpha, beta, alive
        )
        check_values(t, "t", low=0)
        check_values(n, "n", low=0, whole=True)
        future = _per_distinct(
            lambda n, t, x, a, be: _pmf(n, t, r + x, a, b, s, be),
            n,
            t,
            x,
            alpha + T,
            _beta_given_alive(b, beta, T),
        )
        return as_output(alive * future + (1 - alive) * (n == 0), is_scalar)

    @quiet
    @interval_option("discount", "x", "t_x", "T")
    def dert(
        self,
        discount: Any,
        x: Any,
        t_x: Any,
        T: Any,
        *,
        covariates: Any = None,
    ) -> Any:
        """Discounted expected residual transactions of a customer with history (x, t_x, T).

        DERT = ∫_0^∞ E[purchase rate at T + t | history] e^(-δ t) dt, with ``δ`` the
        continuously compounded ``discount`` rate per unit of time (weekly data and
        15 % a year: ``δ = log(1.15) / 52``), as in :meth:`ParetoNBD.dert` (Fader,
        Hardie & Lee 2005, "RFM and CLV"). Alive at T, the rate is Gamma(r + x,
        α + T) and the remaining lifetime Gamma/Gompertz with the aged ``β'``, so

            P(alive) · (r + x) / (α + T) · ∫_0^∞ S'(u) e^(-δ u) du,

        the integral by quadrature (the Gompertz lifetime has no closed-form
        DERT that stays accurate near the Pareto/NBD limit; see the module).
        Multiply by the margin per transaction for the customer's discounted
        expected residual value. ``covariates`` as in :meth:`p_alive`.

        Reference: Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). RFM and CLV:
        Using iso-value curves for customer base analysis. *Journal of Marketing
        Research*, 42(4), 415–430.

        >>> m = GGomNBD().set_params(r=0.85, alpha=4.45, b=0.12, s=0.75, beta=9.55)
        >>> round(m.dert(np.log(1.15) / 52, 2, 30.43, 38.86), 3)
        0.315
        """
        alive = self.p_alive(x, t_x, T, covariates=covariates)
        r, alpha, b, s, beta = self._individual(covariates)
        (delta, x, T, alpha, beta, alive), is_scalar = broadcast_inputs(
            discount, x, T, alpha, beta, alive
        )
        check_values(delta, "discount", above=0)
        rate = (r + x) / (alpha + T)
        remaining = _per_distinct(
            lambda d, be: _discounted_survival(d, b, s, be), delta, _beta_given_alive(b, beta, T)
        )
        return as_output(alive * rate * remaining, is_scalar)

    def simulate(
        self,
        n_customers: int,
        T: Any,
        seed: int | None = 0,
        *,
        covariates: Any = None,
        holdout: float | None = None,
    ) -> dict[str, np.ndarray]:
        """Draw a customer base from the model: x, t_x and T per customer.

        Each customer draws ``lambda ~ Gamma(r, α)``, ``eta ~ Gamma(s, β)`` and a
        Gompertz lifetime ``τ = log(1 + E / eta) / b`` with ``E ~ Exp(1)``; she buys at
        rate ``lambda`` until ``min(τ, T)``. With ``holdout`` (a length of time) the
        base also has ``x_holdout``, her purchases in ``(T, T + holdout]``, and
        ``duration_holdout``, as :func:`crmlab.transactions.calibration_holdout` names
        them. Seeded: the same seed gives the same base.

        >>> m = GGomNBD().set_params(r=0.85, alpha=4.45, b=0.12, s=0.75, beta=9.55)
        >>> base = m.simulate(5, 32.0, holdout=32.0)
        >>> sorted(base)
        ['T', 'duration_holdout', 't_x', 'x', 'x_holdout']
        """
        check_values(n_customers, "n_customers", low=1, whole=True)
        n_customers = int(n_customers)
        r, alpha, b, s, beta = (
            np.broadcast_to(value, (n_customers,)) for value in self._individual(covariates)
        )
        rng = np.random.default_rng(seed)
        T_values = np.broadcast_to(np.asarray(T, dtype=float), (n_customers,)).copy()
        check_values(T_values, "T", low=0)
        rate = rng.gamma(r, 1.0 / alpha, n_customers)
        frailty = rng.gamma(s, 1.0 / beta, n_customers)
        lifetime = np.log1p(rng.exponential(1.0, n_customers) / frailty) / b
        window = np.minimum(lifetime, T_values)
        x = rng.poisson(rate * window)
        # The last of x uniform arrival times on (0, window] is window * Beta(x, 1).
        t_x = np.where(x > 0, window * rng.beta(np.maximum(x, 1), 1.0), 0.0)
        base = {"x": x.astype(float), "t_x": t_x, "T": T_values}
        if holdout is not None:
            check_values(holdout, "holdout", low=0)
            later = np.clip(lifetime - T_values, 0.0, float(holdout))
            base["x_holdout"] = rng.poisson(rate * later).astype(float)
            base["duration_holdout"] = np.full(n_customers, float(holdout))
        return base
