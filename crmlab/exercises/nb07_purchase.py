"""Checks for notebook 07, purchase models (BG/NBD and Pareto/NBD on CDNOW, 39 + 39 weeks)."""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pandas as pd

import crmlab as cl
from crmlab.exercises._core import Feedback, exercise, number

# The parameters Fader, Hardie & Lee (2005) publish, which the notebook's simulation uses.
PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
SIMULATION_SEED = 2005
SIMULATED_CUSTOMERS = 10_000
WEEKS = 39.0
SILENCE = 20.0


@cache
def _simulated() -> pd.DataFrame:
    # The same draws, in the same order, as the notebook's section 1.
    rng = np.random.default_rng(SIMULATION_SEED)
    rates = rng.gamma(PUBLISHED["r"], 1 / PUBLISHED["alpha"], size=SIMULATED_CUSTOMERS)
    dropouts = rng.beta(PUBLISHED["a"], PUBLISHED["b"], size=SIMULATED_CUSTOMERS)
    rows = []
    for rate, dropout in zip(rates, dropouts, strict=True):
        t, purchases, alive = 0.0, [], True
        while True:
            t += rng.exponential(1 / rate)
            if t > WEEKS:
                break
            purchases.append(t)
            if rng.random() < dropout:
                alive = False
                break
        rows.append((len(purchases), purchases[-1] if purchases else 0.0, WEEKS, alive))
    return pd.DataFrame(rows, columns=["x", "t_x", "T", "alive"])


@cache
def _cdnow() -> tuple[pd.DataFrame, cl.models.BGNBD, cl.models.ParetoNBD]:
    data = cl.transactions.calibration_holdout(
        cl.datasets.load_cdnow("sample"), "1997-09-30", "1998-06-30", unit="W"
    )
    return data, cl.models.BGNBD().fit(data), cl.models.ParetoNBD().fit(data)


def _history(frame: pd.DataFrame) -> tuple[np.ndarray, ...]:
    return tuple(frame[c].to_numpy(float) for c in ("x", "t_x", "T"))


def _published() -> cl.models.BGNBD:
    return cl.models.BGNBD().set_params(**PUBLISHED)


# ----------------------------------------------------------------------------- exercise 1


def _one_time_share() -> float:
    sim = _simulated()
    return float(sim.loc[sim["x"] == 0, "alive"].mean())


def _share_alive(rows: pd.DataFrame) -> float:
    return float(rows["alive"].mean())


@exercise(
    "purchase_sim_one_time_alive",
    hints=[
        "Reread rule 2 of the story: at which moments can a simulated customer leave?",
        "The answer is a share: the mean of the True/False column `alive`, over the rows "
        "of `simulated` with no repeat purchase.",
        'simulated.loc[simulated["x"] == 0, "alive"].mean()',
    ],
    right=lambda: [_one_time_share(), 1, 1.0],
    wrong=lambda: [
        (100.0, "percentage"),
        (_share_alive(_simulated()), "all customers"),
        (_share_alive(_simulated()[_simulated()["x"] > 0]), "repeat buyers"),
        (0.0, "leave"),
    ],
)
def _one_time_alive(answer: Any) -> Feedback | None:
    """Share of the simulated customers with x == 0 still active at week 39 (3 decimals)."""
    sim = _simulated()
    return number(
        answer,
        _one_time_share(),
        decimals=3,
        fraction=True,
        correct=(
            "1.000, every one of them: in this story a customer can leave only right after "
            "a repeat purchase, so one who never bought again cannot have left."
        ),
        mistakes=[
            (_share_alive(sim), "that is the share among all customers; keep only x == 0."),
            (
                _share_alive(sim[sim["x"] > 0]),
                "that is the share among repeat buyers; the question is about x == 0.",
            ),
            (
                0.0,
                "none active? Under rule 2 a customer can leave only right after a repeat "
                "purchase; what does that mean for someone who made none?",
            ),
        ],
    )


# ----------------------------------------------------------------------------- exercise 2


