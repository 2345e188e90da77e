"""Closed-form Hessians, the damped Newton fit, and the cheaper BFGS set-up of the Pareto/NBD.

The BG/NBD and MBG/NBD (with or without covariates) are fitted by Newton's method on
an exact Hessian and take their standard errors from it; the Pareto/NBD starts BFGS from the
outer product of the rows' gradients. Each is checked against the computation it
replaces: differences of the exact gradient, and the plain BFGS fit.
"""

from __future__ import annotations

import numpy as np
import pytest

from crmlab.models import BGNBD, MBGNBD, ParetoNBD
from crmlab.models._base import compress_rows, damped_newton

POINTS = {
    "cdnow": [0.243, 4.414, 0.793, 2.426],
    "mbg-cdnow": [0.525, 6.183, 0.891, 1.614],
    "far": [1.3, 2.0, 2.5, 0.7],
    "a-near-1": [0.4, 9.0, 1.0, 5.0],
}


def _prepared(model, data):
    columns, weights = model._read_all(data, None, fitting=True)
    columns, weights = compress_rows(columns, weights)
    return model._with_levels(columns), weights


@pytest.mark.parametrize("point", list(POINTS.values()), ids=list(POINTS))
@pytest.mark.parametrize("model_class", [BGNBD, MBGNBD], ids=["bgnbd", "mbgnbd"])
def test_the_closed_form_hessian_matches_differences_of_the_exact_gradient(
    model_class, point, cdnow_calibration
):
    model = model_class()
    columns, weights = _prepared(model, cdnow_calibration)
    params = np.array(point)
    value, gradient, hessian = model._exact_sums(params, columns, weights)
    plain_value, plain_gradient = model._value_and_gradient(params, columns, weights)
    assert value == pytest.approx(plain_value, rel=1e-14)
    assert np.allclose(gradient, plain_gradient, rtol=1e-12, atol=1e-9)
    numeric = model._gradient_hessian(params, columns, weights)
    assert np.allclose(hessian, hessian.T)
    # Richardson-extrapolated differences are good to about 1e-9 of the largest entry;
    # a wrong trigamma or a missing p(1 - p) g g' term is off by far more.
    assert np.max(np.abs(hessian - numeric)) < 1e-8 * np.max(np.abs(numeric))


@pytest.mark.parametrize("model_class", [BGNBD, MBGNBD], ids=["bgnbd", "mbgnbd"])
def test_newton_fit_and_its_standard_errors_match_the_bfgs_fit(
    model_class, cdnow_calibration, monkeypatch
):
    newton = model_class().fit(cdnow_calibration)
    assert "Newton" in newton.message and newton.converged
    # The same model without the closed-form sums: BFGS, a Newton polish on
    # differences of the gradient, and standard errors from those differences.
    monkeypatch.setattr(model_class, "_exact_sums", lambda self, *args: None)
    bfgs = model_class().fit(cdnow_calibration)
    assert "Newton" not in bfgs.message
    assert newton.loglik == pytest.approx(bfgs.loglik, rel=1e-12)
    for name, value in bfgs.params.items():
        assert newton.params[name] == pytest.approx(value, rel=1e-6), name
        assert newton.standard_errors[name] == pytest.approx(
            bfgs.standard_errors[name], rel=1e-5
        ), name


COVARIATE_OPTIONS = {
    "both-processes": {"purchase_covariates": ["g"], "dropout_covariates": ["g"]},
    "two-purchase": {"purchase_covariates": ["g", "h"]},
    "two-dropout": {"dropout_covariates": ["g", "h"]},
    "mixed": {"purchase_covariates": ["h"], "dropout_covariates": ["g", "h"]},
}


def _with_covariates(cdnow_calibration, options):
    rng = np.random.default_rng(0)
    data = cdnow_calibration[["x", "t_x", "T"]].assign(
        g=rng.integers(0, 2, len(cdnow_calibration)).astype(float),
        h=rng.normal(size=len(cdnow_calibration)),
    )
    used = {name for names in options.values() for name in names}
    return data[["x", "t_x", "T", *sorted(used)]]


@pytest.mark.parametrize("options", list(COVARIATE_OPTIONS.values()), ids=list(COVARIATE_OPTIONS))
@pytest.mark.parametrize("model_class", [BGNBD, MBGNBD], ids=["bgnbd", "mbgnbd"])
def test_the_covariate_hessian_matches_differences_of_the_exact_gradient(
    model_class, options, cdnow_calibration
):
    # The chain rule from each row's closed-form Hessian in (r, alpha_i, a_i, b_i).
    model = model_class(**options)
    columns, weights = _prepared(model, _with_covariates(cdnow_calibration, options))
    signs = (-1.0) ** np.arange(len(model.coefficient_names))
    coefficients = 0.2 * np.arange(1, len(model.coefficient_names) + 1) * signs
    params = np.r_[0.3, 5.0, 0.8, 2.2, coefficients]
    value, gradient, hessian = model._exact_sums(params, columns, weights)
    plain_value, plain_gradient = model._value_and_gradient(params, columns, weights)
    assert value == pytest.approx(plain_value, rel=1e-14)
    assert np.allclose(gradient, plain_gradient, rtol=1e-12, atol=1e-9)
    numeric = model._gradient_hessian(params, columns, weights)
    assert np.allclose(hessian, hessian.T, rtol=1e-12, atol=1e-9)
    # A wrong second derivative of alpha_i or a_i in a coefficient, or a missing
    # g * d2(theta_i) term, is off by far more than the differences' 1e-9.
    assert np.max(np.abs(hessian - numeric)) < 1e-8 * np.max(np.abs(numeric))


