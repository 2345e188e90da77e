"""MBG/NBD (Batislam, Denizel & Filiztekin 2007): simulation and the model's own identities.

The CDNOW figures that BTYDplus and lifetimes reproduce are in test_models_published.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlab.models import BGNBD, MBGNBD

TRUTH = {"r": 0.5, "alpha": 6.0, "a": 0.9, "b": 1.6}


def on_day_grid(base):
    frame = pd.DataFrame(base)
    frame["T"] = np.round(frame["T"] * 7) / 7
    frame["t_x"] = np.where(frame["x"] > 0, np.maximum(np.round(frame["t_x"] * 7), 1) / 7, 0.0)
    frame["t_x"] = np.minimum(frame["t_x"], frame["T"])
    return frame


def test_simulated_base_gives_its_parameters_back_within_two_standard_errors():
    T = np.random.default_rng(3).uniform(30, 40, 30_000)
    base = on_day_grid(MBGNBD().set_params(**TRUTH).simulate(30_000, T, seed=9))
    model = MBGNBD().fit(base)
    se = model.standard_errors
    for name, value in TRUTH.items():
        assert abs(model.params[name] - value) < 2 * se[name], (name, model.params, se)
    # and it tells the two models apart: the BG/NBD fits this base worse
    assert model.loglik > BGNBD().fit(base).loglik + 10


def test_p_alive_of_one_time_buyers_matches_the_simulated_share_still_active():
    model = MBGNBD().set_params(**TRUTH)
    rng = np.random.default_rng(4)
    n = 400_000
    rate = rng.gamma(TRUTH["r"], 1 / TRUTH["alpha"], n)
    p = rng.beta(TRUTH["a"], TRUTH["b"], n)
    chances = rng.geometric(p) - 1  # purchases made before dropping out
    arrivals = rng.poisson(rate * 30.0)
    none = np.minimum(arrivals, chances) == 0
    active = chances > 0  # with no purchase in (0, 30], active means: not dropped at time 0
    share = active[none].mean()
    assert model.p_alive(0, 0, 30.0) == pytest.approx(share, abs=0.005)


@pytest.mark.parametrize("t", [5.0, 39.0, 78.0])
def test_pmf_sums_to_one_and_its_mean_is_the_purchase_curve(t):
    model = MBGNBD().set_params(**TRUTH)
    n = np.arange(400)
    p = model.probability_of_purchases(n, t)
    assert p.sum() == pytest.approx(1.0, abs=1e-8)
    assert (p * n).sum() == pytest.approx(model.expected_purchases(t), rel=1e-6)


def test_mbgnbd_takes_covariates_like_the_bgnbd():
    model = MBGNBD(purchase_covariates=["g"]).set_params(**TRUTH, **{"purchase.g": np.log(2)})
    curve = model.expected_purchases(39, covariates={"g": [0.0, 1.0]})
    doubled = MBGNBD().set_params(**{**TRUTH, "alpha": TRUTH["alpha"] / 2})
    assert curve[1] == pytest.approx(doubled.expected_purchases(39), rel=1e-12)
