"""Every figure renders to a PNG; retention tables and Kaplan–Meier agree with direct counts."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import crmlab as cl


@pytest.fixture(scope="module")
def cdnow():
    return cl.datasets.load_cdnow("sample")


@pytest.fixture(scope="module")
def fitted(cdnow):
    summary = cl.transactions.summarize(cdnow, "1997-09-30")
    return summary, cl.models.BGNBD().fit(summary)


def _saved(ax, path):
    ax.figure.savefig(path, format="png")
    plt.close(ax.figure)
    assert path.stat().st_size > 5_000
    with path.open("rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"


def test_model_figures_render(tmp_path, cdnow, fitted):
    summary, model = fitted
    holdout = cl.transactions.calibration_holdout(cdnow, "1997-09-30", "1998-06-30")
    ax = cl.plots.plot_frequency_fit(model, summary)
    assert ax.get_ylabel() == "customers" and "weeks" in ax.get_xlabel()
    _saved(ax, tmp_path / "frequency.png")
    ax = cl.plots.plot_tracking(model, cdnow, "1997-09-30")
    assert "weeks" in ax.get_xlabel()
    _saved(ax, tmp_path / "tracking.png")
    _saved(
        cl.plots.plot_tracking(model, cdnow, "1997-09-30", cumulative=False),
        tmp_path / "weekly.png",
    )
    _saved(cl.plots.plot_conditional_expectations(model, holdout), tmp_path / "conditional.png")
    _saved(cl.plots.plot_p_alive_map(model, 38.86, mark=(2, 30.43)), tmp_path / "palive.png")


def test_survival_figures_render(tmp_path):
    survival = cl.datasets.load_survival()
    model = cl.models.ShiftedBetaGeometric().fit(survival["regular"].loc[:7])
    _saved(
        cl.plots.plot_sbg_fit(model, survival["regular"], 7, label="Regular"), tmp_path / "sbg.png"
    )
    durations = cl.models.survivors_to_durations(survival["regular"].loc[:7])
    curve = cl.retention.kaplan_meier(
        durations["period"], durations["churned"] == 1, durations["weight"]
    )
    _saved(cl.plots.plot_survival_curve(curve, unit="years"), tmp_path / "km.png")


def test_cohort_figures_render(tmp_path):
    matrix = cl.retention.retention_matrix(
        cl.transactions.cohort_table(cl.datasets.load_cdnow("master"))
    )
    _saved(cl.plots.plot_cohort_heatmap(matrix), tmp_path / "heatmap.png")
    _saved(cl.plots.plot_retention_curves(matrix), tmp_path / "curves.png")


def test_weekly_repeat_transactions_add_up_to_the_summary(cdnow):
    weekly = cl.plots.repeat_transactions_by_period(cdnow)
    calibration = cl.transactions.calibration_holdout(cdnow, "1997-09-30", "1998-06-30")
    assert int(weekly.sum()) == int(calibration["x"].sum() + calibration["x_holdout"].sum())


def test_kaplan_meier_on_contract_data_gives_back_the_survivor_shares():
    survival = cl.datasets.load_survival()["regular"].loc[:7]
    durations = cl.models.survivors_to_durations(survival)
    curve = cl.retention.kaplan_meier(
        durations["period"], durations["churned"] == 1, durations["weight"]
    )
    # With every cancellation observed, KM is the share still active.
    assert np.allclose(curve.loc[list(range(8)), "survival"], survival.to_numpy() / 1000)
    assert (curve["lower"] <= curve["survival"]).all() and (
        curve["survival"] <= curve["upper"]
    ).all()


def test_kaplan_meier_handles_censoring_like_the_textbook():
    # Six customers: events at 1, 3; censored at 2, 4, 5, 5.
    curve = cl.retention.kaplan_meier([1, 2, 3, 4, 5, 5], [1, 0, 1, 0, 0, 0])
    # S(1) = 5/6; S(3) = 5/6 * (1 - 1/4) because 4 were still at risk at 3.
    assert curve.loc[1.0, "survival"] == pytest.approx(5 / 6)
    assert curve.loc[3.0, "survival"] == pytest.approx(5 / 6 * 3 / 4)
    with pytest.raises(ValueError, match="every duration is censored"):
        cl.retention.kaplan_meier([1, 2], [0, 0])


def test_lapse_durations_censor_recent_customers():
    summary = pd.DataFrame({"t_x": [0.0, 10.0, 36.0], "T": [39.0, 39.0, 39.0]})
    durations = cl.retention.lapse_durations(summary, lapse_after=13)
    assert durations["lapsed"].tolist() == [True, True, False]
    assert durations["duration"].tolist() == [0.0, 10.0, 39.0]


def test_retention_matrix_leaves_unreached_cells_empty():
    log = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 3],
            "date": pd.to_datetime(["2024-01-05", "2024-02-10", "2024-02-03", "2024-02-20"]),
            "amount": [1.0, 1.0, 1.0, 1.0],
        }
    )
    matrix = cl.retention.retention_matrix(cl.transactions.cohort_table(log, period="M"))
    assert matrix.loc["2024-01", 1] == 1.0
    assert matrix.loc["2024-02", 0] == 1.0
    assert np.isnan(matrix.loc["2024-02", 1])