@pytest.mark.parametrize("model_class", [BGNBD, MBGNBD], ids=["bgnbd", "mbgnbd"])
def test_covariate_newton_fit_and_its_standard_errors_match_the_bfgs_fit(
    model_class, cdnow_calibration, monkeypatch
):
    options = COVARIATE_OPTIONS["both-processes"]
    data = _with_covariates(cdnow_calibration, options)
    newton = model_class(**options).fit(data)
    assert "Newton" in newton.message and newton.converged
    monkeypatch.setattr(model_class, "_exact_sums", lambda self, *args: None)
    bfgs = model_class(**options).fit(data)
    assert "Newton" not in bfgs.message and bfgs.converged
    assert newton.loglik == pytest.approx(bfgs.loglik, rel=1e-12)
    for name, value in bfgs.params.items():
        # abs for the coefficients, which may lie near 0
        assert newton.params[name] == pytest.approx(value, rel=1e-6, abs=1e-6), name
        assert newton.standard_errors[name] == pytest.approx(
            bfgs.standard_errors[name], rel=1e-5
        ), name


def test_covariate_models_without_closed_form_sums_keep_the_bfgs_path(cdnow_calibration):
    options = {"purchase_covariates": ["g"], "dropout_covariates": ["g"]}
    data = _with_covariates(cdnow_calibration, options)
    fitted = ParetoNBD(**options).fit(data)
    assert fitted.converged and "Newton" not in fitted.message


def test_damped_newton_recovers_from_a_start_where_the_hessian_is_indefinite():
    # Rosenbrock's valley: indefinite Hessian at (-1.2, 1), minimum at (1, 1).
    def sums(u):
        x, y = u
        value = (1 - x) ** 2 + 100 * (y - x * x) ** 2
        gradient = np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])
        hessian = np.array([[2 - 400 * y + 1200 * x * x, -400 * x], [-400 * x, 200.0]])
        return value, gradient, hessian

    result = damped_newton(sums, np.array([-1.2, 1.0]))
    assert result.success
    assert np.allclose(result.x, [1.0, 1.0], atol=1e-8)
    assert result.nfev < 100


def test_damped_newton_rejects_steps_into_non_finite_values():
    # Defined for u < 2 only; the undamped first step from 0 lands at 3.
    def sums(u):
        (v,) = u
        if v >= 2:
            return 1e300, np.zeros(1), np.eye(1)
        return (
            float((v - 1.5) ** 2 - 1e-3 * v**3),
            np.array([2 * (v - 1.5) - 3e-3 * v**2]),
            (np.array([[2 - 6e-3 * v]])),
        )

    result = damped_newton(sums, np.array([-1.5]))
    assert result.success and result.x[0] < 2
    assert abs(result.jac[0]) < 1e-9


def test_the_outer_product_start_saves_pareto_nbd_evaluations(cdnow_calibration, monkeypatch):
    calls = []
    evaluate = ParetoNBD._free_value_and_gradient

    def counted(self, free, columns, weights):
        calls.append(1)
        return evaluate(self, free, columns, weights)

    monkeypatch.setattr(ParetoNBD, "_free_value_and_gradient", counted)
    quick = ParetoNBD().fit(cdnow_calibration)
    quick_calls = len(calls)
    calls.clear()
    monkeypatch.setattr(ParetoNBD, "bfgs_from_outer_product", False)
    plain = ParetoNBD().fit(cdnow_calibration)
    assert quick.converged and plain.converged
    assert quick_calls < 0.8 * len(calls)
    assert quick.loglik == pytest.approx(plain.loglik, rel=1e-12)
    for name, value in plain.params.items():
        assert quick.params[name] == pytest.approx(value, rel=1e-6), name


def test_the_single_step_standard_errors_of_the_pareto_nbd_match_richardson(
    cdnow_calibration, monkeypatch
):
    model = ParetoNBD().fit(cdnow_calibration)
    single = model.standard_errors
    monkeypatch.setattr(ParetoNBD, "hessian_steps", (1e-3, 2e-3))
    extrapolated = ParetoNBD().fit(cdnow_calibration).standard_errors
    for name, value in extrapolated.items():
        assert single[name] == pytest.approx(value, rel=2e-5), name


def test_the_pareto_nbd_newton_finish_hessian_serves_the_standard_errors(
    cdnow_calibration, monkeypatch
):
    model = ParetoNBD().fit(cdnow_calibration)
    calls = []
    evaluate = ParetoNBD._value_and_gradient

    def counted(self, params, columns, weights):
        calls.append(1)
        return evaluate(self, params, columns, weights)

    monkeypatch.setattr(ParetoNBD, "_value_and_gradient", counted)
    reused = model.standard_errors
    assert calls == []  # the finish's Hessian, no new differences
    # The same fit with the Hessian differenced again at the final estimate.
    monkeypatch.setattr(ParetoNBD, "polish_on_error_hessian", False)
    again = ParetoNBD().fit(cdnow_calibration)
    assert calls  # this one finishes and differences as before
    for name, value in again.params.items():
        assert model.params[name] == pytest.approx(value, rel=1e-6), name
        assert reused[name] == pytest.approx(again.standard_errors[name], rel=2e-5), name


def test_damped_newton_stops_on_a_hessian_it_cannot_use():
    def sums(u):
        return float(u @ u), 2 * u, np.full((2, 2), np.nan)

    result = damped_newton(sums, np.array([1.0, 2.0]))
    assert not result.success and "not finite" in result.message
