"""The shared maximum-likelihood base: fitting, standard errors, summary, input checks."""

from __future__ import annotations

import warnings
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

import crmlab as cl
from crmlab.models import BGNBD, ConvergenceWarning, ParetoNBD
from crmlab.models._base import (
    MLEModel,
    as_output,
    check_rfm,
    compress_rows,
    numerical_hessian,
    read_columns,
)


class Exponential(MLEModel):
    """Waiting times y ~ Exponential(rate): MLE rate = 1 / mean(y), se = rate / sqrt(n)."""

    param_names: ClassVar[tuple[str, ...]] = ("rate",)

    def _read(self, data, weights):
        columns, row_weights, _ = read_columns(data, weights, columns=("y",))
        return columns, row_weights

    def _loglik_rows(self, params, y):
        (rate,) = params
        return np.log(rate) - rate * y


class RunsAway(MLEModel):
    """A likelihood that grows without bound: the optimiser must run to the edge."""

    param_names: ClassVar[tuple[str, ...]] = ("rate",)

    def _read(self, data, weights):
        columns, row_weights, _ = read_columns(data, weights, columns=("y",))
        return columns, row_weights

    def _loglik_rows(self, params, y):
        return np.log(params[0]) + 0 * y


# ----- a subclass in a few lines gets the textbook answers -----------------------------
def test_a_minimal_subclass_gets_the_closed_form_estimate_and_standard_error():
    y = np.random.default_rng(0).exponential(1 / 2.5, 5000)
    model = Exponential().fit({"y": y})
    rate = 1 / y.mean()
    assert model.params["rate"] == pytest.approx(rate, rel=1e-6)
    assert model.standard_errors["rate"] == pytest.approx(rate / np.sqrt(len(y)), rel=1e-4)
    assert model.loglik == pytest.approx(len(y) * (np.log(rate) - 1), rel=1e-9)
    assert model.converged and model.n_obs == 5000
    interval = model.confidence_intervals(0.95).loc["rate"]
    half_width = 1.959964 * rate / np.sqrt(len(y))
    assert interval["lower"] == pytest.approx(rate - half_width, rel=1e-4)
    assert interval["upper"] == pytest.approx(rate + half_width, rel=1e-4)


def test_a_likelihood_without_maximum_is_flagged_not_hidden():
    with pytest.warns(ConvergenceWarning, match="ran to the edge.*try more data"):
        model = RunsAway().fit({"y": np.ones(10)})
    assert model.summary()["at_boundary"].all()


def test_user_starts_are_used_and_must_be_positive():
    y = np.random.default_rng(1).exponential(2.0, 500)
    model = Exponential().fit({"y": y}, starts=[{"rate": 0.01}])
    assert model.params["rate"] == pytest.approx(1 / y.mean(), rel=1e-6)
    with pytest.raises(ValueError, match="starting values must be positive"):
        Exponential().fit({"y": y}, starts=[{"rate": -1.0}])


# ----- helpers ----------------------------------------------------------------------------
def test_compress_rows_merges_identical_rows_and_adds_weights():
    columns = {"x": np.array([1.0, 1.0, 2.0, 1.0]), "T": np.array([5.0, 5.0, 5.0, 6.0])}
    merged, weights = compress_rows(columns, np.array([1.0, 2.0, 1.0, 1.0]))
    rows = sorted(zip(merged["x"], merged["T"], weights, strict=True))
    assert rows == [(1.0, 5.0, 3.0), (1.0, 6.0, 1.0), (2.0, 5.0, 1.0)]


def test_numerical_hessian_of_a_known_function():
    def func(v):
        return np.exp(v[0]) + v[0] * v[1] ** 2

    point = np.array([0.5, 2.0])
    exact = [[np.exp(0.5), 4.0], [4.0, 1.0]]
    assert numerical_hessian(func, point) == pytest.approx(np.array(exact), rel=1e-6)


def test_as_output_refuses_silent_nan():
    assert as_output(np.array(0.5), True) == 0.5
    with pytest.raises(ValueError, match=r"not a number.*too extreme"):
        as_output(np.array([0.5, np.nan]), False)


