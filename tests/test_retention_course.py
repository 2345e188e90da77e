"""What notebooks 05 and 06 added to crmlab: consistent lapse censoring, the
constant-retention benchmark, and the figures of the churn-probability spread and the
benchmark projection."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

import crmlab as cl

REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]


def test_lapse_durations_can_censor_at_the_last_purchase():
    summary = pd.DataFrame({"t_x": [0.0, 10.0, 36.0], "T": [39.0, 39.0, 39.0]})
    original = summary.copy()
    durations = cl.retention.lapse_durations(summary, lapse_after=13, censor_at="last_purchase")
    assert durations["lapsed"].tolist() == [True, True, False]
    # every duration is the last purchase; only the flag says whether the end was seen
    assert durations["duration"].tolist() == [0.0, 10.0, 36.0]
    pd.testing.assert_frame_equal(summary, original)
    with pytest.raises(ValueError, match="censor_at"):
        cl.retention.lapse_durations(summary, lapse_after=13, censor_at="T")


def test_censoring_at_the_last_purchase_lowers_survival_a_little_on_cdnow():
    summary = cl.transactions.summarize(cl.datasets.load_cdnow("sample"), "1997-09-30", unit="W")

    def at_24(censor_at):
        d = cl.retention.lapse_durations(summary, 13, censor_at=censor_at)
        curve = cl.retention.kaplan_meier(d["duration"], d["lapsed"])["survival"]
        return curve.loc[:24].iloc[-1]

    # the review's recomputation: 0.176 censored at t_x against 0.179 censored at T
    assert at_24("last_purchase") == pytest.approx(0.176, abs=1e-3)
    assert at_24("observation_end") == pytest.approx(0.179, abs=1e-3)
    # no lapse can be seen later than T_max - 13 weeks: the curve is flat after it
    d = cl.retention.lapse_durations(summary, 13, censor_at="last_purchase")
    assert d.loc[d["lapsed"], "duration"].max() < summary["T"].max() - 13


def test_constant_retention_rate_is_the_maximum_of_the_geometric_likelihood():
    n = np.array(REGULAR, dtype=float)
    t = np.arange(1, len(n))
    lost = n[:-1] - n[1:]

    def negative_loglik(r):
        return -(np.sum(lost * (np.log(1 - r) + (t - 1) * np.log(r))) + n[-1] * t[-1] * np.log(r))

    numeric = optimize.minimize_scalar(negative_loglik, bounds=(0.01, 0.99), method="bounded")
    rate = cl.retention.constant_retention_rate(REGULAR)
    assert rate == pytest.approx(numeric.x, abs=1e-5)
    # the review's geometric benchmark: 4.6 % at year 12 for Regular, 27.0 % for High End
    assert rate**12 == pytest.approx(0.046, abs=5e-4)
    high_end = cl.datasets.load_survival()["high_end"].loc[:7]
    assert cl.retention.constant_retention_rate(high_end) ** 12 == pytest.approx(0.270, abs=5e-4)


def test_constant_retention_rate_recovers_a_simulated_homogeneous_rate():
    rng = np.random.default_rng(7)
    lifetimes = rng.geometric(0.2, size=20_000)  # churn 0.2, retention 0.8
    counts = [(lifetimes > k).sum() for k in range(8)]
    assert cl.retention.constant_retention_rate(counts) == pytest.approx(0.8, abs=0.005)
    with pytest.raises(ValueError, match="cannot rise"):
        cl.retention.constant_retention_rate([100, 90, 95])


def test_churn_distribution_plot_draws_the_fitted_beta_density():
    import matplotlib.pyplot as plt
    from scipy import stats

    model = cl.models.ShiftedBetaGeometric().set_params(alpha=0.704, beta=1.182)
    ax = cl.plots.plot_churn_distribution(model, label="Regular")
    line = ax.get_lines()[0]
    x, y = line.get_xdata(), line.get_ydata()
    assert np.allclose(y, stats.beta(0.704, 1.182).pdf(x))
    assert "theta" in ax.get_xlabel() and "density" in ax.get_ylabel()
    mean_line = ax.get_lines()[1]
    assert mean_line.get_xdata()[0] == pytest.approx(0.704 / (0.704 + 1.182))
    plt.close(ax.figure)


def test_sbg_fit_plot_adds_the_constant_retention_benchmark():
    import matplotlib.pyplot as plt

    survival = cl.datasets.load_survival()["regular"]
    model = cl.models.ShiftedBetaGeometric().fit(survival.loc[:7])
    ax = cl.plots.plot_sbg_fit(model, survival, 7, label="Regular", benchmark=True)
    benchmark = ax.get_lines()[-1]
    assert benchmark.get_label() == "constant retention Regular"
    assert benchmark.get_linestyle() == ":"
    rate = cl.retention.constant_retention_rate(survival.loc[:7])
    assert benchmark.get_ydata()[-1] == pytest.approx(100 * rate**12)
    plain = cl.plots.plot_sbg_fit(model, survival, 7, label="Regular")
    assert "constant retention Regular" not in [line.get_label() for line in plain.get_lines()]
    plt.close("all")


def test_retention_rate_plot_is_solid_where_fitted_and_dashed_beyond():
    import matplotlib.pyplot as plt

    survival = cl.datasets.load_survival()["high_end"]
    model = cl.models.ShiftedBetaGeometric().fit(survival.loc[:7])
    ax = cl.plots.plot_retention_rates(model, survival, 7, label="High End")
    styles = {
        line.get_linestyle(): (min(line.get_xdata()), max(line.get_xdata()))
        for line in ax.get_lines()
        if line.get_linestyle() in ("-", "--")
    }
    assert styles["-"] == (1, 7)
    assert styles["--"] == (7, 12)
    plt.close(ax.figure)
