"""BG/CNBD-k and MBG/CNBD-k (Platzer & Reutterer 2016) and the litt summary they need.

Checked four ways: at k = 1 against crmlab's BG/NBD and MBG/NBD on CDNOW (1e-9);
on CDNOW against what BTYDplus's CDNOW demo reports (k = 1 is chosen; in
test_models_published.py); the likelihood of one customer against a direct
numerical integration over her purchase rate; and by simulation (k and the
parameters recovered, P(alive) and the conditional expectation against simulated
truths).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, special, stats

import crmlab as cl
from crmlab.models import BGCNBD, BGNBD, MBGCNBD, MBGNBD
from crmlab.regularity import regularity_summary

TRUTH = {"r": 0.85, "alpha": 1.45, "a": 0.79, "b": 2.42}  # BTYDplus's test parameters
PAIRS = [(BGCNBD, BGNBD), (MBGCNBD, MBGNBD)]


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    return regularity_summary(cl.datasets.load_cdnow("sample"), "1997-09-30")


# ----- litt from a log ---------------------------------------------------------------
def test_regularity_summary_matches_a_hand_computed_log():
    log = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "a", "b", "c", "c", "c"],
            "date": pd.to_datetime(
                [
                    "2024-01-01",
                    "2024-01-03",  # gap 2 days
                    "2024-01-03",  # same day: merged
                    "2024-01-10",  # gap 7 days
                    "2024-03-01",  # after the end: ignored
                    "2024-01-05",
                    "2024-01-02",
                    "2024-01-16",  # gap 14 days
                    "2024-01-30",  # gap 14 days
                ]
            ),
            "amount": [1.0] * 9,
        }
    )
    before = log.copy()
    s = regularity_summary(log, "2024-01-31", unit="D")
    pd.testing.assert_frame_equal(log, before)  # the input is not modified
    assert s["x"].tolist() == [2.0, 0.0, 2.0]
    assert s["litt"].tolist() == pytest.approx([math.log(2) + math.log(7), 0.0, 2 * math.log(14)])
    weeks = regularity_summary(log, "2024-01-31", unit="W")
    assert weeks["litt"].tolist() == pytest.approx(
        [math.log(2 / 7) + math.log(1.0), 0.0, 2 * math.log(2.0)]
    )
    # x, t_x, T and monetary are summarize's own
    plain = cl.transactions.summarize(log, "2024-01-31", unit="W")
    pd.testing.assert_frame_equal(weeks.drop(columns="litt"), plain)


def test_regularity_summary_on_cdnow_respects_the_arithmetic_geometric_mean_bound(cdnow):
    calibration = cl.cdnow.calibration()
    pd.testing.assert_frame_equal(cdnow[["x", "t_x", "T"]], calibration[["x", "t_x", "T"]])
    x, t_x, litt = cdnow["x"], cdnow["t_x"], cdnow["litt"]
    bound = x * np.log(np.where(x > 0, t_x, 1.0) / x.clip(lower=1))
    assert (litt <= bound + 1e-9).all()
    assert (litt[x == 0] == 0).all()
    assert np.allclose(litt[x == 1], np.log(t_x[x == 1]))  # one gap: its log
    several = x >= 2
    assert (litt[several] < bound[several] - 1e-6).mean() > 0.95  # their gaps differ


def test_regularity_summary_refuses_what_has_no_logarithm():
    log = pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "date": pd.to_datetime(["2024-01-01 10:00", "2024-01-01 10:00", "2024-01-02 09:00"]),
            "amount": [1.0, 2.0, 3.0],
        }
    )
    with pytest.raises(ValueError, match="same moment"):
        regularity_summary(log, "2024-01-31", merge="none")
    with pytest.raises(ValueError, match="merge='day' or merge='none'"):
        regularity_summary(log, "2024-01-31", merge="W")
    # by day, the two rows are one transaction
    assert regularity_summary(log, "2024-01-31")["x"].tolist() == [0.0, 0.0]


def test_regularity_summary_cleans_a_dirty_log_once_and_reports_as_summarize(monkeypatch):
    from engine_checks import odd_log, returns_log

    import crmlab.transactions

    log = odd_log(seed=4, customers=120)
    options = {"duplicates": "drop", "returns": "net", "on_invalid": "drop"}
    plain = cl.transactions.summarize(log, "2024-10-15", **options)
    calls = []
    original = crmlab.transactions.clean_log

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(crmlab.transactions, "clean_log", counted)
    ours = regularity_summary(log, "2024-10-15", **options)
    assert len(calls) == 1, "the log is cleaned once"
    pd.testing.assert_frame_equal(ours.drop(columns="litt"), plain, check_exact=True)
    assert ours.attrs == plain.attrs and ours.attrs["cleaning"] is not None
    returns = returns_log(seed=4, customers=60)
    with pytest.raises(ValueError) as ours_error:
        regularity_summary(returns, "2024-10-15")
    with pytest.raises(ValueError) as theirs:
        cl.transactions.summarize(returns, "2024-10-15")
    assert str(ours_error.value) == str(theirs.value)


def test_regularity_summary_of_a_clean_log_checks_its_options_and_an_empty_window():
    log = pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "date": pd.to_datetime(["2024-01-01", "2024-01-09", "2024-01-02"]),
        }
    )
    with pytest.raises(ValueError, match="currency must be one of"):
        regularity_summary(log, "2024-01-31", amount_col=None, currency="$")
    with pytest.raises(TypeError, match="did you mean 'returns'"):
        regularity_summary(log, "2024-01-31", amount_col=None, retuns="net")
    empty = regularity_summary(log, "2023-12-31", amount_col=None)
    assert empty.empty and empty.columns.tolist() == ["x", "t_x", "T", "litt"]
    assert empty.attrs["rows_after_observation_end"] == 3


def test_from_a_simulated_log_to_the_regularity_of_its_customers():
    # A log drawn independently of the models' simulator: Erlang-3 gaps, BG dropout.
    rng = np.random.default_rng(21)
    start, weeks = pd.Timestamp("2020-01-06"), pd.Timedelta(weeks=1)
    end = start + 60 * weeks
    ids, dates, truth = [], [], {}
    for customer in range(3000):
        first = rng.uniform(0, 20)
        rate, p = rng.gamma(TRUTH["r"], 1 / TRUTH["alpha"]), rng.beta(TRUTH["a"], TRUTH["b"])
        moments, now = [first], first
        while True:
            now += rng.gamma(3, 1 / rate)
            if now > 60:
                break
            moments.append(now)
            if rng.random() < p:
                break
        ids += [customer] * len(moments)
        dates += [start + m * weeks for m in moments]
        truth[customer] = np.log(np.diff(moments)).sum()
    log = pd.DataFrame({"customer_id": ids, "date": dates})
    s = regularity_summary(log, end - pd.Timedelta(days=1), merge="none", amount_col=None)
    np.testing.assert_allclose(s["litt"], pd.Series(truth), rtol=1e-9, atol=1e-9)
    assert BGCNBD().fit(s).k == 3


# ----- k = 1 is the BG/NBD, resp. the MBG/NBD -------------------------------------
@pytest.mark.parametrize(("ours", "theirs"), PAIRS)
def test_k_one_reproduces_the_bgnbd_and_mbgnbd_on_cdnow(cdnow, ours, theirs):
    reference = theirs().fit(cdnow[["x", "t_x", "T"]])
    fitted = ours(k=1).fit(cdnow)
    assert fitted.loglik == pytest.approx(reference.loglik, rel=1e-12)
    for name, value in reference.params.items():
        assert fitted.params[name] == pytest.approx(value, rel=1e-6)
    same = ours(k=1).set_params(**reference.params)
    x, t_x, T = (cdnow[c].to_numpy() for c in ("x", "t_x", "T"))
    assert same.log_likelihood(cdnow) == pytest.approx(reference.loglik, rel=1e-12)
    np.testing.assert_allclose(same.p_alive(x, t_x, T), reference.p_alive(x, t_x, T), rtol=1e-9)
    for t in (1.0, 39.0, 78.0):
        np.testing.assert_allclose(
            same.conditional_expected_purchases(t, x, t_x, T),
            reference.conditional_expected_purchases(t, x, t_x, T),
            rtol=1e-9,
        )
    times = np.array([0.0, 1.0, 10.0, 39.0, 78.0, 200.0])
    np.testing.assert_allclose(
        same.expected_purchases(times), reference.expected_purchases(times), rtol=1e-9, atol=1e-12
    )
    n = np.arange(40)
    np.testing.assert_allclose(
        same.probability_of_purchases(n, 39.0),
        reference.probability_of_purchases(n, 39.0),
        rtol=1e-9,
        atol=1e-15,
    )


@pytest.mark.parametrize(("ours", "theirs"), PAIRS)
def test_k_one_reproduces_the_future_predictions_of_bgnbd_and_mbgnbd(cdnow, ours, theirs):
    reference = theirs().fit(cdnow[["x", "t_x", "T"]])
    same = ours(k=1).set_params(**reference.params)
    head = cdnow.iloc[::7]
    x, t_x, T = (head[c].to_numpy() for c in ("x", "t_x", "T"))
    for n in (0, 1, 3):
        np.testing.assert_allclose(
            same.conditional_probability_of_purchases(n, 39.0, x, t_x, T),
            reference.conditional_probability_of_purchases(n, 39.0, x, t_x, T),
            rtol=1e-9,
            atol=1e-14,
        )
    # theirs integrates numerically (about 1e-6 relative); ours sums an exact series
    np.testing.assert_allclose(
        same.p_alive_at(52.0, x, t_x, T), reference.p_alive_at(52.0, x, t_x, T), rtol=1e-5
    )


@pytest.mark.parametrize("model_class", [BGCNBD, MBGCNBD])
def test_conditional_pmf_sums_to_one_with_the_conditional_mean(model_class):
    model = model_class(k=3).set_params(**TRUTH)
    n = np.arange(400)[:, None]
    x, t_x, T = np.array([0, 1, 4, 12]), np.array([0, 5.0, 30.0, 38.0]), np.array([40.0] * 4)
    p = model.conditional_probability_of_purchases(n, 39.0, x, t_x, T)
    np.testing.assert_allclose(p.sum(axis=0), 1.0, atol=1e-9)
    np.testing.assert_allclose(
        (n * p).sum(axis=0), model.conditional_expected_purchases(39.0, x, t_x, T), rtol=1e-8
    )
    np.testing.assert_allclose(model.p_alive_at(0.0, x, t_x, T), model.p_alive(x, t_x, T))


# ----- the likelihood against a direct integration ----------------------------------
def _direct_loglik(k, delta, r, alpha, a, b, gaps, T):
    """log of ∫ L(λ, p) dG(λ) dB(p) for one customer, by quadrature over λ."""
    gaps = np.asarray(gaps, dtype=float)
    x, t_x = len(gaps), gaps.sum()

    def timing(lam):
        return np.prod(stats.gamma.pdf(gaps, k, scale=1 / lam)) if x else 1.0

    def density(lam):
        return stats.gamma.pdf(lam, r, scale=1 / alpha)

    def survive(lam):
        return stats.gamma.sf(T - t_x, k, scale=1 / lam)

    opts = {"limit": 400, "epsabs": 0, "epsrel": 1e-11}
    with_survival = integrate.quad(lambda v: timing(v) * survive(v) * density(v), 0, np.inf, **opts)
    without = integrate.quad(lambda v: timing(v) * density(v), 0, np.inf, **opts)
    chances = x + delta
    stays = math.exp(special.betaln(a, b + chances) - special.betaln(a, b))
    leaves = (
        math.exp(special.betaln(a + 1, b + chances - 1) - special.betaln(a, b)) if chances else 0.0
    )
    return math.log(stays * with_survival[0] + leaves * without[0])


@pytest.mark.numeric
@pytest.mark.parametrize("model_class", [BGCNBD, MBGCNBD])
@pytest.mark.parametrize("k", [1, 2, 4])
@pytest.mark.parametrize(("gaps", "T"), [((), 30.0), ((3.0,), 20.0), ((2.0, 5.0, 1.5), 12.0)])
def test_likelihood_of_one_customer_matches_direct_integration(model_class, k, gaps, T):
    params = {"r": 1.3, "alpha": 2.0, "a": 0.8, "b": 2.5}
    model = model_class(k=k).set_params(**params)
    row = {
        "x": [len(gaps)],
        "t_x": [sum(gaps)],
        "T": [T],
        "litt": [sum(math.log(g) for g in gaps)],
    }
    expected = _direct_loglik(k, model.dropout_at_zero, *params.values(), gaps, T)
    assert model.log_likelihood(row) == pytest.approx(expected, rel=1e-8)


def _btydplus_terms(k, delta, r, alpha, a, b, x, t_x, T, litt):
    """BTYDplus's xbgcnbd.LL and xbgcnbd.PAlive, term by term as that package writes them."""
    head = (
        (k - 1) * litt
        - x * math.log(math.factorial(k - 1))
        + special.betaln(a, b + x + delta)
        - special.betaln(a, b)
        + special.gammaln(r + k * x)
        - special.gammaln(r)
        + r * math.log(alpha)
        - (r + k * x) * np.log(alpha + T)
    )
    dropped = (
        ((x > 0) | (delta == 1))
        * a
        / (b + x - 1 + delta)
        * ((alpha + T) / (alpha + t_x)) ** (r + k * x)
    )
    active = np.ones_like(x)
    for j in range(1, k):
        rising = np.prod([r + k * x + i for i in range(j)], axis=0)
        active = active + rising * (T - t_x) ** j / (math.factorial(j) * (alpha + T) ** j)
    alive = 1 / (1 + dropped / active)
    if not delta:
        alive = np.where(x == 0, 1.0, alive)
    return head + np.log(dropped + active), alive


