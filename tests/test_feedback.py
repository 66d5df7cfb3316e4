"""Feedback on answers: when "Had je hier iets aan?" is asked, and the rating."""

from __future__ import annotations

import re

import pytest
from rasa_sdk.events import SlotSet

from actions import config
from actions.answers import ActionAffirm, ActionAnswerTopic, ActionSources
from actions.conversation import ActionPersonalAdvice
from actions.fallback import ActionFallback
from actions.feedback import SLOT_FEEDBACK, SLOT_FEEDBACK_STATE, ActionFeedback
from faq.reply import feedback_payload
from server.channels.guard import user_text
from server.channels.whatsapp_common import choices_of, resolve_choice
from server.channels.whatsapp_twilio import turn_bodies
from tests.helpers import make_tracker

TOPIC = "samenwerking_mg_d"
OTHER = "vitamine_k2"


def state_events(events):
    return [e for e in events if e.get("name") == SLOT_FEEDBACK_STATE]


async def answer(dispatcher, domain, intent, state=None, **slots):
    if state is not None:
        slots[SLOT_FEEDBACK_STATE] = state
    tracker = make_tracker(intent, slots=slots)
    return await ActionAnswerTopic().run(dispatcher, tracker, domain)


async def test_first_content_answer_asks_with_two_buttons_naming_the_topic(
    dispatcher, domain
):
    events = await answer(dispatcher, domain, TOPIC)

    answer_message, question = dispatcher.messages
    assert answer_message["custom"]["topic"] == TOPIC
    assert question["response"] == "utter_feedback_vraag"
    assert [b["title"] for b in question["buttons"]] == ["Ja", "Nee"]
    assert [b["payload"] for b in question["buttons"]] == [
        '/feedback{"onderwerp": "samenwerking_mg_d", "oordeel": "ja"}',
        '/feedback{"onderwerp": "samenwerking_mg_d", "oordeel": "nee"}',
    ]
    assert question["custom"] == {"topic": TOPIC, "sources": [], "feedback": "vraag"}
    assert state_events(events) == [
        SlotSet(SLOT_FEEDBACK_STATE, {"sinds": 0, "gevraagd": [TOPIC]})
    ]


def test_the_question_text_is_dutch(domain):
    texts = [r["text"] for r in domain["responses"]["utter_feedback_vraag"]]
    assert texts == ["Had je hier iets aan?"]


async def test_never_twice_in_a_row_then_again_after_the_interval(
    dispatcher, domain, monkeypatch
):
    monkeypatch.setattr(config, "FEEDBACK_INTERVAL", 3)
    state = {"sinds": 0, "gevraagd": [TOPIC]}
    asked_after = []
    for turn, intent in enumerate(
        [OTHER, "vitamine_d_voeding", "magnesium_vormen", "tekort_symptomen"], 1
    ):
        dispatcher.messages.clear()
        events = await answer(dispatcher, domain, intent, state)
        if len(dispatcher.messages) == 2:
            asked_after.append(turn)
        (slot,) = state_events(events)
        state = slot["value"]

    assert asked_after == [3]  # 3 content answers after the last question
    assert state == {"sinds": 1, "gevraagd": [TOPIC, "magnesium_vormen"]}


async def test_a_topic_is_not_asked_about_twice_in_a_session(dispatcher, domain):
    events = await answer(dispatcher, domain, TOPIC, {"sinds": 9, "gevraagd": [TOPIC]})

    assert len(dispatcher.messages) == 1
    assert state_events(events)[0]["value"] == {"sinds": 10, "gevraagd": [TOPIC]}


@pytest.mark.parametrize("setting, asks", [(0, False), (1, False), (-5, False)])
async def test_interval_zero_turns_it_off_and_one_still_skips_a_turn(
    dispatcher, domain, monkeypatch, setting, asks
):
    monkeypatch.setattr(config, "FEEDBACK_INTERVAL", setting)
    state = None if setting <= 0 else {"sinds": 0, "gevraagd": [OTHER]}
    events = await answer(dispatcher, domain, TOPIC, state)

    assert (len(dispatcher.messages) == 2) is asks
    if setting <= 0:
        assert events == [SlotSet("laatste_topic", TOPIC), SlotSet("aangeboden_topic")]


