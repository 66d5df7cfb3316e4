"""Tests of every custom action, with rasa-sdk Tracker and CollectingDispatcher."""

from __future__ import annotations

import pytest
from rasa_sdk.events import SlotSet, UserUtteranceReverted

from actions import config
from actions.answers import (
    ActionAffirm,
    ActionAnswerTopic,
    ActionFollowUpNutrient,
    ActionHelpInContext,
    ActionOutOfDomain,
    ActionSources,
    ActionTellMore,
)
from actions.base import DEFAULT_SUGGESTIONS
from actions.conversation import (
    ActionCustomerService,
    ActionDecline,
    ActionGreet,
    ActionHelp,
    ActionKnowledgeBase,
    ActionPersonalAdvice,
)
from actions.fallback import ActionFallback
from faq.content import CONTENT_TOPIC_IDS, DOSE_PATTERN, get_content
from tests.helpers import looks_dutch, make_tracker


@pytest.fixture(autouse=True)
def no_feedback_question(monkeypatch):
    """These tests are about the replies; tests/test_feedback.py covers feedback."""
    monkeypatch.setattr(config, "FEEDBACK_INTERVAL", 0)


async def run(action, dispatcher, tracker, domain):
    events = await action.run(dispatcher, tracker, domain)
    assert isinstance(events, list)
    assert len(dispatcher.messages) == 1, "every action sends exactly one message"
    return events, dispatcher.messages[0]


def slot(events, name):
    values = [e["value"] for e in events if e == SlotSet(name, e.get("value"))]
    return values[-1] if values else "<not set>"


@pytest.mark.parametrize("topic_id", [t for t in CONTENT_TOPIC_IDS if t != "bronnen"])
async def test_answer_topic_gives_short_answer_with_sources(
    topic_id, dispatcher, domain, content
):
    topic = content.topics[topic_id]
    events, message = await run(
        ActionAnswerTopic(), dispatcher, make_tracker(topic_id), domain
    )

    assert message["custom"]["topic"] == topic_id
    assert message["custom"]["sources"] == list(topic.sources)
    assert message["custom"]["answer"] == "kort"
    assert message["text"].startswith(topic.short)
    assert looks_dutch(message["text"])
    for number in topic.sources:
        assert f"[{number}]" in message["text"]
        assert content.sources[number].url in message["text"]
    if topic.sources:
        assert "\n\nUit de bronnenlijst van het artikel:\n" in message["text"]
    else:
        assert message["text"].endswith(topic.sources_note)
    assert 2 <= len(message["buttons"]) <= 3
    assert {b["payload"] for b in message["buttons"]} == {
        f"/{t}" for t in topic.related[:3]
    }
    assert all(
        b["title"] == content.topics[b["payload"][1:]].title for b in message["buttons"]
    )
    assert slot(events, "laatste_topic") == topic_id


async def test_answer_topic_for_a_non_content_intent_falls_back(dispatcher, domain):
    _, message = await run(
        ActionAnswerTopic(), dispatcher, make_tracker("groet"), domain
    )

    assert message["custom"]["topic"] == "fallback"
    assert message["response"] == "utter_niet_begrepen"


@pytest.mark.parametrize(
    "topic_id", ["magnesium_vormen", "disbalans_mg_d", "vitamine_k2"]
)
async def test_tell_more_gives_the_long_answer_of_the_last_topic(
    topic_id, dispatcher, domain, content
):
    tracker = make_tracker("meer", slots={"laatste_topic": topic_id})
    _, message = await run(ActionTellMore(), dispatcher, tracker, domain)

    assert message["custom"] == {
        **message["custom"],
        "topic": topic_id,
        "sources": list(content.topics[topic_id].sources),
        "answer": "lang",
    }
    assert message["text"].startswith(content.topics[topic_id].long)


async def test_tell_more_without_a_topic_asks_which_topic(dispatcher, domain):
    _, message = await run(ActionTellMore(), dispatcher, make_tracker("meer"), domain)

    assert message["custom"]["topic"] == "hulp"
    assert message["response"] == "utter_meer_zonder_topic"
    assert [b["payload"] for b in message["buttons"]] == [
        f"/{t}" for t in DEFAULT_SUGGESTIONS
    ]


