"""Checks for notebook 05, retention.

Every expected value is computed from crmlab (or scipy) itself. Checks that take a
table or a function (``scalar=False``) compare it with crmlab at several points, so an
answer cannot be copied from the screen.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

import crmlab as cl
from crmlab.exercises._core import Feedback, exercise, number

# ----------------------------------------------------------------------- shared data


@cache
def _survivors(group: str, last_year: int = 7) -> tuple[float, ...]:
    return tuple(cl.datasets.load_survival()[group].loc[:last_year].astype(float))


@cache
def _sbg(group: str, last_year: int = 7):
    return cl.models.ShiftedBetaGeometric().fit(list(_survivors(group, last_year)))


def _rates(group: str) -> pd.Series:
    counts = cl.datasets.load_survival()[group].astype(float)
    return (counts / counts.shift(1)).iloc[1:]


def _as_series(answer: Any) -> pd.Series | Feedback | None:
    """A 1-d numeric answer as a float Series, a diagnosis, or None (not recognised)."""
    if isinstance(answer, pd.DataFrame):
        if answer.shape[1] == 1:
            answer = answer.iloc[:, 0]
        else:
            return Feedback.wrong(
                f"this is a table with {answer.shape[1]} columns; the question asks for one "
                "Series: select the column you need."
            )
    if isinstance(answer, (list, tuple, np.ndarray)):
        answer = pd.Series(answer)
    if not isinstance(answer, pd.Series):
        return None
    if answer.dtype == bool or answer.dtype == object:
        return None
    try:
        return answer.astype(float)
    except (TypeError, ValueError):
        return None


def _same_values(series: pd.Series, expected: pd.Series, tol: float = 5e-4) -> bool:
    """True when ``series`` has ``expected``'s values, in order (index ignored)."""
    if len(series) != len(expected):
        return False
    values = series.to_numpy(dtype=float)
    return bool(np.all(np.isfinite(values)) and np.allclose(values, expected, rtol=0, atol=tol))


# ----------------------------------------------------------------------- exercise 1


def _high_end_wrong() -> list[tuple[Any, str]]:
    rates = _rates("high_end")
    counts = cl.datasets.load_survival()["high_end"].astype(float)
    return [
        (counts.iloc[1:] / counts.iloc[0], "survival"),
        (1 - rates, "churn"),
        (_rates("regular"), "Regular"),
        (100 * rates, "percentage"),
        (1 / rates, "upside down"),
        (counts.pct_change().iloc[1:], "pct_change"),
        ((counts / counts.shift(1)), "year 0"),
        (rates.reset_index(drop=True), "index"),
        (rates.iloc[:6], "6 values"),
    ]


