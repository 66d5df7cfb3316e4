"""Feedback on answers: "Had je hier iets aan?" with a Ja and a Nee button.

When it is asked (sparingly): after a content answer (a short or long answer
of one of the article's topics, not a source list), namely after the first
content answer of a session and after that at most once every
``FAQ_FEEDBACK_INTERVAL`` (default 3) content answers, and never twice about
the same topic in a session. With an interval of at least 2 the question never
follows two answers in a row. ``FAQ_FEEDBACK_INTERVAL=0`` turns it off.

How: the question is a message of its own after the answer, with two buttons
whose payloads name the rated topic (:func:`faq.reply.feedback_payload`). The
widget shows them as buttons; WhatsApp as numbered options ("1. Ja",
"2. Nee"), which the channel maps back to the payloads. The rating is stored
in the conversation as a ``feedback`` slot event,
``{"onderwerp": <topic>, "nuttig": true|false}``, which ``make insights`` and
``make review`` read. The reply thanks the visitor and offers the topic's
related topics again (the widget hides an answer's buttons once another
message follows it).

Every :class:`actions.base.TopicAction` calls :func:`ask_feedback` after it
ran, so no answering action needs code of its own for this.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import config
from actions.base import SLOT_LAST_TOPIC, TopicAction
from faq.content import CONTENT_TOPIC_IDS
from faq.reply import (
    FEEDBACK_ASKED,
    FEEDBACK_HELPFUL,
    FEEDBACK_NOT_HELPFUL,
    FEEDBACK_RATING_ENTITY,
    FEEDBACK_TOPIC_ENTITY,
    RATING_NO,
    RATING_YES,
    custom_payload,
    feedback_payload,
)

#: Slot with the stored rating: ``{"onderwerp": <topic>, "nuttig": bool}``.
SLOT_FEEDBACK = "feedback"
#: Slot with when feedback was asked this session:
#: ``{"sinds": <content answers since the last question>, "gevraagd": [topics]}``.
SLOT_FEEDBACK_STATE = "feedback_stand"

#: Kinds of answers (``custom.answer``) after which feedback may be asked.
RATED_ANSWERS = ("kort", "lang")
#: Content topics whose answer is not rated (a list of sources).
UNRATED_TOPICS = ("bronnen",)


def interval() -> int:
    """Content answers between two questions (0 = never ask; at least 2)."""
    value = config.FEEDBACK_INTERVAL
    return 0 if value <= 0 else max(2, value)


def rated_topic(message: Dict[Text, Any]) -> Optional[Text]:
    """Returns the topic of a bot message if it is a content answer to rate."""
    custom = message.get("custom") or {}
    topic = custom.get("topic")
    if (
        custom.get("answer") in RATED_ANSWERS
        and topic in CONTENT_TOPIC_IDS
        and topic not in UNRATED_TOPICS
    ):
        return topic
    return None


def ask_feedback(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
    """Asks "Had je hier iets aan?" after a content answer, when the rule says so.

    Args:
        dispatcher: The messages of this turn; the last one decides.
        tracker: The conversation (its ``feedback_stand`` slot).

    Returns:
        The updated ``feedback_stand`` slot, or nothing when the turn's last
        message is not a content answer.
    """
    every = interval()
    if not every or not dispatcher.messages:
        return []
    topic = rated_topic(dispatcher.messages[-1])
    if topic is None:
        return []
    state = tracker.get_slot(SLOT_FEEDBACK_STATE)
    state = state if isinstance(state, dict) else {}
    since = state.get("sinds")
    asked = [t for t in state.get("gevraagd") or [] if isinstance(t, str)]
    due = not isinstance(since, int) or since + 1 >= every
    if not due or topic in asked:
        return [
            SlotSet(
                SLOT_FEEDBACK_STATE,
                {
                    "sinds": (since if isinstance(since, int) else 0) + 1,
                    "gevraagd": asked,
                },
            )
        ]
    dispatcher.utter_message(
        response="utter_feedback_vraag",
        buttons=[
            {"title": "Ja", "payload": feedback_payload(topic, True)},
            {"title": "Nee", "payload": feedback_payload(topic, False)},
        ],
        json_message=custom_payload(topic, feedback=FEEDBACK_ASKED),
    )
    return [SlotSet(SLOT_FEEDBACK_STATE, {"sinds": 0, "gevraagd": [*asked, topic]})]


class ActionFeedback(TopicAction):
    """Stores the visitor's "Ja"/"Nee" on an answer and thanks them.

    The rating lands on the topic named in the button's payload (else on the
    last topic answered) as a ``feedback`` slot event.
    """

    def name(self) -> Text:
        """Unique identifier of the action."""
        return "action_feedback"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[EventType]:
        """Records the rating as an event and replies with related topics."""
        rating = next(tracker.get_latest_entity_values(FEEDBACK_RATING_ENTITY), None)
        topic_id = next(
            tracker.get_latest_entity_values(FEEDBACK_TOPIC_ENTITY), None
        ) or tracker.get_slot(SLOT_LAST_TOPIC)
        topic = self.content.topic(topic_id) if topic_id else None
        if topic is None or rating not in (RATING_YES, RATING_NO):
            self.reply_not_understood(dispatcher)
            return []
        helpful = rating == RATING_YES
        self.reply(
            dispatcher,
            topic.id,
            response="utter_feedback_nuttig"
            if helpful
            else "utter_feedback_niet_nuttig",
            buttons=self.related_buttons(topic),
            feedback=FEEDBACK_HELPFUL if helpful else FEEDBACK_NOT_HELPFUL,
        )
        return [SlotSet(SLOT_FEEDBACK, {"onderwerp": topic.id, "nuttig": helpful})]
