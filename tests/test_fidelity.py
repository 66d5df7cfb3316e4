"""Fidelity to the article: one test per defect of issue #10, on the real files.

Each test reads what a user sees (answer texts, reference lines, domain
responses rendered with every value they can take) and fails on the defect the
review found, so the same mistake cannot come back with the next edit.
"""

from __future__ import annotations

import re
from typing import Dict, Iterator, List, Tuple

import pytest

from faq.content import REFERENCE_INTRO, Content, Sentence, Topic

#: Words that keep a statement as uncertain as the article has it.
HEDGES = re.compile(
    r"\b(kan|kunnen|kun|mogelijk\w*|kans|vaak|meestal|deels|soms|geassocieerd|"
    r"verband|bijvoorbeeld|eventueel|risico)\b",
    re.IGNORECASE,
)

#: The consequences in the article's table ("Mogelijke gevolgen").
TABLE_TERMS = re.compile(
    r"calciumopname|minder calcium|botontkalking, (een )?lagere weerstand|"
    r"calciumspiegels|magnesiumuitputting|hartritmestoornissen|onrustige slaap",
    re.IGNORECASE,
)

#: Phrases the Dutch review flagged, wherever they occur.
BAD_DUTCH = [
    "van allebei je lichaam",
    "aan je dagelijkse behoefte te komen",
    "Welke vorm magnesium",
    "maakt herkennen lastig",
    "huisarts, apotheker of een therapeut",
    "zonkracht alleen een groot deel",  # "alleen" where "echter" is meant
    "zijn alleen meestal onvoldoende",
]

#: Two punctuation marks in a row, possibly around a closing quote ("?'?").
DOUBLED_PUNCTUATION = re.compile(r"[.!?,:;]['’\"]?\s*[.!?,:;]")


def sentences(content: Content) -> Iterator[Tuple[Topic, str, Sentence]]:
    for topic in content.topics.values():
        for _, field, sentence in topic.sentences():
            yield topic, field, sentence


def user_texts(content: Content) -> Dict[str, str]:
    """Every content text a user can see, by where it comes from."""
    texts = {}
    for topic in content.topics.values():
        texts[f"{topic.id}.title"] = topic.title
        texts[f"{topic.id}.short"] = topic.short
        texts[f"{topic.id}.long"] = topic.long
        texts[f"{topic.id}.references"] = content.references(topic)
        for number, why in topic.source_reasons.items():
            texts[f"{topic.id}.why[{number}]"] = why
    return texts


def rendered_responses(domain: dict, content: Content) -> List[Tuple[str, str]]:
    """Every domain response with every value its placeholders can take."""
    values = {
        "titel": [t.title for t in content.topics.values()],
        "contactgegevens": ["Telefoon: 020 123 4567\nE-mail: service@example.nl"],
        "links": ["Kennisbank: https://example.nl/kennisbank"],
    }
    titles = [t.title for t in content.topics.values()]
    values["eerste"] = titles
    values["tweede"] = titles[1:] + titles[:1]
    rendered = []
    for name, variants in domain["responses"].items():
        for variant in variants:
            text = variant["text"]
            keys = re.findall(r"{(\w+)}", text)
            if not keys:
                rendered.append((name, text))
                continue
            # Fill every placeholder with each of its values (pairwise for two).
            for i in range(max(len(values[k]) for k in keys)):
                filled = text
                for key in set(keys):
                    filled = filled.replace(
                        f"{{{key}}}", values[key][i % len(values[key])]
                    )
                rendered.append((name, filled))
    return rendered


# --- 1. the distorted FAQ answer ---------------------------------------------------


def test_magnesium_does_not_prevent_a_deficiency_only_when_intake_is_too_low(content):
    topic = content.topics["vitamine_d_tekort_ondanks_magnesium"]
    for _, field, sentence in topic.sentences():
        if re.search(r"voorkomt|beschermt|behoedt", sentence.text):
            assert re.search(r"als je te weinig", sentence.text), (field, sentence.text)
    assert "beschermt je niet" not in topic.short + topic.long


def test_the_answer_keeps_that_low_magnesium_goes_with_deficiency_more_often(content):
    topic = content.topics["vitamine_d_tekort_ondanks_magnesium"]
    for text in (topic.short, topic.long):
        assert re.search(
            r"lage magnesiuminname.{0,30} vaker een vitamine D-tekort", text
        )


# --- 2. changed or stronger claims ---------------------------------------------------


def test_better_use_is_of_magnesium_and_vitamin_d_together(content):
    found = 0
    for topic, field, sentence in sentences(content):
        if "benutting" in sentence.text:
            found += 1
            assert "magnesium en vitamine D samen" in sentence.text, (topic.id, field)
    assert found


def test_no_answer_says_they_need_each_other(content, domain):
    texts = list(user_texts(content).values()) + [
        t for _, t in rendered_responses(domain, content)
    ]
    assert not [t for t in texts if re.search(r"elkaar\s+nodig", t)]
    topic = content.topics["samenwerking_mg_d"]
    assert "Magnesium is nodig om vitamine D te activeren" in topic.short
    assert "waardoor je meer magnesium nodig hebt" in topic.short


def test_the_tables_consequences_stay_possible_consequences(content):
    checked = 0
    for topic, field, sentence in sentences(content):
        from_table = any(" | " in quote for quote in sentence.basis)
        if from_table or TABLE_TERMS.search(sentence.text):
            checked += 1
            assert HEDGES.search(sentence.text), (topic.id, field, sentence.text)
    assert checked >= 8


def _long_words(text: str) -> set:
    return set(re.findall(r"\w{5,}", text.lower()))


