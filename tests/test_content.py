"""Tests of the content file and its loader, including broken files."""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from faq.content import (
    CONTENT_TOPIC_IDS,
    CONVERSATION_TOPIC_IDS,
    DOSE_PATTERN,
    ContentError,
    load_content,
)
from tests.helpers import ROOT, SHARED, looks_dutch

CONTENT_FILE = ROOT / "content" / "kennisbank.yml"


def test_the_real_file_loads_every_contract_topic_and_source(content):
    assert tuple(content.topics) == CONTENT_TOPIC_IDS
    assert sorted(content.sources) == list(range(1, 16))
    assert content.topics["bronnen"].sources == tuple(range(1, 16))


@pytest.mark.skipif(not (SHARED / "topics.md").exists(), reason="shared/ not present")
def test_topic_ids_match_the_contract_in_shared_topics_md():
    text = (SHARED / "topics.md").read_text(encoding="utf-8")
    ids = re.findall(r"^\| ([a-z0-9_]+) \|", text, flags=re.MULTILINE)
    ids = [i for i in ids if i != "id"]
    assert ids == list(CONTENT_TOPIC_IDS) + list(CONVERSATION_TOPIC_IDS)


@pytest.mark.skipif(
    not (SHARED / "article").exists(), reason="shared/article not present"
)
def test_source_urls_are_exactly_the_articles(content):
    article = next((SHARED / "article").glob("*.txt")).read_text(encoding="utf-8")
    for source in content.sources.values():
        assert source.url in article, source.number


@pytest.mark.parametrize("topic_id", CONTENT_TOPIC_IDS)
def test_answers_are_short_dutch_and_dose_free(topic_id, content):
    topic = content.topics[topic_id]
    assert len(topic.short.split()) <= 70
    assert len(topic.long.split()) > len(topic.short.split())
    for text in (topic.short, topic.long):
        assert looks_dutch(text)
        assert not DOSE_PATTERN.search(text)
    assert 2 <= len(topic.related) <= 3


def test_no_answer_text_lives_outside_the_content_file(content):
    """The domain and the actions hold no sentence of any content answer."""
    places = [ROOT / "domain.yml", *sorted((ROOT / "actions").glob("*.py"))]
    haystack = "\n".join(p.read_text(encoding="utf-8") for p in places)
    for topic in content.topics.values():
        for sentence in re.split(r"(?<=[.!?])\s+", topic.short + " " + topic.long):
            if len(sentence) > 40:
                assert sentence not in haystack, (topic.id, sentence)


def write(tmp_path: Path, data) -> Path:
    path = tmp_path / "kennisbank.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def raw() -> dict:
    return yaml.safe_load(CONTENT_FILE.read_text(encoding="utf-8"))


def topic(data: dict, topic_id: str) -> dict:
    return next(t for t in data["topics"] if t["id"] == topic_id)


def _unknown_id(d):
    topic(d, "vitamine_k2")["id"] = "vitamine_k3"


def _missing_field(d):
    del topic(d, "magnesium_vormen")["short"]


def _source_out_of_range(d):
    topic(d, "vitamine_d_zonlicht")["sources"][1]["number"] = 16


def _unknown_related(d):
    topic(d, "disbalans_mg_d")["related"] = ["samenwerking_mg_d", "bestaat_niet"]


def _duplicate_topic(d):
    d["topics"].append(copy.deepcopy(topic(d, "bronnen")))


def _duplicate_source(d):
    d["sources"][1]["number"] = 1


def _missing_topic(d):
    d["topics"] = [t for t in d["topics"] if t["id"] != "tekort_symptomen"]


def _dose_in_answer(d):
    sentence = topic(d, "vitamine_d_supplementen")["short"][1]
    sentence["text"] = sentence["text"][:-1] + ", bijvoorbeeld 75 mcg per dag."


def _wrong_type(d):
    topic(d, "functie_vitamine_d")["related"] = "samenwerking_mg_d"


def _too_long(d):
    short = topic(d, "vitamine_d_voeding")["short"]
    short.extend(copy.deepcopy(short) * 3)


def _self_related(d):
    topic(d, "vitamine_k2")["related"] = ["vitamine_k2", "bronnen"]


