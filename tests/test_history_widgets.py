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


@pytest.mark.parametrize("lang", history.languages())
def test_labels_headings_and_themes_follow_the_language(lang):
    w = cl.widgets.timeline_explorer()
    w.controls["lang"].value = lang
    names = history.themes(lang)["name"].tolist()
    labels = [label for label, _ in w.controls["theme"].options]
    assert labels[1:] == [history.bidi_isolate(n) if lang == "fa" else n for n in names]
    assert w.controls["theme"].value == "all"
    expected = {"en": "Years", "fr": "Années", "de": "Jahre", "fa": "سال‌ها"}[lang]
    assert w.controls["years"].description == expected
    heading = w.children[0].value
    assert f'dir="{history.text_direction(lang)}"' in heading
    title = {"en": "history of CRM", "fr": "histoire du CRM", "de": "Geschichte", "fa": "تاریخچه"}
    assert title[lang] in heading
    # A theme chosen in one language stays chosen in the next.
    w.controls["theme"].value = "regulation"
    w.controls["lang"].value = "en" if lang != "en" else "de"
    assert w.controls["theme"].value == "regulation"
    assert set(w.result["theme"]) == {"regulation"}


def test_phases_explorer_labels_follow_the_language():
    w = cl.widgets.phases_explorer()
    assert w.controls["section"].label.startswith("The four phases")
    w.controls["lang"].value = "fa"
    assert w.controls["section"].label.startswith("چهار مرحله")
    assert w.controls["section"].description == "نمایش"
    assert "list-style-type:persian" in w.readout.value


def test_persian_citations_sit_in_a_left_to_right_block():
    w = cl.widgets.timeline_explorer(lang="fa", start=1954, end=1954)
    readout = w.readout.value
    assert readout.startswith('<div class="crmlab-history" dir="rtl" lang="fa"')
    block = readout[readout.index('<small class="crmlab-source"') :]
    assert block.startswith('<small class="crmlab-source" dir="ltr" lang="en"')
    assert html.escape(history.cite("drucker1954")) in block


def test_a_formula_in_persian_is_isolated_left_to_right():
    w = cl.widgets.timeline_explorer(lang="fa", start=2003, end=2003)
    assert "\u2066CLV = m·r/(1+d−r)\u2069" in w.readout.value
    # The year is written in Persian digits in Persian.
    assert "<b>۲۰۰۳ ·" in w.readout.value
