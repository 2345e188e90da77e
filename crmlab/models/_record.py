"""Parameters that declare their space, and a fit kept as one frozen record.

A parameter is fitted on an unbounded scale chosen by its space: a positive one
(``r``, ``alpha``) on the log scale, a real one (a covariate coefficient) as it is,
a probability on the logit scale. The optimiser then never steps out of the
parameter space, and the same declaration says which values are "at the boundary"
and where a confidence interval is floored.

A :class:`Fit` holds everything one estimation produced. ``fit`` and
``set_params`` each store a new one whole, so no attribute can outlive the
estimate it belongs to (a model given parameters by hand has no log-likelihood and
no convergence status, not those of an earlier fit).

>>> float(Param("r").to_free(np.e)), Param("gender", "real").to_free(-0.5)
(1.0, -0.5)
>>> record = Fit(np.array([1.0, 2.0]), loglik=-10.0, n_obs=5)
>>> record.loglik, record.aic(), record.converged
(-10.0, 24.0, None)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import numpy as np

__all__ = ["BOUNDARY", "Fit", "Param", "Space"]

#: Positive parameters below this or above its inverse are flagged as at the boundary.
BOUNDARY = 1e-4

Space = Literal["positive", "real", "unit"]


@dataclass(frozen=True)
class Param:
    """One parameter: its name and its space (``"positive"``, ``"real"`` or ``"unit"``)."""

    name: str
    space: Space = "positive"

    def __post_init__(self) -> None:
        if self.space not in ("positive", "real", "unit"):
            raise ValueError(f"unknown parameter space {self.space!r}")

    def to_free(self, value: Any) -> Any:
        """The value on the unbounded scale the optimiser works on."""
        if self.space == "positive":
            return np.log(value)
        if self.space == "unit":
            return np.log(value) - np.log1p(-value)
        return value

    def from_free(self, value: Any) -> Any:
        """Back from the optimiser's scale (clipped so that nothing overflows)."""
        if self.space == "positive":
            return np.exp(np.clip(value, -30, 30))
        if self.space == "unit":
            return 1 / (1 + np.exp(-np.clip(value, -30, 30)))
        return value

    def free_slope(self, value: Any) -> Any:
        """d(free)/d(value): how the covariance is carried to the free scale."""
        if self.space == "positive":
            return 1 / value
        if self.space == "unit":
            return 1 / (value * (1 - value))
        return np.ones_like(value)

    def inside(self, value: Any) -> Any:
        """Whether a value lies in the space (finite, and positive or in (0, 1))."""
        value = np.asarray(value, dtype=float)
        ok = np.isfinite(value)
        if self.space == "positive":
            ok &= value > 0
        elif self.space == "unit":
            ok &= (value > 0) & (value < 1)
        return ok

    def at_boundary(self, value: float) -> bool:
        """Whether an estimate ran to the edge of the space (a sign of a poor fit)."""
        if self.space == "positive":
            return bool(value < BOUNDARY or value > 1 / BOUNDARY)
        if self.space == "unit":
            return bool(value < BOUNDARY or value > 1 - BOUNDARY)
        return bool(abs(value) > 1 / BOUNDARY)

    @property
    def floor(self) -> float:
        """The lowest value a confidence interval may reach."""
        return -np.inf if self.space == "real" else 0.0


@dataclass(frozen=True)
class Fit:
    """What one estimation (or one ``set_params``) produced; never changed afterwards.

    ``covariance`` is computed on first use from ``covariance_source`` (the Hessian
    costs as much as the fit itself, and many fits never need it). ``data`` keeps
    the compressed rows a bootstrap resamples; it is None for parameters set by hand.
    """

    estimate: np.ndarray
    loglik: float = float("nan")
    n_obs: float = 0.0
    n_rows: int = 0
    converged: bool | None = None
    message: str = "parameters set by hand, not estimated"
    covariance_source: Callable[[], np.ndarray | None] | None = field(
        default=None, repr=False, compare=False
    )
    data: tuple[dict[str, np.ndarray], np.ndarray] | None = field(
        default=None, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        estimate = np.array(self.estimate, dtype=float)
        estimate.setflags(write=False)
        object.__setattr__(self, "estimate", estimate)

    @cached_property
    def covariance(self) -> np.ndarray | None:
        """Inverse Hessian of the negative log-likelihood, or None when unavailable."""
        if self.covariance_source is None:
            return None
        covariance = self.covariance_source()
        if covariance is not None:
            covariance.setflags(write=False)
        return covariance

    @property
    def n_params(self) -> int:
        """Number of estimated parameters."""
        return len(self.estimate)

    def aic(self) -> float:
        """Akaike's information criterion, ``2 k - 2 LL`` (NaN without a log-likelihood)."""
        return float(2 * self.n_params - 2 * self.loglik)

    def bic(self) -> float:
        """Schwarz's Bayesian criterion, ``k log(n) - 2 LL``, n = customers (or periods' counts)."""
        if self.n_obs <= 0:
            return float("nan")
        return float(self.n_params * np.log(self.n_obs) - 2 * self.loglik)
