"""The BG/BB explorer, headless: its numbers are the model's, every slider extreme is
shown without a traceback, the history stays possible, and partial redraws are faithful."""

from __future__ import annotations

import io
import math
import re

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("ipywidgets")
from PIL import Image

from crmlab import widgets
from crmlab.models import BGBB
from crmlab.widgets._base import animated_artists, figure_png
from crmlab.widgets.bgbb import p_alive_map, valid_history

PUBLISHED = {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}


def shown(widget, css_class: str) -> float:
    match = re.search(rf'class="{re.escape(css_class)}" data-value="([^"]+)"', widget.readout.value)
    assert match, f"{css_class} not in readout: {widget.readout.value[:300]}"
    return float(match.group(1))


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)), dtype=int)


def possible(w) -> bool:
    x, t_x, n = (w.controls[k].value for k in ("x", "t_x", "n"))
    return 0 <= x <= t_x <= n and (x == 0) == (t_x == 0)


def test_the_default_donor_shows_the_fitted_models_numbers():
    w = widgets.bgbb_explorer()
    model = w.model
    assert {k: round(v, 3) for k, v in model.params.items()} == PUBLISHED
    assert shown(w, "crmlab-bgbb-p-alive") == pytest.approx(model.p_alive(3, 4, 6))
    assert shown(w, "crmlab-bgbb-expected") == pytest.approx(
        model.conditional_expected_purchases(5, 3, 4, 6)
    )
    assert shown(w, "crmlab-bgbb-dert") == pytest.approx(
        model.discounted_expected_residual_transactions(0.1, 3, 4, 6)
    )
    one_row = pd.DataFrame({"x": [3], "t_x": [4], "n": [6]})
    assert shown(w, "crmlab-bgbb-likelihood") == pytest.approx(
        math.exp(model.log_likelihood(one_row))
    )
    # The readout writes P(alive) as its formula: alive-through-n term / likelihood.
    assert w.result["alive_term"] / w.result["likelihood"] == pytest.approx(w.result["p_alive"])
    assert w.image.value[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_donor_who_gave_every_year_reproduces_the_papers_model():
    w = widgets.bgbb_explorer(BGBB().set_params(**PUBLISHED), x=6, t_x=6, n=6)
    assert round(shown(w, "crmlab-bgbb-expected"), 2) == 3.75
    assert round(shown(w, "crmlab-bgbb-dert"), 2) == 5.91


def test_an_impossible_starting_history_is_moved_to_a_possible_one():
    w = widgets.bgbb_explorer(x=5, t_x=2, n=6)
    assert (w.controls["x"].value, w.controls["t_x"].value) == (2, 2)
    assert w.error is None


@pytest.mark.parametrize("name", ["n", "t_x", "x", "horizon", "discount"])
def test_every_slider_extreme_is_shown_without_a_traceback(name):
    w = widgets.bgbb_explorer()
    control = w.controls[name]
    for value in (control.min, control.max, control.min):
        control.value = value
        assert w.error is None, w.error
        assert possible(w)
        assert 0 <= w.result["p_alive"] <= 1
        assert np.isfinite(w.result["expected"]) and w.result["expected"] >= 0
        assert w.image.value[:4] == b"\x89PNG"


def test_no_discount_gives_an_infinite_dert_and_says_why():
    w = widgets.bgbb_explorer()
    w.controls["discount"].value = 0.0
    assert math.isinf(shown(w, "crmlab-bgbb-dert"))
    assert "infinite" in w.readout.value and "∞" in w.readout.value


def test_extreme_parameters_and_the_longest_history_stay_finite():
    model = BGBB().set_params(alpha=1e-3, beta=1e3, gamma=1e3, delta=1e-3)
    w = widgets.bgbb_explorer(model, x=0, t_x=0, n=20, horizon=30)
    assert w.error is None and np.isfinite(w.result["p_alive"])
    w.controls["x"].value = 20
    assert w.error is None and possible(w) and w.controls["t_x"].value == 20
    assert np.isfinite(w.result["dert"])


def test_random_moves_keep_every_history_possible():
    rng = np.random.default_rng(7)
    w = widgets.bgbb_explorer()
    for _ in range(150):
        name = rng.choice(["n", "t_x", "x"])
        control = w.controls[name]
        control.value = int(rng.integers(control.min, control.max + 1))
        assert possible(w), w.values()
        assert w.error is None
        assert w.result["p_alive"] == pytest.approx(
            w.model.p_alive(w.result["x"], w.result["t_x"], w.result["n"])
        )


def test_the_history_slider_that_moved_wins():
    w = widgets.bgbb_explorer(x=3, t_x=4, n=6)
    w.controls["t_x"].value = 2  # fewer opportunities than transactions: x gives way
    assert (w.controls["x"].value, w.controls["t_x"].value) == (2, 2)
    w.controls["x"].value = 5  # more transactions than opportunities so far: t_x follows
    assert (w.controls["x"].value, w.controls["t_x"].value) == (5, 5)
    w.controls["n"].value = 3  # a shorter past pulls both down
    assert (w.controls["x"].value, w.controls["t_x"].value, w.controls["n"].value) == (3, 3, 3)
    w.controls["x"].value = 0  # no transaction: no last transaction either
    assert w.controls["t_x"].value == 0


def test_the_map_marks_impossible_histories_and_holds_the_models_p_alive():
    model = BGBB().set_params(**PUBLISHED)
    grid = p_alive_map(model, 6)
    for x in range(7):
        for t_x in range(7):
            if x <= t_x and (x == 0) == (t_x == 0):
                assert grid[x, t_x] == pytest.approx(model.p_alive(x, t_x, 6))
            else:
                assert np.isnan(grid[x, t_x])
    assert valid_history(0, 3, 6) == (1, 3)


def full_redraw(widget) -> np.ndarray:
    for artist in animated_artists(widget._figure):
        artist.set_animated(False)
    return pixels(figure_png(widget._figure))


@pytest.mark.parametrize(
    "moves",
    [
        [("x", 1), ("t_x", 6), ("discount", 0.3)],
        [("n", 11), ("x", 9), ("horizon", 20), ("discount", 0.0)],
    ],
)
def test_partial_redraws_show_what_a_full_redraw_shows(moves):
    w = widgets.bgbb_explorer()
    for name, value in moves:
        w.controls[name].value = value
    shown_pixels = pixels(w.image.value)
    expected = full_redraw(w)
    assert shown_pixels.shape == expected.shape
    assert (np.abs(shown_pixels - expected).sum(axis=-1) > 0).mean() < 1e-3


def test_the_background_is_painted_again_only_when_n_or_the_horizon_change():
    w = widgets.bgbb_explorer()
    canvas = w._figure.canvas
    calls = [0]
    draw = canvas.draw

    def counting_draw(*args, **kwargs):
        calls[0] += 1
        return draw(*args, **kwargs)

    canvas.draw = counting_draw
    for name, value in (("x", 2), ("t_x", 5), ("discount", 0.2)):
        w.controls[name].value = value
    assert calls[0] == 0
    w.controls["n"].value = 8
    assert calls[0] == 1
    w.controls["horizon"].value = 9
    assert calls[0] == 2
