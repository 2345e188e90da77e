"""Checks for notebook 12, beyond the Pareto/NBD (regular timing, ageing, time-varying covariates).

The simulated bases are drawn here exactly as the notebook draws them (same models,
parameters and seeds), so that each check judges the learner's number against the
notebook's own data.
"""

from __future__ import annotations

import warnings
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

import crmlab as cl
from crmlab.exercises._core import Feedback, choice, exercise, number

# Section 1: regular buyers (Erlang-4 gaps), one year of calibration and one of holdout.
REGULAR = {"r": 2.0, "alpha": 8.0, "a": 0.6, "b": 3.0}
REGULAR_K, REGULAR_CUSTOMERS, REGULAR_SEED, YEAR = 4, 2000, 12, 52.0

# Section 2: customers whose dropout hazard grows with age (Gompertz), two years observed.
AGEING = {"r": 0.8, "alpha": 6.0, "b": 0.05, "s": 0.6, "beta": 0.3}
AGEING_CUSTOMERS, AGEING_SEED, AGEING_WEEKS = 3000, 1, 104.0

# Section 3: a promotion every June and December, two years of weeks from 2024-01-01.
PROMO = {"r": 0.9, "alpha": 8.0, "s": 0.6, "beta": 30.0, "purchase.promo": 1.0}
PROMO_CUSTOMERS, PROMO_ACQUISITION_SEED, PROMO_SEED = 2000, 21, 5
CALIBRATION_END, HOLDOUT_END = "2024-12-29", "2025-12-28"


def _quietly(fit: Any, *args: Any, **kwargs: Any) -> Any:
    # Boundary and ignored-column warnings are the notebook's to discuss, not the check's.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit(*args, **kwargs)


# ----------------------------------------------------------------------------- exercise 1


@cache
def _regular() -> tuple[pd.DataFrame, Any, Any]:
    truth = cl.models.BGCNBD(k=REGULAR_K).set_params(**REGULAR)
    base = pd.DataFrame(
        truth.simulate(REGULAR_CUSTOMERS, YEAR, seed=REGULAR_SEED, holdout=YEAR, state=True)
    )
    bgnbd = _quietly(cl.models.BGNBD().fit, base[["x", "t_x", "T"]])
    cnbd = _quietly(cl.models.BGCNBD().fit, base[["x", "t_x", "T", "litt"]])
    return base, bgnbd, cnbd


def _overdue_means() -> dict[str, float]:
    base, bgnbd, cnbd = _regular()
    history = (base["x"], base["t_x"], base["T"])
    repeat = base["x"] > 0
    usual_gap = base["t_x"] / base["x"].clip(lower=1)
    silence = base["T"] - base["t_x"]
    overdue = repeat & (silence > 2 * usual_gap)
    once = repeat & (silence > usual_gap)
    p_cnbd = pd.Series(cnbd.p_alive(*history), index=base.index)
    p_bgnbd = pd.Series(bgnbd.p_alive(*history), index=base.index)
    return {
        "expected": float(p_cnbd[overdue].mean()),
        "bgnbd": float(p_bgnbd[overdue].mean()),
        "truth": float(base.loc[overdue, "alive"].mean()),
        "all repeat": float(p_cnbd[repeat].mean()),
        "once": float(p_cnbd[once].mean()),
    }


@exercise(
    "beyond_overdue_p_alive",
    hints=[
        "A customer's usual gap is her observed time between purchases: t_x spread over her "
        "x gaps. Overdue means her present silence, T - t_x, is more than twice that.",
        "Keep the rows of `regular` with x >= 1 and T - t_x > 2 * t_x / x; apply the fitted "
        "BG/CNBD-k's p_alive to their x, t_x, T and average.",
        'od = regular[(regular["x"] > 0) & (regular["T"] - regular["t_x"] > 2 * '
        'regular["t_x"] / regular["x"])]; answer = regular_cnbd.p_alive(od["x"], od["t_x"], '
        'od["T"]).mean()',
    ],
    right=lambda: [_overdue_means()["expected"], round(_overdue_means()["expected"], 3)],
    wrong=lambda: [
        (_overdue_means()["bgnbd"], "BG/NBD"),
        (_overdue_means()["truth"], "truth"),
        (_overdue_means()["all repeat"], "every repeat buyer"),
        (_overdue_means()["once"], "twice"),
    ],
)
def _overdue(answer: Any) -> Feedback | None:
    """Mean BG/CNBD-k P(alive) of the overdue simulated regular buyers (3 decimals)."""
    means = _overdue_means()
    return number(
        answer,
        means["expected"],
        decimals=3,
        fraction=True,
        correct=f"{means['expected']:.3f}; run the next cell to set it beside the truth.",
        mistakes=[
            (
                means["bgnbd"],
                "that is the BG/NBD's P(alive) (`regular_bgnbd`); the question asks for the "
                "model that knows the timing is regular, `regular_cnbd`.",
            ),
            (
                means["truth"],
                "that is the truth (the column `alive`), which no model sees; average the "
                "model's P(alive) instead.",
            ),
            (
                means["all repeat"],
                "that averages over every repeat buyer; keep only the overdue ones.",
            ),
            (
                means["once"],
                "that keeps customers silent for more than once their usual gap; the "
                "question says more than twice.",
            ),
        ],
    )


