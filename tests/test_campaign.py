"""The randomised retention campaign: its uplift, what an experiment recovers of it, and
planning from measured (not assumed) incremental values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlab.simulate import retention_campaign
from crmlab.targeting import plan_by_incremental_value, plan_campaign, uplift_by_group


def test_uplift_follows_the_stated_formula_and_never_exceeds_certainty():
    baseline = np.linspace(0, 1, 101)
    trial = retention_campaign(baseline, max_uplift=0.2, responsiveness_shape=1e9, seed=3)
    # With (almost) no spread of responsiveness the uplift is the formula itself.
    np.testing.assert_allclose(trial["uplift"], 0.2 * 4 * baseline * (1 - baseline), rtol=1e-3)
    assert trial["uplift"].idxmax() == 50
    spread = retention_campaign(baseline, max_uplift=1.0, responsiveness_shape=0.5, seed=3)
    assert (spread["baseline"] + spread["uplift"] <= 1 + 1e-12).all()
    assert spread.loc[[0, 100], "uplift"].eq(0).all()


def test_assignment_is_random_and_outcomes_follow_the_probabilities():
    baseline = np.full(200_000, 0.4)
    trial = retention_campaign(baseline, max_uplift=0.2, treated_share=0.3, seed=5)
    assert trial["treated"].mean() == pytest.approx(0.3, abs=0.005)
    control = trial.loc[~trial["treated"], "retained"].mean()
    assert control == pytest.approx(0.4, abs=0.005)
    treated = trial.loc[trial["treated"], "retained"].mean()
    assert treated == pytest.approx(0.4 + trial["uplift"].mean(), abs=0.008)


def test_the_experiment_recovers_the_true_uplift_of_each_group_within_its_error():
    rng = np.random.default_rng(11)
    baseline = pd.Series(rng.uniform(0, 1, 120_000))
    trial = retention_campaign(baseline, seed=12)
    bands = pd.cut(trial["baseline"], [0, 0.2, 0.4, 0.6, 0.8, 1.0], include_lowest=True)
    table = uplift_by_group(trial, bands)
    truth = trial.groupby(bands, observed=True)["uplift"].mean()
    assert len(table) == 5
    assert np.all(np.abs(table["uplift"] - truth) < 4 * table["se"])
    assert (table["se"] > 0).all() and (table["se"] < 0.01).all()
    # The middle band moves most; the extremes least.
    assert table["uplift"].idxmax() == truth.idxmax()
    assert table["uplift"].iloc[2] > 2 * max(table["uplift"].iloc[0], table["uplift"].iloc[4])


def test_the_standard_error_matches_the_spread_over_repeated_campaigns():
    baseline = np.full(2_000, 0.5)
    estimates, errors = [], []
    for seed in range(200):
        table = uplift_by_group(retention_campaign(baseline, seed=seed), np.zeros(2_000))
        estimates.append(table["uplift"].iloc[0])
        errors.append(table["se"].iloc[0])
    assert np.std(estimates) == pytest.approx(np.mean(errors), rel=0.15)


def test_groups_keep_the_order_of_their_categories():
    trial = retention_campaign(np.full(400, 0.5), seed=1)
    labels = pd.Categorical(
        np.repeat(["low", "mid", "high"], [100, 100, 200]),
        categories=["low", "mid", "high"],
        ordered=True,
    )
    table = uplift_by_group(trial, pd.Series(labels, index=trial.index))
    assert table.index.tolist() == ["low", "mid", "high"]
    assert table["n_treated"].add(table["n_control"]).tolist() == [100, 100, 200]


def test_a_group_without_controls_gets_nan_not_an_error():
    trial = pd.DataFrame({"treated": [True, True, False], "retained": [1, 0, 1]})
    table = uplift_by_group(trial, ["a", "a", "b"])
    assert np.isnan(table.loc["a", "uplift"]) and np.isnan(table.loc["b", "uplift"])
    assert table.loc["a", "n_treated"] == 2 and table.loc["b", "n_control"] == 1


def test_plan_campaign_is_plan_by_incremental_value_with_a_constant_share():
    clv = pd.Series([120.0, 3.0, 55.0, 0.0, 18.0], index=list("abcde"))
    assumed = plan_campaign(clv, budget=7, cost_per_customer=2, uplift=0.1)
    measured = plan_by_incremental_value(0.1 * clv, budget=7, cost_per_customer=2)
    assert assumed.customers.index.tolist() == measured.customers.index.tolist()
    assert (assumed.n_targeted, assumed.expected_return) == (
        measured.n_targeted,
        measured.expected_return,
    )
    assert assumed.customers["clv"].tolist() == [120.0, 55.0, 18.0, 3.0, 0.0]
    assert "clv" not in measured.customers


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: retention_campaign([0.2, 1.3]), "positions \\[1\\]"),
        (lambda: retention_campaign([0.2], treated_share=1.0), "strictly between"),
        (lambda: retention_campaign([0.2], responsiveness_shape=0), "responsiveness_shape"),
        (lambda: plan_by_incremental_value([1.0, -2.0], budget=1, cost_per_customer=1), "-2.0"),
        (lambda: uplift_by_group(pd.DataFrame({"treated": [True]}), [1]), "'retained'"),
        (
            lambda: uplift_by_group(pd.DataFrame({"treated": [1.5], "retained": [1]}), [1]),
            "True \\(contacted\\)",
        ),
        (
            lambda: uplift_by_group(pd.DataFrame({"treated": [True], "retained": [1]}), [1, 2]),
            "2 labels for 1 rows",
        ),
    ],
)
def test_bad_input_is_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_the_input_is_not_modified():
    baseline = pd.Series([0.1, 0.5, 0.9])
    copy = baseline.copy()
    retention_campaign(baseline)
    pd.testing.assert_series_equal(baseline, copy)
