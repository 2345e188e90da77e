"""Headless widget tests: the numbers shown are crmlab's, and no slider extreme raises."""

from __future__ import annotations

import itertools
import re
import subprocess
import sys

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

pytest.importorskip("ipywidgets")

import crmlab as cl
from crmlab import targeting as cl_targeting
from crmlab import widgets


def shown(widget, css_class: str) -> float:
    """The exact value behind the number a readout shows under ``css_class``."""
    match = re.search(rf'class="{re.escape(css_class)}" data-value="([^"]+)"', widget.readout.value)
    assert match, f"{css_class} not in readout: {widget.readout.value[:300]}"
    return float(match.group(1))


def shown_text(widget, css_class: str) -> str:
    match = re.search(
        rf'class="{re.escape(css_class)}" data-value="[^"]+">([^<]*)<', widget.readout.value
    )
    assert match
    return match.group(1)


def slider_extremes(widget):
    """(name, value) for the minimum and maximum of every slider of ``widget``."""
    for name, control in widget.controls.items():
        if hasattr(control, "min") and hasattr(control, "max"):
            yield name, control.min
            yield name, control.max


def is_png(data: bytes) -> bool:
    return data[:8] == b"\x89PNG\r\n\x1a\n"


def test_importing_the_widgets_package_loads_no_ipywidgets():
    code = "import sys, crmlab.widgets; print('ipywidgets' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_every_builder_is_listed_and_unknown_names_fail():
    assert "clv_calculator" in dir(widgets)
    with pytest.raises(AttributeError):
        widgets.not_a_widget  # noqa: B018


# -- CLV calculator -------------------------------------------------------------------


def test_clv_calculator_defaults_show_crmlab_clv():
    w = widgets.clv_calculator()
    assert shown(w, "crmlab-clv-value") == cl.clv.simple_clv(100, 0.8, 0.1)
    assert shown_text(w, "crmlab-clv-value") == "366.67"
    assert is_png(w.image.value)
    for control in w.controls.values():
        assert control.description


@pytest.mark.parametrize("timing", ["beginning", "end"])
@pytest.mark.parametrize(
    ("margin", "retention", "discount", "cost"),
    [(100, 0.8, 0.1, 150), (40, 0.55, 0.0, 0), (900, 0.97, 0.25, 2000), (0, 0.5, 0.1, 10)],
)
def test_clv_calculator_shows_the_compute_functions_results(
    timing, margin, retention, discount, cost
):
    w = widgets.clv_calculator()
    w.controls["timing"].value = timing
    w.controls["margin"].value = margin
    w.controls["retention"].value = retention
    w.controls["discount"].value = discount
    w.controls["acquisition_cost"].value = cost
    args = (margin, retention, discount)
    assert w.error is None
    assert shown(w, "crmlab-clv-value") == pytest.approx(cl.clv.simple_clv(*args, timing=timing))
    assert shown(w, "crmlab-clv-max-acquisition") == pytest.approx(
        cl.clv.max_acquisition_cost(*args, timing=timing)
    )
    assert shown(w, "crmlab-clv-net") == pytest.approx(
        cl.clv.new_customer_clv(*args, acquisition_cost=cost, timing=timing)
    )
    assert shown(w, "crmlab-clv-point") == pytest.approx(
        cl.clv.retention_point_value(*args, timing=timing)
    )


def test_clv_calculator_writes_the_formula_with_the_numbers():
    w = widgets.clv_calculator(margin=100, retention=0.8, discount=0.1)
    assert "100 × 1.10 / (1.10 − 0.80)" in w.readout.value
    w.controls["timing"].value = "end"
    assert "100 × 0.80 / (1.10 − 0.80)" in w.readout.value
    assert shown(w, "crmlab-clv-value") == pytest.approx(266.6666667)


def test_clv_calculator_moving_retention_changes_image_and_value():
    w = widgets.clv_calculator()
    before_value, before_image = shown(w, "crmlab-clv-value"), w.image.value
    w.controls["retention"].value = 0.9
    assert shown(w, "crmlab-clv-value") > before_value
    assert w.image.value != before_image