# ----------------------------------------------------------------------------- exercise 2


def _gap_cv(
    *, merge_days: bool = True, calibration: bool = True, min_gaps: int = 4, ddof: int = 1
) -> tuple[float, float]:
    """Median and mean, over CDNOW customers with ``min_gaps`` gaps, of the gaps' CV."""
    log = cl.datasets.load_cdnow("sample")
    if calibration:
        log = log[log["date"] <= "1997-09-30"]
    log = log.assign(day=log["date"].dt.normalize())
    if merge_days:
        log = log.drop_duplicates(["customer_id", "day"])
    log = log.sort_values(["customer_id", "day"])
    gaps = (log.groupby("customer_id")["day"].diff().dt.days / 7).dropna()
    by = gaps.groupby(log.loc[gaps.index, "customer_id"])
    cv = (by.std(ddof=ddof) / by.mean())[by.size() >= min_gaps]
    return float(cv.median()), float(cv.mean())


@cache
def _gap_cvs() -> dict[str, float]:
    median, mean = _gap_cv()
    return {
        "expected": median,
        "mean": mean,
        "ddof 0": _gap_cv(ddof=0)[0],
        "no merge": _gap_cv(merge_days=False)[0],
        "whole log": _gap_cv(calibration=False)[0],
        "two gaps": _gap_cv(min_gaps=2)[0],
    }


@exercise(
    "beyond_cdnow_gap_cv",
    hints=[
        "The coefficient of variation of one customer's gaps is their standard deviation "
        "over their mean; it does not depend on the time unit.",
        "Keep CDNOW's calibration rows (to 1997-09-30), one row per customer and day; sort "
        "by customer and day; the gaps are the day-to-day differences within a customer. "
        "Then, per customer, std / mean, for customers with at least 4 gaps; take the median.",
        'cal = transactions[transactions["date"] <= "1997-09-30"].assign(day=lambda d: '
        'd["date"].dt.normalize()).drop_duplicates(["customer_id", "day"]).sort_values('
        '["customer_id", "day"]); gaps = cal.groupby("customer_id")["day"].diff().dt.days'
        '.dropna(); by = gaps.groupby(cal.loc[gaps.index, "customer_id"]); answer = '
        "(by.std() / by.mean())[by.size() >= 4].median()",
    ],
    right=lambda: [_gap_cvs()["expected"], round(_gap_cvs()["expected"], 3)],
    wrong=lambda: [
        (_gap_cvs()["mean"], "median"),
        (_gap_cvs()["ddof 0"], "ddof"),
        (_gap_cvs()["no merge"], "one day"),
        (_gap_cvs()["whole log"], "calibration"),
        (_gap_cvs()["two gaps"], "at least 4"),
    ],
)
def _cdnow_gap_cv(answer: Any) -> Feedback | None:
    """Median CV of the gaps of CDNOW customers with at least 4 calibration gaps (3 dp)."""
    cvs = _gap_cvs()
    return number(
        answer,
        cvs["expected"],
        decimals=3,
        correct=f"{cvs['expected']:.3f}. Below 1: regular buyers? Read on before you decide.",
        mistakes=[
            (cvs["mean"], "that is the mean over customers; the question asks for the median."),
            (
                cvs["ddof 0"],
                "that uses the population standard deviation (ddof=0); pandas' default, "
                "ddof=1, is the one asked for: with four gaps it matters.",
            ),
            (
                cvs["no merge"],
                "two purchases of one day count as one transaction in the models; drop the "
                "repeated (customer, day) rows first.",
            ),
            (
                cvs["whole log"],
                "that uses the whole log, holdout included; keep the calibration period "
                "(dates up to 1997-09-30).",
            ),
            (
                cvs["two gaps"],
                "that keeps customers with at least 2 gaps; the question asks for at least 4.",
            ),
        ],
    )