async def test_sources_after_a_topic_lists_that_topics_sources_with_urls(
    dispatcher, domain, content
):
    topic = content.topics["magnesium_activeert_vitamine_d"]
    tracker = make_tracker("bronnen", slots={"laatste_topic": topic.id})
    events, message = await run(ActionSources(), dispatcher, tracker, domain)

    assert message["custom"]["topic"] == topic.id
    assert message["custom"]["sources"] == list(topic.sources)
    assert [s["url"] for s in message["custom"]["source_links"]] == [
        content.sources[n].url for n in topic.sources
    ]
    for number in topic.sources:
        assert content.sources[number].url in message["text"]
        assert topic.source_reasons[number] in message["text"]
    assert "passen volgens hun beschrijving" in message["text"]
    other = set(content.sources) - set(topic.sources)
    assert not any(content.sources[n].url in message["text"] for n in other - {11, 4})
    assert message["buttons"][0]["payload"] == '/bronnen{"bereik": "alle"}'
    assert slot(events, "laatste_topic") == "<not set>"


@pytest.mark.parametrize(
    "slots, entities",
    [
        ({}, []),
        ({"laatste_topic": "bronnen"}, []),
        (
            {"laatste_topic": "vitamine_k2"},
            [{"entity": "bereik", "value": "alle"}],
        ),
    ],
)
async def test_sources_without_a_topic_lists_all_fifteen(
    slots, entities, dispatcher, domain, content
):
    tracker = make_tracker("bronnen", slots=slots, entities=entities)
    events, message = await run(ActionSources(), dispatcher, tracker, domain)

    assert message["custom"]["topic"] == "bronnen"
    assert message["custom"]["sources"] == list(range(1, 16))
    for source in content.sources.values():
        assert source.url in message["text"]
    assert slot(events, "laatste_topic") == "bronnen"


@pytest.mark.parametrize(
    "last, nutrient, expected",
    [
        ("vitamine_d_voeding", "magnesium", "magnesium_voeding"),
        ("magnesium_voeding", "vitamine_d", "vitamine_d_voeding"),
        ("vitamine_d_supplementen", "magnesium", "magnesium_vormen"),
        ("vitamine_d_supplementen", "vitamine_k2", "vitamine_k2"),
        (None, "magnesium", "magnesium_voeding"),
        (None, "vitamine_k2", "vitamine_k2"),
    ],
)
async def test_follow_up_switches_to_the_other_nutrient(
    last, nutrient, expected, dispatcher, domain
):
    tracker = make_tracker(
        "vervolg",
        slots={"laatste_topic": last} if last else {},
        entities=[{"entity": "stof", "value": nutrient}],
    )
    events, message = await run(ActionFollowUpNutrient(), dispatcher, tracker, domain)

    assert message["custom"]["topic"] == expected
    assert slot(events, "laatste_topic") == expected
    counterparts = get_content().topics[last].counterparts if last else {}
    assert (message["custom"].get("via") == "context") == (nutrient in counterparts)


async def test_follow_up_without_a_nutrient_falls_back(dispatcher, domain):
    events, message = await run(
        ActionFollowUpNutrient(), dispatcher, make_tracker("vervolg"), domain
    )

    assert message["custom"]["topic"] == "fallback"
    assert message["buttons"]
    assert UserUtteranceReverted() not in events


async def test_affirm_answers_the_offered_topic(dispatcher, domain, content):
    tracker = make_tracker(
        "bevestigen", slots={"aangeboden_topic": "vitamine_d_supplementen"}
    )
    events, message = await run(ActionAffirm(), dispatcher, tracker, domain)

    assert message["custom"]["topic"] == "vitamine_d_supplementen"
    assert message["text"].startswith(content.topics["vitamine_d_supplementen"].short)
    assert slot(events, "aangeboden_topic") is None


async def test_affirm_after_an_answer_tells_more(dispatcher, domain):
    tracker = make_tracker("bevestigen", slots={"laatste_topic": "vitamine_k2"})
    _, message = await run(ActionAffirm(), dispatcher, tracker, domain)

    assert message["custom"]["topic"] == "vitamine_k2"
    assert message["custom"]["answer"] == "lang"