# ----- fitting on weights and compressed rows ----------------------------------------------
def test_compression_changes_nothing_but_the_row_count():
    summary = cl.datasets.load_cdnow_published_summary()
    compressed = BGNBD().fit(summary)
    plain = BGNBD().fit(summary, compress=False)
    assert compressed.n_rows < 0.6 * plain.n_rows == 0.6 * 2357
    assert compressed.loglik == pytest.approx(plain.loglik, abs=1e-6)
    for name, value in plain.params.items():
        assert compressed.params[name] == pytest.approx(value, rel=1e-4)


def test_weights_equal_repeated_rows():
    base = cl.datasets.load_cdnow_published_summary().head(300)
    weighted = BGNBD().fit(base.assign(weight=2.0))
    repeated = BGNBD().fit(pd.concat([base, base]), compress=False)
    assert weighted.n_obs == repeated.n_obs == 600
    assert weighted.loglik == pytest.approx(repeated.loglik, rel=1e-8)
    for name in weighted.params:
        assert weighted.params[name] == pytest.approx(repeated.params[name], rel=1e-4)
    # The weights argument overrides nothing silently: it is the same as the column.
    by_argument = BGNBD().fit(base, weights=np.full(300, 2.0))
    assert by_argument.loglik == pytest.approx(weighted.loglik, rel=1e-10)


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ([1.0, -1.0, 1.0], r"weights must be finite and non-negative: row 1"),
        ([0, 0, 0], "no customers"),
    ],
)
def test_bad_weights_are_refused(weights, message):
    frame = pd.DataFrame({"x": [0, 1, 2], "t_x": [0, 3, 4], "T": [5, 5, 5]})
    with pytest.raises(ValueError, match=message):
        BGNBD().fit(frame, weights=weights)


# ----- input checks -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (
            pd.DataFrame({"x": [1, -1], "t_x": [2, 0], "T": [5, 5]}),
            r"column 'x': 1 negative value\(s\): row 1",
        ),
        (pd.DataFrame({"x": [1, 1], "t_x": [2, -1], "T": [5, 5]}), r"column 't_x': 1 negative"),
        (pd.DataFrame({"x": [1, np.nan], "t_x": [2, 0], "T": [5, 5]}), r"column 'x': 1 missing"),
        (
            pd.DataFrame({"x": [1, 1], "t_x": [2, 2], "T": [5, np.inf]}),
            r"column 'T': 1 missing or infinite",
        ),
        (
            pd.DataFrame({"x": [1, 1], "t_x": [2, 6], "T": [5, 5]}),
            r"1 row\(s\) with t_x > T: row 1: \(6\.0, 5\.0\)",
        ),
        (pd.DataFrame({"x": [1, 1], "t_x": [2, 0], "T": [5, 5]}), r"x > 0 but t_x = 0.*row 1"),
        (pd.DataFrame({"x": [1.5, 1], "t_x": [2, 2], "T": [5, 5]}), r"whole numbers.*row 0"),
        (pd.DataFrame({"x": [1], "T": [5]}), r"lack column\(s\) \['t_x'\]"),
        (pd.DataFrame({"x": ["a"], "t_x": [1], "T": [5]}), r"x must be numeric"),
    ],
)
@pytest.mark.parametrize("model_class", [BGNBD, ParetoNBD])
def test_impossible_rows_are_refused_with_column_and_row(model_class, frame, message):
    with pytest.raises(ValueError, match=message):
        model_class().fit(frame)


def test_offending_rows_are_named_by_the_frames_index_and_counted():
    frame = pd.DataFrame(
        {"x": [1, 2, 3, 4, 5, 6, 7], "t_x": [9.0] * 7, "T": [5.0] * 7},
        index=[f"c{i}" for i in range(7)],
    )
    with pytest.raises(
        ValueError, match=r"7 row\(s\) with t_x > T: row 'c0'.*row 'c4': .*\(and 2 more\)"
    ):
        BGNBD().fit(frame)


