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
