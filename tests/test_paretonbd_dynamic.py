"""Pareto/NBD with time-varying covariates (Bachmann, Meierer & Näf 2021).

Checked against the time-invariant model (covariates that never change), against a
direct numerical integration of the likelihood, and by simulation (parameters come
back, P(alive) and the conditional expectation match what the simulation did).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, special

import crmlab as cl
from crmlab.models import MissingCovariateError, ParetoNBD, ParetoNBDTimeVarying
from crmlab.models._time_varying import pieces

TRUTH = {
    "r": 0.9,
    "alpha": 8.0,
    "s": 0.8,
    "beta": 15.0,
    "purchase.season": 0.8,
    "dropout.mailing": -0.9,
}
START = pd.Timestamp("2023-01-02")  # a Monday
END = "2024-03-31"
HORIZON_END = "2024-06-30"


def covariate_table(n: int, seed: int, weeks: int = 80) -> pd.DataFrame:
    """A season (November-December) on purchasing and a per-customer mailing on dropout."""
    rng = np.random.default_rng(seed)
    grid = pd.date_range(START, periods=weeks, freq="7D")
    season = (grid.month >= 11).astype(float)
    # A customer is mailed in stretches: a mailing status that flips with prob. 0.15 a week.
    flips = rng.uniform(size=(n, weeks)) < 0.15
    mailing = (np.cumsum(flips, axis=1) + rng.integers(0, 2, (n, 1))) % 2
    return pd.DataFrame(
        {
            "customer_id": np.repeat(np.arange(n), weeks),
            "period": np.tile(grid, n),
            "season": np.tile(season, n),
            "mailing": mailing.ravel().astype(float),
        }
    )


def first_purchases(n: int, seed: int) -> pd.Series:
    days = np.random.default_rng(seed).integers(0, 26 * 7, n)
    return pd.Series(START + pd.to_timedelta(days, "D"), index=np.arange(n))


def dynamic_model(**params: float) -> ParetoNBDTimeVarying:
    model = ParetoNBDTimeVarying(purchase_covariates=["season"], dropout_covariates=["mailing"])
    return model.set_params(**params) if params else model


@pytest.fixture(scope="module")
def simulated():
    n = 6000
    table = covariate_table(n, 1)
    # times of day kept (merge="none"): counting by day would merge a heavy buyer's
    # purchases and bias the estimates on a large base
    log = dynamic_model(**TRUTH).simulate(
        table, first_purchases(n, 2), HORIZON_END, merge="none", seed=3
    )
    return table, log


@pytest.fixture(scope="module")
def fitted(simulated):
    table, log = simulated
    data = cl.models.time_varying_data(log, table, observation_end=END, merge="none")
    return dynamic_model().fit(data), data


# ----- the time-invariant model is the special case ---------------------------------------
@pytest.fixture(scope="module")
def cdnow_static():
    """CDNOW with a per-customer 0/1 covariate repeated in every week (so it never varies)."""
    log = cl.datasets.load_cdnow("sample")
    ids = np.sort(log["customer_id"].unique())
    g = pd.Series(np.random.default_rng(0).integers(0, 2, len(ids)).astype(float), index=ids)
    weeks = pd.date_range("1996-12-30", "1997-09-29", freq="7D")
    table = pd.DataFrame(
        {"customer_id": ids.repeat(len(weeks)), "period": np.tile(weeks, len(ids))}
    )
    table["g"] = g.loc[table["customer_id"]].to_numpy()
    data = cl.models.time_varying_data(log, table, observation_end="1997-09-30")
    summary = cl.transactions.summarize(log, "1997-09-30", unit="W")[["x", "t_x", "T"]]
    return data, summary.join(g.rename("g")), table


def test_the_data_give_summarizes_x_t_x_and_T(cdnow_static):
    data, summary, _ = cdnow_static
    assert data.customers.equals(summary.index)
    for column in ("x", "t_x", "T"):
        np.testing.assert_allclose(data.summary()[column], summary[column], rtol=0, atol=1e-12)


# Without covariates it is CDNOW's Pareto/NBD: see test_models_published.py.


@pytest.mark.numeric
def test_covariates_that_do_not_vary_over_time_give_the_time_invariant_model(cdnow_static):
    data, summary, _ = cdnow_static
    names = {"purchase_covariates": ["g"], "dropout_covariates": ["g"]}
    params = {"r": 0.6, "alpha": 9.0, "s": 0.7, "beta": 12.0, "purchase.g": 0.3, "dropout.g": -0.4}
    dynamic = ParetoNBDTimeVarying(**names).set_params(**params)
    static = ParetoNBD(**names).set_params(**params)
    assert dynamic.log_likelihood(data) == pytest.approx(static.log_likelihood(summary), rel=1e-11)
    # the covariate never changes, so every customer is one piece
    cut = pieces(data, None, data.covariates(["g"], fitting=False))
    assert len(cut.customer) == len(data)
    # and the fits agree
    dynamic.fit(data)
    static.fit(summary)
    assert dynamic.loglik == pytest.approx(static.loglik, abs=1e-6)
    for name, value in static.params.items():
        assert dynamic.params[name] == pytest.approx(value, rel=1e-6, abs=1e-7), name
    # so do the predictions, at the same parameters
    dynamic.set_params(**static.params)
    covariates = summary[["g"]]
    np.testing.assert_allclose(
        dynamic.p_alive(data),
        static.p_alive(summary["x"], summary["t_x"], summary["T"], covariates=covariates),
        rtol=1e-9,
    )


def test_conditional_expectation_reduces_to_the_time_invariant_one(cdnow_static):
    data, summary, table = cdnow_static
    # extend every customer's constant covariate 40 weeks past the end of observation
    later = pd.date_range("1997-10-06", periods=40, freq="7D")
    last = table.groupby("customer_id", sort=False).tail(1)
    extra = pd.DataFrame(
        {
            "customer_id": np.repeat(last["customer_id"].to_numpy(), len(later)),
            "period": np.tile(later, len(last)),
            "g": np.repeat(last["g"].to_numpy(), len(later)),
        }
    )
    longer = pd.concat([table, extra], ignore_index=True)
    data = cl.models.time_varying_data(
        cl.datasets.load_cdnow("sample"), longer, observation_end="1997-09-30"
    )
    names = {"purchase_covariates": ["g"], "dropout_covariates": ["g"]}
    params = {"r": 0.6, "alpha": 9.0, "s": 0.7, "beta": 12.0, "purchase.g": 0.3, "dropout.g": -0.4}
    dynamic = ParetoNBDTimeVarying(**names).set_params(**params)
    static = ParetoNBD(**names).set_params(**params)
    expected = static.conditional_expected_purchases(
        39, summary["x"], summary["t_x"], summary["T"], covariates=summary[["g"]]
    )
    np.testing.assert_allclose(
        dynamic.conditional_expected_purchases(39, data), expected, rtol=1e-9
    )
    # beyond the table's last period, a named error
    with pytest.raises(MissingCovariateError, match="have no row"):
        dynamic.conditional_expected_purchases(60, data)


# ----- the likelihood, written out ---------------------------------------------------------
def _direct_loglik(params, purchase_times, T, edges, zp, zd):
    """One customer's log-likelihood by numerical integration over the dropout moment.

    ``edges``: period boundaries in the customer's time (from her first purchase);
    ``zp``, ``zd``: the covariate in each period.
    """
    r, alpha, s, beta, gp, gd = params
    a, c = np.exp(gp * zp), np.exp(gd * zd)

    def cumulative(rate, t):
        # time runs from the first purchase, inside the first period
        lengths = np.clip(np.minimum(edges[1:], t) - np.maximum(edges[:-1], 0), 0, None)
        return float(np.dot(rate, lengths))

    def period(t):
        return min(np.searchsorted(edges, t, side="right") - 1, len(zp) - 1)

    x = len(purchase_times)
    t_x = max(purchase_times, default=0.0)
    log_c = (
        special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    ) + sum(gp * zp[period(t)] for t in purchase_times)
    alive = (alpha + cumulative(a, T)) ** -(r + x) * (beta + cumulative(c, T)) ** -s

    def died(tau):
        return (
            s
            * c[period(tau)]
            * (alpha + cumulative(a, tau)) ** -(r + x)
            * (beta + cumulative(c, tau)) ** -(s + 1)
        )

    inside = [e for e in edges if t_x < e < T]
    dead, _ = integrate.quad(died, t_x, T, points=inside or None, limit=200, epsabs=0, epsrel=1e-12)
    return log_c + np.log(alive + dead)


@pytest.mark.numeric
def test_the_likelihood_is_the_integral_over_the_dropout_moment(simulated):
    table, log = simulated
    some = np.arange(25)
    log = log[log["customer_id"].isin(some)]
    table = table[table["customer_id"].isin(some)]
    data = cl.models.time_varying_data(log, table, observation_end=END)
    params = np.array(list(TRUTH.values()))
    model = dynamic_model(**TRUTH)
    columns, _ = model._read_all(data, None, fitting=False)
    ours = model._rows(params, columns)
    end_day = pd.Timestamp(END)
    checked = 0
    for position, customer in enumerate(data.customers):
        days = log.loc[log["customer_id"] == customer, "date"].dt.normalize()
        first = days.min()
        repeat = np.unique(days[(days > first) & (days <= end_day)])
        times = [(pd.Timestamp(d) - first).days / 7 for d in repeat]
        rows = table[table["customer_id"] == customer].sort_values("period")
        edges = np.append(((rows["period"] - first).dt.days / 7).to_numpy(), np.inf)
        T = (end_day - first).days / 7
        direct = _direct_loglik(
            params, times, T, edges, rows["season"].to_numpy(), rows["mailing"].to_numpy()
        )
        assert ours[position] == pytest.approx(direct, rel=1e-9, abs=1e-9), customer
        checked += len(times) > 0
    assert checked >= 5  # customers with repeat purchases among them


# ----- simulation --------------------------------------------------------------------------
@pytest.mark.numeric
def test_simulated_parameters_come_back_within_two_standard_errors(fitted):
    model, _ = fitted
    assert model.converged
    se = model.standard_errors
    for name, value in TRUTH.items():
        assert abs(model.params[name] - value) < 2 * se[name], (name, model.params[name], se[name])
    # the season is the covariate the data pin down best
    assert se["purchase.season"] < 0.1


@pytest.mark.numeric
def test_the_time_invariant_model_misses_the_season(fitted):
    model, data = fitted
    plain = ParetoNBD().fit(data.summary())
    # a likelihood-ratio test: two coefficients, chi2(2) 99.9 % point is 13.8
    assert 2 * (model.loglik - plain.loglik) > 13.8


@pytest.mark.numeric
def test_p_alive_matches_who_the_simulation_kept_alive():
    # a simulation that stops at END, so that "alive at the end" is alive at T
    table = covariate_table(6000, 1)
    short, truth = dynamic_model(**TRUTH).simulate(
        table, first_purchases(6000, 2), END, seed=3, return_truth=True
    )
    alive = truth["alive_at_end"]
    p = dynamic_model(**TRUTH).p_alive(cl.models.time_varying_data(short, table, END))
    assert p.index.equals(alive.index)
    # in total and within deciles of P(alive)
    n = len(p)
    assert abs(p.sum() - alive.sum()) < 3 * np.sqrt((p * (1 - p)).sum())
    deciles = pd.qcut(p.rank(method="first"), 10, labels=False)
    for _, group in p.groupby(deciles):
        truth = alive.loc[group.index]
        spread = np.sqrt((group * (1 - group)).sum()) + 1
        assert abs(group.sum() - truth.sum()) < 4 * spread
    assert n == 6000


@pytest.mark.numeric
def test_conditional_expectation_matches_the_simulated_holdout(simulated):
    table, log = simulated
    model = dynamic_model(**TRUTH)
    data = cl.models.time_varying_data(log, table, observation_end=END, merge="none")
    horizon_weeks = (pd.Timestamp(HORIZON_END) - pd.Timestamp(END)).days / 7
    expected = model.conditional_expected_purchases(horizon_weeks, data)
    days = log.assign(day=log["date"].dt.normalize())
    later = days[(days["day"] > pd.Timestamp(END)) & (days["day"] <= pd.Timestamp(HORIZON_END))]
    actual = later.groupby("customer_id").size().reindex(expected.index, fill_value=0)
    # in total (Poisson-like spread) and by number of calibration purchases
    assert abs(expected.sum() - actual.sum()) < 4 * np.sqrt(actual.sum())
    bins = pd.cut(data.x, [-1, 0, 1, 3, 6, np.inf], labels=False)
    for level in range(5):
        rows = bins == level
        assert abs(expected[rows].sum() - actual[rows].sum()) < 4 * np.sqrt(actual[rows].sum()) + 5
    # the future covariates are used: a season switched on in the periods after END
    # (April-June has none) scales each expectation by exp(0.8)
    future = table["period"] > pd.Timestamp(END)
    in_season = table.assign(season=np.where(future, 1.0, table["season"]))
    boosted = model.conditional_expected_purchases(
        horizon_weeks,
        cl.models.time_varying_data(log, in_season, observation_end=END, merge="none"),
    )
    # with merge="none" the horizon starts at midnight after END, on a period start
    np.testing.assert_allclose(boosted, expected * np.exp(0.8), rtol=1e-10)


# ----- refusals ----------------------------------------------------------------------------
def small_inputs():
    log = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "date": pd.to_datetime(["2024-01-02", "2024-01-10", "2024-01-09"]),
        }
    )
    weeks = pd.to_datetime(["2024-01-01", "2024-01-08", "2024-01-15"])
    table = pd.DataFrame(
        {
            "customer_id": ["a"] * 3 + ["b"] * 3,
            "period": list(weeks) * 2,
            "promo": [0.0, 1.0, 0.0, 1.0, 1.0, 0.0],
            "flat": 1.0,
        }
    )
    return log, table


def test_a_missing_period_names_the_customer_and_the_period():
    log, table = small_inputs()
    gap = table.drop(index=[3, 4])  # b's rows start after the week of her first purchase
    with pytest.raises(MissingCovariateError, match=r"'b' in the period starting 2024-01-08"):
        cl.models.time_varying_data(log, gap, observation_end="2024-01-16")
    hole = table.drop(index=[1])  # a's middle week
    with pytest.raises(
        ValueError, match=r"1 gap\(s\) in a customer's periods.*row 2: \('a', '2024-01-15'\)"
    ):
        cl.models.time_varying_data(log, hole, observation_end="2024-01-16")
    # a period after the table ends is missing too
    with pytest.raises(MissingCovariateError, match=r"2024-01-22"):
        cl.models.time_varying_data(log, table, observation_end="2024-01-23")


def test_irregular_and_repeated_periods_are_refused():
    log, table = small_inputs()
    odd = table.copy()
    odd.loc[4, "period"] = pd.Timestamp("2024-01-10")
    with pytest.raises(ValueError, match=r"1 period start\(s\) off the grid.*irregular"):
        cl.models.time_varying_data(log, odd, observation_end="2024-01-16")
    twice = pd.concat([table, table.iloc[[0]]])
    with pytest.raises(
        ValueError,
        match=r"1 \(customer, period\) pair\(s\) given more than once: row 0: \('a'",
    ):
        cl.models.time_varying_data(log, twice, observation_end="2024-01-16")
    with pytest.raises(ValueError, match="period must be"):
        cl.models.time_varying_data(log, table, observation_end="2024-01-16", period="fortnight")


def test_a_constant_covariate_and_missing_values_are_named():
    log, table = small_inputs()
    data = cl.models.time_varying_data(log, table, observation_end="2024-01-16")
    with pytest.raises(ValueError, match=r"covariate 'flat'.*same value 1.*not identified"):
        ParetoNBDTimeVarying(purchase_covariates=["flat"]).fit(data)
    holes = table.copy()
    holes.loc[1, "promo"] = np.nan
    data = cl.models.time_varying_data(log, holes, observation_end="2024-01-16")
    with pytest.raises(
        MissingCovariateError, match=r"covariate 'promo': 1 missing.*a / 2024-01-08"
    ):
        ParetoNBDTimeVarying(dropout_covariates=["promo"]).fit(data)
    with pytest.raises(MissingCovariateError, match=r"\['price'\] are not in the covariate table"):
        ParetoNBDTimeVarying(dropout_covariates=["price"]).fit(data)


def test_a_summary_is_refused_with_the_reason():
    summary = pd.DataFrame({"x": [1.0], "t_x": [2.0], "T": [3.0]})
    with pytest.raises(TypeError, match="needs the covariates at each purchase"):
        ParetoNBDTimeVarying().fit(summary)


def test_inputs_are_not_modified():
    log, table = small_inputs()
    before = (log.copy(), table.copy())
    cl.models.time_varying_data(log, table, observation_end="2024-01-16")
    pd.testing.assert_frame_equal(log, before[0])
    pd.testing.assert_frame_equal(table, before[1])


def test_monthly_periods():
    log = pd.DataFrame(
        {"customer_id": [1, 1], "date": pd.to_datetime(["2024-01-15", "2024-03-03"])}
    )
    table = pd.DataFrame(
        {
            "customer_id": 1,
            "period": pd.date_range("2024-01-01", periods=4, freq="MS"),
            "promo": [0.0, 1.0, 0.0, 1.0],
        }
    )
    data = cl.models.time_varying_data(log, table, "2024-04-10", period="M")
    cut = pieces(data, None, data.covariates(["promo"], fitting=False))
    # pieces: Jan 15-31, February, March, April 1-10; in weeks from Jan 15
    np.testing.assert_allclose(cut.length * 7, [17, 29, 31, 9])
    off = table.assign(
        period=pd.to_datetime(["2024-01-01", "2024-02-02", "2024-03-01", "2024-04-01"])
    )
    with pytest.raises(ValueError, match="first days of calendar months"):
        cl.models.time_varying_data(log, off, "2024-04-10", period="M")


# ----- gradient and standard errors ----------------------------------------------------------
@pytest.fixture(scope="module")
def small_base():
    n = 800
    table = covariate_table(n, 4)
    log = dynamic_model(**TRUTH).simulate(table, first_purchases(n, 5), END, seed=6)
    return cl.models.time_varying_data(log, table, END)


@pytest.mark.numeric
def test_the_gradient_is_the_likelihoods_slope(small_base):
    from crmlab.models.paretonbd_dynamic import _gradient

    model = dynamic_model(**TRUTH)
    columns, weights = model._read_all(small_base, None, fitting=True)
    point = np.array(list(TRUTH.values())) * np.array([1.2, 0.8, 1.1, 1.3, 0.7, 1.2])
    ours = _gradient(model, point, columns, weights)
    for j in range(len(point)):
        step = 1e-5 * max(abs(point[j]), 1.0)
        up, down = point.copy(), point.copy()
        up[j] += step
        down[j] -= step
        numeric = (model._rows(up, columns).sum() - model._rows(down, columns).sum()) / (2 * step)
        assert ours[j] == pytest.approx(numeric, rel=1e-5, abs=1e-5), model.names[j]


@pytest.mark.numeric
def test_standard_errors_equal_those_of_the_likelihoods_hessian(small_base):
    from crmlab.models._base import numerical_hessian

    model = dynamic_model().fit(small_base)
    columns, weights = model.result.data
    hessian = numerical_hessian(
        lambda p: model._negloglik(p, columns, weights), model.result.estimate
    )
    np.testing.assert_allclose(
        list(model.standard_errors.values()), np.sqrt(np.diag(np.linalg.inv(hessian))), rtol=1e-3
    )


def test_customers_alike_under_calendar_covariates_are_merged(simulated):
    from crmlab.models.paretonbd_dynamic import _layout

    table, log = simulated
    data = cl.models.time_varying_data(log, table, observation_end=END)
    # the season depends on the calendar alone: customers alike in first purchase day,
    # x, t_x (and the season at their purchases) share one likelihood
    model = ParetoNBDTimeVarying(purchase_covariates=["season"]).set_params(
        r=0.9, alpha=8.0, s=0.8, beta=15.0, **{"purchase.season": 0.8}
    )
    values = data.covariates(["season"], fitting=False)
    merged, weights = _layout(model, data, values, compress=True)
    single, ones = _layout(model, data, values, compress=False)
    assert len(weights) < len(data) and weights.sum() == len(data) and len(ones) == len(data)
    params = model.result.estimate
    assert weights @ model._rows(params, merged) == pytest.approx(
        model._rows(params, single).sum(), rel=1e-12
    )
    # the mailing differs between customers: nothing is merged
    both = dynamic_model(**TRUTH)
    _, weights = _layout(both, data, data.covariates(["season", "mailing"], fitting=False), True)
    assert len(weights) == len(data)


def test_a_table_without_customers_holds_for_everyone(simulated):
    table, log = simulated
    per_customer = table[["customer_id", "period", "season"]]
    calendar = per_customer.drop_duplicates("period")[["period", "season"]]
    model = ParetoNBDTimeVarying(purchase_covariates=["season"]).set_params(
        r=0.9, alpha=8.0, s=0.8, beta=15.0, **{"purchase.season": 0.8}
    )
    long = cl.models.time_varying_data(log, per_customer, observation_end=END)
    shared = cl.models.time_varying_data(log, calendar, observation_end=END)
    assert len(shared.table) == len(calendar)
    assert model.log_likelihood(shared) == pytest.approx(model.log_likelihood(long), rel=1e-12)
    pd.testing.assert_series_equal(model.p_alive(shared), model.p_alive(long))
    # a period given twice: the message says how the table was read
    twice = pd.concat([calendar, calendar.iloc[[3]]])
    with pytest.raises(ValueError, match="no column 'customer_id', so it is read as one row"):
        cl.models.time_varying_data(log, twice, observation_end=END)
    # and a calendar that starts after some first purchase is a named gap
    late = calendar[calendar["period"] >= pd.Timestamp("2023-03-06")]
    with pytest.raises(MissingCovariateError, match="in the period starting 2023-0"):
        cl.models.time_varying_data(log, late, observation_end=END)


def test_merge_none_keeps_every_row_at_its_time_as_summarize_does(simulated):
    table, log = simulated
    data = cl.models.time_varying_data(log, table, observation_end=END, merge="none")
    summary = cl.transactions.summarize(log, END, unit="W", amount_col=None, merge="none")
    for column in ("x", "t_x", "T"):
        np.testing.assert_allclose(data.summary()[column], summary[column], rtol=1e-12)
    by_day = cl.models.time_varying_data(log, table, observation_end=END)
    assert by_day.x.sum() < data.x.sum()  # same-day purchases merge by default
    twin = pd.concat([log, log.groupby("customer_id").head(1).iloc[:2]])
    with pytest.raises(ValueError, match=r"2 customer\(s\) with several rows at the moment"):
        cl.models.time_varying_data(twin, table, observation_end=END, merge="none")


# ----- calendar covariates: the per-run path against the per-piece one ----------------------
def _calendar(weeks: int = 80) -> pd.DataFrame:
    """A season on purchasing and a competitor's campaign (two weeks in five) on dropout."""
    grid = pd.date_range(START, periods=weeks, freq="7D")
    week = np.arange(weeks)
    return pd.DataFrame(
        {
            "period": grid,
            "season": (grid.month >= 11).astype(float),
            "competitor": (week % 5 < 2).astype(float),
        }
    )


