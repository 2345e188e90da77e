"""Checks for notebook 08, spend and customer value (Gamma–Gamma and BG/NBD on CDNOW).

The answers are those of the notebook's default parameters: the CDNOW sample, 39 weeks of
calibration, a one-year horizon summed month by month, 10% a year, a 30% margin, and 100
parameter draws (seed 8) for the intervals. On other data the notebook silences the checks.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pandas as pd

import crmlab as cl
from crmlab.exercises._core import Feedback, exercise, number

_SIM_SEED = 13
_SIM_CUSTOMERS = 4_000
_SIM_PARAMS = {"p": 6.25, "q": 3.74, "gamma": 15.44}
_BIG = 60.0
_MONTHS = 12
_ANNUAL_DISCOUNT = 0.10
_MARGIN = 0.30
_DRAWS = 100
_DRAW_SEED = 8
_CATALOGUE = 3.0


# ----------------------------------------------------------------------------- shared


def _as_values(answer: Any, size: int, what: str) -> np.ndarray | Feedback:
    """The answer as a float array of ``size`` values, or a Feedback saying why not."""
    if answer is None or isinstance(answer, (str, bool)) or np.ndim(answer) == 0:
        return Feedback.wrong(f"give an array (or Series) of {size:,} {what}, not a single value.")
    try:
        values = np.asarray(answer, dtype=float).ravel()
    except (TypeError, ValueError):
        return Feedback.wrong(
            f"this {type(answer).__name__} is not an array of numbers; give {size:,} {what}."
        )
    if values.size != size:
        return Feedback.wrong(f"expected {size:,} {what}, in order; got {values.size:,}.")
    if not np.isfinite(values).all():
        return Feedback.wrong(
            f"{int((~np.isfinite(values)).sum()):,} value(s) are NaN or infinite; look at the "
            "rows they come from."
        )
    return values


@cache
def _cdnow() -> tuple[pd.DataFrame, cl.models.BGNBD, cl.models.GammaGamma]:
    data = cl.transactions.calibration_holdout(
        cl.datasets.load_cdnow("sample"), "1997-09-30", "1998-06-30", unit="W"
    )
    buyers = data[(data["x"] > 0) & (data["monetary"] > 0)]
    return data, cl.models.BGNBD().fit(data), cl.models.GammaGamma().fit(buyers)


def _params() -> tuple[float, float, float]:
    spend = _cdnow()[2]
    return spend.params["p"], spend.params["q"], spend.params["gamma"]


# ----------------------------------------------------------------------------- exercise 1


@cache
def _spend_simulation() -> pd.DataFrame:
    # The same draws, in the same order, as the notebook's section 3.
    p, q, gamma = _SIM_PARAMS.values()
    rng = np.random.default_rng(_SIM_SEED)
    true_mean = p / rng.gamma(q, 1 / gamma, size=_SIM_CUSTOMERS)
    purchases = rng.integers(1, 11, size=_SIM_CUSTOMERS)
    observed = np.array(
        [rng.gamma(p, m / p, size=k).mean() for m, k in zip(true_mean, purchases, strict=True)]
    )
    return pd.DataFrame({"x": purchases, "observed": observed, "true": true_mean})


def _big_once() -> pd.DataFrame:
    sim = _spend_simulation()
    return sim[(sim["x"] == 1) & (sim["observed"] > _BIG)]


@exercise(
    "spend_sim_big_spenders",
    hints=[
        "The simulation knows each customer's true mean spend (column `true`), which a "
        "real summary never does. Average it over the customers the question names.",
        "Keep the rows of `spend_sim` with x == 1 and observed > 60, then take the mean of "
        "their `true` column.",
        'big_once = spend_sim[(spend_sim["x"] == 1) & (spend_sim["observed"] > 60)]; '
        'answer = big_once["true"].mean()',
    ],
    right=lambda: [float(_big_once()["true"].mean()), round(float(_big_once()["true"].mean()), 2)],
    wrong=lambda: [
        (float(_big_once()["observed"].mean()), "spent"),
        (float(_spend_simulation()["true"].mean()), "every simulated"),
        (
            float(_spend_simulation().loc[_spend_simulation()["x"] == 1, "true"].mean()),
            "above $60",
        ),
    ],
)
def _big_spenders(answer: Any) -> Feedback | None:
    """Mean true spend of simulated one-purchase customers who spent over $60 (dollars, 2 dp)."""
    sim = _spend_simulation()
    big = _big_once()
    expected = float(big["true"].mean())
    return number(
        answer,
        expected,
        decimals=2,
        correct=(
            f"${expected:.2f}, well below the ${big['observed'].mean():.2f} they spent: one big "
            "purchase is partly luck."
        ),
        mistakes=[
            (
                float(big["observed"].mean()),
                "that is what they spent; the question asks for their true mean spend.",
            ),
            (float(sim["true"].mean()), "that is every simulated customer; keep x == 1 and > $60."),
            (
                float(sim.loc[sim["x"] == 1, "true"].mean()),
                "that is every one-purchase customer; keep those who spent above $60.",
            ),
        ],
    )


# ----------------------------------------------------------------------------- exercise 2


def _weights(x: np.ndarray, q_shift: float = 1.0) -> np.ndarray:
    p, q, _ = _params()
    return p * x / (p * x + q - q_shift)


_X = np.arange(1, 11, dtype=float)


@exercise(
    "spend_shrinkage_weights",
    hints=[
        "The weight on a customer's own average grows with the number of purchases it "
        "rests on; it is the factor in front of m_x in the shrinkage formula.",
        "w_x = p x / (p x + q - 1), with p, q from spend.params and x = 1, 2, ..., 10 "
        "(np.arange(1, 11)).",
        "x_values = np.arange(1, 11); answer = p * x_values / (p * x_values + q - 1)",
    ],
    right=lambda: [_weights(_X), np.round(_weights(_X), 3)],
    wrong=lambda: [
        (1 - _weights(_X), "population mean"),
        (_weights(_X - 1), "x = 1"),
        (_weights(_X, q_shift=0.0), "q - 1"),
        (_weights(_X)[:1], "10 weights"),
    ],
    scalar=False,
)
def _shrinkage_weights(answer: Any) -> Feedback | None:
    """Gamma–Gamma weights w_x = p x / (p x + q - 1) on the own average, x = 1 ... 10."""
    values = _as_values(answer, _X.size, "weights (x = 1 to 10)")
    if isinstance(values, Feedback):
        return values
    expected = _weights(_X)
    if np.max(np.abs(values - expected)) < 5e-4:
        return Feedback.correct(f"from {expected[0]:.3f} at x = 1 to {expected[-1]:.3f} at x = 10.")
    if np.max(np.abs(values - (1 - expected))) < 5e-4:
        return Feedback.wrong(
            "those are the weights on the population mean, 1 - w_x; the question asks for "
            "the weight on her own average."
        )
    if np.max(np.abs(values - _weights(_X - 1))) < 5e-4:
        return Feedback.wrong("these start at x = 0; the ten values are for x = 1 to 10.")
    if np.max(np.abs(values - _weights(_X, q_shift=0.0))) < 5e-4:
        return Feedback.wrong("check the denominator: p x + q - 1, not p x + q.")
    return None


# ----------------------------------------------------------------------------- exercise 3


def _ninety() -> int:
    p, q, _ = _params()
    return int(np.ceil(9 * (q - 1) / p))


@exercise(
    "spend_weight_ninety",
    hints=[
        "Write w_x >= 0.9 with the formula and solve for x; the answer is a number of "
        "purchases, so a whole number.",
        "p x / (p x + q - 1) >= 0.9 gives p x >= 9 (q - 1); round the bound up.",
        "answer = int(np.ceil(9 * (q - 1) / p))",
    ],
    right=lambda: [_ninety()],
    wrong=lambda: [
        (_ninety() - 1, "still"),
        (9 * (_params()[1] - 1) / _params()[0], "whole number"),
        (0.9, "number of purchases"),
    ],
)
def _weight_ninety(answer: Any) -> Feedback | None:
    """Smallest x whose Gamma–Gamma weight on the own average is at least 0.9."""
    p, q, _ = _params()
    expected = _ninety()
    bound = 9 * (q - 1) / p
    if isinstance(answer, float) and abs(answer - bound) < 5e-3 and abs(bound - expected) > 1e-9:
        return Feedback.wrong(
            f"{bound:.2f} is the exact bound; a customer makes a whole number of purchases, "
            "so round it up."
        )
    return number(
        answer,
        expected,
        decimals=0,
        sign=False,
        correct=(
            f"x = {expected}: from {expected} repeat purchases on, her own average carries "
            f"{_weights(np.array([float(expected)]))[0]:.1%} of the weight."
        ),
        mistakes=[
            (
                expected - 1,
                f"at x = {expected - 1} the weight is still "
                f"{_weights(np.array([expected - 1.0]))[0]:.3f}, below 0.9.",
            ),
            (0.9, "0.9 is the weight; the question asks for the number of purchases."),
        ],
    )


# ----------------------------------------------------------------------------- exercise 4


def _fitted_buyers() -> pd.DataFrame:
    data = _cdnow()[0]
    return data[(data["x"] > 0) & (data["monetary"] > 0)]


def _spend_parts() -> tuple[np.ndarray, np.ndarray, float]:
    p, q, gamma = _params()
    buyers = _fitted_buyers()
    x, own = buyers["x"].to_numpy(float), buyers["monetary"].to_numpy(float)
    return p * x / (p * x + q - 1), own, p * gamma / (q - 1)


def _expected_spend() -> np.ndarray:
    buyers = _fitted_buyers()
    return np.asarray(_cdnow()[2].conditional_expected_spend(buyers["x"], buyers["monetary"]))


@exercise(
    "spend_conditional_formula",
    hints=[
        "Each customer's expected spend is a weighted average of two numbers: the "
        "population's mean spend and her own average.",
        "Population mean p γ / (q - 1); own average in `monetary`; weight w_x on the own "
        "average as in exercise 2, with each customer's own x.",
        'fitted = buyers[~zero_spend]; weight = p * fitted["x"] / (p * fitted["x"] + q - 1); '
        'answer = (1 - weight) * p * gamma / (q - 1) + weight * fitted["monetary"]',
    ],
    right=lambda: [_expected_spend(), np.round(_expected_spend(), 2)],
    wrong=lambda: [
        (_spend_parts()[1], "own average"),
        (np.full(_spend_parts()[1].size, _spend_parts()[2]), "population mean"),
        (
            _spend_parts()[0] * _spend_parts()[2] + (1 - _spend_parts()[0]) * _spend_parts()[1],
            "swapped",
        ),
    ],
    scalar=False,
)
def _conditional_formula(answer: Any) -> Feedback | None:
    """E[Z | x, m_x] from the shrinkage formula, one value per repeat buyer of the fit."""
    expected = _expected_spend()
    values = _as_values(answer, expected.size, "expected spends (one per fitted repeat buyer)")
    if isinstance(values, Feedback):
        return values
    weight, own, population = _spend_parts()
    if np.max(np.abs(values - expected)) < 5e-3:
        return Feedback.correct(
            f"your formula matches spend.conditional_expected_spend for all {expected.size:,} "
            "repeat buyers."
        )
    if np.max(np.abs(values - own)) < 5e-3:
        return Feedback.wrong("that is each customer's own average, unshrunk; mix in the mean.")
    if np.max(np.abs(values - population)) < 5e-3:
        return Feedback.wrong("that is the population mean for everyone; mix in her own average.")
    if np.max(np.abs(values - (weight * population + (1 - weight) * own))) < 5e-3:
        return Feedback.wrong(
            "the weights are swapped: w_x goes with her own average, 1 - w_x with the mean."
        )
    return None


# ----------------------------------------------------------------------------- exercise 5


def _value(
    purchase_model: Any, spend_model: Any, data: pd.DataFrame, months: int, **options: Any
) -> Any:
    # The notebook's customer_value: months, discounted monthly at 10% a year.
    return cl.targeting.expected_customer_value(
        purchase_model,
        spend_model,
        data,
        horizon=(months, "M"),
        period_length="M",
        discount=(_ANNUAL_DISCOUNT, "Y"),
        margin=_MARGIN,
        **options,
    )


def _total_value(months: int) -> float:
    data, bgnbd, spend = _cdnow()
    return float(_value(bgnbd, spend, data, months).sum())


@cache
def _first_year_share() -> float:
    return _total_value(_MONTHS) / _total_value(120)


@exercise(
    "spend_first_year_share",
    hints=[
        "A share: the part (the first 12 months) over the whole (the first 120 months), "
        "both summed over every customer.",
        "customer_value(bgnbd, spend, months=...) gives one value per customer; sum it for "
        "months=12 and for months=120 and divide.",
        "answer = customer_value(bgnbd, spend, months=12).sum() / "
        "customer_value(bgnbd, spend, months=120).sum()",
    ],
    right=lambda: [_first_year_share(), round(_first_year_share(), 3)],
    wrong=lambda: [
        (100 * _first_year_share(), "percentage"),
        (1 / _first_year_share(), "whole over the part"),
        (_total_value(_MONTHS) / _total_value(10), "120 months"),
    ],
)
def _first_year(answer: Any) -> Feedback | None:
    """Share of the customer base's 10-year value earned in the first 12 months (3 decimals)."""
    expected = _first_year_share()
    return number(
        answer,
        expected,
        decimals=3,
        fraction=True,
        correct=(
            f"{expected:.3f}: the first year holds {expected:.0%} of the 10-year value, so a "
            "one-year figure is far from a lifetime value."
        ),
        mistakes=[
            (1 / expected, "that is the whole over the part; divide the part by the whole."),
            (
                _total_value(_MONTHS) / _total_value(10),
                "the horizon counts months: 10 years is 120 months, not 10.",
            ),
        ],
    )