@pytest.mark.parametrize(
    "break_it, topic_id, field",
    [
        (_unknown_id, "vitamine_k3", "id"),
        (_missing_field, "magnesium_vormen", "short"),
        (_source_out_of_range, "vitamine_d_zonlicht", "sources[1].number"),
        (_unknown_related, "disbalans_mg_d", "related"),
        (_duplicate_topic, "bronnen", "id"),
        (_duplicate_source, "sources[1]", "number"),
        (_missing_topic, None, "topics"),
        (_dose_in_answer, "vitamine_d_supplementen", "short[1].text"),
        (_wrong_type, "functie_vitamine_d", "related"),
        (_too_long, "vitamine_d_voeding", "short"),
        (_self_related, "vitamine_k2", "related"),
    ],
)
def test_a_broken_file_names_file_topic_and_field(
    break_it, topic_id, field, raw, tmp_path
):
    data = copy.deepcopy(raw)
    break_it(data)
    path = write(tmp_path, data)

    with pytest.raises(ContentError) as error:
        load_content(path)

    message = str(error.value)
    assert str(path) in message
    assert error.value.field == field and f"veld '{field}'" in message
    if topic_id:
        assert error.value.topic == topic_id and f"'{topic_id}'" in message


@pytest.mark.parametrize(
    "text, expected",
    [
        ("topics: [unclosed\n", "ongeldige YAML op regel"),
        ("- a\n- b\n", "YAML-mapping"),
    ],
)
def test_unparseable_files_are_reported(text, expected, tmp_path):
    path = tmp_path / "kapot.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ContentError, match=expected):
        load_content(path)


def test_a_missing_file_is_reported(tmp_path):
    with pytest.raises(ContentError, match="kan het bestand niet lezen"):
        load_content(tmp_path / "bestaat-niet.yml")


def run_python(args, content_file: Path):
    env = {**os.environ, "FAQ_CONTENT_FILE": str(content_file)}
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_cli_and_action_server_stop_on_a_broken_file_without_a_traceback(raw, tmp_path):
    data = copy.deepcopy(raw)
    _unknown_related(data)
    path = write(tmp_path, data)

    for args in (["-m", "faq.content"], ["-c", "import actions.base"]):
        result = run_python(args, path)
        assert result.returncode != 0
        assert "Traceback" not in result.stderr
        assert "disbalans_mg_d" in result.stderr and "related" in result.stderr


def test_cli_accepts_the_real_file():
    result = run_python(["-m", "faq.content"], CONTENT_FILE)
    assert result.returncode == 0
    assert "17 topics, 15 bronnen" in result.stdout


# --- grounding, sources and amounts in the loader --------------------------------


def _no_basis(d):
    del topic(d, "samenwerking_mg_d")["short"][0]["basis"]


def _quote_not_in_article(d):
    topic(d, "functie_vitamine_d")["long"][0][0]["basis"] = "Vitamine D geneest alles."


def _quote_cut_from_its_condition(d):
    # The distortion: the quote drops "als je te weinig binnenkrijgt …".
    sentence = topic(d, "vitamine_d_tekort_ondanks_magnesium")["short"][2]
    sentence["basis"] = "het voorkomt niet dat je een tekort krijgt"


def _two_sentences_in_one_text(d):
    topic(d, "magnesium_voeding")["short"][0]["text"] = "Eet noten. Eet zaden."


def _source_without_why(d):
    del topic(d, "disbalans_mg_d")["sources"][0]["why"]


def _bare_source_number(d):
    topic(d, "disbalans_mg_d")["sources"][0] = 6


def _citation_the_article_does_not_give(d):
    d["sources"][14]["citation"] = "ahealthylife.nl, website van Juglen Zwaan"


def _note_beside_sources(d):
    topic(d, "samenwerking_mg_d")["sources_note"] = "Het artikel noemt geen bron."


def _unknown_sentence_field(d):
    topic(d, "tekort_symptomen")["short"][0]["bron"] = 3


@pytest.mark.parametrize(
    "break_it, topic_id, field, reason",
    [
        (_no_basis, "samenwerking_mg_d", "short[0].basis", "zin zonder basis"),
        (
            _quote_not_in_article,
            "functie_vitamine_d",
            "long[0][0].basis[0]",
            "komt niet (letterlijk) voor in het artikel",
        ),
        (
            _quote_cut_from_its_condition,
            "vitamine_d_tekort_ondanks_magnesium",
            "short[2].basis[0]",
            "geen hele zin",
        ),
        (_two_sentences_in_one_text, "magnesium_voeding", "short[0].text", "één zin"),
        (_source_without_why, "disbalans_mg_d", "sources[0].why", "waarom"),
        (_bare_source_number, "disbalans_mg_d", "sources[0]", "'number' en 'why'"),
        (
            _citation_the_article_does_not_give,
            "sources[14]",
            "citation",
            "staat zo niet in de bronnenlijst",
        ),
        (_note_beside_sources, "samenwerking_mg_d", "sources_note", "zonder bronnen"),
        (_unknown_sentence_field, "tekort_symptomen", "short[0]", "onbekend veld"),
    ],
)
def test_grounding_and_source_errors_name_topic_field_and_reason(
    break_it, topic_id, field, reason, raw, tmp_path
):
    data = copy.deepcopy(raw)
    break_it(data)

    with pytest.raises(ContentError) as error:
        load_content(write(tmp_path, data))

    assert (error.value.topic, error.value.field) == (topic_id, field)
    assert reason in str(error.value)