CALENDAR_TRUTH = {
    "r": 0.9,
    "alpha": 8.0,
    "s": 0.8,
    "beta": 15.0,
    "purchase.season": 0.8,
    "dropout.competitor": 0.7,
}


@pytest.fixture(scope="module")
def calendar_base():
    n = 300
    calendar = _calendar()
    model = ParetoNBDTimeVarying(
        purchase_covariates=["season"], dropout_covariates=["competitor"]
    ).set_params(**CALENDAR_TRUTH)
    log = model.simulate(calendar, first_purchases(n, 8), END, seed=9)
    long = calendar.merge(pd.DataFrame({"customer_id": np.arange(n)}), how="cross")
    return model, calendar, long, log


@pytest.mark.numeric
def test_calendar_covariates_give_the_integral_over_the_dropout_moment(calendar_base):
    model, calendar, _, log = calendar_base
    data = cl.models.time_varying_data(log, calendar, observation_end=END)
    columns, _ = model._read_all(data, None, fitting=False)
    assert "piece_run" in columns  # the per-run path is the one under test
    params = np.array(list(CALENDAR_TRUTH.values()))
    # uncompressed: one row per customer, in the order of data.customers
    from crmlab.models.paretonbd_dynamic import _layout

    single, _ = _layout(model, data, data.covariates(["season", "competitor"], fitting=False))
    ours = model._rows(params, single)
    end_day = pd.Timestamp(END)
    checked = 0
    for position, customer in enumerate(data.customers[:40]):
        days = log.loc[log["customer_id"] == customer, "date"].dt.normalize()
        first = days.min()
        repeat = np.unique(days[(days > first) & (days <= end_day)])
        times = [(pd.Timestamp(d) - first).days / 7 for d in repeat]
        edges = np.append(((calendar["period"] - first).dt.days / 7).to_numpy(), np.inf)
        T = (end_day - first).days / 7
        direct = _direct_loglik(
            params,
            times,
            T,
            edges,
            calendar["season"].to_numpy(),
            calendar["competitor"].to_numpy(),
        )
        assert ours[position] == pytest.approx(direct, rel=1e-9, abs=1e-9), customer
        checked += len(times) > 0
    assert checked >= 5


