"""Every model against the figures its paper prints (the papers' own tables).

This is the one place for "reproduces the paper": each test names its source. Where the
paper itself could not be read, the test says whose reproduction of it it checks.
The other test files check the same models against simulation, quadrature and bad input.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

import crmlab as cl
from crmlab.models import (
    BGBB,
    BGCNBD,
    BGNBD,
    MBGCNBD,
    MBGNBD,
    BetaDiscreteWeibull,
    ConvergenceWarning,
    GammaGamma,
    GGomNBD,
    ParetoNBD,
    ParetoNBDTimeVarying,
    ShiftedBetaGeometric,
)
from crmlab.models._base import compress_rows
from crmlab.models.sbg import survivors_to_durations
from crmlab.regularity import regularity_summary


@pytest.fixture(scope="module")
def bgnbd(cdnow_calibration):
    return BGNBD().fit(cdnow_calibration)


def _rounded(params, digits):
    return {name: round(value, digits) for name, value in params.items()}


# ----- BG/NBD: Fader, Hardie & Lee (2005) ----------------------------------------------
def test_bgnbd_parameters_and_loglik(bgnbd):
    assert _rounded(bgnbd.params, 3) == {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    assert round(bgnbd.loglik, 2) == -9582.43
    assert bgnbd.n_obs == 2357 and bgnbd.converged


def test_bgnbd_fits_the_published_summary_identically(bgnbd):
    published = BGNBD().fit(cl.datasets.load_cdnow_published_summary())
    assert _rounded(published.params, 3) == _rounded(bgnbd.params, 3)
    assert published.loglik == pytest.approx(bgnbd.loglik, abs=0.01)


def test_bgnbd_population_purchase_curve(bgnbd):
    expected = [0.0532, 0.1506, 1.0437, 1.858]
    got = bgnbd.expected_purchases(np.array([1.0, 3.0, 32.0, 78.0]))
    assert [round(v, 4) for v in got[:3]] + [round(got[3], 3)] == expected


def test_bgnbd_conditional_expectation_of_customer_one(bgnbd):
    value = bgnbd.conditional_expected_purchases(39, 2, 30.43, 38.86)
    assert round(value, 3) == 1.226


def test_bgnbd_holdout_forecast_is_close_to_what_happened(bgnbd):
    ch = cl.transactions.calibration_holdout(
        cl.datasets.load_cdnow("sample"), "1997-09-30", "1998-06-30", unit="W"
    )
    forecast = bgnbd.conditional_expected_purchases(
        ch["duration_holdout"], ch["x"], ch["t_x"], ch["T"]
    )
    # Fader, Hardie & Lee report that the model tracks the holdout well but slightly
    # under-forecasts it; counted in purchase days the holdout has 1,882 transactions and
    # the conditional forecast comes within 15% of it, from below.
    assert 0.85 * ch["x_holdout"].sum() < forecast.sum() < ch["x_holdout"].sum()


def test_bgnbd_frequency_distribution_matches_the_data(bgnbd, cdnow_calibration):
    # P(X(t) = n) summed over customers, each with her own T, against observed counts.
    T = cdnow_calibration["T"].to_numpy()
    expected = np.array([bgnbd.probability_of_purchases(n, T).sum() for n in range(7)])
    observed = np.array([(cdnow_calibration["x"] == n).sum() for n in range(7)])
    assert expected[0] == pytest.approx(observed[0], rel=0.03)  # 1,411 zeros
    assert np.abs(expected - observed).sum() / observed.sum() < 0.05


# ----- MBG/NBD: Batislam, Denizel & Filiztekin (2007), as BTYDplus fits it -------------
def test_mbgnbd_parameters_on_the_cdnow_summary_as_btydplus_and_lifetimes_report():
    # BTYDplus (mbgcnbd with k = 1) on Fader, Hardie & Lee's CDNOW summary, the figures
    # lifetimes asserts in tests/test_estimation.py::test_params_out_is_close_to_BTYDplus.
    model = MBGNBD().fit(cl.datasets.load_cdnow_published_summary())
    assert _rounded(model.params, 3) == {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}
    assert model.converged


# ----- MBG/CNBD-k: Platzer & Reutterer (2016), as BTYDplus's CDNOW demo runs it -------
def test_cnbd_k_on_cdnow_chooses_k_one_as_the_btydplus_demo_reports():
    # BTYDplus, demo/cdnow.R: mbgcnbd.EstimateParameters on CDNOW picks k = 1 ("no
    # regularity detected for CDNow"), hence the MBG/NBD estimates r 0.525, alpha 6.183,
    # a 0.891, b 1.614 that BTYDplus and lifetimes print (see the MBG/NBD test above).
    cdnow = regularity_summary(cl.datasets.load_cdnow("sample"), "1997-09-30")
    model = MBGCNBD().fit(cdnow)
    assert model.k == 1
    profile = model.k_profile
    assert profile["loglik"].idxmax() == 1
    assert profile.index.tolist()[:3] == [1, 2, 3]
    assert (np.diff(profile["loglik"]) < 0).all()  # each k worse than the one before
    assert _rounded(model.params, 3) == {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}
    assert model.loglik == pytest.approx(-9582.14, abs=0.01)
    assert BGCNBD().fit(cdnow).k == 1


# ----- Pareto/NBD: Fader & Hardie's note on CDNOW --------------------------------------
def test_pareto_nbd_parameters_and_loglik(cdnow_calibration):
    model = ParetoNBD().fit(cdnow_calibration)
    assert _rounded(model.params, 2) == {"r": 0.55, "alpha": 10.58, "s": 0.61, "beta": 11.67}
    # The note prints -9594.98; the maximum lies 0.01 above it.
    assert model.loglik == pytest.approx(-9594.98, abs=0.015)
    assert model.converged and model.n_obs == 2357
    # Hardie's rounded summary (two decimals) gives the same estimates.
    published = ParetoNBD().fit(cl.datasets.load_cdnow_published_summary())
    assert _rounded(published.params, 2) == _rounded(model.params, 2)
    assert published.loglik == pytest.approx(model.loglik, abs=0.01)


def test_pareto_nbd_loglik_at_published_values_by_direct_formula(cdnow_calibration):
    # The note's closed form with scipy's plain hyp2f1 (fine at CDNOW's moderate x),
    # against our Euler-transformed version.
    from scipy import special

    r, alpha, s, beta = 0.55, 10.58, 0.61, 11.67
    x, t_x, T = (cdnow_calibration[c].to_numpy() for c in ("x", "t_x", "T"))

    def term(time):
        return special.hyp2f1(r + s + x, r + x, r + s + x + 1, (beta - alpha) / (beta + time)) / (
            beta + time
        ) ** (r + s + x)

    A0 = term(t_x) - term(T)
    direct = np.log(
        special.gamma(r + x)
        * alpha**r
        * beta**s
        / special.gamma(r)
        * (1 / ((alpha + T) ** (r + x) * (beta + T) ** s) + s / (r + s + x) * A0)
    ).sum()
    ours = ParetoNBD().set_params(r=r, alpha=alpha, s=s, beta=beta)
    rows = ours._loglik_rows(np.array([r, alpha, s, beta]), x=x, t_x=t_x, T=T)
    assert rows.sum() == pytest.approx(direct, abs=1e-6)


# ----- GGom/NBD: Bemmaor & Glady (2012), Table 2 -------------------------------------
@pytest.fixture(scope="module")
def ggomnbd_cdnow(cdnow_calibration):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # b runs to its boundary
        return GGomNBD().fit(cdnow_calibration)


def test_ggomnbd_cdnow_estimates_and_loglik(ggomnbd_cdnow, cdnow_calibration):
    # Table 2 (Bemmaor & Glady 2012, p. 1018): r 0.553, alpha 10.578, LL -9594.98; the
    # printed b = 0.0002 is a point on the likelihood's flat ridge towards b = 0, where
    # our fit ends (flagged: see test_ggomnbd.py), so b, s and beta are checked below
    # with b held at the printed value.
    model = ggomnbd_cdnow
    assert round(model.params["r"], 3) == 0.553
    assert round(model.params["alpha"], 3) == 10.578
    assert round(model.loglik, 2) == -9594.98
    assert "b" in model.at_boundary
    assert model.n_obs == 2357


def test_ggomnbd_with_b_held_at_table_2s_value_gives_table_2(cdnow_calibration):
    """With b = 0.0002 as printed, the best r, alpha, s and LL are Table 2's."""
    model = GGomNBD()
    columns, weights = compress_rows(*model._read_all(cdnow_calibration, None, fitting=True))

    def negloglik(free):
        r, alpha, s, beta = np.exp(free)
        return -float(np.dot(weights, model._rows(np.array([r, alpha, 2e-4, s, beta]), columns)))

    result = optimize.minimize(
        negloglik,
        np.log([0.55, 10.58, 0.6, 2e-4 * 11.67]),
        method="Nelder-Mead",
        options={"xatol": 1e-8, "fatol": 1e-8, "maxiter": 4000},
    )
    r, alpha, s, _ = np.exp(result.x)
    assert (round(r, 3), round(alpha, 3)) == (0.553, 10.578)
    assert s == pytest.approx(0.603, abs=1e-3)
    assert round(-result.fun, 2) == -9594.98


