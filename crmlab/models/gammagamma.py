"""The Gamma–Gamma model of spend per transaction (Fader, Hardie & Lee 2005; Fader & Hardie 2013).

Story. Each transaction of a customer is worth ``z ~ Gamma(p, nu)`` (shape ``p``,
rate ``nu``), so her mean spend is ``p / nu``; across customers
``nu ~ Gamma(q, gamma)``. Only the ``x`` repeat transactions of a customer and their
mean ``m`` are needed. The density of the mean, given ``x``, is

    f(m | x) = Γ(p x + q) / (Γ(p x) Γ(q)) · γ^q m^(p x - 1) x^(p x) / (γ + m x)^(p x + q)

The model assumes that spend is independent of how often a customer buys; check
:func:`frequency_spend_correlation` before using it.

References: Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). RFM and CLV: Using
iso-value curves for customer base analysis. *Journal of Marketing Research*, 42(4),
415–430. Fader, P. S., & Hardie, B. G. S. (2013). The Gamma-Gamma model of monetary
value. Note.

>>> import crmlab as cl
>>> s = cl.transactions.summarize(cl.datasets.load_cdnow("sample"), "1997-09-30")
>>> gg = cl.models.GammaGamma().fit(s)
>>> {k: round(v, 2) for k, v in gg.params.items()}, round(float(gg.loglik), 2)
({'p': 6.25, 'q': 3.74, 'gamma': 15.44}, -4055.92)
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy import special

from crmlab._validate import check_values, first_rows
from crmlab.models._base import (
    MLEModel,
    as_output,
    broadcast_inputs,
    read_columns,
    row_groups,
    weighted_sum,
)
from crmlab.models._intervals import interval_option

__all__ = ["GammaGamma", "ZeroSpendWarning", "frequency_spend_correlation"]


class ZeroSpendWarning(UserWarning):
    """Repeat buyers whose mean spend is 0 were set aside by the Gamma–Gamma fit."""


def frequency_spend_correlation(data: pd.DataFrame) -> float:
    """Pearson correlation of ``x`` and ``monetary`` among customers with ``x > 0``.

    The Gamma–Gamma model assumes the two are independent; a correlation far from
    zero is a reason to doubt it.

    >>> import crmlab as cl
    >>> s = cl.datasets.load_cdnow_published_summary().rename(columns={"zbar": "monetary"})
    >>> round(frequency_spend_correlation(s), 2)
    0.11
    """
    buyers = data[data["x"] > 0]
    return float(np.corrcoef(buyers["x"], buyers["monetary"])[0, 1])


def _fit_terms(
    params: Any,
    x: np.ndarray,
    monetary: np.ndarray,
    groups: Mapping[str, Any],
    gradient: bool,
) -> tuple[np.ndarray, list[np.ndarray] | None]:
    """Each row's log-likelihood (and derivatives in p, q, gamma) with shared terms.

    The gammas and digammas of ``p x`` and ``p x + q`` are computed once per
    distinct ``x`` (and covariate values), ``log m`` once per fit
    (``groups["log_monetary"]``); a row then costs one logarithm, of
    ``gamma + x m``, the only term in which the parameters meet the spend.
    """
    p, q, gamma = params
    first, inverse = groups["x_groups"]
    q_first = np.asarray(q)[first] if np.ndim(q) else q
    px_first = p * x[first]
    on_x = [special.gammaln(px_first + q_first) - special.gammaln(px_first), np.log(x[first])]
    if gradient:
        on_x += [special.digamma(px_first + q_first), special.digamma(px_first)]
    on_x = np.take(np.stack(np.broadcast_arrays(*on_x)), inverse, axis=-1)
    log_m = groups["log_monetary"]
    px = p * x
    spend = gamma + monetary * x
    log_spend = np.log(spend)
    log_gamma = np.log(gamma)
    total = (
        on_x[0]
        - special.gammaln(q)
        + q * log_gamma
        + (px - 1) * log_m
        + px * on_x[1]
        - (px + q) * log_spend
    )
    if not gradient:
        return total, None
    psi_pxq, psi_px = on_x[2], on_x[3]
    d_p = x * (psi_pxq - psi_px + log_m + on_x[1] - log_spend)
    d_q = psi_pxq - special.digamma(q) + log_gamma - log_spend
    d_gamma = q / gamma - (px + q) / spend
    return total, [d_p, d_q, d_gamma]


class GammaGamma(MLEModel):
    """Gamma–Gamma spend model, fitted on customers with at least one repeat purchase.

    ``fit`` takes a frame with columns ``x`` and ``monetary`` (mean value of the
    repeat transactions, as :func:`crmlab.transactions.summarize` gives it); rows
    with ``x == 0`` are left out of the fit because they carry no spend information.

    Zero spend. A repeat buyer whose repeat purchases were all free (``monetary ==
    0``) is a real customer, and validation keeps such rows, but a mean of 0 cannot
    come from a Gamma distribution. The fit therefore *sets aside* those customers
    (it does not refuse the data): it says how many with a :class:`ZeroSpendWarning`
    and records them in ``n_set_aside`` and ``set_aside`` (their index labels).
    Their spend is then predicted like anyone's by :meth:`conditional_expected_spend`,
    which shrinks their mean of 0 towards the population mean. The summary counts
    them in ``attrs["zero_spend_customers"]``.

    Examples
    --------
    >>> gg = GammaGamma().set_params(p=6.25, q=3.74, gamma=15.44)
    >>> round(gg.mean_spend(), 2)
    35.22
    >>> gg.conditional_expected_spend([1, 10], [20.0, 20.0]).round(2)
    array([24.64, 20.64])
    """

    param_names: ClassVar[tuple[str, ...]] = ("p", "q", "gamma")
    data_columns: ClassVar[tuple[str, ...]] = ("x", "monetary")
    covariate_effects: ClassVar[Mapping[str, tuple[tuple[str, float], ...]]] = {
        "spend": (("gamma", 1.0),),
    }
    # Newton's method ends as soon from the usual starts as from a subsample's estimate
    # (three evaluations on all of 92,451 buyers): the subsample would only add its own.
    newton_from_subsample: ClassVar[bool] = False

    def __init__(self, spend_covariates: Sequence[str] | None = None) -> None:
        super().__init__({"spend": spend_covariates})
        #: Repeat buyers with a mean spend of 0 left out of the last fit, and their labels.
        self.n_set_aside: int = 0
        self.set_aside: list[Any] = []

    def _read(self, data: Any, weights: Any | None) -> tuple[dict[str, np.ndarray], np.ndarray]:
        columns, row_weights, index = read_columns(data, weights, columns=("x", "monetary"))
        x, monetary = columns["x"], columns["monetary"]
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(x) | (x < 0) | (x != np.round(x))
        if bad.any():
            raise ValueError(
                f"column 'x' must hold whole numbers >= 0: {first_rows(bad, x, labels=index)}"
            )
        buyers = x > 0
        bad = buyers & ~(np.isfinite(monetary) & (monetary >= 0))
        if bad.any():
            raise ValueError(
                "column 'monetary' must be positive for customers with x > 0 (a mean spend "
                f"of NaN or below 0 cannot come from a Gamma distribution): "
                f"{first_rows(bad, x, monetary, labels=index)}"
            )
        zero = buyers & (monetary == 0)
        set_aside = zero.copy()
        if zero.any():
            labels = list(index[zero]) if index is not None else np.flatnonzero(zero).tolist()
            self.n_set_aside, self.set_aside = int(row_weights[zero].sum()), labels
            warnings.warn(
                f"GammaGamma: {self.n_set_aside:,} repeat buyer(s) with a mean spend of 0 "
                f"set aside ({first_rows(zero, monetary, labels=index)}): a mean of 0 cannot "
                "come from a Gamma distribution. The fit uses the other "
                f"{int(row_weights[buyers & ~zero].sum()):,} repeat buyers; "
                "conditional_expected_spend still predicts the set-aside customers.",
                ZeroSpendWarning,
                stacklevel=3,
            )
        else:
            self.n_set_aside, self.set_aside = 0, []
        used = buyers & ~set_aside
        # Covariate columns are read from the whole frame and cut to these rows.
        self._kept_rows = used
        if not used.any():
            raise ValueError(
                "no customer has x > 0 with a positive mean spend: the spend model needs "
                "repeat buyers"
                if zero.any()
                else "no customer has x > 0: the spend model needs repeat buyers"
            )
        return {"x": x[used], "monetary": monetary[used]}, row_weights[used]

    def _starts(self, columns: dict[str, np.ndarray], weights: np.ndarray) -> list[np.ndarray]:
        mean = np.average(columns["monetary"], weights=weights)
        return [np.array([2.0, 3.0, mean]), np.array([6.0, 4.0, mean / 2])]

    def _groups(self, columns: Mapping[str, np.ndarray]) -> dict[str, Any]:
        """What a fit computes once: customers alike in ``x`` (and covariates), log spend."""
        covariates = self._covariate_columns(columns)
        return {
            "x_groups": row_groups(columns["x"], *covariates),
            "log_monetary": np.log(columns["monetary"]),
        }

    def _loglik_rows(
        self, params: Any, x: np.ndarray, monetary: np.ndarray, **groups: Any
    ) -> np.ndarray:
        if groups:
            return _fit_terms(params, x, monetary, groups, gradient=False)[0]
        p, q, gamma = params
        px = p * x
        return (
            special.gammaln(px + q)
            - special.gammaln(px)
            - special.gammaln(q)
            + q * np.log(gamma)
            + (px - 1) * np.log(monetary)
            + px * np.log(x)
            - (px + q) * np.log(gamma + monetary * x)
        )

    def _gradient_rows(
        self, params: Any, x: np.ndarray, monetary: np.ndarray, **groups: Any
    ) -> list[np.ndarray]:
        """Exact derivatives of each row's log-likelihood in p, q and gamma (digammas)."""
        if groups:
            gradient = _fit_terms(params, x, monetary, groups, gradient=True)[1]
            assert gradient is not None
            return gradient
        p, q, gamma = params
        px = p * x
        psi_pxq = special.digamma(px + q)
        log_total = np.log(gamma + monetary * x)
        d_p = x * (psi_pxq - special.digamma(px) + np.log(monetary) + np.log(x) - log_total)
        d_q = psi_pxq - special.digamma(q) + np.log(gamma) - log_total
        d_gamma = q / gamma - (px + q) / (gamma + monetary * x)
        return [d_p, d_q, d_gamma]

    def _loglik_and_gradient_rows(
        self, params: Any, x: np.ndarray, monetary: np.ndarray, **groups: Any
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        if not groups:
            return super()._loglik_and_gradient_rows(params, x=x, monetary=monetary)
        total, gradient = _fit_terms(params, x, monetary, groups, gradient=True)
        assert gradient is not None
        return total, gradient

    def _exact_sums(
        self, params: np.ndarray, columns: Mapping[str, np.ndarray], weights: np.ndarray
    ) -> tuple[float, np.ndarray, np.ndarray] | None:
        """The negative log-likelihood, gradient and Hessian as sums (no covariates).

        Every term but ``(p x + q) log(gamma + x m)`` depends on ``x`` alone, or on
        the data alone: those are summed once per distinct ``x`` (with its number of
        customers) or once per fit. A row then costs one logarithm and one
        division, and the Hessian (trigammas per distinct ``x``; sums of
        ``1 / (gamma + x m)`` and its square) comes with it, so the fit is Newton's.
        """
        if self.covariates or "x_groups" not in columns:
            return None
        p, q, gamma = params
        x, monetary, log_m = columns["x"], columns["monetary"], columns["log_monetary"]
        first, inverse = columns["x_groups"]
        levels = x[first]
        counts = np.bincount(inverse, weights=weights, minlength=len(first))
        n = counts.sum()
        weighted_x = weights * x
        px = p * levels
        log_x = np.log(levels)
        spend = gamma + monetary * x
        log_spend = np.log(spend)
        inverse_spend = 1 / spend
        squared = inverse_spend * inverse_spend
        sum_x_log_spend = weighted_sum(weighted_x, log_spend)
        sum_log_spend = weighted_sum(weights, log_spend)
        sum_x_inverse = weighted_sum(weighted_x, inverse_spend)
        sum_inverse = weighted_sum(weights, inverse_spend)
        psi_pxq, psi_px = special.digamma(px + q), special.digamma(px)
        tri_pxq, tri_px = special.polygamma(1, px + q), special.polygamma(1, px)
        loglik = (
            counts @ (special.gammaln(px + q) - special.gammaln(px) + px * log_x)
            - n * special.gammaln(q)
            + n * q * np.log(gamma)
            + p * weighted_sum(weighted_x, log_m)
            - weighted_sum(weights, log_m)
            - p * sum_x_log_spend
            - q * sum_log_spend
        )
        gradient = np.array(
            [
                counts @ (levels * (psi_pxq - psi_px + log_x))
                + weighted_sum(weighted_x, log_m)
                - sum_x_log_spend,
                counts @ psi_pxq - n * special.digamma(q) + n * np.log(gamma) - sum_log_spend,
                n * q / gamma - p * sum_x_inverse - q * sum_inverse,
            ]
        )
        h_pp = counts @ (levels**2 * (tri_pxq - tri_px))
        h_pq = counts @ (levels * tri_pxq)
        h_qq = counts @ tri_pxq - n * special.polygamma(1, q)
        h_pg = -sum_x_inverse
        h_qg = n / gamma - sum_inverse
        h_gg = (
            -n * q / gamma**2
            + p * weighted_sum(weighted_x, squared)
            + q * weighted_sum(weights, squared)
        )
        hessian = np.array([[h_pp, h_pq, h_pg], [h_pq, h_qq, h_qg], [h_pg, h_qg, h_gg]])
        return -float(loglik), -gradient, -hessian

    def mean_spend(self) -> float:
        """Population mean spend per transaction, ``p γ / (q - 1)`` (infinite if ``q <= 1``)."""
        p, q, gamma = self._require_fit()
        return float(p * gamma / (q - 1)) if q > 1 else float("inf")

    @interval_option("x", "monetary")
    def conditional_expected_spend(
        self,
        x: Any,
        monetary: Any,
        *,
        covariates: Any = None,
    ) -> Any:
        """Expected spend per transaction given ``x`` repeat purchases of mean ``monetary``.

        A weighted average of the population mean and the customer's own mean, the
        weight on her own mean growing with ``x``; customers with ``x == 0`` get the
        population mean. ``covariates``: the customers' covariate values (models
        with ``spend_covariates``); ``interval``: see the parameters below.
        """
        (x, monetary), is_scalar = broadcast_inputs(x, monetary)
        check_values(x, "x", low=0)
        own = np.where(x > 0, np.nan_to_num(monetary), 0.0)
        check_values(monetary[x > 0], "monetary (where x > 0)", low=0)
        (x, own, p, q, gamma), is_scalar = broadcast_inputs(
            x, own, *self._individual(covariates), scalar=is_scalar
        )
        value = p * (gamma + own * x) / (p * x + q - 1)
        return as_output(value, is_scalar)

    def simulate(self, x: Any, seed: int | None = 0, *, covariates: Any = None) -> np.ndarray:
        """Draw each customer's mean spend over her ``x`` transactions (NaN where x is 0).

        Each customer's rate ``nu`` is drawn from Gamma(q, gamma); the mean of ``x``
        independent Gamma(p, nu) spends is Gamma(p x, nu x).

        >>> gg = GammaGamma().set_params(p=6.25, q=3.74, gamma=15.44)
        >>> spend = gg.simulate([0, 3], seed=1)
        >>> bool(np.isnan(spend[0])), bool(spend[1] > 0)
        (True, True)
        """
        p, q, gamma = self._individual(covariates)
        counts = np.asarray(x, dtype=float)
        if np.any(counts < 0) or np.any(counts != np.round(counts)):
            raise ValueError("x must hold whole numbers >= 0")
        rng = np.random.default_rng(seed)
        rate = rng.gamma(q, 1.0 / gamma, counts.shape)
        safe = np.maximum(counts, 1.0)
        mean_spend = rng.gamma(p * safe, 1.0 / (rate * safe))
        return np.where(counts > 0, mean_spend, np.nan)
