"""The Pareto/NBD with time-varying covariates (Bachmann, Meierer & Näf 2021).

Story. As in the Pareto/NBD, a customer buys as a Poisson process while alive and
her lifetime ends at a random moment; across customers the base rates are
``lambda ~ Gamma(r, alpha)`` and ``mu ~ Gamma(s, beta)``. Now the context moves
both rates over calendar time: in a period with purchase covariates ``z_p(t)`` and
dropout covariates ``z_d(t)`` (a season, a mailing sent that week) she buys at rate
``lambda * exp(gamma_p . z_p(t))`` and her dropout hazard is ``mu * exp(gamma_d . z_d(t))``.
A positive purchase coefficient means more purchasing, a positive dropout
coefficient faster dropout, as in the time-invariant model (:class:`ParetoNBD` with
``purchase_covariates=``), which is the case of covariates that never change.

Likelihood. With the rates piecewise constant over the periods, write
``a(t) = exp(gamma_p . z_p(t))``, ``c(t) = exp(gamma_d . z_d(t))`` and their integrals
``A(t)``, ``C(t)`` from the first purchase. Integrating lambda and mu out (the
paper's Section 3; CLVTools' ``pnbd_dyncov_LL``) gives for a customer with repeat
purchases at ``t_1 .. t_x``::

    L = prod_j a(t_j) · Γ(r+x)/Γ(r) · α^r β^s · [ (α + A(T))^-(r+x) (β + C(T))^-s
          + ∫_{t_x}^{T} s c(τ) (α + A(τ))^-(r+x) (β + C(τ))^-(s+1) dτ ]

The first term is "alive at T", the integral "dropped out at τ". ``A`` and ``C`` are
linear within a period, so the integral is a sum over the stretches of constant
covariates between ``t_x`` and ``T`` of Pareto/NBD-type integrals. Each could be
written as the difference of two Gauss hypergeometric terms (as CLVTools does),
but that difference loses digits to cancellation on short periods and offers no
cheap gradient; :mod:`crmlab.models._time_varying_loglik` integrates each by
Gauss–Legendre quadrature on a geometric grid, to about 1e-13, and takes the exact
gradient from the same nodes in the same pass. The product over purchases needs
only the sum of the purchase covariates at the repeat purchases, which is why the
model reads the transaction log (through :func:`crmlab.models.time_varying_data`)
and not only (x, t_x, T). Fits of more than 20,000 rows (customers, or groups of
customers alike under calendar covariates) start from the fit of a seeded
subsample of them (its estimate and curvature), drawn as the base draws rows for
the other models but each with all her pieces.

Predictions (the paper's Section 3.3; CLVTools' ``pnbd_dyncov_palive`` and
``pnbd_dyncov_CET``): P(alive at T) is the first term's share of the bracket;
given alive at T the rates are Gamma(r + x, α + A(T)) and Gamma(s, β + C(T)), so the
expected purchases in ``(T, T + t]`` are

    P(alive) · (r + x) / (α + A(T)) · ∫_T^{T+t} a(u) ((β + C(T)) / (β + C(u)))^s du,

closed form period by period: the covariates of the future periods must be in the
covariate table. :meth:`ParetoNBDTimeVarying.dert` discounts the same integrand to
infinity (numerically over the future periods, in closed form past the table's
end with the last covariates held). Every per-customer prediction takes
``interval=`` (parameter draws, as the other models). :func:`crmlab.models.compare`
tests the model against the static :class:`ParetoNBD` as a nested pair.

Reference: Bachmann, P., Meierer, M., & Näf, J. (2021). The role of time-varying
contextual factors in latent attrition models for customer base analysis.
*Marketing Science*, 40(4), 783–809. CLVTools (R) is the other implementation;
its example data (apparelTrans, apparelDynCov) are GPL-3 and not shipped here, so
this model is checked by simulation and against the time-invariant model.

>>> import numpy as np, pandas as pd
>>> import crmlab as cl
>>> weeks = pd.date_range("2024-01-01", periods=60, freq="7D")
>>> ids = np.arange(400)
>>> table = pd.DataFrame({"customer_id": np.repeat(ids, 60), "period": np.tile(weeks, 400),
...                       "season": np.tile((weeks.month >= 10).astype(float), 400)})
>>> first = pd.Series(weeks[0] + pd.to_timedelta(ids % 50, "D"), index=ids)
>>> truth = cl.models.ParetoNBDTimeVarying(purchase_covariates=["season"]).set_params(
...     r=0.8, alpha=6.0, s=0.6, beta=20.0, **{"purchase.season": 0.7})
>>> log = truth.simulate(table, first, observation_end="2024-12-31", seed=1)
>>> data = cl.models.time_varying_data(log, table, observation_end="2024-12-31")
>>> m = cl.models.ParetoNBDTimeVarying(purchase_covariates=["season"]).fit(data)
>>> sorted(m.params)
['alpha', 'beta', 'purchase.season', 'r', 's']
>>> bool(m.p_alive(data).between(0, 1).all())
True
"""