@exercise(
    "retention_high_end_rates",
    hints=[
        "Retention in year t compares this year's customers with last year's, not with "
        "the cohort at acquisition.",
        "Divide each count of survival['high_end'] by the count of the year before; "
        "`.shift(1)` lines up each year with the one before it, and year 0 has no "
        "year before it.",
        "(survival['high_end'] / survival['high_end'].shift(1)).iloc[1:]",
    ],
    right=lambda: [_rates("high_end"), _rates("high_end").round(3)],
    wrong=_high_end_wrong,
    scalar=False,
)
def _high_end_rates(answer: object) -> Feedback | None:
    """High End retention rates r_1..r_12 as a Series indexed by year (three decimals)."""
    series = _as_series(answer)
    if not isinstance(series, pd.Series):
        return series
    expected = _rates("high_end")
    counts = cl.datasets.load_survival()["high_end"].astype(float)
    if len(series) == 13 and np.isnan(series.iloc[0]):
        return Feedback.wrong(
            "your Series starts with year 0, which has no year before it (NaN); the rates "
            "run from year 1 to year 12."
        )
    if len(series) != 12:
        return Feedback.wrong(
            f"this has {len(series)} values; there are 12 retention rates, years 1 to 12."
        )
    if _same_values(series, expected):
        if not np.array_equal(series.index.to_numpy(), expected.index.to_numpy()):
            return Feedback.wrong(
                "the values are right but the index is not the year: label each rate with "
                "the year t of n_t / n_(t-1), 1 to 12."
            )
        low = expected.idxmin()
        return Feedback.correct(
            f"High End renews {expected.iloc[0]:.1%} of its customers in year 1 and "
            f"{expected.iloc[-1]:.1%} in year 12; even its lowest year (year {low}, "
            f"{expected.min():.1%}) beats Regular's first."
        )
    mistakes = [
        (
            counts.iloc[1:] / counts.iloc[0],
            "that is survival since acquisition, n_t / n_0; "
            "retention compares with the year before.",
        ),
        (1 - expected, "those are churn rates; retention is their complement."),
        (_rates("regular"), "those are the Regular group's rates; the question is about High End."),
        (1 / expected, "the ratio is upside down: last year's customers go in the denominator."),
        (
            expected - 1,
            "these are the relative changes r_t - 1 (what `pct_change` gives); retention is "
            "the ratio itself, n_t / n_(t-1).",
        ),
    ]
    for values, message in mistakes:
        if _same_values(series, values):
            return Feedback.wrong(message)
    if _same_values(series, 100 * expected, tol=5e-2):
        return Feedback.wrong(
            "these look like percentages; give fractions between 0 and 1 (0.87, not 87)."
        )
    return None


# ----------------------------------------------------------------------- exercise 2


def _mixed(t: float, share: float = 0.2, loyal: float = 0.95, fickle: float = 0.60) -> float:
    return share * loyal**t + (1 - share) * fickle**t


def _two_type_expected() -> float:
    return _mixed(5) / _mixed(4)


@exercise(
    "retention_two_type_rate",
    hints=[
        "Each kind of customer survives at its own constant rate; the cohort's survival "
        "is the mixture, and retention compares two consecutive years of it.",
        "Write the cohort's survival S(t) = 0.2 * 0.95**t + 0.8 * 0.60**t as a function; "
        "retention in year 5 is S(5) / S(4).",
        "r_5 = (0.2 * 0.95**5 + 0.8 * 0.60**5) / (0.2 * 0.95**4 + 0.8 * 0.60**4)",
    ],
    right=lambda: [_two_type_expected(), round(_two_type_expected(), 3)],
    wrong=lambda: [
        (0.2 * 0.95 + 0.8 * 0.60, "acquisition"),
        (_mixed(5), "survival"),
        (_mixed(4) / _mixed(3), "year 4"),
        (_mixed(6) / _mixed(5), "year 6"),
        (1 - _two_type_expected(), "churn"),
        (100 * _two_type_expected(), "percentage"),
    ],
)
def _two_type(answer: object) -> Feedback | None:
    """Aggregate retention in year 5 of a cohort of 20% loyal (0.95) and 80% fickle (0.60)."""
    expected = _two_type_expected()
    return number(
        answer,
        expected,
        decimals=3,
        fraction=True,
        correct=(
            f"{expected:.3f}, up from {_mixed(1):.3f} in year 1, with no customer changing; "
            "it keeps rising towards 0.95 as the fickle customers die out."
        ),
        mistakes=[
            (
                0.2 * 0.95 + 0.8 * 0.60,
                "that averages the two rates with the shares at acquisition, which holds "
                "only in year 1; by year 5 the fickle customers are a much smaller share.",
            ),
            (_mixed(5), "that is survival S(5) since acquisition; retention divides by S(4)."),
            (_mixed(4) / _mixed(3), "that is year 4, S(4) / S(3); year 5 is S(5) / S(4)."),
            (_mixed(6) / _mixed(5), "that is year 6, S(6) / S(5); year 5 is S(5) / S(4)."),
            (1 - expected, "that is the churn rate; retention is its complement."),
        ],
    )


# ----------------------------------------------------------------------- exercises 3 and 4