@pytest.mark.parametrize("model_class", [BGCNBD, MBGCNBD])
@pytest.mark.parametrize("k", [1, 2, 5])
def test_likelihood_and_p_alive_equal_btydplus_expressions(model_class, k):
    params = {"r": 0.9, "alpha": 1.7, "a": 0.75, "b": 2.2}
    base = model_class(k=k).set_params(**params).simulate(2000, 30.0 + np.arange(2000) % 20, seed=4)
    x, t_x, T, litt = (base[c] for c in ("x", "t_x", "T", "litt"))
    model = model_class(k=k).set_params(**params)
    rows, alive = _btydplus_terms(k, model.dropout_at_zero, *params.values(), x, t_x, T, litt)
    assert model.log_likelihood(base) == pytest.approx(rows.sum(), rel=1e-11)
    np.testing.assert_allclose(model.p_alive(x, t_x, T), alive, rtol=1e-10)


@pytest.mark.parametrize("model_class", [BGCNBD, MBGCNBD])
@pytest.mark.parametrize("k", [1, 3])
def test_gradient_matches_finite_differences(model_class, k):
    base = model_class(k=k).set_params(**TRUTH).simulate(300, 40.0, seed=2)
    model = model_class(k=k)
    columns = {name: base[name] for name in ("x", "t_x", "T")}
    params = np.array([0.7, 1.9, 0.6, 3.1])
    exact = model._gradient_rows(list(params), **columns)
    for j in range(4):
        step = np.zeros(4)
        step[j] = 1e-6 * params[j]
        up = model._loglik_rows(list(params + step), **columns)
        down = model._loglik_rows(list(params - step), **columns)
        numeric = (up - down) / (2 * step[j])
        np.testing.assert_allclose(exact[j], numeric, rtol=1e-5, atol=1e-7)


