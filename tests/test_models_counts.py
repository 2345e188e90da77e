"""The shared NBD log-pmf (crmlab.models._counts.log_nbd) and the pmfs built on it.

BG/NBD, MBG/NBD and Pareto/NBD used to carry their own copies of the NBD term; these
tests pin the pmfs that now use the shared one to an independent computation (scipy's
negative binomial) on the CDNOW fits, to 1e-12 relative.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats

import crmlab as cl
from crmlab.models._counts import log_nbd

N = np.arange(0, 30)[:, None]
T_GRID = np.array([0.0, 0.5, 1.0, 39.0, 78.0])


def _nbinom(n, t, r, alpha):
    return stats.nbinom.pmf(n, r, alpha / (alpha + t))


def test_log_nbd_is_scipys_negative_binomial():
    # Not at u << alpha: there scipy's p = alpha / (alpha + u) rounds, which log_nbd avoids.
    n, u = np.meshgrid(np.arange(60), [0.3, 7.0, 39.0, 500.0])
    expected = stats.nbinom.logpmf(n, 0.55, 10.58 / (10.58 + u))
    np.testing.assert_allclose(log_nbd(n, u, 0.55, 10.58), expected, rtol=1e-12)


def test_log_nbd_at_time_zero():
    assert log_nbd(0, 0.0, 0.55, 10.58) == 0.0
    assert log_nbd(3, 0.0, 0.55, 10.58) == -np.inf


def test_bgnbd_pmf_matches_eq_8_with_scipys_nbd(cdnow_calibration):
    model = cl.models.BGNBD().fit(cdnow_calibration)
    r, alpha, a, b = (model.params[k] for k in ("r", "alpha", "a", "b"))
    beta_ab = special.beta(a, b)
    below = stats.nbinom.cdf(N - 1, r, alpha / (alpha + T_GRID))
    expected = special.beta(a, b + N) / beta_ab * _nbinom(N, T_GRID, r, alpha) + np.where(
        N > 0, special.beta(a + 1, np.maximum(b + N - 1, 1e-300)) / beta_ab * (1 - below), 0.0
    )
    np.testing.assert_allclose(model.probability_of_purchases(N, T_GRID), expected, rtol=1e-12)


def test_mbgnbd_pmf_matches_scipys_nbd():
    model = cl.models.MBGNBD().fit(cl.datasets.load_cdnow_published_summary())
    r, alpha, a, b = (model.params[k] for k in ("r", "alpha", "a", "b"))
    beta_ab = special.beta(a, b)
    below = np.where(N > 0, stats.nbinom.cdf(N - 1, r, alpha / (alpha + T_GRID)), 0.0)
    survived = special.beta(a, b + N + 1) / beta_ab * _nbinom(N, T_GRID, r, alpha)
    expected = survived + special.beta(a + 1, b + N) / beta_ab * (1 - below)
    np.testing.assert_allclose(model.probability_of_purchases(N, T_GRID), expected, rtol=1e-12)


@pytest.mark.parametrize("t", [1.0, 39.0])
def test_paretonbd_pmf_alive_part_is_scipys_nbd(cdnow_calibration, t):
    # With a death rate near zero everyone stays alive: the pmf is the NBD alone.
    model = cl.models.ParetoNBD().fit(cdnow_calibration)
    r, alpha = model.params["r"], model.params["alpha"]
    immortal = cl.models.ParetoNBD().set_params(r=r, alpha=alpha, s=1e-9, beta=1.0)
    np.testing.assert_allclose(
        immortal.probability_of_purchases(N[:, 0], t), _nbinom(N[:, 0], t, r, alpha), rtol=1e-7
    )