async def test_a_bare_ok_after_an_answer_is_acknowledged(dispatcher, domain):
    tracker = make_tracker(
        "bevestigen", slots={"laatste_topic": "vitamine_k2"}, text="ok top"
    )
    events, message = await run(ActionAffirm(), dispatcher, tracker, domain)

    assert message["custom"]["topic"] == "bedankt"
    assert message["response"] == "utter_oke"
    assert slot(events, "aangeboden_topic") is None


async def test_ok_still_accepts_an_offer(dispatcher, domain):
    tracker = make_tracker(
        "bevestigen",
        slots={"laatste_topic": "vitamine_k2", "aangeboden_topic": "magnesium_vormen"},
        text="ok",
    )
    _, message = await run(ActionAffirm(), dispatcher, tracker, domain)

    assert message["custom"]["topic"] == "magnesium_vormen"


@pytest.mark.parametrize(
    ("slots", "text", "response"),
    [
        ({"laatste_topic": "vitamine_k2"}, "nee hoor, dank je", "utter_oke"),
        ({"laatste_topic": "vitamine_k2"}, "nee", "utter_ontkennen"),
        (
            {"laatste_topic": "vitamine_k2", "aangeboden_topic": "magnesium_vormen"},
            "nee dank je",
            "utter_ontkennen",
        ),
        ({}, "nee bedankt", "utter_ontkennen"),
    ],
)
async def test_no_closes_or_declines(dispatcher, domain, slots, text, response):
    tracker = make_tracker("ontkennen", slots=slots, text=text)
    events, message = await run(ActionDecline(), dispatcher, tracker, domain)

    assert message["response"] == response
    topic = "bedankt" if response == "utter_oke" else "hulp"
    assert message["custom"]["topic"] == topic
    assert slot(events, "aangeboden_topic") is None


async def test_a_question_taken_for_no_is_answered_from_context(
    dispatcher, domain, content
):
    tracker = make_tracker(
        "ontkennen",
        slots={"laatste_topic": "tekort_vaststellen"},
        text="maar zo'n bloedtest zegt toch niet alles?",
        ranking=[
            {"name": "ontkennen", "confidence": 0.7},
            {"name": "meer", "confidence": 0.1},
        ],
    )
    events, message = await run(ActionDecline(), dispatcher, tracker, domain)

    topic = content.topics["tekort_vaststellen"]
    assert message["custom"]["topic"] == "tekort_vaststellen"
    assert message["custom"]["via"] == "context"
    assert message["custom"]["sources"] == list(topic.sources)
    assert slot(events, "laatste_topic") == "tekort_vaststellen"


async def test_affirm_without_context_offers_help(dispatcher, domain):
    _, message = await run(
        ActionAffirm(), dispatcher, make_tracker("bevestigen"), domain
    )

    assert message["custom"]["topic"] == "hulp"
    assert message["response"] == "utter_hulp"


async def test_personal_advice_declines_and_offers_the_closest_topic(
    dispatcher, domain, content
):
    ranking = [
        {"name": "persoonlijk_advies", "confidence": 0.8},
        {"name": "vitamine_d_supplementen", "confidence": 0.1},
        {"name": "groet", "confidence": 0.05},
        {"name": "vitamine_k2", "confidence": 0.03},
    ]
    tracker = make_tracker(
        "persoonlijk_advies",
        ranking=ranking,
        text="hoeveel IE vitamine d moet ik slikken nu ik zwanger ben?",
    )
    events, message = await run(ActionPersonalAdvice(), dispatcher, tracker, domain)

    assert message["custom"] == {"topic": "persoonlijk_advies", "sources": []}
    assert message["response"] == "utter_persoonlijk_advies_aanbod"
    assert message["titel"] == content.topics["vitamine_d_supplementen"].title
    assert [b["payload"] for b in message["buttons"]] == [
        "/vitamine_d_supplementen",
        "/vitamine_k2",
    ]
    assert slot(events, "aangeboden_topic") == "vitamine_d_supplementen"
    text = domain["responses"]["utter_persoonlijk_advies_aanbod"][0]["text"]
    assert "arts" in text and not DOSE_PATTERN.search(text)