def test_predictions_check_their_inputs_too():
    model = BGNBD().set_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    with pytest.raises(ValueError, match="t_x > T"):
        model.p_alive(2, 40.0, 38.0)
    with pytest.raises(ValueError, match="t must be finite and >= 0"):
        model.conditional_expected_purchases(-1, 2, 30.0, 38.0)
    with pytest.raises(ValueError, match="whole numbers"):
        check_rfm(np.array([0.5]), np.array([1.0]), np.array([2.0]))


def test_data_of_the_wrong_kind_get_a_type_error():
    with pytest.raises(TypeError, match="expected a DataFrame"):
        BGNBD().fit([1, 2, 3])


# ----- results --------------------------------------------------------------------------
def test_summary_table_has_estimates_intervals_and_flags():
    model = BGNBD().fit(cl.datasets.load_cdnow_published_summary())
    table = model.summary()
    assert list(table.columns) == ["estimate", "se", "lower", "upper", "at_boundary"]
    assert table.index.tolist() == ["r", "alpha", "a", "b"]
    assert (table["lower"] < table["estimate"]).all() and (table["estimate"] < table["upper"]).all()
    assert not table["at_boundary"].any()
    assert table.attrs["loglik"] == model.loglik and table.attrs["converged"]
    assert (model.confidence_intervals(0.99)["upper"] > table["upper"]).all()
    assert model.covariance.shape == (4, 4)
    with pytest.raises(ValueError, match="level must lie between 0 and 1"):
        model.confidence_intervals(95)


def test_repr_unfitted_and_set_params():
    assert repr(BGNBD()) == "BGNBD(not fitted)"
    with pytest.raises(RuntimeError, match=r"call \.fit\(data\)"):
        _ = BGNBD().params
    model = BGNBD().set_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    assert repr(model) == "BGNBD(r=0.243, alpha=4.414, a=0.793, b=2.426)"
    assert np.isnan(model.standard_errors["r"])  # no data, no standard errors
    with pytest.raises(ValueError, match="takes parameters r, alpha, a, b"):
        BGNBD().set_params(r=1, alpha=1, a=1)
    with pytest.raises(ValueError, match="positive"):
        BGNBD().set_params(r=1, alpha=1, a=1, b=-1)
    fitted = BGNBD().fit(cl.datasets.load_cdnow_published_summary().head(500))
    assert "loglik=" in repr(fitted)


def test_fitting_twice_gives_the_same_answer():
    summary = cl.datasets.load_cdnow_published_summary()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a clean fit raises no warning at all
        first, second = BGNBD().fit(summary), BGNBD().fit(summary)
    assert first.params == second.params


def test_standard_errors_come_from_the_last_fit_only(cdnow_calibration):
    model = BGNBD().fit(cdnow_calibration)
    errors = model.standard_errors
    assert np.sqrt(np.diag(model.covariance.to_numpy())) == pytest.approx(list(errors.values()))
    assert errors["r"] == pytest.approx(0.0126, abs=5e-4)
    # Parameters set by hand have no data behind them: no standard errors.
    refitted = BGNBD().fit(cdnow_calibration).set_params(r=0.3, alpha=4, a=0.8, b=2.4)
    assert all(np.isnan(value) for value in refitted.standard_errors.values())


@pytest.mark.parametrize("model_class", [BGNBD, ParetoNBD, cl.models.GammaGamma])
def test_the_estimate_does_not_depend_on_rounding_in_the_sums(model_class, cdnow_calibration):
    # Uncompressed rows sum the same log-likelihood in another order, which changes its
    # last bits as another machine would; the estimate must not move with them.
    compressed = model_class().fit(cdnow_calibration)
    row_by_row = model_class().fit(cdnow_calibration.iloc[::-1], compress=False)
    for name, value in compressed.params.items():
        assert row_by_row.params[name] == pytest.approx(value, rel=1e-7), name
    assert row_by_row.loglik == pytest.approx(compressed.loglik, abs=1e-8)
