"""P(X(T, T+t] = n | history) and P(alive at T + t) for the BG/NBD, MBG/NBD and Pareto/NBD."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats

from crmlab.models import BGNBD, MBGNBD, ParetoNBD

MODELS = [
    BGNBD().set_params(r=0.243, alpha=4.414, a=0.793, b=2.426),
    MBGNBD().set_params(r=0.525, alpha=6.183, a=0.891, b=1.614),
    ParetoNBD().set_params(r=0.55, alpha=10.58, s=0.61, beta=11.67),
]
HISTORIES = [(0, 0.0, 38.86), (2, 30.43, 38.86), (7, 12.0, 38.86), (25, 38.0, 38.86)]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: type(m).__name__)
@pytest.mark.parametrize("history", HISTORIES)
def test_conditional_pmf_sums_to_one_and_its_mean_is_the_conditional_expectation(model, history):
    n = np.arange(600)
    p = model.conditional_probability_of_purchases(n, 39, *history)
    assert p.sum() == pytest.approx(1.0, abs=1e-8)
    assert (n * p).sum() == pytest.approx(
        model.conditional_expected_purchases(39, *history), rel=1e-6
    )
    # no purchase: at least the share of customers already gone
    assert p[0] >= 1 - model.p_alive(*history) - 1e-12


@pytest.mark.parametrize("model", MODELS, ids=lambda m: type(m).__name__)
def test_p_alive_at_starts_at_p_alive_and_falls_with_time(model):
    history = (2, 30.43, 38.86)
    values = model.p_alive_at(np.array([0.0, 10.0, 52.0, 520.0]), *history)
    assert values[0] == pytest.approx(model.p_alive(*history), rel=1e-12)
    assert np.all(np.diff(values) < 0)


def test_bgnbd_p_alive_at_equals_the_series_over_future_purchases():
    model = MODELS[0]
    r, alpha, a, b = 0.243, 4.414, 0.793, 2.426
    x, t_x, T, t = 3, 20.0, 38.86, 26.0
    n = np.arange(2000)
    # an active customer survives the dropout chance after each of her n purchases
    counts = stats.nbinom.pmf(n, r + x, (alpha + T) / (alpha + T + t))
    survive = np.exp(special.betaln(a, b + x + n) - special.betaln(a, b + x))
    series = model.p_alive(x, t_x, T) * (counts * survive).sum()
    assert model.p_alive_at(t, x, t_x, T) == pytest.approx(series, rel=1e-5)  # quadrature


def test_pareto_nbd_probability_of_no_purchase_matches_a_simulation():
    r, alpha, s, beta = 0.55, 10.58, 0.61, 11.67
    model = ParetoNBD().set_params(r=r, alpha=alpha, s=s, beta=beta)
    rng = np.random.default_rng(12)
    size = 1_000_000
    rate = rng.gamma(r, 1 / alpha, size)
    lifetime = rng.exponential(1 / rng.gamma(s, 1 / beta, size))
    first = rng.poisson(rate * np.minimum(lifetime, 39.0))
    second = rng.poisson(rate * np.clip(lifetime - 39.0, 0, 39.0))
    last = np.minimum(lifetime, 39.0) * rng.beta(np.maximum(first, 1), 1.0)
    chosen = (first == 2) & (last > 30) & (last < 34)
    predicted = model.conditional_probability_of_purchases(0, 39, 2, last[chosen], 39.0)
    assert predicted.mean() == pytest.approx((second[chosen] == 0).mean(), abs=0.02)
    alive_later = lifetime[chosen] > 39.0 + 26.0
    assert model.p_alive_at(26.0, 2, last[chosen], 39.0).mean() == pytest.approx(
        alive_later.mean(), abs=0.02
    )


@pytest.mark.parametrize("history", HISTORIES)
def test_pareto_nbd_dert_is_the_discounted_integral_and_the_papers_formula(history):
    from scipy import integrate

    r, alpha, s, beta = 0.55, 10.58, 0.61, 11.67
    model = MODELS[2]
    delta = np.log(1.15) / 52
    x, t_x, T = history
    dert = model.dert(delta, x, t_x, T)
    # the expected purchase rate at T + t, discounted and integrated
    rate = model.p_alive(x, t_x, T) * (r + x) / (alpha + T)
    numeric, _ = integrate.quad(
        lambda t: rate * ((beta + T) / (beta + T + t)) ** s * np.exp(-delta * t), 0, np.inf
    )
    assert dert == pytest.approx(numeric, rel=1e-7)
    # Fader, Hardie & Lee (2005, RFM and CLV, eq. 2), with the likelihood L
    likelihood = np.exp(model.log_likelihood({"x": [x], "t_x": [t_x], "T": [T]}))
    paper = (
        alpha**r
        * beta**s
        * delta ** (s - 1)
        * special.gamma(r + x + 1)
        * special.hyperu(s, s, delta * (beta + T))
        / (special.gamma(r) * (alpha + T) ** (r + x + 1) * likelihood)
    )
    assert dert == pytest.approx(paper, rel=1e-9)
