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
