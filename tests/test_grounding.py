"""Grounding: every answer sentence is covered by the article sentences it quotes.

The coverage test loads the project's Dutch spaCy pipeline (about 10 s, once
per test session) for lemmas; the rest are plain unit tests of the rules.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from faq import grounding
from faq.content import load_article
from faq.grounding import COVERAGE_THRESHOLD, Article, amount_problem, coverage

FAQ2 = (
    "Voldoende magnesium helpt wel bij de activering van de vitamine D die je "
    "binnenkrijgt, maar het voorkomt niet dat je een tekort krijgt als je te weinig "
    "binnenkrijgt via zon of voeding."
)
TABLE_ROW = (
    "Vitamine D-tekort met voldoende magnesium | Verminderde calciumopname, "
    "botontkalking, lagere weerstand"
)
FAQ4 = "Voor opname via de huid zijn badkristallen of magnesiumolie de beste keuze."
SUN = (
    "Voor voldoende aanmaak heb je dagelijks 15 tot 30 minuten blootstelling van een "
    "groot deel van je huid nodig."
)


@pytest.fixture(scope="module")
def article() -> Article:
    return load_article()


# --- quotes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "quote",
    [
        FAQ2,
        "Ja, dat kan.",  # a sentence after the question on the same line
        "Mogelijke gevolgen",  # a table cell
        TABLE_ROW,  # two cells of one row
        "Zonlicht is de natuurlijkste bron.",  # a list item after "- "
        "Zonlicht is de natuurlijkste bron",  # without its full stop
        "Let wel op: magnesium in het bloed is vaak niet representatief voor de "
        "hoeveelheid in je cellen.",
        "De website van Juglen Zwaan geeft veel praktische informatie over leefstijl "
        "en voeding in relatie tot vitamine D.",  # after source 15's link
        "Magnesium en  vitamine D\n werken nauw samen in je lichaam.",  # whitespace
    ],
)
def test_whole_sentences_cells_and_items_are_valid_quotes(article, quote):
    assert article.quote_problem(quote) is None


@pytest.mark.parametrize(
    "quote, problem",
    [
        ("het voorkomt niet dat je een tekort krijgt", "geen hele zin"),
        ("Voldoende magnesium helpt wel bij de activering", "geen hele zin"),
        ("Magnesium voorkomt elk tekort.", "komt niet (letterlijk) voor"),
        ("magnesium en vitamine d werken nauw samen in je lichaam.", "komt niet"),
        (
            "Magnesium en vitamine D werken nauw samen in je lichaam. Hieronder",
            "komt niet",  # runs on into the next line
        ),
        ("   ", "leeg"),
    ],
)
def test_fragments_and_inventions_are_not_valid_quotes(article, quote, problem):
    assert problem in (article.quote_problem(quote) or "")


def test_a_quote_must_come_from_the_given_article(tmp_path):
    other = Article.from_text("Magnesium is gezond. Vitamine D ook.", Path("x.txt"))
    assert other.quote_problem("Vitamine D ook.") is None
    assert other.quote_problem(FAQ2) is not None


# --- amounts ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, basis",
    [
        (
            "Volgens het artikel heb je voor voldoende aanmaak dagelijks 15 tot 30 "
            "minuten blootstelling van een groot deel van je huid nodig.",
            [SUN],
        ),
        ("Het artikel noemt 15 tot 30 minuten zon per dag.", [SUN]),
        ("Vitamine D wordt in twee stappen actief.", []),  # a count, not an amount
        ("Het artikel noemt 15 bronnen.", []),
        ("Een arts kan helpen bij de juiste dosering.", []),
    ],
)
def test_allowed_amounts(text, basis):
    assert amount_problem(text, basis) is None


@pytest.mark.parametrize(
    "text, basis, reason",
    [
        ("Neem 400 IE vitamine D.", [], "supplement"),
        ("Volgens het artikel is 10 µg genoeg.", [SUN], "supplement"),
        ("Volgens het artikel helpt 300-400 mg magnesium.", [SUN], "supplement"),
        ("Neem twee tabletten per dag.", [], "supplement"),
        ("Hoeveel capsules per dag staat niet in het artikel.", [], "supplement"),
        ("Slik 1 capsule bij het ontbijt.", [], "supplement"),
        ("Dagelijks 15 tot 30 minuten zon is genoeg.", [SUN], "zonder te zeggen"),
        ("Volgens het artikel is een half uur zon genoeg.", [SUN], "niet in de basis"),
        ("Volgens het artikel heb jij 15 tot 30 minuten nodig.", [SUN], "gebruiker"),
        (
            "In jouw situatie is volgens het artikel 15 tot 30 minuten genoeg.",
            [SUN],
            "gebruiker",
        ),
        ("Eet volgens het artikel twee eieren per dag.", [SUN], "niet in de basis"),
    ],
)
def test_refused_amounts(text, basis, reason):
    assert reason in (amount_problem(text, basis) or "")


# --- coverage --------------------------------------------------------------------


def test_every_answer_sentence_is_covered_by_its_basis(content):
    """The threshold and how it was chosen: faq.grounding.COVERAGE_THRESHOLD."""
    weak = []
    for topic in content.topics.values():
        for _, field, sentence in topic.sentences():
            result = coverage(sentence.text, sentence.basis)
            if result.weak():
                weak.append((topic.id, field, round(result.share, 2), result.uncovered))
    assert weak == []


@pytest.mark.parametrize(
    "sentence, basis",
    [
        # The distortion the review found: the condition is gone.
        ("Genoeg magnesium beschermt je niet tegen een vitamine D-tekort.", [FAQ2]),
        ("Magnesium geneest een vitamine D-tekort.", [FAQ2]),
        (
            "Magnesium en vitamine D hebben elkaar nodig.",
            ["Magnesium en vitamine D werken nauw samen in je lichaam."],
        ),
        # A table consequence stated as certain, with words of its own.
        ("Bij een vitamine D-tekort neemt je lichaam minder calcium op.", [TABLE_ROW]),
        ("Vitamine D voorkomt kanker en hartziekten.", [TABLE_ROW]),
        (
            "Magnesiumolie werkt beter dan tabletten.",
            [FAQ4],
        ),
        ("Volgens het artikel heb je dagelijks 45 minuten zon nodig.", [SUN]),
    ],
)
def test_sentences_that_add_a_claim_are_weak(sentence, basis):
    assert coverage(sentence, basis).weak(), coverage(sentence, basis)


def test_lemmas_compounds_and_attribution_count_as_covered():
    result = coverage(
        "Volgens het artikel verhogen tekorten aan magnesium de magnesiumbehoefte.",
        ["Een magnesiumtekort verhoogt de behoefte aan magnesium."],
    )
    assert result.share == 1.0, result
    assert [w.text for w in result.words] == [
        "verhogen",
        "tekorten",
        "magnesium",
        "magnesiumbehoefte",
    ]


def test_numbers_must_be_in_the_basis():
    result = coverage("Het artikel noemt 16 bronnen.", ["Bronnen:"])
    assert not result.numbers_covered and result.weak()


def test_the_threshold_is_the_documented_one():
    assert COVERAGE_THRESHOLD == 0.8
    assert grounding.pipeline_name().startswith("nl_")
