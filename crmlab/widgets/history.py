"""Widgets for the history of CRM: a timeline and an explorer of phases and principles.

The texts come from :mod:`crmlab.history`; Persian is shown right to left.
"""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

import ipywidgets as widgets

from crmlab import history
from crmlab.widgets._base import Dashboard

__all__ = ["PhasesExplorer", "TimelineExplorer", "phases_explorer", "timeline_explorer"]

_LANGUAGE_NAMES = {"en": "English", "fr": "Français", "de": "Deutsch", "fa": "فارسی"}
_EMPTY = {
    "en": "No event in this range: widen the years or choose another theme.",
    "fr": "Aucun événement sur cette période : élargissez les années ou changez de thème.",
    "de": "Kein Ereignis in diesem Zeitraum: Jahre erweitern oder anderes Thema wählen.",
    "fa": "رویدادی در این بازه نیست: بازهٔ سال‌ها را گسترده‌تر کنید یا موضوع دیگری برگزینید.",
}


def _language_dropdown(lang: str) -> widgets.Dropdown:
    return widgets.Dropdown(
        options=[(name, code) for code, name in _LANGUAGE_NAMES.items()],
        value=lang,
        description="Language",
    )


def _wrap(lang: str, body: str) -> str:
    direction = history.text_direction(lang)
    align = "right" if direction == "rtl" else "left"
    return (
        f'<div class="crmlab-history" dir="{direction}" lang="{lang}" '
        f'style="text-align:{align}">{body}</div>'
    )


class TimelineExplorer(Dashboard):
    """Events of the CRM timeline for a range of years, a theme and a language."""

    css_class = "crmlab-timeline"
    title = "The history of CRM"

    def compute(self, years: tuple[int, int], theme: str, lang: str) -> Any:
        return history.timeline(
            lang, start=years[0], end=years[1], theme=None if theme == "all" else theme
        )

    def render(self, result: Any) -> str:
        lang = self.controls["lang"].value
        if result.empty:
            return _wrap(lang, f'<p class="crmlab-message">{html.escape(_EMPTY[lang])}</p>')
        items = []
        for event in result.itertuples():
            # A period ("early 1970s") is shown as the sources give it, in the chosen language.
            items.append(
                f'<li class="crmlab-event"><b>{html.escape(event.when)} · '
                f"{html.escape(event.title)}</b><br>{html.escape(event.description)}"
                f'<br><small class="crmlab-source">{html.escape(event.source)}</small></li>'
            )
        return _wrap(lang, f"<ul>{''.join(items)}</ul>")


def timeline_explorer(
    lang: str = "en", start: int = 1950, end: int | None = None, theme: str = "all"
) -> TimelineExplorer:
    """An interactive timeline of CRM from the 1950s to today.

    Parameters
    ----------
    lang : {"en", "fr", "de", "fa"}
        Starting language.
    start, end : int
        Starting range of years (``end`` defaults to this year).
    theme : str
        ``"all"`` or one of :data:`crmlab.history.THEMES`.

    Examples
    --------
    >>> w = timeline_explorer(lang="fa", start=2015)
    >>> 'dir="rtl"' in w.readout.value, len(w.result)
    (True, 2)
    """
    history.text_direction(lang)  # refuses an unknown language before building anything
    last = end if end is not None else dt.date.today().year
    controls = {
        "years": widgets.IntRangeSlider(
            value=(start, last),
            min=1950,
            max=max(last, dt.date.today().year),
            description="Years",
            continuous_update=False,
        ),
        "theme": widgets.Dropdown(
            options=["all", *history.THEMES], value=theme, description="Theme"
        ),
        "lang": _language_dropdown(lang),
    }
    return TimelineExplorer(controls, plot=False)


_SECTIONS = {
    "phases": "The four phases of CRM",
    "principles": "The three founding principles",
    "perspectives": "Ten perspectives behind modern CRM",
    "ecrm": "The components of e-CRM",
}


class PhasesExplorer(Dashboard):
    """Phases, principles, perspectives and e-CRM components, one at a time."""

    css_class = "crmlab-phases"
    title = "Phases, principles and perspectives of CRM"

    def compute(self, section: str, lang: str) -> Any:
        if section == "phases":
            return history.phases(lang)
        if section == "principles":
            return history.principles(lang)
        if section == "perspectives":
            return history.perspectives(lang)
        return history.ecrm_components(lang)

    def render(self, result: Any) -> str:
        lang = self.controls["lang"].value
        rows = []
        for entry in result.to_dict("records"):
            if "text" in entry:
                rows.append(f"<li>{html.escape(entry['text'])}</li>")
                continue
            examples = entry.get("examples")
            extra = f"<br><i>{html.escape(examples)}</i>" if examples else ""
            rows.append(
                f"<li><b>{html.escape(entry['name'])}</b>: "
                f"{html.escape(entry['explanation'])}{extra}</li>"
            )
        source = html.escape(result["source"].iloc[0])
        return _wrap(lang, f'<ol>{"".join(rows)}</ol><small class="crmlab-source">{source}</small>')


def phases_explorer(section: str = "phases", lang: str = "en") -> PhasesExplorer:
    """Browse the phases, principles, perspectives and e-CRM components in four languages.

    >>> w = phases_explorer("principles", lang="de")
    >>> "Bestehende Kunden schützen" in w.readout.value
    True
    """
    history.text_direction(lang)
    controls = {
        "section": widgets.Dropdown(
            options=[(label, key) for key, label in _SECTIONS.items()],
            value=section,
            description="Show",
        ),
        "lang": _language_dropdown(lang),
    }
    return PhasesExplorer(controls, plot=False)