# ----- Pareto/NBD with time-varying covariates: Bachmann, Meierer & Näf (2021) ---------
def test_time_varying_pareto_nbd_without_covariates_gives_the_cdnow_pareto_nbd():
    # With no covariates the model is the Pareto/NBD, so on CDNOW it must give the note's
    # LL -9594.98 (the apparel data of the paper and CLVTools are GPL-3, not shipped).
    log = cl.datasets.load_cdnow("sample")
    weeks = pd.DataFrame({"period": pd.date_range("1996-12-30", "1997-09-29", freq="7D")})
    data = cl.models.time_varying_data(log, weeks, observation_end="1997-09-30")
    model = ParetoNBDTimeVarying().fit(data)
    assert round(model.loglik, 2) == -9594.98
    assert _rounded(model.params, 2) == {"r": 0.55, "alpha": 10.58, "s": 0.61, "beta": 11.67}
    plain = ParetoNBD().fit(data.summary()[["x", "t_x", "T"]])
    assert model.loglik == pytest.approx(plain.loglik, abs=1e-6)
    assert model.unit == "W"


# ----- Gamma–Gamma: Fader, Hardie & Lee (2005) spend note ------------------------------
def test_gamma_gamma_parameters_and_loglik(cdnow_calibration):
    model = GammaGamma().fit(cdnow_calibration)
    assert model.n_obs == 946
    assert _rounded(model.params, 2) == {"p": 6.25, "q": 3.74, "gamma": 15.44}
    assert round(model.loglik, 2) == -4055.92