# ----------------------------------------------------------------------------- exercise 6


@cache
def _interval_ends() -> dict[str, np.ndarray]:
    # The notebook's interval: 100 draws of each model's parameters, seed 8.
    data, bgnbd, spend = _cdnow()
    table = _value(bgnbd, spend, data, _MONTHS, interval=0.9, draws=_DRAWS, seed=_DRAW_SEED)
    low, point, high = (table[column].to_numpy() for column in ("lower", "estimate", "upper"))
    return {"low": low, "value": point, "high": high}


def _count(column: str) -> int:
    return int((_interval_ends()[column] > _CATALOGUE).sum())


@exercise(
    "spend_sure_to_pay",
    hints=[
        "'For sure' here means: even the pessimistic end of the customer's interval covers the $3.",
        "Compare the column value_low of `results` with 3 and count the customers above.",
        'answer = int((results["value_low"] > 3).sum())',
    ],
    right=lambda: [_count("low")],
    wrong=lambda: [
        (_count("value"), "point estimate"),
        (_count("high"), "upper end"),
        (len(_cdnow()[0]) - _count("low"), "below"),
    ],
)
def _sure_to_pay(answer: Any) -> Feedback | None:
    """Customers whose 5% lower bound of one-year expected margin exceeds the $3 catalogue."""
    expected = _count("low")
    return number(
        answer,
        expected,
        decimals=0,
        sign=False,
        correct=(
            f"{expected:,} customers; on the point estimate {_count('value'):,} would be mailed."
        ),
        mistakes=[
            (_count("value"), "that counts the point estimate; 'for sure' uses the lower end."),
            (_count("high"), "that uses the upper end of the interval; 'for sure' uses the lower."),
            (
                len(_cdnow()[0]) - _count("low"),
                "those are the customers below the threshold; count those above it.",
            ),
        ],
    )