def test_clv_calculator_every_extreme_gives_an_answer_or_a_message():
    w = widgets.clv_calculator()
    extremes = list(slider_extremes(w))
    for (name_a, value_a), (name_b, value_b) in itertools.combinations(extremes, 2):
        w.controls[name_a].value = value_a
        w.controls[name_b].value = value_b
        assert w.error is None or w.error
        assert w.readout.value
    w.controls["retention"].value = 1.0
    w.controls["discount"].value = 0.0
    assert np.isinf(shown(w, "crmlab-clv-value"))
    assert "infinite" in w.readout.value
    w.controls["retention"].value = 0.0
    w.controls["margin"].value = 100
    assert shown(w, "crmlab-clv-value") == pytest.approx(100.0)


def test_clv_calculator_refuses_unknown_timing():
    with pytest.raises(ValueError, match="timing"):
        widgets.clv_calculator(timing="middle")


# -- firm simulator -------------------------------------------------------------------


def test_firm_simulator_defaults_show_the_simulation():
    w = widgets.firm_simulator()
    table = cl.simulate.simulate_firms()
    last = table[table["year"] == 10].set_index("firm")
    assert shown(w, "crmlab-firms-customers-product") == pytest.approx(
        last.loc["product focus", "customers"]
    )
    assert shown(w, "crmlab-firms-customer_equity-customer") == pytest.approx(
        last.loc["customer focus", "customer_equity"]
    )
    assert is_png(w.image.value)


def test_firm_simulator_controls_reach_simulate_firms_and_the_crossover():
    w = widgets.firm_simulator()
    settings = {
        "product_share": 0.9,
        "product_retention": 0.5,
        "customer_share": 0.3,
        "customer_retention": 0.92,
        "margin": 150.0,
        "acquisition_cost": 300.0,
        "discount": 0.05,
        "horizon": 15,
    }
    for name, value in settings.items():
        w.controls[name].value = value
    parameters = {
        "acquisition_share": (0.9, 0.3),
        "retention": (0.5, 0.92),
        "margin": 150.0,
        "acquisition_cost": 300.0,
        "discount": 0.05,
        "horizon": 15,
    }
    table = cl.simulate.simulate_firms(**parameters)
    last = table[table["year"] == 15].set_index("firm")
    for metric in ("customers", "revenue", "profit", "customer_equity"):
        for firm, key in (("product focus", "product"), ("customer focus", "customer")):
            assert shown(w, f"crmlab-firms-{metric}-{key}") == pytest.approx(last.loc[firm, metric])
    crossover = cl.simulate.retention_crossover(metric="customers", **parameters)
    assert shown(w, "crmlab-firms-crossover-customers") == crossover.year
    # the widget bisects to 1e-5, enough for the 3 decimals it shows
    assert shown(w, "crmlab-firms-breakeven-customers") == pytest.approx(
        crossover.breakeven_retention, abs=2e-5
    )


def test_firm_simulator_every_extreme_gives_an_answer_or_a_message():
    w = widgets.firm_simulator()
    for name, value in slider_extremes(w):
        w.controls[name].value = value
        assert w.error is None, w.error
        assert w.readout.value
    # everyone stays, nothing is discounted: equity is infinite, and said so
    w.controls["customer_retention"].value = 1.0
    w.controls["discount"].value = 0.0
    assert np.isinf(shown(w, "crmlab-firms-customer_equity-customer"))
    assert "infinite" in w.readout.value
    assert is_png(w.image.value)


def test_firm_simulator_keyword_arguments_are_starting_values():
    w = widgets.firm_simulator(retention=(0.5, 0.95), horizon=4, budget=10_000)
    assert w.controls["customer_retention"].value == 0.95
    table = cl.simulate.simulate_firms(retention=(0.5, 0.95), horizon=4, budget=10_000)
    assert shown(w, "crmlab-firms-customers-customer") == pytest.approx(table["customers"].iloc[-1])


# -- sBG explorer ---------------------------------------------------------------------