@pytest.mark.parametrize(
    "text, offered",
    [
        (
            "ik ben zwanger, hoeveel IE vitamine d mag ik slikken?",
            "vitamine_d_supplementen",
        ),
        ("mag mijn zoon van 3 magnesium?", "magnesium_vormen"),
        ("moet ik met k2 stoppen, ik slik bloedverdunners", "vitamine_k2"),
        ("mijn waarde is 30 nmol/l, is dat te laag?", "tekort_vaststellen"),
    ],
)
async def test_personal_advice_finds_the_general_topic_in_the_words(
    text, offered, dispatcher, domain
):
    ranking = [{"name": "persoonlijk_advies", "confidence": 0.999}]
    tracker = make_tracker("persoonlijk_advies", ranking=ranking, text=text)
    events, message = await run(ActionPersonalAdvice(), dispatcher, tracker, domain)

    assert message["buttons"][0]["payload"] == f"/{offered}"
    assert slot(events, "aangeboden_topic") == offered


async def test_personal_advice_about_the_last_answer_offers_that_topic(
    dispatcher, domain
):
    # "die" = the supplements just explained; "bloeddrukpillen" is no blood test
    ranking = [
        {"name": "persoonlijk_advies", "confidence": 0.9},
        {"name": "tekort_vaststellen", "confidence": 0.05},
    ]
    tracker = make_tracker(
        "persoonlijk_advies",
        ranking=ranking,
        text="kan ik die gewoon nemen met mijn bloeddrukpillen?",
        slots={"laatste_topic": "vitamine_d_supplementen"},
    )
    events, message = await run(ActionPersonalAdvice(), dispatcher, tracker, domain)

    assert message["custom"]["topic"] == "persoonlijk_advies"
    assert message["buttons"][0]["payload"] == "/vitamine_d_supplementen"
    assert slot(events, "aangeboden_topic") == "vitamine_d_supplementen"


@pytest.mark.parametrize(
    "text, confidence, answered",
    [
        # unsure advice reading of a bare question about a word just said
        ("welke medicijnen bedoel je?", 0.7, True),
        # the advice rules' certainty, the visitor's own medicines, and a
        # word the answer did not say stay refusals
        ("welke medicijnen bedoel je?", 0.9, False),
        ("en mijn medicijnen?", 0.7, False),
        ("en antibiotica?", 0.7, False),
    ],
)
async def test_an_unsure_advice_reading_of_what_the_answer_named(
    text, confidence, answered, dispatcher, domain
):
    ranking = [
        {"name": "persoonlijk_advies", "confidence": confidence},
        {"name": "magnesium_voeding", "confidence": 0.1},
    ]
    tracker = make_tracker(
        "persoonlijk_advies",
        ranking=ranking,
        text=text,
        slots={"laatste_topic": "magnesium_voeding"},
    )
    events, message = await run(ActionPersonalAdvice(), dispatcher, tracker, domain)

    if answered:
        assert message["custom"]["topic"] == "magnesium_voeding"
        assert message["custom"]["via"] == "context"
        assert message["custom"]["sources"]
        assert "medicijnen" in message["text"]
    else:
        assert message["custom"]["topic"] == "persoonlijk_advies"


async def test_personal_advice_without_a_related_topic(dispatcher, domain):
    tracker = make_tracker(
        "persoonlijk_advies", ranking=[{"name": "persoonlijk_advies", "confidence": 1}]
    )
    events, message = await run(ActionPersonalAdvice(), dispatcher, tracker, domain)

    assert message["response"] == "utter_persoonlijk_advies"
    assert message["custom"]["topic"] == "persoonlijk_advies"
    assert slot(events, "aangeboden_topic") is None


