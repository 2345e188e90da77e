"""The fit machinery's exact derivatives and shortcuts against plain computation.

Each analytic gradient is checked against central differences of the likelihood,
and each shortcut (grouped special functions, compression) against the direct
computation it replaces.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlab.models import BGNBD, MBGNBD, GammaGamma, ParetoNBD
from crmlab.models._base import compress_rows


def _with_covariates(summary: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return summary[["x", "t_x", "T"]].assign(
        g=rng.integers(0, 2, len(summary)).astype(float), c=rng.normal(size=len(summary))
    )


def _prepared(model, data):
    """The columns a fit evaluates: read, compressed, with the model's groups."""
    columns, weights = model._read_all(data, None, fitting=True)
    columns, weights = compress_rows(columns, weights)
    return model._with_levels(columns), weights


def _central_differences(model, columns, weights, free, step=1e-6):
    def value(u):
        return model._negloglik(model._from_free(u), columns, weights)

    return np.array(
        [(value(free + h) - value(free - h)) / (2 * step) for h in np.eye(len(free)) * step]
    )


PARETO_POINTS = {
    "alpha<beta": [0.55, 10.58, 0.61, 11.67],
    "alpha>beta": [0.55, 14.0, 0.61, 6.0],
    "far": [1.3, 3.0, 2.2, 30.0],
}


@pytest.mark.parametrize("point", list(PARETO_POINTS.values()), ids=list(PARETO_POINTS))
@pytest.mark.parametrize("covariates", [False, True], ids=["plain", "covariates"])
def test_the_analytic_pareto_nbd_gradient_matches_central_differences(
    point, covariates, cdnow_calibration
):
    model = (
        ParetoNBD(purchase_covariates=["g", "c"], dropout_covariates=["g"])
        if covariates
        else ParetoNBD()
    )
    columns, weights = _prepared(model, _with_covariates(cdnow_calibration))
    free = model._to_free(np.r_[point, np.full(len(model.coefficient_names), 0.2)])
    numeric = _central_differences(model, columns, weights, free)
    analytic = model._free_gradient(free, columns, weights)
    assert np.allclose(analytic, numeric, rtol=1e-6, atol=1e-3)
    # A wrong derivative in any one parameter would be off by far more than this.
    assert np.max(np.abs(analytic - numeric)) < 1e-6 * np.max(np.abs(numeric)) + 1e-3


@pytest.mark.parametrize(
    "model",
    [ParetoNBD(), ParetoNBD(purchase_covariates=["g"], dropout_covariates=["c"])],
    ids=["plain", "covariates"],
)
def test_grouped_pareto_nbd_likelihood_equals_the_direct_one(model, cdnow_calibration):
    columns, _ = _prepared(model, _with_covariates(cdnow_calibration, seed=2))
    plain = {key: value for key, value in columns.items() if not key.endswith("_groups")}
    assert len(plain) < len(columns)
    params = np.r_[0.55, 10.58, 0.61, 11.67, np.full(len(model.coefficient_names), -0.3)]
    grouped = model._rows(params, columns)
    direct = model._rows(params, plain)
    assert np.allclose(grouped, direct, rtol=1e-12, atol=1e-10)


@pytest.mark.parametrize("model_class", [BGNBD, MBGNBD], ids=["bgnbd", "mbgnbd"])
def test_bgnbd_likelihood_and_gradient_together_equal_the_separate_ones(
    model_class, cdnow_calibration
):
    model = model_class(purchase_covariates=["c"], dropout_covariates=["g"])
    columns, _ = _prepared(model, _with_covariates(cdnow_calibration, seed=3))
    params = model._split(np.array([0.3, 4.0, 0.8, 2.4, 0.2, -0.4]), columns)
    data = model._model_columns(columns)
    rows, gradient = model._loglik_and_gradient_rows(params, **data)
    plain = {key: value for key, value in data.items() if not key.endswith(("_groups", "_levels"))}
    assert np.allclose(rows, model._loglik_rows(params, **plain), rtol=1e-12, atol=1e-10)
    assert len(gradient) == 4 and all(np.all(np.isfinite(g)) for g in gradient)


def test_compression_gives_each_distinct_row_once_in_key_order_with_its_count():
    rng = np.random.default_rng(4)
    columns = {
        "x": rng.integers(0, 3, 500).astype(float),
        "t": rng.integers(0, 4, 500) / 7,
    }
    weights = rng.integers(1, 3, 500).astype(float)
    merged, summed = compress_rows(columns, weights)
    frame = pd.DataFrame(columns).assign(w=weights).groupby(["x", "t"], sort=True)["w"].sum()
    assert list(zip(merged["x"], merged["t"], strict=True)) == list(frame.index)
    assert summed.tolist() == frame.tolist()


