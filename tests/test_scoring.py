"""Scoring a whole base: the same numbers as the models' own predictions, in any chunking."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import crmlab as cl
from crmlab.models import BGNBD, GammaGamma


@pytest.fixture(scope="module")
def fitted(cdnow_calibration):
    return BGNBD().fit(cdnow_calibration), GammaGamma().fit(cdnow_calibration)


def test_scores_are_the_models_predictions_whatever_the_chunk(fitted, cdnow_calibration):
    bg, gg = fitted
    scored = bg.score(cdnow_calibration, t=39, spend_model=gg, discount=0.01, chunk_size=500)
    s = cdnow_calibration
    x, t_x, T = s["x"].to_numpy(), s["t_x"].to_numpy(), s["T"].to_numpy()
    np.testing.assert_allclose(scored["p_alive"], bg.p_alive(x, t_x, T))
    np.testing.assert_allclose(
        scored["expected_purchases"], bg.conditional_expected_purchases(39, x, t_x, T)
    )
    np.testing.assert_allclose(
        scored["expected_spend"], gg.conditional_expected_spend(x, s["monetary"].to_numpy())
    )
    clv = cl.targeting.expected_customer_value(bg, gg, s, horizon=39, discount=0.01)
    np.testing.assert_allclose(scored["clv"], clv)
    whole = bg.score(s, t=39, spend_model=gg, discount=0.01)
    pd.testing.assert_frame_equal(scored, whole)
    assert scored.index.equals(s.index) and scored.attrs["unit"] == "W"


def test_scores_written_to_parquet_match_and_read_back(fitted, cdnow_calibration, tmp_path):
    bg, _ = fitted
    path = bg.score(cdnow_calibration, t=52, chunk_size=300, output=tmp_path / "scores.parquet")
    back = pd.read_parquet(path)
    expected = bg.score(cdnow_calibration, t=52)
    np.testing.assert_allclose(back["p_alive"], expected["p_alive"])
    assert back.index.tolist() == expected.index.tolist()


def test_scoring_refuses_what_it_cannot_do(fitted, cdnow_calibration):
    bg, _ = fitted
    with pytest.raises(ValueError, match="need a fitted spend model"):
        bg.score(cdnow_calibration, t=39, columns=["clv"])
    with pytest.raises(ValueError, match="cannot be scored"):
        bg.score(cdnow_calibration, t=39, columns=["churn"])
    monthly = cdnow_calibration.copy()
    monthly.attrs["unit"] = "M"
    with pytest.raises(ValueError, match="never rescales silently"):
        bg.score(monthly, t=39)
    with pytest.raises(ValueError, match="chunk_size"):
        bg.score(cdnow_calibration, t=39, chunk_size=0)


# ----- the grouped path: the same numbers as the models, customer by customer -------------


def _base_to_the_day(model, n=40_000, seed=3):
    """A base acquired over a year, times recorded to the day, so that (x, T) repeat."""
    rng = np.random.default_rng(seed)
    T = 52.0 - rng.integers(0, 364, n) / 7
    base = pd.DataFrame(model.simulate(n, T, seed=seed))
    base["t_x"] = np.where(base["x"] > 0, np.maximum(np.round(base["t_x"] * 7), 1) / 7, 0.0)
    base["t_x"] = np.minimum(base["t_x"], base["T"])
    base["monetary"] = np.where(base["x"] > 0, rng.gamma(6.0, 5.0, n), 0.0)
    base.attrs["unit"] = "W"
    return base


def _direct_clv(model, spend_model, base, edges, weights):
    """CLV as expected_customer_value computed it before grouping: every edge, every customer."""
    x, t_x, T = (base[c].to_numpy() for c in ("x", "t_x", "T"))
    cumulative = model.conditional_expected_purchases(edges[:, None], x, t_x, T)
    purchases = (np.diff(cumulative, axis=0) * weights[:, None]).sum(axis=0)
    return purchases * spend_model.conditional_expected_spend(x, base["monetary"].to_numpy())


@pytest.mark.parametrize(
    "model",
    [
        BGNBD().set_params(r=0.243, alpha=4.414, a=0.793, b=2.426, unit="W"),
        cl.models.MBGNBD().set_params(r=0.525, alpha=6.183, a=0.891, b=1.614, unit="W"),
        cl.models.ParetoNBD().set_params(r=0.55, alpha=10.58, s=0.61, beta=11.67, unit="W"),
    ],
    ids=["BGNBD", "MBGNBD", "ParetoNBD"],
)
def test_grouped_scores_equal_the_per_customer_predictions(model):
    from crmlab._horizons import group_histories
    from crmlab.targeting import _value_schedule

    base = _base_to_the_day(model)
    x, t_x, T = (base[c].to_numpy() for c in ("x", "t_x", "T"))
    groups = group_histories(x, T)
    assert groups is not None and len(groups.x) < len(base) / 10  # the grouped path is taken
    gg = GammaGamma().set_params(p=6.25, q=3.74, gamma=15.44)
    scored = model.score(base, t=26, spend_model=gg, discount=(0.1, "Y"), chunk_size=7_000)
    np.testing.assert_allclose(scored["p_alive"], model.p_alive(x, t_x, T), rtol=1e-12)
    np.testing.assert_allclose(
        scored["expected_purchases"],
        model.conditional_expected_purchases(26, x, t_x, T),
        rtol=1e-12,
        atol=1e-300,
    )
    edges, weights = _value_schedule("W", 26, (0.1, "Y"), 1.0, 1.0)
    direct = _direct_clv(model, gg, base, edges, weights)
    np.testing.assert_allclose(scored["clv"], direct, rtol=1e-12)
    clv = cl.targeting.expected_customer_value(model, gg, base, horizon=26, discount=(0.1, "Y"))
    np.testing.assert_allclose(clv, direct, rtol=1e-12)


def test_a_base_whose_T_hardly_repeats_is_scored_customer_by_customer():
    from crmlab._horizons import group_histories

    bg = BGNBD().set_params(r=0.243, alpha=4.414, a=0.793, b=2.426, unit="W")
    rng = np.random.default_rng(5)
    base = pd.DataFrame(bg.simulate(3_000, rng.uniform(1, 52, 3_000), seed=5))
    base.attrs["unit"] = "W"
    x, t_x, T = (base[c].to_numpy() for c in ("x", "t_x", "T"))
    assert group_histories(x, T) is None
    scored = bg.score(base, t=13)
    np.testing.assert_array_equal(
        scored["expected_purchases"], bg.conditional_expected_purchases(13, x, t_x, T)
    )


def test_only_the_exact_model_classes_take_the_grouped_path():
    from crmlab._horizons import factorises

    class Renewal(BGNBD):
        """A subclass may model purchase timing whose future depends on t_x."""

    params = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    assert factorises(BGNBD().set_params(**params))
    assert not factorises(Renewal().set_params(**params))
    assert not factorises(BGNBD(purchase_covariates=["g"]))


def test_groups_refuse_customers_from_another_base():
    from crmlab._horizons import group_histories

    x = np.array([0.0, 1.0, 1.0, 0.0])
    groups = group_histories(x, np.array([5.0, 5.0, 5.0, 5.0]), min_share=1.0)
    assert groups.codes(x, np.full(4, 5.0)).tolist() == [0, 1, 1, 0]
    with pytest.raises(ValueError, match="outside the base"):
        groups.codes(x, np.full(4, 6.0))


def test_value_levels_groups_counts_and_leaves_continuous_values_alone():
    from crmlab.models._base import by_level, value_levels

    counts = np.array([[3.0, 0.0], [3.0, 7.0]])
    unique, inverse = value_levels(counts)
    assert unique.tolist() == [0.0, 3.0, 7.0] and inverse.shape == counts.shape
    assert np.array_equal(unique[inverse], counts)
    times = np.random.default_rng(0).uniform(0, 50, 10_000)
    assert value_levels(times) is None
    days = np.round(times) / 7
    unique, inverse = value_levels(days)
    assert len(unique) <= 51 and np.array_equal(unique[inverse], days)
    from scipy import special

    for values in (counts, times, days):
        levels = value_levels(values)
        assert np.array_equal(
            by_level(lambda v: special.gammaln(0.3 + v), values, levels),
            special.gammaln(0.3 + values),
        )


def test_p_alive_is_the_same_with_or_without_grouping_x():
    from crmlab.models.bgnbd import _log_terms

    bg = BGNBD().set_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    base = _base_to_the_day(bg, n=5_000)
    x, t_x, T = (base[c].to_numpy() for c in ("x", "t_x", "T"))
    active, dropped = _log_terms(0.243, 4.414, 0.793, 2.426, x, t_x, T)  # no levels
    np.testing.assert_array_equal(
        bg.p_alive(x, t_x, T), np.exp(active - np.logaddexp(active, dropped))
    )


def test_parquet_output_holds_the_in_memory_scores_exactly(tmp_path):
    bg = BGNBD().set_params(r=0.243, alpha=4.414, a=0.793, b=2.426, unit="W")
    gg = GammaGamma().set_params(p=6.25, q=3.74, gamma=15.44)
    base = _base_to_the_day(bg, n=20_000)
    in_memory = bg.score(base, t=52, spend_model=gg, chunk_size=6_000)
    path = bg.score(base, t=52, spend_model=gg, chunk_size=6_000, output=tmp_path / "s.parquet")
    back = pd.read_parquet(path)
    assert list(back.columns) == list(in_memory.columns)
    for column in cl.scoring.COLUMNS:
        np.testing.assert_array_equal(back[column].to_numpy(), in_memory[column].to_numpy())
    assert base.columns.tolist() == ["x", "t_x", "T", "monetary"]  # the input is not modified


def test_scoring_an_empty_or_already_scored_summary(fitted, cdnow_calibration):
    bg, _ = fitted
    empty = bg.score(cdnow_calibration.iloc[:0], t=39)
    assert len(empty) == 0 and {"p_alive", "expected_purchases"} <= set(empty.columns)
    once = bg.score(cdnow_calibration, t=39)
    again = bg.score(once, t=39)  # the old scores are replaced, not duplicated
    pd.testing.assert_frame_equal(again, once)
