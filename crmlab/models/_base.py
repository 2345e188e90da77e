"""What every crmlab model shares: maximum likelihood, standard errors, the summary table.

A model subclass names its parameters, says how to read its data into arrays, and
writes its log-likelihood per data row. This base then

* compresses identical rows into one with a weight (CDNOW's 2,357 customers have
  about a thousand distinct (x, t_x, T) rows), so a fit costs the same on a million
  customers as on the distinct rows among them;
* maximises the weighted log-likelihood over the logarithms of the parameters
  (they are all positive) with :func:`scipy.optimize.minimize`, from several starts;
* estimates standard errors from the inverse Hessian of the negative
  log-likelihood at the optimum, and Wald confidence intervals;
* flags parameters that run off towards 0 or infinity, and says so when the
  optimiser did not converge.

Writing a model takes three methods (see :class:`MLEModel`)::

    class Exponential(MLEModel):
        param_names = ("rate",)                      # all positive; fitted on log scale

        def _read(self, data, weights):              # validate, return arrays + weights
            columns, weights, _ = read_rfm_frame(data, weights, columns=("y",))
            return columns, weights

        def _loglik_rows(self, params, y):           # log-likelihood of each row
            (rate,) = params
            return np.log(rate) - rate * y

        def _starts(self, columns, weights):         # optional: starting points
            return [np.array([1 / np.average(columns["y"], weights=weights)])]

and every model then has ``fit(data, weights=None, starts=None, compress=True)``,
``params``, ``loglik``, ``n_obs``, ``converged``, ``standard_errors``,
``covariance``, ``confidence_intervals(level)``, ``summary(level)``,
``set_params(**values)`` and ``log_likelihood(data)``. Predictions use
:func:`broadcast_inputs` and :func:`as_output` so that scalars give scalars and a NaN
is never returned silently. ``tests/test_models_base.py`` fits the model above.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from crmlab import _validate
from crmlab._units import to_unit, unit_length_days
from crmlab._validate import Problem, first_rows, raise_problems

__all__ = [
    "ConvergenceWarning",
    "IgnoredColumnsWarning",
    "MLEModel",
    "RFMModel",
    "as_float_array",
    "check_rfm",
    "compress_rows",
]

#: Parameters below this or above its inverse are flagged as at the boundary.
BOUNDARY = 1e-4


class ConvergenceWarning(UserWarning):
    """The optimiser stopped without meeting its convergence test."""


class IgnoredColumnsWarning(UserWarning):
    """The data hold columns that the model does not use (it has no covariates)."""


#: Columns crmlab's own summaries carry beside the ones a model reads: never warned about.
SUMMARY_COLUMNS = frozenset(
    {
        "x",
        "t_x",
        "T",
        "n",
        "monetary",
        "zbar",
        "weight",
        "x_holdout",
        "duration_holdout",
        "monetary_holdout",
    }
)


def as_float_array(values: Any, name: str) -> np.ndarray:
    """Convert ``values`` to a float array, refusing text with a message naming ``name``.

    >>> as_float_array([1, 2], "x")
    array([1., 2.])
    """
    try:
        return np.asarray(values, dtype="float64")
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be numeric: {error}") from None


def check_rfm(
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,
    index: Sequence[Any] | None = None,
    *,
    names: tuple[str, str, str] = ("x", "t_x", "T"),
) -> None:
    """Refuse impossible (x, t_x, T) rows with a message naming column and rows.

    Checks: no NaN, no negative value, integer ``x``, ``t_x <= T``, and ``t_x > 0``
    whenever ``x > 0`` (a repeat purchase cannot happen at the moment of the first).

    >>> check_rfm(np.array([1.0]), np.array([5.0]), np.array([4.0]))
    Traceback (most recent call last):
    ...
    crmlab._validate.InputError: columns 't_x', 'T': 1 row(s) with t_x > T: row 0: (5.0, 4.0). ...
    """
    x_name, tx_name, T_name = names
    problems = []
    fix = "Build the summary with crmlab.transactions.summarize, which gives valid (x, t_x, T)"
    for values, name in ((x, x_name), (t_x, tx_name), (T, T_name)):
        bad = ~np.isfinite(values)
        if bad.any():
            problems.append(
                Problem(
                    f"column {name!r}",
                    int(bad.sum()),
                    "missing or infinite value(s)",
                    first_rows(bad, values, labels=index),
                    fix,
                )
            )
        with np.errstate(invalid="ignore"):
            bad = values < 0
        if bad.any():
            problems.append(
                Problem(
                    f"column {name!r}",
                    int(bad.sum()),
                    "negative value(s)",
                    first_rows(bad, values, labels=index),
                    fix,
                )
            )
    with np.errstate(invalid="ignore"):
        bad = np.isfinite(x) & (x != np.round(x))
        if bad.any():
            problems.append(
                Problem(
                    f"column {x_name!r}",
                    int(bad.sum()),
                    "value(s) are not whole numbers (x counts transactions)",
                    first_rows(bad, x, labels=index),
                    fix,
                )
            )
        bad = t_x > T * (1 + 1e-12)
        if bad.any():
            problems.append(
                Problem(
                    f"columns {tx_name!r}, {T_name!r}",
                    int(bad.sum()),
                    f"row(s) with {tx_name} > {T_name}",
                    first_rows(bad, t_x, T, labels=index),
                    f"{tx_name} is the time of the last purchase, within the {T_name} observed",
                )
            )
        bad = (x > 0) & (t_x <= 0)
        if bad.any():
            problems.append(
                Problem(
                    f"columns {x_name!r}, {tx_name!r}",
                    int(bad.sum()),
                    f"row(s) with {x_name} > 0 but {tx_name} = 0 (a repeat purchase must "
                    "come after the first)",
                    first_rows(bad, x, t_x, labels=index),
                    "With summarize(..., merge='none') give times that tell a customer's "
                    "purchases apart, or merge='day'",
                )
            )
    raise_problems(problems)


def compress_rows(
    columns: Mapping[str, np.ndarray], weights: np.ndarray
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Merge identical rows of ``columns``, adding up their weights.

    Each column is hashed to integer codes, the codes are combined into one key, and
    rows sharing a key are merged: linear in the number of rows.

    >>> cols, w = compress_rows({"x": np.array([1., 1., 2.])}, np.ones(3))
    >>> cols["x"].tolist(), w.tolist()
    ([1.0, 2.0], [2.0, 1.0])
    """
    names = list(columns)
    key = np.zeros(len(weights), dtype=np.int64)
    for name in names:
        codes, uniques = pd.factorize(columns[name], sort=True)
        key = key * len(uniques) + codes
    row_of_key, first_row = np.unique(key, return_index=True)
    inverse = np.searchsorted(row_of_key, key)
    summed = np.bincount(inverse, weights=weights, minlength=len(row_of_key))
    return {name: np.asarray(columns[name])[first_row] for name in names}, summed


