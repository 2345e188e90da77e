"""Per-customer intervals from parameter uncertainty: coverage by simulation, and the API."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import crmlab as cl
from crmlab.models import BGNBD, GammaGamma, ParetoNBD

BG = {"r": 0.8, "alpha": 8.0, "a": 0.8, "b": 2.5}


@pytest.mark.numeric
def test_nominal_90_percent_intervals_cover_85_to_95_percent_of_simulated_truths():
    truth = BGNBD().set_params(**BG)
    x, t_x, T = np.array([2.0, 6.0, 1.0]), np.array([20.0, 38.0, 5.0]), np.full(3, 39.0)
    true_alive = truth.p_alive(x, t_x, T)
    true_expected = truth.conditional_expected_purchases(39, x, t_x, T)
    hits = []
    for rep in range(100):
        base = truth.simulate(1000, 39.0, seed=1000 + rep)
        base["t_x"] = np.where(base["x"] > 0, np.maximum(np.round(base["t_x"] * 7), 1) / 7, 0.0)
        model = BGNBD().fit(pd.DataFrame(base))
        alive = model.p_alive(x, t_x, T, interval=0.9, draws=300, seed=rep)
        expected = model.conditional_expected_purchases(39, x, t_x, T, interval=0.9, draws=300)
        hits.append(
            np.r_[
                (alive["lower"] <= true_alive) & (true_alive <= alive["upper"]),
                (expected["lower"] <= true_expected) & (true_expected <= expected["upper"]),
            ]
        )
    coverage = np.mean(hits)
    assert 0.85 <= coverage <= 0.95, np.mean(hits, axis=0)


@pytest.fixture(scope="module")
def cdnow_fit():
    return BGNBD().fit(cl.datasets.load_cdnow_published_summary())


def test_interval_table_is_labelled_by_customer_and_brackets_the_estimate(cdnow_calibration):
    model = ParetoNBD().fit(cdnow_calibration)
    head = cdnow_calibration.head(20)
    table = model.conditional_expected_purchases(
        39, head["x"], head["t_x"], head["T"], interval=0.9, draws=200
    )
    assert list(table.columns) == ["estimate", "lower", "upper"]
    assert table.index.equals(head.index)
    assert np.allclose(
        table["estimate"],
        model.conditional_expected_purchases(39, head["x"], head["t_x"], head["T"]),
    )
    assert ((table["lower"] <= table["estimate"]) & (table["estimate"] <= table["upper"])).all()
    assert (table["upper"] > table["lower"]).all()
    wider = model.conditional_expected_purchases(
        39, head["x"], head["t_x"], head["T"], interval=0.99, draws=200
    )
    assert (wider["upper"] - wider["lower"] >= table["upper"] - table["lower"]).all()


def test_seeded_intervals_repeat_and_the_bootstrap_agrees_with_the_normal_draws(cdnow_fit):
    first = cdnow_fit.p_alive(2, 30.43, 38.86, interval=0.9, seed=4)
    assert first.equals(cdnow_fit.p_alive(2, 30.43, 38.86, interval=0.9, seed=4))
    boot = cdnow_fit.p_alive(2, 30.43, 38.86, interval=0.9, method="bootstrap", draws=60)
    normal_width = float(first["upper"].iloc[0] - first["lower"].iloc[0])
    boot_width = float(boot["upper"].iloc[0] - boot["lower"].iloc[0])
    assert boot_width == pytest.approx(normal_width, rel=0.4)
    assert boot.attrs["method"] == "bootstrap"


def test_expected_spend_interval_and_refusals(cdnow_calibration, cdnow_fit):
    gg = GammaGamma().fit(cdnow_calibration)
    table = gg.conditional_expected_spend([1, 10], [20.0, 20.0], interval=0.9, draws=200)
    assert (table["lower"] < table["estimate"]).all() and (table["estimate"] < table["upper"]).all()
    # more purchases: the customer's own mean is known better, the interval narrower
    widths = table["upper"] - table["lower"]
    assert widths.iloc[1] < widths.iloc[0]
    by_hand = BGNBD().set_params(**BG)
    with pytest.raises(ValueError, match=r"set by hand.*call fit"):
        by_hand.p_alive(2, 30, 39, interval=0.9)
    with pytest.raises(ValueError, match="between 0 and 1"):
        cdnow_fit.p_alive(2, 30, 39, interval=90)
    with pytest.raises(ValueError, match="method must be one of"):
        cdnow_fit.p_alive(2, 30, 39, interval=0.9, method="jackknife")


def test_covariate_models_give_intervals_per_customer():
    rng = np.random.default_rng(0)
    n = 3000
    g = rng.integers(0, 2, n).astype(float)
    truth = ParetoNBD(purchase_covariates=["g"]).set_params(
        r=0.8, alpha=8.0, s=0.7, beta=12.0, **{"purchase.g": 0.6}
    )
    data = pd.DataFrame(truth.simulate(n, 39.0, covariates={"g": g})).assign(g=g)
    model = ParetoNBD(purchase_covariates=["g"]).fit(data)
    table = model.conditional_expected_purchases(
        39, [3, 3], [30, 30], [39, 39], covariates={"g": [0.0, 1.0]}, interval=0.9, draws=200
    )
    assert table["estimate"].iloc[1] > table["estimate"].iloc[0]
    assert ((table["lower"] < table["estimate"]) & (table["estimate"] < table["upper"])).all()


def test_intervals_on_distinct_customers_equal_the_draws_evaluated_customer_by_customer(cdnow_fit):
    # Repeated customers (and a Series t) go through the compressed, blocked path; the
    # same draws evaluated on every row by hand must give the very same bounds.
    from crmlab.models import _intervals

    x = np.array([0.0, 2.0, 2.0, 7.0, 0.0, 2.0])
    t_x = np.array([0.0, 30.43, 30.43, 35.0, 0.0, 20.0])
    T = np.full(6, 38.86)
    t = pd.Series(np.array([39.0, 39.0, 39.0, 52.0, 39.0, 39.0]), index=list("abcdef"))
    table = cdnow_fit.conditional_expected_purchases(t, x, t_x, T, interval=0.8, draws=40, seed=3)
    assert list(table.index) == list("abcdef")
    (copies,) = _intervals.draw_models([cdnow_fit], 40, seed=3)[:1]
    by_hand = np.array([m.conditional_expected_purchases(t, x, t_x, T) for m in copies])
    lower, upper = np.quantile(by_hand, [0.1, 0.9], axis=0)
    assert np.allclose(table["lower"], lower, rtol=1e-12)
    assert np.allclose(table["upper"], upper, rtol=1e-12)
    old_block = _intervals.BLOCK_BYTES
    _intervals.BLOCK_BYTES = 8 * 40 * 2  # two customers a block
    try:
        blocked = cdnow_fit.conditional_expected_purchases(
            t, x, t_x, T, interval=0.8, draws=40, seed=3
        )
    finally:
        _intervals.BLOCK_BYTES = old_block
    assert blocked.equals(table)


def _value_by_hand(bg, gg, data, months, discount_year, margin):
    # The definition, period by period, with no grouping of customers.
    edges = np.arange(months + 1) * (365.25 / 12 / 7)
    cumulative = bg.conditional_expected_purchases(
        edges[:, None], data["x"], data["t_x"], data["T"]
    )
    weights = (1 + discount_year) ** -(np.arange(1, months + 1) / 12)
    spend = gg.conditional_expected_spend(data["x"], data["monetary"])
    return margin * (weights @ np.diff(cumulative, axis=0)) * spend


@pytest.mark.parametrize("model", [BGNBD, ParetoNBD, cl.models.MBGNBD])
def test_customer_value_computed_per_distinct_x_and_T_equals_the_definition(
    cdnow_calibration, model
):
    purchases = model().fit(cdnow_calibration)
    gg = GammaGamma().fit(cdnow_calibration[cdnow_calibration["x"] > 0])
    options = {"horizon": (24, "M"), "period_length": "M", "discount": (0.1, "Y"), "margin": 0.3}
    value = cl.targeting.expected_customer_value(purchases, gg, cdnow_calibration, **options)
    by_hand = _value_by_hand(purchases, gg, cdnow_calibration, 24, 0.1, 0.3)
    assert np.allclose(value, by_hand, rtol=1e-9, atol=1e-12)


def test_customer_value_interval_is_the_quantile_of_the_value_over_both_models_draws(
    cdnow_calibration,
):
    from crmlab.models._intervals import draw_models

    bg = BGNBD().fit(cdnow_calibration)
    gg = GammaGamma().fit(cdnow_calibration[cdnow_calibration["x"] > 0])
    head = cdnow_calibration.iloc[:300]
    options = {"horizon": (12, "M"), "period_length": "M", "discount": (0.1, "Y"), "margin": 0.3}
    table = cl.targeting.expected_customer_value(
        bg, gg, head, **options, interval=0.9, draws=60, seed=5
    )
    assert table.index.equals(head.index)
    assert np.allclose(
        table["estimate"], cl.targeting.expected_customer_value(bg, gg, head, **options)
    )
    bg_draws, gg_draws, _ = draw_models([bg, gg], 60, seed=5)
    by_hand = np.array(
        [_value_by_hand(b, g, head, 12, 0.1, 0.3) for b, g in zip(bg_draws, gg_draws, strict=True)]
    )
    lower, upper = np.quantile(by_hand, [0.05, 0.95], axis=0)
    assert np.allclose(table["lower"], lower, rtol=1e-9)
    assert np.allclose(table["upper"], upper, rtol=1e-9)
    assert (table["upper"] > table["lower"]).all()


def test_customer_value_takes_the_covariates_of_a_covariate_model_from_the_summary(
    cdnow_calibration,
):
    data = cdnow_calibration.assign(big=(cdnow_calibration["monetary"].fillna(0) > 30) * 1.0)
    bg = BGNBD(purchase_covariates=["big"], dropout_covariates=["big"]).fit(data)
    gg = GammaGamma().fit(data[data["x"] > 0])
    value = cl.targeting.expected_customer_value(
        bg, gg, data, horizon=(12, "M"), period_length="M", discount=(0.1, "Y"), margin=0.3
    )
    edges = np.arange(13) * (365.25 / 12 / 7)
    cumulative = bg.conditional_expected_purchases(
        edges[:, None], data["x"], data["t_x"], data["T"], covariates=data[["big"]]
    )
    weights = 1.1 ** -(np.arange(1, 13) / 12)
    by_hand = 0.3 * (weights @ np.diff(cumulative, axis=0))
    by_hand *= gg.conditional_expected_spend(data["x"], data["monetary"])
    assert np.allclose(value, by_hand, rtol=1e-9, atol=1e-12)
    table = cl.targeting.expected_customer_value(
        bg, gg, data.head(50), horizon=(12, "M"), period_length="M", interval=0.9, draws=30
    )
    assert (table["lower"] <= table["upper"]).all()
    with pytest.raises(ValueError, match="covariates \\['big'\\] that the summary lacks"):
        cl.targeting.expected_customer_value(bg, gg, cdnow_calibration, horizon=4)


@pytest.mark.parametrize(
    "method",
    [
        BGNBD.p_alive,
        BGNBD.conditional_expected_purchases,
        cl.models.MBGNBD.p_alive,
        cl.models.MBGNBD.conditional_expected_purchases,
        ParetoNBD.p_alive,
        ParetoNBD.conditional_expected_purchases,
        ParetoNBD.dert,
        cl.models.GGomNBD.dert,
        cl.models.GGomNBD.conditional_probability_of_purchases,
        GammaGamma.conditional_expected_spend,
        cl.targeting.expected_customer_value,
        cl.models.ParetoNBDTimeVarying.p_alive,
        cl.models.ParetoNBDTimeVarying.conditional_expected_purchases,
        cl.models.ParetoNBDTimeVarying.dert,
    ],
)
def test_every_prediction_with_an_interval_states_its_keywords_and_documents_them(method):
    import inspect

    parameters = inspect.signature(method).parameters
    for name in ("interval", "method", "draws", "seed"):
        assert parameters[name].kind is inspect.Parameter.KEYWORD_ONLY, name
    doc = inspect.getdoc(method)
    section = doc[doc.index("Parameters\n----------") :]
    for entry in ("interval : float", "method : {", "draws : int", "seed : int"):
        assert entry in section, entry
    # numpydoc reads a doctest as examples only under its own heading
    if ">>>" in doc:
        assert doc.index("Examples\n--------") < doc.index(">>>")
