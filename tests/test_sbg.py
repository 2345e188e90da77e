"""Shifted-beta-geometric model (Fader & Hardie 2007): published fits, projections,
simulation recovery, bad input, extremes and the plots."""

from __future__ import annotations

import warnings

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

import crmlab as cl
from crmlab.models import ShiftedBetaGeometric


@pytest.fixture(scope="module")
def survival():
    return cl.datasets.load_survival()


@pytest.fixture(scope="module")
def fits(survival):
    return {
        group: ShiftedBetaGeometric().fit(survival[group].loc[:7])
        for group in ("regular", "high_end")
    }


# The published figures (Fader & Hardie 2007: Table 1's fits, Figure 3's projection) are
# in test_models_published.py.


def test_year_12_figures(fits):
    assert round(100 * fits["regular"].survival(12), 1) == 17.0  # actual 17.3
    assert round(100 * fits["high_end"].survival(12), 1) == 37.8  # actual 39.4


def test_cross_checks_with_published_course_material():
    # Regular group, four renewals (1000, 631, 468, 382, 326): a Wharton course note
    # (kailu3's CLV code snippets) reports gamma, delta = 0.764, 1.296 for the same sBG.
    model = ShiftedBetaGeometric().fit([1000, 631, 468, 382, 326])
    assert round(model.params["alpha"], 3) == 0.764
    assert round(model.params["beta"], 3) == 1.296
    # JD Maturen's shifted_beta_geometric_py README: High End years 1-7, next five years.
    high_end = ShiftedBetaGeometric().fit([1000, 869, 743, 653, 593, 551, 517, 491])
    assert np.round(high_end.survival(np.arange(8, 13)), 3).tolist() == [
        0.460,
        0.436,
        0.414,
        0.395,
        0.378,
    ]


# ----- the model's quantities agree with one another ------------------------------------
def test_survival_churn_and_retention_are_consistent():
    model = ShiftedBetaGeometric().set_params(alpha=0.704, beta=1.182)
    t = np.arange(1, 60)
    survival = model.survival(np.arange(0, 60))
    assert survival[0] == 1.0
    np.testing.assert_allclose(model.churn_probability(t), survival[:-1] - survival[1:])
    np.testing.assert_allclose(model.retention_rate(t), survival[1:] / survival[:-1])
    np.testing.assert_allclose(model.retention_rate(t), (1.182 + t - 1) / (0.704 + 1.182 + t - 1))
    assert np.all(np.diff(model.retention_rate(t)) > 0)  # the sorting effect


def test_expected_lifetime_is_the_sum_of_survival():
    model = ShiftedBetaGeometric().set_params(alpha=3.8, beta=15.2)
    t = np.arange(0, 20_000)
    assert model.expected_lifetime() == pytest.approx(model.survival(t).sum(), rel=1e-7)
    assert model.discounted_expected_lifetime(0.0) == pytest.approx(model.expected_lifetime())
    assert ShiftedBetaGeometric().set_params(alpha=0.7, beta=1).expected_lifetime() == np.inf


def test_derl_method_matches_clv(fits):
    model = fits["regular"]
    alpha, beta = model.params["alpha"], model.params["beta"]
    assert model.derl(0.1, 8) == pytest.approx(cl.clv.derl(alpha, beta, 0.1, 8))


def test_project_table(fits):
    table = fits["high_end"].project(12)
    assert list(table.columns) == ["survival", "survivors", "retention_rate"]
    assert table.index.tolist() == list(range(13))
    assert table.loc[0, "survivors"] == 1000
    assert table.loc[12, "survival"] == pytest.approx(0.378, abs=5e-4)
    assert np.isnan(table.loc[0, "retention_rate"])


def test_scalars_and_arrays():
    model = ShiftedBetaGeometric().set_params(alpha=1.0, beta=2.0)
    assert isinstance(model.survival(3), float)
    assert model.survival([[1, 2], [3, 4]]).shape == (2, 2)
    assert model.survival(1) == pytest.approx(2 / 3)  # E[1 - theta] with theta ~ Beta(1, 2)


# ----- simulation ---------------------------------------------------------------------
def test_simulated_cohort_gives_back_its_parameters():
    truth = {"alpha": 1.3, "beta": 2.7}
    survivors = ShiftedBetaGeometric().set_params(**truth).simulate(100_000, 10, seed=11)
    model = ShiftedBetaGeometric().fit(survivors)
    for name, value in truth.items():
        assert abs(model.params[name] - value) < 3 * model.standard_errors[name], name


def test_hessian_standard_errors_are_honest():
    # Over many simulated cohorts the 95 % intervals should cover the truth about 95 % of
    # the time; too small standard errors would show up as poor coverage.
    truth = {"alpha": 0.7, "beta": 1.2}
    generator = ShiftedBetaGeometric().set_params(**truth)
    covered = []
    for seed in range(40):
        model = ShiftedBetaGeometric().fit(generator.simulate(3_000, 8, seed=seed))
        intervals = model.confidence_intervals(0.95)
        covered.append(
            all(
                intervals.loc[k, "lower"] <= v <= intervals.loc[k, "upper"]
                for k, v in truth.items()
            )
        )
    assert 0.8 <= np.mean(covered) <= 1.0


