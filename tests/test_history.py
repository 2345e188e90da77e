"""The multilingual history data: complete, sourced, filterable, in four languages."""

from __future__ import annotations

import json
import re
import unicodedata
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


def test_the_birth_of_crm_in_the_early_1970s_is_the_seeds_claim_about_an_idea():
    early_70s = history.timeline(start=1970, end=1974)
    born = early_70s[early_70s["title"].str.contains("CRM is born")]
    assert len(born) == 1
    assert born["title"].iloc[0].startswith("The seed texts:")
    assert "idea" in born["title"].iloc[0] and "twenty years later" in born["description"].iloc[0]
    principles = early_70s[early_70s["title"].str.contains("principles")].iloc[0]
    assert "undated" in principles["when"] and "'original'" in principles["title"]


def test_the_product_category_and_earlier_regulation_are_dated():
    events = history.timeline()
    dated = {(row.year, row.title.split(":")[0]) for row in events.itertuples()}
    assert (1987, "ACT!") in dated
    directive = events[events["title"].str.contains("Data Protection Directive")]
    assert directive["year"].tolist() == [1995]
    assert "95/46/EC" in directive["source"].iloc[0]
    term = events[events["title"].str.contains("product category")].iloc[0]
    assert term["approximate"] and term["when"] == "mid-1990s"


def test_the_four_phases_are_the_seeds_framework_with_an_unverified_attribution():
    seed = history.cite("seed_phases_fr")
    assert "attributes it to Randy Harris" in seed and "no independent record" in seed
    assert "consultant" not in seed
    assert history.phases()["source"].str.contains("crmlab seed text 001").all()


def test_course_glosses_are_marked_as_the_courses_own():
    gloss = history.cite("crmlab_glosses")
    for table in (history.phases(), history.principles(), history.ecrm_components()):
        assert table["source"].str.contains(gloss, regex=False).all()
    terms = history.glossary().set_index("key")
    for key in ("sfa", "call_centre", "web_analytics", "content_management"):
        assert gloss in terms.loc[key, "source"]


# One term per concept and language: the word the glossary uses, and words it replaced.
TERMS = {
    "customer_equity": {
        "en": "customer equity",
        "fr": "capital client",
        "de": "Kundenkapital",
        "fa": "ارزش ویژهٔ مشتری",
    },
    "clv": {
        "en": "lifetime value",
        "fr": "valeur vie",
        "de": "Kundenlebenszeitwert",
        "fa": "ارزش طول عمر",
    },
    "retention_rate": {"en": "retention", "fr": "fidélisation", "de": "bindung", "fa": "حفظ"},
    "consent": {"en": "consent", "fr": "consentement", "de": "Einwilligung", "fa": "رضایت آگاهانه"},
    "sfa": {
        "en": "sales-force automation",
        "fr": "automatisation des forces de vente",
        "de": "Vertriebsautomatisierung",
        "fa": "خودکارسازی نیروی فروش",
    },
    "relationship_marketing": {
        "en": "relationship marketing",
        "fr": "marketing relationnel",
        "de": "Beziehungsmarketing",
        "fa": "بازاریابی رابطه‌ای",
    },
    "monetary_value": {"en": "monetary", "fr": "montant", "de": "monetär", "fa": "مبلغ"},
    "customer_centric": {
        "en": "customer-centric",
        "fr": ("centré sur le client", "centrée sur le client"),
        "de": "kundenzentriert",
        "fa": "مشتری‌محور",
    },
}
REPLACED = {
    "fr": [
        "valeur client globale",
        "Valeur monétaire",
        "poussée des produits",
        "axé sur le client",
    ],
    "de": ["Kundenwert", "Lebenswert", "Geldwert", "Beta-Geometrisch", "Kundendauer"],
    "fa": ["پیپرز", "نمایه‌سازی", "بی‌کار", "بخش کنند", "ارزش پولی", "لحظه‌ای نادیده"],
}


def _uses(text: str, word: str | tuple[str, ...]) -> bool:
    """Whether ``text`` uses the term (one of its inflected forms, when a tuple)."""
    forms = word if isinstance(word, tuple) else (word,)
    return any(form.casefold() in text.casefold() for form in forms)


def test_the_terms_are_the_glossarys():
    glossary = {lang: history.glossary(lang).set_index("key") for lang in history.languages()}
    for key, words in TERMS.items():
        for lang, word in words.items():
            entry = glossary[lang].loc[key]
            assert _uses(entry["term"] + " " + entry["definition"], word), (key, lang)


@pytest.mark.parametrize("name", ["timeline.json", "concepts.json"])
def test_timeline_and_concepts_use_the_glossary_term_in_every_language(name):
    texts = list(_texts(json.loads((DATA / name).read_text(encoding="utf-8"))))
    used = 0
    for text in texts:
        for key, words in TERMS.items():
            if _uses(text["en"], words["en"]):
                used += 1
                for lang in ("fr", "de", "fa"):
                    assert _uses(text[lang], words[lang]), (key, text[lang])
        for lang, replaced in REPLACED.items():
            for word in replaced:
                assert word not in text[lang], (word, text[lang])
    assert used >= 3


NO_BREAK_BEFORE = re.compile(r" [:;?!»]|« |\d %")


def test_french_typography_keeps_punctuation_on_its_line():
    for name in TEXT_FILES:
        for text in _texts(json.loads((DATA / name).read_text(encoding="utf-8"))):
            assert not NO_BREAK_BEFORE.search(text["fr"]), text["fr"]
    assert "\u202f" in history.first_questions("fr")[0]


def _first_strong_direction(text: str) -> str | None:
    """The paragraph direction a browser infers (rule P2 of the bidi algorithm)."""
    depth = 0
    for ch in text:
        if ch in "\u2066\u2067\u2068":
            depth += 1
        elif ch == "\u2069":
            depth = max(depth - 1, 0)
        elif depth == 0 and unicodedata.bidirectional(ch) in ("L", "R", "AL"):
            return "ltr" if unicodedata.bidirectional(ch) == "L" else "rtl"
    return None


def _persian_texts():
    yield from history.timeline("fa")[["when", "title", "description"]].to_numpy().ravel()
    for table in (history.phases("fa"), history.principles("fa"), history.ecrm_components("fa")):
        yield from table[["name", "explanation"]].to_numpy().ravel()
    yield from history.perspectives("fa")["text"]
    yield from history.glossary("fa")[["term", "definition"]].to_numpy().ravel()
    yield from history.first_questions("fa")
    yield history.crm_definition("fa")


def test_persian_reads_right_to_left_with_latin_runs_isolated():
    texts = list(_persian_texts())
    assert len(texts) > 150
    latin = 0
    for text in texts:
        direction = _first_strong_direction(text)
        # A bare year has no direction of its own and takes the paragraph's.
        assert direction == "rtl" or (direction is None and text.isdigit()), text
        outside = re.sub("\u2066[^\u2069]*\u2069", "", text)
        assert not re.search(r"[A-Za-z0-9]", outside), text
        latin += "\u2066" in text
    assert latin > 20
    assert (
        "\u20661/(1+d)\u2069"
        in history.glossary("fa").set_index("key").loc["discount_rate", "definition"]
    )


def test_persian_years_are_in_persian_digits():
    when = history.timeline("fa")["when"]
    assert when.iloc[0] == "۱۹۵۴"
    assert not when.str.contains(r"[0-9]").any()


def test_persian_tells_consent_from_satisfaction():
    terms = history.glossary("fa").set_index("key")["term"]
    assert terms["consent"] != terms["satisfaction"]
    assert "آگاهانه" in terms["consent"]


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