def value_levels(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of ``values`` and, for each element, the index of its value."""
    unique, inverse = np.unique(values, return_inverse=True)
    return unique, inverse.ravel()


def by_level(func: Any, values: np.ndarray, levels: tuple[np.ndarray, np.ndarray] | None) -> Any:
    """``func(values)``, computed once per distinct value when ``levels`` are known.

    A million customers have only dozens of distinct ``x`` and hundreds of distinct
    ``T``; evaluating special functions on those alone makes a fit cost little more
    than on the CDNOW sample.

    >>> v = np.array([2.0, 1.0, 2.0])
    >>> by_level(np.sqrt, v, value_levels(v)).tolist() == np.sqrt(v).tolist()
    True
    """
    if levels is None:
        return func(values)
    unique, inverse = levels
    return func(unique)[inverse]


def numerical_hessian(func: Any, point: np.ndarray, relative_step: float = 1e-3) -> np.ndarray:
    """Central-difference Hessian of ``func`` at ``point``, Richardson-extrapolated.

    Differences with steps ``h`` and ``2h`` are combined as ``(4 H(h) - H(2h)) / 3``,
    which cancels the ``h**2`` error term. A log-likelihood summed over thousands of
    customers carries rounding noise of about 1e-12, so small steps amplify noise and
    large ones bias; with extrapolation a step of 1e-3 (relative) keeps both near 1e-7
    and standard errors do not change with the machine's last bits.

    >>> h = numerical_hessian(lambda v: v[0] ** 2 + 3 * v[0] * v[1], np.array([1.0, 2.0]))
    >>> np.round(h, 4).tolist()
    [[2.0, 3.0], [3.0, 0.0]]
    """
    point = np.asarray(point, dtype="float64")
    steps = relative_step * np.maximum(np.abs(point), 1e-2)
    fine, coarse = _central_hessian(func, point, steps), _central_hessian(func, point, 2 * steps)
    # At a boundary both can be infinite; the caller then reports no covariance.
    with np.errstate(invalid="ignore"):
        return (4 * fine - coarse) / 3


def _central_hessian(func: Any, point: np.ndarray, steps: np.ndarray) -> np.ndarray:
    size = len(point)
    hessian = np.empty((size, size))
    for i in range(size):
        for j in range(i, size):
            total = 0.0
            for si, sj, sign in ((1, 1, 1), (1, -1, -1), (-1, 1, -1), (-1, -1, 1)):
                shifted = point.copy()
                shifted[i] += si * steps[i]
                shifted[j] += sj * steps[j]
                total += sign * func(shifted)
            hessian[i, j] = hessian[j, i] = total / (4 * steps[i] * steps[j])
    return hessian


def _newton_polish(
    objective: Any, point: np.ndarray, value: float, steps: int = 1
) -> tuple[np.ndarray, float]:
    """Newton steps from near a minimum, with central-difference derivatives.

    BFGS stops wherever its forward-difference gradients look flat, and where that is
    depends on the last bits of every evaluation: on another machine a fit may end
    1e-5 (relative) away. Newton steps from there land on the minimum itself, which
    moves with those bits by only about 1e-8, so printed estimates and forecasts are
    the same everywhere. A step that does not lower the objective is not taken.
    """
    size, h = len(point), 1e-4
    for _ in range(steps):
        gradient = np.empty(size)
        for i in range(size):
            shift = np.zeros(size)
            shift[i] = h
            gradient[i] = (objective(point + shift) - objective(point - shift)) / (2 * h)
        hessian = _central_hessian(objective, point, np.full(size, 1e-3))
        try:
            step = np.linalg.solve(hessian, gradient)
            np.linalg.cholesky(hessian)  # a minimum: the Hessian is positive definite
        except np.linalg.LinAlgError:
            break
        candidate = point - step
        candidate_value = objective(candidate)
        if not (np.all(np.isfinite(candidate)) and candidate_value <= value + 1e-12 * abs(value)):
            break
        point, value = candidate, candidate_value
    return point, value


class MLEModel:
    """Base class: subclasses set ``param_names`` and write ``_loglik_rows``.

    Subclasses implement

    * ``_read(data, weights) -> (columns: dict[str, ndarray], weights: ndarray)``,
      validating the input;
    * ``_loglik_rows(params: ndarray, **columns) -> ndarray``, the log-likelihood of
      each row;
    * ``_starts(columns, weights) -> list[ndarray]``, starting points (natural scale).
    """

    param_names: ClassVar[tuple[str, ...]] = ()
    paper: ClassVar[str] = ""
    #: Columns whose distinct values the likelihood may use (passed as ``<name>_levels``).
    level_columns: ClassVar[tuple[str, ...]] = ()
    #: Columns of a data frame the model reads (the rest are reported as ignored).
    data_columns: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        self._estimate: np.ndarray | None = None
        self.loglik: float = float("nan")
        self.n_obs: float = 0.0
        self.n_rows: int = 0
        self.converged: bool = False
        self.message: str = ""
        #: Time unit of the data the model was fitted on (``attrs["unit"]`` of a
        #: summary), or None when the data did not say; set it by hand if need be.
        self.unit: str | None = None
        self._covariance: np.ndarray | None = None
        # The fitted data, kept until the covariance is first asked for: the Hessian
        # costs as much as the fit itself, and many fits never need it.
        self._pending_covariance: tuple[dict[str, np.ndarray], np.ndarray] | None = None

    # ----- what subclasses provide -------------------------------------------------
    def _read(
        self, data: Any, weights: Any | None
    ) -> tuple[dict[str, np.ndarray], np.ndarray]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _loglik_rows(self, params: np.ndarray, **columns: np.ndarray) -> np.ndarray:
        raise NotImplementedError  # pragma: no cover - abstract

    def _starts(self, columns: dict[str, np.ndarray], weights: np.ndarray) -> list[np.ndarray]:
        return [np.ones(len(self.param_names))]

    # ----- fitting -----------------------------------------------------------------
    def fit(
        self,
        data: Any,
        weights: Any | None = None,
        *,
        starts: Sequence[Mapping[str, float]] | None = None,
        compress: bool = True,
    ) -> MLEModel:
        """Estimate the parameters by maximum likelihood and return ``self``.

        Parameters
        ----------
        data
            The model's data (see the subclass).
        weights : array-like, optional
            Number of customers each row stands for (default 1 each; a ``weight``
            column of ``data`` is used when present).
        starts : list of dict, optional
            Starting values to try instead of the built-in ones.
        compress : bool
            Merge identical rows before fitting (same answer, faster).
        """
        columns, row_weights = self._read(data, weights)
        self._warn_ignored_columns(data, weights)
        self.unit = self._data_unit(data)
        if compress and len(row_weights) > 1:
            columns, row_weights = compress_rows(columns, row_weights)
        self.n_rows = len(row_weights)
        self.n_obs = float(row_weights.sum())
        for name in self.level_columns:
            columns[f"{name}_levels"] = value_levels(columns[name])
        if self.n_obs <= 0:
            raise ValueError("nothing to fit: the data hold no customers (all weights are 0)")
        start_points = (
            [np.array([start[name] for name in self.param_names], dtype=float) for start in starts]
            if starts
            else self._starts(columns, row_weights)
        )
        self._optimise(columns, row_weights, start_points)
        return self

    def _warn_ignored_columns(self, data: Any, weights: Any | None) -> None:
        """Say which columns of ``data`` the fit leaves out: silence would suggest covariates."""
        if not isinstance(data, pd.DataFrame) or not self.data_columns:
            return
        used = set(self.data_columns) | SUMMARY_COLUMNS
        ignored = [str(column) for column in data.columns if column not in used]
        if ignored:
            warnings.warn(
                f"{type(self).__name__} ignores column(s) "
                f"{', '.join(repr(c) for c in ignored)}: it reads only "
                f"{', '.join(repr(c) for c in self.data_columns)} and has no covariates. To "
                "compare groups, fit one model per group (e.g. for each value of a segment "
                "column); drop the columns to silence this warning.",
                IgnoredColumnsWarning,
                stacklevel=3,
            )

    def _data_unit(self, data: Any) -> str | None:
        unit = getattr(data, "attrs", {}).get("unit") if isinstance(data, pd.DataFrame) else None
        if unit is not None:
            unit_length_days(unit)
        return unit

    def _check_unit(self, data: Any, what: str = "the data") -> None:
        """Refuse data in another time unit than the fit's: mixing units is never rescaled."""
        unit = self._data_unit(data)
        if unit is not None and self.unit is not None and unit != self.unit:
            raise ValueError(
                f"{what} are in unit {unit!r} but {type(self).__name__} was fitted in "
                f"{self.unit!r}; summarise the log again with unit={self.unit!r} (or refit "
                "the model on this summary). crmlab never rescales silently."
            )

    def _in_unit(self, t: Any, name: str = "t") -> Any:
        """A time argument in the model's unit: numbers as given, '1Y' or (12, 'M') converted."""
        if isinstance(t, str | tuple):
            return to_unit(t, self.unit, name)
        return t

    def _total_negloglik(
        self, log_params: np.ndarray, columns: dict[str, np.ndarray], weights: np.ndarray
    ) -> float:
        params = np.exp(np.clip(log_params, -30, 30))
        with np.errstate(all="ignore"):
            rows = self._loglik_rows(params, **columns)
        value = -float(np.dot(weights, rows))
        return value if np.isfinite(value) else 1e300

    def _optimise(
        self, columns: dict[str, np.ndarray], weights: np.ndarray, start_points: list[np.ndarray]
    ) -> None:
        from scipy.optimize import minimize

        scale = self.n_obs

        def objective(log_params: np.ndarray) -> float:
            return self._total_negloglik(log_params, columns, weights) / scale

        for start in start_points:
            if np.any(np.asarray(start) <= 0):
                raise ValueError(f"starting values must be positive, got {start}")
        # Begin from the most likely start; the others are tried only if it fails.
        ordered = sorted(start_points, key=lambda start: objective(np.log(start)))
        best = None
        for start in ordered:
            result = minimize(objective, np.log(start), method="BFGS", options={"gtol": 1e-7})
            if not result.success:
                # BFGS trips on flat ridges; Nelder-Mead polishes from where it stopped.
                polished = minimize(
                    objective,
                    result.x,
                    method="Nelder-Mead",
                    options={"xatol": 1e-9, "fatol": 1e-12, "maxiter": 4000},
                )
                if polished.fun <= result.fun:
                    result = polished
            if best is None or result.fun < best.fun:
                best = result
            if best.success:
                break
        assert best is not None
        if best.success:
            best.x, best.fun = _newton_polish(objective, best.x, best.fun)
        self._estimate = np.exp(best.x)
        self.loglik = float(-best.fun * scale)
        self.converged = bool(best.success) and np.isfinite(self.loglik)
        self.message = str(best.message)
        self._covariance = None
        self._pending_covariance = (columns, weights)
        at_boundary = [
            name
            for name, value in zip(self.param_names, self._estimate, strict=True)
            if value < BOUNDARY or value > 1 / BOUNDARY
        ]
        if at_boundary:
            warnings.warn(
                f"{type(self).__name__}: parameter(s) {', '.join(at_boundary)} ran to the "
                "edge of their range; the data may not show what the model describes (for "
                "example no sign of customers dropping out). Predictions from this fit may be "
                "unreliable: see summary(), and try more data or another model.",
                ConvergenceWarning,
                stacklevel=3,
            )
        if not self.converged:
            warnings.warn(
                f"{type(self).__name__}: the optimiser did not converge ({self.message}). "
                "Try other starting values with fit(..., starts=[{...}]), more data, "
                "or check the data summary for oddities.",
                ConvergenceWarning,
                stacklevel=3,
            )

    def _covariance_at(
        self, estimate: np.ndarray, columns: dict[str, np.ndarray], weights: np.ndarray
    ) -> np.ndarray | None:
        def negloglik(params: np.ndarray) -> float:
            if np.any(params <= 0):
                return np.inf
            with np.errstate(all="ignore"):
                return -float(np.dot(weights, self._loglik_rows(params, **columns)))

        hessian = numerical_hessian(negloglik, estimate)
        try:
            covariance = np.linalg.inv(hessian)
        except np.linalg.LinAlgError:
            return None
        if not np.all(np.isfinite(covariance)) or np.any(np.diag(covariance) <= 0):
            return None
        return covariance

    # ----- results -----------------------------------------------------------------
    def _require_fit(self) -> np.ndarray:
        if self._estimate is None:
            raise RuntimeError(
                f"{type(self).__name__} is not fitted yet: call .fit(data) or set_params(...)"
            )
        return self._estimate

    @property
    def params(self) -> dict[str, float]:
        """The estimates, by name."""
        estimate = self._require_fit()
        return {name: float(value) for name, value in zip(self.param_names, estimate, strict=True)}

    def set_params(self, *, unit: str | None = None, **params: float) -> MLEModel:
        """Use given parameter values (for example published ones) without fitting.

        ``unit`` is the time unit the values are per (e.g. ``"W"`` for the published
        CDNOW estimates); without it the model keeps the unit it had.

        >>> from crmlab.models import BGNBD
        >>> BGNBD().set_params(r=0.243, alpha=4.414, a=0.793, b=2.426).params["b"]
        2.426
        """
        missing = [name for name in self.param_names if name not in params]
        unknown = [name for name in params if name not in self.param_names]
        if missing or unknown:
            raise ValueError(
                f"{type(self).__name__} takes parameters {', '.join(self.param_names)}; "
                f"missing {missing}, unknown {unknown}"
            )
        values = np.array([params[name] for name in self.param_names], dtype=float)
        if np.any(~np.isfinite(values)) or np.any(values <= 0):
            raise ValueError(f"parameters must be positive and finite, got {params}")
        if unit is not None:
            unit_length_days(unit)
            self.unit = unit
        self._estimate = values
        self._covariance = None
        self._pending_covariance = None
        self.converged = True
        return self

    def log_likelihood(self, data: Any, weights: Any | None = None) -> float:
        """Total log-likelihood of ``data`` at the current parameters.

        Useful to compare estimates from elsewhere (a paper, another library) on
        the same footing.

        >>> import crmlab as cl
        >>> s = cl.datasets.load_cdnow_published_summary()
        >>> m = cl.models.BGNBD().set_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
        >>> round(m.log_likelihood(s), 1)
        -9582.4
        """
        estimate = self._require_fit()
        self._check_unit(data)
        columns, row_weights = self._read(data, weights)
        return float(np.dot(row_weights, self._loglik_rows(estimate, **columns)))

    def _fitted_covariance(self) -> np.ndarray | None:
        estimate = self._require_fit()
        if self._pending_covariance is not None:
            columns, weights = self._pending_covariance
            self._covariance = self._covariance_at(estimate, columns, weights)
            self._pending_covariance = None
        return self._covariance

    @property
    def covariance(self) -> pd.DataFrame:
        """Estimated covariance of the parameters (inverse Hessian), NaN when unavailable."""
        covariance = self._fitted_covariance()
        values = np.full((len(self.param_names),) * 2, np.nan) if covariance is None else covariance
        return pd.DataFrame(values, index=list(self.param_names), columns=list(self.param_names))

    @property
    def standard_errors(self) -> dict[str, float]:
        """Standard errors from the inverse Hessian (NaN when it is not invertible)."""
        covariance = self._fitted_covariance()
        if covariance is None:
            return dict.fromkeys(self.param_names, float("nan"))
        errors = np.sqrt(np.diag(covariance))
        return {name: float(se) for name, se in zip(self.param_names, errors, strict=True)}

    def confidence_intervals(self, level: float = 0.95) -> pd.DataFrame:
        """Wald confidence intervals ``estimate ± z * se``, floored at 0."""
        from scipy.stats import norm

        if not 0 < level < 1:
            raise ValueError(f"level must lie between 0 and 1, got {level}")
        z = norm.ppf(0.5 + level / 2)
        estimate = pd.Series(self.params)
        se = pd.Series(self.standard_errors)
        return pd.DataFrame(
            {"lower": (estimate - z * se).clip(lower=0.0), "upper": estimate + z * se}
        )

    def summary(self, level: float = 0.95) -> pd.DataFrame:
        """Estimates, standard errors, confidence intervals and boundary flags."""
        estimate = pd.Series(self.params, name="estimate")
        table = pd.DataFrame({"estimate": estimate, "se": pd.Series(self.standard_errors)})
        table = table.join(self.confidence_intervals(level))
        table["at_boundary"] = (estimate < BOUNDARY) | (estimate > 1 / BOUNDARY)
        table.index.name = "parameter"
        table.attrs["loglik"] = self.loglik
        table.attrs["n_obs"] = self.n_obs
        table.attrs["converged"] = self.converged
        table.attrs["unit"] = self.unit
        # Shown above the table, so that a printed summary says what alpha is per.
        table.columns.name = f"time unit: {self.unit or 'not recorded'}"
        return table

    def __repr__(self) -> str:
        if self._estimate is None:
            return f"{type(self).__name__}(not fitted)"
        shown = ", ".join(f"{name}={value:.4g}" for name, value in self.params.items())
        loglik = "" if np.isnan(self.loglik) else f", loglik={self.loglik:.2f}"
        unit = f", unit={self.unit!r}" if self.unit is not None else ""
        return f"{type(self).__name__}({shown}{loglik}{unit})"


class RFMModel(MLEModel):
    """A model of repeat purchasing fed by (x, t_x, T) rows, as from ``summarize``.

    The fitted model keeps the time unit of its summary (``unit``); time arguments
    of its predictions may then carry a unit: ``"1Y"``, ``"26W"`` or ``(12, "M")``
    (see :mod:`crmlab._units`). A plain number is in the model's unit.
    """

    data_columns: ClassVar[tuple[str, ...]] = ("x", "t_x", "T")

    def _read(self, data: Any, weights: Any | None) -> tuple[dict[str, np.ndarray], np.ndarray]:
        columns, row_weights, index = read_rfm_frame(data, weights)
        check_rfm(columns["x"], columns["t_x"], columns["T"], index)
        return columns, row_weights

    def _mean_purchase_rate(self, columns: dict[str, np.ndarray], weights: np.ndarray) -> float:
        """Average repeat purchases per unit of time, a natural scale for starting values."""
        rates = columns["x"] / np.maximum(columns["T"], 1e-9)
        return max(float(np.average(rates, weights=weights)), 1e-3)

    def score(self, summary: Any, t: float, **options: Any) -> Any:
        """P(alive), expected purchases (and spend, CLV) for every customer of ``summary``.

        See :func:`crmlab.scoring.score`: chunked in memory, to Parquet with
        ``output=``, or in Spark for a Spark DataFrame.
        """
        from crmlab.scoring import score

        return score(self, summary, t, **options)


def read_rfm_frame(
    data: Any, weights: Any | None, columns: Sequence[str] = ("x", "t_x", "T")
) -> tuple[dict[str, np.ndarray], np.ndarray, Sequence[Any] | None]:
    """Pull the named columns (and ``weight``) out of a DataFrame or mapping of arrays."""
    if isinstance(data, pd.DataFrame):
        missing = [name for name in columns if name not in data.columns]
        if missing:
            raise ValueError(
                f"the data lack column(s) {missing}; they have {list(map(str, data.columns))}"
            )
        arrays = {name: as_float_array(data[name].to_numpy(), name) for name in columns}
        index: Sequence[Any] | None = data.index
        if weights is None and "weight" in data.columns:
            weights = data["weight"].to_numpy()
    elif isinstance(data, Mapping):
        arrays = {name: np.atleast_1d(as_float_array(data[name], name)) for name in columns}
        index = None
    else:
        raise TypeError(
            f"expected a DataFrame with columns {list(columns)} or a dict of arrays, "
            f"got {type(data).__name__}"
        )
    size = len(next(iter(arrays.values())))
    if weights is None:
        row_weights = np.ones(size)
    else:
        row_weights = np.broadcast_to(as_float_array(weights, "weights"), (size,)).astype(float)
        bad = ~np.isfinite(row_weights) | (row_weights < 0)
        if bad.any():
            raise ValueError(
                "weights must be finite and non-negative: "
                f"{first_rows(bad, row_weights, labels=index)}"
            )
    return arrays, row_weights, index


def broadcast_inputs(*values: Any) -> tuple[list[np.ndarray], bool]:
    """Broadcast prediction inputs like numpy; remember whether all were scalars."""
    return _validate.broadcast(*values)


def as_output(values: np.ndarray, is_scalar: bool, what: str = "the prediction") -> Any:
    """Return a float for scalar inputs, the array otherwise; refuse silent NaN."""
    return _validate.as_output(values, is_scalar, what)