# ----------------------------------------------------------------------------- exercise 3


def _gompertz_survival(t: float, b: float, s: float, beta: float) -> float:
    return float((beta / (beta + np.expm1(b * t))) ** s)


@cache
def _ageing_pareto() -> Any:
    truth = cl.models.GGomNBD().set_params(**AGEING)
    base = pd.DataFrame(
        truth.simulate(AGEING_CUSTOMERS, AGEING_WEEKS, seed=AGEING_SEED, holdout=YEAR)
    )
    base["t_x"] = np.ceil(base["t_x"] * 7) / 7  # purchases recorded to the day
    return _quietly(cl.models.ParetoNBD().fit, base[["x", "t_x", "T"]])


def _survivor_shares() -> dict[str, float]:
    b, s, beta = AGEING["b"], AGEING["s"], AGEING["beta"]
    later, now = _gompertz_survival(156, b, s, beta), _gompertz_survival(104, b, s, beta)
    pareto = _ageing_pareto().params
    pareto_share = ((pareto["beta"] + 104) / (pareto["beta"] + 156)) ** pareto["s"]
    return {
        "expected": later / now,
        "unconditional": later,
        "fresh": _gompertz_survival(52, b, s, beta),
        "pareto": float(pareto_share),
    }


@exercise(
    "beyond_survivors_last",
    hints=[
        "A share of survivors is a conditional probability: alive at 156 weeks among those "
        "alive at 104, that is S(156) / S(104).",
        "S(t) is the population's survival of section 2's formula, with the simulation's "
        "true b, s and beta (the dict `ageing_params`).",
        'S = lambda t: (p["beta"] / (p["beta"] + np.exp(p["b"] * t) - 1)) ** p["s"]; with '
        "p = ageing_params: answer = S(156) / S(104)",
    ],
    right=lambda: [_survivor_shares()["expected"], round(_survivor_shares()["expected"], 3)],
    wrong=lambda: [
        (_survivor_shares()["unconditional"], "those alive at 104"),
        (_survivor_shares()["fresh"], "newly acquired"),
        (_survivor_shares()["pareto"], "Pareto/NBD"),
    ],
)
def _survivors_last(answer: Any) -> Feedback | None:
    """Share of the ageing base's customers alive at week 104 still alive at 156 (3 dp)."""
    shares = _survivor_shares()
    return number(
        answer,
        shares["expected"],
        decimals=3,
        fraction=True,
        correct=(
            f"{shares['expected']:.3f}: only about one survivor in five lasts another year. "
            "Compare it with what the Pareto/NBD believes, below."
        ),
        mistakes=[
            (
                shares["unconditional"],
                "that is S(156), the share of all new customers alive at 156 weeks; the "
                "question is about those alive at 104 (divide by S(104)).",
            ),
            (
                shares["fresh"],
                "that is S(52), a newly acquired customer's chance to last a year: it "
                "restarts the Gompertz clock, but the survivors are two years old and age "
                "faster now.",
            ),
            (
                shares["pareto"],
                "that is the Pareto/NBD fit's answer; the question asks for the truth, from "
                "the simulation's own parameters.",
            ),
        ],
    )


# ----------------------------------------------------------------------------- exercise 4


@exercise(
    "beyond_boundary_reading",
    hints=[
        "Ask what b measures in the model: how fast a customer's dropout hazard grows with "
        "her age, not whether she drops out.",
        "The flagged fit has the Pareto/NBD's log-likelihood to the third decimal; what "
        "would other starting values change?",
        "Section 2's simulation needed two years of data to see ageing; CDNOW's calibration "
        "has 39 weeks.",
    ],
    right=["c", "C"],
    wrong=[("a", "ageing"), ("b", "starting values"), ("d", "heterogeneity")],
)
def _boundary_reading(answer: Any) -> Feedback:
    """What does GGom/NBD's b at its boundary on CDNOW tell you? (a letter)"""
    return choice(
        answer,
        "c",
        {
            "a": "b is the rate at which the dropout hazard grows with age (the ageing), not "
            "the dropout itself: at b = 0 customers still leave, at the Pareto/NBD's "
            "constant individual rates.",
            "b": "the optimiser did its job: the log-likelihood is the Pareto/NBD's, the "
            "most the model can reach on these data, so other starting values only find "
            "the same flat ridge. The flag is a result, not a failure.",
            "c": "the data give no evidence of ageing, so the simpler nested model, the "
            "Pareto/NBD, is the one to report (with its standard errors). Absence of "
            "evidence is not evidence of absence: 39 weeks may be too short to see ageing.",
            "d": "a falling dropout rate across the base is what the Pareto/NBD already "
            "produces through heterogeneity (the frail leave first); b < 0 is outside the "
            "model, and the boundary says no ageing was found, not that it runs backwards.",
        },
    )