from __future__ import annotations

import warnings
import weakref
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from crmlab.models._base import (
    ConvergenceWarning,
    MLEModel,
    quiet,
    row_groups,
)
from crmlab.models._intervals import interval_option
from crmlab.models._time_varying import (
    TimeVaryingData,
    calendar_runs,
    pieces,
    time_varying_data,
)
from crmlab.models._time_varying_loglik import (
    _dot,
    evaluate,
    segment_exclusive_cumsum,
)

__all__ = ["ParetoNBDTimeVarying"]

#: Layouts of data objects for prediction, per covariate names (dropped with the data).
_LAYOUTS: weakref.WeakKeyDictionary[TimeVaryingData, dict] = weakref.WeakKeyDictionary()


class ParetoNBDTimeVarying(MLEModel):
    """Pareto/NBD whose purchase and dropout rates follow time-varying covariates.

    Parameters
    ----------
    purchase_covariates : list of str, optional
        Columns of the covariate table that move the purchase rate,
        ``lambda(t) = lambda · exp(gamma_purchase . z(t))`` (parameters
        ``"purchase.<column>"``; positive: more purchasing).
    dropout_covariates : list of str, optional
        Columns that move the dropout hazard, ``mu(t) = mu · exp(gamma_dropout . z(t))``
        (``"dropout.<column>"``; positive: faster dropout).

    Fit with :meth:`fit` on a :class:`~crmlab.models._time_varying.TimeVaryingData`
    built by :func:`crmlab.models.time_varying_data` from a transaction log and a
    long covariate table (one row per customer and period). A covariate may also be
    constant over time for each customer (gender, channel): then it acts as in the
    time-invariant model. A covariate with one value across the whole table is not
    identified and is refused.

    Examples
    --------
    With covariates that do not change over time, the model is the time-invariant
    Pareto/NBD; with none, the plain Pareto/NBD (here the CDNOW sample):

    >>> import crmlab as cl
    >>> import pandas as pd
    >>> log = cl.datasets.load_cdnow("sample")
    >>> ids = log["customer_id"].unique()
    >>> weeks = pd.date_range("1996-12-30", "1997-09-29", freq="7D")
    >>> table = pd.DataFrame({"customer_id": ids.repeat(len(weeks)),
    ...                       "period": list(weeks) * len(ids)})
    >>> data = cl.models.time_varying_data(log, table, observation_end="1997-09-30")
    >>> round(ParetoNBDTimeVarying().fit(data).loglik, 2)
    -9594.98
    """

    param_names: ClassVar[tuple[str, ...]] = ("r", "alpha", "s", "beta")
    covariate_effects: ClassVar[dict[str, tuple[tuple[str, float], ...]]] = {
        "purchase": (("alpha", -1.0),),
        "dropout": (("beta", -1.0),),
    }

    def __init__(
        self,
        purchase_covariates: list[str] | tuple[str, ...] | None = None,
        dropout_covariates: list[str] | tuple[str, ...] | None = None,
    ) -> None:
        super().__init__({"purchase": purchase_covariates, "dropout": dropout_covariates})
        self._fitted_data: TimeVaryingData | None = None

    # ----- data ----------------------------------------------------------------------
    @property
    def _all_names(self) -> tuple[str, ...]:
        names: list[str] = []
        for group in ("purchase", "dropout"):
            names += [n for n in self.covariates.get(group, ()) if n not in names]
        return tuple(names)

    def _values(self, data: TimeVaryingData, *, fitting: bool) -> np.ndarray:
        names = self._all_names
        if not names:
            return np.zeros((len(data.table), 0))
        return data.covariates(names, fitting=fitting)

    def _split_z(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        names = self._all_names
        take = [
            [names.index(n) for n in self.covariates.get(group, ())]
            for group in ("purchase", "dropout")
        ]
        return z[:, take[0]], z[:, take[1]]

    #: The Newton finish after BFGS steps on the standard errors' Hessian (see
    #: :meth:`_gradient_hessian`), which then serves them.
    polish_on_error_hessian = True

    def _read_all(
        self, data: Any, weights: Any | None, *, fitting: bool
    ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        if not isinstance(data, TimeVaryingData):
            raise TypeError(
                f"{type(self).__name__} is fitted on the output of "
                "crmlab.models.time_varying_data(log, covariate_table, observation_end=...), "
                f"not on a {type(data).__name__}: its likelihood needs the covariates at each "
                "purchase, which an (x, t_x, T) summary does not carry"
            )
        if weights is not None:
            raise ValueError(f"{type(self).__name__} takes no weights: one row per customer")
        missing = [name for name in self._all_names if name not in data.names]
        if missing:
            from crmlab.models._covariates import MissingCovariateError

            raise MissingCovariateError(
                f"covariate column(s) {missing} are not in the covariate table (its "
                f"covariates: {list(data.names)})"
            )
        return _layout(self, data, self._values(data, fitting=fitting), compress=True)

    def fit(
        self,
        data: TimeVaryingData,
        weights: Any | None = None,
        *,
        starts: Any = None,
        compress: bool = False,
    ) -> ParetoNBDTimeVarying:
        """Estimate the parameters by maximum likelihood on ``data`` and return ``self``.

        ``data`` comes from :func:`crmlab.models.time_varying_data`. Customers are
        not merged into weighted rows (each has her own covariate path), so
        ``compress`` is ignored and ``weights`` refused.
        """
        super().fit(data, weights, starts=starts, compress=False)
        self.unit = data.unit
        self._fitted_data = data
        return self

    def _starts(self, columns: dict[str, np.ndarray], weights: np.ndarray) -> list[np.ndarray]:
        # The plain Pareto/NBD on (x, t_x, T) fits in a fraction of one evaluation of
        # this likelihood and starts the search near the optimum (coefficients at 0).
        from crmlab.models.paretonbd import ParetoNBD

        summary = {name: columns[name] for name in ("x", "t_x", "T")}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            plain = ParetoNBD().fit(summary, weights)
        rates = columns["x"] / np.maximum(columns["T"], 1e-9)
        rate = max(float(np.average(rates, weights=weights)), 1e-3)
        mean_T = float(np.average(columns["T"], weights=weights))
        return [plain.result.estimate.copy(), np.array([1.0, 1 / rate, 1.0, mean_T])]

    # ----- likelihood -------------------------------------------------------------------
    def _coefficients(self, params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = len(self.covariates.get("purchase", ()))
        return np.asarray(params[4 : 4 + k], float), np.asarray(params[4 + k :], float)

    def _rows(self, params: np.ndarray, columns: Any) -> np.ndarray:
        constant, alive, died = _log_parts(self, params, columns)[:3]
        return constant + np.logaddexp(alive, died)

    def _gradient_rows(self, params: Any, **columns: np.ndarray) -> list[np.ndarray] | None:
        """Unused: this model gives its whole gradient in :meth:`_value_and_gradient`."""
        return None

    def _value_and_gradient(
        self, params: np.ndarray, columns: Any, weights: np.ndarray
    ) -> tuple[float, np.ndarray]:
        """Weighted negative log-likelihood and its gradient in the natural parameters.

        One pass (:mod:`crmlab.models._time_varying_loglik`): the dropout integral's
        quadrature nodes serve the value and, differentiated under the integral, the
        exact gradient of that same value (``tests/test_paretonbd_dynamic.py`` checks
        it against finite differences).
        """
        value, gradient = _value_and_gradient(self, params, columns, weights)
        return -value, -gradient

    def _gradient_hessian(
        self, estimate: np.ndarray, columns: dict[str, Any], weights: np.ndarray
    ) -> np.ndarray:
        """Hessian of the negative log-likelihood from forward differences of the exact gradient.

        k + 1 gradients, each a full pass over the pieces, instead of the 2 k of
        central differences. At a relative step of 1e-6 the forward difference is off
        by about the step (1e-6 relative), the central one at 1e-4 by its square: both
        far below what standard errors need, and the gradient's own noise (rounding
        and quadrature, about 1e-13 relative) stays below both.
        """
        steps = 1e-6 * np.maximum(np.abs(estimate), 1e-2)

        def gradient(params: np.ndarray) -> np.ndarray:
            with np.errstate(all="ignore"):
                return self._value_and_gradient(params, columns, weights)[1]

        at = gradient(estimate)
        hessian = np.empty((len(estimate), len(estimate)))
        for i, step in enumerate(steps):
            shifted = estimate.copy()
            shifted[i] += step
            hessian[:, i] = (gradient(shifted) - at) / step
        return (hessian + hessian.T) / 2

    def _subsample_columns(self, columns: dict[str, Any], picked: np.ndarray) -> dict[str, Any]:
        """The layout of the customers at positions ``picked``, each with all her pieces."""
        return _subset_layout(columns, picked)

    # ----- predictions ----------------------------------------------------------------
    def _check(self, data: TimeVaryingData) -> None:
        self._require_fit()
        if not isinstance(data, TimeVaryingData):
            raise TypeError("pass the output of crmlab.models.time_varying_data")
        if self.unit is not None and data.unit != self.unit:
            raise ValueError(
                f"the data are in unit {data.unit!r} but the model was fitted in {self.unit!r}; "
                "build them again with unit=" + repr(self.unit)
            )

    def _prediction_terms(self, data: TimeVaryingData) -> tuple[dict[str, Any], Any]:
        """The layout of ``data`` for this model's covariates (kept while ``data`` lives) and
        the likelihood's terms at the current parameters.

        Predictions with ``interval=`` evaluate the same data at hundreds of parameter
        draws: the layout, which depends on the data and the covariate names only, is
        built once.
        """
        key = (
            tuple(self.covariates.get("purchase", ())),
            tuple(self.covariates.get("dropout", ())),
        )
        cache = _LAYOUTS.setdefault(data, {})
        if key not in cache:
            values = self._values(data, fitting=False)
            cache[key] = (_layout(self, data, values)[0], values)
        columns, values = cache[key]
        k_p = len(key[0])
        return {"columns": columns, "values": values}, evaluate(self._require_fit(), k_p, columns)[
            0
        ]

    @quiet
    @interval_option("data")
    def p_alive(self, data: TimeVaryingData) -> pd.Series:
        """P(alive at T | history and covariate path) for every customer of ``data``.

        Without covariates it is the Pareto/NBD's P(alive):

        >>> import crmlab as cl, pandas as pd
        >>> log = pd.DataFrame({"customer_id": [1, 1, 1],
        ...                     "date": pd.to_datetime(["1997-01-01", "1997-01-20", "1997-08-01"])})
        >>> table = pd.DataFrame({"customer_id": 1,
        ...                       "period": pd.date_range("1996-12-30", periods=40, freq="7D")})
        >>> data = cl.models.time_varying_data(log, table, observation_end="1997-09-30")
        >>> params = dict(r=0.55, alpha=10.58, s=0.61, beta=11.67)
        >>> dynamic = ParetoNBDTimeVarying().set_params(**params).p_alive(data)
        >>> static = cl.models.ParetoNBD().set_params(**params).p_alive(data.x, data.t_x, data.T)
        >>> round(float(dynamic.iloc[0]), 6) == round(float(static[0]), 6)
        True
        """
        self._check(data)
        _, terms = self._prediction_terms(data)
        value = np.exp(terms.alive - np.logaddexp(terms.alive, terms.died))
        return pd.Series(value, index=data.customers.copy(), name="p_alive")

    def _future(
        self, data: TimeVaryingData, stop: Any
    ) -> tuple[dict[str, np.ndarray], np.ndarray, Any]:
        """P(alive), the rate factor ``(r + x)/(α + A(T))``, ``β + C(T)`` per customer, and the
        future pieces from the end of observation to ``stop`` (days) with their a, c and
        ``β + C`` at their start."""
        params = self._require_fit()
        r, alpha, beta = params[0], params[1], params[3]
        gamma_p, gamma_d = self._coefficients(params)
        held, terms = self._prediction_terms(data)
        p_alive = np.exp(terms.alive - np.logaddexp(terms.alive, terms.died))
        future = pieces(data, (data.window_end, stop), held["values"])
        zp, zd = self._split_z(future.z)
        who = future.customer
        a = np.exp(_dot(zp, gamma_p))
        c = np.exp(_dot(zd, gamma_d))
        B = beta + terms.C_T
        C0 = B[who] + segment_exclusive_cumsum(c * future.length, _group_starts(who))
        per_customer = {
            "p_alive": p_alive,
            "rate": (r + held["columns"]["x"]) / (alpha + terms.A_T),
            "B": B,
        }
        return per_customer, np.array([a, c, C0]), future

    @quiet
    @interval_option("data")
    def conditional_expected_purchases(self, t: Any, data: TimeVaryingData) -> pd.Series:
        """Expected purchases in ``(T, T + t]`` given each customer's history and future covariates.

        ``t`` is in the model's unit (or ``"26W"``, ``(6, "M")``); the covariate table
        of ``data`` must hold every customer's periods up to ``observation_end + t``
        (a named error says which are missing). As in ``summarize``, ``T`` is counted
        to the start of the ``observation_end`` day, so the horizon's first period is
        the one holding that day.
        """
        self._check(data)
        horizon = float(self._in_unit(t))
        if not np.isfinite(horizon) or horizon < 0:
            raise ValueError(f"t must be a non-negative time, got {t!r}")
        s = float(self._require_fit()[2])
        customer, (a, c, C0), future = self._future(
            data, data.window_end + horizon * data.unit_days
        )
        who = future.customer
        B = customer["B"][who]
        y = c * future.length / C0
        if abs(s - 1) < 1e-10:
            shape = np.log1p(y)
        else:
            shape = -np.expm1((1 - s) * np.log1p(y)) / (s - 1)
        # a/c · B^s C0^(1-s) · shape = ∫ a (B / (C0 + c v))^s dv over the piece
        term = a / c * np.exp(s * np.log(B) + (1 - s) * np.log(C0)) * shape
        integral = np.bincount(who, weights=term, minlength=len(data))
        value = customer["p_alive"] * customer["rate"] * integral
        return pd.Series(value, index=data.customers.copy(), name="expected_purchases")

    @quiet
    @interval_option("data")
    def dert(self, discount: float, data: TimeVaryingData, *, horizon: Any = None) -> pd.Series:
        """Discounted expected residual transactions, along each customer's future covariates.

        DERT = ∫_0^∞ E[purchase rate at T + t | history, covariate path] e^(-δ t) dt,
        with ``δ`` the continuously compounded ``discount`` rate per unit of time
        (weekly data and 15 % a year: ``δ = log(1.15) / 52``), as in
        :meth:`ParetoNBD.dert <crmlab.models.ParetoNBD.dert>` (Fader, Hardie & Lee 2005,
        "RFM and CLV"). Given alive at T the rates are Gamma(r + x, α + A(T)) and
        Gamma(s, β + C(T)), so the integrand is

            P(alive) · (r + x)/(α + A(T)) · a(T + t) · ((β + C(T)) / (β + C(T + t)))^s · e^(-δ t).

        The future covariates come as for :meth:`conditional_expected_purchases`: from
        the covariate table of ``data``. Over each future piece of constant covariates
        the integral has no closed form (an incomplete gamma function); it is taken by
        Gauss–Legendre quadrature on geometric stretches (about 1e-12 relative).

        ``horizon`` (in the model's unit, or ``"52W"``) stops the integral at
        ``T + horizon``: the table must then cover that far. Without it the integral
        runs to infinity: over the periods the table holds after ``observation_end``
        and then, past each customer's last period, with her last covariates held
        forever, where it is closed form, ``a e^(-δ t_end) (B/C_end)^s (C_end/c)
        U(1, 2 - s, δ C_end / c)`` (``U``: Tricomi's function; ``B = β + C(T)``,
        ``C_end = β + C`` at the table's end). To assume another future, extend the
        table. With covariates that never change it is the time-invariant DERT.

        Parameters
        ----------
        discount : float
            Continuously compounded discount rate per unit of time, above 0.
        data : TimeVaryingData
            From :func:`crmlab.models.time_varying_data`, with the future periods in
            its covariate table.
        horizon : float or str, optional
            Stop the integral at ``T + horizon`` (default: to infinity).

        Examples
        --------
        >>> import crmlab as cl, numpy as np, pandas as pd
        >>> log = pd.DataFrame({"customer_id": [1, 1, 1],
        ...                     "date": pd.to_datetime(["1997-01-01", "1997-01-20", "1997-08-01"])})
        >>> table = pd.DataFrame({"customer_id": 1,
        ...                       "period": pd.date_range("1996-12-30", periods=40, freq="7D")})
        >>> data = cl.models.time_varying_data(log, table, observation_end="1997-09-30")
        >>> params = dict(r=0.55, alpha=10.58, s=0.61, beta=11.67)
        >>> dynamic = ParetoNBDTimeVarying().set_params(**params).dert(np.log(1.15) / 52, data)
        >>> static = cl.models.ParetoNBD().set_params(**params).dert(
        ...     np.log(1.15) / 52, data.x, data.t_x, data.T)
        >>> bool(np.isclose(dynamic.iloc[0], static[0], rtol=1e-9))
        True
        """
        self._check(data)
        delta = float(discount)
        if not np.isfinite(delta) or delta <= 0:
            raise ValueError(
                f"discount must be a positive rate per unit of time (e.g. np.log(1.15) / 52 "
                f"for 15 % a year on weekly data), got {discount!r}"
            )
        s = float(self._require_fit()[2])
        end = data.window_end
        if horizon is None:
            last = data.grid.edges(data.period_start + np.maximum(data.n_periods, 0))
            stop = np.maximum(np.where(data.row_start >= 0, last, end), end).astype(float)
        else:
            length = float(self._in_unit(horizon, "horizon"))
            if not np.isfinite(length) or length < 0:
                raise ValueError(f"horizon must be a non-negative time, got {horizon!r}")
            stop = end + length * data.unit_days
        customer, (a, c, C0), future = self._future(data, stop)
        who = future.customer
        B = customer["B"][who]
        t0 = future.start - data.T[who]
        from crmlab.models._time_varying_loglik import discounted_piece_integrals

        shape = discounted_piece_integrals(C0 / c, s, delta, future.length)
        term = a * np.exp(-delta * t0 + s * (np.log(B) - np.log(C0))) * shape
        integral = np.bincount(who, weights=term, minlength=len(data))
        if horizon is None:
            integral += self._dert_tail(data, customer["B"], (a, c, C0), future, delta, s)
        value = customer["p_alive"] * customer["rate"] * integral
        return pd.Series(value, index=data.customers.copy(), name="dert")

    def _dert_tail(
        self,
        data: TimeVaryingData,
        B: np.ndarray,
        future_terms: np.ndarray,
        future: Any,
        delta: float,
        s: float,
    ) -> np.ndarray:
        """DERT beyond each customer's last period, with her last covariates held forever."""
        from scipy import special

        a, c, C0 = future_terms
        n = len(data)
        who = future.customer
        # the last covariates: of the last future piece, or of the last observed one
        held, _ = self._prediction_terms(data)
        columns = held["columns"]
        params = self._require_fit()
        gamma_p, gamma_d = self._coefficients(params)
        starts = columns["piece_starts"]
        last_observed = np.append(starts[1:], len(columns["piece_customer"])) - 1
        a_last = np.ones(n)
        c_last = np.ones(n)
        a_last[columns["piece_customers"]] = np.exp(_dot(columns["zp"][last_observed], gamma_p))
        c_last[columns["piece_customers"]] = np.exp(_dot(columns["zd"][last_observed], gamma_d))
        C_end = B.copy()
        t_end = data.T * 0.0
        if len(who):
            final = np.append(np.flatnonzero(who[1:] != who[:-1]), len(who) - 1)
            owner = who[final]
            a_last[owner], c_last[owner] = a[final], c[final]
            C_end[owner] = C0[final] + c[final] * future.length[final]
            t_end[owner] = future.start[final] + future.length[final] - data.T[owner]
        z = delta * C_end / c_last
        return (
            a_last
            * np.exp(-delta * t_end + s * (np.log(B) - np.log(C_end)))
            * (C_end / c_last)
            * special.hyperu(1.0, 2.0 - s, z)
        )

    def _holdout_forecast(self, holdout: pd.DataFrame) -> np.ndarray:
        """Expected holdout purchases of the customers of ``holdout`` (for :func:`compare`).

        ``holdout`` is a calibration/holdout table (``duration_holdout``, one length for
        all); the covariate path comes from the data the model was fitted on, whose
        table must reach the end of the holdout.
        """
        data = self._fitted_data
        if data is None:
            raise ValueError(
                f"{type(self).__name__}: the holdout forecast needs the data of the fit "
                "(its covariate table must cover the holdout); fit the model first"
            )
        durations = np.unique(np.asarray(holdout["duration_holdout"], dtype=float))
        if len(durations) != 1:
            raise ValueError(
                "duration_holdout differs across customers; the time-varying forecast takes "
                "one horizon for everyone"
            )
        forecast = self.conditional_expected_purchases(float(durations[0]), data)
        missing = holdout.index.difference(forecast.index)
        if len(missing):
            raise ValueError(
                f"{len(missing):,} customer(s) of the holdout table are not in the fitted "
                f"data, e.g. {list(missing[:5])}"
            )
        return forecast.reindex(holdout.index).to_numpy()

    # ----- simulation -----------------------------------------------------------------
    def simulate(
        self,
        covariates: pd.DataFrame,
        first_purchase: pd.Series,
        observation_end: str | pd.Timestamp,
        *,
        unit: str | None = None,
        period: str | int = "W",
        customer_col: str = "customer_id",
        period_col: str = "period",
        merge: str = "day",
        seed: int | None = 0,
        return_truth: bool = False,
    ) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
        """Draw a transaction log from the model, along the covariate paths of ``covariates``.

        ``first_purchase`` gives each customer's first purchase date (index: the
        customer ids of the table). Each customer draws her rates, then her dropout
        moment (where her cumulative hazard ``mu C(t)`` reaches an Exp(1) draw) and her
        purchases (a Poisson process of intensity ``lambda a(t)`` until then), period by
        period. Returns the log (``customer_col``, ``"date"``, to the day), first
        purchases included. With ``return_truth=True`` also a frame of what a fit
        cannot see, per customer: her rates ``lambda`` and ``mu`` and whether she was
        still alive at the end of the window (what P(alive) estimates).

        With ``merge="day"`` the dates are days: purchases of one day then count as
        one, which loses a few per cent of a heavy buyer's purchases and biases a fit
        on a large base. With ``merge="none"`` they keep the time of day, for
        ``time_varying_data(..., merge="none")``.
        """
        params = self._require_fit()
        r, alpha, s, beta = params[:4]
        gamma_p, gamma_d = self._coefficients(params)
        unit = unit or self.unit or "W"
        start_log = pd.DataFrame(
            {customer_col: first_purchase.index, "date": pd.to_datetime(first_purchase.values)}
        )
        data = time_varying_data(
            start_log,
            covariates,
            observation_end,
            unit=unit,
            period=period,
            customer_col=customer_col,
            period_col=period_col,
            merge=merge,
        )
        values = self._values(data, fitting=False)
        cut = pieces(data, None, values)
        zp, zd = self._split_z(cut.z)
        a, c = np.exp(zp @ gamma_p), np.exp(zd @ gamma_d)
        n = len(data)
        rng = np.random.default_rng(seed)
        lam = rng.gamma(r, 1 / alpha, n)
        mu = rng.gamma(s, 1 / beta, n)
        threshold = rng.exponential(1.0, n) / mu
        who = cut.customer
        C_start = segment_exclusive_cumsum(c * cut.length, _group_starts(who))
        C_end = C_start + c * cut.length
        dies = (C_start <= threshold[who]) & (threshold[who] < C_end)
        death = np.full(n, np.inf)
        death[who[dies]] = cut.start[dies] + (threshold[who[dies]] - C_start[dies]) / c[dies]
        lived = np.clip(np.minimum(cut.start + cut.length, death[who]) - cut.start, 0, None)
        counts = rng.poisson(lam[who] * a * lived)
        piece = np.repeat(np.arange(len(who)), counts)
        times = cut.start[piece] + rng.uniform(size=len(piece)) * lived[piece]
        buyer = who[piece]
        days = data.first_day[buyer] + times * data.unit_days
        if merge == "day":
            days = np.floor(days)
        ids = np.concatenate([data.customers.to_numpy(), data.customers.to_numpy()[buyer]])
        all_days = np.concatenate([data.first_day, days])
        order = np.lexsort((all_days, np.concatenate([np.arange(n), buyer])))
        stamps = np.round(all_days[order] * 86_400e9).astype(np.int64).astype("datetime64[ns]")
        log = pd.DataFrame({customer_col: ids[order], "date": stamps})
        if not return_truth:
            return log
        # What a fit cannot see, for checking its estimates against the simulation.
        truth = pd.DataFrame(
            {"lambda": lam, "mu": mu, "alive_at_end": death > data.T}, index=data.customers.copy()
        )
        return log, truth


def _layout(
    model: ParetoNBDTimeVarying, data: TimeVaryingData, values: np.ndarray, compress: bool = False
) -> tuple[dict, np.ndarray]:
    """Arrays the likelihood reads (per customer, per piece, per piece after ``t_x``), weights.

    With ``compress`` and covariates that depend on the calendar alone (a season, a
    holiday, a price index), customers alike in first purchase day, x, t_x and the
    covariates at their purchases have one likelihood: they become one weighted row.
    """
    k_p = len(model.covariates.get("purchase", ()))
    sums = np.zeros((len(data), k_p))
    if k_p and len(data.purchase_customer):
        rows = data.rows(data.purchase_customer, data.purchase_period, "holding a repeat purchase")
        purchase_z, _ = model._split_z(values[rows])
        sums = _per_customer_sums(purchase_z, data.purchase_customer, len(data))
    chosen = None
    weights = np.ones(len(data))
    if compress and len(data) > 1 and data.by_calendar_only(values):
        chosen, inverse = row_groups(data.first_day, data.x, data.t_x, *sums.T)
        weights = np.bincount(inverse).astype(float)
    keep = slice(None) if chosen is None else chosen
    x, t_x_all, T, sums = data.x[keep], data.t_x[keep], data.T[keep], sums[keep]
    cut = pieces(data, None, values, customers=chosen)
    zp, zd = model._split_z(cut.z)
    who = cut.customer
    t_x = t_x_all[who]
    end = cut.start + cut.length
    # Relative slack: t_x and piece ends are the same day numbers divided by the unit.
    after = np.flatnonzero(end > t_x + 1e-12 * np.maximum(end, 1.0))
    begin = np.maximum(cut.start[after], t_x[after])
    piece_starts = _group_starts(who)
    after_who = who[after]
    after_starts = _group_starts(after_who)
    calendar = {}
    if cut.run is not None:
        calendar = _calendar_layout(
            model, data, values, cut, who if chosen is None else chosen[who]
        )
    return {
        "x": x,
        "t_x": t_x_all,
        "T": T,
        "purchase_sums": sums,
        "piece_customer": who,
        "piece_length": cut.length,
        "piece_starts": piece_starts,
        "piece_customers": who[piece_starts],
        "zp": zp,
        "zd": zd,
        "after": after,
        "after_customer": after_who,
        "after_offset": begin - cut.start[after],
        "after_length": end[after] - begin,
        "after_starts": after_starts,
        "after_customers": after_who[after_starts],
        **calendar,
    }, weights


def _calendar_layout(
    model: ParetoNBDTimeVarying,
    data: TimeVaryingData,
    values: np.ndarray,
    cut: Any,
    customer: np.ndarray,
) -> dict[str, np.ndarray]:
    """For a table shared by all customers: the calendar's runs of equal periods (their
    lengths and covariates) and, per piece, its run and how far into it it starts.

    The likelihood then takes the rates once per run and A, C at each piece's start
    from one sum over the runs (:func:`~crmlab.models._time_varying_loglik.calendar_before`).
    ``customer``: each piece's customer, as a position in ``data``.
    """
    _, run_first, run_end = calendar_runs(values)
    first_period = int(data.period_start[0]) if len(data.table) else 0
    run_start_day = data.grid.edges(first_period + run_first)
    run_end_day = data.grid.edges(first_period + run_end)
    zp, zd = model._split_z(values[run_first])
    # a customer's first piece starts at her first purchase, inside its run
    lead = np.maximum(data.first_day[customer] - run_start_day[cut.run], 0.0)
    return {
        "piece_run": cut.run,
        "piece_lead": lead / data.unit_days,
        "run_length": (run_end_day - run_start_day) / data.unit_days,
        "run_zp": zp,
        "run_zd": zd,
    }


def _subset_layout(c: dict[str, Any], chosen: np.ndarray) -> dict[str, Any]:
    """The layout of :func:`_layout` for the customers at positions ``chosen`` (sorted)."""
    n = len(c["x"])
    position = np.full(n, -1, dtype=np.int64)
    position[chosen] = np.arange(len(chosen))
    kept = position[c["piece_customer"]] >= 0
    renumber = np.cumsum(kept) - 1
    who = position[c["piece_customer"][kept]]
    after_kept = kept[c["after"]]
    after_who = position[c["after_customer"][after_kept]]
    piece_starts, after_starts = _group_starts(who), _group_starts(after_who)
    return {
        "x": c["x"][chosen],
        "t_x": c["t_x"][chosen],
        "T": c["T"][chosen],
        "purchase_sums": c["purchase_sums"][chosen],
        "piece_customer": who,
        "piece_length": c["piece_length"][kept],
        "piece_starts": piece_starts,
        "piece_customers": who[piece_starts],
        "zp": c["zp"][kept],
        "zd": c["zd"][kept],
        "after": renumber[c["after"][after_kept]],
        "after_customer": after_who,
        "after_offset": c["after_offset"][after_kept],
        "after_length": c["after_length"][after_kept],
        "after_starts": after_starts,
        "after_customers": after_who[after_starts],
        **(
            {
                "piece_run": c["piece_run"][kept],
                "piece_lead": c["piece_lead"][kept],
                **{key: c[key] for key in ("run_length", "run_zp", "run_zd")},
            }
            if "piece_run" in c
            else {}
        ),
    }


def _group_starts(customer: np.ndarray) -> np.ndarray:
    """Where each run of one customer begins in ``customer`` (sorted by customer)."""
    if len(customer) == 0:
        return np.empty(0, dtype=np.int64)
    return np.flatnonzero(np.concatenate([[True], customer[1:] != customer[:-1]]))


def _log_parts(
    model: ParetoNBDTimeVarying, params: np.ndarray, c: dict
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Log of the constant, of 'alive at T' and of 'died in (t_x, T]'; and A(T), C(T)."""
    k_p = len(model.covariates.get("purchase", ()))
    return tuple(evaluate(np.asarray(params, float), k_p, c)[0])  # type: ignore[return-value]


def _gradient(
    model: ParetoNBDTimeVarying, params: np.ndarray, c: dict, weights: np.ndarray
) -> np.ndarray:
    """d(weighted log-likelihood)/d(natural parameters), in the order of ``model.names``."""
    return _value_and_gradient(model, params, c, weights)[1]


def _value_and_gradient(
    model: ParetoNBDTimeVarying, params: np.ndarray, c: dict, weights: np.ndarray
) -> tuple[float, np.ndarray]:
    """Weighted log-likelihood and its gradient in the natural parameters, in one pass."""
    k_p = len(model.covariates.get("purchase", ()))
    terms, gradient = evaluate(np.asarray(params, float), k_p, c, weights)
    assert gradient is not None
    rows = terms.constant + np.logaddexp(terms.alive, terms.died)
    return float(np.einsum("i,i->", weights, rows)), gradient


def _per_customer_sums(values: np.ndarray, customer: np.ndarray, n: int) -> np.ndarray:
    """Column sums of ``values`` (rows × k) by customer: an (n, k) matrix."""
    out = np.zeros((n, values.shape[1]))
    for j in range(values.shape[1]):
        out[:, j] = np.bincount(customer, weights=values[:, j], minlength=n)
    return out