def test_calendar_covariates_per_run_agree_with_the_same_table_per_customer(calendar_base):
    from crmlab.models.paretonbd_dynamic import _gradient, _layout, _subset_layout

    model, calendar, long, log = calendar_base
    shared = cl.models.time_varying_data(log, calendar, observation_end=END)
    per_customer = cl.models.time_varying_data(log, long, observation_end=END)
    names = ["season", "competitor"]
    fast, ones = _layout(model, shared, shared.covariates(names, fitting=False))
    scan, _ = _layout(model, per_customer, per_customer.covariates(names, fitting=False))
    assert "piece_run" in fast and "piece_run" not in scan
    point = np.array(list(CALENDAR_TRUTH.values())) * np.array([1.2, 0.8, 1.1, 1.3, 0.7, 1.2])
    np.testing.assert_allclose(model._rows(point, fast), model._rows(point, scan), rtol=1e-12)
    np.testing.assert_allclose(
        _gradient(model, point, fast, ones), _gradient(model, point, scan, ones), rtol=1e-10
    )
    # a subsample of customers keeps each one's runs
    chosen = np.arange(0, len(ones), 3)
    np.testing.assert_allclose(
        model._rows(point, _subset_layout(fast, chosen)),
        model._rows(point, scan)[chosen],
        rtol=1e-12,
    )


