"""The multilingual history data: complete, sourced, filterable, in four languages."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from crmlab import history

DATA = Path(history.__file__).parent / "history_data"
ARABIC_SCRIPT = re.compile(r"[\u0600-\u06FF]")


def _texts(node):
    """Every {en, fr, de, fa} mapping inside a JSON tree."""
    if isinstance(node, dict):
        if set(node) == set(history.languages()):
            yield node
        else:
            for value in node.values():
                yield from _texts(value)
    elif isinstance(node, list):
        for value in node:
            yield from _texts(value)


# sources.json is the bibliography: citations are not translated.
TEXT_FILES = sorted(p.name for p in DATA.glob("*.json") if p.name != "sources.json")
CITED_KEYS = set(json.loads((DATA / "sources.json").read_text(encoding="utf-8"))["sources"])


@pytest.fixture(scope="module", params=TEXT_FILES)
def data_file(request):
    return json.loads((DATA / request.param).read_text(encoding="utf-8"))


def test_every_text_exists_in_every_language(data_file):
    texts = list(_texts(data_file))
    assert texts
    for text in texts:
        for lang in history.languages():
            assert isinstance(text[lang], str) and text[lang].strip(), text


def test_persian_is_in_arabic_script_and_translations_are_not_copies(data_file):
    for text in _texts(data_file):
        assert ARABIC_SCRIPT.search(text["fa"]), text["fa"]
        # Proper names may coincide; whole sentences must not.
        if len(text["en"]) > 30:
            assert text["fr"] != text["en"] and text["de"] != text["en"], text["en"]


def test_every_entry_cites_known_sources(data_file):
    for section in data_file.values():
        entries = section if isinstance(section, list) else [section]
        for entry in entries:
            assert entry["sources"], entry
            assert set(entry["sources"]) <= CITED_KEYS, entry["sources"]


def test_every_source_is_cited_and_spelled_out():
    cited = set()
    for name in TEXT_FILES:
        for section in json.loads((DATA / name).read_text(encoding="utf-8")).values():
            for entry in section if isinstance(section, list) else [section]:
                cited.update(entry["sources"])
    bibliography = history.sources()
    assert set(bibliography["key"]) == cited
    assert bibliography["citation"].str.len().min() > 40
    # Timelines join several citations with "; ", so no citation may contain it.
    assert not bibliography["citation"].str.contains("; ").any()
    assert set(bibliography["kind"]) <= {"seed", "published", "company", "law", "course"}
    with pytest.raises(ValueError, match="unknown source key 'nobody2099'"):
        history.cite("nobody2099")


def test_timeline_is_sorted_sourced_and_within_range():
    events = history.timeline()
    assert len(events) >= 20
    assert events["year"].is_monotonic_increasing
    assert events["year"].between(1950, 2026).all()
    assert set(events["theme"]) <= set(history.THEMES)
    assert events["source"].str.len().min() > 10
    decades = set(events["year"] // 10 * 10)
    assert {1950, 1970, 1980, 1990, 2000, 2010} <= decades


def test_the_birth_of_crm_is_in_the_early_1970s():
    early_70s = history.timeline(start=1970, end=1974)
    assert early_70s["title"].str.contains("CRM is born").any()


def test_timeline_filters():
    assert history.timeline(start=2010)["year"].min() >= 2010
    assert history.timeline(end=1960)["year"].max() <= 1960
    assert set(history.timeline(theme="technology")["theme"]) == {"technology"}
    assert history.timeline(start=1900, end=1901).empty
    with pytest.raises(ValueError, match="unknown theme 'sports'; available: ideas"):
        history.timeline(theme="sports")


def test_same_events_in_every_language():
    years = {lang: history.timeline(lang)["year"].tolist() for lang in history.languages()}
    assert len({tuple(v) for v in years.values()}) == 1


def test_concepts_have_the_published_counts():
    assert history.phases()["number"].tolist() == [1, 2, 3, 4]
    assert history.phases()["key"].tolist()[-1] == "customer_centric"
    assert len(history.principles()) == 3
    assert history.perspectives()["number"].tolist() == list(range(1, 11))
    assert len(history.ecrm_components()) == 3
    assert len(history.first_questions("fa")) == 3
    assert "lifetime value" in history.crm_definition("en")


def test_glossary_has_at_least_thirty_distinct_terms():
    for lang in history.languages():
        terms = history.glossary(lang)
        assert len(terms) >= 30
        assert terms["term"].is_unique and terms["key"].is_unique


@pytest.mark.parametrize("call", [history.timeline, history.phases, history.glossary])
def test_unknown_language_lists_the_available_ones(call):
    with pytest.raises(ValueError, match="unknown language 'es'; available: en, fr, de, fa"):
        call("es")


def test_text_direction():
    assert [history.text_direction(lang) for lang in history.languages()] == [
        "ltr",
        "ltr",
        "ltr",
        "rtl",
    ]
