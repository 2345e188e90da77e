"""Widgets redraw only what moves; the picture must be the one a full redraw gives."""

from __future__ import annotations

import io

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
from PIL import Image

from crmlab import widgets
from crmlab.widgets._base import animated_artists, figure_png


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)), dtype=int)


def full_redraw(widget) -> np.ndarray:
    """The widget's figure drawn from scratch, every artist included."""
    for artist in animated_artists(widget._figure):
        artist.set_animated(False)
    return pixels(figure_png(widget._figure))


MOVES = [
    (widgets.firm_simulator, [("customer_retention", 0.95), ("product_retention", 0.3)]),
    # The horizon changes the year axis, which is part of the still background.
    (widgets.firm_simulator, [("customer_retention", 0.7), ("horizon", 20), ("margin", 900)]),
    (widgets.cohort_explorer, [("cohort", "1997-02"), ("cohort", "all cohorts")]),
    # The period unit changes the heat map and the curves themselves.
    (widgets.cohort_explorer, [("cohort", "1997-03"), ("period", "Q"), ("period", "M")]),
]


@pytest.mark.parametrize(("build", "moves"), MOVES)
def test_partial_redraws_show_what_a_full_redraw_shows(build, moves):
    widget = build()
    for name, value in moves:
        widget.controls[name].value = value
    assert widget.error is None
    shown = pixels(widget.image.value)
    expected = full_redraw(widget)
    assert shown.shape == expected.shape
    # Anti-aliasing at the clipped end of a marker line may differ by a few pixels.
    assert (np.abs(shown - expected).sum(axis=-1) > 0).mean() < 1e-3


def count_full_draws(widget) -> list[int]:
    canvas = widget._figure.canvas
    calls = [0]
    draw = canvas.draw

    def counting_draw(*args, **kwargs):
        calls[0] += 1
        return draw(*args, **kwargs)

    canvas.draw = counting_draw
    return calls


def test_the_background_is_painted_again_only_when_it_changes():
    widget = widgets.firm_simulator()
    calls = count_full_draws(widget)
    for value in (0.7, 0.8, 0.9):
        widget.controls["customer_retention"].value = value
    assert calls[0] == 0
    widget.controls["horizon"].value = 25
    assert calls[0] == 1

    cohorts = widgets.cohort_explorer()
    calls = count_full_draws(cohorts)
    for value in ("1997-01", "1997-02", "all cohorts"):
        cohorts.controls["cohort"].value = value
    assert calls[0] == 0
    cohorts.controls["period"].value = "Q"
    assert calls[0] == 1


def test_a_plain_png_of_the_figure_includes_the_moving_artists():
    widget = widgets.firm_simulator()
    widget.controls["customer_retention"].value = 0.95
    plain = pixels(figure_png(widget._figure))
    shown = pixels(widget.image.value)
    assert (np.abs(plain - shown).sum(axis=-1) > 0).mean() < 1e-3