async def test_fallback_asks_which_of_the_two_likeliest_topics(
    dispatcher, domain, content
):
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.5},
        {"name": "vitamine_d_zonlicht", "confidence": 0.4},
        {"name": "buiten_domein", "confidence": 0.2},
        {"name": "vitamine_d_tekort_risicogroepen", "confidence": 0.3},
        {"name": "functie_vitamine_d", "confidence": 0.1},
        {"name": "vitamine_k2", "confidence": 0.05},
    ]
    tracker = make_tracker("nlu_fallback", ranking=ranking, text="zon winter?")
    events, message = await run(ActionFallback(), dispatcher, tracker, domain)

    assert message["custom"] == {"topic": "fallback", "sources": []}
    assert message["response"] == "utter_welke_van_twee"
    assert [b["payload"] for b in message["buttons"]] == [
        "/vitamine_d_zonlicht",
        "/vitamine_d_tekort_risicogroepen",
    ]
    titles = [content.topics[t].title for t in ("vitamine_d_zonlicht",)]
    assert message["buttons"][0]["title"] == titles[0]
    assert message["eerste"] == content.topics["vitamine_d_zonlicht"].title
    assert message["tweede"] == content.topics["vitamine_d_tekort_risicogroepen"].title
    assert slot(events, "aangeboden_topic") == "vitamine_d_zonlicht"
    assert UserUtteranceReverted() not in events
    text = domain["responses"]["utter_welke_van_twee"][0]["text"]
    assert looks_dutch(text) and "Did you mean" not in text
    assert "{eerste}" in text and "{tweede}" in text


async def test_fallback_with_one_candidate_offers_it_and_a_core_topic(
    dispatcher, domain
):
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.5},
        {"name": "vitamine_k2", "confidence": 0.3},
        {"name": "buiten_domein", "confidence": 0.2},
    ]
    tracker = make_tracker("nlu_fallback", ranking=ranking, text="k2??")
    _, message = await run(ActionFallback(), dispatcher, tracker, domain)

    assert message["response"] == "utter_niet_zeker"
    assert message["buttons"][0]["payload"] == "/vitamine_k2"
    assert len(message["buttons"]) == 2


async def test_fallback_answers_an_elliptical_follow_up_from_context(
    dispatcher, domain, content
):
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.6},
        {"name": "meer", "confidence": 0.3},
        {"name": "tekort_symptomen", "confidence": 0.2},
    ]
    tracker = make_tracker(
        "nlu_fallback",
        ranking=ranking,
        text="hoe stel je dat dan vast?",
        slots={"laatste_topic": "tekort_symptomen"},
    )
    events, message = await run(ActionFallback(), dispatcher, tracker, domain)

    assert message["custom"]["topic"] == "tekort_vaststellen"
    assert message["custom"]["via"] == "context"
    assert message["custom"]["sources"] == list(
        content.topics["tekort_vaststellen"].sources
    )
    assert slot(events, "laatste_topic") == "tekort_vaststellen"


async def test_fallback_keeps_a_message_echoing_the_last_answer_there(
    dispatcher, domain, content
):
    # the answer on magnesium in food names coffee among what raises the need
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.44},
        {"name": "buiten_domein", "confidence": 0.3},
        {"name": "vitamine_d_zonlicht", "confidence": 0.1},
    ]
    tracker = make_tracker(
        "nlu_fallback",
        ranking=ranking,
        text="en koffie?",
        slots={"laatste_topic": "magnesium_voeding"},
    )
    events, message = await run(ActionFallback(), dispatcher, tracker, domain)

    assert message["custom"]["topic"] == "magnesium_voeding"
    assert message["custom"]["via"] == "context"
    assert "koffie" in message["text"]


async def test_why_magnesium_with_the_supplement_is_the_article_s_faq(
    dispatcher, domain
):
    tracker = make_tracker(
        "vervolg",
        text="en waarom dan ook magnesium erbij?",
        slots={"laatste_topic": "vitamine_d_supplementen"},
        entities=[{"entity": "stof", "value": "magnesium"}],
    )
    events, message = await run(ActionFollowUpNutrient(), dispatcher, tracker, domain)

    assert message["custom"]["topic"] == "magnesium_activeert_vitamine_d"
    assert slot(events, "laatste_topic") == "magnesium_activeert_vitamine_d"


async def test_answer_topic_lets_the_context_decide_an_elliptical_message(
    dispatcher, domain
):
    tracker = make_tracker(
        "tekort_symptomen",
        text="en wat als je er te weinig van hebt?",
        slots={"laatste_topic": "functie_vitamine_d"},
    )
    events, message = await run(ActionAnswerTopic(), dispatcher, tracker, domain)

    assert message["custom"]["topic"] == "vitamine_d_tekort_gevolgen"
    assert message["custom"]["via"] == "context"
    assert slot(events, "laatste_topic") == "vitamine_d_tekort_gevolgen"


