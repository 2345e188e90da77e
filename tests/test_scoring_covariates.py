"""Scoring models fitted with covariates: each customer at her own covariates.

The reference is the model itself, asked customer by customer with that customer's
covariates (a Python loop, as the scorer must never do), so that any covariate the
scorer forgot, mixed up between rows, or shared across customers with different
covariates shows up. The Spark path is checked in ``test_spark_engine.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlab.models import (
    BGCNBD,
    BGNBD,
    MBGCNBD,
    MBGNBD,
    GammaGamma,
    GGomNBD,
    MissingCovariateError,
    ParetoNBD,
)

BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
COEFFICIENTS = {"purchase.g": 0.6, "purchase.h": -0.3, "dropout.g": -0.8}
DISCOUNT, HORIZON = 0.01, 39


def _with_covariates(model_class, **options):
    return model_class(purchase_covariates=["g", "h"], dropout_covariates=["g"], **options)


MODELS = {
    "BGNBD": lambda: _with_covariates(BGNBD).set_params(**BG, **COEFFICIENTS),
    "MBGNBD": lambda: _with_covariates(MBGNBD).set_params(**BG, **COEFFICIENTS),
    "ParetoNBD": lambda: _with_covariates(ParetoNBD).set_params(
        r=0.55, alpha=10.58, s=0.61, beta=11.67, **COEFFICIENTS
    ),
    "GGomNBD": lambda: _with_covariates(GGomNBD).set_params(
        r=0.55, alpha=10.58, b=0.2, s=0.61, beta=11.67, **COEFFICIENTS
    ),
    "BGCNBD": lambda: _with_covariates(BGCNBD, k=2).set_params(
        r=0.8, alpha=3.0, a=0.7, b=2.4, **COEFFICIENTS
    ),
    "MBGCNBD": lambda: _with_covariates(MBGCNBD, k=2).set_params(
        r=0.8, alpha=3.0, a=0.7, b=2.4, **COEFFICIENTS
    ),
}


@pytest.fixture(scope="module")
def spend():
    return GammaGamma(spend_covariates=["h"]).set_params(
        p=6.25, q=3.74, gamma=15.44, **{"spend.h": 0.4}
    )


def covariate_base(n=120, seed=5, h_levels=None):
    """Histories to the day, few T: many customers share (x, T) but not their covariates.

    ``h_levels``: draw ``h`` from these values, so that (x, T, z) repeat as well.
    """
    rng = np.random.default_rng(seed)
    T = rng.choice([30.0, 39.0, 52.0], n)
    x = rng.integers(0, 6, n).astype(float)
    t_x = np.where(x > 0, np.round(rng.uniform(0.2, 1.0, n) * T * 7) / 7, 0.0)
    base = pd.DataFrame(
        {
            "x": x,
            "t_x": t_x,
            "T": T,
            "monetary": np.where(x > 0, rng.gamma(6.0, 5.0, n), 0.0),
            "g": rng.integers(0, 2, n),
            "h": np.round(rng.normal(0.0, 1.0, n), 1)
            if h_levels is None
            else rng.choice(h_levels, n),
        },
        index=pd.Index(rng.permutation(10 * n)[:n], name="customer_id"),
    )
    base.attrs["unit"] = "W"
    return base


def one_by_one(model, spend_model, base):
    """Every score, customer by customer, from the models' own predictions."""
    edges = np.arange(HORIZON + 1, dtype=float)
    weights = (1.0 + DISCOUNT) ** -edges[1:]
    rows = []
    for _, row in base.iterrows():
        history = (row["x"], row["t_x"], row["T"])
        z = {"covariates": {"g": [row["g"]], "h": [row["h"]]}} if model.covariates else {}
        cumulative = np.ravel(model.conditional_expected_purchases(edges, *history, **z))
        spend = spend_model.conditional_expected_spend(
            [row["x"]], [row["monetary"]], covariates={"h": [row["h"]]}
        )[0]
        rows.append(
            {
                "p_alive": np.ravel(model.p_alive(*history, **z))[0],
                "expected_purchases": cumulative[-1],
                "expected_spend": spend,
                "clv": weights @ np.diff(cumulative) * spend,
            }
        )
    return pd.DataFrame(rows, index=base.index)


