"""BG/CNBD-k and MBG/CNBD-k: repeat buying with regular timing (Platzer & Reutterer 2016).

Story. The BG/NBD and MBG/NBD let an active customer buy at the times of a Poisson
process: her gaps between purchases are exponential, the most irregular timing
there is. Here the gaps are Erlang-k: the sum of ``k`` exponential "ticks" of rate
``lambda``, so the ``k``-th tick after a purchase is the next purchase. ``k = 1``
is the Poisson case; the larger ``k``, the more clock-like the buying (the
coefficient of variation of a gap is ``1/sqrt(k)``). Across customers
``lambda ~ Gamma(r, alpha)`` (a customer's purchase rate is ``lambda / k``). After
each repeat purchase, and in the MBG variant also right after the first, she
drops out for good with probability ``p ~ Beta(a, b)``. ``k`` is a whole number,
the same for every customer, chosen by likelihood.

Likelihood (Platzer & Reutterer 2016; the expression BTYDplus's ``xbgcnbd.LL`` evaluates).
With ``δ = 1`` for the MBG/CNBD-k and 0 for the BG/CNBD-k, and ``litt`` the sum of
the logs of the customer's ``x`` gaps::

    log L = (k-1) litt - x log((k-1)!) + log B(a, b+x+δ) - log B(a, b)
            + log Γ(r+kx) - log Γ(r) + r log α - (r+kx) log(α+T)
            + log( Σ_{j<k} Γ(r+kx+j)/Γ(r+kx) (T-t_x)^j / (j! (α+T)^j)
                   + [δ or x>0] a/(b+x-1+δ) ((α+T)/(α+t_x))^(r+kx) )

The sum over ``j`` is the chance of being still active at ``T`` with ``j`` ticks
since the last purchase; the last term, of having dropped out at ``t_x``. At
``k = 1`` the sum is 1 and the likelihood is that of the BG/NBD (``δ = 0``) or of
the MBG/NBD (``δ = 1``). ``litt`` enters only through ``(k-1) litt``, a constant
for a given ``k``: it moves the log-likelihood, and so the choice of ``k``, but not
the estimates at a given ``k``. Build it from a log with
:func:`crmlab.regularity.regularity_summary`.

Predictions. ``p_alive`` is the closed form BTYDplus's ``xbgcnbd.PAlive`` computes
(the share of the likelihood in the "still active" terms). The expectations are
exact series (no simulation, no approximation): an active customer with ``j``
ticks since her last purchase makes her ``m``-th next purchase when ``m k - j``
more ticks have come, and makes it only if she survived ``m - 1`` more dropout
chances, so::

    E[X(T, T+t] | x, t_x, T] = Σ_j P(alive, j) Σ_{m≥1} B(a, b+x+δ+m-1) / B(a, b+x+δ)
                                 · I(t/(α+T+t); m k - j, r + k x + j)

with ``I`` the regularised incomplete beta function (the chance that a
negative-binomial count of ticks reaches ``m k - j``). The series is summed until
its remaining terms are below 1e-13 of the sum. The same pieces give P(alive at
``T + t``) and E[X(t)] (series), P(X(T, T+t] = n | history) and P(X(t) = n)
(closed forms). BTYDplus instead approximates the conditional expectation by the
BG/NBD formula with ``alpha`` scaled by ``k`` and rescales the cohort's total; the
tests check these series against simulation.

Covariates. ``purchase_covariates=[...]`` and ``dropout_covariates=[...]`` add
time-invariant covariates in the BG/NBD's form (Fader & Hardie's note "Incorporating
time-invariant covariates into the Pareto/NBD and BG/NBD models", 2007):
``alpha_i = alpha e^(-gamma_purchase z_i)``, and ``a_i = a e^(gamma_dropout z_i)``,
``b_i = b e^(gamma_dropout z_i)``; ``k`` stays common to all customers. The
coefficients are ``"purchase.<column>"`` and ``"dropout.<column>"``, and every
prediction takes ``covariates=``.

Reference: Platzer, M., & Reutterer, T. (2016). Ticking away the moments: Timing
regularity helps to better predict customer activity. *Marketing Science*, 35(5),
779–799. The ``k = 1`` cases: Fader, Hardie & Lee (2005), *Marketing Science*
24(2), 275–284 (BG/NBD); Batislam, Denizel & Filiztekin (2007), *International
Journal of Research in Marketing* 24(3), 201–209 (MBG/NBD).

On the CDNOW sample (39 weeks, with ``litt`` from the log), the likelihood picks
``k = 1``, as BTYDplus's CDNOW demo says it does, and the MBG/CNBD-k is then the
MBG/NBD:

>>> import crmlab as cl
>>> s = cl.models.regularity_summary(cl.datasets.load_cdnow("sample"), "1997-09-30")
>>> m = cl.models.MBGCNBD().fit(s)
>>> m.k, {k: round(v, 3) for k, v in m.params.items()}
(1, {'r': 0.525, 'alpha': 6.183, 'a': 0.891, 'b': 1.614})
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
from scipy import special

from crmlab._validate import Problem, check_values, first_rows, raise_problems
from crmlab.models._base import (
    RFMModel,
    as_float_array,
    as_output,
    broadcast_inputs,
    check_rfm,
    quiet,
    read_columns,
)
from crmlab.models._intervals import interval_option
from crmlab.models.bgnbd import BGNBD, _on_levels

__all__ = ["BGCNBD", "MBGCNBD"]

#: Stop summing a series when the terms left are below this share of the sum.
_SERIES_TOLERANCE = 1e-13
_SERIES_MAX_TERMS = 200_000


def _check_k(k: Any, name: str = "k") -> int:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(
            f"{name} must be a whole number >= 1 (k = 1 is the BG/NBD or MBG/NBD), got {k!r}"
        )
    return int(k)


def _phase_terms(k: int, shape: np.ndarray, u: np.ndarray) -> list[np.ndarray]:
    """``c_j = Γ(shape+j) / (Γ(shape) j!) u^j`` for ``j = 0..k-1``, by running products.

    ``c_j`` is the weight of "active at T with ``j`` ticks since the last purchase"
    (``u = (T - t_x) / (alpha + T)``); running products need no special functions,
    which keeps a fit on many distinct rows cheap.
    """
    terms = [np.ones(np.shape(u))]
    for j in range(1, k):
        terms.append(terms[-1] * ((shape + j - 1) / j) * u)
    return terms


def _on_groups(func: Any, levels: Mapping[str, Any], key: str, *params: Any) -> Any:
    """``func(*params)`` once per row group ``<key>_groups`` when the params vary by row.

    With covariates, terms in ``a`` and ``b`` alone (or ``alpha`` alone) take one value
    per covariate group; the groups of ``x`` (which include the dropout covariates) or of
    ``T`` (the purchase ones) are finer than that, so those terms are computed per group.
    """
    groups = levels.get(f"{key}_groups")
    if groups is None or all(np.ndim(p) == 0 for p in params):
        return func(*params)
    first, inverse = groups
    return func(*(np.asarray(p)[first] if np.ndim(p) else p for p in params))[inverse]


def _log_parts(
    k: int,
    delta: int,
    r: Any,
    alpha: Any,
    a: Any,
    b: Any,
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,
    levels: dict[str, Any] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[np.ndarray]]:
    """The likelihood without ``(k-1) litt``, in pieces.

    Returns ``common``; ``log_active``, the log of ``Σ_j c_j`` (active at T) and
    ``dropped`` (dropped out at ``t_x``), both relative to ``common``; and the
    terms ``c_j`` themselves. ``levels`` (``x_levels``, ``t_x_levels``, ``T_levels``;
    with covariates ``x_groups``, ``t_x_groups``, ``T_groups`` as the BG/NBD's, see
    :func:`crmlab.models.bgnbd._on_levels`) let the special functions and logs be
    computed once per distinct value (and covariate group).
    """
    levels = levels or {}
    shape = r + k * x
    log_T = _on_levels(lambda v, al: np.log(al + v), T, levels, "T", alpha)
    common = (
        _on_levels(
            lambda v, a, b: (
                special.betaln(a, b + v + delta)
                - v * special.gammaln(k)
                + special.gammaln(r + k * v)
            ),
            x,
            levels,
            "x",
            a,
            b,
        )
        - _on_groups(special.betaln, levels, "x", a, b)
        - special.gammaln(r)
        + r * _on_groups(np.log, levels, "T", alpha)
        - shape * log_T
    )
    terms = _phase_terms(k, shape, (T - t_x) / (alpha + T))
    log_active = np.log(sum(terms)) if k > 1 else np.zeros(np.shape(shape))
    with np.errstate(divide="ignore", invalid="ignore"):
        dropped = np.where(
            (x > 0) | (delta == 1),
            _on_groups(np.log, levels, "x", a)
            - np.log(np.maximum(b + x - 1 + delta, 1e-300))
            + shape * (log_T - _on_levels(lambda v, al: np.log(al + v), t_x, levels, "t_x", alpha)),
            -np.inf,
        )
    return common, log_active, dropped, terms


def _purchase_series(
    k: int,
    a: np.ndarray,
    b_norm: np.ndarray,
    b_start: np.ndarray,
    shape: np.ndarray,
    z: np.ndarray,
    phase: np.ndarray,
    a_extra: float = 0.0,
) -> np.ndarray:
    """``Σ_{m≥1} B(a+a_extra, b_start+m-1)/B(a, b_norm) · I(z; m k - phase, shape)``.

    The ``m``-th purchase needs ``m k - phase`` ticks (a negative-binomial count
    with ``shape`` and success ratio ``z``) and ``m - 1`` survived dropout chances
    after the first ``b_start - b_norm`` (a Beta moment); ``a_extra = 1`` makes the
    Beta moment that of dropping out right at the ``m``-th purchase. Terms fall once the ticks
    needed pass the expected count; the sum stops when a geometric bound on what is
    left, from the ratio of the last two terms, is below the tolerance.
    """
    a, b_norm, b_start, shape, z, phase = np.broadcast_arrays(
        *(np.asarray(v, dtype=float) for v in (a, b_norm, b_start, shape, z, phase))
    )
    out_shape = a.shape
    a, b_norm, b_start, shape, z, phase = (v.ravel() for v in (a, b_norm, b_start, shape, z, phase))
    total = np.zeros(a.size)
    previous = np.full(a.size, np.inf)
    todo = np.flatnonzero(z > 0)  # no time, no ticks, no purchases
    log_norm = special.betaln(a, b_norm)
    m = 1
    while todo.size:
        if m > _SERIES_MAX_TERMS:
            raise RuntimeError(
                f"the purchase series did not converge in {_SERIES_MAX_TERMS} terms "
                "(horizon far beyond the data?)"
            )
        sel_a, sel_b = a[todo], b_start[todo]
        term = np.exp(
            special.betaln(sel_a + a_extra, sel_b + m - 1) - log_norm[todo]
        ) * special.betainc(m * k - phase[todo], shape[todo], z[todo])
        total[todo] += term
        ratio = term / previous[todo]
        previous[todo] = term
        with np.errstate(divide="ignore", invalid="ignore"):
            left = np.where(ratio < 1, term * ratio / (1 - ratio), np.inf)
        done = (term == 0) | ((m > 1) & (left <= _SERIES_TOLERANCE * total[todo]))
        todo = todo[~done]
        m += 1
    return total.reshape(out_shape)


class BGCNBD(RFMModel):
    """BG/CNBD-k: the BG/NBD with Erlang-k gaps between purchases (``k = 1``: BG/NBD).

    Fit with :meth:`fit` on a frame with columns ``x``, ``t_x``, ``T`` and ``litt``
    (the sum of the logs of the gaps), as :func:`crmlab.regularity.regularity_summary`
    gives it (``litt`` may be left out when ``k = 1``).

    Parameters
    ----------
    k : int, optional
        The regularity, fixed. By default ``k`` is chosen by likelihood: the model
        is fitted for ``k = 1, 2, ...`` up to ``k_max`` (see ``stop_early``), and
        the best ``k`` is kept; ``k_profile`` then holds the log-likelihood and the
        estimates of each ``k`` tried. Intervals and standard errors are conditional
        on ``k``.
    k_max : int
        The largest ``k`` tried (12, as in BTYDplus).
    stop_early : bool
        Stop the search once the log-likelihood has fallen twice in a row (default);
        ``False`` fits every ``k`` up to ``k_max``.
    purchase_covariates : list of str, optional
        Time-invariant covariates of the purchase process, as in :class:`BGNBD`:
        ``alpha_i = alpha * exp(-gamma_purchase . z_i)``, so a positive coefficient
        means more purchasing (parameters ``"purchase.<column>"``).
    dropout_covariates : list of str, optional
        Covariates of the dropout process, as in :class:`BGNBD` (Fader & Hardie's
        note on time-invariant covariates, 2007): ``a_i = a * exp(gamma_dropout . z_i)``
        and ``b_i = b * exp(gamma_dropout . z_i)`` (parameters ``"dropout.<column>"``).
        Every prediction of a covariate model takes ``covariates=``, the values of
        the customers predicted for.

    Attributes
    ----------
    k : int or None
        The regularity in use (None before ``fit`` or ``set_params``).
    k_profile : pandas.DataFrame or None
        One row per ``k`` tried: ``loglik``, ``converged`` and the estimates.

    Notes
    -----
    ``aic()`` and ``bic()`` count the four continuous parameters; when ``k`` was
    chosen by likelihood, a comparison with models of fixed form may add one.

    Examples
    --------
    A base simulated with ``k = 3`` gives its regularity back:

    >>> truth = BGCNBD(k=3).set_params(r=0.85, alpha=1.45, a=0.79, b=2.42)
    >>> base = pd.DataFrame(truth.simulate(4000, 52.0, seed=1))
    >>> m = BGCNBD().fit(base)
    >>> m.k, m.k_profile.index.tolist()
    (3, [1, 2, 3, 4, 5])
    >>> round(m.p_alive(4, 30.0, 52.0), 3)  # four purchases, none in the last 22 weeks
    0.144

    With a covariate: simulated VIPs (``vip = 1``) buy twice as often.

    >>> vip = np.repeat([0.0, 1.0], 3000)
    >>> truth = BGCNBD(k=2, purchase_covariates=["vip"]).set_params(
    ...     r=0.85, alpha=1.45, a=0.79, b=2.42, **{"purchase.vip": np.log(2)})
    >>> base = pd.DataFrame(truth.simulate(6000, 52.0, seed=2, covariates={"vip": vip}))
    >>> fitted = BGCNBD(purchase_covariates=["vip"]).fit(base.assign(vip=vip))
    >>> fitted.k, round(fitted.params["purchase.vip"], 1)  # the truth is log 2 = 0.69
    (2, 0.7)
    """

    #: 1 when customers may drop out right after the first purchase (MBG), else 0.
    dropout_at_zero: ClassVar[int] = 0
    param_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "a", "b")
    level_columns: ClassVar[tuple[str, ...]] = ("x", "t_x", "T")
    data_columns: ClassVar[tuple[str, ...]] = ("x", "t_x", "T", "litt")
    #: As the BG/NBD's (Fader & Hardie 2007): alpha for purchasing, a and b together for dropout.
    covariate_effects: ClassVar[Mapping[str, tuple[tuple[str, float], ...]]] = {
        "purchase": (("alpha", -1.0),),
        "dropout": (("a", 1.0), ("b", 1.0)),
    }

    def __init__(
        self,
        k: int | None = None,
        *,
        k_max: int = 12,
        stop_early: bool = True,
        purchase_covariates: Sequence[str] | None = None,
        dropout_covariates: Sequence[str] | None = None,
    ) -> None:
        RFMModel.__init__(self, purchase_covariates, dropout_covariates)
        self.k_fixed = None if k is None else _check_k(k)
        self.k_max = _check_k(k_max, "k_max")
        self.stop_early = bool(stop_early)
        self.k: int | None = self.k_fixed
        self.k_profile: pd.DataFrame | None = None

    # ----- data (x, t_x, T are read and checked by RFMModel._read) -------------
    def _litt_total(self, data: Any, weights: Any | None, k: int | None) -> float:
        """``Σ weight · litt`` of the data, checked; 0 when ``litt`` is absent and k = 1."""
        read_columns(data, weights, ("x",))  # the base's TypeError for what is no table
        has = "litt" in (data.columns if isinstance(data, pd.DataFrame) else data)
        if not has:
            if k == 1:
                return 0.0
            raise ValueError(
                "the data lack column 'litt' (the sum of the logs of each customer's gaps "
                "between purchases), which the likelihood of k > 1 needs: build the summary "
                "with crmlab.regularity.regularity_summary(log, observation_end), or fix k=1"
            )
        columns, row_weights, index = read_columns(data, weights, ("x", "t_x", "litt"))
        x, t_x, litt = columns["x"], columns["t_x"], columns["litt"]
        problems = []
        bad = ~np.isfinite(litt)
        if bad.any():
            problems.append(
                Problem(
                    "column 'litt'",
                    int(bad.sum()),
                    "missing or infinite value(s)",
                    first_rows(bad, litt, labels=index),
                    "Build it with crmlab.regularity.regularity_summary",
                )
            )
        with np.errstate(divide="ignore", invalid="ignore"):
            # The mean of the logs of the x gaps is at most the log of their mean.
            ceiling = np.where(x > 0, x * np.log(t_x / np.maximum(x, 1)), 0.0)
        bad = np.isfinite(litt) & (litt > ceiling + 1e-9 * np.maximum(1, np.abs(ceiling)))
        if bad.any():
            problems.append(
                Problem(
                    "columns 'x', 't_x', 'litt'",
                    int(bad.sum()),
                    "row(s) with litt > x log(t_x / x), more than x gaps adding up to t_x "
                    "allow (litt of a customer with x = 0 is 0)",
                    first_rows(bad, x, t_x, litt, labels=index),
                    "Give litt in the time unit of t_x, from the same log "
                    "(crmlab.regularity.regularity_summary)",
                )
            )
        raise_problems(problems)
        return float(np.dot(row_weights, litt))

    # ----- likelihood ----------------------------------------------------------
    def _starts(self, columns: dict[str, np.ndarray], weights: np.ndarray) -> list[np.ndarray]:
        # The tick rate is k times the purchase rate, so alpha scales with 1/k.
        alpha = 1.0 / (self._mean_purchase_rate(columns, weights) * self._current_k())
        defaults = [np.array([1.0, alpha, 1.0, 1.0]), np.array([0.5, alpha, 0.8, 2.5])]
        warm = getattr(self, "_warm", None)
        return defaults if warm is None else [warm, *defaults]

    def _current_k(self) -> int:
        if self.k is None:
            raise RuntimeError(
                f"{type(self).__name__} has no k yet: fit it, or set_params(k=..., ...)"
            )
        return self.k

    #: With covariates, rows alike in a column and in the covariates it meets (the BG/NBD's groups).
    _groups = BGNBD._groups

    def _loglik_rows(
        self, params: Any, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, **levels: Any
    ) -> np.ndarray:
        common, log_active, dropped, _ = _log_parts(
            self._current_k(), self.dropout_at_zero, *params, x, t_x, T, levels
        )
        return common + np.logaddexp(log_active, dropped)

    def _gradient_rows(
        self, params: Any, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, **levels: Any
    ) -> list[np.ndarray]:
        """Exact derivatives of each row's log-likelihood in r, alpha, a and b."""
        return self._loglik_and_gradient_rows(params, x, t_x, T, **levels)[1]

    def _loglik_and_gradient_rows(
        self, params: Any, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, **levels: Any
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Each row's log-likelihood and its derivatives, from one set of likelihood pieces."""
        k, delta = self._current_k(), self.dropout_at_zero
        r, alpha, a, b = params
        common, log_active, dropped, terms = _log_parts(k, delta, r, alpha, a, b, x, t_x, T, levels)
        inner = np.logaddexp(log_active, dropped)
        w_active, w_drop = np.exp(log_active - inner), np.exp(dropped - inner)
        psi = special.digamma
        shape = r + k * x
        # Σ_j c_j (ψ(shape+j) - ψ(shape)) and Σ_j c_j j, with ψ(s+j) - ψ(s) = Σ_{i<j} 1/(s+i)
        harmonic = np.zeros(np.shape(shape))
        by_r, by_j = np.zeros(np.shape(shape)), np.zeros(np.shape(shape))
        for j in range(1, k):
            harmonic = harmonic + 1 / (shape + j - 1)
            by_r = by_r + terms[j] * harmonic
            by_j = by_j + terms[j] * j
        total = sum(terms)
        psi_shape = _on_levels(lambda v: psi(r + k * v), x, levels, "x")
        log_T = _on_levels(lambda v, al: np.log(al + v), T, levels, "T", alpha)
        log_tx = _on_levels(lambda v, al: np.log(al + v), t_x, levels, "t_x", alpha)
        d_r = psi_shape - psi(r) + _on_groups(np.log, levels, "T", alpha) - log_T
        d_r = d_r + w_active * by_r / total
        d_r = d_r + w_drop * (log_T - log_tx)
        d_alpha = (
            r / alpha
            - shape / (alpha + T)
            - w_active * by_j / total / (alpha + T)
            + w_drop * shape * (1 / (alpha + T) - 1 / (alpha + t_x))
        )
        psi_after = _on_levels(lambda v, a, b: psi(a + b + v + delta), x, levels, "x", a, b)
        psi_ab = _on_groups(lambda a, b: psi(a + b), levels, "x", a, b)
        d_a = psi_ab - psi_after + w_drop / a
        d_b = (
            _on_levels(lambda v, b: psi(b + v + delta), x, levels, "x", b)
            - psi_after
            - _on_groups(psi, levels, "x", b)
            + psi_ab
            - np.where(w_drop > 0, w_drop / np.maximum(b + x - 1 + delta, 1e-300), 0.0)
        )
        return common + inner, [d_r, d_alpha, d_a, d_b]

    # ----- fitting -------------------------------------------------------------
    def fit(
        self,
        data: Any,
        weights: Any | None = None,
        *,
        starts: Sequence[Any] | None = None,
        compress: bool = True,
    ) -> Self:
        """Estimate r, alpha, a, b by maximum likelihood, for the fixed ``k`` or each ``k``.

        Takes the arguments of :meth:`crmlab.models._base.MLEModel.fit`. Without a
        fixed ``k``, keeps the ``k`` of highest log-likelihood and records every
        ``k`` tried in ``k_profile``; the warnings of the kept fit are shown.
        """
        candidates = [self.k_fixed] if self.k_fixed is not None else range(1, self.k_max + 1)
        litt_total = self._litt_total(data, weights, 1 if self.k_fixed == 1 else None)
        rows, fits = [], {}
        self._warm: np.ndarray | None = None
        for k in candidates:
            self.k = k
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    super().fit(data, weights, starts=starts, compress=compress)
                finally:
                    self._warm = None
            assert self.result is not None
            # Start the next k from this fit: ticks come k + 1 to a purchase instead of k,
            # so the tick rate, and with it 1 / alpha, grows by (k + 1) / k.
            # Covariate coefficients start again at 0 (the base adds them to every start).
            self._warm = self.result.estimate[:4] * np.array([1.0, k / (k + 1), 1.0, 1.0])
            result = replace(self.result, loglik=self.result.loglik + (k - 1) * litt_total)
            fits[k] = (result, caught)
            rows.append(
                {"k": k, "loglik": result.loglik, "converged": result.converged, **self.params}
            )
            logliks = [row["loglik"] for row in rows]
            if self.stop_early and len(logliks) >= 3 and logliks[-1] < logliks[-2] < logliks[-3]:
                break
        self._warm = None
        profile = pd.DataFrame(rows).set_index("k")
        best = int(profile["loglik"].idxmax())
        self.k, (self.result, caught) = best, fits[best]
        self.k_profile = profile
        for message in caught:
            warnings.warn_explicit(
                message.message, message.category, message.filename, message.lineno
            )
        return self

    def set_params(self, *, k: int | None = None, unit: str | None = None, **params: float) -> Self:
        """Use given values of r, alpha, a, b (and ``k``, unless the model has one).

        >>> BGCNBD().set_params(k=2, r=0.5, alpha=3.0, a=0.8, b=2.5).k
        2
        """
        if k is not None:
            self.k = _check_k(k)
        elif self.k is None:
            raise ValueError(f"{type(self).__name__}.set_params needs k= (a whole number >= 1)")
        super().set_params(unit=unit, **params)
        self.k_profile = None
        return self

    def summary(self, level: float = 0.95) -> Any:
        """The base's summary table; its header names the regularity ``k``.

        >>> m = BGCNBD(k=2).set_params(r=0.5, alpha=3.0, a=0.8, b=2.5)
        >>> m.summary().header().split(":")[0]
        'BGCNBD (k = 2)'
        """
        table = super().summary(level)
        table.attrs["model"] = f"{type(self).__name__} (k = {self.k})"
        return table

    def __repr__(self) -> str:
        text = super().__repr__()
        if self.k is None:
            return text
        name = type(self).__name__
        return text.replace(f"{name}(", f"{name}(k={self.k}, ", 1)

    def log_likelihood(self, data: Any, weights: Any | None = None) -> float:
        """Total log-likelihood of ``data`` (with its ``litt``) at the current parameters.

        >>> m = BGCNBD(k=1).set_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
        >>> import crmlab as cl
        >>> round(m.log_likelihood(cl.datasets.load_cdnow_published_summary()), 1)
        -9582.4
        """
        k = self._current_k()
        litt_total = self._litt_total(data, weights, k)
        return super().log_likelihood(data, weights) + (k - 1) * litt_total

    # ----- predictions ---------------------------------------------------------
    def _customers(
        self, covariates: Any, *values: Any, scalar: bool = True
    ) -> tuple[list[Any], bool]:
        """``values`` broadcast with each customer's r, alpha, a, b (from ``covariates``).

        Returns the broadcast ``values`` followed by ``r, alpha, a, b`` (scalars
        without covariates), and whether all inputs were scalars (and ``scalar``).
        """
        r, alpha, a, b = self._individual(covariates)
        if not self.covariates:
            arrays, is_scalar = broadcast_inputs(*values, scalar=scalar)
            return [*arrays, r, alpha, a, b], is_scalar
        arrays, is_scalar = broadcast_inputs(*values, alpha, a, b, scalar=scalar)
        return [*arrays[:-3], r, *arrays[-3:]], is_scalar

    def _alive_parts(
        self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray, r: Any, alpha: Any, a: Any, b: Any
    ) -> np.ndarray:
        """P(alive at T and ``j`` ticks since the last purchase), last axis ``j``."""
        k = self._current_k()
        _, log_active, dropped, terms = _log_parts(
            k, self.dropout_at_zero, r, alpha, a, b, x, t_x, T
        )
        alive = np.exp(log_active - np.logaddexp(log_active, dropped))
        return np.stack(np.broadcast_arrays(*terms), axis=-1) * (alive / sum(terms))[..., None]

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
        """Probability that a customer with history (x, t_x, T) is still active at T.

        ``1 / (1 + a/(b+x-1+δ) ((α+T)/(α+t_x))^(r+kx) / Σ_j c_j)`` with the ``c_j``
        of the likelihood; 1 for ``x = 0`` in the BG/CNBD-k. ``covariates``: the
        customers' covariate values (covariate models only). ``interval`` (a level
        such as 0.9) returns ``estimate``, ``lower`` and ``upper`` from parameter
        draws by ``method`` (see :mod:`crmlab.models._intervals`), conditional on ``k``.

        >>> m = BGCNBD(k=2).set_params(r=0.5, alpha=3.0, a=0.8, b=2.5)
        >>> bool(m.p_alive(3, 10.0, 40.0) < BGCNBD(k=1).set_params(
        ...     r=0.5, alpha=3.0, a=0.8, b=2.5).p_alive(3, 10.0, 40.0))
        True
        """
        (x, t_x, T), is_scalar = broadcast_inputs(x, t_x, T)
        check_rfm(x.ravel(), t_x.ravel(), T.ravel())
        (x, t_x, T, *params), is_scalar = self._customers(covariates, x, t_x, T, scalar=is_scalar)
        alive = self._alive_parts(x, t_x, T, *params)
        return as_output(alive.sum(axis=-1), is_scalar)

    @quiet
    def expected_purchases(self, t: Any, *, covariates: Any = None) -> Any:
        """E[X(t)]: expected repeat purchases in ``(0, t]`` of a new customer (a series).

        ``Σ_{m≥1} E[(1-p)^(m-1+δ)] · P(at least m k ticks by t)``, the ticks a
        negative binomial with ``r`` and ``alpha``. With covariates, one value per
        row of ``covariates``.

        >>> m = BGCNBD(k=1).set_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
        >>> round(m.expected_purchases(39), 3)  # the BG/NBD's
        1.197
        """
        k = self._current_k()
        (t, r, alpha, a, b), is_scalar = self._customers(covariates, self._in_unit(t))
        check_values(t, "t", low=0)
        values = _purchase_series(
            k, a, b, b + self.dropout_at_zero, r, t / (alpha + t), np.zeros_like(t)
        )
        return as_output(values, is_scalar)

    @quiet
    def probability_of_purchases(self, n: Any, t: Any, *, covariates: Any = None) -> Any:
        """P(X(t) = n): exactly ``n`` repeat purchases in ``(0, t]`` for a new customer.

        She makes ``n`` either by surviving ``n + δ`` dropout chances with exactly
        ``n`` purchases' worth of ticks (``n k`` to ``n k + k - 1``), or by dropping
        out at her ``n``-th chance with at least ``n k`` ticks.

        >>> m = MBGCNBD(k=3).set_params(r=0.85, alpha=1.45, a=0.79, b=2.42)
        >>> round(float(m.probability_of_purchases(np.arange(300), 52.0).sum()), 9)
        1.0
        """
        k, delta = self._current_k(), self.dropout_at_zero
        (n, t, r, alpha, a, b), is_scalar = self._customers(covariates, n, self._in_unit(t))
        check_values(t, "t", low=0)
        check_values(n, "n", low=0, whole=True)
        z = t / (alpha + t)

        def reach(ticks: np.ndarray) -> np.ndarray:
            # P(at least `ticks` ticks by t); reaching 0 ticks is certain.
            return np.where(ticks > 0, special.betainc(np.maximum(ticks, 1), r, z), 1.0)

        log_b = special.betaln(a, b)
        survived = np.exp(special.betaln(a, b + n + delta) - log_b)
        exactly = reach(n * k) - reach((n + 1) * k)
        with np.errstate(invalid="ignore"):
            dropped = np.where(
                n + delta > 0,
                np.exp(special.betaln(a + 1, np.maximum(b + n + delta - 1, 1e-300)) - log_b),
                0.0,
            )
        return as_output(survived * exactly + dropped * reach(n * k), is_scalar)

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

        The exact series of the module docstring, computed once per distinct
        ``(t, x, T)`` and parameter set (it does not depend on ``t_x`` but through
        P(alive, j)). ``covariates`` and ``interval`` as in :meth:`p_alive`.

        >>> m = BGCNBD(k=1).set_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
        >>> round(m.conditional_expected_purchases(39, 2, 30.43, 38.86), 3)  # the BG/NBD's
        1.226
        """
        (t, x, t_x, T), is_scalar = broadcast_inputs(self._in_unit(t), x, t_x, T)
        check_values(t, "t", low=0)
        check_rfm(x.ravel(), t_x.ravel(), T.ravel())
        k, delta = self._current_k(), self.dropout_at_zero
        (t, x, t_x, T, r, alpha, a, b), is_scalar = self._customers(
            covariates, t, x, t_x, T, scalar=is_scalar
        )
        alive = self._alive_parts(x, t_x, T, r, alpha, a, b)
        columns = np.broadcast_arrays(t, x, T, alpha, a, b)
        keys = np.stack([column.ravel() for column in columns], axis=1)
        distinct, inverse = np.unique(keys, axis=0, return_inverse=True)
        t_u, x_u, T_u, alpha_u, a_u, b_u = (distinct[:, i : i + 1] for i in range(6))
        j = np.arange(k)
        after = b_u + x_u + delta
        per_phase = _purchase_series(
            k, a_u, after, after, r + k * x_u + j, t_u / (alpha_u + T_u + t_u), j
        )
        values = (per_phase[inverse.ravel()] * alive.reshape(-1, k)).sum(axis=-1)
        return as_output(values.reshape(t.shape), is_scalar)

    @quiet
    def p_alive_at(self, t: Any, x: Any, t_x: Any, T: Any, *, covariates: Any = None) -> Any:
        """P(active at ``T + t`` | x, t_x, T).

        An active customer with ``j`` ticks since her last purchase leaves in
        ``(T, T + t]`` if she drops out at one of her next purchases there:
        ``P(alive at T + t) = Σ_j P(alive, j) (1 - Σ_{m≥1} E[p (1-p)^(m-1)]
        P(m k - j ticks by t))``, with the posterior Beta(a, b+x+δ) and
        Gamma(r+kx+j, α+T) of the active customer (a series, as the expectation).

        >>> m = BGCNBD(k=2).set_params(r=0.5, alpha=3.0, a=0.8, b=2.5)
        >>> bool(m.p_alive_at(52, 3, 30.0, 40.0) < m.p_alive(3, 30.0, 40.0))
        True
        >>> m.p_alive_at(0, 3, 30.0, 40.0) == m.p_alive(3, 30.0, 40.0)
        True
        """
        (t, x, t_x, T), is_scalar = broadcast_inputs(self._in_unit(t), x, t_x, T)
        check_values(t, "t", low=0)
        check_rfm(x.ravel(), t_x.ravel(), T.ravel())
        k, delta = self._current_k(), self.dropout_at_zero
        (t, x, t_x, T, r, alpha, a, b), is_scalar = self._customers(
            covariates, t, x, t_x, T, scalar=is_scalar
        )
        alive = self._alive_parts(x, t_x, T, r, alpha, a, b)
        j = np.arange(k)
        after = (b + x + delta)[..., None]
        z = (t / (alpha + T + t))[..., None]
        leaves = _purchase_series(
            k, np.asarray(a)[..., None], after, after, (r + k * x)[..., None] + j, z, j, 1.0
        )
        return as_output((alive * (1 - leaves)).sum(axis=-1), is_scalar)

    @quiet
    def conditional_probability_of_purchases(
        self, n: Any, t: Any, x: Any, t_x: Any, T: Any, *, covariates: Any = None
    ) -> Any:
        """P(X(T, T + t] = n | x, t_x, T): exactly ``n`` purchases in the next ``t``.

        An inactive customer buys nothing; an active one with ``j`` ticks since her
        last purchase makes ``n`` purchases either by surviving ``n`` dropout
        chances with ticks for exactly ``n`` (``n k - j`` to ``(n+1) k - j - 1``),
        or by dropping out at her ``n``-th with at least ``n k - j`` ticks. ``n = 0``
        gives the probability of no purchase.

        >>> m = MBGCNBD(k=3).set_params(r=0.85, alpha=1.45, a=0.79, b=2.42)
        >>> p = m.conditional_probability_of_purchases(np.arange(300), 39.0, 4, 30.0, 40.0)
        >>> round(float(p.sum()), 9)
        1.0
        """
        (n, t, x, t_x, T), is_scalar = broadcast_inputs(n, self._in_unit(t), x, t_x, T)
        check_values(t, "t", low=0)
        check_values(n, "n", low=0, whole=True)
        check_rfm(x.ravel(), t_x.ravel(), T.ravel())
        k, delta = self._current_k(), self.dropout_at_zero
        (n, t, x, t_x, T, r, alpha, a, b), is_scalar = self._customers(
            covariates, n, t, x, t_x, T, scalar=is_scalar
        )
        alive = self._alive_parts(x, t_x, T, r, alpha, a, b)
        j = np.arange(k)
        shape = (r + k * x)[..., None] + j
        z = (t / (alpha + T + t))[..., None]
        a = np.asarray(a)[..., None]
        after, count = (b + x + delta)[..., None], n[..., None]

        def reach(ticks: np.ndarray) -> np.ndarray:
            # P(at least `ticks` more ticks by T + t); none needed is certain.
            return np.where(ticks > 0, special.betainc(np.maximum(ticks, 1), shape, z), 1.0)

        log_b = special.betaln(a, after)
        survived = np.exp(special.betaln(a, after + count) - log_b)
        with np.errstate(invalid="ignore"):
            dropped = np.where(
                count > 0,
                np.exp(special.betaln(a + 1, np.maximum(after + count - 1, 1e-300)) - log_b),
                0.0,
            )
        start = reach(count * k - j)
        active = survived * (start - reach((count + 1) * k - j)) + dropped * start
        gone = 1 - alive.sum(axis=-1)
        return as_output((alive * active).sum(axis=-1) + gone * (n == 0), is_scalar)

    # ----- simulation ----------------------------------------------------------
    def simulate(
        self,
        n_customers: int,
        T: Any,
        seed: int | None = 0,
        *,
        holdout: float | None = None,
        state: bool = False,
        covariates: Any = None,
    ) -> dict[str, np.ndarray]:
        """Draw a customer base: per customer ``x``, ``t_x``, ``T`` and ``litt``.

        Each customer gets a tick rate ``lambda ~ Gamma(r, alpha)`` and a dropout
        probability ``p ~ Beta(a, b)``; her gaps are Gamma(k, lambda) draws, and after
        each purchase (and, in the MBG variant, right after the first) she leaves
        with probability ``p``. ``holdout`` (a length of time) adds ``x_holdout``,
        her purchases in ``(T, T + holdout]``; ``state=True`` adds ``alive``, whether
        she is still active at ``T`` (the truth that P(alive) estimates), and with a
        holdout ``alive_after``, whether she still is at ``T + holdout``.
        ``covariates``: the customers' covariate values, one row per customer
        (covariate models only); they scale her ``alpha``, ``a`` and ``b``.

        >>> base = BGCNBD(k=2).set_params(r=0.5, alpha=3.0, a=0.8, b=2.5).simulate(5, 39.0)
        >>> sorted(base)
        ['T', 'litt', 't_x', 'x']
        """
        k = self._current_k()
        r, alpha, a, b = self._individual(covariates)
        rng = np.random.default_rng(seed)
        T_values = np.broadcast_to(as_float_array(T, "T"), (n_customers,)).astype(float)
        end = T_values + (0.0 if holdout is None else float(holdout))
        rate = rng.gamma(r, 1.0 / alpha, n_customers)
        p = rng.beta(a, b, n_customers)
        x = np.zeros(n_customers)
        t_x = np.zeros(n_customers)
        litt = np.zeros(n_customers)
        later = np.zeros(n_customers)
        dropped_at = np.full(n_customers, np.inf)
        if self.dropout_at_zero:
            dropped_at[rng.random(n_customers) < p] = 0.0
        now = np.zeros(n_customers)
        going = np.flatnonzero(np.isinf(dropped_at))
        while going.size:
            gap = rng.gamma(k, 1.0 / rate[going])
            moment = now[going] + gap
            bought = moment <= end[going]
            going, gap, moment = going[bought], gap[bought], moment[bought]
            inside = moment <= T_values[going]
            counted = going[inside]
            x[counted] += 1
            t_x[counted] = moment[inside]
            litt[counted] += np.log(gap[inside])
            later[going[~inside]] += 1
            now[going] = moment
            leaves = rng.random(going.size) < p[going]
            dropped_at[going[leaves]] = moment[leaves]
            going = going[~leaves]
        base = {"x": x, "t_x": t_x, "T": T_values, "litt": litt}
        if holdout is not None:
            base["x_holdout"] = later
        if state:
            base["alive"] = dropped_at > T_values
            if holdout is not None:
                base["alive_after"] = dropped_at > end
        return base


class MBGCNBD(BGCNBD):
    """MBG/CNBD-k: like :class:`BGCNBD`, but customers may also drop out right after
    the first purchase (``k = 1``: the MBG/NBD).

    Same data, parameters and methods as :class:`BGCNBD`.

    >>> m = MBGCNBD(k=1).set_params(r=0.525, alpha=6.183, a=0.891, b=1.614)
    >>> round(m.p_alive(0, 0, 38.86), 3)  # the MBG/NBD's
    0.39
    """

    dropout_at_zero: ClassVar[int] = 1