@cache
def _durations(observation_end: str, censor_at: str = "last_purchase") -> pd.DataFrame:
    summary = cl.transactions.summarize(cl.datasets.load_cdnow("sample"), observation_end, unit="W")
    return cl.retention.lapse_durations(summary, lapse_after=13, censor_at=censor_at)


@cache
def _scipy_curve(observation_end: str, censor_at: str = "last_purchase") -> pd.Series:
    """Kaplan–Meier straight from scipy.stats.ecdf, including the step at time 0."""
    from scipy import stats

    durations = _durations(observation_end, censor_at)
    time = durations["duration"].to_numpy(float)
    event = durations["lapsed"].to_numpy(bool)
    result = stats.ecdf(stats.CensoredData(uncensored=time[event], right=time[~event]))
    return pd.Series(result.sf.probabilities, index=result.sf.quantiles)


def _step(curve: pd.Series, times: np.ndarray) -> np.ndarray:
    """A step function's value just after each of ``times`` (1 before its first step)."""
    position = np.searchsorted(curve.index.to_numpy(), times, side="right") - 1
    values = curve.to_numpy()
    return np.where(position >= 0, values[np.maximum(position, 0)], 1.0)


def _by_hand(durations: pd.DataFrame, strict: bool = False, events_only: bool = False):
    """Kaplan–Meier written out, with the variants a learner may slip into."""
    kept = durations[durations["lapsed"]] if events_only else durations
    lapses = kept.loc[kept["lapsed"], "duration"].value_counts().sort_index()
    time = kept["duration"].to_numpy()
    at_risk = np.array([(time > t).sum() if strict else (time >= t).sum() for t in lapses.index])
    return pd.Series(np.cumprod(1 - lapses.to_numpy() / at_risk), index=lapses.index)


def _km_reference() -> pd.Series:
    return _by_hand(_durations("1997-09-30"))


def _km_wrong() -> list[tuple[Any, str]]:
    durations = _durations("1997-09-30")
    right = _km_reference()
    everyone_lapsed = durations.assign(lapsed=True)
    return [
        (_by_hand(everyone_lapsed), "counted the censored"),
        (_by_hand(durations, events_only=True), "left out the censored"),
        (_by_hand(durations, strict=True), "at risk"),
        (_by_hand(_durations("1997-09-30", "observation_end")), "censored at T"),
        (1 - right, "lapsed"),
        (right.reset_index(drop=True), "index"),
    ]