def test_segment_sums_carry_no_rounding_from_other_segments():
    from crmlab.models._time_varying_loglik import segment_exclusive_cumsum

    rng = np.random.default_rng(0)
    sizes = rng.integers(1, 30, 500)
    starts = np.cumsum(sizes) - sizes
    values = rng.uniform(size=(sizes.sum(), 3))
    values[: sizes[0]] *= 1e12  # a huge first segment
    ours = segment_exclusive_cumsum(values, starts)
    for begin, size in zip(starts[1:], sizes[1:], strict=True):
        block = values[begin : begin + size]
        expected = np.cumsum(block, axis=0) - block
        np.testing.assert_allclose(ours[begin : begin + size], expected, rtol=1e-13, atol=1e-13)


# ----- DERT ----------------------------------------------------------------------------------
def _extended(table: pd.DataFrame, weeks: int) -> pd.DataFrame:
    """Every customer's last row repeated ``weeks`` more weeks (covariates held)."""
    last = table.sort_values("period").groupby("customer_id", sort=False).tail(1)
    later = pd.date_range(last["period"].max() + pd.Timedelta(days=7), periods=weeks, freq="7D")
    extra = last.loc[last.index.repeat(weeks)].copy()
    extra["period"] = np.tile(later, len(last))
    return pd.concat([table, extra], ignore_index=True)


