"""Compare fitted models in one table: fit, parameters, information criteria, tests, holdout.

For each model: its log-likelihood, number of parameters and customers, AIC and
BIC, whether it converged, and its estimates (one column per parameter name,
empty where a model has no such parameter). For nested pairs (the same model
with more covariates, fitted on the same customers) a likelihood-ratio test:
``LR = 2 (LL_big - LL_small)`` against a chi-squared with as many degrees of
freedom as added parameters (Wilks 1938). Nesting across families is declared in
:data:`NESTED_FAMILIES`: the GGom/NBD nests the Pareto/NBD at ``b = 0``, which is
the edge of ``b``'s range, so there the reference distribution is the 50:50 mixture
of chi-squared with ``df - 1`` and ``df`` degrees of freedom (Self & Liang 1987),
and ``lr_reference`` says which reference a p-value comes from. With holdout columns (``x_holdout``,
``duration_holdout``, as :func:`crmlab.transactions.calibration_holdout` gives
them) and models that forecast purchases, the holdout errors: the aggregate
forecast against what happened, and per-customer MAE and RMSE of the conditional
expectation against ``x_holdout``.

Reference: Wilks, S. S. (1938). The large-sample distribution of the likelihood
ratio for testing composite hypotheses. *Annals of Mathematical Statistics*, 9(1),
60–62. Self, S. G., & Liang, K.-Y. (1987). Asymptotic properties of maximum likelihood
estimators and likelihood ratio tests under nonstandard conditions. *Journal of the
American Statistical Association*, 82(398), 605–610.

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

__all__ = ["NESTED_FAMILIES", "compare"]

#: (smaller model, larger model) class names -> the larger model's parameters that
#: sit on the edge of their range when it reduces to the smaller one. Within one
#: class, a model nests another with fewer covariates (no boundary).
NESTED_FAMILIES: dict[tuple[str, str], tuple[str, ...]] = {
    # b -> 0 with beta / b fixed gives the Pareto/NBD's lifetime (Bemmaor & Glady 2012).
    ("ParetoNBD", "GGomNBD"): ("b",),
    # Coefficients at 0 give the time-invariant model; a covariate that stays the same
    # over time acts as the static one of that name (Bachmann, Meierer & Näf 2021).
    # Nothing on an edge. The static model must be fitted on the same customers (the
    # summary of the log the time-varying data were read from).
    ("ParetoNBD", "ParetoNBDTimeVarying"): (),
}


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
        table["lr_reference"] = [None if t is None else t[4] for t in tests]
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
) -> tuple[str, float, int, float, str] | None:
    """The test of model ``i`` against the largest other model nested in it."""
    big = models[i]
    candidates = [
        j
        for j, small in enumerate(models)
        if j != i
        and _nests(big, small)
        and set(small.names) < set(big.names)
        and small.n_obs == big.n_obs
    ]
    if not candidates:
        return None
    j = max(candidates, key=lambda j: len(models[j].names))
    small = models[j]
    statistic = 2 * (big.loglik - small.loglik)
    df = len(big.names) - len(small.names)
    at_edge = NESTED_FAMILIES.get((type(small).__name__, type(big).__name__), ())
    tail = float(chi2.sf(max(statistic, 0.0), df))
    if len(at_edge) == 1:
        # Under the smaller model the edge parameter's estimate sits on the edge half
        # the time (LR = 0 then): half the mass is chi2(df - 1), chi2(0) being 0.
        below = float(chi2.sf(max(statistic, 0.0), df - 1)) if df > 1 else float(statistic <= 0)
        reference = f"0.5 chi2({df - 1}) + 0.5 chi2({df}), {at_edge[0]} on its boundary"
        return labels[j], float(statistic), int(df), 0.5 * below + 0.5 * tail, reference
    return labels[j], float(statistic), int(df), tail, f"chi2({df})"


def _nests(big: MLEModel, small: MLEModel) -> bool:
    return type(small) is type(big) or (
        (type(small).__name__, type(big).__name__) in NESTED_FAMILIES
    )


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
    own = getattr(model, "_holdout_forecast", None)
    if own is not None:
        # a model whose forecast reads more than the table (a covariate path)
        predicted = np.asarray(own(data), dtype=float)
    else:
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
