"""The P(alive) path along a customer's history (crmlab.models.p_alive_path)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmlab.models import BGBB, BGNBD, MBGNBD, ParetoNBD, p_alive_path

BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
MODELS = {
    "BG/NBD": BGNBD().set_params(**BG),
    "MBG/NBD": MBGNBD().set_params(r=0.525, alpha=6.183, a=0.891, b=1.614),
    "Pareto/NBD": ParetoNBD().set_params(r=0.55, alpha=10.58, s=0.61, beta=11.67),
}
PURCHASES = [3.0, 4.5, 10.0, 11.0, 20.0]  # first purchase at 3: ages 0, 1.5, 7, 8, 17


def test_bgnbd_path_by_hand():
    # the BG/NBD's P(alive), written out independently of crmlab's code:
    # 1 / (1 + [x > 0] a / (b + x - 1) ((alpha + T) / (alpha + t_x))^(r + x))
    r, alpha, a, b = BG.values()

    def by_hand(x, t_x, T):
        if x == 0:
            return 1.0
        return 1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x))

    grid = [0.0, 1.0, 1.5, 3.0, 7.0, 7.5, 8.0, 12.0, 17.0, 25.0]
    path = p_alive_path(MODELS["BG/NBD"], PURCHASES, T=20.0, grid=grid)
    histories = [
        (0, 0),
        (0, 0),
        (1, 1.5),
        (1, 1.5),
        (2, 7),
        (2, 7),
        (3, 8),
        (3, 8),
        (4, 17),
        (4, 17),
    ]
    expected = [by_hand(x, t_x, T) for (x, t_x), T in zip(histories, grid, strict=True)]
    np.testing.assert_allclose(path["p_alive"], expected, rtol=1e-12)
    assert path["x"].tolist() == [h[0] for h in histories]
    assert path["observed"].tolist() == [True] * 9 + [False]
    # just after a purchase the BG/NBD is below 1: she may drop out right after it
    assert path.loc[1.5, "p_alive"] == pytest.approx(1 / (1 + a / b))


@pytest.mark.parametrize("name", list(MODELS))
def test_end_point_is_the_models_p_alive_and_the_path_falls_between_purchases(name):
    model = MODELS[name]
    path = p_alive_path(model, PURCHASES, T=20.0, horizon=10.0)
    assert path.index[0] == 0 and path.index[-1] == 30.0
    assert path.loc[17.0, "p_alive"] == pytest.approx(model.p_alive(4, 17.0, 17.0))
    assert path.loc[30.0, "p_alive"] == pytest.approx(model.p_alive(4, 17.0, 30.0))
    # end of observation: the summary's (x, t_x, T) row
    assert path.loc[20.0, "p_alive"] == pytest.approx(model.p_alive(4, 17.0, 20.0))
    ages = path.index.to_numpy()
    for start, stop in zip([0.0, 1.5, 7.0, 8.0, 17.0], [1.5, 7.0, 8.0, 17.0, 30.1], strict=True):
        inside = path["p_alive"].to_numpy()[(ages >= start) & (ages < stop)]
        assert np.all(np.diff(inside) <= 1e-12), (name, start)
    # at each repeat purchase it jumps up; but in the BG/NBD the first repeat purchase
    # brings the first chance to drop out, so P(alive) falls from 1 there
    for age in (1.5, 7.0, 8.0, 17.0):
        before = path["p_alive"][ages < age].iloc[-1]
        if name == "BG/NBD" and age == 1.5:
            assert before == 1.0 and path.loc[age, "p_alive"] < 1.0
        else:
            assert path.loc[age, "p_alive"] > before, (name, age)


def test_how_far_each_model_jumps_at_a_purchase():
    pareto = p_alive_path(MODELS["Pareto/NBD"], PURCHASES, T=20.0)
    # Pareto/NBD: a customer who has just bought is alive
    np.testing.assert_allclose(pareto.loc[[0.0, 1.5, 7.0, 8.0, 17.0], "p_alive"], 1.0)
    mbg = MODELS["MBG/NBD"]
    path = p_alive_path(mbg, PURCHASES, T=20.0)
    a, b = mbg.params["a"], mbg.params["b"]
    # MBG/NBD: she may drop out at the first purchase already
    assert path.loc[0.0, "p_alive"] == pytest.approx(1 / (1 + a / b))
    assert path.loc[7.0, "p_alive"] == pytest.approx(1 / (1 + a / (b + 2)))


def test_bgbb_path_on_opportunities():
    model = BGBB().set_params(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
    path = p_alive_path(model, [0, 1, 2, 5], T=6, horizon=3)
    assert path.index.tolist() == list(range(10))
    assert path.loc[6, "p_alive"] == pytest.approx(model.p_alive(3, 5, 6))
    assert path.loc[9, "p_alive"] == pytest.approx(model.p_alive(3, 5, 9))
    assert not path.loc[7, "observed"]


def test_dates_and_a_log_give_the_same_path_as_numbers():
    model = BGNBD().set_params(**BG, unit="W")
    dates = pd.to_datetime(["2024-01-01", "2024-01-15", "2024-01-15", "2024-03-11"])
    log = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "b"],
            "date": [*dates, pd.Timestamp("2024-02-01")],
        }
    )
    from_log = p_alive_path(model, log, customer="a", T="2024-04-01")
    from_dates = p_alive_path(model, pd.Series(dates), T=pd.Timestamp("2024-04-01"))
    # same-day purchases count once: ages 0, 2 and 10 weeks; T = 13 weeks
    from_numbers = p_alive_path(model, [0.0, 2.0, 10.0], T=13.0)
    pd.testing.assert_frame_equal(from_log, from_numbers)
    pd.testing.assert_frame_equal(from_dates, from_numbers)
    assert from_log.attrs["purchases"] == [0.0, 2.0, 10.0]
    # horizon with a unit
    longer = p_alive_path(model, [0.0, 2.0, 10.0], T=13.0, horizon="1Y")
    assert longer.index[-1] == pytest.approx(13 + 365.25 / 7)


def test_covariates_reach_the_model():
    model = BGNBD(purchase_covariates=["vip"]).set_params(**BG, **{"purchase.vip": 0.5})
    scaled = BGNBD().set_params(**{**BG, "alpha": BG["alpha"] * np.exp(-0.5)})
    with_z = p_alive_path(model, PURCHASES, T=20.0, covariates={"vip": [1.0]})
    plain = p_alive_path(scaled, PURCHASES, T=20.0)
    np.testing.assert_allclose(with_z["p_alive"], plain["p_alive"], rtol=1e-12)
    with pytest.raises(ValueError, match="covariates="):
        p_alive_path(model, PURCHASES)


def test_bad_input_is_named():
    model = MODELS["BG/NBD"]
    with pytest.raises(ValueError, match=r"1 purchase\(s\) come after T = 10"):
        p_alive_path(model, PURCHASES, T=10.0)
    with pytest.raises(ValueError, match="does not know its time unit"):
        p_alive_path(model, pd.to_datetime(["2024-01-01", "2024-02-01"]))
    log = pd.DataFrame({"customer_id": [1, 2], "date": pd.to_datetime(["2024-01-01"] * 2)})
    with pytest.raises(ValueError, match="holds 2 customers"):
        p_alive_path(model, log, unit="W")
    with pytest.raises(ValueError, match="customer 3 is not in the log"):
        p_alive_path(model, log, customer=3, unit="W")
    with pytest.raises(ValueError, match="grid must be"):
        p_alive_path(model, PURCHASES, grid=[-1.0, 2.0])
    with pytest.raises(ValueError, match="empty"):
        p_alive_path(model, [])
    with pytest.raises(ValueError, match="purchases must be finite"):
        p_alive_path(model, [0.0, np.nan])


def test_plot_of_the_path(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import crmlab as cl

    model = BGNBD().set_params(**BG, unit="W")
    path = p_alive_path(model, PURCHASES, T=20.0, horizon=10.0)
    ax = cl.plots.plot_p_alive_path(path, label="customer 7")
    assert ax.get_xlabel() == "time since first purchase (weeks)"
    solid, dashed, ticks = ax.get_lines()[:3]
    assert max(solid.get_xdata()) == 20.0 and min(dashed.get_xdata()) == 20.0
    assert max(dashed.get_xdata()) == 30.0
    assert list(ticks.get_xdata()) == [0.0, 1.5, 7.0, 8.0, 17.0]
    ax.figure.savefig(tmp_path / "path.png")
    assert (tmp_path / "path.png").stat().st_size > 10_000
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="p_alive_path"):
        cl.plots.plot_p_alive_path(pd.DataFrame({"x": [1]}))
