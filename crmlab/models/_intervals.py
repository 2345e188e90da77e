"""Intervals for per-customer predictions, from the uncertainty of the parameters.

Two ways to draw parameter sets, both seeded:

* ``method="normal"`` (default, fast): draws from the asymptotic normal distribution
  of the maximum-likelihood estimate, taken on the scale each parameter is fitted
  on (log for positive ones, so draws stay positive). The covariance there is
  ``J C J'`` with ``C`` the inverse Hessian and ``J`` the slope of the transform
  (the delta method). CLVTools previews the same "fast bootstrap" (advanced
  techniques vignette, §7).
* ``method="bootstrap"``: resample the customers with replacement and refit, as
  CLVTools' ``predict(uncertainty="boots")`` does. Resampling the compressed rows
  with multinomial counts over their weights is the same as resampling customers,
  at the cost of the distinct rows only.

The prediction is evaluated at each parameter set, and the interval is the
central ``level`` share of those values. It states how much the forecast for a
customer moves with what the data left uncertain about the parameters, not the
spread of what she will actually do.

Reference: Efron, B., & Tibshirani, R. J. (1993). *An introduction to the
bootstrap*. Chapman & Hall.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from crmlab.models._record import Fit

if TYPE_CHECKING:
    from crmlab.models._base import MLEModel

__all__ = ["METHODS", "parameter_draws", "with_interval"]

METHODS = ("normal", "bootstrap")


def parameter_draws(
    model: MLEModel, draws: int, method: str = "normal", seed: int | None = 0
) -> np.ndarray:
    """``draws`` parameter sets (rows, natural scale) for the fitted ``model``.

    >>> import crmlab as cl
    >>> m = cl.models.BGNBD().fit(cl.datasets.load_cdnow_published_summary())
    >>> parameter_draws(m, 3).shape
    (3, 4)
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if draws < 2:
        raise ValueError(f"draws must be at least 2, got {draws}")
    estimate = model._require_fit()
    result = model.result
    assert result is not None
    if result.data is None:
        raise ValueError(
            f"{type(model).__name__} holds parameters set by hand: an interval needs the "
            "uncertainty of a fit; call fit(data) first"
        )
    rng = np.random.default_rng(seed)
    if method == "normal":
        covariance = result.covariance
        if covariance is None:
            raise ValueError(
                f"{type(model).__name__}: the Hessian at the estimate is not invertible (a "
                "parameter at the edge of its range?), so there is no normal approximation; "
                "use method='bootstrap' or see summary()"
            )
        slope = np.array([p.free_slope(v) for p, v in zip(model.parameters, estimate, strict=True)])
        free_covariance = covariance * np.outer(slope, slope)
        free = rng.multivariate_normal(model._to_free(estimate), free_covariance, size=draws)
        return np.array([model._from_free(row) for row in free])
    columns, weights = result.data
    n = int(np.rint(weights.sum()))
    share = weights / weights.sum()
    sets = []
    with warnings.catch_warnings():
        # A resample may sit on a flat ridge; its refit still counts as a draw.
        warnings.simplefilter("ignore")
        for _ in range(draws):
            counts = rng.multinomial(n, share).astype(float)
            refit = model._optimise(columns, counts, [estimate], float(n))
            sets.append(refit.estimate)
    return np.array(sets)


def with_interval(
    model: MLEModel,
    predict: Callable[[MLEModel], Any],
    level: float,
    *,
    method: str = "normal",
    draws: int | None = None,
    seed: int | None = 0,
    index: Any = None,
) -> pd.DataFrame:
    """``predict(model)`` with its lower and upper ``level`` bounds, one row per customer.

    ``draws`` defaults to 500 normal draws or 100 bootstrap refits.
    """
    if not 0 < level < 1:
        raise ValueError(f"interval must be a level between 0 and 1 (e.g. 0.9), got {level}")
    if draws is None:
        draws = 500 if method == "normal" else 100
    estimate = np.atleast_1d(np.asarray(predict(model), dtype=float)).ravel()
    sets = parameter_draws(model, draws, method, seed)
    clone = copy.copy(model)
    values = np.empty((len(sets), estimate.size))
    for row, params in enumerate(sets):
        clone.result = Fit(estimate=params)
        values[row] = np.asarray(predict(clone), dtype=float).ravel()
    tail = (1 - level) / 2
    lower, upper = np.quantile(values, [tail, 1 - tail], axis=0)
    if index is None or len(index) != estimate.size:
        index = pd.RangeIndex(estimate.size)
    table = pd.DataFrame({"estimate": estimate, "lower": lower, "upper": upper}, index=index)
    table.attrs.update(level=level, method=method, draws=draws)
    return table


def index_of(*values: Any) -> Any:
    """The index of the first pandas argument, to label the rows of an interval table."""
    for value in values:
        if isinstance(value, pd.Series | pd.Index):
            return value.index if isinstance(value, pd.Series) else value
    return None