async def test_answer_topic_keeps_a_message_that_stands_alone(dispatcher, domain):
    tracker = make_tracker(
        "tekort_symptomen",
        text="wat zijn de klachten bij een magnesiumtekort",
        slots={"laatste_topic": "functie_vitamine_d"},
    )
    _, message = await run(ActionAnswerTopic(), dispatcher, tracker, domain)

    assert message["custom"]["topic"] == "tekort_symptomen"
    assert "via" not in message["custom"]


async def test_a_button_payload_is_marked_as_such(dispatcher, domain):
    tracker = make_tracker("vitamine_k2", text="/vitamine_k2")
    _, message = await run(ActionAnswerTopic(), dispatcher, tracker, domain)

    assert message["custom"]["topic"] == "vitamine_k2"
    assert message["custom"]["via"] == "knop"


@pytest.mark.parametrize(
    ("last", "other"),
    [
        ("magnesium_activeert_vitamine_d", "vitamine_d_verhoogt_magnesiumbehoefte"),
        ("vitamine_d_verhoogt_magnesiumbehoefte", "magnesium_activeert_vitamine_d"),
    ],
)
async def test_the_other_way_round_goes_to_the_other_direction(
    last, other, dispatcher, domain
):
    tracker = make_tracker(
        "vervolg", text="geldt dat ook omgekeerd?", slots={"laatste_topic": last}
    )
    events, message = await run(ActionFollowUpNutrient(), dispatcher, tracker, domain)

    assert message["custom"]["topic"] == other
    assert message["custom"]["via"] == "context"
    assert slot(events, "laatste_topic") == other


async def test_core_fallback_reverts_the_turn(dispatcher, domain):
    tracker = make_tracker("groet", ranking=[{"name": "groet", "confidence": 0.2}])
    events, message = await run(ActionFallback(), dispatcher, tracker, domain)

    assert message["response"] == "utter_niet_begrepen"
    assert events[0] == UserUtteranceReverted()


async def test_help_lists_core_topics(dispatcher, domain):
    _, message = await run(ActionHelp(), dispatcher, make_tracker("hulp"), domain)

    assert message["custom"]["topic"] == "hulp"
    assert len(message["buttons"]) == 3


async def test_customer_service_uses_only_configured_details(
    dispatcher, domain, monkeypatch
):
    monkeypatch.setattr(config, "CUSTOMER_SERVICE_EMAIL", "service@example.nl")
    monkeypatch.setattr(config, "CUSTOMER_SERVICE_PHONE", None)
    monkeypatch.setattr(config, "CUSTOMER_SERVICE_URL", None)
    monkeypatch.setattr(config, "CUSTOMER_SERVICE_HOURS", None)
    _, message = await run(
        ActionCustomerService(), dispatcher, make_tracker("medewerker"), domain
    )

    assert message["custom"] == {"topic": "medewerker", "sources": [], "handoff": True}
    assert message["response"] == "utter_medewerker"
    assert message["contactgegevens"] == "E-mail: service@example.nl"


async def test_customer_service_without_configuration_invents_nothing(
    dispatcher, domain, monkeypatch
):
    for name in ("EMAIL", "PHONE", "URL", "HOURS"):
        monkeypatch.setattr(config, f"CUSTOMER_SERVICE_{name}", None)
    _, message = await run(
        ActionCustomerService(), dispatcher, make_tracker("medewerker"), domain
    )

    assert message["response"] == "utter_medewerker_zonder_gegevens"
    text = domain["responses"]["utter_medewerker_zonder_gegevens"][0]["text"]
    assert "@" not in text and not any(ch.isdigit() for ch in text)