@exercise(
    "retention_km_by_hand",
    hints=[
        "At each time at which lapses happened, the share who survive it is "
        "1 - (lapses then) / (customers still at risk then); survival is the running "
        "product of these shares.",
        "Count the lapses d_j per distinct duration among rows with lapsed == True "
        "(`value_counts`); n_j counts ALL rows, lapsed or censored, whose duration is at "
        "least t_j; `cumprod` gives the running product.",
        "lapses = durations.loc[durations['lapsed'], 'duration'].value_counts().sort_index(); "
        "at_risk = pd.Series([(durations['duration'] >= t).sum() for t in lapses.index], "
        "index=lapses.index); km_by_hand = (1 - lapses / at_risk).cumprod()",
    ],
    right=lambda: [_km_reference(), _km_reference().round(4)],
    wrong=_km_wrong,
    scalar=False,
)
def _km_by_hand(answer: object) -> Feedback | None:
    """Kaplan–Meier survival at each distinct lapse time of `durations`, built by hand."""
    series = _as_series(answer)
    if not isinstance(series, pd.Series):
        return series
    if len(series) < 2:
        return Feedback.wrong(
            "give the whole curve: one value of S(t) for every distinct lapse time t_j."
        )
    right = _km_reference()
    if not pd.api.types.is_numeric_dtype(series.index):
        return None
    times = series.index.to_numpy(dtype=float)
    values = series.to_numpy(dtype=float)
    if not np.all(np.isfinite(values)):
        return Feedback.wrong(
            "your curve contains NaN: did you divide by a risk set of zero, or align two "
            "Series with different indexes?"
        )
    if len(series) == len(right) and np.allclose(values, right.to_numpy(), atol=5e-4):
        if not np.allclose(times, right.index.to_numpy()):
            return Feedback.wrong(
                "the values are right but the index should be the lapse times t_j, in weeks."
            )
    reference = _step(_scipy_curve("1997-09-30"), times)
    if np.allclose(values, reference, rtol=0, atol=5e-4):
        crmlab_curve = cl.retention.kaplan_meier(
            _durations("1997-09-30")["duration"], _durations("1997-09-30")["lapsed"]
        )["survival"]
        at_20 = float(_step(crmlab_curve, np.array([20.0]))[0])
        return Feedback.correct(
            f"your {len(series)} values agree with scipy.stats.ecdf and "
            f"cl.retention.kaplan_meier; for example S(20 weeks) = {at_20:.3f}."
        )
    durations = _durations("1997-09-30")
    variants = [
        (
            _by_hand(durations.assign(lapsed=True)),
            "you counted the censored customers as lapses: they leave the risk set at their "
            "censoring time without being an event.",
        ),
        (
            _by_hand(durations, events_only=True),
            "you left out the censored customers: they still count in the risk set n_j "
            "until their duration is reached.",
        ),
        (
            _by_hand(durations, strict=True),
            "the customers at risk at t_j include those whose duration equals t_j: use >=, not >.",
        ),
        (
            _by_hand(_durations("1997-09-30", "observation_end")),
            "these durations are censored at T, the end of the window; censor at t_x, the "
            "last purchase (use the `durations` defined above).",
        ),
    ]
    for variant, message in variants:
        if np.allclose(values, _step(variant, times), rtol=0, atol=5e-4):
            return Feedback.wrong(message)
    if np.allclose(1 - values, reference, rtol=0, atol=5e-4):
        return Feedback.wrong(
            "that is the share lapsed so far, 1 - S(t); the question asks for survival."
        )
    return None


def _long_expected() -> float:
    curve = cl.retention.kaplan_meier(
        _durations("1998-06-30")["duration"], _durations("1998-06-30")["lapsed"]
    )["survival"]
    return float(_step(curve, np.array([24.0]))[0])


def _short_at_24() -> float:
    curve = cl.retention.kaplan_meier(
        _durations("1997-09-30")["duration"], _durations("1997-09-30")["lapsed"]
    )["survival"]
    return float(_step(curve, np.array([24.0]))[0])


def _long_at(week: float) -> float:
    curve = cl.retention.kaplan_meier(
        _durations("1998-06-30")["duration"], _durations("1998-06-30")["lapsed"]
    )["survival"]
    return float(_step(curve, np.array([week]))[0])


@exercise(
    "retention_km_longer_window",
    hints=[
        "Only the end of the observation window changes; the log, the 13-week rule and the "
        "censoring at the last purchase stay the same.",
        "summarize(..., '1998-06-30', unit='W'), then lapse_durations(..., lapse_after=13, "
        "censor_at='last_purchase') and kaplan_meier(duration, lapsed); read the survival "
        "of the last row at or before 24 weeks.",
        "curve = cl.retention.kaplan_meier(d['duration'], d['lapsed']); "
        "answer = curve.loc[:24, 'survival'].iloc[-1]",
    ],
    right=lambda: [_long_expected(), round(_long_expected(), 3)],
    wrong=lambda: [
        (_short_at_24(), "1997-09-30"),
        (_long_at(39), "39"),
        (100 * _long_expected(), "percentage"),
        (1 - _long_expected(), "lapsed"),
    ],
)
def _longer_window(answer: object) -> Feedback | None:
    """Kaplan–Meier survival at 24 weeks when the CDNOW sample is watched until 1998-06-30."""
    expected = _long_expected()
    return number(
        answer,
        expected,
        decimals=3,
        fraction=True,
        correct=(
            f"{expected:.3f}, against {_short_at_24():.3f} in the window that ends in "
            "September 1997."
        ),
        mistakes=[
            (
                _short_at_24(),
                "that is the curve of the window ending 1997-09-30; summarise up to "
                "1998-06-30 first.",
            ),
            (_long_at(39), "that is survival at 39 weeks; the question asks for 24."),
            (
                1 - expected,
                "that is the share lapsed by 24 weeks, 1 - S(24); give survival itself.",
            ),
        ],
    )