def test_sbg_explorer_fit_reproduces_fader_hardie_and_readout_matches_model():
    w = widgets.sbg_explorer()
    w.fit()
    fitted = w.result["fitted"]
    assert fitted["params"]["alpha"] == pytest.approx(0.704, abs=5e-4)
    assert fitted["params"]["beta"] == pytest.approx(1.182, abs=5e-4)
    assert shown(w, "crmlab-sbg-fit-loglik") == pytest.approx(-1680.27, abs=5e-3)
    # the sliders moved to the estimates, and the log-likelihood shown is the fitted one
    assert w.controls["alpha"].value == pytest.approx(fitted["params"]["alpha"])
    assert shown(w, "crmlab-sbg-loglik") == pytest.approx(fitted["loglik"])


def test_sbg_explorer_sliders_show_the_models_survival():
    w = widgets.sbg_explorer()
    w.controls["group"].value = "high_end"
    w.controls["alpha"].value = 0.668
    w.controls["beta"].value = 3.806
    model = cl.models.ShiftedBetaGeometric().set_params(alpha=0.668, beta=3.806)
    assert shown(w, "crmlab-sbg-model-last") == pytest.approx(100 * model.survival(12))
    assert shown(w, "crmlab-sbg-observed-last") == pytest.approx(39.4)
    assert shown(w, "crmlab-sbg-retention-last") == pytest.approx(model.retention_rate(12))
    refit = cl.models.ShiftedBetaGeometric().fit(cl.datasets.load_survival()["high_end"].loc[:7])
    assert refit.log_likelihood(cl.datasets.load_survival()["high_end"].loc[:7]) == pytest.approx(
        refit.loglik
    )


def test_sbg_explorer_draws_the_notebook_sbg_figure():
    # One drawing for both: the widget fills plots.draw_sbg_survival's artists.
    survival = cl.datasets.load_survival()
    w = widgets.sbg_explorer()
    w.fit()
    model = cl.models.ShiftedBetaGeometric().set_params(**w.result["fitted"]["params"])
    ax = cl.plots.plot_sbg_fit(model, survival["regular"], 7, label="Regular")
    mine = w._figure.axes[0]
    assert len(mine.lines) == len(ax.lines) == 3
    for widget_line, plot_line in zip(mine.lines, ax.lines, strict=True):
        np.testing.assert_allclose(widget_line.get_xydata(), plot_line.get_xydata())
        assert widget_line.get_linestyle() == plot_line.get_linestyle()
    assert [p.get_width() for p in mine.patches] == [p.get_width() for p in ax.patches] == [7]
    w.controls["calibration_years"].value = 4
    assert [p.get_width() for p in mine.patches] == [4]
    plt.close("all")


def test_sbg_explorer_extremes_and_a_hopeless_fit_give_messages():
    w = widgets.sbg_explorer()
    for name, value in slider_extremes(w):
        w.controls[name].value = value
        assert w.error is None, w.error
    w.controls["calibration_years"].value = 2
    w.fit()  # three points, two parameters: may not converge, must not raise
    assert w.readout.value


# -- BG/NBD explorer ------------------------------------------------------------------


def test_bgnbd_explorer_shows_the_published_customer():
    w = widgets.bgnbd_explorer()
    assert shown(w, "crmlab-bgnbd-expected") == pytest.approx(1.226, abs=5e-4)
    model = w.model
    w.controls["x"].value = 7
    w.controls["t_x"].value = 20.0
    w.controls["T"].value = 50.0
    w.controls["horizon"].value = 52
    assert shown(w, "crmlab-bgnbd-p-alive") == pytest.approx(model.p_alive(7, 20.0, 50.0))
    assert shown(w, "crmlab-bgnbd-expected") == pytest.approx(
        model.conditional_expected_purchases(52, 7, 20.0, 50.0)
    )
    assert w.result["map"].shape == (60, 21)  # t_x cells by x = 0..20
    assert is_png(w.image.value)


def test_bgnbd_explorer_draws_the_notebook_p_alive_map():
    # One drawing for both: the widget's figure is plots.plot_p_alive_map's, updated.
    w = widgets.bgnbd_explorer()
    w.controls["x"].value = 4
    w.controls["T"].value = 30.0
    w.controls["t_x"].value = 12.0
    ax = cl.plots.plot_p_alive_map(w.model, 30.0, max_x=20, unit="weeks", mark=(4, 12.0))
    mine = w._figure.axes[0]
    np.testing.assert_allclose(mine.images[0].get_array(), ax.images[0].get_array())
    assert mine.images[0].get_cmap().name == ax.images[0].get_cmap().name
    assert mine.images[0].get_extent() == ax.images[0].get_extent()
    assert mine.lines[0].get_xydata().tolist() == [[4.0, 12.0]]
    assert (mine.get_xlabel(), mine.get_title()) == (ax.get_xlabel(), ax.get_title())
    plt.close("all")