def test_dert_with_covariates_that_never_change_is_the_time_invariant_dert(cdnow_static):
    data, summary, table = cdnow_static
    names = {"purchase_covariates": ["g"], "dropout_covariates": ["g"]}
    params = {"r": 0.6, "alpha": 9.0, "s": 0.7, "beta": 12.0, "purchase.g": 0.3, "dropout.g": -0.4}
    static = ParetoNBD(**names).set_params(**params)
    delta = np.log(1.15) / 52
    expected = static.dert(delta, summary["x"], summary["t_x"], summary["T"], covariates=summary)
    # the table ends a week after observation: the rest is the closed-form tail, and
    # it does not matter how far the table reaches (pieces + tail = the whole integral)
    for reach in (
        data,
        cl.models.time_varying_data(
            cl.datasets.load_cdnow("sample"), _extended(table, 30), observation_end="1997-09-30"
        ),
    ):
        dynamic = ParetoNBDTimeVarying(**names).set_params(**params).dert(delta, reach)
        np.testing.assert_allclose(dynamic, expected, rtol=1e-9)
        assert dynamic.index.equals(summary.index)


def test_dert_to_a_horizon_sums_the_discounted_conditional_expectation(simulated):
    table, log = simulated
    some = np.arange(300)
    log, table = log[log["customer_id"].isin(some)], table[table["customer_id"].isin(some)]
    data = cl.models.time_varying_data(log, table, observation_end=END, merge="none")
    model = dynamic_model(**TRUTH)
    delta, horizon = 0.02, 12.0
    ours = model.dert(delta, data, horizon=horizon)
    # the other way round: discount the increments of E[X(T, T + t)] on a fine grid
    grid = np.linspace(0, horizon, 481)
    path = np.array([model.conditional_expected_purchases(t, data).to_numpy() for t in grid])
    middle = (grid[1:] + grid[:-1]) / 2
    summed = (np.exp(-delta * middle)[:, None] * np.diff(path, axis=0)).sum(axis=0)
    np.testing.assert_allclose(ours, summed, rtol=1e-6)
    # with a very small discount it is the conditional expectation itself
    np.testing.assert_allclose(model.dert(1e-9, data, horizon=horizon), path[-1], rtol=1e-7)
    # to infinity (the table, then its last covariates held) adds the later purchases
    infinite = model.dert(delta, data)
    assert (infinite > ours).all()
    with pytest.raises(MissingCovariateError, match="have no row"):
        model.dert(delta, data, horizon=200.0)
    with pytest.raises(ValueError, match="discount must be a positive rate"):
        model.dert(0.0, data)