# ----------------------------------------------------------------------- exercise 5

# Points at which a learner's log-likelihood is compared with crmlab's.
_POINTS = (
    (0.704, 1.182, "regular", 7),
    (1.0, 1.0, "regular", 7),
    (0.668, 3.806, "high_end", 7),
    (2.5, 6.0, "high_end", 12),
)


def _crmlab_loglik(alpha: float, beta: float, survivors: Any) -> float:
    model = cl.models.ShiftedBetaGeometric().set_params(alpha=alpha, beta=beta)
    return float(model.log_likelihood(list(np.asarray(survivors, dtype=float))))


def _loglik_variant(alpha: float, beta: float, survivors: Any, variant: str) -> float:
    """The sBG log-likelihood with one of the slips a learner may make."""
    from scipy import special

    n = np.asarray(survivors, dtype=float)
    t = np.arange(1, len(n))
    lost = n[:-1] - n[1:]
    shift = 0 if variant == "period" else 1
    log_churn = special.betaln(alpha + 1, beta + t - shift) - special.betaln(alpha, beta)
    log_survive = special.betaln(alpha, beta + t[-1]) - special.betaln(alpha, beta)
    churners = float(np.sum(lost * log_churn))
    if variant == "no survivors":
        return churners
    return churners + n[-1] * log_survive


def _no_survivors(alpha: float, beta: float, survivors: Any) -> float:
    return _loglik_variant(alpha, beta, survivors, "no survivors")


def _negative(alpha: float, beta: float, survivors: Any) -> float:
    return -_crmlab_loglik(alpha, beta, survivors)


def _returns_nothing(alpha: float, beta: float, survivors: Any) -> None:
    return None


def _judge_function(
    answer: Any,
    name: str,
    reference: Callable[..., float],
    points: list[tuple[tuple, float]],
    variants: list[tuple[Callable[..., float], str]],
    correct: str,
) -> Feedback | None:
    """Compare a learner's function with ``reference`` at ``points`` ((args, tolerance))."""
    if not callable(answer):
        return Feedback.wrong(
            f"give the function itself, `{name}`, without calling it: no parentheses after "
            "its name."
        )
    values = []
    for args, _ in points:
        value = answer(*args)
        if value is None:
            return Feedback.wrong("your function returns None: end it with `return` and the value.")
        if value is Ellipsis:
            return Feedback.wrong(
                "your function still returns the placeholder `...`: write its body."
            )
        try:
            values.append(float(np.asarray(value, dtype=float).reshape(-1)[0]))
        except (TypeError, ValueError):
            return Feedback.wrong(
                f"your function returned a {type(value).__name__}; it should return one number."
            )
    expected = [reference(*args) for args, _ in points]
    if all(abs(v - e) <= tol for v, e, (_, tol) in zip(values, expected, points, strict=True)):
        return Feedback.correct(correct)
    for variant, message in variants:
        others = [variant(*args) for args, _ in points]
        if all(abs(v - o) <= tol for v, o, (_, tol) in zip(values, others, points, strict=True)):
            return Feedback.wrong(message)
    return None