async def test_no_question_after_sources_fallback_or_personal_advice(
    dispatcher, domain
):
    runs = [
        (ActionSources(), make_tracker("bronnen", slots={"laatste_topic": TOPIC})),
        (ActionFallback(), make_tracker("nlu_fallback", ranking=[])),
        (ActionPersonalAdvice(), make_tracker("persoonlijk_advies", text="hoeveel?")),
    ]
    for action, tracker in runs:
        dispatcher.messages.clear()
        events = await action.run(dispatcher, tracker, domain)
        assert len(dispatcher.messages) == 1, action.name()
        assert "feedback" not in dispatcher.messages[0]["custom"]
        assert state_events(events) == []


async def test_a_long_answer_via_ja_graag_asks_once(dispatcher, domain):
    # ActionAffirm runs ActionTellMore inside: one question, one state update.
    tracker = make_tracker("bevestigen", slots={"laatste_topic": OTHER})
    events = await ActionAffirm().run(dispatcher, tracker, domain)

    assert [m["custom"].get("answer") for m in dispatcher.messages] == ["lang", None]
    assert dispatcher.messages[1]["custom"]["feedback"] == "vraag"
    assert len(state_events(events)) == 1


@pytest.mark.parametrize("rating, helpful", [("ja", True), ("nee", False)])
async def test_the_rating_is_stored_with_its_topic_and_thanked(
    dispatcher, domain, content, rating, helpful
):
    tracker = make_tracker(
        "feedback",
        entities=[
            {"entity": "onderwerp", "value": OTHER},
            {"entity": "oordeel", "value": rating},
        ],
        slots={"laatste_topic": TOPIC},
    )
    events = await ActionFeedback().run(dispatcher, tracker, domain)

    assert events == [SlotSet(SLOT_FEEDBACK, {"onderwerp": OTHER, "nuttig": helpful})]
    (message,) = dispatcher.messages
    assert message["response"] == (
        "utter_feedback_nuttig" if helpful else "utter_feedback_niet_nuttig"
    )
    assert message["custom"]["topic"] == OTHER
    assert message["custom"]["feedback"] == ("nuttig" if helpful else "niet_nuttig")
    assert [b["payload"] for b in message["buttons"]] == [
        f"/{t}" for t in content.topics[OTHER].related
    ]


async def test_a_rating_without_topic_or_value_is_not_stored(dispatcher, domain):
    tracker = make_tracker(
        "feedback", entities=[{"entity": "oordeel", "value": "misschien"}]
    )
    events = await ActionFeedback().run(dispatcher, tracker, domain)

    assert events == []
    assert dispatcher.messages[0]["custom"]["topic"] == "fallback"


def test_the_thanks_texts_are_dutch(domain):
    for name in ("utter_feedback_nuttig", "utter_feedback_niet_nuttig"):
        text = domain["responses"][name][0]["text"]
        assert "bedankt" in text.lower(), text


def test_the_guard_accepts_exactly_the_feedback_payloads():
    payload = feedback_payload(TOPIC, True)
    assert user_text(payload) == payload
    forged = '/feedback{"onderwerp": "iets_anders", "oordeel": "ja"}'
    assert not user_text(forged).startswith("/")


async def test_on_whatsapp_the_number_shown_for_ja_sends_the_ja_payload(
    dispatcher, domain
):
    await answer(dispatcher, domain, TOPIC)
    turn = dispatcher.messages
    bodies = turn_bodies(turn)
    offered = [choice for message in turn for choice in choices_of(message)]

    question = next(b for b in bodies if "Ja" in b and "Nee" in b)
    yes = re.search(r"(\d+)\. Ja\b", question).group(1)
    no = re.search(r"(\d+)\. Nee\b", question).group(1)
    picked_yes = resolve_choice(yes, offered, numbers=True)
    picked_no = resolve_choice(no, offered, numbers=True)
    assert picked_yes.payload == feedback_payload(TOPIC, True)
    assert picked_no.payload == feedback_payload(TOPIC, False)
    # The answer's topic options keep their own numbers.
    related = dispatcher.messages[0]["buttons"]
    assert resolve_choice("1", offered, numbers=True).payload == related[0]["payload"]