# ----------------------------------------------------------------------------- exercise 7

_GONE = 0.3


@cache
def _alive_ends() -> dict[str, np.ndarray]:
    # The notebook's P(alive) interval: 100 draws of the BG/NBD's parameters, seed 8.
    data, bgnbd, _ = _cdnow()
    table = bgnbd.p_alive(
        data["x"], data["t_x"], data["T"], interval=0.9, draws=_DRAWS, seed=_DRAW_SEED
    )
    return {column: table[column].to_numpy() for column in ("estimate", "lower", "upper")}


def _gone_counts() -> tuple[int, int, int]:
    """Customers below the threshold: by the estimate, also at the upper end, also at the lower."""
    ends = _alive_ends()
    probably = ends["estimate"] < _GONE
    return (
        int(probably.sum()),
        int((probably & (ends["upper"] < _GONE)).sum()),
        int((probably & (ends["lower"] < _GONE)).sum()),
    )


def _gone_share() -> float:
    probably, sure, _ = _gone_counts()
    return sure / probably


@exercise(
    "spend_gone_for_sure",
    hints=[
        "'Gone for sure' means that even the optimistic end of her interval is below 0.3; "
        "the share is taken among the customers whose estimate is below 0.3.",
        "Keep the rows of `results` with p_alive below 0.3, then take the share of them "
        "whose p_alive_high is below 0.3 too.",
        'probably_gone = results["p_alive"] < 0.3; '
        'answer = (results.loc[probably_gone, "p_alive_high"] < 0.3).mean()',
    ],
    right=lambda: [_gone_share(), round(_gone_share(), 3)],
    wrong=lambda: [
        (_gone_counts()[1], "count"),
        (_gone_counts()[1] / len(_cdnow()[0]), "every customer"),
        (_gone_counts()[2] / _gone_counts()[0], "lower end"),
        (100 * _gone_share(), "percentage"),
    ],
)
def _gone_for_sure(answer: Any) -> Feedback | None:
    """Share of the customers with P(alive) below 0.3 whose 95th percentile is below 0.3 too
    (BG/NBD on CDNOW, 100 draws, seed 8; three decimals)."""
    probably, sure, lower = _gone_counts()
    expected = sure / probably
    return number(
        answer,
        expected,
        decimals=3,
        fraction=True,
        correct=(
            f"{expected:.3f}: {sure:,} of the {probably:,} customers below 0.3 stay below it "
            "at the optimistic end of their interval."
        ),
        mistakes=[
            (sure, "that is a count; the question asks for a share of the customers below 0.3."),
            (
                sure / len(_cdnow()[0]),
                "that divides by every customer; divide by those whose estimate is below 0.3.",
            ),
            (
                lower / probably,
                "that uses the lower end; 'for sure' needs the optimistic one, p_alive_high.",
            ),
        ],
    )