# ----- intervals -------------------------------------------------------------------------------
def test_intervals_are_labelled_by_customer_and_bracket_the_estimate(fitted):
    model, data = fitted
    point = model.p_alive(data)
    table = model.p_alive(data, interval=0.9, draws=40)
    assert table.index.equals(point.index)
    np.testing.assert_allclose(table["estimate"], point, rtol=0, atol=0)
    assert (table["lower"] <= table["estimate"] + 1e-12).all()
    assert (table["estimate"] <= table["upper"] + 1e-12).all()
    assert (table["upper"] - table["lower"]).max() > 0
    again = model.p_alive(data, interval=0.9, draws=40)
    pd.testing.assert_frame_equal(table, again)
    horizon = model.conditional_expected_purchases(8, data, interval=0.8, draws=20, seed=3)
    assert horizon.columns.tolist() == ["estimate", "lower", "upper"]
    assert horizon.attrs["level"] == 0.8
    value = model.dert(0.002, data, interval=0.9, draws=20)
    assert (value["lower"] < value["upper"]).all()


@pytest.mark.numeric
def test_nominal_90_percent_intervals_cover_85_to_95_percent_of_simulated_truths():
    truth = dynamic_model(**TRUTH)
    # three customers to predict for, with their own histories and covariate paths
    probe_table = covariate_table(3, 50)
    probe_log = pd.DataFrame(
        {
            "customer_id": [0, 0, 0, 1, 2, 2],
            "date": pd.to_datetime(
                ["2023-02-01", "2023-06-01", "2024-02-20", "2023-05-03", "2023-04-01", "2023-07-01"]
            ),
        }
    )
    probe = cl.models.time_varying_data(probe_log, probe_table, observation_end=END)
    true_alive = truth.p_alive(probe)
    true_expected = truth.conditional_expected_purchases(12, probe)
    hits = []
    for rep in range(100):
        n = 2000
        table = covariate_table(n, 100 + rep)
        log = truth.simulate(table, first_purchases(n, 200 + rep), END, merge="none", seed=rep)
        model = dynamic_model().fit(
            cl.models.time_varying_data(log, table, observation_end=END, merge="none")
        )
        alive = model.p_alive(probe, interval=0.9, draws=200, seed=rep)
        expected = model.conditional_expected_purchases(12, probe, interval=0.9, draws=200)
        hits.append(
            np.r_[
                (alive["lower"] <= true_alive) & (true_alive <= alive["upper"]),
                (expected["lower"] <= true_expected) & (true_expected <= expected["upper"]),
            ]
        )
    coverage = np.mean(hits)
    assert 0.85 <= coverage <= 0.95, np.mean(hits, axis=0)