@exercise(
    "retention_sbg_loglik",
    hints=[
        "Every customer contributes the log of the probability of what we saw of her: the "
        "period she cancelled in, or, for those still there, that she lasted all k periods.",
        "Customers lost in period t are n[t-1] - n[t]; each contributes "
        "ln P(T = t) = betaln(alpha + 1, beta + t - 1) - betaln(alpha, beta). The n[k] "
        "survivors each contribute ln S(k) = betaln(alpha, beta + k) - betaln(alpha, beta).",
        "n = np.asarray(survivors, float); t = np.arange(1, len(n)); "
        "ll = np.sum((n[:-1] - n[1:]) * (special.betaln(alpha + 1, beta + t - 1) - "
        "special.betaln(alpha, beta))) + n[-1] * (special.betaln(alpha, beta + t[-1]) - "
        "special.betaln(alpha, beta))",
    ],
    right=lambda: [_crmlab_loglik],
    wrong=lambda: [
        (_no_survivors, "survivors"),
        (_negative, "sign"),
        (_returns_nothing, "None"),
        (3.0, "function itself"),
    ],
    scalar=False,
)
def _sbg_loglik(answer: object) -> Feedback | None:
    """The sBG log-likelihood sbg_loglik(alpha, beta, survivors), compared with crmlab's."""
    points = [
        ((alpha, beta, list(_survivors(group, last))), 1e-6 * 2000)
        for alpha, beta, group, last in _POINTS
    ]
    published = _crmlab_loglik(0.704, 1.182, _survivors("regular"))
    return _judge_function(
        answer,
        "sbg_loglik",
        _crmlab_loglik,
        points,
        [
            (
                _no_survivors,
                "the customers still active at the end are missing: add the survivors' term "
                "n_k ln S(k); without it the model treats them as if they had left.",
            ),
            (
                _negative,
                "the sign is flipped: this is -LL. Return LL itself, and minimise its "
                "negative in the next exercise.",
            ),
            (
                lambda a, b, s: _loglik_variant(a, b, s, "period"),
                "P(T = t) is off by one period: it is B(alpha + 1, beta + t - 1) / "
                "B(alpha, beta), with t - 1 renewals before the cancellation.",
            ),
        ],
        f"your log-likelihood agrees with crmlab at four points; at the published estimates "
        f"it is {published:.2f}, as in Fader & Hardie (2007).",
    )


# ----------------------------------------------------------------------- exercise 6


def _pair(answer: Any) -> tuple[float, float] | Feedback | None:
    if hasattr(answer, "x") and hasattr(answer, "fun"):
        return Feedback.wrong(
            "this is the optimiser's whole result; its `.x` holds the solution (on the "
            "scale you optimised on)."
        )
    if isinstance(answer, dict):
        if {"alpha", "beta"} <= set(answer):
            answer = (answer["alpha"], answer["beta"])
        else:
            return Feedback.wrong("give (alpha, beta), or a dict with keys 'alpha' and 'beta'.")
    if isinstance(answer, (str, bytes)) or not hasattr(answer, "__len__"):
        return Feedback.wrong("give the two estimates as a pair: (alpha, beta).")
    try:
        values = np.asarray(answer, dtype=float).ravel()
    except (TypeError, ValueError):
        return Feedback.wrong("give the two estimates as a pair of numbers: (alpha, beta).")
    if values.size != 2:
        return Feedback.wrong(f"this has {values.size} values; give two: (alpha, beta).")
    if not np.all(np.isfinite(values)):
        return Feedback.wrong("an estimate is NaN or infinite: did the optimiser fail?")
    return float(values[0]), float(values[1])


def _optimiser_result() -> Any:
    from scipy.optimize import OptimizeResult

    return OptimizeResult(x=np.log(_params("high_end")), fun=-_sbg("high_end").loglik)


def _params(group: str, last_year: int = 7) -> tuple[float, float]:
    params = _sbg(group, last_year).params
    return params["alpha"], params["beta"]


def _close_pair(pair: tuple[float, float], target: tuple[float, float]) -> bool:
    return all(abs(a - b) <= 5e-4 + 1e-3 * abs(b) for a, b in zip(pair, target, strict=True))


