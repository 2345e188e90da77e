"""Widgets for the history of CRM: a timeline and an explorer of phases and principles.

The texts come from :mod:`crmlab.history`. Everything a widget shows follows the
chosen language: the texts, the heading, the control labels and the theme names
(:func:`crmlab.history.themes`). Persian is shown right to left, with its Latin words
and formulas isolated, and the citations sit in a left-to-right block.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping
from typing import Any

import ipywidgets as widgets

from crmlab import history
from crmlab.widgets._base import Dashboard

__all__ = ["PhasesExplorer", "TimelineExplorer", "phases_explorer", "timeline_explorer"]

_LANGUAGE_NAMES = {"en": "English", "fr": "Français", "de": "Deutsch", "fa": "فارسی"}
_NNBSP, _NBSP = "\u202f", "\u00a0"
#: The words of the interface, by language.
_UI = {
    "en": {
        "timeline_title": "The history of CRM",
        "phases_title": "Phases, principles and perspectives of CRM",
        "lang": "Language",
        "years": "Years",
        "theme": "Theme",
        "section": "Show",
        "all": "all themes",
        "empty": "No event in this range: widen the years or choose another theme.",
    },
    "fr": {
        "timeline_title": "L'histoire du CRM",
        "phases_title": "Phases, principes et perspectives du CRM",
        "lang": "Langue",
        "years": "Années",
        "theme": "Thème",
        "section": "Afficher",
        "all": "tous les thèmes",
        "empty": f"Aucun événement sur cette période{_NBSP}: élargissez les années "
        "ou changez de thème.",
    },
    "de": {
        "timeline_title": "Die Geschichte des CRM",
        "phases_title": "Phasen, Prinzipien und Perspektiven des CRM",
        "lang": "Sprache",
        "years": "Jahre",
        "theme": "Thema",
        "section": "Anzeigen",
        "all": "alle Themen",
        "empty": "Kein Ereignis in diesem Zeitraum: Jahre erweitern oder anderes Thema wählen.",
    },
    "fa": {
        "timeline_title": "تاریخچهٔ CRM",
        "phases_title": "مرحله‌ها، اصل‌ها و دیدگاه‌های CRM",
        "lang": "زبان",
        "years": "سال‌ها",
        "theme": "موضوع",
        "section": "نمایش",
        "all": "همهٔ موضوع‌ها",
        "empty": "رویدادی در این بازه نیست: بازهٔ سال‌ها را گسترده‌تر کنید یا موضوع دیگری برگزینید.",
    },
}
_SECTIONS = {
    "phases": {
        "en": "The four phases of CRM (seed text 001)",
        "fr": "Les quatre phases du CRM (texte source 001)",
        "de": "Die vier Phasen des CRM (Quelltext 001)",
        "fa": "چهار مرحلهٔ CRM (متن منبع ۰۰۱)",
    },
    "principles": {
        "en": "The three 'original' principles",
        "fr": f"Les trois principes «{_NBSP}d'origine{_NBSP}»",
        "de": "Die drei „ursprünglichen“ Prinzipien",
        "fa": "سه اصل «آغازین»",
    },
    "perspectives": {
        "en": "Ten perspectives behind modern CRM",
        "fr": "Dix perspectives à l'origine du CRM moderne",
        "de": "Zehn Perspektiven hinter dem modernen CRM",
        "fa": "ده دیدگاه در پسِ CRM امروزی",
    },
    "ecrm": {
        "en": "The components of e-CRM",
        "fr": "Les composantes de l'e-CRM",
        "de": "Die Bausteine des e-CRM",
        "fa": "اجزای e-CRM",
    },
}


def ui_text(key: str, lang: str) -> str:
    """A word of the interface in ``lang``, ready for reading (Latin words isolated).

    >>> ui_text("years", "de"), ui_text("section", "fr")
    ('Jahre', 'Afficher')
    """
    text = _UI[lang][key] if key in _UI[lang] else _SECTIONS[key][lang]
    return history.bidi_isolate(text) if history.text_direction(lang) == "rtl" else text


def _language_dropdown(lang: str) -> widgets.Dropdown:
    return widgets.Dropdown(
        options=[(name, code) for code, name in _LANGUAGE_NAMES.items()],
        value=lang,
        description=ui_text("lang", lang),
    )


def _colon(lang: str) -> str:
    return f"{_NBSP}: " if lang == "fr" else ": "


class _Localised(Dashboard):
    """A dashboard whose heading and labels follow its ``lang`` control."""

    heading_key = ""

    def relabel(self, lang: str) -> None:
        """Write the heading and the control labels in ``lang``."""
        heading = self.children[0]
        heading.value = history.block(
            lang, f"<h3>{html.escape(ui_text(self.heading_key, lang))}</h3>"
        )
        for name, control in self.controls.items():
            control.description = ui_text(name, lang)

    def follow(self, change: Mapping[str, Any]) -> None:
        if change["owner"] is self.controls["lang"]:
            self.relabel(change["new"])


class TimelineExplorer(_Localised):
    """Events of the CRM timeline for a range of years, a theme and a language."""

    css_class = "crmlab-timeline"
    title = _UI["en"]["timeline_title"]
    heading_key = "timeline_title"

    def relabel(self, lang: str) -> None:
        super().relabel(lang)
        theme = self.controls["theme"]
        names = history.themes(lang).set_index("key")["name"]
        chosen = theme.value
        theme.options = [(ui_text("all", lang), "all")] + [(names[k], k) for k in history.THEMES]
        theme.value = chosen

    def compute(self, years: tuple[int, int], theme: str, lang: str) -> Any:
        return history.timeline(
            lang, start=years[0], end=years[1], theme=None if theme == "all" else theme
        )

    def render(self, result: Any) -> str:
        lang = self.controls["lang"].value
        if result.empty:
            message = html.escape(ui_text("empty", lang))
            return history.block(lang, f'<p class="crmlab-message">{message}</p>')
        items = []
        for event in result.itertuples():
            # A period ("early 1970s") is shown as the sources give it, in the chosen language.
            items.append(
                f'<li class="crmlab-event"><b>{html.escape(event.when)} · '
                f"{html.escape(event.title)}</b><br>{html.escape(event.description)}"
                f"{history.citations_html(event.source)}</li>"
            )
        return history.block(lang, f"<ul>{''.join(items)}</ul>")


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
    >>> 'dir="rtl"' in w.readout.value, len(w.result), w.controls["theme"].description
    (True, 2, 'موضوع')
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
        "theme": widgets.Dropdown(options=["all", *history.THEMES], value=theme),
        "lang": _language_dropdown(lang),
    }
    widget = TimelineExplorer(controls, plot=False)
    with widget.held():
        widget.relabel(lang)
    return widget


class PhasesExplorer(_Localised):
    """Phases, principles, perspectives and e-CRM components, one at a time."""

    css_class = "crmlab-phases"
    title = _UI["en"]["phases_title"]
    heading_key = "phases_title"

    def relabel(self, lang: str) -> None:
        super().relabel(lang)
        section = self.controls["section"]
        chosen = section.value
        section.options = [(ui_text(key, lang), key) for key in _SECTIONS]
        section.value = chosen

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
                f"<li><b>{html.escape(entry['name'])}</b>{_colon(lang)}"
                f"{html.escape(entry['explanation'])}{extra}</li>"
            )
        style = ' style="list-style-type:persian"' if lang == "fa" else ""
        sources = "; ".join(dict.fromkeys("; ".join(result["source"]).split("; ")))
        return history.block(
            lang, f"<ol{style}>{''.join(rows)}</ol>{history.citations_html(sources)}"
        )


def phases_explorer(section: str = "phases", lang: str = "en") -> PhasesExplorer:
    """Browse the phases, principles, perspectives and e-CRM components in four languages.

    >>> w = phases_explorer("principles", lang="de")
    >>> "Bestehende Kunden schützen" in w.readout.value, w.controls["section"].label
    (True, 'Die drei „ursprünglichen“ Prinzipien')
    """
    history.text_direction(lang)
    controls = {
        "section": widgets.Dropdown(options=list(_SECTIONS), value=section),
        "lang": _language_dropdown(lang),
    }
    widget = PhasesExplorer(controls, plot=False)
    with widget.held():
        widget.relabel(lang)
    return widget
