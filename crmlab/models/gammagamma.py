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

    def _loglik_rows(self, params: Any, x: np.ndarray, monetary: np.ndarray) -> np.ndarray:
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

    def _gradient_rows(self, params: Any, x: np.ndarray, monetary: np.ndarray) -> list[np.ndarray]:
        """Exact derivatives of each row's log-likelihood in p, q and gamma (digammas)."""
        p, q, gamma = params
        px = p * x
        psi_pxq = special.digamma(px + q)
        log_total = np.log(gamma + monetary * x)
        d_p = x * (psi_pxq - special.digamma(px) + np.log(monetary) + np.log(x) - log_total)
        d_q = psi_pxq - special.digamma(q) + np.log(gamma) - log_total
        d_gamma = q / gamma - (px + q) / (gamma + monetary * x)
        return [d_p, d_q, d_gamma]

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