@pytest.mark.parametrize(
    "kb_url, response",
    [
        ("https://example.nl/kennisbank", "utter_kennisbank"),
        (None, "utter_kennisbank_zonder_links"),
    ],
)
async def test_knowledge_base(kb_url, response, dispatcher, domain, monkeypatch):
    monkeypatch.setattr(config, "KNOWLEDGE_BASE_URL", kb_url)
    monkeypatch.setattr(config, "MAGNESIUM_TEST_URL", None)
    _, message = await run(
        ActionKnowledgeBase(), dispatcher, make_tracker("kennisbank"), domain
    )

    assert message["custom"]["topic"] == "kennisbank"
    assert message["response"] == response
    if kb_url:
        assert message["links"] == f"Kennisbank: {kb_url}"


def test_every_response_an_action_names_exists_in_the_domain(domain):
    import re

    from tests.helpers import ROOT

    named = set()
    for path in (ROOT / "actions").glob("*.py"):
        named |= set(re.findall(r'"(utter_[a-z_]+)"', path.read_text(encoding="utf-8")))
    assert named, "actions name responses"
    assert named <= set(domain["responses"])


@pytest.mark.parametrize(
    ("text", "last", "topic"),
    [
        ("wat voor weer wordt het morgen?", "magnesium_vormen", "buiten_domein"),
        ("kan het ook gewoon via eten?", "magnesium_vormen", "magnesium_voeding"),
        ("kan het ook gewoon via eten?", None, "buiten_domein"),
        ("en wat doet zink dan?", "functie_vitamine_d", "buiten_domein"),
    ],
)
async def test_out_of_domain_unless_the_context_makes_it_clear(
    text, last, topic, dispatcher, domain
):
    tracker = make_tracker(
        "buiten_domein", text=text, slots={"laatste_topic": last} if last else {}
    )
    events, message = await run(ActionOutOfDomain(), dispatcher, tracker, domain)

    assert message["custom"]["topic"] == topic
    if topic == "buiten_domein":
        assert message["response"] == "utter_buiten_domein"
        assert message["custom"]["sources"] == []
        assert "via" not in message["custom"]
    else:
        assert message["custom"]["via"] == "context"
        assert slot(events, "laatste_topic") == topic


async def test_tell_more_follows_a_question_about_the_next_step(dispatcher, domain):
    tracker = make_tracker(
        "meer",
        text="hoe stel je dat dan vast?",
        slots={"laatste_topic": "tekort_symptomen"},
    )
    _, message = await run(ActionTellMore(), dispatcher, tracker, domain)

    assert message["custom"]["topic"] == "tekort_vaststellen"
    assert message["custom"]["answer"] == "kort"
    assert message["custom"]["via"] == "context"


async def test_help_unless_the_context_makes_it_a_follow_up(dispatcher, domain):
    tracker = make_tracker("hulp", text="wat kan ik je allemaal vragen?")
    _, message = await run(ActionHelpInContext(), dispatcher, tracker, domain)
    assert message["response"] == "utter_hulp"
    assert message["custom"]["topic"] == "hulp"

    dispatcher.messages.clear()
    tracker = make_tracker(
        "hulp",
        text="wat kun je daaraan doen?",
        slots={"laatste_topic": "vitamine_d_tekort_risicogroepen"},
    )
    _, message = await run(ActionHelpInContext(), dispatcher, tracker, domain)
    assert message["custom"]["topic"] == "vitamine_d_supplementen"
    assert message["custom"]["via"] == "context"


async def test_fallback_acknowledges_a_bare_ok_after_an_answer(dispatcher, domain):
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.5},
        {"name": "bevestigen", "confidence": 0.4},
        {"name": "meer", "confidence": 0.39},
    ]
    tracker = make_tracker(
        "nlu_fallback",
        ranking=ranking,
        text="ok snap ik",
        slots={"laatste_topic": "tekort_symptomen"},
    )
    events, message = await run(ActionFallback(), dispatcher, tracker, domain)

    assert message["custom"]["topic"] == "bedankt"
    assert message["response"] == "utter_oke"
    assert slot(events, "laatste_topic") == "<not set>"  # the last topic stays


@pytest.mark.parametrize(
    "last, topic, response",
    [(None, "groet", "utter_groet"), ("vitamine_k2", "afscheid", "utter_afscheid")],
)
async def test_dag_greets_at_the_start_and_says_goodbye_after_an_answer(
    last, topic, response, dispatcher, domain
):
    slots = {"laatste_topic": last} if last else {}
    tracker = make_tracker("groet", slots=slots, text="dag!")
    _, message = await run(ActionGreet(), dispatcher, tracker, domain)

    assert message["custom"]["topic"] == topic
    assert message["response"] == response
    assert message["custom"]["sources"] == []