def test_simulate_matches_the_survival_curve():
    model = ShiftedBetaGeometric().set_params(alpha=0.704, beta=1.182)
    counts = model.simulate(200_000, 12, seed=3)
    expected = model.survival(np.arange(13))
    standard_error = np.sqrt(expected * (1 - expected) / 200_000)
    assert np.all(np.abs(counts / 200_000 - expected) < 4 * standard_error + 1e-12)
    assert np.all(np.diff(counts) <= 0)


# ----- bad input ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "survivors, message",
    [
        ([1000, 600, 400, 500], r"cannot rise: period 3 has 500 after 400"),
        ([1000, 600, -4], r"period 2 has -4"),
        ([1000, 600.5, 400], r"period 1 has 600.5"),
        ([1000, np.nan], r"period 1"),
        ([1000], "at least two"),
        ([], "at least two"),
        ([0, 0], "empty"),
        ([[1000, 600], [900, 500]], "1-d"),
        (["1000", "x"], "numeric"),
    ],
)
def test_bad_survivor_counts(survivors, message):
    with pytest.raises(ValueError, match=message):
        ShiftedBetaGeometric().fit(survivors)


def test_bad_input_names_the_index_label_and_refuses_frames(survival):
    rising = pd.Series([1000, 600, 700], index=pd.Index([2010, 2011, 2012], name="year"))
    with pytest.raises(ValueError, match="period 2012"):
        ShiftedBetaGeometric().fit(rising)
    with pytest.raises(ValueError, match="pick a column"):
        ShiftedBetaGeometric().fit(survival)
    with pytest.raises(ValueError, match="weights"):
        ShiftedBetaGeometric().fit([1000, 600], weights=[1, 1])


def test_bad_periods_and_simulation_arguments():
    model = ShiftedBetaGeometric().set_params(alpha=1, beta=1)
    with pytest.raises(ValueError, match=">= 0"):
        model.survival(-1)
    with pytest.raises(ValueError, match=">= 1"):
        model.retention_rate(0)
    with pytest.raises(ValueError, match="n_customers"):
        model.simulate(0, 5)
    with pytest.raises(ValueError, match="periods"):
        model.simulate(10, 2.5)
    with pytest.raises(RuntimeError, match="not fitted"):
        ShiftedBetaGeometric().survival(1)


# ----- extremes -----------------------------------------------------------------------
def test_nobody_leaves_is_flagged_not_hidden():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = ShiftedBetaGeometric().fit([1000, 1000, 1000, 1000])
    assert any("no customer left" in str(w.message) for w in caught)
    assert model.survival(10) == pytest.approx(1.0, abs=1e-3)


def test_everyone_leaves_at_once_gives_finite_answers():
    with pytest.warns(cl.models.ConvergenceWarning, match="every customer left"):
        model = ShiftedBetaGeometric().fit([1000, 0, 0])
    assert model.survival(1) < 1e-3
    assert np.isfinite(model.retention_rate(5))


def test_extreme_parameters_stay_finite():
    tiny = ShiftedBetaGeometric().set_params(alpha=1e-3, beta=1e-3)
    huge = ShiftedBetaGeometric().set_params(alpha=1e5, beta=4e5)
    for model in (tiny, huge):
        values = model.survival(np.arange(0, 500))
        assert np.all(np.isfinite(values)) and np.all(np.diff(values) <= 0)
        assert np.isfinite(model.derl(0.1, 400))
    assert huge.survival(1) == pytest.approx(0.8)
    assert tiny.simulate(1000, 5, seed=1)[0] == 1000


# ----- plots --------------------------------------------------------------------------
def test_plots_draw_both_groups_and_save(fits, survival, tmp_path):
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4))
    for group, label in (("regular", "Regular"), ("high_end", "High End")):
        cl.plots.plot_sbg_fit(fits[group], survival[group], 7, label=label, ax=left)
        cl.plots.plot_retention_rates(fits[group], survival[group], 7, label=label, ax=right)
    # one shaded calibration window per panel, however many groups
    assert sum(patch.get_label() == "fitted on" for patch in left.patches) == 1
    assert sum(patch.get_label() == "fitted on" for patch in right.patches) == 1
    assert "years" in left.get_xlabel() and "%" in left.get_ylabel()
    labels = [text.get_text() for text in left.get_legend().get_texts()]
    assert {"observed Regular", "sBG High End"} <= set(labels)
    path = tmp_path / "sbg.png"
    figure.savefig(path)
    assert path.stat().st_size > 10_000
    plt.close(figure)


def test_plot_projection_horizon_and_bad_input(fits, survival, tmp_path):
    import matplotlib.pyplot as plt

    ax = cl.plots.plot_sbg_fit(fits["regular"], survival["regular"].loc[:7], 7, horizon=20)
    assert max(max(line.get_xdata()) for line in ax.get_lines()) == 20
    ax.figure.savefig(tmp_path / "horizon.png")
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="calibration_periods"):
        cl.plots.plot_sbg_fit(fits["regular"], survival["regular"], 0)
