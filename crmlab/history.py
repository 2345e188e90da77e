"""The history of CRM as data: timeline, phases, principles, perspectives, glossary.

Every text exists in English, French, German and Persian (``"en"``, ``"fr"``,
``"de"``, ``"fa"``; Persian is written right to left). The texts live in JSON files
under ``crmlab/history_data/`` so that translators and instructors edit data, not
code; each entry names its source.

>>> languages()
['en', 'fr', 'de', 'fa']
>>> text_direction("fa")
'rtl'
>>> events = timeline("de", start=1950, end=1959)
>>> events[["year", "title"]].values.tolist()
[[1954, 'Drucker: Unternehmen existieren, um Kunden zu gewinnen und zu halten']]
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = [
    "THEMES",
    "crm_definition",
    "ecrm_components",
    "first_questions",
    "glossary",
    "languages",
    "perspectives",
    "phases",
    "principles",
    "text_direction",
    "timeline",
]

_LANGUAGES = ("en", "fr", "de", "fa")
_RIGHT_TO_LEFT = frozenset({"fa"})
#: Themes of the timeline events.
THEMES = ("ideas", "technology", "practice", "regulation")
_DATA = Path(__file__).resolve().parent / "history_data"


@cache
def _load(name: str) -> dict[str, Any]:
    with (_DATA / name).open(encoding="utf-8") as handle:
        return json.load(handle)


def languages() -> list[str]:
    """Codes of the languages every text is available in."""
    return list(_LANGUAGES)


def _check_language(lang: str) -> str:
    if lang not in _LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; available: {', '.join(_LANGUAGES)}")
    return lang


def text_direction(lang: str) -> str:
    """``"rtl"`` for right-to-left scripts (Persian), ``"ltr"`` otherwise."""
    return "rtl" if _check_language(lang) in _RIGHT_TO_LEFT else "ltr"


def _localise(entries: list[dict[str, Any]], lang: str, fields: tuple[str, ...]) -> pd.DataFrame:
    rows = []
    for entry in entries:
        row = {key: value for key, value in entry.items() if key not in fields}
        row.update({field: entry[field][lang] for field in fields})
        rows.append(row)
    return pd.DataFrame(rows)


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
        Language of ``title`` and ``description`` (see :func:`languages`).
    start, end : int, optional
        Keep events from ``start`` to ``end`` (years, inclusive).
    theme : str, optional
        Keep one theme: ``"ideas"``, ``"technology"``, ``"practice"`` or ``"regulation"``.

    Returns
    -------
    pandas.DataFrame
        Columns ``year``, ``approximate`` (True when the sources give only a period,
        not a year), ``theme``, ``title``, ``description`` and ``source``. May be empty.

    Examples
    --------
    >>> timeline(theme="regulation")["year"].tolist()
    [2016, 2018]
    """
    _check_language(lang)
    if theme is not None and theme not in THEMES:
        raise ValueError(f"unknown theme {theme!r}; available: {', '.join(THEMES)}")
    events = _localise(_load("timeline.json")["events"], lang, ("title", "description"))
    keep = pd.Series(True, index=events.index)
    if start is not None:
        keep &= events["year"] >= start
    if end is not None:
        keep &= events["year"] <= end
    if theme is not None:
        keep &= events["theme"] == theme
    columns = ["year", "approximate", "theme", "title", "description", "source"]
    return events.loc[keep, columns].sort_values("year", kind="stable").reset_index(drop=True)


def _concepts(section: str, lang: str, fields: tuple[str, ...]) -> pd.DataFrame:
    _check_language(lang)
    return _localise(_load("concepts.json")[section], lang, fields)


def phases(lang: str = "en") -> pd.DataFrame:
    """Randy Harris's four phases of CRM: technology, integration, process, customer-centric.

    >>> phases("fr")["name"].tolist()
    ['Technologie', 'Intégration', 'Processus', 'CRM centré sur le client']
    """
    return _concepts("phases", lang, ("name", "explanation", "examples"))


def principles(lang: str = "en") -> pd.DataFrame:
    """The three principles early CRM rested on.

    >>> principles()["name"].tolist()[0]
    'Protect current customers'
    """
    return _concepts("principles", lang, ("name", "explanation"))


def perspectives(lang: str = "en") -> pd.DataFrame:
    """The ten perspectives from which CRM grew as a strategic approach.

    >>> len(perspectives("fa"))
    10
    """
    return _concepts("perspectives", lang, ("text",))


def ecrm_components(lang: str = "en") -> pd.DataFrame:
    """The components of e-CRM: web analytics, content management, collaboration."""
    return _concepts("ecrm_components", lang, ("name", "explanation"))


def first_questions(lang: str = "en") -> list[str]:
    """The questions a customer-centric firm asks first."""
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

    >>> g = glossary()
    >>> len(g) >= 30, list(g.columns)
    (True, ['key', 'source', 'term', 'definition'])
    """
    _check_language(lang)
    terms = _localise(_load("glossary.json")["terms"], lang, ("term", "definition"))
    return terms.sort_values("term", key=lambda s: s.str.casefold()).reset_index(drop=True)
