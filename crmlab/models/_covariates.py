"""Time-invariant covariates: reading them, refusing what cannot be estimated, scaling.

A covariate model scales a parameter of the base model per customer::

    alpha_i = alpha * exp(sign * gamma' z_i)

with ``sign`` fixed by the model so that a coefficient reads the way its name says
(Pareto/NBD: ``sign = -1`` on ``alpha`` and on ``beta``, so a positive purchase
coefficient means more purchasing and a positive dropout coefficient faster
dropout). This is the form of Fader & Hardie's note "Incorporating time-invariant
covariates into the Pareto/NBD and BG/NBD models" (2007), which CLVTools also uses.

Covariates must be numbers. A category is given as 0/1 columns (one level left
out, e.g. ``pd.get_dummies(df, drop_first=True)``). A covariate that takes one
value only is not identified (its coefficient and the base parameter trade off
exactly) and is refused; so are missing values.

>>> import pandas as pd
>>> read_covariates(pd.DataFrame({"g": [0, 1, 1]}), ("g",)).tolist()
[[0.0], [1.0], [1.0]]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from crmlab._validate import InputError, Problem, first_rows, raise_problems

__all__ = ["MissingCovariateError", "covariate_key", "read_covariates"]


class MissingCovariateError(InputError):
    """A covariate column is absent from the data, or holds missing values."""


def covariate_key(group: str, name: str) -> str:
    """The key under which a covariate travels with the model's data columns."""
    return f"z.{group}.{name}"


def not_numeric(name: str, dtype: Any) -> ValueError:
    """The error for a covariate column that does not hold numbers (pandas or Spark)."""
    return ValueError(
        f"covariate {name!r} is not numeric (dtype {dtype}): code a category as "
        "0/1 columns, e.g. pd.get_dummies(data, columns=[...], drop_first=True, "
        "dtype=float), and name those columns as covariates"
    )


def missing_values(name: str, count: int, rows: str) -> Problem:
    """The complaint about ``count`` missing values of covariate ``name`` (``rows``: the first)."""
    return Problem(
        f"covariate {name!r}",
        count,
        "missing or infinite value(s)",
        rows,
        "Fill them (e.g. with an indicator column for 'unknown') or drop those "
        "customers before fitting; crmlab drops nothing silently",
    )


def raise_missing(problems: Sequence[Problem]) -> None:
    """Raise one :class:`MissingCovariateError` for the :func:`missing_values` found."""
    raise MissingCovariateError("\n".join(str(p) for p in problems), problems)


def read_covariates(
    data: Any,
    names: Sequence[str],
    *,
    index: Sequence[Any] | None = None,
    require_variation: bool = True,
    size: int | None = None,
) -> np.ndarray:
    """The covariate columns ``names`` of ``data`` as an (n, k) float matrix, checked.

    Parameters
    ----------
    data : DataFrame or mapping of arrays
        Holds a column per covariate.
    names : sequence of str
        The covariates, in the order of the model's coefficients.
    index : sequence, optional
        Row labels for messages (taken from a DataFrame by default).
    require_variation : bool
        Refuse a covariate with a single value (done when fitting, not predicting).
    size : int, optional
        Number of rows expected (scalars are then broadcast to it).

    Raises
    ------
    MissingCovariateError
        A column is absent, or holds missing values (counted, first rows named).
    ValueError
        A column is not numeric, or (when fitting) takes one value only.
    """
    if isinstance(data, pd.DataFrame):
        index = data.index if index is None else index
        available = [str(c) for c in data.columns]
    elif isinstance(data, Mapping):
        available = [str(c) for c in data]
    else:
        raise TypeError(
            f"covariates must come in a DataFrame or a dict of arrays, got {type(data).__name__}"
        )
    absent = [name for name in names if name not in available]
    if absent:
        raise MissingCovariateError(
            f"covariate column(s) {absent} are not in the data (its columns: {available}). "
            "Add them (one row per customer, aligned with x, t_x, T), or leave them out of "
            "the model's covariates."
        )
    columns = []
    problems = []
    missing = []
    for name in names:
        raw = data[name]
        if isinstance(raw, pd.Series) and not (
            pd.api.types.is_numeric_dtype(raw) or pd.api.types.is_bool_dtype(raw)
        ):
            raise not_numeric(name, raw.dtype)
        try:
            values = np.asarray(raw, dtype="float64").ravel()
        except (TypeError, ValueError) as error:
            raise ValueError(f"covariate {name!r} must be numeric: {error}") from None
        if size is not None and values.size == 1:
            values = np.full(size, values[0])
        bad = ~np.isfinite(values)
        if bad.any():
            missing.append(
                missing_values(name, int(bad.sum()), first_rows(bad, values, labels=index))
            )
        elif require_variation and values.size > 0 and np.all(values == values[0]):
            problems.append(
                Problem(
                    f"covariate {name!r}",
                    int(values.size),
                    f"row(s) all hold the same value {values[0]:g}, so its coefficient is "
                    "not identified (it trades off exactly against the base parameter)",
                    "",
                    "Leave it out of the covariates, or use data in which it varies",
                )
            )
        columns.append(values)
    if missing:
        raise_missing(missing)
    raise_problems(problems)
    if not columns:
        return np.empty((size or 0, 0))
    lengths = {len(column) for column in columns}
    if len(lengths) > 1:
        raise ValueError(f"covariate columns differ in length: {sorted(lengths)}")
    return np.column_stack(columns)
