"""The history of CRM as data: timeline, phases, principles, perspectives, glossary.

Every text exists in English, French, German and Persian (``"en"``, ``"fr"``,
``"de"``, ``"fa"``; Persian is written right to left). The texts live in JSON files
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

import json
from functools import cache
from importlib import resources
from typing import Any

import pandas as pd

__all__ = [
    "THEMES",
    "cite",
    "crm_definition",
    "ecrm_components",
    "first_questions",
    "glossary",
    "languages",
    "perspectives",
    "phases",
    "principles",
    "sources",
    "text_direction",
    "themes",
    "timeline",
]

_LANGUAGES = ("en", "fr", "de", "fa")
_RIGHT_TO_LEFT = frozenset({"fa"})
#: Themes of the timeline events, in the order figures and menus show them.
THEMES = ("ideas", "methods", "technology", "practice", "regulation")


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
        row.update({field: entry[field][lang] for field in fields})
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
    [2016, 2018]
    >>> timeline("fr", start=1970, end=1970)["when"].tolist()
    ['début des années 1970', 'début des années 1970']
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
    return dict.fromkeys(_LANGUAGES, str(entry["year"]))


def phases(lang: str = "en") -> pd.DataFrame:
    """Randy Harris's four phases of CRM: technology, integration, process, customer-centric.

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
    """The three principles CRM rested on from the start.

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

    >>> "lifetime value" in crm_definition()
    True
    """
    _check_language(lang)
    return _load("concepts.json")["definition"]["text"][lang]


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
