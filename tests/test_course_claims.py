"""What the prose of notebooks 09 and 10 says about their numbers stays true.

The notebooks state findings in words ("the customers a contact moves most are not the
most valuable", "a gift at the last drive means 0.93 whatever the frequency"); if a change
to crmlab or to a seed made one of them false, nbval would only see a changed number. These
tests check the statements themselves."""

from __future__ import annotations

import numpy as np
import pytest

import crmlab as cl
from crmlab.exercises import nb09_bgbb, nb10_practice


@pytest.fixture(scope="module")
def bb():
    return nb09_bgbb._model()


def test_notebook_09_p_alive_statements(bb):
    # "A gift at the last drive means 0.93 whatever the frequency".
    last = bb.p_alive(np.arange(1, 7), 6, 6)
    assert np.allclose(last, last[0]) and round(float(last[0]), 2) == 0.93
    # "of two donors last seen in 1998, the one who gave only then has 0.48, the one who
    # gave in each of 1996, 1997 and 1998 has 0.10".
    assert round(bb.p_alive(1, 3, 6), 2) == 0.48 and round(bb.p_alive(3, 3, 6), 2) == 0.10
    # Exercise 4's answer and Question B: the occasional donor is likelier alive.
    assert bb.p_alive(1, 4, 6) > bb.p_alive(4, 4, 6)
    # Section 4: unlike the BG/NBD, a donor with no repeat gift is not certainly alive.
    assert bb.p_alive(0, 0, 6) < 0.2


def test_notebook_09_fit_statements(bb):
    don = cl.datasets.load_donations()
    actual = float((don["x"] * don["weight"]).sum())
    assert abs(11_104 * bb.expected_purchases(6) / actual - 1) < 0.002  # "within 0.2%"
    # Question A: "fewer than three donors in ten gave in 2001"; mean p 0.62, theta 0.19.
    assert don.loc[don["t_x"] == 6, "weight"].sum() / 11_104 < 0.3
    p = bb.params
    assert round(p["alpha"] / (p["alpha"] + p["beta"]), 2) == 0.62
    assert round(p["gamma"] / (p["gamma"] + p["delta"]), 2) == 0.19 and p["gamma"] < 1
    # Exercise 7: most of the value sits with the recent donors.
    share = nb09_bgbb._recent_share()
    assert share["share"] > 2 * share["donors"]


def test_notebook_10_campaign_statements():
    world = nb10_practice._world()
    overall, targets = nb10_practice._overall(), nb10_practice._targets()
    # "the campaign moves retention about half as much as on average" among the targets.
    assert 0.35 < targets["uplift"] / overall["uplift"] < 0.7
    # "mean P(alive) of 0.85" of the value-ranked plan's customers.
    assert round(float(world["p_alive"][world["targeted"]].mean()), 2) == 0.85
    # Exercise 4: "fewer than half of the most valuable customers" are on both lists.
    assert nb10_practice._overlap()["both"] < 125
    returns = nb10_practice._returns()
    # Exercise 5: the 10% assumption "overstated what the contacts add several times over".
    assert returns["naive"] > 0 and returns["claimed"] > 3 * returns["naive"]
    assert round(returns["claimed"]) == 874
    # Exercise 6: the high-risk campaign "does not pay for itself".
    assert returns["risk"] < 0
    # The right panel: mean true uplift falls with value among the valuable customers.
    value, uplift = world["value"], world["trial"]["uplift"]
    top_tenth = value >= value.quantile(0.9)
    assert uplift[top_tenth].mean() < 0.6 * uplift[~top_tenth].mean()


def test_notebook_10_measured_plan_beats_the_value_ranking_but_not_the_oracle():
    world = nb10_practice._world()
    p_alive, value, increment = world["p_alive"], world["value"], world["true_increment"]
    bands = np.digitize(p_alive, [0.3, 0.4, 0.8])
    table = cl.targeting.uplift_by_group(world["trial"], bands)
    estimated = np.clip(table["uplift"].reindex(bands).to_numpy(), 0, None)
    measured = cl.targeting.plan_by_incremental_value(
        estimated * value / p_alive, budget=500, cost_per_customer=2
    )
    oracle = cl.targeting.plan_by_incremental_value(increment, budget=500, cost_per_customer=2)

    def true_return(plan):
        chosen = plan.customers.index[plan.customers["targeted"]]
        return increment.loc[chosen].sum() - plan.spend

    naive = nb10_practice._returns()["naive"]
    assert naive < true_return(measured) < true_return(oracle)
    assert measured.expected_return > 2 * true_return(measured)  # "far less than it claims"
