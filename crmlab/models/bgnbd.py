"""The BG/NBD model of repeat buying (Fader, Hardie & Lee 2005).

Story. While active, a customer buys at the times of a Poisson process with rate
``lambda``; after each repeat purchase she becomes inactive for good with
probability ``p``. Across customers ``lambda ~ Gamma(r, alpha)`` (shape ``r``, rate
``alpha``) and ``p ~ Beta(a, b)``. Time is in the unit of the summary (weeks for
CDNOW).

Likelihood of a customer with ``x`` repeat purchases, the last at ``t_x``, observed
for ``T`` (eq. 6 of the paper)::

    L = B(a, b + x) / B(a, b) * Γ(r + x) α^r / (Γ(r) (α + T)^(r + x))
        + [x > 0] B(a + 1, b + x - 1) / B(a, b) * Γ(r + x) α^r / (Γ(r) (α + t_x)^(r + x))

Both terms are computed as logarithms and added with ``logaddexp`` so that large
``x`` or ``T`` neither overflow nor underflow.

Reference: Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). "Counting your
customers" the easy way: An alternative to the Pareto/NBD model. *Marketing
Science*, 24(2), 275–284.

>>> import crmlab as cl
>>> m = cl.models.BGNBD().fit(cl.datasets.load_cdnow_published_summary())
>>> {k: round(v, 3) for k, v in m.params.items()}
{'r': 0.243, 'alpha': 4.414, 'a': 0.793, 'b': 2.426}
>>> round(m.loglik, 2)
-9582.43
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
    by_level,
    check_rfm,
    quiet,
    row_groups,
    value_levels,
    weighted_sum,
)
from crmlab.models._counts import log_nbd
from crmlab.models._covariates import covariate_key
from crmlab.models._intervals import interval_option

__all__ = ["BGNBD"]


def _on_levels(
    func: Any, values: np.ndarray, levels: Mapping[str, Any], key: str, *params: Any, axis: int = 0
) -> Any:
    """``func(values, *params)``, evaluated once per distinct value (and covariate group).

    ``levels`` may hold ``<key>_groups`` (first row and group of each row, see
    :func:`crmlab.models._base.row_groups`; the rows of a group agree in ``values``
    and in the per-row ``params``) or, when ``params`` are scalars, ``<key>_levels``
    (:func:`crmlab.models._base.value_levels`). Without either, every row is computed.
    ``axis``: the axis of ``func``'s result that runs over the values, as in
    :func:`crmlab.models._base.by_level`.
    """
    groups = levels.get(f"{key}_groups")
    if groups is not None:
        first, inverse = groups
        picked = (np.asarray(p)[first] if np.ndim(p) else p for p in params)
        return np.take(func(values[first], *picked), inverse, axis=axis)
    found = levels.get(f"{key}_levels")
    if found is not None and all(np.ndim(p) == 0 for p in params):
        return by_level(lambda v: func(v, *params), values, found, axis)
    return func(values, *params)


def _log_terms(
    r: float,
    alpha: Any,
    a: Any,
    b: Any,
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,
    levels: Mapping[str, Any] | None = None,
    *,
    shift: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Log of the 'still active' and 'dropped out after t_x' terms of the likelihood.

    ``shift = 1`` gives the MBG/NBD's terms: a customer has ``x + 1`` chances to
    drop out by ``t_x`` instead of ``x``, so the Beta parameter ``b`` of the counts
    moves up by one (``B(a, b + x + 1)``, ``B(a + 1, b + x)``) while the normaliser
    stays ``B(a, b)``, and the 'dropped' term exists at ``x = 0`` too.
    """
    levels = levels or {}
    shifted = b + shift
    log_b_ab = special.betaln(a, b)
    common = (
        _on_levels(lambda v: special.gammaln(r + v), x, levels, "x")
        - special.gammaln(r)
        + (r * np.log(alpha))
    )
    log_T = _on_levels(lambda v, alpha: np.log(alpha + v), T, levels, "T", alpha)
    log_tx = _on_levels(lambda v, alpha: np.log(alpha + v), t_x, levels, "t_x", alpha)
    active = (
        _on_levels(lambda v, a, b: special.betaln(a, b + v), x, levels, "x", a, shifted)
        - log_b_ab
        + common
        - (r + x) * log_T
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        dropped = _on_levels(
            lambda v, a, b: special.betaln(a + 1, np.maximum(b + v - 1, 1e-300)),
            x,
            levels,
            "x",
            a,
            shifted,
        )
        dropped = np.where(x + shift > 0, dropped - log_b_ab + common - (r + x) * log_tx, -np.inf)
    return active, dropped


def _loglik_and_gradient(
    params: Any,
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,
    levels: Mapping[str, Any],
    shift: int = 0,
    curvature: bool = False,
) -> tuple[np.ndarray, list[np.ndarray]] | tuple[np.ndarray, list[np.ndarray], dict[str, Any]]:
    """Each row's log-likelihood and its exact derivatives in r, alpha, a and b.

    The terms that depend on ``x`` alone (gammas, betas, digammas) are computed once
    per distinct ``x``, those in ``alpha + T`` and ``alpha + t_x`` once per distinct
    time; a row then costs one ``exp`` and one ``log1p``. With ``p = P(dropped | row)``
    the derivatives are those of the 'active' term plus ``p`` times the difference to
    the 'dropped' one, and the digamma differences of that difference are
    ``psi(a + 1) - psi(a) = 1 / a`` and ``psi(b + x - 1) - psi(b + x) = -1 / (b + x - 1)``.
    ``shift`` as in :func:`_log_terms`.

    With ``curvature`` a third item holds what the Hessian needs (see
    :func:`_hessian_sums`): ``p``, the gradient of log(dropped / active) per row, and
    the trigammas and inverse squares of the terms.
    """
    r, alpha, a, b = params
    psi = special.digamma
    shifted = b + shift
    log_b_ab = special.betaln(a, b)
    common = (
        _on_levels(lambda v: special.gammaln(r + v), x, levels, "x")
        - special.gammaln(r)
        + r * np.log(alpha)
    )
    log_T = _on_levels(lambda v, alpha: np.log(alpha + v), T, levels, "T", alpha)
    log_tx = _on_levels(lambda v, alpha: np.log(alpha + v), t_x, levels, "t_x", alpha)
    inv_T = _on_levels(lambda v, alpha: 1 / (alpha + v), T, levels, "T", alpha)
    inv_tx = _on_levels(lambda v, alpha: 1 / (alpha + v), t_x, levels, "t_x", alpha)

    def beta_terms(v: np.ndarray, a: Any, b: Any) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            possible = v + shift > 0
            terms = [
                special.betaln(a, b + v),
                np.where(possible, special.betaln(a + 1, np.maximum(b + v - 1, 1e-300)), -np.inf),
                psi(a) - psi(a + b + v),
                psi(b + v) - psi(a + b + v),
                np.where(possible, 1 / (b + v - 1), 0.0),
                psi(r + v),
            ]
            if curvature:
                terms += [_trigamma(r + v), _trigamma(a + b + v), _trigamma(b + v)]
            return np.stack(terms)

    on_x = _on_levels(beta_terms, x, levels, "x", a, shifted, axis=-1)
    log_active, log_dropped, da_active, db_active, db_gap, psi_rx = on_x[:6]
    rx = r + x
    active = log_active - log_b_ab + common - rx * log_T
    gap = log_dropped - log_active + rx * (log_T - log_tx)  # log(dropped / active)
    with np.errstate(invalid="ignore", over="ignore"):
        small = np.exp(-np.abs(gap))
        total = active + np.maximum(gap, 0.0) + np.log1p(small)
        p = np.where(gap > 0, 1 / (1 + small), small / (1 + small))
    gap_r = log_T - log_tx
    gap_alpha = rx * (inv_T - inv_tx)
    d_r = psi_rx - special.digamma(r) + np.log(alpha) - log_T + p * gap_r
    d_alpha = r / alpha - rx * (inv_T + p * (inv_tx - inv_T))
    d_a = da_active - (psi(a) - psi(a + b)) + p / a
    d_b = db_active - (psi(b) - psi(a + b)) - p * db_gap
    if not curvature:
        return total, [d_r, d_alpha, d_a, d_b]
    tri_rx, tri_abx, tri_bx = on_x[6:]
    parts = {
        "p": p,
        "gap": [gap_r, gap_alpha, np.full_like(p, 1 / a), -db_gap],
        "tri_rx": tri_rx,
        "tri_abx": tri_abx,
        "tri_bx": tri_bx,
        "rx": rx,
        "inv_T": inv_T,
        "inv_tx": inv_tx,
        "db_gap": db_gap,
    }
    return total, [d_r, d_alpha, d_a, d_b], parts


def _trigamma(values: Any) -> Any:
    """psi'(values), the very numbers of ``polygamma(1, values)``, without its Python wrapper."""
    return special.zeta(2.0, values)


def _hessian_sums(params: Any, parts: Mapping[str, Any], weights: np.ndarray) -> np.ndarray:
    """The weighted sum of each row's Hessian of the log-likelihood in (r, alpha, a, b).

    A row's likelihood is ``A + D`` ('active' and 'dropped', :func:`_log_terms`), so
    with ``p = D / (A + D)`` and ``g`` the gradient of ``log(D / A)`` its Hessian is
    ``(1 - p) ∇²log A + p ∇²log D + p (1 - p) g gᵀ``. Both logarithms are sums of
    log-gammas, log-betas and ``-(r + x) log(alpha + t)``: their second derivatives are
    trigammas and inverse squares, and (r, alpha) do not meet (a, b) in either, so the
    cross block is ``p (1 - p) g gᵀ`` alone. ``parts`` from :func:`_loglik_and_gradient`.
    """
    r, alpha, a, b = params
    trigamma = _trigamma
    n = float(weights.sum())
    p = parts["p"]
    rx, inv_T, inv_tx = parts["rx"], parts["inv_T"], parts["inv_tx"]
    tri_ab = float(trigamma(a + b))
    diagonal_terms = [
        parts["tri_rx"],
        p * (inv_T - inv_tx) - inv_T,
        rx * (inv_T * inv_T + p * (inv_tx * inv_tx - inv_T * inv_T)),
        -parts["tri_abx"] - p / (a * a),
        parts["tri_bx"] - parts["tri_abx"] + p * parts["db_gap"] ** 2,
        -parts["tri_abx"],
    ]
    sums = [weighted_sum(weights, term) for term in diagonal_terms]
    hessian = np.zeros((4, 4))
    hessian[0, 0] = sums[0] - n * float(trigamma(r))
    hessian[0, 1] = hessian[1, 0] = sums[1] + n / alpha
    hessian[1, 1] = sums[2] - n * r / alpha**2
    hessian[2, 2] = sums[3] + n * tri_ab
    hessian[3, 3] = sums[4] + n * (tri_ab - float(trigamma(b)))
    hessian[2, 3] = hessian[3, 2] = sums[5] + n * tri_ab
    gap = np.stack(parts["gap"])
    spread = weights * p * (1 - p)
    # einsum's own loop, not BLAS: see weighted_sum.
    return hessian + np.einsum("i,ji,ki->jk", spread, gap, gap)


def _hessian_rows(
    params: Any, parts: Mapping[str, Any], levels: Mapping[str, Any]
) -> list[list[Any]]:
    """Each row's Hessian of the log-likelihood in its own (r, alpha_i, a_i, b_i).

    The terms of :func:`_hessian_sums` row by row, for a covariate fit whose
    ``alpha``, ``a`` and ``b`` differ between customers; the terms in ``a + b`` and
    ``b`` alone are computed once per group of rows alike in the dropout covariates
    (``dropout_groups`` in ``levels``). A 4 x 4 nested list of arrays (or scalars).
    """
    r, alpha, a, b = params
    trigamma = _trigamma
    p = parts["p"]
    rx, inv_T, inv_tx = parts["rx"], parts["inv_T"], parts["inv_tx"]
    tri_ab, tri_b = (
        _on_levels(
            lambda v, w: np.stack([trigamma(v + w), trigamma(w)]).T, a, levels, "dropout", b
        ).T
        if np.ndim(a)
        else (trigamma(a + b), trigamma(b))
    )
    spread = p * (1 - p)
    gap = parts["gap"]
    rows: list[list[Any]] = [[None] * 4 for _ in range(4)]
    for j in range(4):
        weighted = spread * gap[j]
        for k in range(j, 4):
            rows[j][k] = rows[k][j] = weighted * gap[k]
    own = {
        (0, 0): parts["tri_rx"] - trigamma(r),
        (0, 1): p * (inv_T - inv_tx) - inv_T + 1 / alpha,
        (1, 1): rx * (inv_T * inv_T + p * (inv_tx * inv_tx - inv_T * inv_T)) - r / alpha**2,
        (2, 2): tri_ab - parts["tri_abx"] - p / (a * a),
        (3, 3): parts["tri_bx"] - parts["tri_abx"] + p * parts["db_gap"] ** 2 + tri_ab - tri_b,
        (2, 3): tri_ab - parts["tri_abx"],
    }
    for (j, k), term in own.items():
        rows[j][k] = rows[k][j] = rows[j][k] + term
    return rows


class BGNBD(RFMModel):
    """Beta-geometric/NBD model for non-contractual repeat purchasing.

    Fit with :meth:`fit` on a frame with columns ``x``, ``t_x``, ``T`` (and an
    optional ``weight``), as returned by :func:`crmlab.transactions.summarize`.

    Parameters
    ----------
    purchase_covariates : list of str, optional
        Columns of the data that scale the purchase rates: customer i's
        ``alpha_i = alpha * exp(-gamma_purchase . z_i)``, so a positive coefficient
        means more purchasing (parameters ``"purchase.<column>"``).
    dropout_covariates : list of str, optional
        Columns that enter the dropout process as Fader & Hardie's note on
        time-invariant covariates (2007) gives it: ``a_i = a * exp(gamma_dropout . z_i)``
        and ``b_i = b * exp(gamma_dropout . z_i)`` (parameters ``"dropout.<column>"``).
        Both Beta parameters move together, so the mean dropout probability
        ``a / (a + b)`` stays put and a positive coefficient makes the dropout
        probabilities of such customers *less dispersed* around it (CLVTools uses the
        same form).

    Every prediction of a covariate model takes ``covariates=``: the covariate
    values of the customers predicted for (a DataFrame or dict of arrays).

    Examples
    --------
    >>> m = BGNBD().set_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    >>> round(m.expected_purchases(39), 3)
    1.197
    >>> round(m.conditional_expected_purchases(39, x=2, t_x=30.43, T=38.86), 3)
    1.226

    With a covariate (here simulated: customers with ``vip = 1`` buy twice as often):

    >>> import numpy as np, pandas as pd
    >>> vip = np.repeat([0.0, 1.0], 2000)
    >>> truth = BGNBD(purchase_covariates=["vip"]).set_params(
    ...     r=0.5, alpha=8.0, a=0.8, b=2.5, **{"purchase.vip": np.log(2)})
    >>> base = pd.DataFrame(truth.simulate(4000, 52.0, covariates={"vip": vip})).assign(vip=vip)
    >>> fitted = BGNBD(purchase_covariates=["vip"]).fit(base)
    >>> round(fitted.params["purchase.vip"], 1)  # the truth is log 2 = 0.69
    0.8
    """

    param_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "a", "b")
    level_columns: ClassVar[tuple[str, ...]] = ("x", "t_x", "T")
    covariate_effects: ClassVar[Mapping[str, tuple[tuple[str, float], ...]]] = {
        "purchase": (("alpha", -1.0),),
        "dropout": (("a", 1.0), ("b", 1.0)),
    }

    #: The likelihood's "active" and "dropped" terms of a history, which P(alive) compares.
    _history_terms = staticmethod(_log_terms)

    def _starts(self, columns: dict[str, np.ndarray], weights: np.ndarray) -> list[np.ndarray]:
        alpha = 1.0 / self._mean_purchase_rate(columns, weights)
        return [np.array([1.0, alpha, 1.0, 1.0]), np.array([0.3, alpha / 2, 0.8, 2.5])]

    #: The dropout chances a customer has had by t_x beyond her x repeat purchases.
    _extra_chances: ClassVar[int] = 0

    def _groups(self, columns: Mapping[str, np.ndarray]) -> dict[str, Any]:
        """With covariates, rows alike in a column and in the covariates it meets."""
        if not self.covariates:
            return {}  # the x, t_x and T levels of the fit serve
        purchase = [
            columns[covariate_key("purchase", n)] for n in self.covariates.get("purchase", ())
        ]
        dropout = [columns[covariate_key("dropout", n)] for n in self.covariates.get("dropout", ())]
        return {
            "x_groups": row_groups(columns["x"], *dropout),
            "T_groups": row_groups(columns["T"], *purchase),
            "t_x_groups": row_groups(columns["t_x"], *purchase),
            # For the Hessian's terms in the dropout parameters alone.
            "dropout_groups": row_groups(*dropout) if dropout else None,
        }

    def _loglik_rows(
        self, params: Any, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, **levels: Any
    ) -> np.ndarray:
        active, dropped = _log_terms(*params, x, t_x, T, levels, shift=self._extra_chances)
        return np.logaddexp(active, dropped)

    def _gradient_rows(
        self, params: Any, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, **levels: Any
    ) -> list[np.ndarray]:
        """Exact derivatives of each row's log-likelihood in r, alpha, a and b (digammas)."""
        return _loglik_and_gradient(params, x, t_x, T, levels, self._extra_chances)[1]

    def _loglik_and_gradient_rows(
        self, params: Any, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, **levels: Any
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        return _loglik_and_gradient(params, x, t_x, T, levels, self._extra_chances)

    def _exact_sums(
        self, params: np.ndarray, columns: Mapping[str, np.ndarray], weights: np.ndarray
    ) -> tuple[float, np.ndarray, np.ndarray] | None:
        """Negative log-likelihood, gradient and Hessian in closed form.

        The Hessian costs three trigammas per distinct ``x`` beyond the gradient (see
        :func:`_hessian_sums`), so the fit is Newton's method (a handful of
        evaluations instead of BFGS's dozens) and the standard errors come
        from the exact Hessian, not from differences of the gradient. With
        covariates each row's Hessian in its own parameters (:func:`_hessian_rows`)
        is carried to the model's by the chain rule (:meth:`_chain_rule_sums`).
        """
        data = self._model_columns(columns)
        x, t_x, T = data.pop("x"), data.pop("t_x"), data.pop("T")
        split = self._split(params, columns)
        total, gradient, parts = _loglik_and_gradient(
            split, x, t_x, T, data, self._extra_chances, curvature=True
        )
        if self.covariates:
            hessian_rows = _hessian_rows(split, parts, data)
            return self._chain_rule_sums(
                params, split, columns, weights, total, gradient, hessian_rows
            )
        value = -weighted_sum(weights, total)
        slope = -np.array([weighted_sum(weights, row) for row in gradient])
        return value, slope, -_hessian_sums(params, parts, weights)

    # ----- predictions -------------------------------------------------------------
    @quiet
    def expected_purchases(self, t: Any, *, covariates: Any = None) -> Any:
        """E[X(t)]: expected repeat purchases in ``(0, t]`` of a newly acquired customer.

        Eq. 7 of the paper (finite for every ``a``; at ``a = 1`` its 0/0 is resolved
        by continuity). With covariates, one value per row of ``covariates``.

        >>> m = BGNBD().set_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
        >>> bool(m.expected_purchases(1.0) == m.expected_purchases([1.0])[0])
        True
        """
        (t, r, alpha, a, b), is_scalar = broadcast_inputs(
            self._in_unit(t), *self._individual(covariates)
        )
        check_values(t, "t", low=0)
        z = t / (alpha + t)

        def curve(a: Any) -> np.ndarray:
            hyper = special.hyp2f1(r, b, a + b - 1, z)
            return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyper)

        return as_output(_away_from_one(curve, a), is_scalar)

    @quiet
    def probability_of_purchases(self, n: Any, t: Any, *, covariates: Any = None) -> Any:
        """P(X(t) = n): probability of exactly ``n`` repeat purchases in ``(0, t]`` (eq. 8).

        >>> m = BGNBD().set_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
        >>> round(float(sum(m.probability_of_purchases(range(200), 39))), 6)
        1.0
        """
        (n, t, r, alpha, a, b), is_scalar = broadcast_inputs(
            n, self._in_unit(t), *self._individual(covariates)
        )
        check_values(t, "t", low=0)
        check_values(n, "n", low=0, whole=True)
        return as_output(_pmf(n, t, r, alpha, a, b), is_scalar)

    def _b_after(self, b: Any, x: Any) -> Any:
        """The Beta parameter b of the dropout probability of a customer alive at T."""
        return b + x

    @quiet
    def conditional_probability_of_purchases(
        self, n: Any, t: Any, x: Any, t_x: Any, T: Any, *, covariates: Any = None
    ) -> Any:
        """P(X(T, T + t] = n | x, t_x, T): exactly ``n`` purchases in the next ``t``.

        Given active at T, a customer's purchase rate is Gamma(r + x, α + T) and her
        dropout probability Beta(a, b + x), and her future purchases follow the
        model afresh with those parameters (Poisson purchasing forgets the past;
        dropout chances come at purchases); an inactive customer buys nothing. So
        ``P(alive) · P_updated(n; t) + (1 - P(alive)) · [n = 0]``, as in Fader,
        Hardie & Lee's note on P(X(t, t+τ] = x) for the BG/NBD (2006).
        ``n = 0`` gives the probability of no purchase.

        >>> m = BGNBD().set_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
        >>> p = m.conditional_probability_of_purchases(np.arange(200), 39, 2, 30.43, 38.86)
        >>> round(float(p.sum()), 6), round(float((np.arange(200) * p).sum()), 3)
        (1.0, 1.226)
        """
        alive = self.p_alive(x, t_x, T, covariates=covariates)
        r, alpha, a, b = self._individual(covariates)
        (n, t, x, T, alpha, a, b, alive), is_scalar = broadcast_inputs(
            n, self._in_unit(t), x, T, alpha, a, b, alive
        )
        check_values(t, "t", low=0)
        check_values(n, "n", low=0, whole=True)
        future = _pmf(n, t, r + x, alpha + T, a, self._b_after(b, x))
        return as_output(alive * future + (1 - alive) * (n == 0), is_scalar)

    @quiet
    def p_alive_at(self, t: Any, x: Any, t_x: Any, T: Any, *, covariates: Any = None) -> Any:
        """P(active at ``T + t`` | x, t_x, T).

        An active customer stays active through ``(T, T + t]`` if she survives the
        dropout chance after each of her ``N`` purchases there: with rate and
        dropout probability from their updated distributions this is
        ``E[(1 - p)^N] = E_p[((α + T) / (α + T + t p))^(r + x)]``, p ~ Beta(a, b + x),
        which is integrated numerically (64 Gauss–Legendre nodes on the scale of
        the Beta distribution function, where the integrand is smooth; about 1e-6 relative).

        >>> m = BGNBD().set_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
        >>> bool(m.p_alive_at(52, 2, 30.43, 38.86) < m.p_alive(2, 30.43, 38.86))
        True
        >>> float(m.p_alive_at(0, 2, 30.43, 38.86)) == m.p_alive(2, 30.43, 38.86)
        True
        """
        alive = self.p_alive(x, t_x, T, covariates=covariates)
        r, alpha, a, b = self._individual(covariates)
        (t, x, T, alpha, a, b, alive), is_scalar = broadcast_inputs(
            self._in_unit(t), x, T, alpha, a, b, alive
        )
        check_values(t, "t", low=0)
        nodes, node_weights = np.polynomial.legendre.leggauss(64)
        share = (nodes + 1) / 2
        p = special.betaincinv(a[..., None], self._b_after(b, x)[..., None], share)
        scale = (alpha + T)[..., None]
        stays = np.exp((r + x)[..., None] * (np.log(scale) - np.log(scale + t[..., None] * p)))
        return as_output(alive * (stays * node_weights).sum(axis=-1) / 2, is_scalar)

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
        """Probability that a customer with history (x, t_x, T) is still active.

        Parameters
        ----------
        x, t_x, T : array-like
            The customers' histories (broadcast like numpy).
        covariates : DataFrame or dict, optional
            Their covariate values (models with covariates only).

        >>> m = BGNBD().set_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
        >>> m.p_alive(0, 0, 38.86)
        1.0
        >>> round(m.p_alive(2, 30.43, 38.86), 3)
        0.727
        """
        (x, t_x, T), is_scalar = broadcast_inputs(x, t_x, T)
        check_rfm(x.ravel(), t_x.ravel(), T.ravel())
        params = self._individual(covariates)
        if self.covariates:
            (x, t_x, T, *params), is_scalar = broadcast_inputs(x, t_x, T, *params, scalar=is_scalar)
            levels = None
        else:
            # One parameter set for all: the special functions of x once per distinct x.
            levels = {"x_levels": value_levels(x)}
        active, dropped = self._history_terms(*params, x, t_x, T, levels)
        return as_output(np.exp(active - np.logaddexp(active, dropped)), is_scalar)

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
        """Expected purchases in ``(T, T + t]`` of a customer with history (x, t_x, T) (eq. 10).

        ``covariates`` as in :meth:`p_alive`.

        >>> m = BGNBD().set_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
        >>> m.conditional_expected_purchases(39, [0, 2], [0, 30.43], [38.86, 38.86]).round(3)
        array([0.195, 1.226])
        """
        (t, x, t_x, T), is_scalar = broadcast_inputs(self._in_unit(t), x, t_x, T)
        check_values(t, "t", low=0)
        check_rfm(x.ravel(), t_x.ravel(), T.ravel())
        alive = self.p_alive(x, t_x, T, covariates=covariates)
        (t, x, t_x, T, r, alpha, a, b), is_scalar = broadcast_inputs(
            t, x, t_x, T, *self._individual(covariates), scalar=is_scalar
        )
        z = t / (alpha + T + t)
        # (α+T)/(α+T+t) raised to r+x, in logs so that large x does not underflow early.
        decay = np.exp((r + x) * (np.log(alpha + T) - np.log(alpha + T + t)))

        def growth(a: Any) -> np.ndarray:
            hyper = special.hyp2f1(r + x, b + x, a + b + x - 1, z)
            return (a + b + x - 1) / (a - 1) * (1 - decay * hyper)

        return as_output(_away_from_one(growth, a) * alive, is_scalar)

    def simulate(
        self, n_customers: int, T: Any, seed: int | None = 0, *, covariates: Any = None
    ) -> dict[str, np.ndarray]:
        """Draw a customer base from the model: per customer x, t_x and T.

        Each customer's rate and drop-out probability are drawn from the mixing
        distributions (scaled by her covariates, if the model has any); the number
        of repeat purchases in ``(0, T]`` is the Poisson count cut at the purchase
        after which she drops out, and the last purchase time is the largest of
        those arrival times.

        >>> base = BGNBD().set_params(r=0.243, alpha=4.414, a=0.793, b=2.426).simulate(5, 39.0)
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
        purchases_until_dropout = rng.geometric(dropout)
        arrivals = rng.poisson(rate * T_values)
        x = np.minimum(arrivals, purchases_until_dropout)
        # Given `arrivals` uniform arrival times on (0, T], the x-th smallest is T * Beta(x, n-x+1).
        position = rng.beta(np.maximum(x, 1), arrivals - x + 1)
        t_x = np.where(x > 0, T_values * position, 0.0)
        return {"x": x.astype(float), "t_x": t_x, "T": T_values}


def _pmf(n: np.ndarray, t: np.ndarray, r: Any, alpha: Any, a: Any, b: Any) -> np.ndarray:
    """P(X(t) = n) of a BG/NBD customer fresh from (r, alpha, a, b) (eq. 8); arrays broadcast."""
    from scipy import stats

    first = np.exp(special.betaln(a, b + n) - special.betaln(a, b) + log_nbd(n, t, r, alpha))
    below = stats.nbinom.cdf(n - 1, r, alpha / (alpha + t))
    with np.errstate(invalid="ignore"):
        second = np.where(
            n > 0,
            np.exp(special.betaln(a + 1, np.maximum(b + n - 1, 1e-300)) - special.betaln(a, b))
            * (1 - below),
            0.0,
        )
    return first + second


def _away_from_one(func: Any, a: Any, gap: float = 1e-6) -> np.ndarray:
    """``func(a)``; near ``a = 1``, where the formulas read 0/0, the mean of both sides.

    The expectations are smooth in ``a``, so the mean of ``a = 1 ± gap`` is off by
    O(gap²). ``a`` may be an array (one value per customer, with covariates).
    """
    near = np.abs(np.asarray(a) - 1) <= gap
    if not near.any():
        return func(a)
    if np.ndim(a) == 0:
        return (func(1 - gap) + func(1 + gap)) / 2
    below, above = func(np.where(near, 1 - gap, a)), func(np.where(near, 1 + gap, a))
    return np.where(near, (below + above) / 2, below)