@pytest.mark.parametrize(
    "model_class, data_of",
    [
        (ParetoNBD, lambda s: s[["x", "t_x", "T"]]),
        (BGNBD, lambda s: s[["x", "t_x", "T"]]),
        (GammaGamma, lambda s: s[["x", "monetary"]]),
    ],
    ids=["pareto", "bgnbd", "gamma-gamma"],
)
def test_the_fit_ends_where_the_exact_gradient_vanishes(model_class, data_of, cdnow_calibration):
    model = model_class().fit(data_of(cdnow_calibration))
    columns, weights = _prepared(model, data_of(cdnow_calibration))
    gradient = model._free_gradient(model._to_free(model.result.estimate), columns, weights)
    # Per customer; BFGS alone stops near 1e-7, the Newton finish goes well below.
    assert np.max(np.abs(gradient)) / model.n_obs < 1e-8


def test_gamma_gamma_sums_give_the_likelihood_its_gradient_and_its_hessian(cdnow_calibration):
    model = GammaGamma()
    columns, weights = _prepared(model, cdnow_calibration[["x", "monetary"]])
    params = np.array([5.0, 3.0, 12.0])
    value, gradient, hessian = model._exact_sums(params, columns, weights)
    plain = {key: columns[key] for key in ("x", "monetary")}
    assert value == pytest.approx(model._negloglik(params, plain, weights), rel=1e-12)
    steps = np.eye(3) * 1e-5 * params
    numeric_gradient = [
        (
            model._negloglik(params + h, plain, weights)
            - model._negloglik(params - h, plain, weights)
        )
        / (2 * h.sum())
        for h in steps
    ]
    assert gradient == pytest.approx(numeric_gradient, rel=1e-6, abs=1e-4)
    numeric_hessian = np.array(
        [
            (
                model._exact_sums(params + h, columns, weights)[1]
                - model._exact_sums(params - h, columns, weights)[1]
            )
            / (2 * h.sum())
            for h in steps
        ]
    )
    assert np.allclose(hessian, numeric_hessian, rtol=1e-5, atol=1e-3)
    # With covariates there are no closed-form sums; the fit takes the gradient path.
    assert GammaGamma(spend_covariates=["g"])._exact_sums(params, columns, weights) is None


@pytest.mark.parametrize(
    "model_class, truth",
    [
        (ParetoNBD, {"r": 0.55, "alpha": 10.58, "s": 0.61, "beta": 11.67}),
        (BGNBD, {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}),
    ],
    ids=["pareto", "bgnbd"],
)
def test_a_large_base_fitted_from_a_subsample_start_ends_at_the_full_minimum(
    model_class, truth, monkeypatch
):
    from crmlab.models import _base

    rng = np.random.default_rng(5)
    T = 52.0 - rng.integers(0, 200, 20_000) / 7
    base = pd.DataFrame(model_class().set_params(**truth).simulate(20_000, T, seed=6))
    calls = []

    # BFGS evaluates value and gradient; Newton's method (BG/NBD without covariates)
    # the closed-form sums with the Hessian: count whichever the fit uses.
    def counting(evaluate):
        def counted(self, free, columns, weights):
            calls.append(len(weights))
            return evaluate(self, free, columns, weights)

        return counted

    for method in ("_free_value_and_gradient", "_exact_sums"):
        monkeypatch.setattr(model_class, method, counting(getattr(model_class, method)))
    monkeypatch.setattr(_base, "SUBSAMPLE_ROWS", 10**9)
    usual = model_class().fit(base)
    full_rows, usual_calls = usual.n_rows, len(calls)
    calls.clear()
    monkeypatch.setattr(_base, "SUBSAMPLE_ROWS", 3_000)
    warm = model_class().fit(base)
    warm_calls = sum(1 for rows in calls if rows == full_rows)
    assert full_rows > 3_000 and warm.converged
    assert len(calls) > warm_calls  # the subsample was fitted first
    if model_class is BGNBD:
        # Newton's method from the usual start takes about seven evaluations; from
        # the subsample's estimate it saves some of them.
        assert "Newton" in usual.message and "Newton" in warm.message
        assert warm_calls < usual_calls
    else:
        assert warm_calls < usual_calls / 1.5  # and saved evaluations on all rows
    assert warm.loglik == pytest.approx(usual.loglik, rel=1e-12, abs=1e-6)
    for name, value in usual.params.items():
        assert warm.params[name] == pytest.approx(value, rel=1e-6), name


@pytest.mark.parametrize("model_class", [BGNBD, MBGNBD], ids=["bgnbd", "mbgnbd"])
@pytest.mark.parametrize("covariates", [False, True], ids=["plain", "covariates"])
def test_the_grouped_bgnbd_gradient_matches_central_differences(
    model_class, covariates, cdnow_calibration
):
    model = (
        model_class(purchase_covariates=["c"], dropout_covariates=["g", "c"])
        if covariates
        else model_class()
    )
    columns, weights = _prepared(model, _with_covariates(cdnow_calibration, seed=7))
    assert any(key.endswith(("_groups", "_levels")) for key in columns)
    free = model._to_free(np.r_[[0.3, 4.0, 0.8, 2.4], np.full(len(model.coefficient_names), 0.2)])
    numeric = _central_differences(model, columns, weights, free)
    assert np.allclose(model._free_gradient(free, columns, weights), numeric, rtol=1e-6, atol=1e-3)