@exercise(
    "retention_sbg_fit_high_end",
    hints=[
        "Maximum likelihood means making your log-likelihood as large as possible; an "
        "optimiser that minimises needs its negative.",
        "Write a function of log_params = (ln alpha, ln beta) that returns "
        "-sbg_loglik(exp(ln alpha), exp(ln beta), counts); give optimize.minimize that "
        "function, the start [0, 0] and the High End counts of years 0-7; exponentiate "
        "its .x.",
        "fit = optimize.minimize(lambda p: -sbg_loglik(*np.exp(p), "
        "survival['high_end'].loc[:7]), [0.0, 0.0]); high_end_params = tuple(np.exp(fit.x))",
    ],
    right=lambda: [_params("high_end"), tuple(round(v, 3) for v in _params("high_end"))],
    wrong=lambda: [
        (_params("regular"), "Regular"),
        (_params("high_end", 12), "years 0-7"),
        (tuple(np.log(_params("high_end"))), "logarithm"),
        (_params("high_end")[::-1], "order"),
        ((0.67, 3.8), "decimals"),
        (_optimiser_result(), "whole result"),
    ],
    scalar=False,
)
def _sbg_fit_high_end(answer: object) -> Feedback | None:
    """Maximum-likelihood (alpha, beta) of the sBG on the High End group, years 0-7."""
    pair = _pair(answer)
    if not isinstance(pair, tuple):
        return pair
    expected = _params("high_end")
    if _close_pair(pair, expected):
        model = _sbg("high_end")
        return Feedback.correct(
            f"alpha = {expected[0]:.3f}, beta = {expected[1]:.3f}, log-likelihood "
            f"{model.loglik:.2f}. High End's beta is about three times Regular's: its "
            "customers are, on average, far less likely to leave."
        )
    if all(abs(a - b) <= 0.005 + 1e-3 * abs(b) for a, b in zip(pair, expected, strict=True)):
        return Feedback.wrong(
            "close, but give the estimates to three decimals at least (or check that the "
            "optimiser converged)."
        )
    mistakes = [
        (_params("regular"), "those are the Regular group's estimates; fit the High End counts."),
        (
            _params("high_end", 12),
            "that fits all 12 years; the question (like the paper) fits years 0-7 only, "
            "`.loc[:7]`, and keeps the rest to test the projection.",
        ),
        (
            tuple(np.log(expected)),
            "these are the logarithms of the estimates (the scale the optimiser worked "
            "on); exponentiate them.",
        ),
        (expected[::-1], "the order is (alpha, beta): you swapped them."),
    ]
    for target, message in mistakes:
        if _close_pair(pair, target):
            return Feedback.wrong(message)
    return None


# ----------------------------------------------------------------------- exercise 7


def _constant_rate(group: str = "regular", last_year: int = 7) -> float:
    return cl.retention.constant_retention_rate(list(_survivors(group, last_year)))


def _constant_expected() -> float:
    return _constant_rate() ** 12