# ----- compare -----------------------------------------------------------------------------------
def test_compare_tests_the_time_varying_model_against_the_static_one(cdnow_static):
    _, summary, table = cdnow_static
    holdout = cl.transactions.calibration_holdout(
        cl.datasets.load_cdnow("sample"),
        calibration_end="1997-09-30",
        observation_end="1998-06-30",
        unit="W",
    )
    # the covariate table reaches the end of the holdout
    longer = cl.models.time_varying_data(
        cl.datasets.load_cdnow("sample"), _extended(table, 40), observation_end="1997-09-30"
    )
    plain = ParetoNBD().fit(summary[["x", "t_x", "T"]])
    static_g = ParetoNBD(purchase_covariates=["g"]).fit(summary)
    dynamic = ParetoNBDTimeVarying(purchase_covariates=["g"]).fit(longer)
    table_ = cl.models.compare([plain, dynamic], holdout)
    row = table_.loc["ParetoNBDTimeVarying"]
    assert row["lr_against"] == "ParetoNBD" and row["lr_df"] == 1
    # a covariate constant over time: the same test as the time-invariant model's
    assert row["lr_statistic"] == pytest.approx(2 * (static_g.loglik - plain.loglik), abs=1e-5)
    assert row["lr_reference"] == "chi2(1)"
    # the holdout forecast runs along the fitted data's covariate path
    forecast = dynamic.conditional_expected_purchases(holdout["duration_holdout"].iloc[0], longer)
    static_forecast = static_g.conditional_expected_purchases(
        holdout["duration_holdout"],
        holdout["x"],
        holdout["t_x"],
        holdout["T"],
        covariates=summary.reindex(holdout.index),
    )
    np.testing.assert_allclose(forecast.reindex(holdout.index), static_forecast, rtol=1e-5)
    assert row["holdout_forecast"] == pytest.approx(forecast.sum(), rel=1e-12)
    residual = forecast.reindex(holdout.index) - holdout["x_holdout"]
    assert row["mae"] == pytest.approx(np.abs(residual).mean(), rel=1e-12)
    # within the time-varying class, fewer covariates nest more
    none = ParetoNBDTimeVarying().fit(longer)
    nested = cl.models.compare([none, dynamic], names=["tv0", "tv1"])
    assert nested.loc["tv1", "lr_against"] == "tv0"
    assert nested.loc["tv1", "lr_statistic"] == pytest.approx(row["lr_statistic"], abs=1e-5)