def _loglik_parts(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log of the 'still active' and 'left after t_x' terms at the published parameters."""
    from scipy import special

    r, alpha, a, b = PUBLISHED.values()
    common = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    active = special.betaln(a, b + x) - special.betaln(a, b) + common - (r + x) * np.log(alpha + T)
    left = special.betaln(a + 1, b + x - 1) - special.betaln(a, b) + common
    return active, left - (r + x) * np.log(alpha + t_x)


def _loglik_variants() -> dict[str, float]:
    data, _, _ = _cdnow()
    x, t_x, T = _history(data)
    active, left = _loglik_parts(x, t_x, T)
    expected = _published().log_likelihood(data)
    return {
        "expected": expected,
        "both terms for x = 0": float(np.logaddexp(active, left).sum()),
        "first term only": float(active.sum()),
        "mean": expected / len(data),
    }


@exercise(
    "purchase_loglik_published",
    hints=[
        "The log-likelihood adds, over customers, the log of a sum of two terms: "
        "'still active' and, only when x > 0, 'left right after t_x'.",
        "Compute the log of each term with special.betaln and special.gammaln, combine the "
        "two with np.logaddexp, and sum over the rows of data. Test one customer first: "
        "x = 0, t_x = 0, T = 38.86 gives -0.5547 at the published parameters.",
        "active = betaln(a, b + x) - betaln(a, b) + gammaln(r + x) - gammaln(r) "
        "+ r * log(alpha) - (r + x) * log(alpha + T); left likewise with betaln(a + 1, "
        "b + x - 1) and log(alpha + t_x), set to -inf where x == 0; "
        "answer = np.logaddexp(active, left).sum()",
    ],
    right=lambda: [_loglik_variants()["expected"], -9582.43],
    wrong=lambda: [
        (-_loglik_variants()["expected"], "sign"),
        (_loglik_variants()["both terms for x = 0"], "x == 0"),
        (_loglik_variants()["first term only"], "left after"),
        (_loglik_variants()["mean"], "sum"),
    ],
)
def _loglik(answer: Any) -> Feedback | None:
    """BG/NBD log-likelihood of CDNOW's calibration data at the published parameters (2 dp)."""
    variants = _loglik_variants()
    return number(
        answer,
        variants["expected"],
        decimals=2,
        sign=False,
        correct=(
            f"{variants['expected']:.2f}, the paper's -9582.43: your function is the BG/NBD "
            "likelihood."
        ),
        mistakes=[
            (
                -variants["expected"],
                "check the sign: the log of probabilities below 1 is negative.",
            ),
            (
                variants["both terms for x = 0"],
                "customers with x == 0 got the second term too; for them it is absent "
                "(δ = 0: no repeat purchase, no coin toss).",
            ),
            (
                variants["first term only"],
                "you kept only the 'still active' term; add the 'left after t_x' term for x > 0.",
            ),
            (variants["mean"], "that is the mean per customer; the log-likelihood is the sum."),
        ],
    )


# ----------------------------------------------------------------------------- exercise 3


def _as_values(answer: Any, size: int) -> np.ndarray | Feedback:
    """The answer as a float array of ``size`` values, or a Feedback saying why not."""
    if answer is None or isinstance(answer, (str, bool)):
        return Feedback.wrong(
            f"give an array (or Series) of {size:,} probabilities, one per customer."
        )
    try:
        values = np.asarray(answer, dtype=float).ravel()
    except (TypeError, ValueError):
        return Feedback.wrong(
            f"this {type(answer).__name__} is not an array of numbers; give {size:,} "
            "probabilities, one per customer."
        )
    if values.size != size:
        return Feedback.wrong(
            f"expected {size:,} values, one per customer in the order of the rows; got "
            f"{values.size:,}."
        )
    if not np.isfinite(values).all():
        return Feedback.wrong(
            f"{int((~np.isfinite(values)).sum()):,} value(s) are NaN or infinite; which "
            "customers are they (look at their x)?"
        )
    return values


def _p_alive_expected() -> np.ndarray:
    data, bgnbd, _ = _cdnow()
    return np.asarray(bgnbd.p_alive(*_history(data)))


def _p_alive_without_delta() -> np.ndarray:
    data, bgnbd, _ = _cdnow()
    r, alpha, a, b = bgnbd.params.values()
    x, t_x, T = _history(data)
    with np.errstate(divide="ignore", invalid="ignore"):
        odds = a / np.maximum(b + x - 1, 1e-12) * ((alpha + T) / (alpha + t_x)) ** (r + x)
    return 1 / (1 + odds)


def _p_alive_exponent_r() -> np.ndarray:
    data, bgnbd, _ = _cdnow()
    r, alpha, a, b = bgnbd.params.values()
    x, t_x, T = _history(data)
    odds = np.where(x > 0, a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** r, 0.0)
    return 1 / (1 + odds)


@exercise(
    "purchase_p_alive_formula",
    hints=[
        "P(alive) is 1 / (1 + odds), and the odds of 'left right after the last purchase' "
        "exist only for customers who made a repeat purchase.",
        "odds = a / (b + x - 1) · ((α + T) / (α + t_x))^(r + x) where x > 0, and 0 where "
        "x == 0; the parameters are in bgnbd.params.",
        "odds = np.where(x > 0, a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x), 0); "
        "answer = 1 / (1 + odds)",
    ],
    right=lambda: [_p_alive_expected(), np.round(_p_alive_expected(), 4)],
    wrong=lambda: [
        (1 - _p_alive_expected(), "left"),
        (_p_alive_without_delta(), "x == 0"),
        (_p_alive_exponent_r(), "exponent"),
        (_p_alive_expected()[:1], "one probability per customer"),
        (None, "return"),
    ],
    scalar=False,
)
def _p_alive(answer: Any) -> Feedback | None:
    """BG/NBD P(alive) from its formula, one value per CDNOW customer, with the fitted model."""
    expected = _p_alive_expected()
    if answer is None:
        return Feedback.wrong(
            "the answer is None: does your function end with `return` and the probabilities?"
        )
    if np.size(answer) == 1 and not isinstance(answer, str):
        return Feedback.wrong(
            f"give one probability per customer ({expected.size:,} values), not a single number."
        )
    values = _as_values(answer, expected.size)
    if isinstance(values, Feedback):
        return values
    if np.max(np.abs(values - expected)) < 1e-3:
        return Feedback.correct("your formula matches bgnbd.p_alive for every customer (to 0.001).")
    if np.max(np.abs(values - (1 - expected))) < 1e-3:
        return Feedback.wrong("that is the probability of having left; P(alive) is 1 minus it.")
    x = _history(_cdnow()[0])[0]
    if np.max(np.abs(values - expected)[x > 0]) < 1e-3:
        return Feedback.wrong(
            "right for the repeat buyers, not for x == 0: there δ = 0, so the odds term vanishes."
        )
    if np.max(np.abs(values - _p_alive_exponent_r())) < 1e-3:
        return Feedback.wrong(
            "check the exponent of the ratio: it is r + x, so that frequent buyers' silence "
            "weighs more."
        )
    return None


# ----------------------------------------------------------------------------- exercise 4


def _silent(sim: pd.DataFrame) -> pd.DataFrame:
    return sim[(sim["x"] > 0) & (sim["T"] - sim["t_x"] > SILENCE)]


def _mean_p_alive(rows: pd.DataFrame) -> float:
    return float(np.mean(_published().p_alive(*_history(rows))))


@exercise(
    "purchase_p_alive_vs_simulation",
    hints=[
        "The model never sees `alive`: it predicts from x, t_x and T alone. Average its "
        "predictions over the same customers.",
        "Keep the rows of `simulated` with x > 0 and T - t_x > 20, and apply your function "
        "of exercise 3 with the simulation's r, alpha, a, b.",
        'silent = simulated[(simulated["x"] > 0) & (simulated["T"] - simulated["t_x"] > 20)]; '
        'answer = p_alive_bgnbd(r, alpha, a, b, silent["x"], silent["t_x"], silent["T"]).mean()',
    ],
    right=lambda: [_mean_p_alive(_silent(_simulated())), 0.303],
    wrong=lambda: [
        (_share_alive(_silent(_simulated())), "true share"),
        (
            _mean_p_alive(_simulated()[_simulated()["T"] - _simulated()["t_x"] > SILENCE]),
            "one-time buyers",
        ),
        (_mean_p_alive(_simulated()[_simulated()["x"] > 0]), "every repeat buyer"),
        (100 * _mean_p_alive(_silent(_simulated())), "percentage"),
    ],
)
def _calibration(answer: Any) -> Feedback | None:
    """Mean BG/NBD P(alive), at the simulation's parameters, of simulated silent repeat buyers."""
    sim = _simulated()
    silent = _silent(sim)
    expected = _mean_p_alive(silent)
    return number(
        answer,
        expected,
        decimals=3,
        fraction=True,
        correct=f"{expected:.3f}; now compare it with the true share, printed below.",
        mistakes=[
            (
                _share_alive(silent),
                "that is the true share still active; the question asks for the model's "
                "mean P(alive), computed from x, t_x and T.",
            ),
            (
                _mean_p_alive(sim[sim["T"] - sim["t_x"] > SILENCE]),
                "one-time buyers slipped in (their P(alive) is 1): keep only x > 0 as well.",
            ),
            (
                _mean_p_alive(sim[sim["x"] > 0]),
                "that is every repeat buyer; keep those silent for more than 20 weeks.",
            ),
        ],
    )


# ----------------------------------------------------------------------------- exercise 5


def _lists() -> tuple[np.ndarray, np.ndarray]:
    data, bgnbd, pareto = _cdnow()
    history = _history(data)
    return (
        np.asarray(bgnbd.p_alive(*history)) < 0.5,
        np.asarray(pareto.p_alive(*history)) < 0.5,
    )


def _winback_counts() -> dict[str, int]:
    bg_list, pareto_list = _lists()
    return {
        "expected": int((pareto_list & ~bg_list).sum()),
        "pareto": int(pareto_list.sum()),
        "bg": int(bg_list.sum()),
        "both": int((pareto_list & bg_list).sum()),
        "reverse": int((bg_list & ~pareto_list).sum()),
    }


@exercise(
    "purchase_winback_difference",
    hints=[
        "Two lists, one per model; the question asks for the customers on the first list "
        "who are missing from the second.",
        "Make one True/False Series per model (P(alive) < 0.5), combine them with & "
        "(and) and ~ (not), and count the True values.",
        "bg_list = bgnbd.p_alive(*history) < 0.5; pareto_list = pareto.p_alive(*history) "
        "< 0.5; answer = int((pareto_list & ~bg_list).sum())",
    ],
    right=lambda: [_winback_counts()["expected"]],
    wrong=lambda: [
        (_winback_counts()["pareto"], "whole Pareto/NBD list"),
        (_winback_counts()["bg"], "BG/NBD's list"),
        (_winback_counts()["both"], "both"),
        (_winback_counts()["reverse"], "other way round"),
    ],
)
def _winback(answer: Any) -> Feedback | None:
    """Customers with P(alive) < 0.5 under the Pareto/NBD but not under the BG/NBD (a count)."""
    counts = _winback_counts()
    share = counts["expected"] / len(_cdnow()[0])
    if isinstance(answer, float) and abs(answer - share) <= 5e-4:
        return Feedback.wrong("that is a share; the question asks for a number of customers.")
    return number(
        answer,
        counts["expected"],
        decimals=0,
        sign=False,
        correct=f"{counts['expected']:,} customers. Who are they? Look at their x (question 2).",
        mistakes=[
            (
                counts["pareto"],
                "that is the whole Pareto/NBD list; remove those also on the BG/NBD's.",
            ),
            (counts["bg"], "that is the BG/NBD's list; the question compares the two."),
            (counts["both"], "those are on both lists; the question asks for Pareto/NBD only."),
            (counts["reverse"], "that is the other way round: on the BG/NBD's list only."),
        ],
    )


# ----------------------------------------------------------------------------- exercise 6


def _holdout_variants() -> dict[str, float]:
    data, bgnbd, pareto = _cdnow()
    observed = float(data["x_holdout"].sum())
    history = _history(data)
    t = data["duration_holdout"].to_numpy(float)
    pareto_total = float(np.sum(pareto.conditional_expected_purchases(t, *history)))
    bg_total = float(np.sum(bgnbd.conditional_expected_purchases(t, *history)))
    return {
        "expected": (pareto_total - observed) / observed,
        "bg": (bg_total - observed) / observed,
        "by forecast": (pareto_total - observed) / pareto_total,
    }


@exercise(
    "purchase_holdout_error",
    hints=[
        "A relative error compares the forecast with what happened, as a fraction of what "
        "happened.",
        "Sum the Pareto/NBD's conditional forecasts over customers (t is each customer's "
        "duration_holdout), subtract the observed total, divide by the observed total.",
        'total = pareto.conditional_expected_purchases(data["duration_holdout"], data["x"], '
        'data["t_x"], data["T"]).sum(); answer = (total - observed) / observed',
    ],
    right=lambda: [_holdout_variants()["expected"], -0.115],
    wrong=lambda: [
        (100 * _holdout_variants()["expected"], "percentage"),
        (-_holdout_variants()["expected"], "sign"),
        (_holdout_variants()["bg"], "BG/NBD"),
        (_holdout_variants()["by forecast"], "observed total"),
    ],
)
def _holdout_error(answer: Any) -> Feedback | None:
    """Relative error of the Pareto/NBD's total holdout forecast (3 decimals, a fraction)."""
    variants = _holdout_variants()
    return number(
        answer,
        variants["expected"],
        decimals=3,
        fraction=True,
        correct=(
            f"{variants['expected']:+.3f}, i.e. {variants['expected']:+.1%}: the Pareto/NBD "
            "misses about one holdout purchase in eight."
        ),
        mistakes=[
            (variants["bg"], "that is the BG/NBD's error; the question is about the Pareto/NBD."),
            (variants["by forecast"], "divide by the observed total, not by the forecast."),
        ],
    )