def test_gamma_gamma_conditional_spend_shrinks_towards_the_mean():
    model = GammaGamma().set_params(p=6.25, q=3.74, gamma=15.44)
    mean = model.mean_spend()
    few, many = model.conditional_expected_spend([1, 50], [100.0, 100.0])
    assert mean < few < many < 100
    assert model.conditional_expected_spend(0, np.nan) == pytest.approx(mean)


def test_frequency_and_spend_are_nearly_uncorrelated_in_cdnow(cdnow_calibration):
    assert abs(cl.models.frequency_spend_correlation(cdnow_calibration)) < 0.15


# ----- sBG: Fader & Hardie (2007) -------------------------------------------------------
@pytest.fixture(scope="module")
def survival():
    return cl.datasets.load_survival()


def test_sbg_regular_group(survival):
    model = ShiftedBetaGeometric().fit(survival["regular"].loc[:7])
    assert _rounded(model.params, 3) == {"alpha": 0.704, "beta": 1.182}
    assert round(model.loglik, 2) == -1680.27


def test_sbg_high_end_group(survival):
    model = ShiftedBetaGeometric().fit(survival["high_end"].loc[:7])
    assert _rounded(model.params, 3) == {"alpha": 0.668, "beta": 3.806}
    assert round(model.loglik, 2) == -1611.16


@pytest.mark.parametrize("group", ["regular", "high_end"])
def test_sbg_projection_of_years_8_to_12_tracks_the_actual(survival, group):
    # Figure 3: fitted on years 0-7, the sBG follows the actual survival through year 12
    # (Regular 17.3 %, High End 39.4 % at year 12), slightly below it.
    model = ShiftedBetaGeometric().fit(survival[group].loc[:7])
    projected = model.survival(np.arange(8, 13)) * 100
    actual = survival[group].loc[8:12].to_numpy() / 10
    assert np.all(np.abs(projected - actual) < 1.7)
    assert np.all(projected <= actual)
    # The naive alternative the paper warns against, a constant retention rate fitted to
    # years 0-7, is far worse by year 12.
    constant = (survival[group].loc[7] / 1000) ** (1 / 7)
    assert abs(100 * constant**12 - actual[-1]) > 3 * abs(projected[-1] - actual[-1])