# ----------------------------------------------------------------------------- exercise 5


def _promo_table() -> pd.DataFrame:
    weeks = pd.date_range("2024-01-01", periods=104, freq="7D")
    return pd.DataFrame({"period": weeks, "promo": weeks.month.isin([6, 12]).astype(float)})


@cache
def _promo_fit() -> tuple[pd.DataFrame, Any]:
    table = _promo_table()
    rng = np.random.default_rng(PROMO_ACQUISITION_SEED)
    ids = np.arange(1, PROMO_CUSTOMERS + 1)
    first = pd.Series(table["period"][0] + pd.to_timedelta(rng.integers(0, 84, ids.size), "D"))
    first.index = ids
    truth = cl.models.ParetoNBDTimeVarying(purchase_covariates=["promo"]).set_params(**PROMO)
    log = truth.simulate(table, first, observation_end=HOLDOUT_END, seed=PROMO_SEED)
    data = cl.models.time_varying_data(log, table, observation_end=CALIBRATION_END)
    model = _quietly(cl.models.ParetoNBDTimeVarying(purchase_covariates=["promo"]).fit, data)
    return log, model


@cache
def _promo_forecasts() -> dict[str, float]:
    log, model = _promo_fit()
    table = _promo_table()
    december = (table["period"].dt.year == 2025) & (table["period"].dt.month == 12)
    june = (table["period"].dt.year == 2025) & (table["period"].dt.month == 6)

    def forecast(frame: pd.DataFrame) -> float:
        data = cl.models.time_varying_data(log, frame, observation_end=CALIBRATION_END)
        return float(model.conditional_expected_purchases(52, data).sum())

    planned = forecast(table)
    without_december = forecast(table.assign(promo=table["promo"].where(~december, 0.0)))
    without_both = forecast(table.assign(promo=table["promo"].where(~(december | june), 0.0)))
    return {
        "expected": planned - without_december,
        "planned": planned,
        "without": without_december,
        "both": planned - without_both,
    }


@exercise(
    "beyond_promo_cancel",
    hints=[
        "A forecast under a different plan is the same model with a different future "
        "covariate path: change the table, not the model.",
        "Copy `promo_table`, set promo to 0 in the weeks that start in December 2025, build "
        "the data again with cl.models.time_varying_data (same log, same observation_end), "
        "forecast 52 weeks with `promo_model`, and subtract from the planned forecast.",
        'plan = promo_table.copy(); dec = (plan["period"].dt.year == 2025) & '
        '(plan["period"].dt.month == 12); plan.loc[dec, "promo"] = 0.0; new = '
        "cl.models.time_varying_data(promo_log, plan, observation_end=calibration_end); "
        "answer = planned_total - promo_model.conditional_expected_purchases(52, new).sum()",
    ],
    right=lambda: [_promo_forecasts()["expected"], round(_promo_forecasts()["expected"])],
    wrong=lambda: [
        (-_promo_forecasts()["expected"], "sign"),
        (_promo_forecasts()["planned"], "planned"),
        (_promo_forecasts()["without"], "subtract it"),
        (_promo_forecasts()["both"], "June"),
    ],
)
def _promo_cancel(answer: Any) -> Feedback | None:
    """Expected repeat purchases lost in 2025 if December 2025's promotion is cancelled (0 dp)."""
    values = _promo_forecasts()
    return number(
        answer,
        values["expected"],
        decimals=0,
        sign=True,
        correct=(
            f"about {values['expected']:,.0f} purchases, "
            f"{values['expected'] / values['planned']:.1%} of the year's forecast."
        ),
        mistakes=[
            (
                values["planned"],
                "that is the forecast with the planned promotions; the question asks what "
                "cancelling December's costs: a difference of two forecasts.",
            ),
            (
                values["without"],
                "that is the forecast without December's promotion; subtract it from the "
                "planned forecast to get the purchases lost.",
            ),
            (
                values["both"],
                "that cancels June 2025 as well; only December's promotion is in question.",
            ),
        ],
    )
