"""sBG with churn covariates and the sBG retention elasticity (Fader & Hardie 2010)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

import crmlab as cl
from crmlab.models import MissingCovariateError, ShiftedBetaGeometric
from crmlab.models.sbg import retention_elasticity, survivors_to_durations


@pytest.fixture(scope="module")
def both_groups():
    survival = cl.datasets.load_survival()
    return pd.concat(
        [
            survivors_to_durations(survival[group].loc[:7]).assign(high_end=flag)
            for group, flag in (("regular", 0.0), ("high_end", 1.0))
        ],
        ignore_index=True,
    )


# ----- the durations form without covariates is the survivor-count fit ----------------
def test_durations_table_gives_the_survivor_count_fit(both_groups):
    regular = both_groups[both_groups["high_end"] == 0].drop(columns="high_end")
    model = ShiftedBetaGeometric().fit(regular)
    counts = ShiftedBetaGeometric().fit(cl.datasets.load_survival()["regular"].loc[:7])
    assert model.loglik == pytest.approx(counts.loglik, abs=1e-8)
    for name, value in counts.params.items():
        assert model.params[name] == pytest.approx(value, rel=1e-5), name
    # one row per customer gives the same fit as the weighted rows
    customers = regular.loc[regular.index.repeat(regular["weight"].astype(int))]
    per_customer = ShiftedBetaGeometric().fit(customers.drop(columns="weight"))
    assert per_customer.loglik == pytest.approx(model.loglik, abs=1e-6)


# The two groups of Fader & Hardie (2007) in one covariate fit, against the paper's two
# fits: see test_models_published.py.


def test_predictions_are_the_base_model_at_the_scaled_beta():
    model = ShiftedBetaGeometric(churn_covariates=["g"]).set_params(
        alpha=0.8, beta=2.0, **{"churn.g": 0.7}
    )
    plain = ShiftedBetaGeometric().set_params(alpha=0.8, beta=2.0 * np.exp(-0.7))
    z = {"g": [1.0]}
    t = np.arange(0, 15)
    np.testing.assert_allclose(model.survival(t, covariates=z), plain.survival(t), rtol=1e-12)
    np.testing.assert_allclose(
        model.retention_rate(t[1:], covariates=z), plain.retention_rate(t[1:]), rtol=1e-12
    )
    np.testing.assert_allclose(
        model.churn_probability(t[1:], covariates=z), plain.churn_probability(t[1:])
    )
    assert model.derl(0.1, 3, covariates=z) == pytest.approx(plain.derl(0.1, 3))
    assert model.discounted_expected_lifetime(0.1, covariates=z) == pytest.approx(
        plain.discounted_expected_lifetime(0.1)
    )
    assert model.retention_elasticity(0.1, 2, covariates=z) == pytest.approx(
        plain.retention_elasticity(0.1, 2)
    )
    # a positive coefficient means faster churn
    at_zero, at_one = model.survival(5, covariates={"g": [0.0, 1.0]})
    assert at_one < at_zero
    # a periods-by-customers table by broadcasting
    table = model.survival(t[:, None], covariates={"g": [0.0, 1.0, 2.0]})
    assert table.shape == (15, 3)
    # the cohort projection averages its customers' survival
    mix = model.project(4, covariates={"g": [0.0, 1.0]})
    expected = model.survival(np.arange(5)[:, None], covariates={"g": [0.0, 1.0]}).mean(axis=1)
    np.testing.assert_allclose(mix["survival"], expected.round(3))
    assert mix.loc[0, "survivors"] == 2


# ----- simulation recovery ------------------------------------------------------------
def test_simulated_customers_give_their_coefficients_back():
    rng = np.random.default_rng(7)
    # a few levels per covariate, so that the 40,000 rows compress to a few hundred
    z = {"vip": rng.integers(0, 2, 40_000).astype(float), "age": rng.integers(-2, 3, 40_000) / 2}
    truth = {"alpha": 0.9, "beta": 2.5, "churn.vip": -0.6, "churn.age": 0.3}
    generator = ShiftedBetaGeometric(churn_covariates=["vip", "age"]).set_params(**truth)
    rows = generator.simulate_durations(10, covariates=z, seed=3)
    model = ShiftedBetaGeometric(churn_covariates=["vip", "age"]).fit(rows)
    se = model.standard_errors
    for name, value in truth.items():
        assert abs(model.params[name] - value) < 2 * se[name], (name, model.params, se)


def test_simulated_durations_follow_the_survival_curve():
    model = ShiftedBetaGeometric().set_params(alpha=0.704, beta=1.182)
    rows = model.simulate_durations(6, n_customers=100_000, seed=2)
    assert set(rows["churned"]) == {0, 1} and rows["period"].max() == 6
    still = (rows["churned"] == 0).mean()
    assert still == pytest.approx(model.survival(6), abs=4 * np.sqrt(0.25 / 100_000))


# ----- refused input ------------------------------------------------------------------
def test_constant_covariate_is_refused(both_groups):
    with pytest.raises(ValueError, match=r"covariate 'one'.*not identified"):
        ShiftedBetaGeometric(churn_covariates=["one"]).fit(both_groups.assign(one=1.0))


def test_missing_covariate_values_are_a_named_error(both_groups):
    holed = both_groups.assign(high_end=both_groups["high_end"].where(both_groups.index != 3))
    with pytest.raises(MissingCovariateError, match=r"covariate 'high_end': 1 missing.*row 3"):
        ShiftedBetaGeometric(churn_covariates=["high_end"]).fit(holed)
    model = ShiftedBetaGeometric(churn_covariates=["high_end"]).fit(both_groups)
    with pytest.raises(MissingCovariateError, match="high_end"):
        model.survival(3, covariates={"high_end": [np.nan]})
    with pytest.raises(ValueError, match="pass the customers' values with covariates="):
        model.survival(3)


def test_bad_durations_and_survivor_counts_with_covariates():
    model = ShiftedBetaGeometric(churn_covariates=["g"])
    with pytest.raises(ValueError, match="table of durations"):
        model.fit([1000, 600, 400])
    bad = pd.DataFrame({"period": [1, 0, 2.5], "churned": [1, 2, 0], "g": [0.0, 1.0, 1.0]})
    with pytest.raises(ValueError, match=r"2 problems") as caught:
        model.fit(bad)
    assert "column 'period': 2 value(s) not whole numbers >= 1" in str(caught.value)
    assert "column 'churned': 1 value(s) neither 0 nor 1" in str(caught.value)
    with pytest.raises(ValueError, match="without covariates"):
        ShiftedBetaGeometric().set_params(alpha=1, beta=1).survival(1, covariates={"g": [1]})
    with pytest.warns(cl.models.IgnoredColumnsWarning, match="churn_covariates="):
        ShiftedBetaGeometric().fit(survivors_to_durations([1000, 600, 450]).assign(g=1.0))


# ----- retention elasticity -----------------------------------------------------------
def _derl_with_retention_raised(alpha, beta, discount, n, k):
    """DERL when each retention probability 1 - theta becomes (1 + k)(1 - theta), by quadrature.

    Given n - 1 renewals theta ~ Beta(alpha, beta + n - 1); the sum over future
    payments of ((1 + k)(1 - theta))^(j+1) / (1 + d)^j is a geometric series.
    """
    z = 1 / (1 + discount)
    posterior = stats.beta(alpha, beta + n - 1).pdf

    def integrand(theta):
        keep = (1 + k) * (1 - theta)
        return posterior(theta) * keep / (1 - keep * z)

    return integrate.quad(integrand, 0, 1, limit=200, points=[1e-6, 1e-3])[0]


@pytest.mark.parametrize(
    "alpha, beta, discount, n",
    [
        (0.704, 1.182, 0.1, 1),
        (0.704, 1.182, 0.1, 5),
        (0.668, 3.806, 0.1, 8),
        (3.8, 15.2, 0.1, 3),
        # Fader & Hardie (2010) Table 3's polarized case: most customers near theta = 0
        (1 / 15, 4 / 15, 0.1, 1),
        (1 / 15, 4 / 15, 0.1, 3),
    ],
)
def test_elasticity_is_the_finite_difference_of_derl(alpha, beta, discount, n):
    h = 1e-5
    up = _derl_with_retention_raised(alpha, beta, discount, n, h)
    down = _derl_with_retention_raised(alpha, beta, discount, n, -h)
    finite_difference = (np.log(up) - np.log(down)) / (np.log1p(h) - np.log1p(-h))
    model = ShiftedBetaGeometric().set_params(alpha=alpha, beta=beta)
    assert model.retention_elasticity(discount, n) == pytest.approx(finite_difference, rel=1e-6)
    # the DERL the quadrature gives is crmlab's
    assert _derl_with_retention_raised(alpha, beta, discount, n, 0.0) == pytest.approx(
        model.derl(discount, n), rel=1e-8
    )


def test_elasticity_of_the_base_exceeds_the_average_of_the_customers_own():
    # Each customer's own elasticity is 1 / (1 - (1 - theta) z); averaged over those
    # alive in period n it is 2F1(1, beta + n - 1; alpha + beta + n - 1; z). The
    # base's elasticity weights them by value, so it is larger.
    from scipy import special

    alpha, beta, discount, n = 0.704, 1.182, 0.1, 3
    z = 1 / 1.1
    posterior = stats.beta(alpha, beta + n - 1).pdf
    own = integrate.quad(lambda th: posterior(th) / (1 - (1 - th) * z), 0, 1, limit=200)[0]
    assert own == pytest.approx(special.hyp2f1(1, beta + n - 1, alpha + beta + n - 1, z))
    assert retention_elasticity(alpha, beta, discount, n) > 1.2 * own


def test_heterogeneity_makes_retention_worth_more_than_the_aggregate_model_says():
    # Fader & Hardie (2010): the textbook elasticity (1 + d) / (1 + d - r), with r the
    # cohort's observed retention rate, understates the sBG's for every group and tenure.
    survival = cl.datasets.load_survival()
    for group in ("regular", "high_end"):
        model = ShiftedBetaGeometric().fit(survival[group].loc[:7])
        for n in (1, 4, 8):
            r = model.retention_rate(n)
            aggregate = (1 + 0.1) / (1 + 0.1 - r)
            assert model.retention_elasticity(0.1, n) > aggregate


def test_elasticity_undiscounted_limit_and_large_parameters():
    # d = 0: the closed form (alpha + beta + n - 2) / (alpha - 2), the limit of d -> 0
    value = retention_elasticity(3.8, 15.2, 0.0, 2)
    assert value == pytest.approx((3.8 + 15.2 + 2 - 2) / (3.8 - 2))
    assert value == pytest.approx(retention_elasticity(3.8, 15.2, 1e-7, 2), rel=1e-4)
    assert retention_elasticity(1.5, 2.0, 0.0, 1) == np.inf
    # huge, nearly homogeneous customers: the constant-retention answer 1 / (1 - r z)
    r = 4e5 / 5e5
    assert retention_elasticity(1e5, 4e5, 0.1, 1) == pytest.approx(1 / (1 - r / 1.1), rel=1e-4)
    with pytest.raises(ValueError, match="n must be"):
        retention_elasticity(1.0, 1.0, 0.1, 0)


def test_compare_tests_the_covariate_against_the_pooled_fit(both_groups):
    pooled = ShiftedBetaGeometric().fit(both_groups.drop(columns="high_end"))
    with_group = ShiftedBetaGeometric(churn_covariates=["high_end"]).fit(both_groups)
    table = cl.models.compare([pooled, with_group], names=["pooled", "group"])
    assert table.loc["group", "lr_against"] == "pooled"
    assert table.loc["group", "lr_df"] == 1
    expected = 2 * (with_group.loglik - pooled.loglik)
    assert table.loc["group", "lr_statistic"] == pytest.approx(expected)
    assert expected > 100  # the two groups churn very differently