def test_sbg_loglik_of_the_published_parameters(survival):
    model = ShiftedBetaGeometric().set_params(alpha=0.704, beta=1.182)
    assert model.log_likelihood(survival["regular"].loc[:7]) == pytest.approx(-1680.27, abs=0.01)


# ----- sBG with a churn covariate: the two groups of Fader & Hardie (2007) in one fit ---
def test_sbg_one_covariate_fit_of_both_groups_matches_the_two_published_fits(survival):
    # The paper fits the groups separately: LL -1680.27 and -1611.16, with alpha 0.704
    # and 0.668 nearly equal. A common alpha and a covariate on beta (3 parameters
    # instead of 4) must come within a likelihood-ratio test of the separate fits.
    rows = pd.concat(
        [
            survivors_to_durations(survival[group].loc[:7]).assign(high_end=flag)
            for group, flag in (("regular", 0.0), ("high_end", 1.0))
        ],
        ignore_index=True,
    )
    model = ShiftedBetaGeometric(churn_covariates=["high_end"]).fit(rows)
    assert model.converged
    separate = -1680.27 + -1611.16
    assert model.loglik <= separate + 0.01  # nested in the separate fits
    assert 2 * (separate - model.loglik) < stats.chi2.ppf(0.95, 1)
    # High End churns less: negative coefficient; beta exp(-gamma) is the group's beta,
    # near the separate fit's 3.806 (not equal: alpha is now shared, 0.695 for 0.668)
    gamma = model.params["churn.high_end"]
    assert gamma < 0
    assert model.params["beta"] == pytest.approx(1.182, rel=0.05)
    assert model.params["beta"] * np.exp(-gamma) == pytest.approx(3.806, rel=0.1)
    # year-12 survival near what the paper's Table 1 observed (17.3 % and 39.4 %)
    year_12 = model.survival(12, covariates={"high_end": [0.0, 1.0]})
    assert year_12 == pytest.approx([0.170, 0.378], abs=0.005)


# ----- DERL: Fader & Hardie (2010) ------------------------------------------------------
# Table 3's two cases share E(theta) = 0.2 (a first-year retention rate of 80 %): case 1
# nearly homogeneous (alpha 3.80, beta 15.20, polarization 1 / (alpha + beta + 1) = 0.05),
# case 2 highly polarized (printed alpha 0.067, beta 0.267: 1/15 and 4/15, polarization
# 0.75). The table's DERL at d = 0.10 for n = 1..5 are quoted from pymc-marketing's test
# of Table 3 (tests/clv/models/test_shifted_beta_geo.py).
def test_derl_published_values():
    values = cl.clv.derl(3.80, 15.20, 0.10, np.arange(1, 6))
    assert np.round(values, 2).tolist() == [3.31, 3.45, 3.59, 3.72, 3.84]


def test_derl_published_values_of_the_polarized_case():
    values = cl.clv.derl(1 / 15, 4 / 15, 0.10, np.arange(1, 6))
    assert np.round(values, 2).tolist() == [7.68, 9.46, 9.86, 10.06, 10.19]
    # The printed, rounded parameters miss two of the five by 0.01 (7.67, 9.85): the
    # table was computed from the exact 1/15 and 4/15.
    rounded = np.round(cl.clv.derl(0.067, 0.267, 0.10, np.arange(1, 6)), 2).tolist()
    assert rounded != [7.68, 9.46, 9.86, 10.06, 10.19]


def test_retention_elasticity_exceeds_the_textbook_value_in_both_cases():
    # Fader & Hardie (2010) find that the textbook elasticity (1 + d) / (1 + d - r) of a
    # constant retention rate, here r = 0.8 and d = 0.10 (1.1 / 0.3 = 3.67), understates
    # the elasticity of a heterogeneous base, the more so the more polarized it is. The
    # paper's own elasticity figures (its eq. (8) and the numbers after it) could not be
    # read here, so the sBG's closed form is checked against quadrature in
    # test_sbg_covariates.py; this test checks the paper's direction on its two cases.
    textbook = 1.1 / (1.1 - 0.8)
    n = np.arange(1, 6)
    case_1 = ShiftedBetaGeometric().set_params(alpha=3.80, beta=15.20)
    case_2 = ShiftedBetaGeometric().set_params(alpha=1 / 15, beta=4 / 15)
    homogeneous = case_1.retention_elasticity(0.10, n)
    polarized = case_2.retention_elasticity(0.10, n)
    assert np.all(textbook < homogeneous) and np.all(homogeneous < polarized)
    # a nearly homogeneous base is close to the textbook value, a polarized one far above
    assert homogeneous[0] == pytest.approx(textbook, rel=0.25)
    assert polarized[0] > 2.5 * textbook


