"""The Pareto/NBD model (Schmittlein, Morrison & Colombo 1987).

Story. While alive, a customer buys at Poisson rate ``lambda``; she stays alive for
an exponentially distributed time with rate ``mu``. Across customers
``lambda ~ Gamma(r, alpha)`` and ``mu ~ Gamma(s, beta)``, independent.

Likelihood, in the form of Fader & Hardie's note (2005, eq. 22)::

    L = Γ(r + x) α^r β^s / Γ(r) · { 1 / ((α + T)^(r + x) (β + T)^s) + s / (r + s + x) · A0 }

where ``A0`` is a difference of two Gauss hypergeometric terms, one at ``t_x`` and
one at ``T``. Written directly, each term is ``2F1(r+s+x, s+1; r+s+x+1; z)`` whose
series diverges like ``(1-z)^(-s)`` as ``z → 1``, and the difference cancels badly.
Euler's transformation ``2F1(a, b; c; z) = (1-z)^(c-a-b) 2F1(c-a, c-b; c; z)`` turns
each into ``2F1(1, ·; r+s+x+1; z)``, which is bounded, and the difference is taken in
logs with ``log1p``. That keeps the likelihood finite for large ``x`` and ``T``.

References: Schmittlein, D. C., Morrison, D. G., & Colombo, R. (1987). Counting your
customers: Who are they and what will they do next? *Management Science*, 33(1), 1–24.
Fader, P. S., & Hardie, B. G. S. (2005). A note on deriving the Pareto/NBD model and
related expressions.

>>> import crmlab as cl
>>> s = cl.transactions.summarize(cl.datasets.load_cdnow("sample"), "1997-09-30", unit="W")
>>> m = cl.models.ParetoNBD().fit(s)
>>> {k: round(v, 2) for k, v in m.params.items()}
{'r': 0.55, 'alpha': 10.58, 's': 0.61, 'beta': 11.67}
>>> round(m.loglik, 2)
-9594.98
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from scipy import special

from crmlab._validate import check_values
from crmlab.models._base import (
    RFMModel,
    as_output,
    broadcast_inputs,
    check_rfm,
    quiet,
    row_groups,
)
from crmlab.models._counts import log_nbd
from crmlab.models._intervals import interval_option

__all__ = ["ParetoNBD"]


def _log_hyper_term(
    r: float, alpha: Any, s: float, beta: Any, x: np.ndarray, time: np.ndarray
) -> np.ndarray:
    """log of 2F1(r+s+x, ·; r+s+x+1; z(time)) / (max(α, β) + time)^(r+s+x), via Euler.

    With covariates ``alpha`` and ``beta`` are arrays, and each row takes the branch
    its own pair calls for.
    """
    if np.ndim(alpha) == 0 and np.ndim(beta) == 0:
        branch = _alpha_larger if alpha >= beta else _beta_larger
        return branch(r, alpha, s, beta, x, time)
    alpha, beta, x, time = np.broadcast_arrays(alpha, beta, x, time)
    out = np.empty(x.shape)
    larger = alpha >= beta
    for branch, rows in ((_alpha_larger, larger), (_beta_larger, ~larger)):
        if rows.any():
            out[rows] = branch(r, alpha[rows], s, beta[rows], x[rows], time[rows])
    return out


def _grouped_hyper(
    r: float,
    alpha: Any,
    s: float,
    beta: Any,
    x: np.ndarray,
    time: np.ndarray,
    groups: tuple[np.ndarray, np.ndarray] | None,
) -> np.ndarray:
    if groups is None:
        return _log_hyper_term(r, alpha, s, beta, x, time)
    first, inverse = groups
    alpha_g = alpha[first] if np.ndim(alpha) else alpha
    beta_g = beta[first] if np.ndim(beta) else beta
    return _log_hyper_term(r, alpha_g, s, beta_g, x[first], time[first])[inverse]


def _alpha_larger(
    r: float, alpha: Any, s: float, beta: Any, x: np.ndarray, time: np.ndarray
) -> np.ndarray:
    z = (alpha - beta) / (alpha + time)
    bounded = special.hyp2f1(1.0, r + x, r + s + x + 1, z)
    return np.log(bounded) - s * np.log(beta + time) - (r + x) * np.log(alpha + time)


def _beta_larger(
    r: float, alpha: Any, s: float, beta: Any, x: np.ndarray, time: np.ndarray
) -> np.ndarray:
    z = (beta - alpha) / (beta + time)
    bounded = special.hyp2f1(1.0, s + 1, r + s + x + 1, z)
    return np.log(bounded) + (1 - r - x) * np.log(alpha + time) - (s + 1) * np.log(beta + time)


def _log_parts(
    params: Any,
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,
    tx_groups: tuple[np.ndarray, np.ndarray] | None = None,
    T_groups: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log of the constant, of the 'alive at T' term and of s/(r+s+x)·A0.

    The hypergeometric terms, where the time goes, depend on (x, t_x) or (x, T) and
    the covariates only: with ``tx_groups`` / ``T_groups`` (see
    :func:`crmlab.models._base.row_groups`) each is computed once per group.
    """
    r, alpha, s, beta = params
    constant = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    at_tx = _grouped_hyper(r, alpha, s, beta, x, t_x, tx_groups)
    at_T = _grouped_hyper(r, alpha, s, beta, x, T, T_groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        # A0 = exp(at_tx) - exp(at_T) with at_tx >= at_T; -inf when t_x == T.
        difference = at_tx + np.log(-np.expm1(np.minimum(at_T - at_tx, 0.0)))
    died = np.log(s / (r + s + x)) + difference
    return constant, alive, died


def _gathered(groups: tuple[np.ndarray, np.ndarray] | None, func: Any, *arrays: Any) -> Any:
    """``func(*arrays)`` computed on the first row of each group, then spread to every row.

    The rows of a group (see :func:`crmlab.models._base.row_groups`) agree in every
    array that varies by row, so the answer is the same, for far fewer special
    function calls. ``func`` may return a stack of arrays (groups along the last axis).
    """
    if groups is None:
        return func(*arrays)
    first, inverse = groups
    picked = [np.asarray(a)[first] if np.ndim(a) else a for a in arrays]
    return np.take(func(*picked), inverse, axis=-1)


def _log_hyper(b: Any, c: Any, z: Any) -> Any:
    return np.log(special.hyp2f1(1.0, b, c, z))


#: Below this z (c - b) / c the shifted 2F1s are computed directly: their closed
#: forms would cancel.
_DIRECT_Z = 1e-3


def _shifted_hyper(b: Any, c: Any, z: Any, log_f: Any) -> tuple[Any, Any]:
    """log 2F1(1, b + 1; c + 1; z) and log 2F1(1, b; c + 1; z) from ``log_f = log 2F1(1, b; c; z)``.

    With ``F = 2F1(1, b; c; z) = sum (b)_n / (c)_n z^n``, shifting the series by one
    term gives ``2F1(1, b + 1; c + 1; z) = c (F - 1) / (b z)``, and splitting
    ``c / (c + n)`` into ``c / (c - b) (1 - (b + n) / (c + n))`` gives
    ``2F1(1, b; c + 1; z) = c / (c - b) (F - (F - 1) / z)``: two hypergeometric
    functions for the price of none. Both subtract nearly equal numbers when ``z``
    or ``c - b`` is small (relative error about ``1e-16 c / ((c - b) z)``), so rows
    with ``z (c - b) / c < 1e-3`` call 2F1 directly (the error stays near 1e-13
    elsewhere).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        f_minus_one = np.expm1(log_f)
        both_up = np.log(c * f_minus_one / (b * z))
        c_up = np.log(c / (c - b) * (np.exp(log_f) - f_minus_one / z))
    direct = z * (c - b) < _DIRECT_Z * c
    if direct.any():
        b, c, z = (np.broadcast_to(v, direct.shape)[direct] for v in (b, c, z))
        both_up[direct] = _log_hyper(b + 1, c + 1, z)
        c_up[direct] = _log_hyper(b, c + 1, z)
    return both_up, c_up


def _hyper_and_slopes(
    r: float, alpha: Any, s: float, beta: Any, x: np.ndarray, time: np.ndarray, gradient: bool
) -> np.ndarray:
    """The term of :func:`_log_hyper_term`, ``H``, and its derivatives in r, alpha, s, beta.

    ``H = log((r + s + x) J)`` with ``J = ∫_time^∞ (α+τ)^-(r+x) (β+τ)^-(s+1) dτ``. In
    α and β the derivatives are exact: ``∂J/∂α = -(r+x) J(x+1)`` and ``∂J/∂β = -(s+1)
    J(s+1)``, the same integral with a shifted exponent, which in Euler's form is the
    bounded 2F1 with its second and third parameters moved by one. In r and s the
    exponents enter the parameters of 2F1, which has no derivative in closed form
    there; the derivative of its log (an O(1) smooth function) is a central
    difference, accurate to about 1e-10, and the powers outside it are exact.
    Rows 0..4: H, ∂H/∂r, ∂H/∂α, ∂H/∂s, ∂H/∂β (row 0 only without ``gradient``).
    """
    alpha, beta, x, time = np.broadcast_arrays(alpha, beta, x, time)
    larger = alpha >= beta
    a = r + x
    log_alpha_t, log_beta_t = np.log(alpha + time), np.log(beta + time)
    z = np.where(larger, (alpha - beta) / (alpha + time), (beta - alpha) / (beta + time))
    b = np.where(larger, a, s + 1)
    c = r + s + x + 1
    log_f = _log_hyper(b, c, z)
    power = np.where(
        larger,
        -s * log_beta_t - a * log_alpha_t,
        (1 - a) * log_alpha_t - (s + 1) * log_beta_t,
    )
    value = log_f + power
    if not gradient:
        return value[None]
    in_a = larger.astype(float)  # the second 2F1 parameter moves with r+x (alpha branch)
    h_r, h_s = 1e-5 * max(r, 1e-3), 1e-5 * max(s, 1e-3)
    d_r = (_log_hyper(b + h_r * in_a, c + h_r, z) - _log_hyper(b - h_r * in_a, c - h_r, z)) / (
        2 * h_r
    ) - log_alpha_t
    d_s = (
        _log_hyper(b + h_s * (1 - in_a), c + h_s, z) - _log_hyper(b - h_s * (1 - in_a), c - h_s, z)
    ) / (2 * h_s) - log_beta_t
    scale = (a + s) / (a + s + 1)
    both_up, c_up = _shifted_hyper(b, c, z, log_f)
    up_a = np.where(larger, both_up, c_up) - log_f - log_alpha_t  # H(x + 1) - H
    up_s = np.where(larger, c_up, both_up) - log_f - log_beta_t  # H(s + 1) - H
    d_alpha = -a * scale * np.exp(up_a)
    d_beta = -(s + 1) * scale * np.exp(up_s)
    return np.stack([value, d_r, d_alpha, d_s, d_beta])


def _fit_terms(
    params: Any,
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,
    groups: Mapping[str, Any],
    gradient: bool,
) -> tuple[np.ndarray, list[np.ndarray] | None]:
    """Each row's log-likelihood and, with ``gradient``, its derivatives in r, α, s, β.

    The likelihood is that of :func:`_log_parts`; every special function is computed
    once per group of rows that share its arguments (``groups``, from
    :meth:`ParetoNBD._groups`), so that a row costs four exponentials or logarithms.
    With ``P`` the probability that a customer died in (t_x, T] given her row, each
    derivative is that of the constant, plus ``1 - P`` times that of the 'alive'
    term, plus ``P`` times that of the 'died' term, whose hypergeometric difference
    ``e^H(t_x) - e^H(T)`` differentiates to ``(H'(t_x) - u H'(T)) / (1 - u)`` with
    ``u = e^(H(T) - H(t_x))``.
    """
    r, alpha, s, beta = params
    psi = special.digamma
    on_x = _gathered(
        groups.get("x_groups"),
        lambda v: np.stack([special.gammaln(r + v), psi(r + v), np.log(s / (r + s + v))]),
        x,
    )
    log_gamma_rx, psi_rx, log_share = on_x
    on_cov = _gathered(
        groups.get("cov_groups"),
        lambda al, be: np.stack(np.broadcast_arrays(np.log(al), np.log(be))),
        alpha,
        beta,
    )
    log_alpha, log_beta = on_cov[0], on_cov[1]
    on_T = _gathered(
        groups.get("T_groups"),
        lambda t, al, be: np.stack([np.log(al + t), np.log(be + t), 1 / (al + t), 1 / (be + t)]),
        T,
        alpha,
        beta,
    )
    log_alpha_T, log_beta_T, inv_alpha_T, inv_beta_T = on_T
    at_tx = _gathered(
        groups.get("x_t_x_groups"),
        lambda v, t, al, be: _hyper_and_slopes(r, al, s, be, v, t, gradient),
        x,
        t_x,
        alpha,
        beta,
    )
    at_T = _gathered(
        groups.get("x_T_groups"),
        lambda v, t, al, be: _hyper_and_slopes(r, al, s, be, v, t, gradient),
        x,
        T,
        alpha,
        beta,
    )
    rx = r + x
    constant = log_gamma_rx - special.gammaln(r) + r * log_alpha + s * log_beta
    alive = -rx * log_alpha_T - s * log_beta_T
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # H(t_x) >= H(T); equal (no time to die in) when t_x = T.
        shortfall = np.expm1(np.minimum(at_T[0] - at_tx[0], 0.0))  # u - 1
        died = log_share + at_tx[0] + np.log(-shortfall)
        gap = died - alive
        small = np.exp(-np.abs(gap))
        total = constant + np.maximum(alive, died) + np.log1p(small)
    if not gradient:
        return total, None
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(gap > 0, 1 / (1 + small), small / (1 + small))
        u = shortfall + 1
        died_r, died_alpha, died_s, died_beta = (
            np.where(p > 0, (at_tx[k] - u * at_T[k]) / -shortfall, 0.0) for k in (1, 2, 3, 4)
        )
    a_s = rx + s
    d_r = psi_rx - psi(r) + log_alpha - log_alpha_T + p * (log_alpha_T - 1 / a_s + died_r)
    d_alpha = r / alpha - rx * inv_alpha_T + p * (rx * inv_alpha_T + died_alpha)
    d_s = log_beta - log_beta_T + p * (log_beta_T + 1 / s - 1 / a_s + died_s)
    d_beta = s / beta - s * inv_beta_T + p * (s * inv_beta_T + died_beta)
    return total, [d_r, d_alpha, d_s, d_beta]


class ParetoNBD(RFMModel):
    """Pareto/NBD model for non-contractual repeat purchasing.

    Fit with :meth:`fit` on a frame with columns ``x``, ``t_x``, ``T`` (and an
    optional ``weight``).

    Parameters
    ----------
    purchase_covariates : list of str, optional
        Columns that scale each customer's purchase process,
        ``alpha_i = alpha * exp(-gamma_purchase . z_i)``: a positive coefficient means
        more purchasing (parameters ``"purchase.<column>"``).
    dropout_covariates : list of str, optional
        Columns that scale the lifetime process, ``beta_i = beta * exp(-gamma_dropout . z_i)``:
        a positive coefficient means faster dropout (``"dropout.<column>"``).

    The covariate form is that of Fader & Hardie's note "Incorporating time-invariant
    covariates into the Pareto/NBD and BG/NBD models" (2007), as in CLVTools. Every
    prediction of a covariate model takes ``covariates=``, the values of the
    customers predicted for.

    Examples
    --------
    >>> m = ParetoNBD().set_params(r=0.55, alpha=10.58, s=0.61, beta=11.67)
    >>> round(m.expected_purchases(39), 3)
    1.202
    >>> round(m.p_alive(2, 30.43, 38.86), 3)
    0.868

    A covariate model: ``"purchase.vip" = log 2`` doubles a VIP's purchase rate.

    >>> vip = {"vip": [0.0, 1.0]}
    >>> cov = ParetoNBD(purchase_covariates=["vip"]).set_params(
    ...     r=0.55, alpha=10.58, s=0.61, beta=11.67, **{"purchase.vip": np.log(2)})
    >>> cov.expected_purchases(39, covariates=vip).round(3)
    array([1.202, 2.404])
    """

    param_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "s", "beta")
    covariate_effects: ClassVar[Mapping[str, tuple[tuple[str, float], ...]]] = {
        "purchase": (("alpha", -1.0),),
        "dropout": (("beta", -1.0),),
    }
    # Each evaluation costs fourteen 2F1s per group of rows: BFGS starts from the
    # outer product of the rows' gradients; the standard errors' Hessian is one
    # central difference of the exact gradient, 3e-4 relative (its truncation and the
    # noise of the 2F1 differences in r and s are both about 1e-6 there: it agrees
    # with the Richardson-extrapolated one to 2e-6 on CDNOW), and the Newton finish
    # steps on it, so that one set of differences serves both.
    bfgs_from_outer_product: ClassVar[bool] = True
    hessian_steps: ClassVar[tuple[float, ...]] = (3e-4,)
    polish_on_error_hessian: ClassVar[bool] = True

    def _starts(self, columns: dict[str, np.ndarray], weights: np.ndarray) -> list[np.ndarray]:
        # Each start's mean purchase rate r / alpha is the data's.
        alpha = 1.0 / self._mean_purchase_rate(columns, weights)
        mean_T = np.average(columns["T"], weights=weights)
        return [np.array([1.0, alpha, 1.0, mean_T]), np.array([0.5, alpha / 2, 0.5, mean_T / 3])]

    def _groups(self, columns: Mapping[str, np.ndarray]) -> dict[str, Any]:
        """Rows alike in what each special function of the likelihood takes (see _fit_terms)."""
        covariates = self._covariate_columns(columns)
        x, t_x, T = columns["x"], columns["t_x"], columns["T"]
        return {
            "x_groups": row_groups(x),
            "cov_groups": row_groups(*covariates) if covariates else None,
            "T_groups": row_groups(T, *covariates),
            "x_t_x_groups": row_groups(x, t_x, *covariates),
            "x_T_groups": row_groups(x, T, *covariates),
        }

    def _loglik_rows(
        self, params: Any, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, **groups: Any
    ) -> np.ndarray:
        if not groups:
            constant, alive, died = _log_parts(params, x, t_x, T)
            return constant + np.logaddexp(alive, died)
        return _fit_terms(params, x, t_x, T, groups, gradient=False)[0]

    def _gradient_rows(
        self, params: Any, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, **groups: Any
    ) -> list[np.ndarray]:
        """Derivatives of each row's log-likelihood in r, alpha, s and beta (see _fit_terms)."""
        return self._loglik_and_gradient_rows(params, x, t_x, T, **groups)[1]

    def _loglik_and_gradient_rows(
        self, params: Any, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, **groups: Any
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        total, gradient = _fit_terms(params, x, t_x, T, groups, gradient=True)
        assert gradient is not None
        return total, gradient

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
        """Probability that a customer with history (x, t_x, T) is still alive at T.

        ``covariates``: the customers' covariate values (covariate models only).
        ``interval``: see the parameters below.

        >>> m = ParetoNBD().set_params(r=0.55, alpha=10.58, s=0.61, beta=11.67)
        >>> m.p_alive([0, 5], [0, 38], [38.86, 38.86]).round(3)
        array([0.294, 0.989])
        """
        (x, t_x, T), is_scalar = broadcast_inputs(x, t_x, T)
        check_rfm(x.ravel(), t_x.ravel(), T.ravel())
        r, alpha, s, beta = self._individual(covariates)
        if self.covariates:
            (x, t_x, T, alpha, beta), is_scalar = broadcast_inputs(
                x, t_x, T, alpha, beta, scalar=is_scalar
            )
        _, alive, died = _log_parts((r, alpha, s, beta), x, t_x, T)
        return as_output(np.exp(alive - np.logaddexp(alive, died)), is_scalar)

    @quiet
    def expected_purchases(self, t: Any, *, covariates: Any = None) -> Any:
        """E[X(t)]: expected purchases in ``(0, t]`` of a newly acquired customer.

        >>> m = ParetoNBD().set_params(r=0.55, alpha=10.58, s=0.61, beta=11.67)
        >>> m.expected_purchases([0, 78]).round(3)
        array([0.  , 1.89])
        """
        r, alpha, s, beta = self._individual(covariates)
        (t, alpha, beta), is_scalar = broadcast_inputs(self._in_unit(t), alpha, beta)
        check_values(t, "t", low=0)
        value = r * beta / alpha * _lifetime_integral(s, beta, t)
        return as_output(value, is_scalar)

    @quiet
    def probability_of_purchases(self, n: Any, t: Any, *, covariates: Any = None) -> Any:
        """P(X(t) = n): probability of exactly ``n`` purchases in ``(0, t]`` of a new customer.

        A customer alive throughout ``(0, t]`` buys an NBD(r, α) count over ``t``; one
        who dies at ``τ < t`` buys an NBD count over ``τ``. So

            P(X(t) = n) = S(t) NB(n; t) + ∫_0^t NB(n; u) dF(u),

        with ``S(u) = (β / (β + u))^s`` the lifetime survival across customers and
        ``F = 1 - S``. Fader & Hardie (2006, note 012) solve the integral with Gauss
        hypergeometric terms; we integrate numerically instead, on the scale of ``F``
        (Gauss–Legendre, 64 nodes), where the integrand is smooth and bounded.

        >>> m = ParetoNBD().set_params(r=0.55, alpha=10.58, s=0.61, beta=11.67)
        >>> p = m.probability_of_purchases(np.arange(300), 39)
        >>> round(float(p.sum()), 8), round(float(p[0]), 3)
        (1.0, 0.596)
        """
        r, alpha, s, beta = self._individual(covariates)
        (n, t, alpha, beta), is_scalar = broadcast_inputs(n, self._in_unit(t), alpha, beta)
        check_values(t, "t", low=0)
        check_values(n, "n", low=0, whole=True)
        return as_output(_pmf(n, t, r, alpha, s, beta), is_scalar)

    @quiet
    def p_alive_at(self, t: Any, x: Any, t_x: Any, T: Any, *, covariates: Any = None) -> Any:
        """P(alive at ``T + t`` | x, t_x, T): alive at T, and the lifetime lasts ``t`` more.

        Given alive at T, a customer's dropout rate is Gamma(s, β + T), so she
        survives ``t`` more with probability ``((β + T) / (β + T + t))^s``.

        >>> m = ParetoNBD().set_params(r=0.55, alpha=10.58, s=0.61, beta=11.67)
        >>> round(m.p_alive_at(52, 2, 30.43, 38.86), 3)
        0.564
        """
        alive = self.p_alive(x, t_x, T, covariates=covariates)
        _, _, s, beta = self._individual(covariates)
        (t, T, beta, alive), is_scalar = broadcast_inputs(self._in_unit(t), T, beta, alive)
        check_values(t, "t", low=0)
        survive = np.exp(s * (np.log(beta + T) - np.log(beta + T + t)))
        return as_output(alive * survive, is_scalar)

    @quiet
    def conditional_probability_of_purchases(
        self, n: Any, t: Any, x: Any, t_x: Any, T: Any, *, covariates: Any = None
    ) -> Any:
        """P(X(T, T + t] = n | x, t_x, T): exactly ``n`` purchases in the next ``t``.

        Given alive at T, the customer's rates are Gamma(r + x, α + T) and
        Gamma(s, β + T), and her future purchases follow a Pareto/NBD with those
        parameters (the Poisson and exponential processes forget the past); a
        customer already gone buys nothing. So the answer is
        ``P(alive) · P_updated(n; t) + (1 - P(alive)) · [n = 0]``, the result of
        Fader, Hardie & Shang's note on P(X(t, t+τ] = x) (2006, note 012).
        ``n = 0`` gives the probability of no purchase.

        >>> m = ParetoNBD().set_params(r=0.55, alpha=10.58, s=0.61, beta=11.67)
        >>> p = m.conditional_probability_of_purchases(np.arange(200), 39, 2, 30.43, 38.86)
        >>> round(float(p.sum()), 6), round(float((np.arange(200) * p).sum()), 3)
        (1.0, 1.45)
        """
        alive = self.p_alive(x, t_x, T, covariates=covariates)
        r, alpha, s, beta = self._individual(covariates)
        (n, t, x, T, alpha, beta, alive), is_scalar = broadcast_inputs(
            n, self._in_unit(t), x, T, alpha, beta, alive
        )
        check_values(t, "t", low=0)
        check_values(n, "n", low=0, whole=True)
        future = _pmf(n, t, r + x, alpha + T, s, beta + T)
        return as_output(alive * future + (1 - alive) * (n == 0), is_scalar)

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

        ``covariates`` as in :meth:`p_alive`.

        >>> m = ParetoNBD().set_params(r=0.55, alpha=10.58, s=0.61, beta=11.67)
        >>> round(m.conditional_expected_purchases(39, 2, 30.43, 38.86), 3)
        1.45
        """
        (t, x, t_x, T), is_scalar = broadcast_inputs(self._in_unit(t), x, t_x, T)
        check_values(t, "t", low=0)
        alive = self.p_alive(x, t_x, T, covariates=covariates)
        r, alpha, s, beta = self._individual(covariates)
        (t, x, T, alpha, beta, alive), is_scalar = broadcast_inputs(
            t, x, T, alpha, beta, alive, scalar=is_scalar
        )
        rate = (r + x) / (alpha + T)
        value = rate * (beta + T) * _lifetime_integral(s, beta + T, t) * alive
        return as_output(value, is_scalar)

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
        15 % a year: ``δ = log(1.15) / 52``). Fader, Hardie & Lee (2005, "RFM and
        CLV", eq. 2) give it as ``α^r β^s δ^(s-1) Γ(r+x+1) Ψ(s, s; δ(β+T)) / (Γ(r)
        (α+T)^(r+x+1) L)``; written with P(alive) instead of the likelihood ``L`` it is

            P(alive) · (r + x) / (α + T) · (β + T) · U(1, 2 - s, δ (β + T)),

        with ``U`` Tricomi's confluent hypergeometric function (``Ψ`` in the paper).
        Multiply by the margin per transaction (e.g. from :class:`GammaGamma`) for
        the customer's discounted expected residual value. ``covariates`` as in
        :meth:`p_alive`.

        Reference: Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). RFM and CLV:
        Using iso-value curves for customer base analysis. *Journal of Marketing
        Research*, 42(4), 415–430.

        >>> m = ParetoNBD().set_params(r=0.55, alpha=10.58, s=0.61, beta=11.67)
        >>> round(m.dert(np.log(1.15) / 52, 2, 30.43, 38.86), 2)
        6.45
        """
        alive = self.p_alive(x, t_x, T, covariates=covariates)
        r, alpha, s, beta = self._individual(covariates)
        (delta, x, T, alpha, beta, alive), is_scalar = broadcast_inputs(
            discount, x, T, alpha, beta, alive
        )
        check_values(delta, "discount", above=0)
        rate = (r + x) / (alpha + T)
        value = alive * rate * (beta + T) * special.hyperu(1.0, 2.0 - s, delta * (beta + T))
        return as_output(value, is_scalar)

    def simulate(
        self, n_customers: int, T: Any, seed: int | None = 0, *, covariates: Any = None
    ) -> dict[str, np.ndarray]:
        """Draw a customer base: per customer x, t_x and T (covariates scale alpha, beta).

        >>> base = ParetoNBD().set_params(r=0.55, alpha=10.58, s=0.61, beta=11.67).simulate(4, 39)
        >>> bool((base["t_x"] <= base["T"]).all())
        True
        """
        r, alpha, s, beta = (
            np.broadcast_to(value, (n_customers,)) for value in self._individual(covariates)
        )
        rng = np.random.default_rng(seed)
        T_values = np.broadcast_to(np.asarray(T, dtype=float), (n_customers,)).copy()
        rate = rng.gamma(r, 1.0 / alpha, n_customers)
        death = rng.gamma(s, 1.0 / beta, n_customers)
        lifetime = rng.exponential(1.0 / death)
        window = np.minimum(lifetime, T_values)
        x = rng.poisson(rate * window)
        # The last of x uniform arrival times on (0, window] is window * Beta(x, 1).
        t_x = np.where(x > 0, window * rng.beta(np.maximum(x, 1), 1.0), 0.0)
        return {"x": x.astype(float), "t_x": t_x, "T": T_values}


def _pmf(n: np.ndarray, t: np.ndarray, r: Any, alpha: Any, s: float, beta: Any) -> np.ndarray:
    """P(X(t) = n) of a customer fresh from (r, alpha, s, beta); arrays broadcast."""
    n, t, r, alpha, beta = np.broadcast_arrays(n, t, r, alpha, beta)

    log_survival = s * (np.log(beta) - np.log(beta + t))
    alive = np.exp(log_survival + log_nbd(n, t, r, alpha))
    nodes, node_weights = np.polynomial.legendre.leggauss(64)
    dead_share = -np.expm1(log_survival)[..., None]  # F(t)
    w = dead_share * (nodes + 1) / 2  # F(u) at the nodes
    u = beta[..., None] * np.expm1(-np.log1p(-w) / s)  # invert F(u) = 1 - (β / (β + u))^s
    died = np.exp(log_nbd(n[..., None], u, r[..., None], alpha[..., None]))
    return alive + (died * node_weights).sum(axis=-1) * dead_share[..., 0] / 2


def _lifetime_integral(s: float, scale: Any, t: Any) -> Any:
    """∫ of the survival of a Gamma(s, scale) mixture of exponentials over (0, t], over scale.

    Equals ``(1 - (scale / (scale + t))^(s - 1)) / (s - 1)``, with its limit
    ``log((scale + t) / scale)`` at ``s = 1``.
    """
    log_ratio = np.log(scale + t) - np.log(scale)
    if abs(s - 1) < 1e-10:
        return log_ratio
    return -np.expm1(-(s - 1) * log_ratio) / (s - 1)