async def test_ok_with_a_goodbye_after_an_answer_says_goodbye(dispatcher, domain):
    tracker = make_tracker(
        "bevestigen", slots={"laatste_topic": "vitamine_k2"}, text="oke doei"
    )
    _, message = await run(ActionAffirm(), dispatcher, tracker, domain)

    assert message["custom"]["topic"] == "afscheid"
    assert message["response"] == "utter_afscheid"


# ------------------------------------------------- follow-ups in context (round 6)


async def test_how_to_test_after_an_answer_is_a_follow_up_not_the_shop_test(
    dispatcher, domain, monkeypatch
):
    monkeypatch.setattr(config, "KNOWLEDGE_BASE_URL", None)
    monkeypatch.setattr(config, "MAGNESIUM_TEST_URL", None)
    last = {"laatste_topic": "vitamine_d_tekort_risicogroepen"}
    tracker = make_tracker("kennisbank", text="en hoe test je dat?", slots=last)
    events, message = await run(ActionKnowledgeBase(), dispatcher, tracker, domain)

    assert message["custom"]["topic"] == "tekort_vaststellen"
    assert message["custom"]["via"] == "context"
    assert message["custom"]["sources"]
    assert slot(events, "laatste_topic") == "tekort_vaststellen"


@pytest.mark.parametrize(
    "text",
    [
        "en waar staat die magnesiumtest op jullie site?",
        # a test somewhere, one to fill in: the shop's own test
        "bestaat er ergens zo'n test voor thuis?",
        "is er een vragenlijst om in te vullen?",
    ],
)
async def test_naming_the_shop_test_gets_the_knowledge_base_after_an_answer(
    dispatcher, domain, monkeypatch, text
):
    monkeypatch.setattr(config, "KNOWLEDGE_BASE_URL", None)
    monkeypatch.setattr(config, "MAGNESIUM_TEST_URL", None)
    last = {"laatste_topic": "tekort_vaststellen"}
    tracker = make_tracker("kennisbank", text=text, slots=last)
    _, message = await run(ActionKnowledgeBase(), dispatcher, tracker, domain)

    assert message["custom"]["topic"] == "kennisbank"
    assert message["response"] == "utter_kennisbank_zonder_links"


async def test_who_can_help_with_that_after_the_blood_test_is_no_handoff(
    dispatcher, domain, monkeypatch
):
    calls = []

    async def fake_hand_off(tracker):
        calls.append(tracker.sender_id)

    monkeypatch.setattr("actions.conversation.hand_off", fake_hand_off)
    last = {"laatste_topic": "tekort_symptomen"}
    tracker = make_tracker("medewerker", text="wie kan me daarbij helpen?", slots=last)
    _, message = await run(ActionCustomerService(), dispatcher, tracker, domain)

    assert message["custom"]["topic"] == "tekort_vaststellen"
    assert message["custom"]["via"] == "context"
    assert "handoff" not in message["custom"]
    assert calls == []
    # naming a person of the shop still hands off
    dispatcher.messages.clear()
    text = "wie van jullie medewerkers kan me daarbij helpen?"
    tracker = make_tracker("medewerker", text=text, slots=last)
    _, message = await run(ActionCustomerService(), dispatcher, tracker, domain)
    assert message["custom"]["topic"] == "medewerker"
    assert calls == ["test-user"]


async def test_and_what_about_x_stays_with_the_last_topic(dispatcher, domain):
    last = {"laatste_topic": "vitamine_d_tekort_gevolgen"}
    tracker = make_tracker("vervolg", text="en hoe zit het met je botten?", slots=last)
    events, message = await run(ActionFollowUpNutrient(), dispatcher, tracker, domain)

    assert message["custom"]["topic"] == "vitamine_d_tekort_gevolgen"
    assert message["custom"]["via"] == "context"
    assert slot(events, "laatste_topic") == "vitamine_d_tekort_gevolgen"