def test_derl_equals_the_discounted_survival_sum():
    alpha, beta, d = 3.8, 15.2, 0.1
    model = ShiftedBetaGeometric().set_params(alpha=alpha, beta=beta)
    t = np.arange(0, 4000)
    for n in (1, 3, 7):
        # Payments at renewals n, n+1, ... given n - 1 renewals so far, valued just before
        # the n-th renewal decision (so that payment is not discounted).
        future = model.survival(t[n:]) / model.survival(n - 1) / (1 + d) ** (t[n:] - n)
        assert cl.clv.derl(alpha, beta, d, n) == pytest.approx(future.sum(), rel=1e-9)
    assert cl.clv.del_sbg(alpha, beta, d) == pytest.approx(
        (model.survival(t) / (1 + d) ** t).sum(), rel=1e-9
    )


# ----- BdW: Fader, Hardie, Liu, Davin & Steenburgh (2018) -------------------------------
# The paper fits the sBG and the BdW to the Regular and High End data with a five-year
# calibration period (years 0-4, four renewal opportunities). Its tables could not be
# read here. What is checked: (1) the polarization index phi = 1 / (alpha + beta + 1) of
# the High End fits that the paper's text reports, 0.099 for the sBG and 0.335 for the
# BdW (as paraphrased in abdullahau/customer-analytics, BdW-Model.qmd); (2) the BdW
# estimates and LL that the R package foretell and its Python port retenmod print for
# the same High End years (their README: a, b, c = 0.25936956, 1.72276277, 1.58428486,
# -LL 122.27493183 on survival percentages, so ten times that on the 1,000 customers).
def test_bdw_high_end_five_year_fit_as_foretell_and_retenmod_print(survival):
    model = BetaDiscreteWeibull().fit(survival["high_end"].loc[:4])
    np.testing.assert_allclose(
        [model.params[k] for k in ("alpha", "beta", "c")],
        [0.25936956, 1.72276277, 1.58428486],
        rtol=5e-4,
    )
    assert model.loglik / 10 == pytest.approx(-122.27493183, abs=1e-6)
    assert model.converged


def test_bdw_and_sbg_high_end_polarization_as_the_paper_reports(survival):
    counts = survival["high_end"].loc[:4]
    bdw = BetaDiscreteWeibull().fit(counts)
    sbg = ShiftedBetaGeometric().fit(counts)
    assert round(1 / (bdw.params["alpha"] + bdw.params["beta"] + 1), 3) == 0.335
    assert round(1 / (sbg.params["alpha"] + sbg.params["beta"] + 1), 3) == 0.099
    # duration dependence is positive (c > 1) and the BdW fits better than its c = 1 case
    assert bdw.params["c"] > 1 and bdw.loglik > sbg.loglik


# ----- BG/BB: Fader, Hardie & Shang (2010) ----------------------------------------------
@pytest.fixture(scope="module")
def bgbb():
    return BGBB().fit(cl.datasets.load_donations())


def test_bgbb_parameters_and_loglik(bgbb):
    assert _rounded(bgbb.params, 3) == {
        "alpha": 1.204,
        "beta": 0.75,
        "gamma": 0.657,
        "delta": 2.783,
    }
    assert round(bgbb.loglik, 1) == -33225.6
    assert bgbb.n_obs == 11104


def test_bgbb_reproduces_the_distribution_of_repeat_donations(bgbb):
    donations = cl.datasets.load_donations()
    observed = donations.groupby("x")["weight"].sum().reindex(range(7)).to_numpy()
    expected = bgbb.probability_of_purchases(np.arange(7), 6) * 11104
    assert np.abs(expected - observed).max() < 0.05 * observed.max()
    assert bgbb.expected_purchases(6) * 11104 == pytest.approx(
        (donations["x"] * donations["weight"]).sum(), rel=0.01
    )


def test_bgbb_p_alive_orders_customers_sensibly(bgbb):
    recent, lapsed = bgbb.p_alive([3, 3], [6, 3], [6, 6])
    assert recent > lapsed
    assert 0 < lapsed < recent < 1
