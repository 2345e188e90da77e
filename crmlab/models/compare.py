"""Compare fitted models in one table: fit, parameters, information criteria, tests, holdout.

For each model: its log-likelihood, number of parameters and customers, AIC and
BIC, whether it converged, and its estimates (one column per parameter name,
empty where a model has no such parameter). For nested pairs (the same model
with more covariates, fitted on the same customers) a likelihood-ratio test:
``LR = 2 (LL_big - LL_small)`` against a chi-squared with as many degrees of
freedom as added parameters (Wilks 1938). With holdout columns (``x_holdout``,
``duration_holdout``, as :func:`crmlab.transactions.calibration_holdout` gives
them) and models that forecast purchases, the holdout errors: the aggregate
forecast against what happened, and per-customer MAE and RMSE of the conditional
expectation against ``x_holdout``.

Reference: Wilks, S. S. (1938). The large-sample distribution of the likelihood
ratio for testing composite hypotheses. *Annals of Mathematical Statistics*, 9(1),
60–62.

>>> import crmlab as cl
>>> s = cl.datasets.load_cdnow_published_summary()
>>> table = cl.models.compare([cl.models.BGNBD().fit(s), cl.models.ParetoNBD().fit(s)])
>>> print(table[["loglik", "k", "aic"]].round(2).to_string())  # doctest: +NORMALIZE_WHITESPACE
            loglik  k       aic
model
BGNBD     -9582.43  4  19172.85
ParetoNBD -9594.97  4  19197.95
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from crmlab.models._base import MLEModel

__all__ = ["compare"]


def compare(
    models: Sequence[MLEModel],
    data: pd.DataFrame | None = None,
    *,
    names: Sequence[str] | None = None,
) -> pd.DataFrame:
    """One row per fitted model: loglik, k, n, AIC, BIC, converged, estimates, tests, errors.

    Parameters
    ----------
    models : sequence of fitted models
        Models fitted by maximum likelihood (not given parameters by hand).
    data : DataFrame, optional
        Calibration and holdout columns (``x``, ``t_x``, ``T``, ``x_holdout``,
        ``duration_holdout`` and any covariates): adds ``holdout_forecast``,
        ``holdout_actual``, ``holdout_error_%``, ``mae`` and ``rmse`` for models with
        ``conditional_expected_purchases``.
    names : sequence of str, optional
        Row labels (default: the class names, numbered if repeated).

    Returns
    -------
    DataFrame
        Columns ``loglik``, ``k``, ``n``, ``aic``, ``bic``, ``converged``; for a model
        nesting an earlier one, ``lr_against``, ``lr_statistic``, ``lr_df`` and
        ``lr_p_value``; the holdout columns; then one column per parameter.
    """
    from scipy.stats import chi2

    models = list(models)
    if not models:
        raise ValueError("compare needs at least one fitted model")
    for model in models:
        model._require_fit()
        if model.result is None or np.isnan(model.loglik):
            raise ValueError(
                f"{model!r} holds parameters set by hand: compare takes fitted models "
                "(a log-likelihood is needed)"
            )
    labels = list(names) if names is not None else _labels(models)
    if len(labels) != len(models):
        raise ValueError(f"{len(labels)} names for {len(models)} models")
    rows = []
    for label, model in zip(labels, models, strict=True):
        assert model.result is not None
        rows.append(
            {
                "model": label,
                "loglik": model.loglik,
                "k": model.result.n_params,
                "n": model.n_obs,
                "aic": model.aic(),
                "bic": model.bic(),
                "converged": model.converged,
            }
        )
    table = pd.DataFrame(rows).set_index("model")
    tests = [_lr_test(i, models, labels, chi2) for i in range(len(models))]
    if any(test is not None for test in tests):
        table["lr_against"] = [None if t is None else t[0] for t in tests]
        for position, column in enumerate(("lr_statistic", "lr_df", "lr_p_value"), start=1):
            table[column] = [np.nan if t is None else t[position] for t in tests]
    if data is not None:
        errors = [_holdout_errors(model, data) for model in models]
        for column in ("holdout_forecast", "holdout_actual", "holdout_error_%", "mae", "rmse"):
            table[column] = [np.nan if e is None else e[column] for e in errors]
    parameters = pd.DataFrame([model.params for model in models], index=table.index)
    return table.join(parameters)


def _labels(models: Sequence[MLEModel]) -> list[str]:
    names = [type(model).__name__ for model in models]
    counts = {name: names.count(name) for name in names}
    seen: dict[str, int] = {}
    labels = []
    for model, name in zip(models, names, strict=True):
        if counts[name] > 1:
            seen[name] = seen.get(name, 0) + 1
            extra = ", ".join(model.coefficient_names) or "no covariates"
            name = f"{name} #{seen[name]} ({extra})"
        labels.append(name)
    return labels


def _lr_test(
    i: int, models: Sequence[MLEModel], labels: Sequence[str], chi2: Any
) -> tuple[str, float, int, float] | None:
    """The test of model ``i`` against the largest earlier-listed model nested in it."""
    big = models[i]
    candidates = [
        j
        for j, small in enumerate(models)
        if j != i
        and type(small) is type(big)
        and set(small.names) < set(big.names)
        and small.n_obs == big.n_obs
    ]
    if not candidates:
        return None
    j = max(candidates, key=lambda j: len(models[j].names))
    small = models[j]
    statistic = 2 * (big.loglik - small.loglik)
    df = len(big.names) - len(small.names)
    return labels[j], float(statistic), int(df), float(chi2.sf(max(statistic, 0.0), df))


def _holdout_errors(model: MLEModel, data: pd.DataFrame) -> dict[str, float] | None:
    forecast = getattr(model, "conditional_expected_purchases", None)
    needed = ("x", "t_x", "T", "x_holdout", "duration_holdout")
    if forecast is None:
        return None
    missing = [column for column in needed if column not in data.columns]
    if missing:
        raise ValueError(
            f"holdout data lack column(s) {missing}; build them with "
            "crmlab.transactions.calibration_holdout"
        )
    model._check_unit(data, "the holdout data")
    options = {"covariates": data} if model.covariates else {}
    predicted = np.asarray(
        forecast(data["duration_holdout"], data["x"], data["t_x"], data["T"], **options),
        dtype=float,
    )
    actual = data["x_holdout"].to_numpy(dtype=float)
    residual = predicted - actual
    return {
        "holdout_forecast": float(predicted.sum()),
        "holdout_actual": float(actual.sum()),
        "holdout_error_%": float(100 * (predicted.sum() - actual.sum()) / actual.sum()),
        "mae": float(np.mean(np.abs(residual))),
        "rmse": float(np.sqrt(np.mean(residual**2))),
    }