@pytest.fixture(scope="module", params=sorted(MODELS))
def case(request, spend):
    model = MODELS[request.param]()
    base = covariate_base()
    return model, base, one_by_one(model, spend, base)


def _assert_scores(scored, expected):
    for name in expected.columns:
        np.testing.assert_allclose(scored[name], expected[name], rtol=1e-12, atol=1e-14)


def test_scores_of_a_covariate_model_are_its_predictions_customer_by_customer(case, spend):
    model, base, expected = case
    for chunk_size in (1_000_000, 7):
        scored = model.score(
            base, t=HORIZON, spend_model=spend, discount=DISCOUNT, chunk_size=chunk_size
        )
        _assert_scores(scored, expected)
        assert scored.index.equals(base.index)
        pd.testing.assert_frame_equal(scored[base.columns], base)


def test_covariate_scores_written_to_parquet_are_the_same(case, spend, tmp_path):
    model, base, expected = case
    path = model.score(
        base,
        t=HORIZON,
        spend_model=spend,
        discount=DISCOUNT,
        chunk_size=11,
        output=tmp_path / "scores.parquet",
    )
    back = pd.read_parquet(path)
    _assert_scores(back, expected)
    assert back.index.tolist() == base.index.tolist()
    assert back["g"].tolist() == base["g"].tolist()


@pytest.mark.parametrize("name", ["BGNBD", "MBGNBD", "ParetoNBD"])
def test_a_covariate_model_grouped_by_x_T_and_covariates_scores_as_one_by_one(
    name, spend, tmp_path
):
    """(x, T, z) repeat here: the horizon terms are computed once per group of the base."""
    from crmlab.scoring import _pair_tables
    from crmlab.targeting import _value_schedule

    model = MODELS[name]()
    base = covariate_base(n=800, seed=8, h_levels=[-0.5, 0.0, 0.5])
    edges, weights = _value_schedule("W", HORIZON, DISCOUNT, 1.0, 1.0)
    plan = {"edges": edges, "weights": weights, "margin": 1.0}
    tables = _pair_tables(base, model, HORIZON, ["expected_purchases", "clv"], plan)
    assert tables is not None and len(tables["clv"]) < len(base) / 4, "the grouped path"
    expected = one_by_one(model, spend, base)
    scored = model.score(base, t=HORIZON, spend_model=spend, discount=DISCOUNT, chunk_size=37)
    _assert_scores(scored, expected)
    path = model.score(
        base,
        t=HORIZON,
        spend_model=spend,
        discount=DISCOUNT,
        chunk_size=37,
        output=tmp_path / "grouped.parquet",
    )
    _assert_scores(pd.read_parquet(path), expected)
    # A missing value is reported at its own row, not at its group's first row.
    holed = base.copy()
    holed.loc[holed.index[250], "g"] = np.nan
    where = f"covariate 'g': 1 missing .*: row {holed.index[250]}: nan"
    with pytest.raises(MissingCovariateError, match=where):
        model.score(holed, t=HORIZON, chunk_size=37)


def test_a_plain_model_on_its_grouped_path_with_a_covariate_spend_model(spend):
    """(x, T) repeat here, so the BG/NBD's horizon terms are shared; the spend is not."""
    from crmlab._horizons import group_histories

    base = covariate_base()
    assert group_histories(base["x"].to_numpy(), base["T"].to_numpy()) is not None
    plain = BGNBD().set_params(**BG)
    scored = plain.score(base, t=HORIZON, spend_model=spend, discount=DISCOUNT, chunk_size=13)
    _assert_scores(scored, one_by_one(plain, spend, base))


def test_the_covariates_change_the_scores(spend):
    """Guards the reference itself: with g flipped, every model scores differently."""
    base = covariate_base(n=40)
    for make in MODELS.values():
        model = make()
        flipped = base.assign(g=1 - base["g"])
        a, b = model.score(base, t=HORIZON), model.score(flipped, t=HORIZON)
        assert not np.allclose(a["p_alive"], b["p_alive"]), type(model).__name__
        assert not np.allclose(a["expected_purchases"], b["expected_purchases"])