# ----- simulation -----------------------------------------------------------------------
@pytest.fixture(scope="module", params=[BGCNBD, MBGCNBD], ids=["BG", "MBG"])
def simulated(request):
    model_class = request.param
    n = 20_000
    T = np.random.default_rng(5).uniform(30, 60, n)
    truth = model_class(k=3).set_params(**TRUTH)
    base = truth.simulate(n, T, seed=11, holdout=39.0, state=True)
    frame = pd.DataFrame({name: base[name] for name in ("x", "t_x", "T", "litt")})
    return model_class, truth, frame, base


@pytest.mark.numeric
def test_simulated_k_and_parameters_come_back_within_two_standard_errors(simulated):
    model_class, _, frame, _ = simulated
    frame = frame.iloc[:10_000]  # enough to tell k apart by thousands of log-likelihood units
    model = model_class().fit(frame)
    assert model.k == 3
    assert model.k_profile.loc[3, "loglik"] == model.loglik
    assert model.k_profile["loglik"].idxmax() == 3
    se = model.standard_errors
    for name, value in TRUTH.items():
        assert abs(model.params[name] - value) < 2 * se[name], (name, model.params, se)
    # the fixed-k fit is the profile's k = 3 fit
    fixed = model_class(k=3).fit(frame)
    assert fixed.loglik == pytest.approx(model.loglik, rel=1e-12)


