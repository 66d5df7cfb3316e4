"""Actions for conversation topics whose reply depends on config or context."""

from __future__ import annotations

import logging
import re
import time
from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import config
from actions.answers import AnswerTopicAction, ContextOrReplyAction
from actions.base import (
    SLOT_LAST_TOPIC,
    SLOT_OFFERED_TOPIC,
    TopicAction,
    intent_ranking,
    message_text,
    ranked_content_topics,
    topic_button,
)
from actions.handoff import hand_off
from faq.context import (
    NAMES_SERVICE,
    NAMES_SHOP,
    Resolution,
    asks_what_the_answer_named,
    continues_last_topic,
    greeting_topic,
    is_closing_no,
    questions_rather_than_declines,
)
from faq.privacy import mask_id

logger = logging.getLogger(__name__)

#: Slot with the time (epoch seconds) of the last handoff of this conversation.
SLOT_HANDOFF_AT = "handoff_op"

#: General topics for personal questions whose NLU ranking names no content
#: topic: the first pattern found in the message wins.
ADVICE_TOPICS_BY_KEYWORD = (
    (re.compile(r"\bk2\b", re.IGNORECASE), "vitamine_k2"),
    (
        re.compile(
            r"\bbloed(?:test|onderzoek|waarde|uitslag|prik)?\b|test|tekort|waarde|nmol",
            re.IGNORECASE,
        ),
        "tekort_vaststellen",
    ),
    (
        re.compile(r"vit(amine)?\.?\s*d|\bd3\b|\bie\b|\biu\b|druppel", re.IGNORECASE),
        "vitamine_d_supplementen",
    ),
    (re.compile(r"magnes|\bmg\b", re.IGNORECASE), "magnesium_vormen"),
)


class ActionPersonalAdvice(AnswerTopicAction):
    """Declines personal medical advice and offers the general topic instead.

    The assistant never gives a dose or a personal recommendation. It refers
    the user to a doctor or therapist and offers what the article says in
    general about the closest content topic (from the NLU ranking), or about
    the topic just answered when the question leans on it ("mag ik dat ook
    met mijn medicijnen?"). A bare follow-up that only the NLU, and not
    surely, took for advice and that takes up a word of the last answer
    ("welke medicijnen dan?") is answered with that answer
    (:func:`faq.context.asks_what_the_answer_named`).
    """

    def name(self) -> Text:
        """Unique identifier of the action."""
        return "action_persoonlijk_advies"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[EventType]:
        """Sends the refusal plus an offer of the closest general topic."""
        text = tracker.latest_message.get("text") or ""
        last = self.content.topic(tracker.get_slot(SLOT_LAST_TOPIC) or "")
        if last is not None and asks_what_the_answer_named(
            text, last, self.content, intent_ranking(tracker)
        ):
            # "welke medicijnen dan?" after the answer that names medicines:
            # which ones the article means, answered from the article
            return self.answer_from_context(dispatcher, Resolution(last.id))
        candidates = ranked_content_topics(tracker, self.content, exclude=["bronnen"])
        if last is not None and continues_last_topic(text, last.id):
            # "mag ik die ook met mijn medicijnen?": about the topic just answered
            candidates = [last, *(t for t in candidates if t.id != last.id)]
        for pattern, topic_id in ADVICE_TOPICS_BY_KEYWORD:
            topic = self.content.topics[topic_id]
            if pattern.search(text) and topic not in candidates:
                candidates.append(topic)
        if not candidates:
            self.reply(
                dispatcher,
                "persoonlijk_advies",
                response="utter_persoonlijk_advies",
                buttons=self.default_buttons(),
            )
            return [SlotSet(SLOT_OFFERED_TOPIC, None)]
        offered = candidates[0]
        self.reply(
            dispatcher,
            "persoonlijk_advies",
            response="utter_persoonlijk_advies_aanbod",
            buttons=[topic_button(t) for t in candidates[: config.MAX_SUGGESTIONS]],
            titel=offered.title,
        )
        return [SlotSet(SLOT_OFFERED_TOPIC, offered.id)]


class ActionDecline(AnswerTopicAction):
    """Handles "nee": declines an offer, or closes the point after an answer.

    With a topic on offer (after personal advice or a fallback), "nee dank
    je" declines it and the assistant asks for another question (``hulp``).
    With nothing on offer, "nee hoor, dank je" or "nee, is goed zo" after an
    answer declines nothing: the visitor has what they wanted (``bedankt``).
    A question with a "niet" in it after an answer ("maar dat zegt niet
    alles?") is no "no": the context answers it as it would an unsure one
    (:func:`faq.context.questions_rather_than_declines`).
    """

    def name(self) -> Text:
        """Unique identifier of the action."""
        return "action_ontkennen"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[EventType]:
        """Sends the closing or the declining reply; forgets any offer."""
        text = message_text(tracker)
        offered = tracker.get_slot(SLOT_OFFERED_TOPIC)
        if not offered and questions_rather_than_declines(text):
            resolved = self.resolve_from_context(tracker, unsure=True)
            if resolved is not None:
                return self.answer_from_context(dispatcher, resolved)
        closes = (
            not offered and tracker.get_slot(SLOT_LAST_TOPIC) and is_closing_no(text)
        )
        if closes:
            self.reply(dispatcher, "bedankt", response="utter_oke")
        else:
            self.reply(dispatcher, "hulp", response="utter_ontkennen")
        return [SlotSet(SLOT_OFFERED_TOPIC, None)]


