"""What every crmlab model shares: maximum likelihood, standard errors, the summary table.

A model subclass names its parameters, says how to read its data into arrays, and
writes its log-likelihood per data row. This base then

* compresses identical rows into one with a weight (CDNOW's 2,357 customers have
  about a thousand distinct (x, t_x, T) rows), so a fit costs the same on a million
  customers as on the distinct rows among them; a Newton fit (below) skips that
  when a hash check (:func:`merge_share`) finds that few rows would merge;
* maximises the weighted log-likelihood with :func:`scipy.optimize.minimize`, from
  several starts, each parameter on the scale its space calls for (positive: log;
  real, such as a covariate coefficient: as is; a probability: logit), see
  :mod:`crmlab.models._record`;
* with a model's exact gradient (``_gradient_rows``, or ``_loglik_and_gradient_rows``
  sharing the work), runs BFGS on value and gradient together and ends with a Newton
  step whose Hessian is the gradient's central difference; a base of more than
  ``SUBSAMPLE_ROWS`` distinct rows starts from the fit of a seeded subsample and its
  curvature; a model that sums its likelihood, gradient and Hessian in closed form
  (``_exact_sums``: the Gamma-Gamma without covariates, the BG/NBD and MBG/NBD with
  or without, their per-row Hessians carried to the coefficients by
  :meth:`MLEModel._chain_rule_sums`) is fitted by damped Newton steps
  (:func:`damped_newton`), a large base starting from a subsample's estimate, and
  its standard errors come from that Hessian;
* keeps what a fit produced as one frozen :class:`Fit` record (``result``),
  replaced whole by the next ``fit`` or ``set_params``;
* estimates standard errors from the inverse Hessian of the negative
  log-likelihood at the optimum, and Wald confidence intervals;
* flags parameters that run off towards 0 or infinity, and says so when the
  optimiser did not converge.

Writing a model takes three methods (see :class:`MLEModel`)::

    class Exponential(MLEModel):
        param_names = ("rate",)                      # all positive; fitted on log scale

        def _read(self, data, weights):              # validate, return arrays + weights
            columns, weights, _ = read_columns(data, weights, columns=("y",))
            return columns, weights

        def _loglik_rows(self, params, y):           # log-likelihood of each row
            (rate,) = params
            return np.log(rate) - rate * y

        def _starts(self, columns, weights):         # optional: starting points
            return [np.array([1 / np.average(columns["y"], weights=weights)])]

and every model then has ``fit(data, weights=None, starts=None, compress="auto")``,
``params``, ``loglik``, ``n_obs``, ``converged``, ``aic()``, ``bic()``,
``standard_errors``, ``covariance``, ``confidence_intervals(level)``, ``summary(level)``,
``set_params(**values)`` and ``log_likelihood(data)``. Predictions use
:func:`broadcast_inputs` and :func:`as_output` so that scalars give scalars and a NaN
is never returned silently. ``tests/test_models_base.py`` fits the model above.
"""

from __future__ import annotations

import functools
import html
import itertools
import warnings
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any, ClassVar, Literal, Self

import numpy as np
import pandas as pd

from crmlab import _validate
from crmlab._units import to_unit, unit_length_days
from crmlab._validate import Problem, first_rows, raise_problems
from crmlab.models._covariates import covariate_key, read_covariates
from crmlab.models._record import BOUNDARY, Fit, Param, Space

__all__ = [
    "BOUNDARY",
    "ConvergenceWarning",
    "Fit",
    "IgnoredColumnsWarning",
    "MLEModel",
    "Param",
    "RFMModel",
    "SummaryTable",
    "as_float_array",
    "check_rfm",
    "compress_rows",
    "merge_share",
]


#: Above this many distinct rows a fit starts from the fit of this many of them.
SUBSAMPLE_ROWS = 20_000
#: Rows of the subsample whose estimate starts Newton's method on a large base. It
#: needs only a point near the end, not the curvature BFGS takes from its subsample.
#: BG/NBD on the researcher's log: from 5,000 rows four evaluations on all rows, from
#: 20,000 three, but the nine on the subsample cost a quarter as much (10 % less in all).
NEWTON_SUBSAMPLE_ROWS = 5_000
#: Where Newton's method stops on a subsample (gradient per customer, step): its
#: estimate differs from the whole base's by the sampling error, some 1e-2, so the
#: last steps to 1e-9 would only cost evaluations (two or three of eleven).
_SUBSAMPLE_NEWTON_TOLERANCE = (1e-5, 1e-4)

