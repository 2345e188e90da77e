"""The history of CRM as data: timeline, phases, principles, perspectives, glossary.

Every text exists in English, French, German and Persian (``"en"``, ``"fr"``,
``"de"``, ``"fa"``; Persian is written right to left). Persian texts come back with
their Latin words and formulas wrapped in Unicode isolates (see :func:`bidi_isolate`)
and their years in Persian digits, so that they read correctly wherever they are
shown; :func:`show` renders any of them as HTML in the right direction. The texts live in JSON files
under ``crmlab/history_data/`` so that translators and instructors edit data, not
code. Each entry cites its sources by key; the full citations are in
``sources.json`` and come back, spelled out, in the ``source`` column.

>>> languages()
['en', 'fr', 'de', 'fa']
>>> text_direction("fa")
'rtl'
>>> timeline("de", start=1950, end=1959)[["year", "theme"]].values.tolist()
[[1954, 'ideas'], [1958, 'methods'], [1959, 'methods']]
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any

import pandas as pd

__all__ = [
    "THEMES",
    "Shown",
    "bidi_isolate",
    "block",
    "citations_html",
    "cite",
    "crm_definition",
    "ecrm_components",
    "first_questions",
    "glossary",
    "languages",
    "perspectives",
    "phases",
    "principles",
    "show",
    "sources",
    "text_direction",
    "themes",
    "timeline",
]

_LANGUAGES = ("en", "fr", "de", "fa")
_RIGHT_TO_LEFT = frozenset({"fa"})
#: Themes of the timeline events, in the order figures and menus show them.
THEMES = ("ideas", "methods", "technology", "practice", "regulation")
_LRI, _PDI = "\u2066", "\u2069"
# A run of Latin script inside Persian: words, numbers and the formula signs between them.
_LATIN_RUN = re.compile(r"[A-Za-z0-9(][A-Za-z0-9()+\-−·/.,'&!:= ]*[A-Za-z0-9)!]|[A-Za-z0-9]")
_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


@cache
def _load(name: str) -> dict[str, Any]:
    # importlib.resources finds the files in a source tree, an editable install and a wheel.
    text = resources.files("crmlab").joinpath("history_data", name).read_text(encoding="utf-8")
    return json.loads(text)


def languages() -> list[str]:
    """Codes of the languages every text is available in.

    >>> languages()
    ['en', 'fr', 'de', 'fa']
    """
    return list(_LANGUAGES)


def _check_language(lang: str) -> str:
    if lang not in _LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; available: {', '.join(_LANGUAGES)}")
    return lang


def text_direction(lang: str) -> str:
    """Writing direction of a language: ``"rtl"`` for Persian, ``"ltr"`` otherwise.

    Widgets and notebooks use it to set ``dir=`` on the HTML they show.

    >>> [text_direction(lang) for lang in languages()]
    ['ltr', 'ltr', 'ltr', 'rtl']
    """
    return "rtl" if _check_language(lang) in _RIGHT_TO_LEFT else "ltr"


def bidi_isolate(text: str) -> str:
    """Wrap every run of Latin script in left-to-right isolates (U+2066 … U+2069).

    Inside a right-to-left paragraph a formula such as ``1/(1+d)`` would otherwise be
    reordered by the bidirectional algorithm (shown as ``(d+1)/1``), and a sentence
    that opens with a Latin word ("CRM …") would be laid out left to right. Isolated,
    the run keeps its own order and the paragraph takes its direction from the
    Persian words. Already isolated text is returned unchanged.

    >>> bidi_isolate("یک دلار امروز 1/(1+d) ارزش دارد.") == (
    ...     "یک دلار امروز \u20661/(1+d)\u2069 ارزش دارد."
    ... )
    True
    >>> bidi_isolate(bidi_isolate("CRM یعنی")) == "\u2066CRM\u2069 یعنی"
    True
    """
    if _LRI in text:
        return text
    return _LATIN_RUN.sub(lambda match: f"{_LRI}{match.group(0)}{_PDI}", text)


def _for_reading(text: str, lang: str) -> str:
    return bidi_isolate(text) if lang in _RIGHT_TO_LEFT else text


def cite(key: str) -> str:
    """Full citation of a source key used in the data files.

    >>> cite("reichheld_sasser1990")[:40]
    'Reichheld, F. F., & Sasser, W. E., Jr. ('
    """
    table = _load("sources.json")["sources"]
    if key not in table:
        raise ValueError(f"unknown source key {key!r}; see crmlab.history.sources()")
    return table[key]["citation"]


def sources() -> pd.DataFrame:
    """The bibliography: every source the history data cite.

    Returns
    -------
    pandas.DataFrame
        Columns ``key``, ``kind`` (``"seed"`` for the French, German and Persian seed
        texts, ``"published"``, ``"company"``, ``"law"`` or ``"course"``) and ``citation``.

    Examples
    --------
    >>> s = sources()
    >>> s.loc[s["kind"] == "seed", "key"].tolist()
    ['seed_origin_fr', 'seed_phases_fr', 'seed_origin_fa', 'seed_ecrm_fr', 'seed_origin_de']
    """
    rows = [{"key": key, **entry} for key, entry in _load("sources.json")["sources"].items()]
    return pd.DataFrame(rows, columns=["key", "kind", "citation"])


def _localise(entries: list[dict[str, Any]], lang: str, fields: tuple[str, ...]) -> pd.DataFrame:
    """One row per entry: the chosen language of each text field, citations spelled out."""
    rows = []
    for entry in entries:
        row = {key: value for key, value in entry.items() if key not in fields and key != "sources"}
        row.update({field: _for_reading(entry[field][lang], lang) for field in fields})
        row["source"] = "; ".join(cite(key) for key in entry["sources"])
        rows.append(row)
    return pd.DataFrame(rows)


def _concepts(section: str, lang: str, fields: tuple[str, ...]) -> pd.DataFrame:
    _check_language(lang)
    return _localise(_load("concepts.json")[section], lang, fields)


def themes(lang: str = "en") -> pd.DataFrame:
    """The themes of the timeline with their names in ``lang``.

    >>> themes("fr")["name"].tolist()
    ['idées', 'méthodes', 'technologie', 'pratique', 'réglementation']
    """
    return _concepts("themes", lang, ("name",))[["key", "name"]]


def timeline(
    lang: str = "en",
    start: int | None = None,
    end: int | None = None,
    theme: str | None = None,
) -> pd.DataFrame:
    """Events in the history of CRM, oldest first.

    Parameters
    ----------
    lang : str
        Language of ``when``, ``title`` and ``description`` (see :func:`languages`).
    start, end : int, optional
        Keep the events from ``start`` to ``end`` (years, both inclusive).
    theme : str, optional
        Keep one theme of :data:`THEMES`: ``"ideas"``, ``"methods"``, ``"technology"``,
        ``"practice"`` or ``"regulation"``.

    Returns
    -------
    pandas.DataFrame
        Columns ``year``; ``approximate`` (True when the sources give a period, not a
        year: ``year`` is then the start of that period); ``when`` (the date as the
        sources give it, e.g. "early 1970s"); ``theme``; ``title``; ``description``;
        ``source`` (full citations, separated by "; "). Empty when nothing matches.

    Examples
    --------
    >>> timeline(theme="regulation")["year"].tolist()
    [1995, 2016, 2018]
    >>> timeline("fa", start=2016, end=2016)["when"].tolist()
    ['۲۰۱۶']
    >>> timeline("fr", start=1970, end=1970)["when"].tolist()
    ['début des années 1970', "à l'origine (sans date)"]
    """
    _check_language(lang)
    if theme is not None and theme not in THEMES:
        raise ValueError(f"unknown theme {theme!r}; available: {', '.join(THEMES)}")
    if start is not None and end is not None and start > end:
        raise ValueError(f"start ({start}) is after end ({end}); give start <= end")
    entries = _load("timeline.json")["events"]
    dated = [
        {**entry, "when": entry.get("when") or _year_in_every_language(entry)} for entry in entries
    ]
    events = _localise(dated, lang, ("when", "title", "description"))
    keep = pd.Series(True, index=events.index)
    if start is not None:
        keep &= events["year"] >= start
    if end is not None:
        keep &= events["year"] <= end
    if theme is not None:
        keep &= events["theme"] == theme
    columns = ["year", "approximate", "when", "theme", "title", "description", "source"]
    return events.loc[keep, columns].sort_values("year", kind="stable").reset_index(drop=True)


def _year_in_every_language(entry: dict[str, Any]) -> dict[str, str]:
    year = str(entry["year"])
    return {lang: year.translate(_PERSIAN_DIGITS) if lang == "fa" else year for lang in _LANGUAGES}


def phases(lang: str = "en") -> pd.DataFrame:
    """The four phases of CRM in seed text 001: technology, integration, process, customer-centric.

    The seed attributes the model to "Randy Harris", whom it calls a CRM guru; we found
    no independent record of him, so the phases are cited to the seed. The examples are
    the course's own (cited as such in ``source``).

    Returns
    -------
    pandas.DataFrame
        Columns ``key``, ``number``, ``name``, ``explanation``, ``examples``, ``source``.

    Examples
    --------
    >>> phases("fr")["name"].tolist()
    ['Technologie', 'Intégration', 'Processus', 'CRM centré sur le client']
    """
    return _concepts("phases", lang, ("name", "explanation", "examples"))


def principles(lang: str = "en") -> pd.DataFrame:
    """The three principles CRM "originally" rested on, according to the seed texts (undated).

    >>> principles()["name"].tolist()
    ['Protect current customers', 'Foster new customers', 'Grow the asset value of all customers']
    """
    return _concepts("principles", lang, ("name", "explanation"))


def perspectives(lang: str = "en") -> pd.DataFrame:
    """The ten perspectives from which CRM grew as a strategic approach.

    >>> p = perspectives("fa")
    >>> len(p), list(p.columns)
    (10, ['number', 'text', 'source'])
    """
    return _concepts("perspectives", lang, ("text",))


def ecrm_components(lang: str = "en") -> pd.DataFrame:
    """The components of e-CRM: web analytics, content management, collaboration.

    >>> ecrm_components("de")["name"].tolist()
    ['Web-Analyse', 'Content-Management', 'Mehrstufige Zusammenarbeit']
    """
    return _concepts("ecrm_components", lang, ("name", "explanation"))


def first_questions(lang: str = "en") -> list[str]:
    """The questions a customer-centric firm asks first.

    >>> first_questions()
    ['Who are our customers?', 'How do our customers want to buy?', 'How will our customers pay?']
    """
    return _concepts("first_questions", lang, ("text",))["text"].tolist()


def crm_definition(lang: str = "en") -> str:
    """CRM defined as analysing customer data to maximise customer lifetime value.

    The course's wording of the definition in seed text 003 (cited in notebook 02).

    >>> "lifetime value" in crm_definition()
    True
    """
    _check_language(lang)
    return _for_reading(_load("concepts.json")["definition"]["text"][lang], lang)


def glossary(lang: str = "en") -> pd.DataFrame:
    """Terms of the course with their definitions, sorted by term.

    ``key`` is the same in every language, so ``glossary("en")`` and ``glossary("fa")``
    can be merged on it to show a term side by side in two languages.

    >>> g = glossary()
    >>> len(g) >= 30, list(g.columns)
    (True, ['key', 'term', 'definition', 'source'])
    >>> g.set_index("key").loc["churn", "term"]
    'Churn'
    """
    _check_language(lang)
    terms = _localise(_load("glossary.json")["terms"], lang, ("term", "definition"))
    terms = terms[["key", "term", "definition", "source"]]
    return terms.sort_values("term", key=lambda s: s.str.casefold()).reset_index(drop=True)


def block(lang: str, body: str) -> str:
    """An HTML ``<div>`` around ``body`` with the direction and alignment of ``lang``.

    >>> block("fa", "…")
    '<div class="crmlab-history" dir="rtl" lang="fa" style="text-align:right">…</div>'
    """
    direction = text_direction(lang)
    align = "right" if direction == "rtl" else "left"
    return (
        f'<div class="crmlab-history" dir="{direction}" lang="{lang}" '
        f'style="text-align:{align}">{body}</div>'
    )


def citations_html(source: str) -> str:
    """The ``source`` column as HTML: the citations, in Latin script, in a left-to-right block.

    >>> citations_html("A (2000). X.; B (2001). Y.").endswith('X.<br>B (2001). Y.</small>')
    True
    >>> 'dir="ltr" lang="en"' in citations_html("A (2000). X.")
    True
    """
    lines = "<br>".join(html.escape(citation) for citation in source.split("; "))
    return (
        '<small class="crmlab-source" dir="ltr" lang="en" '
        f'style="display:block;text-align:left">{lines}</small>'
    )


class Shown:
    """Texts of one language, shown as HTML in the right direction by Jupyter.

    ``print`` and ``repr`` give the plain lines; a notebook cell that ends with a
    :class:`Shown` renders it as a right-to-left block for Persian.
    """

    def __init__(self, lines: list[str], lang: str, source: str | None, numbered: bool) -> None:
        self.lines, self.lang, self.source, self.numbered = lines, lang, source, numbered

    def _repr_html_(self) -> str:
        if len(self.lines) == 1 and not self.numbered:
            body = f"<p>{html.escape(self.lines[0])}</p>"
        else:
            items = "".join(f"<li>{html.escape(line)}</li>" for line in self.lines)
            tag = "ol" if self.numbered else "ul"
            persian = self.numbered and self.lang == "fa"
            style = ' style="list-style-type:persian"' if persian else ""
            body = f"<{tag}{style}>{items}</{tag}>"
        if self.source:
            body += citations_html(self.source)
        return block(self.lang, body)

    def __repr__(self) -> str:
        return "\n".join(self.lines)


def show(
    texts: str | Sequence[str], lang: str, source: str | None = None, *, numbered: bool = False
) -> Shown:
    """Show texts of ``lang`` in a notebook: right to left for Persian, citations left to right.

    Parameters
    ----------
    texts : str or sequence of str
        One text or several (a column of a table from this module, for instance).
    lang : str
        Their language (see :func:`languages`).
    source : str, optional
        Citations to show under them, as in the ``source`` column ("; "-separated).
    numbered : bool
        Number the texts (in Persian digits for Persian).

    Examples
    --------
    >>> shown = show(perspectives("fa")["text"].head(2), "fa", numbered=True)
    >>> shown._repr_html_().startswith('<div class="crmlab-history" dir="rtl" lang="fa"')
    True
    >>> print(show("Bonjour", "fr"))
    Bonjour
    """
    _check_language(lang)
    lines = [texts] if isinstance(texts, str) else [str(text) for text in texts]
    return Shown([_for_reading(line, lang) for line in lines], lang, source, numbered)
