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
linear within a period, so the integral is a sum over the periods between ``t_x``
and ``T`` of Pareto/NBD integrals, each the difference of two Gauss hypergeometric
terms, computed as in :mod:`crmlab.models.paretonbd` (Euler's transformation, in
logs). The product over purchases needs only the sum of the purchase covariates at
the repeat purchases, which is why the model reads the transaction log (through
:func:`crmlab.models.time_varying_data`) and not only (x, t_x, T).

Predictions (the paper's Section 3.3; CLVTools' ``pnbd_dyncov_palive`` and
``pnbd_dyncov_CET``): P(alive at T) is the first term's share of the bracket;
given alive at T the rates are Gamma(r + x, α + A(T)) and Gamma(s, β + C(T)), so the
expected purchases in ``(T, T + t]`` are

    P(alive) · (r + x) / (α + A(T)) · ∫_T^{T+t} a(u) ((β + C(T)) / (β + C(u)))^s du,

closed form period by period: the covariates of the future periods must be in the
covariate table.

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
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import special

from crmlab.models._base import ConvergenceWarning, MLEModel, quiet, row_groups
from crmlab.models._time_varying import TimeVaryingData, pieces, time_varying_data
from crmlab.models.paretonbd import _log_hyper_term

__all__ = ["ParetoNBDTimeVarying"]

#: Gauss–Legendre nodes per stretch of the dropout integral (gradient only).
_NODES = 8


def _within_customer_cumsum(values: np.ndarray, first: np.ndarray) -> np.ndarray:
    """Sum of ``values`` over the earlier pieces of the same customer (``first``: its first)."""
    before = np.cumsum(values) - values
    return before - before[first]