def test_bijvoorbeeld_of_the_article_is_kept(content):
    """A sentence that retells an article sentence with "bijvoorbeeld" keeps it."""
    checked = 0
    for topic, field, sentence in sentences(content):
        examples = [q for q in sentence.basis if "bijvoorbeeld" in q]
        retells = any(
            len(_long_words(q) & _long_words(sentence.text)) >= 3 for q in examples
        )
        if retells or re.search(r"Stress, intensieve sport", sentence.text):
            checked += 1
            assert "bijvoorbeeld" in sentence.text, (topic.id, field, sentence.text)
    assert checked >= 3


def test_a_hedged_basis_gives_a_hedged_sentence(content):
    """Where every quote of the basis hedges, the sentence hedges too."""
    for topic, field, sentence in sentences(content):
        if sentence.is_item:
            continue  # a list item carries the hedge of the line that opens the list
        if all(HEDGES.search(q) for q in sentence.basis):
            assert HEDGES.search(sentence.text) or re.search(
                r"\b(zoals|vooral|als|wanneer|zeker|bij voorkeur)\b", sentence.text
            ), (topic.id, field, sentence.text)


# --- 3. honest sources ---------------------------------------------------------------


def test_the_reference_line_says_where_the_sources_come_from(content):
    for topic in content.topics.values():
        line = content.references(topic)
        assert not line.startswith("Bronnen:")
        if topic.sources:
            assert line.startswith(REFERENCE_INTRO)
            for source in content.sources_of(topic):
                assert f"{source.reference()}" in line and source.url in line
        else:
            assert line == topic.sources_note


def test_every_source_of_a_topic_has_a_why_from_its_description(content):
    for topic in content.topics.values():
        assert set(topic.source_reasons) == set(topic.sources), topic.id
        for number, why in topic.source_reasons.items():
            summary = content.sources[number].summary.lower()
            words = {w for w in re.findall(r"\w{5,}", why.lower())}
            assert any(w in summary for w in words), (topic.id, number, why)


def test_notes_do_not_claim_what_is_true_of_every_topic(content):
    notes = [t.sources_note for t in content.topics.values() if t.sources_note]
    assert notes
    for note in notes:
        assert "geen aparte bron" not in note
        assert "bronnenlijst van het artikel" in note and "beschrijving" in note


@pytest.mark.parametrize(
    "topic_id, subject",
    [
        ("vitamine_k2", r"\bK2\b|vitamine K|verdeling van calcium|verkalking"),
        (
            "magnesium_vormen",
            r"\bvorm|bisglycinaat|citraat|huid|badkristal|magnesiumolie|oraal",
        ),
    ],
)
def test_k2_and_forms_follow_the_same_rule_as_every_topic(content, topic_id, subject):
    """No description in the article's list names these subjects: no source."""
    assert content.topics[topic_id].sources == ()
    for source in content.sources.values():
        assert not re.search(subject, source.summary, re.IGNORECASE), source.number


def test_general_factsheets_do_not_back_the_articles_product_advice(content):
    for topic_id in ("vitamine_d_supplementen", "vitamine_k2", "magnesium_vormen"):
        assert not {1, 2} & set(content.topics[topic_id].sources), topic_id


# --- 4. the bronnen answer -----------------------------------------------------------


def test_the_bronnen_answer_describes_the_list_as_it_is(content):
    topic = content.topics["bronnen"]
    assert not re.search(r"allemaal|alle 15 .*samenwerk", topic.short)
    assert re.search(r"alleen over vitamine D \(13 en 14\)", topic.short)
    assert re.search(r"bron 15 is een website", topic.short)
    assert re.search(r"alleen.*\(13\).*\(14\)", topic.long)
    assert "website" in topic.long and "(15)" in topic.long


def test_the_bronnen_answer_does_not_invite_a_question_it_answers(content):
    topic = content.topics["bronnen"]
    for text in (topic.short, topic.long):
        assert "Vraag gerust naar de bronnen" not in text


def test_source_15_has_no_invented_citation(content):
    source = content.sources[15]
    assert source.citation is None
    assert source.year is None
    assert "Juglen Zwaan" in source.summary


# --- 5. Dutch ------------------------------------------------------------------------


@pytest.mark.parametrize("phrase", BAD_DUTCH)
def test_flagged_dutch_is_gone(phrase, content, domain):
    texts = dict(user_texts(content))
    texts.update({f"domain.{n}": t for n, t in rendered_responses(domain, content)})
    assert not [where for where, text in texts.items() if phrase in text]


def test_the_magnesium_forms_title_reads_welke_vorm_van(content):
    assert content.topics["magnesium_vormen"].title.startswith("Welke vorm van")


def test_goodbye_is_a_goodbye_not_a_thank_you(domain):
    goodbye = domain["responses"]["utter_afscheid"][0]["text"]
    assert not goodbye.startswith("Graag gedaan")
    assert re.match(r"(Tot ziens|Dag|Doei|Fijne dag)", goodbye)


def test_no_reply_has_doubled_punctuation(content, domain):
    rendered = rendered_responses(domain, content)
    assert len(rendered) > len(domain["responses"])  # {titel} took every title
    bad = [(name, t) for name, t in rendered if DOUBLED_PUNCTUATION.search(t)]
    assert bad == []
    for where, text in user_texts(content).items():
        assert not DOUBLED_PUNCTUATION.search(text), where


def test_personal_advice_refers_to_whom_the_article_refers_to(domain):
    for name in ("utter_persoonlijk_advies", "utter_persoonlijk_advies_aanbod"):
        text = domain["responses"][name][0]["text"]
        assert "een arts of therapeut" in text