@exercise(
    "retention_constant_year_12",
    hints=[
        "The benchmark has one parameter, r. Find the r that makes LL(r) largest on the "
        "years 0-7, then project survival forward: with one constant rate, S(t) = r^t.",
        "Lost customers n[t-1] - n[t] each contribute ln(1 - r) + (t - 1) ln r; the n[7] "
        "survivors 7 ln r each. Maximise over r in (0.01, 0.99) with "
        "optimize.minimize_scalar on -LL, or solve dLL/dr = 0: 1 - r = (customers lost) / "
        "(renewal decisions faced).",
        "best = optimize.minimize_scalar(lambda r: -constant_loglik(r), bounds=(0.01, 0.99), "
        "method='bounded'); constant_year_12 = best.x**12",
    ],
    right=lambda: [_constant_expected(), round(_constant_expected(), 3)],
    wrong=lambda: [
        (_constant_rate(), "r^12"),
        ((241 / 1000) ** (12 / 7), "year 7 exactly"),
        (_constant_rate() ** 11, "year 11"),
        (_constant_rate("high_end") ** 12, "High End"),
        (_sbg("regular").survival(12), "sBG"),
        (1000 * _constant_expected(), "customers"),
        (100 * _constant_expected(), "percentage"),
    ],
)
def _constant_year_12(answer: object) -> Feedback | None:
    """Survival at year 12 projected by a constant retention rate fitted to Regular years 0-7."""
    expected = _constant_expected()
    rate = _constant_rate()
    return number(
        answer,
        expected,
        decimals=3,
        fraction=True,
        slips={1000: "that is a number of customers out of 1,000; give the share as a fraction."},
        correct=(
            f"{expected:.3f}: with r = {rate:.3f} the constant model projects "
            f"{expected:.1%} of the cohort at year 12, against 17.3% observed and "
            f"{_sbg('regular').survival(12):.1%} for the sBG."
        ),
        mistakes=[
            (rate, "that is the fitted retention rate r itself; survival at year 12 is r^12."),
            (
                (241 / 1000) ** (12 / 7),
                "that rate reproduces year 7 exactly, (241/1000)^(1/7), but it is not the "
                "maximum-likelihood rate, which weighs every renewal decision of years 1-7.",
            ),
            (rate**11, "that is year 11; raise the rate to the power 12."),
            (rate**13, "that is year 13; raise the rate to the power 12."),
            (
                _constant_rate("high_end") ** 12,
                "that is the High End group; the question asks about Regular.",
            ),
            (
                _sbg("regular").survival(12),
                "that is the sBG's projection; the question asks for the constant-retention "
                "benchmark.",
            ),
            (
                _constant_rate("regular", 12) ** 12,
                "that rate is fitted on all 12 years; fit on years 0-7 (`.loc[:7]`) to test "
                "the projection on years it has not seen.",
            ),
        ],
    )


# ----------------------------------------------------------------------- exercise 8


def _first_year_below(threshold: float = 0.10) -> int:
    alpha, beta = _params("regular")
    years = np.arange(1, 1001)
    churn = 1 - (beta + years - 1) / (alpha + beta + years - 1)
    return int(years[churn < threshold][0])


@exercise(
    "retention_churn_below_ten",
    hints=[
        "Under the sBG the churn rate of year t, 1 - r_t, is the average churn "
        "probability of the customers still there, and it falls with t.",
        "Evaluate 1 - r_t = 1 - (beta + t - 1) / (alpha + beta + t - 1) with the fitted "
        "regular.params for t = 1, 2, ... and find the first t where it is below 0.10.",
        "a, b = regular.params['alpha'], regular.params['beta']; years = np.arange(1, 41); "
        "churn = 1 - (b + years - 1) / (a + b + years - 1); int(years[churn < 0.10][0])",
    ],
    right=lambda: [_first_year_below()],
    wrong=lambda: [
        (_first_year_below() - 1, "just above"),
        (_first_year_below() + 1, "already"),
        (_first_year_below() - 2, "early"),
    ],
)
def _churn_below_ten(answer: object) -> Feedback | None:
    """First year t in which the Regular sBG's expected churn 1 - r_t falls below 10%."""
    expected = _first_year_below()
    alpha, beta = _params("regular")

    def churn(t: int) -> float:
        return 1 - (beta + t - 1) / (alpha + beta + t - 1)

    return number(
        answer,
        expected,
        decimals=0,
        sign=False,
        correct=(
            f"year {expected}: expected churn is {churn(expected):.1%} then, against "
            f"{churn(expected - 1):.1%} in year {expected - 1}. Under constant retention "
            f"churn would stay at {1 - _constant_rate():.1%} for ever, and the programme "
            "would never stop."
        ),
        mistakes=[
            (
                expected - 1,
                f"in year {expected - 1} the model's churn is {churn(expected - 1):.1%}, just "
                "above 10%. Check the t - 1 in r_t = (beta + t - 1) / (alpha + beta + t - 1); "
                "and the observed rate crosses earlier, but the question asks for the model.",
            ),
            (
                expected + 1,
                f"churn is already below 10% one year earlier ({churn(expected):.1%} in year "
                f"{expected}).",
            ),
            (
                expected - 2,
                f"too early: in year {expected - 2} churn is still {churn(expected - 2):.1%}.",
            ),
        ],
    )