def test_bgnbd_explorer_last_purchase_follows_the_observation_period():
    w = widgets.bgnbd_explorer()
    w.controls["t_x"].value = 60.0  # after the end of observation: held at T
    assert w.controls["t_x"].value == pytest.approx(38.86)
    w.controls["T"].value = 10.0  # shortening the observation pulls t_x back
    assert w.controls["t_x"].value == pytest.approx(10.0)
    assert w.error is None
    assert shown(w, "crmlab-bgnbd-p-alive") == pytest.approx(w.model.p_alive(2, 10.0, 10.0))
    w.controls["T"].value = 70.0  # lengthening it frees t_x again
    w.controls["t_x"].value = 65.0
    assert shown(w, "crmlab-bgnbd-p-alive") == pytest.approx(w.model.p_alive(2, 65.0, 70.0))


def test_bgnbd_explorer_impossible_histories_give_a_message_not_a_traceback():
    w = widgets.bgnbd_explorer()
    w.controls["t_x"].value = 0.0  # repeat purchases at time 0
    assert w.error and "t_x" in w.error
    assert "Cannot compute" in w.readout.value
    w.controls["x"].value = 0
    assert w.error is None
    for name, value in slider_extremes(w):
        w.controls[name].value = value
        assert w.readout.value


# -- CLV targeting --------------------------------------------------------------------


def test_clv_targeting_shows_plan_campaign():
    values = pd.Series([120.0, 80.0, 40.0, 20.0, 5.0], index=list("abcde"))
    w = widgets.clv_targeting(values, budget=30, cost_per_customer=10, uplift=0.2)
    plan = cl_targeting.plan_campaign(values, budget=30, cost_per_customer=10, uplift=0.2)
    assert shown(w, "crmlab-targeting-n") == plan.n_targeted == 2
    assert shown(w, "crmlab-targeting-return") == pytest.approx(plan.expected_return)
    w.controls["budget"].value = 0
    assert shown(w, "crmlab-targeting-n") == 0
    assert "Nobody" in w.readout.value


def test_clv_targeting_default_uses_cdnow_values_and_survives_extremes():
    w = widgets.clv_targeting()
    assert len(w.result.customers) == 2357
    for name, value in slider_extremes(w):
        w.controls[name].value = value
        assert w.error is None, w.error
        assert w.readout.value


# -- cohort explorer ------------------------------------------------------------------


def test_cohort_explorer_shows_the_cohort_table():
    w = widgets.cohort_explorer()
    table = cl.transactions.cohort_table(cl.datasets.load_cdnow("sample"), period="M")
    assert shown(w, "crmlab-cohorts-n") == 2357
    w.controls["cohort"].value = "1997-02"
    row = table[(table["cohort"] == "1997-02") & (table["period"] == 1)].iloc[0]
    assert shown(w, "crmlab-cohorts-first") == pytest.approx(100 * row["retention"])
    w.controls["period"].value = "Q"
    assert w.controls["cohort"].options == ("all cohorts", "1997Q1")
    assert w.controls["cohort"].value == "all cohorts"
    assert is_png(w.image.value)


def test_cohort_explorer_takes_a_users_log():
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 3, 3],
            "date": pd.to_datetime(
                ["2024-01-03", "2024-02-10", "2024-01-20", "2024-02-02", "2024-03-05"]
            ),
            "amount": [10.0, 12.0, 5.0, 7.0, 8.0],
        }
    )
    w = widgets.cohort_explorer(tx)
    assert w.controls["dataset"].value == "own"
    assert shown(w, "crmlab-cohorts-n") == 3
    # January cohort (customers 1, 2): one of two back in February
    assert shown(w, "crmlab-cohorts-first") == pytest.approx(100 * (1 + 1) / (2 + 1))
