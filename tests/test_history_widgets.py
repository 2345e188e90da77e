"""Timeline and phases explorers show exactly what crmlab.history returns."""

from __future__ import annotations

import html

import pytest

import crmlab as cl
from crmlab import history


def test_timeline_shows_the_filtered_events_with_sources():
    w = cl.widgets.timeline_explorer()
    w.controls["years"].value = (1980, 1995)
    w.controls["theme"].value = "ideas"
    expected = history.timeline("en", start=1980, end=1995, theme="ideas")
    assert len(w.result) == len(expected) > 0
    for event in expected.itertuples():
        assert html.escape(event.title) in w.readout.value
        assert html.escape(event.source) in w.readout.value
    assert w.readout.value.count('class="crmlab-event"') == len(expected)


@pytest.mark.parametrize("lang", history.languages())
def test_every_language_with_its_direction(lang):
    w = cl.widgets.timeline_explorer()
    w.controls["lang"].value = lang
    assert f'dir="{history.text_direction(lang)}"' in w.readout.value
    first = history.timeline(lang)["title"].iloc[0]
    assert html.escape(first) in w.readout.value


@pytest.mark.parametrize("lang", history.languages())
def test_periods_are_dated_as_the_sources_date_them(lang):
    w = cl.widgets.timeline_explorer()
    w.controls["lang"].value = lang
    w.controls["years"].value = (1970, 1975)
    birth = history.timeline(lang, start=1970, end=1975)
    assert birth["approximate"].all()
    for event in birth.itertuples():
        assert f"<b>{html.escape(event.when)} · {html.escape(event.title)}</b>" in w.readout.value
    assert "<b>1970 ·" not in w.readout.value


def test_an_empty_range_gives_a_friendly_message_not_an_error():
    w = cl.widgets.timeline_explorer()
    w.controls["years"].value = (1950, 1950)
    assert w.error is None
    assert "No event in this range" in w.readout.value
    w.controls["years"].value = (w.controls["years"].max, w.controls["years"].max)
    assert w.error is None


@pytest.mark.parametrize("section", ["phases", "principles", "perspectives", "ecrm"])
def test_phases_explorer_shows_each_section(section):
    w = cl.widgets.phases_explorer()
    w.controls["section"].value = section
    w.controls["lang"].value = "fa"
    assert 'dir="rtl"' in w.readout.value
    expected = w.compute(section=section, lang="fa")
    column = "text" if "text" in expected.columns else "name"
    for value in expected[column]:
        assert html.escape(value) in w.readout.value


def test_unknown_language_is_refused():
    with pytest.raises(ValueError, match="available: en, fr, de, fa"):
        cl.widgets.timeline_explorer(lang="it")