def _logsumexp_groups(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """log Σ exp(values) over consecutive groups beginning at ``starts``."""
    if len(starts) == 0:
        return np.empty(0)
    peak = np.maximum.reduceat(values, starts)
    sizes = np.diff(np.append(starts, len(values)))
    safe = np.where(np.isfinite(peak), peak, 0.0)
    total = np.add.reduceat(np.exp(values - np.repeat(safe, sizes)), starts)
    with np.errstate(divide="ignore"):
        return safe + np.log(total)


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

    # A customer's columns span several rows (one per stretch of constant covariates).
    rows_can_be_sampled = False

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
        """Unused: this model gives its whole gradient in :meth:`_free_gradient`."""
        return None

    def _free_value_and_gradient(
        self, free: np.ndarray, columns: Any, weights: np.ndarray
    ) -> tuple[float, np.ndarray]:
        return self._negloglik(self._from_free(free), columns, weights), self._free_gradient(
            free, columns, weights
        )

    def _free_gradient(
        self, free: np.ndarray, columns: Any, weights: np.ndarray
    ) -> np.ndarray | None:
        """Gradient of the weighted negative log-likelihood on the optimiser's scale.

        Differentiated under the integral: exact for the "alive" term and the constant,
        Gauss–Legendre (8 nodes on each stretch of at most ``T_max / 16``) for the
        dropout integral. It guides the quasi-Newton search; the Newton finish of the
        base works on the exact likelihood, so the estimate does not depend on the
        quadrature (``tests/test_paretonbd_dynamic.py`` checks it against finite
        differences).
        """
        params = self._from_free(free)
        gradient = _gradient(self, params, columns, weights)
        slopes = np.array([p.free_slope(v) for p, v in zip(self.parameters, params, strict=True)])
        return -gradient / slopes

    def _covariance_at(
        self, estimate: np.ndarray, columns: dict[str, np.ndarray], weights: np.ndarray
    ) -> np.ndarray | None:
        """Inverse Hessian, from central differences of the gradient (2k gradients).

        The base differentiates the likelihood twice (about 30 k² evaluations); the
        gradient's differences cost 2k gradient evaluations for the same figures.
        """
        size = len(estimate)
        steps = 1e-4 * np.maximum(np.abs(estimate), 1e-2)
        hessian = np.empty((size, size))
        for j in range(size):
            up, down = estimate.copy(), estimate.copy()
            up[j] += steps[j]
            down[j] -= steps[j]
            with np.errstate(all="ignore"):
                hessian[:, j] = -(
                    _gradient(self, up, columns, weights) - _gradient(self, down, columns, weights)
                ) / (2 * steps[j])
        hessian = (hessian + hessian.T) / 2
        try:
            covariance = np.linalg.inv(hessian)
        except np.linalg.LinAlgError:
            return None
        if not np.all(np.isfinite(covariance)) or np.any(np.diag(covariance) <= 0):
            return None
        return covariance

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

    @quiet
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
        columns, _ = _layout(self, data, self._values(data, fitting=False))
        _, alive, died, _, _ = _log_parts(self, self._require_fit(), columns)
        value = np.exp(alive - np.logaddexp(alive, died))
        return pd.Series(value, index=data.customers.copy(), name="p_alive")

    @quiet
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
        params = self._require_fit()
        r, alpha, s, beta = params[:4]
        gamma_p, gamma_d = self._coefficients(params)
        values = self._values(data, fitting=False)
        columns, _ = _layout(self, data, values)
        _, alive, died, A_T, C_T = _log_parts(self, params, columns)
        p_alive = np.exp(alive - np.logaddexp(alive, died))
        end = data.window_end
        future = pieces(data, (end, end + horizon * data.unit_days), values)
        zp, zd = self._split_z(future.z)
        a = np.exp(zp @ gamma_p)
        c = np.exp(zd @ gamma_d)
        who = future.customer
        first = _first_of_customer(who)
        B = beta + C_T[who]
        C0 = B + _within_customer_cumsum(c * future.length, first)
        y = c * future.length / C0
        if abs(s - 1) < 1e-10:
            shape = np.log1p(y)
        else:
            shape = -np.expm1((1 - s) * np.log1p(y)) / (s - 1)
        # a/c · B^s C0^(1-s) · shape = ∫ a (B / (C0 + c v))^s dv over the piece
        term = a / c * np.exp(s * np.log(B) + (1 - s) * np.log(C0)) * shape
        integral = np.bincount(who, weights=term, minlength=len(data))
        x = columns["x"]
        value = p_alive * (r + x) / (alpha + A_T) * integral
        return pd.Series(value, index=data.customers.copy(), name="expected_purchases")

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
        C_start = _within_customer_cumsum(c * cut.length, _first_of_customer(who))
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


def _first_of_customer(customer: np.ndarray) -> np.ndarray:
    """For each piece (sorted by customer), the index of its customer's first piece."""
    if len(customer) == 0:
        return np.empty(0, dtype=np.int64)
    starts = np.flatnonzero(np.concatenate([[True], customer[1:] != customer[:-1]]))
    sizes = np.diff(np.append(starts, len(customer)))
    return np.repeat(starts, sizes)


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
    after_who = who[after]
    group_starts = np.flatnonzero(np.concatenate([[True], after_who[1:] != after_who[:-1]]))
    if len(after) == 0:
        group_starts = np.empty(0, dtype=np.int64)
    # Quadrature nodes for the gradient: each after-piece cut into stretches of at most
    # a 16th of the longest window, 8 Gauss–Legendre nodes on each.
    span = end[after] - begin
    longest = float(data.T.max()) if len(data) else 1.0
    parts = np.maximum(np.ceil(span / max(longest / 16, 1e-12)), 1).astype(np.int64)
    stretch = np.repeat(np.arange(len(after)), parts)
    index = np.arange(len(stretch)) - np.repeat(np.cumsum(parts) - parts, parts)
    width = (span / parts)[stretch]
    nodes, node_weights = np.polynomial.legendre.leggauss(_NODES)
    node_piece = np.repeat(stretch, _NODES)
    node_u = ((index[:, None] + (nodes + 1) / 2) * width[:, None]).ravel()
    node_w = (node_weights / 2 * width[:, None]).ravel()
    return {
        "node_piece": node_piece,
        "node_u": node_u,
        "node_w": node_w,
        "x": x,
        "t_x": t_x_all,
        "T": T,
        "purchase_sums": sums,
        "piece_customer": who,
        "piece_length": cut.length,
        "piece_first": _first_of_customer(who),
        "zp": zp,
        "zd": zd,
        "after": after,
        "after_offset": begin - cut.start[after],
        "after_length": end[after] - begin,
        "after_starts": group_starts,
        "after_customers": after_who[group_starts] if len(after) else np.empty(0, np.int64),
    }, weights


def _log_parts(
    model: ParetoNBDTimeVarying, params: np.ndarray, c: dict
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Log of the constant, of 'alive at T' and of 'died in (t_x, T]'; and A(T), C(T)."""
    r, alpha, s, beta = (float(v) for v in params[:4])
    gamma_p, gamma_d = model._coefficients(params)
    x = c["x"]
    n = len(x)
    log_a = c["zp"] @ gamma_p
    log_c = c["zd"] @ gamma_d
    a, cc = np.exp(log_a), np.exp(log_c)
    length, who = c["piece_length"], c["piece_customer"]
    A_T = np.bincount(who, weights=a * length, minlength=n)
    C_T = np.bincount(who, weights=cc * length, minlength=n)
    constant = (
        special.gammaln(r + x)
        - special.gammaln(r)
        + r * np.log(alpha)
        + s * np.log(beta)
        + c["purchase_sums"] @ gamma_p
    )
    alive = -(r + x) * np.log(alpha + A_T) - s * np.log(beta + C_T)
    died = np.full(n, -np.inf)
    q = c["after"]
    if len(q):
        A_start = _within_customer_cumsum(a * length, c["piece_first"])[q]
        C_start = _within_customer_cumsum(cc * length, c["piece_first"])[q]
        aq, cq = a[q], cc[q]
        xq = x[who[q]]
        # In the piece, α + A(τ) = aq (u + p) and β + C(τ) = cq (u + h), u from its start.
        p = (alpha + A_start) / aq + c["after_offset"]
        h = (beta + C_start) / cq + c["after_offset"]
        integral = _log_piece_integral(r, s, xq, p, h, c["after_length"])
        piece = np.log(s) - (r + xq) * log_a[q] - s * log_c[q] + integral
        died[c["after_customers"]] = _logsumexp_groups(piece, c["after_starts"])
    return constant, alive, died, A_T, C_T


def _log_piece_integral(
    r: float, s: float, x: np.ndarray, p: np.ndarray, h: np.ndarray, length: np.ndarray
) -> np.ndarray:
    """log ∫_0^L (u + p)^-(r+x) (u + h)^-(s+1) du, for each piece.

    Short pieces (the integrand falls by less than a factor e over the piece, the
    weekly pieces of most customers) take 8 Gauss–Legendre nodes: there the
    integrand is close to an exponential of slope at most 1/L, for which 8 nodes are
    exact to rounding, and the difference of two hypergeometric terms would lose
    digits to cancellation. The others take that difference, as in
    :mod:`crmlab.models.paretonbd` (Euler's transformation, in logs).
    """
    out = np.empty(len(p))
    short = (r + x + s + 1) * length <= np.minimum(p, h)
    if short.any():
        nodes, weights = np.polynomial.legendre.leggauss(8)
        L = length[short][:, None]
        u = L * (nodes + 1) / 2
        log_f = -(r + x[short][:, None]) * np.log(u + p[short][:, None]) - (s + 1) * np.log(
            u + h[short][:, None]
        )
        top = log_f[:, :1]
        out[short] = top[:, 0] + np.log((np.exp(log_f - top) * weights).sum(axis=1) * L[:, 0] / 2)
    long = ~short
    if long.any():
        xl, pl, hl = x[long], p[long], h[long]
        at_start = _log_hyper_term(r, pl, s, hl, xl, np.zeros_like(pl))
        at_end = _log_hyper_term(r, pl, s, hl, xl, length[long])
        with np.errstate(divide="ignore", invalid="ignore"):
            difference = at_start + np.log(-np.expm1(np.minimum(at_end - at_start, 0.0)))
        out[long] = difference - np.log(r + s + xl)
    return out


def _per_customer_sums(values: np.ndarray, customer: np.ndarray, n: int) -> np.ndarray:
    """Column sums of ``values`` (pieces × k) by customer: an (n, k) matrix."""
    out = np.zeros((n, values.shape[1]))
    for j in range(values.shape[1]):
        out[:, j] = np.bincount(customer, weights=values[:, j], minlength=n)
    return out


def _gradient(
    model: ParetoNBDTimeVarying, params: np.ndarray, c: dict, weights: np.ndarray
) -> np.ndarray:
    """d(weighted log-likelihood)/d(natural parameters), in the order of ``model.names``."""
    r, alpha, s, beta = (float(v) for v in params[:4])
    gamma_p, gamma_d = model._coefficients(params)
    _, alive, died, A_T, C_T = _log_parts(model, params, c)
    x = c["x"]
    total = np.logaddexp(alive, died)
    m = r + x
    zp, zd = c["zp"], c["zd"]
    a, cc = np.exp(zp @ gamma_p), np.exp(zd @ gamma_d)
    length, who, first = c["piece_length"], c["piece_customer"], c["piece_first"]
    n = len(x)
    k_p, k_d = zp.shape[1], zd.shape[1]
    dA_T = _per_customer_sums(zp * (a * length)[:, None], who, n)
    dC_T = _per_customer_sums(zd * (cc * length)[:, None], who, n)
    share = np.exp(alive - total)  # the "alive" term's share of the bracket
    per_customer = np.empty((n, 4 + k_p + k_d))
    per_customer[:, 0] = (
        special.digamma(r + x) - special.digamma(r) + np.log(alpha) - share * np.log(alpha + A_T)
    )
    per_customer[:, 1] = r / alpha - share * m / (alpha + A_T)
    per_customer[:, 2] = np.log(beta) - share * np.log(beta + C_T)
    per_customer[:, 3] = s / beta - share * s / (beta + C_T)
    per_customer[:, 4 : 4 + k_p] = c["purchase_sums"] - (share * m / (alpha + A_T))[:, None] * dA_T
    per_customer[:, 4 + k_p :] = -(share * s / (beta + C_T))[:, None] * dC_T
    q = c["after"]
    if len(q):
        node = c["node_piece"]
        piece = q[node]
        customer = who[piece]
        u = c["after_offset"][node] + c["node_u"]
        A_start = _within_customer_cumsum(a * length, first)
        C_start = _within_customer_cumsum(cc * length, first)
        Pa = alpha + A_start[piece] + a[piece] * u
        Pc = beta + C_start[piece] + cc[piece] * u
        m_node = m[customer]
        log_f = np.log(s) + np.log(cc[piece]) - m_node * np.log(Pa) - (s + 1) * np.log(Pc)
        omega = c["node_w"] * np.exp(log_f - total[customer])
        terms = [
            -np.log(Pa),
            -m_node / Pa,
            1 / s - np.log(Pc),
            -(s + 1) / Pc,
        ]
        for j in range(k_p):
            dA_start = _within_customer_cumsum(zp[:, j] * a * length, first)
            terms.append(-m_node / Pa * (dA_start[piece] + zp[piece, j] * a[piece] * u))
        for j in range(k_d):
            dC_start = _within_customer_cumsum(zd[:, j] * cc * length, first)
            terms.append(
                zd[piece, j] - (s + 1) / Pc * (dC_start[piece] + zd[piece, j] * cc[piece] * u)
            )
        for j, term in enumerate(terms):
            per_customer[:, j] += np.bincount(customer, weights=omega * term, minlength=n)
    return weights @ per_customer