def test_a_missing_covariate_column_is_refused_naming_it_and_the_model(spend, tmp_path):
    base = covariate_base(n=30)
    model = MODELS["ParetoNBD"]()
    with pytest.raises(MissingCovariateError, match=r"ParetoNBD has covariates \['h'\]"):
        model.score(base.drop(columns="h"), t=HORIZON)
    with pytest.raises(MissingCovariateError, match=r"ParetoNBD has covariates \['g', 'h'\]"):
        model.score(base.drop(columns=["g", "h"]), t=HORIZON, output=tmp_path / "no.parquet")
    assert not (tmp_path / "no.parquet").exists(), "refused before anything is written"
    plain = BGNBD().set_params(**BG)
    with pytest.raises(MissingCovariateError, match=r"GammaGamma has covariates \['h'\]"):
        plain.score(base.drop(columns="h"), t=HORIZON, spend_model=spend)
    with pytest.raises(ValueError, match=r"summary lacks column\(s\) \['monetary'\]"):
        plain.score(base.drop(columns="monetary"), t=HORIZON, spend_model=spend)
    # A column the model does not take is carried along, never read.
    scored = plain.score(base.drop(columns="h"), t=HORIZON)
    np.testing.assert_allclose(
        scored["p_alive"], plain.p_alive(*(base[c].to_numpy() for c in ("x", "t_x", "T")))
    )


def test_missing_covariate_values_are_a_named_error():
    base = covariate_base(n=30)
    base.loc[base.index[3], "g"] = np.nan
    with pytest.raises(MissingCovariateError, match="covariate 'g'"):
        MODELS["BGNBD"]().score(base, t=HORIZON, chunk_size=10)


def test_spark_batches_are_joined_up_to_the_chunk_and_scored_as_in_memory(spend, monkeypatch):
    """The ``mapInPandas`` function, fed pandas batches as Spark would feed them.

    The horizon terms must be shared across Spark's small batches: the tables are
    built once per joined chunk, not once per batch, and the scores are those of
    the in-memory path, in the batches they came in.
    """
    from crmlab import scoring

    model = MODELS["ParetoNBD"]()
    base = covariate_base(n=800, seed=8, h_levels=[-0.5, 0.0, 0.5])
    expected = model.score(base, t=HORIZON, spend_model=spend, discount=DISCOUNT)
    from crmlab.targeting import _value_schedule

    edges, weights = _value_schedule("W", HORIZON, DISCOUNT, 1.0, 1.0)
    plan = {"edges": edges, "weights": weights, "margin": 1.0}
    sizes = []
    built = scoring._pair_tables

    def counting(frame, *args):
        sizes.append(len(frame))
        return built(frame, *args)

    monkeypatch.setattr(scoring, "_pair_tables", counting)
    flat = base.reset_index()
    frames = [flat.iloc[i : i + 10].reset_index(drop=True) for i in range(0, len(flat), 10)]
    frames.insert(3, flat.iloc[:0])  # an empty batch is passed over
    out = list(
        scoring._spark_batches(
            iter(frames),
            model=model,
            t=HORIZON,
            wanted=list(scoring.COLUMNS),
            spend_model=spend,
            plan=plan,
            chunk_size=300,
        )
    )
    assert sizes == [300, 300, 200], "one set of tables per joined chunk"
    assert [len(frame) for frame in out] == [10] * 80
    back = pd.concat(out).set_index("customer_id")
    pd.testing.assert_frame_equal(back[base.columns], base, check_names=False)
    _assert_scores(back, expected[list(scoring.COLUMNS)])


def test_missing_covariate_values_are_refused_before_a_parquet_file_is_written(spend, tmp_path):
    """Before, a missing value in a later chunk was found after the first were written."""
    base = covariate_base(n=60)
    base.loc[base.index[50], "h"] = np.nan
    path = tmp_path / "scores.parquet"
    for model, spend_model in ((MODELS["GGomNBD"](), None), (BGNBD().set_params(**BG), spend)):
        where = f"covariate 'h': 1 missing .*: row {base.index[50]}: nan"
        with pytest.raises(MissingCovariateError, match=where):
            model.score(base, t=HORIZON, spend_model=spend_model, chunk_size=10, output=path)
        assert not path.exists(), type(model).__name__
