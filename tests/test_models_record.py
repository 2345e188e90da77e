"""The fit as one record, parameter spaces, the summary header, and input checks."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import crmlab as cl
from crmlab.models import BGNBD, GammaGamma, ParetoNBD
from crmlab.models._record import Fit, Param


@pytest.fixture(scope="module")
def fitted():
    return BGNBD().fit(cl.datasets.load_cdnow_published_summary())


def test_set_params_after_fit_replaces_the_whole_fit(fitted):
    model = BGNBD().fit(cl.datasets.load_cdnow_published_summary())
    assert model.converged and np.isfinite(model.loglik)
    model.set_params(r=1, alpha=1, a=1, b=1)
    assert np.isnan(model.loglik)
    assert model.converged is None
    assert model.n_obs == 0
    assert np.isnan(model.standard_errors["r"])
    assert "loglik" not in repr(model)
    assert "set by hand" in model.summary().header()
    # and a fit after set_params is a fit again
    model.fit(cl.datasets.load_cdnow_published_summary())
    assert model.loglik == pytest.approx(fitted.loglik, abs=1e-6)


def test_the_record_is_frozen(fitted):
    record = fitted.result
    with pytest.raises(AttributeError):
        record.loglik = 0.0
    with pytest.raises(ValueError):
        record.estimate[0] = 1.0
    assert isinstance(record, Fit) and record.n_rows < record.n_obs == 2357


def test_parameter_spaces_round_trip_and_flag_their_edges():
    for param, value in ((Param("r"), 3.5), (Param("c", "real"), -2.0), (Param("p", "unit"), 0.3)):
        assert param.from_free(param.to_free(value)) == pytest.approx(value)
        assert param.inside(value)
    assert not Param("r").inside(-1.0) and Param("c", "real").inside(-1.0)
    assert not Param("p", "unit").inside(1.0)
    assert Param("r").at_boundary(1e-6) and not Param("c", "real").at_boundary(-5.0)
    with pytest.raises(ValueError, match="unknown parameter space"):
        Param("r", "complex")


def test_summary_shows_loglik_n_aic_bic_and_convergence_where_it_is_displayed(fitted):
    table = fitted.summary().round(3)  # the header survives what a notebook does to it
    k, n, loglik = 4, 2357, fitted.loglik
    assert table.attrs["aic"] == pytest.approx(2 * k - 2 * loglik)
    assert table.attrs["bic"] == pytest.approx(k * np.log(n) - 2 * loglik)
    for shown in (repr(table), table._repr_html_()):
        assert f"log-likelihood {loglik:,.2f}" in shown
        assert "n = 2,357" in shown
        assert f"AIC {2 * k - 2 * loglik:,.2f}" in shown
        assert f"BIC {k * np.log(n) - 2 * loglik:,.2f}" in shown
        assert "converged" in shown and "NOT converged" not in shown
    assert fitted.aic() == pytest.approx(table.attrs["aic"])


@pytest.mark.parametrize("model_class", [BGNBD, ParetoNBD])
def test_no_repeat_purchase_but_a_last_purchase_time_is_refused(model_class):
    frame = pd.DataFrame({"x": [1, 0, 0], "t_x": [2.0, 0.0, 3.0], "T": [5.0, 5.0, 5.0]})
    with pytest.raises(ValueError, match=r"1 row\(s\) with x = 0 but t_x > 0.*row 2"):
        model_class().fit(frame)
    model = model_class().set_params(**dict.fromkeys(model_class.param_names, 1.0))
    with pytest.raises(ValueError, match="x = 0 but t_x > 0"):
        model.p_alive(0, 3.0, 5.0)


@pytest.mark.parametrize(
    "model",
    [
        BGNBD().set_params(r=0.243, alpha=4.414, a=0.793, b=2.426),
        ParetoNBD().set_params(r=0.55, alpha=10.58, s=0.61, beta=11.67),
    ],
)
def test_predictions_do_not_raise_under_strict_floating_point(model):
    with np.errstate(all="raise"):
        assert model.p_alive(1000, 10, 100) == pytest.approx(0.0, abs=1e-300)
        assert model.conditional_expected_purchases(10, 1000, 10, 100) >= 0
        assert 0 < model.p_alive(0, 0, 1e4) <= 1
        assert np.isfinite(model.expected_purchases(1e5))


def test_gamma_gamma_and_fits_under_strict_floating_point_too():
    gg = GammaGamma().set_params(p=6.25, q=3.74, gamma=15.44)
    with np.errstate(all="raise"):
        assert gg.conditional_expected_spend(500, 1e-3) > 0


def test_refitting_warns_nothing_and_keeps_no_state_from_before():
    summary = cl.datasets.load_cdnow_published_summary()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = BGNBD().fit(summary.head(800))
        first = model.result
        model.fit(summary)
    assert model.result is not first and model.n_obs == 2357
