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
import functools
import inspect
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from crmlab.models._record import Fit

if TYPE_CHECKING:
    from crmlab.models._base import MLEModel

__all__ = [
    "INTERVAL_PARAMETERS",
    "METHODS",
    "draw_models",
    "interval_option",
    "parameter_draws",
    "with_interval",
]

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


#: The numpydoc entries every prediction with an interval path shares (see :func:`interval_option`).
INTERVAL_PARAMETERS = """\
interval : float, optional
    A level such as 0.9: instead of the point prediction, return a table with one
    row per customer and the columns ``estimate``, ``lower`` and ``upper``, the
    central ``interval`` share of the prediction over ``draws`` parameter sets.
    It covers the uncertainty of the parameters, not the spread of what the
    customer will do.
method : {"normal", "bootstrap"}, default "normal"
    How the parameter sets are drawn: from the asymptotic normal of the estimate
    (fast), or by refitting on customers resampled with replacement; see
    :mod:`crmlab.models._intervals`.
draws : int, optional
    How many parameter sets (default 500 normal draws or 100 bootstrap refits).
seed : int or None, default 0
    Seed of the draws; the same seed gives the same interval."""

#: Memory one block of (draws × distinct customers) values may take.
BLOCK_BYTES = 2**27


def interval_option(*per_customer: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Give a point prediction method the ``interval=`` path, its keywords and their docs.

    The decorated method computes the point prediction only; the decorator adds the
    keyword-only ``interval``, ``method``, ``draws`` and ``seed`` to its signature,
    the numpydoc entries of :data:`INTERVAL_PARAMETERS` to its docstring, and, when
    ``interval`` is given, returns :func:`with_interval` of it. ``per_customer``
    names the arguments that hold one value per customer: they label the rows of
    the table and say which customers are alike.

    >>> import inspect
    >>> from crmlab.models import BGNBD
    >>> list(inspect.signature(BGNBD.p_alive).parameters)[-4:]
    ['interval', 'method', 'draws', 'seed']
    >>> "draws : int" in BGNBD.p_alive.__doc__
    True
    """

    def decorate(point: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(point)

        @functools.wraps(point)
        def predict(
            self: MLEModel,
            *args: Any,
            interval: float | None = None,
            method: str = "normal",
            draws: int | None = None,
            seed: int | None = 0,
            **kwargs: Any,
        ) -> Any:
            if interval is None:
                return point(self, *args, **kwargs)
            bound = signature.bind(self, *args, **kwargs)
            bound.apply_defaults()
            arguments = dict(bound.arguments)
            del arguments[next(iter(signature.parameters))]
            return with_interval(
                self,
                point,
                arguments,
                interval,
                method=method,
                draws=draws,
                seed=seed,
                per_customer=per_customer,
                index=index_of(*(arguments[name] for name in per_customer)),
            )

        extra = [
            inspect.Parameter(
                name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=kind
            )
            for name, default, kind in (
                ("interval", None, "float | None"),
                ("method", "normal", "str"),
                ("draws", None, "int | None"),
                ("seed", 0, "int | None"),
            )
        ]
        parameters = list(signature.parameters.values())
        tail = [p for p in parameters if p.kind is inspect.Parameter.VAR_KEYWORD]
        head = [p for p in parameters if p.kind is not inspect.Parameter.VAR_KEYWORD]
        predict.__signature__ = signature.replace(parameters=head + extra + tail)  # type: ignore[attr-defined]
        predict.__doc__ = add_parameters(point.__doc__ or "", INTERVAL_PARAMETERS)
        return predict

    return decorate


def add_parameters(doc: str, entries: str) -> str:
    """``doc`` with numpydoc ``entries`` at the end of its Parameters section (made if absent).

    A doctest that follows without a heading gets the ``Examples`` one, so that
    numpydoc does not read it as part of the parameters.

    >>> add_parameters("Summary.", "seed : int").splitlines()
    ['Summary.', '', 'Parameters', '----------', 'seed : int']
    """
    lines = inspect.cleandoc(doc).splitlines()
    new = entries.splitlines()
    if "Parameters" in lines:
        at = lines.index("Parameters") + 2
        # The section ends at a blank line followed by text that is not an entry's continuation.
        while at < len(lines) and not (
            lines[at] == "" and (at + 1 == len(lines) or not lines[at + 1].startswith(" "))
        ):
            at += 1
        lines[at:at] = new
    else:
        at = next((i for i, line in enumerate(lines) if line.startswith(">>>")), len(lines))
        block = ["Parameters", "----------", *new] + ([""] if at < len(lines) else [])
        if at and lines[at - 1] != "":
            block.insert(0, "")
        lines[at:at] = block
    if "Examples" not in lines:
        at = next((i for i, line in enumerate(lines) if line.startswith(">>>")), None)
        if at is not None:
            lines[at:at] = ["Examples", "--------"]
    return "\n".join(lines)


def with_interval(
    models: MLEModel | Sequence[MLEModel],
    point: Callable[..., Any],
    arguments: dict[str, Any],
    level: float,
    *,
    method: str = "normal",
    draws: int | None = None,
    seed: int | None = 0,
    per_customer: Sequence[str] = (),
    index: Any = None,
) -> pd.DataFrame:
    """``point(*models, **arguments)`` with its lower and upper ``level`` bounds, per customer.

    Each model's parameter sets are drawn independently (:func:`parameter_draws`);
    the prediction is evaluated at each combination in turn. The draws are
    evaluated once per *distinct* customer, i.e. per distinct row of the
    ``per_customer`` arguments (and covariates), and mapped back, in blocks of
    customers so that the draws × customers values never take more than
    :data:`BLOCK_BYTES`. A prediction that does not give one value per customer
    (e.g. a matrix over horizons) is evaluated whole.

    >>> import crmlab as cl
    >>> from crmlab.models import BGNBD
    >>> m = BGNBD().fit(cl.datasets.load_cdnow_published_summary())
    >>> table = m.p_alive([2, 2], [30.43, 30.43], [38.86, 38.86], interval=0.9, draws=50)
    >>> table.columns.tolist(), bool(table["lower"].iloc[0] < table["upper"].iloc[0])
    (['estimate', 'lower', 'upper'], True)
    """
    if not 0 < level < 1:
        raise ValueError(f"interval must be a level between 0 and 1 (e.g. 0.9), got {level}")
    models = (models,) if not isinstance(models, Sequence) else tuple(models)
    raw = point(*models, **arguments)
    if index is None and isinstance(raw, pd.Series):
        index = raw.index  # e.g. a model that reads its customers from a data object
    estimate = np.atleast_1d(np.asarray(raw, dtype=float))
    *clones, draws = draw_models(models, draws, method, seed)
    tail = (1 - level) / 2
    groups = _distinct_customers(models, arguments, per_customer, estimate)
    if groups is None:
        values = np.array(
            [
                np.asarray(point(*draw, **arguments), dtype=float).ravel()
                for draw in zip(*clones, strict=True)
            ]
        )
        lower, upper = np.quantile(values, [tail, 1 - tail], axis=0)
        estimate = estimate.ravel()
    else:
        first, inverse, slice_arguments = groups
        lower, upper = np.empty(len(first)), np.empty(len(first))
        block = max(1, BLOCK_BYTES // (8 * draws))
        for start in range(0, len(first), block):
            rows = first[start : start + block]
            chunk = slice_arguments(rows)
            values = np.array(
                [
                    np.asarray(point(*draw, **chunk), dtype=float).ravel()
                    for draw in zip(*clones, strict=True)
                ]
            )
            bounds = np.quantile(values, [tail, 1 - tail], axis=0)
            lower[start : start + block], upper[start : start + block] = bounds
        lower, upper = lower[inverse], upper[inverse]
    if index is None or len(index) != estimate.size:
        index = pd.RangeIndex(estimate.size)
    table = pd.DataFrame({"estimate": estimate, "lower": lower, "upper": upper}, index=index)
    table.attrs.update(level=level, method=method, draws=draws)
    return table


def draw_models(
    models: Sequence[MLEModel], draws: int | None, method: str = "normal", seed: int | None = 0
) -> list[Any]:
    """For each model, ``draws`` copies of it that predict with drawn parameters; then ``draws``.

    The models' parameters are drawn independently (each from its own fit), with
    seeds spawned from ``seed``; ``draws`` defaults to 500 normal draws or 100
    bootstrap refits.

    >>> import crmlab as cl
    >>> m = cl.models.BGNBD().fit(cl.datasets.load_cdnow_published_summary())
    >>> copies, n = draw_models([m], 3)
    >>> n, len(copies), copies[0].params != m.params
    (3, 3, True)
    """
    if draws is None:
        draws = 500 if method == "normal" else 100
    seeds = [seed] if len(models) == 1 else np.random.SeedSequence(seed).spawn(len(models))
    copies: list[Any] = [
        [_with_params(model, params) for params in parameter_draws(model, draws, method, s)]
        for model, s in zip(models, seeds, strict=True)
    ]
    return [*copies, draws]


def _with_params(model: MLEModel, params: np.ndarray) -> MLEModel:
    """A shallow copy of ``model`` that predicts with ``params``."""
    clone = copy.copy(model)
    clone.result = Fit(estimate=params)
    return clone


def _distinct_customers(
    models: Sequence[MLEModel],
    arguments: dict[str, Any],
    per_customer: Sequence[str],
    estimate: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, Callable[[np.ndarray], dict[str, Any]]] | None:
    """The distinct customers among ``arguments``: first row of each, each row's group, a slicer.

    None when the prediction is not one value per customer or an argument named
    per customer is not a 1-d array of that length (then nothing is compressed).
    """
    if estimate.ndim != 1:
        return None
    n = estimate.size
    arrays: dict[str, np.ndarray] = {}
    for name in per_customer:
        value = arguments.get(name)
        if isinstance(value, str | tuple) or value is None:
            continue
        array = np.asarray(value)
        if array.dtype.kind == "O" and array.ndim == 0:
            return None  # a data object (e.g. TimeVaryingData): evaluate it whole
        if array.ndim == 0:
            continue
        if array.ndim != 1 or array.size not in (1, n) or array.dtype.kind not in "biuf":
            return None
        arrays[name] = np.broadcast_to(array, (n,))
    covariate_names = sorted(
        {name for model in models for names in model.covariates.values() for name in names}
    )
    covariates = arguments.get("covariates")
    table: dict[str, np.ndarray] = {}
    if covariates is not None and covariate_names:
        for name in covariate_names:
            try:
                column = np.asarray(covariates[name])
            except (KeyError, IndexError, TypeError):
                return None
            if column.ndim != 1 or column.size != n:
                return None
            table[name] = column
    first, inverse = distinct_rows([*arrays.values(), *table.values()], n)

    def slice_arguments(rows: np.ndarray) -> dict[str, Any]:
        chunk = dict(arguments)
        chunk.update({name: array[rows] for name, array in arrays.items()})
        if table:
            chunk["covariates"] = {name: column[rows] for name, column in table.items()}
        return chunk

    return first, inverse, slice_arguments


def distinct_rows(columns: Sequence[np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
    """The first row of each distinct row of ``columns`` and each row's group (hashing, no sort).

    The running key is made dense again after each column, so it never overflows
    whatever the number of columns and distinct values.

    >>> first, inverse = distinct_rows([np.array([1.0, 2.0, 1.0]), np.array([5, 5, 5])], 3)
    >>> first.tolist(), inverse.tolist()
    ([0, 1], [0, 1, 0])
    """
    key = np.zeros(n, dtype=np.int64)
    for column in columns:
        codes, uniques = pd.factorize(column)
        key, _ = pd.factorize(key * (len(uniques) + 1) + codes + 1)
    _, first = np.unique(key, return_index=True)
    return first, key.astype(np.intp)


def index_of(*values: Any) -> Any:
    """The index of the first pandas argument, to label the rows of an interval table."""
    for value in values:
        if isinstance(value, pd.Series | pd.Index):
            return value.index if isinstance(value, pd.Series) else value
    return None