def test_p_alive_matches_the_simulated_share_still_active(simulated):
    _, truth, frame, base = simulated
    alive = truth.p_alive(frame["x"], frame["t_x"], frame["T"])
    groups = pd.cut(frame["x"], [-1, 0, 1, 3, 7, np.inf])
    table = pd.DataFrame({"p": alive, "truth": base["alive"], "g": groups})
    for _, group in table.groupby("g", observed=True):
        # sampling error of the share of alive customers given the probabilities
        se = np.sqrt((group["p"] * (1 - group["p"])).sum()) / len(group)
        assert abs(group["p"].mean() - group["truth"].mean()) < 4 * se + 1e-3, group.name


@pytest.mark.numeric
def test_conditional_expectation_matches_simulated_holdout_purchases(simulated):
    _, truth, frame, base = simulated
    predicted = truth.conditional_expected_purchases(39.0, frame["x"], frame["t_x"], frame["T"])
    actual = base["x_holdout"]
    residual = actual - predicted
    se = residual.std() / np.sqrt(len(residual))
    assert abs(residual.mean()) < 3 * se
    groups = pd.cut(frame["x"], [-1, 0, 1, 3, 7, np.inf])
    for _, part in pd.Series(residual).groupby(groups.to_numpy(), observed=True):
        assert abs(part.mean()) < 4 * part.std() / np.sqrt(len(part)) + 1e-3


