"""Beta-discrete-Weibull (Fader, Hardie, Liu, Davin & Steenburgh 2018): nesting and simulation."""

from __future__ import annotations

import numpy as np
import pytest

import crmlab as cl
from crmlab.models import BetaDiscreteWeibull, ShiftedBetaGeometric


@pytest.mark.parametrize("group", ["regular", "high_end"])
def test_at_c_equal_one_it_is_the_sbg_and_fitted_it_does_at_least_as_well(group):
    counts = cl.datasets.load_survival()[group].loc[:7]
    sbg = ShiftedBetaGeometric().fit(counts)
    same = BetaDiscreteWeibull().set_params(**sbg.params, c=1.0)
    assert same.log_likelihood(counts) == pytest.approx(sbg.loglik, rel=1e-12)
    assert np.allclose(same.survival(np.arange(12)), sbg.survival(np.arange(12)), rtol=1e-12)
    bdw = BetaDiscreteWeibull().fit(counts)
    assert bdw.converged and bdw.loglik >= sbg.loglik - 1e-6
    # a likelihood-ratio test of c = 1 is one line with compare
    table = cl.models.compare([bdw])
    assert table.loc["BetaDiscreteWeibull", "k"] == 3


def test_simulated_cohort_gives_its_duration_dependence_back():
    truth = {"alpha": 1.2, "beta": 3.0, "c": 1.6}
    counts = BetaDiscreteWeibull().set_params(**truth).simulate(200_000, 12, seed=3)
    model = BetaDiscreteWeibull().fit(counts)
    se = model.standard_errors
    for name, value in truth.items():
        assert abs(model.params[name] - value) < 2 * se[name], (name, model.params, se)


def test_survival_and_retention_are_consistent_and_bounded():
    model = BetaDiscreteWeibull().set_params(alpha=0.7, beta=1.2, c=0.8)
    s = model.survival(np.arange(0, 30))
    assert s[0] == 1.0 and np.all(np.diff(s) < 0)
    assert np.allclose(model.retention_rate(np.arange(1, 30)), s[1:] / s[:-1], rtol=1e-12)


# The High End fit that foretell and retenmod print, and the paper's polarization
# figures: see test_models_published.py.


@pytest.mark.parametrize("n", [1, 3, 8])
def test_derl_and_elasticity_are_the_sbg_closed_forms_at_c_equal_one(n):
    sbg = ShiftedBetaGeometric().set_params(alpha=0.704, beta=1.182)
    bdw = BetaDiscreteWeibull().set_params(alpha=0.704, beta=1.182, c=1.0)
    assert bdw.derl(0.1, n) == pytest.approx(sbg.derl(0.1, n), rel=1e-10)
    assert bdw.retention_elasticity(0.1, n) == pytest.approx(
        sbg.retention_elasticity(0.1, n), rel=1e-10
    )


@pytest.mark.parametrize("c", [0.7, 1.6])
def test_bdw_elasticity_is_the_finite_difference_of_derl(c):
    alpha, beta, d, n = 1.2, 3.0, 0.1, 4
    model = BetaDiscreteWeibull().set_params(alpha=alpha, beta=beta, c=c)
    t = np.arange(0, 5000, dtype=float)
    survival = model.survival(t)

    def derl(k):
        # every per-period retention probability times (1 + k): S(t) times (1 + k)^t
        raised = survival * (1 + k) ** t
        future = t >= n
        return np.sum(raised[future] / raised[n - 1] / (1 + d) ** (t[future] - n))

    assert model.derl(d, n) == pytest.approx(derl(0.0), rel=1e-10)
    h = 1e-6
    finite_difference = (np.log(derl(h)) - np.log(derl(-h))) / (np.log1p(h) - np.log1p(-h))
    assert model.retention_elasticity(d, n) == pytest.approx(finite_difference, rel=1e-6)
    # arrays in, arrays out
    assert model.derl(d, [1, 2, 3]).shape == (3,)
    with pytest.raises(ValueError, match="discount"):
        model.derl(0.0, 1)
    with pytest.raises(ValueError, match="n must be"):
        model.retention_elasticity(0.1, 0)