class ActionGreet(TopicAction):
    """Greets, or says goodbye to a closing "dag!" after an answer."""

    def name(self) -> Text:
        """Unique identifier of the action."""
        return "action_groet"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[EventType]:
        """Sends the greeting, or the goodbye when the answer came first."""
        topic = greeting_topic(message_text(tracker), tracker.get_slot(SLOT_LAST_TOPIC))
        self.reply(dispatcher, topic, response=f"utter_{topic}")
        return []


class ActionHelp(TopicAction):
    """Says what the assistant can answer, with the core topics as buttons."""

    def name(self) -> Text:
        """Unique identifier of the action."""
        return "action_hulp"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[EventType]:
        """Sends the help text and suggestion buttons."""
        self.reply_help(dispatcher)
        return []


class ActionCustomerService(AnswerTopicAction):
    """Tells how to reach customer service and signals a handoff.

    Contact details come from configuration only (``FAQ_KLANTENSERVICE_*``);
    nothing is shown that is not configured.
    """

    def name(self) -> Text:
        """Unique identifier of the action."""
        return "action_medewerker"

    @staticmethod
    def contact_lines() -> List[Text]:
        """Returns the configured contact details, one per line."""
        lines = []
        if config.CUSTOMER_SERVICE_PHONE:
            lines.append(f"Telefoon: {config.CUSTOMER_SERVICE_PHONE}")
        if config.CUSTOMER_SERVICE_EMAIL:
            lines.append(f"E-mail: {config.CUSTOMER_SERVICE_EMAIL}")
        if config.CUSTOMER_SERVICE_URL:
            lines.append(f"Contactpagina: {config.CUSTOMER_SERVICE_URL}")
        if config.CUSTOMER_SERVICE_HOURS:
            lines.append(f"Bereikbaar: {config.CUSTOMER_SERVICE_HOURS}")
        return lines

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[EventType]:
        """Sends the contact details, marks the reply and hands off the transcript.

        The transcript goes out at most once per ``FAQ_HANDOFF_MIN_INTERVAL``
        per conversation (the time is kept in the tracker, so it holds across
        restarts and replicas).
        """
        text = message_text(tracker)
        resolved = self.resolve_from_context(tracker)
        if (
            resolved is not None
            and resolved.kind is not None
            and not NAMES_SERVICE.search(text)
        ):
            # "wie kan me daarbij helpen?" right after the blood test (who
            # finds out about a shortage: the article names them), "dus dan
            # maar een pil?": a follow-up that names no person, order or
            # purchase of the shop
            return self.answer_from_context(dispatcher, resolved)
        events: List[EventType] = []
        last = tracker.get_slot(SLOT_HANDOFF_AT)
        now = time.time()
        if (
            isinstance(last, (int, float))
            and now - last < config.HANDOFF_MIN_INTERVAL_SECONDS
        ):
            logger.info(
                "handoff voor %s overgeslagen: al doorgezet %.0f s geleden",
                mask_id(tracker.sender_id),
                now - last,
            )
        else:
            await hand_off(tracker)
            events.append(SlotSet(SLOT_HANDOFF_AT, now))
        lines = self.contact_lines()
        if lines:
            self.reply(
                dispatcher,
                "medewerker",
                response="utter_medewerker",
                contactgegevens="\n".join(lines),
                handoff=True,
            )
        else:
            self.reply(
                dispatcher,
                "medewerker",
                response="utter_medewerker_zonder_gegevens",
                handoff=True,
            )
        return events


class ActionKnowledgeBase(ContextOrReplyAction):
    """Points to the knowledge base and the magnesium test (configured links).

    Right after an answer, "en hoe test je dat?" asks how a shortage is
    found, not for the shop's magnesium test: that follow-up is answered via
    context unless the message names the shop's pages.
    """

    def name(self) -> Text:
        """Unique identifier of the action."""
        return "action_kennisbank"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[EventType]:
        """Answers a follow-up from context, else sends the knowledge-base reply."""
        text = message_text(tracker)
        if NAMES_SHOP.search(text):
            self.reply_plain(dispatcher)
            return []
        return await super().run(dispatcher, tracker, domain)

    def reply_plain(self, dispatcher: CollectingDispatcher) -> None:
        """Sends the knowledge-base reply with whichever links are configured."""
        links = []
        if config.KNOWLEDGE_BASE_URL:
            links.append(f"Kennisbank: {config.KNOWLEDGE_BASE_URL}")
        if config.MAGNESIUM_TEST_URL:
            links.append(f"Magnesiumtest: {config.MAGNESIUM_TEST_URL}")
        if links:
            self.reply(
                dispatcher,
                "kennisbank",
                response="utter_kennisbank",
                links="\n".join(links),
            )
        else:
            self.reply(
                dispatcher, "kennisbank", response="utter_kennisbank_zonder_links"
            )