@pytest.mark.numeric
def test_future_activity_and_no_purchase_match_the_simulation(simulated):
    _, truth, frame, base = simulated
    x, t_x, T = frame["x"], frame["t_x"], frame["T"]
    later = truth.p_alive_at(39.0, x, t_x, T)
    none = truth.conditional_probability_of_purchases(0, 39.0, x, t_x, T)
    groups = pd.cut(x, [-1, 0, 1, 3, 7, np.inf]).to_numpy()
    table = pd.DataFrame(
        {
            "later": later,
            "alive_after": base["alive_after"],
            "none": none,
            "no_purchase": base["x_holdout"] == 0,
        }
    )
    for _, group in table.groupby(groups, observed=True):
        for model_column, truth_column in (("later", "alive_after"), ("none", "no_purchase")):
            p = group[model_column]
            se = np.sqrt((p * (1 - p)).sum()) / len(group)
            assert abs(p.mean() - group[truth_column].mean()) < 4 * se + 1e-3


@pytest.mark.parametrize("model_class", [BGCNBD, MBGCNBD])
def test_unconditional_expectation_and_pmf_match_simulation(model_class):
    truth = model_class(k=3).set_params(**TRUTH)
    x = truth.simulate(200_000, 26.0, seed=3)["x"]
    assert truth.expected_purchases(26.0) == pytest.approx(x.mean(), abs=3 * x.std() / 450)
    n = np.arange(400)
    pmf = truth.probability_of_purchases(n, 26.0)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-9)
    assert (n * pmf).sum() == pytest.approx(truth.expected_purchases(26.0), rel=1e-8)
    observed = np.bincount(x.astype(int), minlength=400)[:5] / len(x)
    np.testing.assert_allclose(pmf[:5], observed, atol=0.004)