SUN = "Voor voldoende aanmaak heb je dagelijks 15 tot 30 minuten blootstelling van een groot deel van je huid nodig."  # noqa: E501


def _with_sentence(raw: dict, text: str, basis: str = SUN) -> dict:
    data = copy.deepcopy(raw)
    topic(data, "vitamine_d_zonlicht")["short"][1] = {"text": text, "basis": basis}
    return data


def test_the_articles_general_sun_amount_may_be_quoted_with_attribution(content):
    sentence = content.topics["vitamine_d_zonlicht"].short_sentences[1]
    assert "15 tot 30 minuten" in sentence.text
    assert sentence.text.startswith("Volgens het artikel")
    assert SUN in sentence.basis


@pytest.mark.parametrize(
    "text, reason",
    [
        (
            "Voor voldoende aanmaak heb je dagelijks 15 tot 30 minuten zon op een "
            "groot deel van je huid nodig.",
            "zonder te zeggen dat het artikel",
        ),
        (
            "Volgens het artikel heb je dagelijks 20 minuten zon nodig.",
            "niet in de basis",
        ),
        (
            "Voor jou is volgens het artikel dagelijks 15 tot 30 minuten genoeg.",
            "voor de gebruiker zelf",
        ),
        (
            "Volgens het artikel is 10 µg vitamine D per dag genoeg.",
            "supplement",
        ),
        ("Neem volgens het artikel twee tabletten per dag.", "supplement"),
        ("Het artikel noemt geen aantal tabletten per dag.", "supplement"),
        ("Volgens het artikel helpt 1000 IE in de winter.", "supplement"),
    ],
)
def test_amounts_other_than_the_articles_general_statement_are_refused(
    text, reason, raw, tmp_path
):
    with pytest.raises(ContentError) as error:
        load_content(write(tmp_path, _with_sentence(raw, text)))

    assert error.value.topic == "vitamine_d_zonlicht"
    assert error.value.field == "short[1].text"
    assert reason in str(error.value)


def test_an_amount_in_a_title_or_why_is_refused(raw, tmp_path):
    for change, field in (
        (lambda t: t.update(title="Vitamine D: 400 IE per dag?"), "title"),
        (
            lambda t: t["sources"][0].update(why="Noemt 15 minuten zon."),
            "sources[0].why",
        ),
    ):
        data = copy.deepcopy(raw)
        change(topic(data, "vitamine_d_zonlicht"))
        with pytest.raises(ContentError) as error:
            load_content(write(tmp_path, data))
        assert (error.value.topic, error.value.field) == ("vitamine_d_zonlicht", field)


def _shared_article() -> Path:
    """The client's article next to the repository (../shared), if present."""
    for shared in (SHARED, ROOT.parent.parent / "shared"):
        found = sorted((shared / "article").glob("*.txt"))
        if found:
            return found[0]
    return Path()


@pytest.mark.skipif(
    not _shared_article().is_file(), reason="../shared/article not present"
)
def test_the_committed_article_copy_matches_the_shared_article():
    assert (ROOT / "content" / "artikel.txt").read_bytes() == (
        _shared_article().read_bytes()
    )


def test_a_missing_article_is_reported(tmp_path):
    with pytest.raises(ContentError, match="kan het bestand niet lezen"):
        load_content(CONTENT_FILE, tmp_path / "geen-artikel.txt")


def test_every_answer_sentence_has_a_basis_in_the_article(content):
    article = content.article
    sentences = [s for t in content.topics.values() for _, _, s in t.sentences()]
    assert len(sentences) > 150
    for sentence in sentences:
        assert sentence.basis
        assert all(article.quote_problem(q) is None for q in sentence.basis)
    for topic_ in content.topics.values():
        rebuilt = " ".join(s.text for s in topic_.short_sentences)
        assert " ".join(topic_.short.split()) == rebuilt