#: The largest move of a free parameter (a factor e for a positive one) that BFGS's
#: first step on the outer-product start may propose; beyond it the outer product is
#: no picture of the curvature (see :meth:`MLEModel._outer_product_inverse`).
_BHHH_MAX_STEP = 1.0


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

    Checks: no NaN, no negative value, integer ``x``, ``t_x <= T``, ``t_x > 0``
    whenever ``x > 0`` (a repeat purchase cannot happen at the moment of the first)
    and ``t_x = 0`` whenever ``x = 0`` (no repeat purchase, so no time of the last).

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
        bad = (x == 0) & (t_x > 0)
        if bad.any():
            problems.append(
                Problem(
                    f"columns {x_name!r}, {tx_name!r}",
                    int(bad.sum()),
                    f"row(s) with {x_name} = 0 but {tx_name} > 0 (a last repeat purchase "
                    "that never happened)",
                    first_rows(bad, x, t_x, labels=index),
                    f"{tx_name} is 0 for customers without repeat purchases; build the "
                    "summary with crmlab.transactions.summarize",
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
    rows sharing a key are merged: linear in the number of rows. The merged rows come
    in the order of their keys, each taken from its first row.

    >>> cols, w = compress_rows({"x": np.array([1., 1., 2.])}, np.ones(3))
    >>> cols["x"].tolist(), w.tolist()
    ([1.0, 2.0], [2.0, 1.0])
    """
    names = list(columns)
    key = np.zeros(len(weights), dtype=np.int64)
    for name in names:
        codes, uniques = pd.factorize(columns[name], sort=True)
        key = key * len(uniques) + codes
    # Hashing the key, then sorting only the distinct keys, costs a fraction of sorting
    # a million keys (np.unique) and gives the same rows in the same order.
    group, keys = pd.factorize(key, sort=False)
    first_row = np.empty(len(keys), dtype=np.int64)
    # Assignment with repeated indices keeps the last value: reversed, the first row.
    first_row[group[::-1]] = np.arange(len(key) - 1, -1, -1)
    order = np.argsort(keys, kind="stable")
    rank = np.empty(len(keys), dtype=np.int64)
    rank[order] = np.arange(len(keys))
    summed = np.bincount(rank[group], weights=weights, minlength=len(keys))
    first_row = first_row[order]
    return {name: np.asarray(columns[name])[first_row] for name in names}, summed


def row_groups(*columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows alike in ``columns``: the first row of each group, and each row's group.

    A likelihood term that depends on only some columns is then computed once per
    group, ``term(rows[first])[inverse]``, which gives the very same numbers.

    >>> first, inverse = row_groups(np.array([1.0, 2.0, 1.0]), np.array([5.0, 5.0, 5.0]))
    >>> first.tolist(), inverse.tolist()
    ([0, 1], [0, 1, 0])
    """
    found = _whole_number_levels(np.asarray(columns[0])) if len(columns) == 1 else None
    if found is not None:
        # Counts such as x: a table lookup instead of a sort, the same groups in the
        # same (ascending) order; each group's first row as np.unique gives it.
        inverse = found[1]
        first = np.empty(len(found[0]), dtype=np.intp)
        first[inverse[::-1]] = np.arange(len(inverse) - 1, -1, -1)
        return first, inverse
    key = np.zeros(len(columns[0]), dtype=np.int64)
    for column in columns:
        codes, uniques = pd.factorize(column, sort=True)
        key = key * len(uniques) + codes
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return first, inverse.ravel()


def _whole_number_levels(flat: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Distinct values and each element's index for whole numbers in a modest range, else None.

    A table lookup, linear in the number of elements (no sort).
    """
    if flat.size == 0 or flat.dtype.kind not in "fiu":
        return None
    low, high = float(flat.min()), float(flat.max())
    if not (0 <= low and high <= 4 * flat.size + 1024):
        return None
    codes = flat.astype(np.intp)
    if not np.array_equal(codes, flat):
        return None
    present = np.zeros(int(high) + 1, dtype=bool)
    present[codes] = True
    lookup = np.cumsum(present) - 1
    return np.flatnonzero(present).astype(flat.dtype), lookup[codes]


#: A fit by Newton's method on exact sums (a handful of evaluations) merges its rows
#: only when a hash check says more than this share of them would merge: below it
#: the merging costs more than the evaluations it saves (measured on the researcher's
#: log: with 10 % of the rows alike, compressing cost 13 % of a BG/NBD fit and 39 % of
#: a Gamma-Gamma one, and saved a tenth of five evaluations). Fits by BFGS, with
#: dozens of evaluations, always merge.
_MERGE_SHARE_FOR_NEWTON = 0.25
#: Rows of a base whose hashes :func:`merge_share` looks at (all of a smaller base).
_HASH_SAMPLE = 4096


def merge_share(columns: Mapping[str, np.ndarray]) -> float:
    """Estimated share of the rows that :func:`compress_rows` would merge away.

    Each row is hashed from the bits of its values, and only the rows whose hash
    falls in one slice of the hash range (about ``_HASH_SAMPLE`` of them) are
    counted. Identical rows hash alike, so a row and all its copies are in the
    slice or out of it together, which makes the share in the slice an estimate of
    the share overall; a random sample of rows would hardly ever catch two copies
    of a row and would call nearly any base distinct. Hash collisions can only make
    rows look alike (an estimate too high: compression then runs, and it is exact).

    >>> merge_share({"x": np.array([1.0, 1.0, 2.0, 3.0])})
    0.25
    >>> merge_share({"x": np.arange(10_000.0), "y": np.zeros(10_000)})
    0.0
    """
    arrays = [np.asarray(values) for values in columns.values()]
    n = len(arrays[0]) if arrays else 0
    if n == 0:
        return 0.0
    hashed = np.full(n, 0x9E3779B97F4A7C15, dtype=np.uint64)
    for values in arrays:
        # 0.0 and -0.0 hash apart: the estimate can only fall, never wrongly rise.
        hashed ^= np.ascontiguousarray(values, dtype=np.float64).view(np.uint64)
        hashed *= np.uint64(0xBF58476D1CE4E5B9)
        hashed ^= hashed >> np.uint64(31)
    bits = max(0, int(np.log2(n / _HASH_SAMPLE))) if n > 2 * _HASH_SAMPLE else 0
    if bits:
        hashed = hashed[hashed >> np.uint64(64 - bits) == 0]
    if len(hashed) == 0:
        return 0.0
    return 1.0 - len(pd.unique(hashed)) / len(hashed)


#: Distinct values of a sample above this share mean the values hardly repeat.
_DISTINCT_SHARE = 0.5
#: Elements sampled to judge whether grouping repeated values pays.
_SAMPLE = 2048


def value_levels(values: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The distinct values of ``values`` and each element's index, or None if they hardly repeat.

    Whole numbers in a modest range (counts such as ``x``) are grouped by a table
    lookup, in linear time. Other values are grouped with a sort, but only when a
    strided sample shows that they repeat: continuous ``t_x`` and ``T`` (times to
    the second, or a base that is not compressed) are nearly all distinct, and
    there the sort and the gather cost more than the function they would save.
    :func:`by_level` gives the same numbers either way.

    >>> unique, inverse = value_levels(np.array([2.0, 0.0, 2.0]))
    >>> unique.tolist(), inverse.tolist()
    ([0.0, 2.0], [1, 0, 1])
    >>> value_levels(np.linspace(0.5, 9.5, 5000)) is None
    True
    """
    values = np.asarray(values)
    if values.size == 0:
        return None
    flat = values.ravel()
    found = _whole_number_levels(flat)
    if found is not None:
        return found[0], found[1].reshape(values.shape)
    sample = flat[:: max(1, flat.size // _SAMPLE)]
    if len(np.unique(sample)) > _DISTINCT_SHARE * len(sample):
        return None
    # Hashing, then sorting the distinct values only: np.unique's numbers in a third
    # of its time (it sorts every element); NaN, which factorize leaves out, sorts.
    inverse, unique = pd.factorize(flat, sort=True)
    if len(unique) and inverse.min() < 0:
        unique, inverse = np.unique(flat, return_inverse=True)
    return np.asarray(unique), inverse.reshape(values.shape)


def by_level(
    func: Any, values: np.ndarray, levels: tuple[np.ndarray, np.ndarray] | None, axis: int = 0
) -> Any:
    """``func(values)``, computed once per distinct value when ``levels`` are known.

    A million customers have only dozens of distinct ``x`` and hundreds of distinct
    ``T``; evaluating special functions on those alone makes a fit cost little more
    than on the CDNOW sample. ``func`` must work element by element, with scalar
    parameters; ``levels=None`` (nothing to group, see :func:`value_levels`)
    evaluates it on every element. ``axis``: the axis of ``func``'s result that runs
    over the values (-1 for a function that stacks k terms as (k, values), which then
    come out as (k, rows), each term's row contiguous).

    >>> v = np.array([2.0, 1.0, 2.0])
    >>> by_level(np.sqrt, v, value_levels(v)).tolist() == np.sqrt(v).tolist()
    True
    """
    if levels is None:
        return func(values)
    unique, inverse = levels
    return np.take(func(unique), inverse, axis=axis)


#: Rows of one block of a Newton evaluation on a large base. A block's dozens of
#: temporaries then stay in the processor's cache: on the researcher's 100,000 rows an
#: evaluation in four blocks took 30 % less time than in one, and blocks of 4,096 rows
#: more (each block recomputes the terms of the distinct x).
_BLOCK_ROWS = 32_768


def _row_blocks(
    columns: Mapping[str, Any], weights: np.ndarray
) -> list[tuple[dict[str, Any], np.ndarray]]:
    """The rows in blocks of at most ``_BLOCK_ROWS``, as views, levels cut to match.

    One block when the base is small, or when the columns hold row groups (their
    first rows index the whole base, so they cannot be cut).
    """
    n = len(weights)
    count = -(-n // _BLOCK_ROWS)
    if count <= 1 or any(key.endswith("_groups") for key in columns):
        return [(dict(columns), weights)]
    bounds = np.linspace(0, n, count + 1).astype(int)
    blocks = []
    for low, high in itertools.pairwise(bounds):
        rows = slice(int(low), int(high))
        part: dict[str, Any] = {}
        for key, value in columns.items():
            if key.endswith("_levels"):
                part[key] = None if value is None else (value[0], value[1][rows])
            elif isinstance(value, np.ndarray) and value.shape[:1] == (n,):
                part[key] = value[rows]
            else:
                part[key] = value
        blocks.append((part, weights[rows]))
    return blocks


def _row_subset(columns: Mapping[str, Any], rows: Any) -> dict[str, np.ndarray]:
    """The data columns at ``rows`` (an index or a slice), without the fit's levels and groups."""
    return {
        key: value[rows]
        for key, value in columns.items()
        if not key.endswith(("_levels", "_groups"))
    }


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
    objective: Any,
    point: np.ndarray,
    value: float,
    steps: int = 1,
    gradient: Any | None = None,
) -> tuple[np.ndarray, float]:
    """Newton steps from near a minimum, on the exact gradient when there is one.

    BFGS stops wherever its gradients look flat, and where that is depends on the
    last bits of every evaluation: on another machine a fit may end 1e-5 (relative)
    away. Newton steps from there land on the minimum itself, which moves with those
    bits by only about 1e-8, so printed estimates and forecasts are the same
    everywhere. With an exact ``gradient`` the Hessian is its central difference
    (2 k gradients); without, both come from central differences of ``objective``
    (2 k + 2 k (k + 1) evaluations). A step that does not lower the objective is
    not taken.
    """
    for _ in range(steps):
        if gradient is None:
            slope, hessian = _difference_derivatives(objective, point)
        else:
            slope = gradient(point)
            hessian = _gradient_jacobian(gradient, point, 1e-5)
        try:
            step = np.linalg.solve(hessian, slope)
            np.linalg.cholesky(hessian)  # a minimum: the Hessian is positive definite
        except np.linalg.LinAlgError:
            break
        candidate = point - step
        candidate_value = objective(candidate)
        if not (np.all(np.isfinite(candidate)) and candidate_value <= value + 1e-12 * abs(value)):
            break
        point, value = candidate, candidate_value
    return point, value


def _difference_derivatives(objective: Any, point: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    size, h = len(point), 1e-4
    slope = np.empty(size)
    for i in range(size):
        shift = np.zeros(size)
        shift[i] = h
        slope[i] = (objective(point + shift) - objective(point - shift)) / (2 * h)
    return slope, _central_hessian(objective, point, np.full(size, 1e-3))


def weighted_sum(weights: np.ndarray, values: np.ndarray) -> float:
    """``sum(weights * values)`` without BLAS.

    ``np.dot`` hands long vectors to multi-threaded BLAS, which on a busy machine
    (more runnable processes than cores) waits for its threads: a 100,000-row dot
    product then takes milliseconds instead of microseconds, and a fit evaluates
    hundreds of them. numpy's own loop does not wait.

    >>> weighted_sum(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    11.0
    """
    return float(np.einsum("i,i->", weights, values))


def _gradient_jacobian(gradient: Any, point: np.ndarray, step: float | np.ndarray) -> np.ndarray:
    """Central differences of an exact gradient: a symmetric Hessian, error O(step²).

    ``step`` is one step for every coordinate, or one per coordinate.
    """
    size = len(point)
    steps = np.broadcast_to(step, (size,))
    hessian = np.empty((size, size))
    for i in range(size):
        shift = np.zeros(size)
        shift[i] = steps[i]
        hessian[:, i] = (gradient(point + shift) - gradient(point - shift)) / (2 * steps[i])
    return (hessian + hessian.T) / 2


def _log_scale(
    theta: np.ndarray,
    value: float,
    gradient: np.ndarray,
    hessian: np.ndarray,
    positive: np.ndarray | None = None,
) -> tuple[float, np.ndarray, np.ndarray]:
    """Value, gradient and Hessian in ``u`` from those in ``theta``.

    ``u = log(theta)`` where ``positive`` (default: everywhere), ``u = theta`` (a
    real parameter, such as a covariate coefficient) elsewhere.
    """
    if positive is None:
        slope = theta * gradient
        return value, slope, np.outer(theta, theta) * hessian + np.diag(slope)
    scale = np.where(positive, theta, 1.0)  # d theta / du
    slope = scale * gradient
    return value, slope, np.outer(scale, scale) * hessian + np.diag(np.where(positive, slope, 0.0))


def _inverse_hessian(hessian: np.ndarray) -> np.ndarray | None:
    """The covariance from the Hessian of the negative log-likelihood; None if unusable."""
    try:
        covariance = np.linalg.inv(hessian)
    except np.linalg.LinAlgError:
        return None
    if not np.all(np.isfinite(covariance)) or np.any(np.diag(covariance) <= 0):
        return None
    return covariance


def damped_newton(
    sums: Any,
    point: np.ndarray,
    gtol: float = 1e-9,
    max_iterations: int = 200,
    xtol: float = 1e-9,
    last_step: float = 1e-6,
) -> Any:
    """Minimise with Newton steps damped in the manner of Levenberg and Marquardt.

    ``sums(point)`` gives the value, gradient and Hessian. Each step solves
    ``(H + lam I) s = -g`` with ``lam`` the smallest damping (0 near a minimum) that
    makes the matrix positive definite and the step at most 5 long (the parameters
    are logarithms: a longer step overflows). A step is kept when the value falls;
    ``lam`` shrinks after steps that do what the quadratic model predicted and
    grows after poor or rejected ones, as a trust region does. Near the minimum
    this is Newton's method, quadratically convergent: a fit takes a handful of
    evaluations, each computing what scipy's ``trust-exact`` would, without its
    per-iteration overhead (which costs more than a CDNOW-sized evaluation).
    Converged when the largest gradient component is below ``gtol`` and the Newton
    step that remains below ``xtol``, or when an undamped Newton step is below
    ``last_step``: quadratic convergence puts the point after it within about the
    step's square of the minimum (1e-12 for 1e-6), closer than another evaluation
    could show, so it is taken on the quadratic model without evaluating there
    (``hess`` and ``hessian_at``: the Hessian, at the point before).

    >>> result = damped_newton(
    ...     lambda u: (float(np.sum(np.cosh(u - 1))), np.sinh(u - 1), np.diag(np.cosh(u - 1))),
    ...     np.zeros(2),
    ... )
    >>> bool(result.success), np.round(result.x, 6).tolist()
    (True, [1.0, 1.0])
    """
    from scipy.optimize import OptimizeResult

    point = np.asarray(point, dtype=float)
    value, slope, curvature = sums(point)
    hessian_at = None  # where the last Hessian was computed, if not at the end
    size, damping, evaluations, rounding_steps = len(point), 0.0, 1, 0
    message, success = "maximum number of iterations reached", False
    for _ in range(max_iterations):
        scale = max(float(np.max(np.abs(np.diag(curvature)))), 1e-12)
        step = None
        while np.isfinite(scale) and damping <= 1e12 * scale:
            try:
                factor = np.linalg.cholesky(curvature + damping * np.eye(size))
            except np.linalg.LinAlgError:
                damping = max(4 * damping, 1e-6 * scale)
                continue
            step = -np.linalg.solve(factor.T, np.linalg.solve(factor, slope))
            if np.max(np.abs(step)) <= 5:
                break
            damping = max(4 * damping, 1e-6 * scale)
        if step is None or not np.all(np.isfinite(step)):
            message = "no usable Newton step (the Hessian is not finite)"
            break
        # A small gradient alone is not enough where the curvature is weak: the
        # step that remains must be negligible too (one more step, quadratically
        # convergent, would then move the point by its square).
        if np.max(np.abs(slope)) < gtol and np.max(np.abs(step)) < xtol:
            message, success = "Newton's method converged", True
            break
        predicted = -(slope @ step + 0.5 * step @ curvature @ step)
        if damping == 0 and np.max(np.abs(step)) < last_step:
            hessian_at, point = point, point + step
            value, slope = value - predicted, slope + curvature @ step
            message = f"Newton's method converged (last step, below {last_step:g}, on the model)"
            success = True
            break
        candidate = point + step
        found = sums(candidate)
        evaluations += 1
        if predicted <= 1e-12 * abs(value):
            # Within rounding of the minimum the value cannot judge a step: take the
            # Newton step unless it makes things visibly worse, as _newton_polish does.
            if not (np.isfinite(found[0]) and found[0] <= value + 1e-13 * abs(value)):
                message = "the value no longer falls (rounding)"
                break
            point, (value, slope, curvature) = candidate, found
            rounding_steps += 1
            if rounding_steps >= 3:
                message = "three Newton steps within rounding of the minimum"
                break
            continue
        ratio = (value - found[0]) / predicted
        if ratio > 1e-4 and np.isfinite(found[0]):
            point, (value, slope, curvature) = candidate, found
            if ratio > 0.75:
                # The quadratic model is good here: back to (nearly) plain Newton.
                damping /= 64
                if damping < 1e-6 * scale:
                    damping = 0.0
        else:
            damping = max(8 * damping, 1e-4 * scale)
        if ratio < 0.25:
            damping = max(4 * damping, 1e-4 * scale)
    return OptimizeResult(
        x=point,
        fun=value,
        jac=slope,
        hess=curvature,
        hessian_at=point if hessian_at is None else hessian_at,
        success=success,
        message=message,
        nit=evaluations - 1,
        nfev=evaluations,
    )


class SummaryTable(pd.DataFrame):
    """A summary table whose printed and notebook forms start with the fit's figures.

    The header (model, log-likelihood, customers, AIC/BIC, convergence, time unit)
    is read from ``attrs``, which pandas carries through ``round`` and slicing, so
    ``m.summary().round(3)`` still shows it.
    """

    @property
    def _constructor(self) -> type[SummaryTable]:
        return SummaryTable

    def header(self) -> str:
        """One line saying what the table is the fit of."""
        attrs = self.attrs
        if "model" not in attrs:
            return ""
        loglik = attrs.get("loglik", float("nan"))
        if np.isnan(loglik):
            return (
                f"{attrs['model']}: parameters set by hand (no log-likelihood) · "
                f"time unit {attrs.get('unit') or 'not recorded'}"
            )
        converged = attrs.get("converged")
        status = "converged" if converged else f"NOT converged ({attrs.get('message', '')})"
        return (
            f"{attrs['model']}: log-likelihood {loglik:,.2f} · n = {attrs['n_obs']:,.0f} · "
            f"AIC {attrs['aic']:,.2f} · BIC {attrs['bic']:,.2f} · {status} · "
            f"time unit {attrs.get('unit') or 'not recorded'}"
        )

    def __repr__(self) -> str:
        header = self.header()
        body = super().__repr__()
        return f"{header}\n{body}" if header else body

    def _repr_html_(self) -> str | None:
        body = super()._repr_html_()
        header = self.header()
        if not header or body is None:
            return body
        return f'<p class="crmlab-fit-header"><b>{html.escape(header)}</b></p>{body}'


class MLEModel:
    """Base class: subclasses set ``param_names`` and write ``_loglik_rows``.

    Subclasses implement

    * ``_read(data, weights) -> (columns: dict[str, ndarray], weights: ndarray)``,
      validating the input;
    * ``_loglik_rows(params, **columns) -> ndarray``, the log-likelihood of each row;
      with covariates the scaled parameters arrive as arrays, one value per row;
    * ``_starts(columns, weights) -> list[ndarray]``, starting points (natural scale).

    Parameters are positive unless ``param_spaces`` says otherwise (``"real"``,
    ``"unit"``). A model with covariates lists in ``covariate_effects`` which base
    parameters each group of covariates scales, and with which sign.
    """

    param_names: ClassVar[tuple[str, ...]] = ()
    #: Spaces of the base parameters that are not positive, by name.
    param_spaces: ClassVar[Mapping[str, Space]] = {}
    #: Columns whose distinct values the likelihood may use (passed as ``<name>_levels``).
    level_columns: ClassVar[tuple[str, ...]] = ()
    #: Columns of a data frame the model reads (the rest are reported as ignored).
    data_columns: ClassVar[tuple[str, ...]] = ()
    #: Covariate groups: group -> ((base parameter, sign), ...); the parameter becomes
    #: ``value * exp(sign * coefficients . z)``.
    covariate_effects: ClassVar[Mapping[str, tuple[tuple[str, float], ...]]] = {}
    #: Whether a large base may start from the fit of a subsample of its rows
    #: (:meth:`_subsample_columns` says how rows are taken).
    rows_can_be_sampled: ClassVar[bool] = True
    #: Whether BFGS (without covariates) starts from the inverse of the rows' gradients'
    #: outer product at the start, BHHH's picture of the curvature, instead of the
    #: identity: for a model whose evaluations are dear, a third fewer of them.
    bfgs_from_outer_product: ClassVar[bool] = False
    #: Relative steps of the differences of the exact gradient that give the Hessian of
    #: the standard errors: (h, 2 h) Richardson-extrapolated, or one step h, central
    #: (half the gradients; see :meth:`_gradient_hessian`).
    hessian_steps: ClassVar[tuple[float, ...]] = (1e-3, 2e-3)
    #: Whether the Newton finish after BFGS steps on the standard errors' Hessian,
    #: which then serves them when the step was below 1e-5: one set of gradient
    #: differences instead of two (see :meth:`_polish_on_error_hessian`).
    polish_on_error_hessian: ClassVar[bool] = False
    #: Whether Newton's method on a large base starts from a subsample's estimate
    #: (False: from the model's starts, for a model whose starts Newton's method
    #: finishes from in as few evaluations on all rows as from that estimate).
    newton_from_subsample: ClassVar[bool] = True

    def __init__(self, covariates: Mapping[str, Sequence[str] | None] | None = None) -> None:
        self.covariates: dict[str, tuple[str, ...]] = {}
        for group, names in (covariates or {}).items():
            if group not in self.covariate_effects:
                raise ValueError(
                    f"{type(self).__name__} takes covariates for "
                    f"{sorted(self.covariate_effects) or 'nothing'}, not {group!r}"
                )
            if names is None:
                continue
            if isinstance(names, str):
                names = [names]
            names = tuple(str(name) for name in names)
            if len(set(names)) != len(names):
                raise ValueError(f"{group} covariates repeat a name: {list(names)}")
            if names:
                self.covariates[group] = names
        self.result: Fit | None = None
        #: Time unit of the data the model was fitted on (``attrs["unit"]`` of a
        #: summary), or None when the data did not say; set it by hand if need be.
        self.unit: str | None = None

    # ----- parameters ------------------------------------------------------------------
    @property
    def base_names(self) -> tuple[str, ...]:
        """The parameters of the model without covariates."""
        return type(self).param_names

    @property
    def coefficient_names(self) -> tuple[str, ...]:
        """Covariate coefficients, ``"<group>.<covariate>"``, in the order of ``params``."""
        return tuple(
            f"{group}.{name}" for group, names in self.covariates.items() for name in names
        )

    @property
    def parameters(self) -> tuple[Param, ...]:
        """Every parameter with its space: the base ones, then the covariate coefficients."""
        base = tuple(
            Param(name, self.param_spaces.get(name, "positive")) for name in self.base_names
        )
        return base + tuple(Param(name, "real") for name in self.coefficient_names)

    @property
    def names(self) -> tuple[str, ...]:
        """Names of all parameters, in the order of ``params``."""
        return self.base_names + self.coefficient_names

    def _to_free(self, values: np.ndarray) -> np.ndarray:
        return np.array([p.to_free(v) for p, v in zip(self.parameters, values, strict=True)])

    def _from_free(self, free: np.ndarray) -> np.ndarray:
        return np.array([p.from_free(u) for p, u in zip(self.parameters, free, strict=True)])

    def _inside(self, values: np.ndarray) -> bool:
        return all(bool(p.inside(v)) for p, v in zip(self.parameters, values, strict=True))

    # ----- what subclasses provide -------------------------------------------------
    def _read(
        self, data: Any, weights: Any | None
    ) -> tuple[dict[str, np.ndarray], np.ndarray]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _loglik_rows(self, params: Any, **columns: np.ndarray) -> np.ndarray:
        raise NotImplementedError  # pragma: no cover - abstract

    def _starts(self, columns: dict[str, np.ndarray], weights: np.ndarray) -> list[np.ndarray]:
        return [np.ones(len(self.base_names))]

    def _gradient_rows(self, params: Any, **columns: np.ndarray) -> list[np.ndarray] | None:
        """Optional: d(log-likelihood of each row)/d(each base parameter), at ``params``.

        With it the optimiser works on exact gradients (the base carries them
        through the covariates and the parameter transforms); without it, on
        finite differences.
        """
        return None

    def _loglik_and_gradient_rows(
        self, params: Any, **columns: np.ndarray
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Each row's log-likelihood and its gradient rows, together.

        A model whose gradient reuses the terms of its likelihood overrides this to
        compute them once; the default calls the two methods.
        """
        gradient = self._gradient_rows(params, **columns)
        assert gradient is not None
        return self._loglik_rows(params, **columns), gradient

    def _exact_sums(
        self, params: np.ndarray, columns: Mapping[str, np.ndarray], weights: np.ndarray
    ) -> tuple[float, np.ndarray, np.ndarray] | None:
        """Optional: weighted negative log-likelihood, its gradient and its Hessian.

        In the natural parameters, all positive (fitted on the log scale). A model
        that gives them is fitted by damped Newton steps (:func:`damped_newton`),
        which need a handful of evaluations, and its standard errors come from this
        Hessian.
        Return None where they are not available (e.g. with covariates).
        """
        return None

    def _has_gradient(self) -> bool:
        return type(self)._gradient_rows is not MLEModel._gradient_rows

    def _free_gradient(
        self, free: np.ndarray, columns: Mapping[str, np.ndarray], weights: np.ndarray
    ) -> np.ndarray | None:
        """Gradient of the weighted negative log-likelihood on the optimiser's scale."""
        if not self._has_gradient():
            return None
        return self._free_value_and_gradient(free, columns, weights)[1]

    def _free_value_and_gradient(
        self, free: np.ndarray, columns: Mapping[str, np.ndarray], weights: np.ndarray
    ) -> tuple[float, np.ndarray]:
        """Weighted negative log-likelihood and its gradient on the optimiser's scale."""
        params = self._from_free(free)
        value, gradient = self._value_and_gradient(params, columns, weights)
        slopes = np.array([p.free_slope(v) for p, v in zip(self.parameters, params, strict=True)])
        return value, gradient / slopes

    def _value_and_gradient(
        self, params: np.ndarray, columns: Mapping[str, np.ndarray], weights: np.ndarray
    ) -> tuple[float, np.ndarray]:
        """Weighted negative log-likelihood and its gradient in the natural parameters."""
        split = self._split(params, columns)
        rows, derivatives = self._loglik_and_gradient_rows(split, **self._model_columns(columns))
        n_base = len(self.base_names)
        gradient = np.empty(len(params))
        for j in range(n_base):
            # theta_ij = theta_j * exp(...): d theta_ij / d theta_j = theta_ij / theta_j
            if np.ndim(split[j]) == 0:
                gradient[j] = weighted_sum(weights, derivatives[j])
            else:
                gradient[j] = weighted_sum(weights, derivatives[j] * (split[j] / params[j]))
        position = n_base
        for group, names in self.covariates.items():
            for name in names:
                z = np.asarray(columns[covariate_key(group, name)], dtype=float)
                total = 0.0
                for target, sign in self.covariate_effects[group]:
                    slot = self.base_names.index(target)
                    total += sign * weighted_sum(weights, derivatives[slot] * split[slot] * z)
                gradient[position] = total
                position += 1
        return -weighted_sum(weights, rows), -gradient

    def _chain_rule_sums(
        self,
        params: np.ndarray,
        split: list[Any],
        columns: Mapping[str, np.ndarray],
        weights: np.ndarray,
        total: np.ndarray,
        gradient_rows: list[Any],
        hessian_rows: list[list[Any]],
    ) -> tuple[float, np.ndarray, np.ndarray]:
        """Negative log-likelihood, gradient and Hessian in ``params`` from per-row terms.

        ``gradient_rows[j]`` and ``hessian_rows[j][k]`` are each row's derivatives in
        its own base parameters ``split`` (``theta_ij = theta_j exp(sign c . z_i)``,
        see :meth:`_split`). With ``J_i`` the Jacobian of ``theta_i`` in ``params``,
        a row adds ``J_i' H_i J_i + sum_j g_ij d2 theta_ij``: the second derivatives
        of ``theta_ij`` are ``sign z_k theta_ij / theta_j`` in (theta_j, c_k) and
        ``z_k z_l theta_ij`` in (c_k, c_l), nothing in theta_j alone.
        """
        n_base, size = len(self.base_names), len(params)
        # Per base parameter, the coefficients that scale it: (position, sign, z).
        effects: list[list[tuple[int, float, np.ndarray]]] = [[] for _ in range(n_base)]
        position = n_base
        for group, names in self.covariates.items():
            for name in names:
                z = np.asarray(columns[covariate_key(group, name)], dtype=float)
                for target, sign in self.covariate_effects[group]:
                    effects[self.base_names.index(target)].append((position, sign, z))
                position += 1
        # jacobian[j]: {parameter: d theta_ij / d parameter}, the non-zero entries only;
        # second[j]: {(parameter, parameter): d2 theta_ij}, likewise, upper triangle.
        jacobian: list[dict[int, Any]] = []
        second: list[dict[tuple[int, int], Any]] = []
        for j, scaled_by in enumerate(effects):
            theta = split[j]
            jacobian.append({j: theta / params[j] if scaled_by else 1.0})
            second.append({})
            for k, (q, sign, z) in enumerate(scaled_by):
                jacobian[j][q] = sign * z * theta
                second[j][(j, q)] = sign * z * theta / params[j]
                for m, sign_m, z_m in scaled_by[k:]:
                    second[j][(q, m)] = sign * sign_m * z * z_m * theta
        shape = weights.shape
        # The weights times each Jacobian entry, as arrays: every sum below is then
        # one einsum over the rows (its own loop, not BLAS: see weighted_sum).
        weighted = [
            {q: np.broadcast_to(weights * d_q, shape) for q, d_q in row.items()} for row in jacobian
        ]
        gradient = np.zeros(size)
        hessian = np.zeros((size, size))
        for j in range(n_base):
            g_j = np.broadcast_to(gradient_rows[j], shape)
            for q, wd_q in weighted[j].items():
                gradient[q] += float(np.einsum("i,i->", g_j, wd_q))
            for (q, m), d_qm in second[j].items():
                value = weighted_sum(weights, g_j * d_qm)
                hessian[q, m] += value
                if q != m:
                    hessian[m, q] += value
            # H_i is symmetric: the (k, j) block is the transpose of the (j, k) one.
            for k in range(j, n_base):
                h_jk = np.broadcast_to(hessian_rows[j][k], shape)
                for q, wd_q in weighted[j].items():
                    inner = h_jk * wd_q
                    for m, d_m in jacobian[k].items():
                        value = float(np.einsum("i,i->", inner, np.broadcast_to(d_m, shape)))
                        hessian[q, m] += value
                        if k != j:
                            hessian[m, q] += value
        return -weighted_sum(weights, total), -gradient, -hessian

    def _groups(self, columns: Mapping[str, np.ndarray]) -> dict[str, Any]:
        """Optional: row groups (``<name>_groups``, see :func:`row_groups`) for the fit."""
        return {}

    def _covariate_columns(self, columns: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        return [value for key, value in columns.items() if key.startswith("z.")]

    # ----- covariates --------------------------------------------------------------------
    def _read_all(
        self, data: Any, weights: Any | None, *, fitting: bool
    ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """The model's columns plus, with covariates, one column per covariate."""
        if self.covariates and not isinstance(data, pd.DataFrame | Mapping):
            raise TypeError("a model with covariates needs a DataFrame (or dict of arrays)")
        columns, row_weights = self._read(data, weights)
        if self.covariates:
            kept = getattr(self, "_kept_rows", None)
            for group, names in self.covariates.items():
                matrix = read_covariates(data, names, require_variation=fitting)
                if kept is not None:
                    matrix = matrix[kept]
                for position, name in enumerate(names):
                    columns[covariate_key(group, name)] = matrix[:, position]
        return columns, row_weights

    def _split(self, params: np.ndarray, columns: Mapping[str, np.ndarray]) -> list[Any]:
        """Base parameters for each row: scalars, or arrays scaled by the covariates."""
        base = list(params[: len(self.base_names)])
        if not self.covariates:
            return base
        position = len(self.base_names)
        for group, names in self.covariates.items():
            coefficients = params[position : position + len(names)]
            position += len(names)
            index = sum(
                coefficient * np.asarray(columns[covariate_key(group, name)], dtype=float)
                for coefficient, name in zip(coefficients, names, strict=True)
            )
            for target, sign in self.covariate_effects[group]:
                slot = self.base_names.index(target)
                base[slot] = base[slot] * np.exp(sign * index)
        return base

    def _rows(self, params: np.ndarray, columns: Mapping[str, np.ndarray]) -> np.ndarray:
        """Log-likelihood of each row at ``params`` (all of them, natural scale)."""
        return self._loglik_rows(self._split(params, columns), **self._model_columns(columns))

    def _model_columns(self, columns: Mapping[str, np.ndarray]) -> dict[str, Any]:
        """The columns ``_loglik_rows`` takes: no covariates, no levels when there are any."""
        data = {key: value for key, value in columns.items() if not key.startswith("z.")}
        if self.covariates:
            data = {key: value for key, value in data.items() if not key.endswith("_levels")}
        return data

    def _individual(self, covariates: Any) -> list[Any]:
        """Each customer's base parameters for a prediction, from her covariates.

        Scalars for a model without covariates; otherwise 1-d arrays, one value per
        row of ``covariates``, which the prediction broadcasts with its other inputs.
        """
        params = self._require_fit()
        if not self.covariates:
            if covariates is not None:
                raise ValueError(
                    f"{type(self).__name__} was built without covariates; do not pass covariates="
                )
            return list(params)
        if covariates is None:
            raise ValueError(
                f"{type(self).__name__} has covariates {dict(self.covariates)}: pass the "
                "customers' values with covariates= (a DataFrame or dict with those columns, "
                "one row per customer predicted for)"
            )
        columns: dict[str, np.ndarray] = {}
        for group, names in self.covariates.items():
            matrix = read_covariates(covariates, names, require_variation=False)
            for position, name in enumerate(names):
                columns[covariate_key(group, name)] = matrix[:, position]
        return self._split(params, columns)

    # ----- fitting -----------------------------------------------------------------
    def _check_data(self, columns: dict[str, np.ndarray], weights: np.ndarray) -> None:
        """Optional hook: warn before fitting about data that cannot pin the parameters down.

        Called by :meth:`fit` (not by :meth:`log_likelihood`) with the arrays of
        ``_read``; the default does nothing.
        """

    def fit(
        self,
        data: Any,
        weights: Any | None = None,
        *,
        starts: Sequence[Mapping[str, float]] | None = None,
        compress: bool | Literal["auto"] = "auto",
    ) -> Self:
        """Estimate the parameters by maximum likelihood and return ``self``.

        Parameters
        ----------
        data
            The model's data (see the subclass), plus the covariate columns if any.
        weights : array-like, optional
            Number of customers each row stands for (default 1 each; a ``weight``
            column of ``data`` is used when present).
        starts : list of dict, optional
            Starting values to try instead of the built-in ones (covariate
            coefficients left out start at 0).
        compress : bool or "auto"
            Merge identical rows before fitting (the same estimates, to rounding).
            ``"auto"`` merges them unless the fit is Newton's method on exact sums
            and, on a base of more than ``SUBSAMPLE_ROWS`` rows, a hash check of the
            rows (:func:`merge_share`) finds that at most a quarter of them would
            merge, too few to pay for the merging.
        """
        columns, row_weights = self._read_all(data, weights, fitting=True)
        self._warn_ignored_columns(data, weights)
        self._check_data(columns, row_weights)
        unit = self._data_unit(data)
        exact = None
        if compress == "auto":
            # A small base is merged: that costs less than asking whether to.
            compress = len(row_weights) <= SUBSAMPLE_ROWS
            if not compress:
                exact = self._has_exact_sums(columns, row_weights)
                compress = not (exact and merge_share(columns) <= _MERGE_SHARE_FOR_NEWTON)
        if compress and len(row_weights) > 1:
            columns, row_weights = compress_rows(columns, row_weights)
        n_obs = float(row_weights.sum())
        if n_obs <= 0:
            raise ValueError("nothing to fit: the data hold no customers (all weights are 0)")
        columns = self._with_levels(columns)
        if starts:
            start_points = [
                np.array(
                    [
                        start[name] if name in self.base_names else start.get(name, 0.0)
                        for name in self.names
                    ],
                    dtype=float,
                )
                for start in starts
            ]
        else:
            zeros = np.zeros(len(self.coefficient_names))
            start_points = [
                np.concatenate([start, zeros]) for start in self._starts(columns, row_weights)
            ]
        self.unit = unit
        self.result = self._optimise(columns, row_weights, start_points, n_obs, exact=exact)
        self._warn_about(self.result)
        return self

    def _with_levels(self, columns: dict[str, np.ndarray]) -> dict[str, Any]:
        """The rows plus what the likelihood reuses across them (levels, groups)."""
        columns = dict(columns)
        if not self.covariates:
            for name in self.level_columns:
                columns[f"{name}_levels"] = value_levels(columns[name])
        columns.update(self._groups(columns))
        return columns

    def _warn_ignored_columns(self, data: Any, weights: Any | None) -> None:
        """Say which columns of ``data`` the fit leaves out: silence would suggest covariates."""
        if not isinstance(data, pd.DataFrame) or not self.data_columns:
            return
        used = set(self.data_columns) | SUMMARY_COLUMNS
        used |= {name for names in self.covariates.values() for name in names}
        ignored = [str(column) for column in data.columns if column not in used]
        if ignored:
            groups = ", ".join(f"{group}_covariates=" for group in self.covariate_effects)
            how = (
                f"name them with {groups}"
                if groups
                else "fit one model per group (e.g. for each value of a segment column)"
            )
            warnings.warn(
                f"{type(self).__name__} ignores column(s) "
                f"{', '.join(repr(c) for c in ignored)}: it reads only "
                f"{', '.join(repr(c) for c in sorted(used & set(map(str, data.columns))))}. "
                f"To use them, {how}; drop the columns to silence this warning.",
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

    def _negloglik(
        self, params: np.ndarray, columns: Mapping[str, np.ndarray], weights: np.ndarray
    ) -> float:
        """Weighted negative log-likelihood at natural-scale ``params`` (inf outside)."""
        if not self._inside(params):
            return np.inf
        with np.errstate(all="ignore"):
            return -weighted_sum(weights, self._rows(params, columns))

    def _optimise(
        self,
        columns: dict[str, np.ndarray],
        weights: np.ndarray,
        start_points: list[np.ndarray],
        n_obs: float,
        *,
        subsample: bool = True,
        exact: bool | None = None,
        newton_tolerance: tuple[float, float] = (1e-9, 1e-9),
    ) -> Fit:
        """The fit from ``start_points``; ``exact``: :meth:`_has_exact_sums`, if known.

        ``newton_tolerance``: the largest gradient (per customer) and step at which
        Newton's method stops (:func:`damped_newton`'s ``gtol`` and ``xtol``).
        """
        from scipy.optimize import minimize

        def objective(free: np.ndarray) -> float:
            with np.errstate(all="ignore"):
                rows = self._rows(self._from_free(free), columns)
            value = -weighted_sum(weights, rows) / n_obs
            return value if np.isfinite(value) else 1e300

        # Without an exact gradient, central differences: forward ones stall BFGS with
        # "precision loss" near the optimum on large bases, and the Nelder-Mead rescue
        # then costs more evaluations than the central differences do.
        fun: Any = objective
        jac: Any = "3-point"
        # Value and gradient already computed at a point (by _outer_product_inverse).
        seeded: dict[bytes, tuple[float, np.ndarray]] = {}
        gradient: Any = None
        if self._has_gradient():
            # Value and gradient in one pass: they share every special function.
            def fun(free: np.ndarray) -> tuple[float, np.ndarray]:
                found = seeded.pop(free.tobytes(), None)
                if found is not None:
                    value, slope = found
                else:
                    with np.errstate(all="ignore"):
                        value, slope = self._free_value_and_gradient(free, columns, weights)
                value /= n_obs
                if not np.isfinite(value):
                    return 1e300, np.zeros(len(free))
                return value, np.where(np.isfinite(slope), slope, 0.0) / n_obs

            def gradient(free: np.ndarray) -> np.ndarray:
                return fun(free)[1]

            jac = True

        for start in start_points:
            if not self._inside(start):
                raise ValueError(
                    "starting values must be positive (and probabilities within (0, 1)), "
                    f"got {dict(zip(self.names, start, strict=True))}"
                )
        large = subsample and len(weights) > SUBSAMPLE_ROWS and self.rows_can_be_sampled
        if large and exact is None:
            exact = self._has_exact_sums(columns, weights)
        exact = large and bool(exact)
        warm, nearer = None, []
        if large and not exact and gradient is not None:
            warm = self._from_subsample(columns, weights, start_points)
        elif exact and self.newton_from_subsample:
            # Newton's method needs no curvature to start from, only a point near the
            # end: the subsample's estimate, tried before the usual starts.
            part = self._subsample_fit(columns, weights, start_points, NEWTON_SUBSAMPLE_ROWS)
            if part is not None:
                nearer = [part[0].estimate]

        def ordered() -> Any:
            yield from nearer
            # Then the most likely start, the others only if it fails; ranked only
            # when needed (each costs an evaluation on all rows).
            if len(start_points) > 1:
                yield from sorted(start_points, key=lambda start: objective(self._to_free(start)))
            else:
                yield from start_points

        # Built at the first start: its check that the sums exist is that start's
        # first evaluation.
        newton: Any = None
        best, by_newton = None, False
        for index, start in enumerate(ordered()):
            if index == 0:
                newton = self._newton_functions(columns, weights, n_obs, start)
            if newton is not None:
                gtol, xtol = newton_tolerance
                result = damped_newton(newton[0], self._to_free(start), gtol=gtol, xtol=xtol)
                # The last Hessian, for the standard errors: at the estimate, or at
                # the point one step of at most 1e-6 before it (see damped_newton).
                result.natural_hessian = newton[1].get(result.hessian_at.tobytes())
                # At the minimum, rounding in a sum over many rows can make the last
                # step look "badly predicted": what counts is the gradient.
                if result.success or np.max(np.abs(result.jac)) < 1e-7:
                    if not result.success:
                        result.success = True
                        result.message = "Newton's method converged (gradient below 1e-7)"
                    best, by_newton = result, True
                    break
            options: dict[str, Any] = {"gtol": 1e-7}
            first = self._to_free(start)
            if warm is not None:
                first, options["hess_inv0"] = warm
                warm = None  # the other starts, if needed, begin from scratch
            elif self.bfgs_from_outer_product and not self.covariates and jac is True:
                inverse = self._outer_product_inverse(first, columns, weights, n_obs, seeded)
                if inverse is not None:
                    options["hess_inv0"] = inverse
            result = minimize(fun, first, jac=jac, method="BFGS", options=options)
            if not result.success:
                # BFGS trips on flat ridges; Nelder-Mead polishes from where it stopped.
                polished = minimize(
                    objective,
                    result.x,
                    method="Nelder-Mead",
                    options={"xatol": 1e-9, "fatol": 1e-12, "maxiter": 4000},
                )
                if polished.fun <= result.fun:
                    # The record says which method produced the estimate, and why.
                    polished.message = (
                        f"Nelder-Mead after BFGS stopped ({result.message}): {polished.message}"
                    )
                    result = polished
            if best is None or result.fun < best.fun:
                best = result
            if best.success:
                break
        assert best is not None
        # Newton's method on the exact Hessian already ends on the minimum.
        if best.success and not by_newton:
            # the Hessian is carried to the free scale only for log-scale and real parameters
            spaces = all(p.space in ("positive", "real") for p in self.parameters)
            if self.polish_on_error_hessian and spaces and gradient is not None:
                self._polish_on_error_hessian(objective, best, columns, weights, n_obs)
            else:
                best.x, best.fun = _newton_polish(objective, best.x, best.fun, gradient=gradient)
        return self._record(best, columns, weights, n_obs)

    def _polish_on_error_hessian(
        self,
        objective: Any,
        best: Any,
        columns: dict[str, Any],
        weights: np.ndarray,
        n_obs: float,
    ) -> None:
        """One Newton step from where BFGS stopped, on the Hessian the standard errors use.

        As :func:`_newton_polish` (a step that does not lower the objective is not
        taken), but the Hessian is :meth:`_gradient_hessian`'s in the natural
        parameters, carried to the log scale (``theta theta' H + diag(theta g)``),
        instead of a separate difference of the gradient on that scale. When the step
        moved the point by less than 1e-5 (relative) the same Hessian is kept for the
        standard errors (``best.natural_hessian``): on CDNOW and simulated bases the
        standard errors from it and from the Hessian at the final point differ by
        2e-6 to 7e-6, as much as two differencings at points 1e-7 apart do (their
        own noise). Parameters positive (log scale) or real (covariate coefficients,
        fitted as they are).
        """
        theta = self._from_free(best.x)
        # d(theta)/d(free): theta on the log scale, 1 for a real coefficient
        positive = np.array([p.space == "positive" for p in self.parameters])
        scale = np.where(positive, theta, 1.0)
        last = getattr(best, "jac", None)  # BFGS's gradient at its end, per customer
        with np.errstate(all="ignore"):
            if last is not None and np.shape(last) == theta.shape and np.all(last != 0):
                slope = np.asarray(last) * n_obs
            else:
                slope = scale * self._value_and_gradient(theta, columns, weights)[1]
            hessian = self._gradient_hessian(theta, columns, weights)
        # the second derivative of theta = exp(u) adds theta g on the diagonal; of a
        # real coefficient, nothing
        curvature = np.outer(scale, scale) * hessian + np.diag(np.where(positive, slope, 0.0))
        try:
            np.linalg.cholesky(curvature)
            step = np.linalg.solve(curvature, slope)
        except np.linalg.LinAlgError:
            return
        if not np.all(np.isfinite(step)):
            return
        candidate = best.x - step
        value = objective(candidate)
        taken = np.isfinite(value) and value <= best.fun + 1e-12 * abs(best.fun)
        if taken:
            best.x, best.fun = candidate, value
        if not taken or np.max(np.abs(step)) < 1e-5:
            best.natural_hessian = hessian

    def _record(self, best: Any, columns: dict[str, Any], weights: np.ndarray, n_obs: float) -> Fit:
        estimate = self._from_free(best.x)
        loglik = float(-best.fun * n_obs)
        return Fit(
            estimate=estimate,
            loglik=loglik,
            n_obs=n_obs,
            n_rows=len(weights),
            converged=bool(best.success) and bool(np.isfinite(loglik)),
            message=str(best.message),
            covariance_source=(
                partial(self._covariance_at, estimate, columns, weights)
                if getattr(best, "natural_hessian", None) is None
                else partial(_inverse_hessian, best.natural_hessian)
            ),
            data=(columns, weights),
        )

    def _outer_product_inverse(
        self,
        free: np.ndarray,
        columns: dict[str, Any],
        weights: np.ndarray,
        n_obs: float,
        seeded: dict[bytes, tuple[float, np.ndarray]] | None = None,
    ) -> np.ndarray | None:
        """Inverse of the weighted outer product of the rows' gradients (free scale), per customer.

        At the true parameters the outer product estimates the Fisher information,
        which is the Hessian's expectation, so its inverse gives BFGS a first
        picture of the curvature and of the parameters' very different scales (BHHH).
        Without covariates only (each row's gradient is then the model's own); None
        when it is not positive definite, or when the step it proposes moves a free
        parameter by more than ``_BHHH_MAX_STEP``. The value and gradient at
        ``free``, which BFGS evaluates first, go into ``seeded`` (the same numbers as
        :meth:`_free_value_and_gradient` gives).

        The outer product stands for the Hessian only near the estimate. From a start
        far from it, it can be nearly singular along a ridge of the likelihood: a
        Pareto/NBD base with fast dropout, whose start takes the purchase rate from
        x / T as if nobody dropped out, gave a first step that multiplied s and beta
        by e^15. BFGS then crept along the ridge, where 2F1 fails (NaN), and stopped
        on "precision loss", leaving the fit to Nelder-Mead (66 s instead of 0.4 s).
        The identity start takes steps of the gradient's own size instead.
        """
        params = self._from_free(free)
        with np.errstate(all="ignore"):
            total, rows = self._loglik_and_gradient_rows(
                self._split(params, columns), **self._model_columns(columns)
            )
        slopes = np.array([p.free_slope(v) for p, v in zip(self.parameters, params, strict=True)])
        gradient = np.array([weighted_sum(weights, row) for row in rows])
        if seeded is not None:
            seeded[free.tobytes()] = (-weighted_sum(weights, total), -gradient / slopes)
        gradients = np.stack(rows) / slopes[:, None]
        if not np.all(np.isfinite(gradients)):
            return None
        # einsum's own loop, not BLAS: see weighted_sum.
        outer = np.einsum("i,ji,ki->jk", weights, gradients, gradients) / n_obs
        try:
            np.linalg.cholesky(outer)
            inverse = np.linalg.inv(outer)
            np.linalg.cholesky(inverse)
        except np.linalg.LinAlgError:
            return None
        step = inverse @ (gradient / slopes) / n_obs  # -H0 times the objective's gradient
        if not np.max(np.abs(step)) <= _BHHH_MAX_STEP:
            return None
        return (inverse + inverse.T) / 2  # BFGS checks symmetry to the last bit

    def _newton_scale(self) -> bool:
        """Whether :meth:`_newton_functions` works on these parameters' free scale: log
        for a positive parameter, as is for a real one (a covariate coefficient)."""
        return all(p.space in ("positive", "real") for p in self.parameters)

    def _has_exact_sums(self, columns: Mapping[str, np.ndarray], weights: np.ndarray) -> bool:
        """Whether ``_exact_sums`` gives the sums for these columns, asked on two rows.

        Whether it does depends on the model and its columns, not on their values;
        two rows answer it for a few microseconds instead of an evaluation.
        """
        if type(self)._exact_sums is MLEModel._exact_sums or not self._newton_scale():
            return False
        rows = self._with_levels(_row_subset(columns, slice(0, 2)))
        point = np.ones(len(self.names))
        with np.errstate(all="ignore"):
            return self._exact_sums(point, rows, weights[:2]) is not None

    def _from_subsample(
        self,
        columns: dict[str, Any],
        weights: np.ndarray,
        starts: list[np.ndarray],
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """Where to start a large base's fit: the fit of a random part of its rows.

        The per-customer objective of about ``SUBSAMPLE_ROWS`` rows drawn at random
        (seeded) has nearly the same minimum and curvature as that of all rows. Its
        minimum, and the inverse of its Hessian there (differences of the exact
        gradient, checked positive definite), start BFGS on all rows near the end
        with a good picture of the curvature, so that it needs a few evaluations
        of the full likelihood instead of dozens. None when the subsample's fit
        fails (the fit then starts as usual).
        """
        found = self._subsample_fit(columns, weights, starts)
        if found is None:
            return None
        part, sub_columns, sub_weights = found
        return self._warm_start_at(self._to_free(part.estimate), sub_columns, sub_weights)

    def _warm_start_at(
        self, point: np.ndarray, sub_columns: Any, sub_weights: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """``point`` and the inverse Hessian there of a subsample's objective, for BFGS.

        The Hessian comes from differences of the exact gradient; None when it is not
        positive definite (the fit then starts as usual).
        """

        def sub_gradient(free: np.ndarray) -> np.ndarray:
            with np.errstate(all="ignore"):
                gradient = self._free_value_and_gradient(free, sub_columns, sub_weights)[1]
            return gradient / float(sub_weights.sum())

        hessian = _gradient_jacobian(sub_gradient, point, 1e-5)
        try:
            np.linalg.cholesky(hessian)
        except np.linalg.LinAlgError:
            return None
        inverse = np.linalg.inv(hessian)
        return point, (inverse + inverse.T) / 2  # BFGS checks symmetry to the last bit

    def _subsample_fit(
        self,
        columns: dict[str, Any],
        weights: np.ndarray,
        starts: list[np.ndarray],
        size: int | None = None,
    ) -> tuple[Fit, dict[str, Any], np.ndarray] | None:
        """The fit of a seeded random part of about ``size`` rows (default ``SUBSAMPLE_ROWS``),
        with those rows; None if it fails."""
        size = SUBSAMPLE_ROWS if size is None else size
        # Rows standing for many customers (the one-time buyers of each T) are all
        # kept; the rest are drawn with equal chances and reweighted (Horvitz-Thompson),
        # which keeps the objective's estimate unbiased and its noise small.
        chance = np.full(len(weights), size / weights.sum())
        for _ in range(5):
            kept = np.minimum(1.0, chance * weights)
            chance *= size / kept.sum()
        kept = np.minimum(1.0, chance * weights)
        picked = np.flatnonzero(np.random.default_rng(0).random(len(weights)) < kept)
        sub_columns, sub_weights = (
            self._subsample_columns(columns, picked),
            weights[picked] / kept[picked],
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            part = self._optimise(
                sub_columns,
                sub_weights,
                starts,
                float(sub_weights.sum()),
                subsample=False,
                newton_tolerance=_SUBSAMPLE_NEWTON_TOLERANCE,
            )
        if not part.converged:
            return None
        return part, sub_columns, sub_weights

    def _subsample_columns(self, columns: dict[str, Any], picked: np.ndarray) -> dict[str, Any]:
        """The columns of the rows at positions ``picked`` (sorted), for a subsample's fit.

        A row is one weighted customer here; a model whose customers span several
        rows of its columns overrides this to take each picked customer's rows.
        """
        return self._with_levels(_row_subset(columns, picked))

    def _newton_functions(
        self,
        columns: dict[str, np.ndarray],
        weights: np.ndarray,
        n_obs: float,
        start: np.ndarray,
    ) -> tuple[Any, dict[bytes, np.ndarray]] | None:
        """Value, gradient and Hessian per customer on the free scale, from ``_exact_sums``.

        With ``theta = exp(u)``: ``df/du = theta g`` and
        ``d2f/du du' = theta theta' H + diag(theta g)``; a real parameter (a
        covariate coefficient) is its own free value. Returns that function and
        the natural-scale Hessians it computed, by point (``u.tobytes()``), so that
        the standard errors at the estimate reuse the last one. The check that the
        sums exist, at ``start``, is the first evaluation of a fit begun there.
        """
        if not self._newton_scale():
            return None
        blocks = _row_blocks(columns, weights)

        def exact_sums(theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray] | None:
            # Sums over rows: block by block they add up to the same, to rounding.
            found = [self._exact_sums(theta, part, part_weights) for part, part_weights in blocks]
            if any(item is None for item in found):
                return None
            value, slope, curvature = found[0]  # type: ignore[misc]
            for item in found[1:]:
                assert item is not None
                value, slope, curvature = value + item[0], slope + item[1], curvature + item[2]
            return value, slope, curvature

        found = exact_sums(start)
        if found is None:
            return None
        spaces = [p.space for p in self.parameters]
        positive = None if "real" not in spaces else np.array([sp == "positive" for sp in spaces])
        hessians: dict[bytes, np.ndarray] = {}
        # Keyed by the free point the fit begins from; exp(log(start)) may differ
        # from start in the last bit, which no step of Newton's method can see.
        last: dict[str, Any] = {
            "free": self._to_free(start),
            "result": _log_scale(start, *found, positive),
        }

        def sums(free: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
            if not np.array_equal(last["free"], free):
                theta = np.exp(free) if positive is None else self._from_free(free)
                with np.errstate(all="ignore"):
                    found = exact_sums(theta)
                assert found is not None
                hessians[free.tobytes()] = found[2]
                last.update(free=free.copy(), result=_log_scale(theta, *found, positive))
            value, slope, curvature = last["result"]
            if not (np.isfinite(value) and np.all(np.isfinite(curvature))):
                return 1e300, np.zeros(len(free)), np.eye(len(free))
            return value / n_obs, slope / n_obs, curvature / n_obs

        return sums, hessians

    def _warn_about(self, result: Fit) -> None:
        at_boundary = [
            p.name
            for p, value in zip(self.parameters, result.estimate, strict=True)
            if p.at_boundary(value)
        ]
        if at_boundary:
            warnings.warn(
                f"{type(self).__name__}: parameter(s) {', '.join(at_boundary)} ran to the "
                "edge of their range; the data may not show what the model describes (for "
                "example no sign of customers dropping out). Predictions from this fit may be "
                "unreliable: see summary(), and try more data or another model.",
                ConvergenceWarning,
                stacklevel=4,
            )
        if not result.converged:
            warnings.warn(
                f"{type(self).__name__}: the optimiser did not converge ({result.message}). "
                "Try other starting values with fit(..., starts=[{...}]), more data, "
                "or check the data summary for oddities.",
                ConvergenceWarning,
                stacklevel=4,
            )

    def _covariance_at(
        self, estimate: np.ndarray, columns: dict[str, np.ndarray], weights: np.ndarray
    ) -> np.ndarray | None:
        exact = self._exact_sums(estimate, columns, weights)
        if exact is not None:
            hessian = exact[2]
        elif self._has_gradient():
            hessian = self._gradient_hessian(estimate, columns, weights)
        else:
            hessian = numerical_hessian(lambda p: self._negloglik(p, columns, weights), estimate)
        return _inverse_hessian(hessian)

    def _gradient_hessian(
        self, estimate: np.ndarray, columns: dict[str, np.ndarray], weights: np.ndarray
    ) -> np.ndarray:
        """Hessian of the negative log-likelihood from differences of its exact gradient.

        Steps as in :func:`numerical_hessian` (1e-3 relative), Richardson-extrapolated
        from steps ``h`` and ``2 h``: 4 k gradients instead of 4 k (k + 1) likelihoods.
        A model whose ``hessian_steps`` hold one step takes central differences at that
        step alone, 2 k gradients.
        """
        relative = self.hessian_steps[0]
        steps = relative * np.maximum(np.abs(estimate), 1e-2)

        def gradient(params: np.ndarray) -> np.ndarray:
            if not self._inside(params):
                return np.full(len(params), np.inf)
            with np.errstate(all="ignore"):
                return self._value_and_gradient(params, columns, weights)[1]

        def jacobian(scale: float) -> np.ndarray:
            rows = []
            for i, step in enumerate(steps * scale):
                shift = np.zeros(len(estimate))
                shift[i] = step
                rows.append((gradient(estimate + shift) - gradient(estimate - shift)) / (2 * step))
            return np.array(rows)

        with np.errstate(invalid="ignore"):
            if len(self.hessian_steps) == 1:
                hessian = jacobian(1.0)
            else:
                ratio = self.hessian_steps[1] / relative
                hessian = (ratio**2 * jacobian(1.0) - jacobian(ratio)) / (ratio**2 - 1)
        return (hessian + hessian.T) / 2

    # ----- results -----------------------------------------------------------------
    def _require_fit(self) -> np.ndarray:
        if self.result is None:
            raise RuntimeError(
                f"{type(self).__name__} is not fitted yet: call .fit(data) or set_params(...)"
            )
        return self.result.estimate

    @property
    def loglik(self) -> float:
        """Total log-likelihood of the fitted data (NaN for parameters set by hand)."""
        return float("nan") if self.result is None else self.result.loglik

    @property
    def n_obs(self) -> float:
        """Number of customers (sum of weights) fitted on; 0 for parameters set by hand."""
        return 0.0 if self.result is None else self.result.n_obs

    @property
    def n_rows(self) -> int:
        """Rows the fit evaluated: the distinct ones if it merged them (``fit``'s ``compress``)."""
        return 0 if self.result is None else self.result.n_rows

    @property
    def converged(self) -> bool | None:
        """Whether the optimiser converged; None for parameters set by hand."""
        return None if self.result is None else self.result.converged

    @property
    def message(self) -> str:
        """The optimiser's last message."""
        return "" if self.result is None else self.result.message

    def aic(self) -> float:
        """Akaike's information criterion of the fit, ``2 k - 2 LL``."""
        self._require_fit()
        assert self.result is not None
        return self.result.aic()

    def bic(self) -> float:
        """Schwarz's criterion of the fit, ``k log(n) - 2 LL`` with n the customers fitted."""
        self._require_fit()
        assert self.result is not None
        return self.result.bic()

    @property
    def params(self) -> dict[str, float]:
        """The estimates, by name."""
        estimate = self._require_fit()
        return {name: float(value) for name, value in zip(self.names, estimate, strict=True)}

    def set_params(self, *, unit: str | None = None, **params: float) -> Self:
        """Use given parameter values (for example published ones) without fitting.

        The model then holds these values only: no log-likelihood (NaN), no
        convergence status (None) and no standard errors, whatever was fitted before.
        ``unit`` is the time unit the values are per (e.g. ``"W"`` for the published
        CDNOW estimates); without it the model keeps the unit it had.

        >>> from crmlab.models import BGNBD
        >>> BGNBD().set_params(r=0.243, alpha=4.414, a=0.793, b=2.426).params["b"]
        2.426
        """
        missing = [name for name in self.names if name not in params]
        unknown = [name for name in params if name not in self.names]
        if missing or unknown:
            raise ValueError(
                f"{type(self).__name__} takes parameters {', '.join(self.names)}; "
                f"missing {missing}, unknown {unknown}"
            )
        values = np.array([params[name] for name in self.names], dtype=float)
        if not self._inside(values):
            raise ValueError(
                f"parameters must be finite, and positive where they are rates or shapes, "
                f"got {params}"
            )
        if unit is not None:
            unit_length_days(unit)
            self.unit = unit
        self.result = Fit(estimate=values)
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
        columns, row_weights = self._read_all(data, weights, fitting=False)
        return float(np.dot(row_weights, self._rows(estimate, columns)))

    def _fitted_covariance(self) -> np.ndarray | None:
        self._require_fit()
        assert self.result is not None
        return self.result.covariance

    @property
    def covariance(self) -> pd.DataFrame:
        """Estimated covariance of the parameters (inverse Hessian), NaN when unavailable."""
        covariance = self._fitted_covariance()
        values = np.full((len(self.names),) * 2, np.nan) if covariance is None else covariance
        return pd.DataFrame(values, index=list(self.names), columns=list(self.names))

    @property
    def standard_errors(self) -> dict[str, float]:
        """Standard errors from the inverse Hessian (NaN when it is not invertible)."""
        covariance = self._fitted_covariance()
        if covariance is None:
            return dict.fromkeys(self.names, float("nan"))
        errors = np.sqrt(np.diag(covariance))
        return {name: float(se) for name, se in zip(self.names, errors, strict=True)}

    def confidence_intervals(self, level: float = 0.95) -> pd.DataFrame:
        """Wald confidence intervals ``estimate ± z * se``, floored at 0 for positive ones."""
        from scipy.stats import norm

        if not 0 < level < 1:
            raise ValueError(f"level must lie between 0 and 1, got {level}")
        z = norm.ppf(0.5 + level / 2)
        estimate = pd.Series(self.params)
        se = pd.Series(self.standard_errors)
        floor = pd.Series({p.name: p.floor for p in self.parameters})
        return pd.DataFrame(
            {"lower": np.maximum(estimate - z * se, floor), "upper": estimate + z * se}
        )

    def summary(self, level: float = 0.95) -> SummaryTable:
        """Estimates, standard errors, confidence intervals and boundary flags.

        Printed or shown in a notebook, the table starts with a line giving the
        log-likelihood, the number of customers, AIC, BIC and whether the optimiser
        converged; the same figures are in ``attrs``.

        >>> import crmlab as cl
        >>> m = cl.models.BGNBD().fit(cl.datasets.load_cdnow_published_summary())
        >>> print(m.summary().round(3).header())  # doctest: +ELLIPSIS
        BGNBD: log-likelihood -9,582.43 · n = 2,357 · AIC 19,172.85 · BIC 19,195.91 · converged ...
        """
        estimate = pd.Series(self.params, name="estimate")
        table = SummaryTable({"estimate": estimate, "se": pd.Series(self.standard_errors)})
        table = table.join(self.confidence_intervals(level))
        table["at_boundary"] = [
            p.at_boundary(value) for p, value in zip(self.parameters, estimate, strict=True)
        ]
        table.index.name = "parameter"
        assert self.result is not None
        table.attrs.update(
            model=type(self).__name__,
            loglik=self.loglik,
            n_obs=self.n_obs,
            converged=self.converged,
            message=self.message,
            aic=self.result.aic(),
            bic=self.result.bic(),
            unit=self.unit,
        )
        # Shown above the table, so that a printed summary says what alpha is per.
        table.columns.name = f"time unit: {self.unit or 'not recorded'}"
        return table

    def __repr__(self) -> str:
        if self.result is None:
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

    def __init__(
        self,
        purchase_covariates: Sequence[str] | None = None,
        dropout_covariates: Sequence[str] | None = None,
    ) -> None:
        super().__init__({"purchase": purchase_covariates, "dropout": dropout_covariates})

    def _read(self, data: Any, weights: Any | None) -> tuple[dict[str, np.ndarray], np.ndarray]:
        columns, row_weights, index = read_columns(data, weights)
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


def read_columns(
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


def broadcast_inputs(*values: Any, scalar: bool = True) -> tuple[list[np.ndarray], bool]:
    """Broadcast prediction inputs like numpy; remember whether all were scalars.

    ``scalar=False`` says that inputs broadcast earlier were not all scalars.
    """
    arrays, is_scalar = _validate.broadcast(*values)
    return arrays, is_scalar and scalar


def as_output(values: np.ndarray, is_scalar: bool, what: str = "the prediction") -> Any:
    """Return a float for scalar inputs, the array otherwise; refuse silent NaN."""
    return _validate.as_output(values, is_scalar, what)


def quiet(method: Any) -> Any:
    """Run a prediction with underflow to 0 allowed, whatever ``np.errstate`` the caller set.

    Probabilities of long-gone customers underflow (``exp(-800)``); 0 is the right
    answer there, and a caller working under ``np.errstate(all="raise")`` should
    not get an exception for it. Overflow and invalid operations still surface.
    """

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with np.errstate(under="ignore"):
            return method(*args, **kwargs)

    return wrapper