def test_regularity_lowers_p_alive_after_a_long_silence():
    # With clock-like gaps, 30 silent weeks after buying every ~2 weeks say more.
    irregular = BGCNBD(k=1).set_params(**TRUTH)
    regular = BGCNBD(k=4).set_params(**{**TRUTH, "alpha": TRUTH["alpha"] / 4})
    assert regular.p_alive(5, 10.0, 40.0) < irregular.p_alive(5, 10.0, 40.0) / 2


# ----- intervals and the API ------------------------------------------------------
def test_interval_path_gives_bounds_around_the_estimate(cdnow):
    model = MBGCNBD(k=2).fit(cdnow)
    head = cdnow.head(20)
    table = model.p_alive(head["x"], head["t_x"], head["T"], interval=0.9, draws=200)
    assert list(table.columns) == ["estimate", "lower", "upper"]
    assert table.index.equals(head.index)
    assert ((table["lower"] <= table["estimate"]) & (table["estimate"] <= table["upper"])).all()
    assert (table["upper"] - table["lower"]).max() > 0
    point = model.conditional_expected_purchases(39, head["x"], head["t_x"], head["T"])
    boot = model.conditional_expected_purchases(
        39, head["x"], head["t_x"], head["T"], interval=0.9, method="bootstrap", draws=5
    )
    np.testing.assert_allclose(boot["estimate"], point)
    assert model.k == 2  # the interval kept the regularity


def test_bad_inputs_are_refused_with_named_columns(cdnow):
    with pytest.raises(ValueError, match="whole number >= 1"):
        BGCNBD(k=0)
    with pytest.raises(ValueError, match="whole number >= 1"):
        BGCNBD(k=2.5)
    with pytest.raises(ValueError, match=r"litt.*regularity_summary"):
        BGCNBD().fit(cdnow[["x", "t_x", "T"]])
    BGCNBD(k=1).fit(cdnow[["x", "t_x", "T"]])  # k = 1 needs no litt
    wrong = cdnow.assign(litt=cdnow["litt"] + np.log(7.0) * cdnow["x"])  # in days, not weeks
    with pytest.raises(ValueError, match="litt > x log"):
        BGCNBD().fit(wrong)
    with pytest.raises(ValueError, match="needs k="):
        BGCNBD().set_params(**TRUTH)
    with pytest.raises(RuntimeError, match="not fitted"):
        BGCNBD(k=2).p_alive(1, 1.0, 2.0)
    model = BGCNBD(k=2).set_params(**TRUTH)
    with pytest.raises(ValueError, match="t_x"):
        model.p_alive(1, 5.0, 4.0)
    with np.errstate(all="raise"):
        assert model.p_alive(1000, 10.0, 100.0) == pytest.approx(0.0, abs=1e-12)
        assert model.conditional_expected_purchases(39, 1000, 10.0, 100.0) >= 0


def test_the_whole_profile_when_asked_and_the_same_choice(cdnow):
    early = BGCNBD().fit(cdnow)
    whole = BGCNBD(k_max=6, stop_early=False).fit(cdnow)
    assert whole.k_profile.index.tolist() == [1, 2, 3, 4, 5, 6]
    assert len(early.k_profile) == 3
    assert whole.k == early.k == 1
    pd.testing.assert_frame_equal(whole.k_profile.iloc[:3], early.k_profile, rtol=1e-6)


def test_set_params_after_fit_replaces_the_fit_and_the_profile(cdnow):
    model = MBGCNBD().fit(cdnow)
    assert model.k_profile is not None
    model.set_params(k=3, **TRUTH)
    assert model.k == 3 and model.k_profile is None
    assert np.isnan(model.loglik) and model.converged is None
