"""Actions that answer content topics from the content file, with sources."""

from __future__ import annotations

import abc
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import (
    SLOT_LAST_TOPIC,
    SLOT_OFFERED_TOPIC,
    TopicAction,
    message_text,
)
from faq.content import Topic
from faq.context import (
    DEFAULT_TOPIC_FOR_NUTRIENT,
    Resolution,
    acknowledgement_topic,
    is_elliptical,
    kinds_in,
    nutrient_follow_up,
)
from faq.reply import ALL_SOURCES, ALL_SOURCES_PAYLOAD, VIA_CONTEXT


class AnswerTopicAction(TopicAction):
    """Base for actions whose reply is a content topic's short answer."""

    def answer(
        self,
        dispatcher: CollectingDispatcher,
        topic: Topic,
        via: Optional[Text] = None,
    ) -> List[EventType]:
        """Sends the short answer with references and related-topic buttons.

        Args:
            dispatcher: Where the message goes.
            topic: The topic to answer.
            via: How the topic was decided (``context``, ``knop``), if not
                plainly by the message.

        Returns:
            Events that remember the topic for follow-ups.
        """
        self.send_answer(dispatcher, topic, topic.short, "kort", via)
        return [SlotSet(SLOT_LAST_TOPIC, topic.id), SlotSet(SLOT_OFFERED_TOPIC, None)]

    def answer_from_context(
        self, dispatcher: CollectingDispatcher, resolved: Resolution
    ) -> List[EventType]:
        """Answers the topic the context gave an elliptical follow-up.

        Args:
            dispatcher: Where the message goes.
            resolved: The context's decision (:meth:`resolve_from_context`).

        Returns:
            Events that remember the topic for follow-ups.
        """
        return self.answer(dispatcher, self.content.topics[resolved.topic], VIA_CONTEXT)

    def send_answer(
        self,
        dispatcher: CollectingDispatcher,
        topic: Topic,
        body: Text,
        kind: Text,
        via: Optional[Text] = None,
    ) -> None:
        """Sends an answer text with its references and related-topic buttons."""
        references = self.references(topic)
        self.reply(
            dispatcher,
            topic.id,
            text=f"{body}\n\n{references}" if references else body,
            sources=topic.sources,
            buttons=self.related_buttons(topic),
            answer=kind,
            via=via,
        )

    def acknowledge(
        self, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> Optional[List[EventType]]:
        """Closes the point when the message only acknowledges an answer.

        "ok", "ok snap ik" after an answer get a short "oké" (``bedankt``),
        "oké doei" the goodbye (``afscheid``); anything else gets None.
        """
        text = message_text(tracker)
        topic = acknowledgement_topic(text)
        if topic is None or self.last_topic(tracker) is None:
            return None
        response = "utter_afscheid" if topic == "afscheid" else "utter_oke"
        self.reply(dispatcher, topic, response=response)
        return [SlotSet(SLOT_OFFERED_TOPIC, None)]

    def last_topic(self, tracker: Tracker) -> Optional[Topic]:
        """Returns the last content topic answered in this conversation."""
        topic_id = tracker.get_slot(SLOT_LAST_TOPIC)
        return self.content.topic(topic_id) if topic_id else None


class ActionAnswerTopic(AnswerTopicAction):
    """Answers the content topic whose intent the user's message matched.

    A short follow-up that leans on the previous answer ("en wat als je er te
    weinig van hebt?") is answered with the topic the content file's
    ``follow_ups`` give it, marked ``"via": "context"``.
    """

    def name(self) -> Text:
        """Unique identifier of the action."""
        return "action_answer_topic"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[EventType]:
        """Answers the topic named by the latest intent, or the context's."""
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        topic = self.content.topic(intent) if intent else None
        if topic is None:
            self.reply_not_understood(dispatcher)
            return []
        resolved = self.resolve_from_context(tracker)
        if resolved is not None and resolved.topic != topic.id:
            return self.answer_from_context(dispatcher, resolved)
        return self.answer(dispatcher, topic, self.via_of_message(tracker))


class ActionTellMore(AnswerTopicAction):
    """Gives the long answer of the last topic ("vertel meer", "waarom?").

    A follow-up that asks about another side of the topic ("hoe stel je dat
    dan vast?") gets that topic instead (``follow_ups``, via context).
    """

    def name(self) -> Text:
        """Unique identifier of the action."""
        return "action_meer"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[EventType]:
        """Sends the long answer, or asks which topic when there is none yet."""
        topic = self.last_topic(tracker)
        if topic is None:
            self.reply(
                dispatcher,
                "hulp",
                response="utter_meer_zonder_topic",
                buttons=self.default_buttons(),
            )
            return []
        resolved = self.resolve_from_context(tracker)
        if resolved is not None and resolved.topic != topic.id:
            # "hoe stel je dat dan vast?" asks about the next step, not for more
            return self.answer_from_context(dispatcher, resolved)
        self.send_answer(dispatcher, topic, topic.long, "lang", VIA_CONTEXT)
        return [SlotSet(SLOT_OFFERED_TOPIC, None)]


class ActionSources(AnswerTopicAction):
    """Lists sources: those of the last topic, or all of the article's."""

    def name(self) -> Text:
        """Unique identifier of the action."""
        return "action_bronnen"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[EventType]:
        """Lists the last topic's sources with URLs, else the full list."""
        resolved = self.resolve_from_context(tracker)
        last_id = tracker.get_slot(SLOT_LAST_TOPIC)
        if resolved and resolved.kind and resolved.topic != last_id:
            # "en waar let ik intussen op?" asks about symptoms, not sources
            return self.answer_from_context(dispatcher, resolved)
        wants_all = ALL_SOURCES in list(tracker.get_latest_entity_values("bereik"))
        topic = self.last_topic(tracker)
        if topic is not None and topic.id != "bronnen" and not wants_all:
            if topic.sources:
                text = (
                    "Deze bronnen uit de bronnenlijst van het artikel passen volgens "
                    f"hun beschrijving bij '{topic.title}'\n"
                    f"{self.source_list(topic.sources, topic)}"
                )
            else:
                text = topic.sources_note or ""
            self.reply(
                dispatcher,
                topic.id,
                text=text,
                sources=topic.sources,
                buttons=[
                    {
                        "title": "Alle bronnen van het artikel",
                        "payload": ALL_SOURCES_PAYLOAD,
                    }
                ],
                answer="bronnen",
                via=VIA_CONTEXT,
            )
            return [SlotSet(SLOT_OFFERED_TOPIC, None)]

        overview = self.content.topics["bronnen"]
        self.reply(
            dispatcher,
            overview.id,
            text=f"{overview.short}\n\n{self.source_list(overview.sources)}",
            sources=overview.sources,
            buttons=self.related_buttons(overview),
            answer="bronnen",
        )
        return [
            SlotSet(SLOT_LAST_TOPIC, overview.id),
            SlotSet(SLOT_OFFERED_TOPIC, None),
        ]


class ActionFollowUpNutrient(AnswerTopicAction):
    """Answers "en magnesium?" with the counterpart of the last topic.

    Without a nutrient ("geldt dat ook omgekeerd?") the last topic's
    ``follow_ups`` decide; when they do not, the fallback asks.
    """

    def name(self) -> Text:
        """Unique identifier of the action."""
        return "action_vervolg"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[EventType]:
        """Switches the last topic to the nutrient the user named."""
        nutrient = next(tracker.get_latest_entity_values("stof"), None)
        if nutrient not in DEFAULT_TOPIC_FOR_NUTRIENT:
            text = message_text(tracker)
            last = self.last_topic(tracker)
            if last is not None and is_elliptical(text) and not kinds_in(text):
                # "en bloeddruk?" after the consequences: another example of
                # what was just said, when nothing points to another side
                return self.answer_from_context(dispatcher, Resolution(last.id))
            resolved = self.resolve_from_context(tracker, unsure=True)
            if resolved is not None:
                return self.answer_from_context(dispatcher, resolved)
            from actions.fallback import ActionFallback

            return ActionFallback().ask(dispatcher, tracker)
        last = self.last_topic(tracker)
        target = nutrient_follow_up(last, nutrient, message_text(tracker))
        from_context = last is not None and (
            nutrient in last.counterparts or target == last.id
        )
        return self.answer(
            dispatcher,
            self.content.topics[target],
            VIA_CONTEXT if from_context else None,
        )


class ActionAffirm(AnswerTopicAction):
    """Handles "ja graag": the offered topic, else more on the last topic.

    A bare acknowledgement ("ok", "oké top") after an answer that offered
    nothing closes the point: it gets a short "oké" (topic ``bedankt``), not
    the long answer again.
    """

    def name(self) -> Text:
        """Unique identifier of the action."""
        return "action_bevestigen"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[EventType]:
        """Answers what was offered, or continues the last topic."""
        offered = tracker.get_slot(SLOT_OFFERED_TOPIC)
        topic = self.content.topic(offered) if offered else None
        if topic is not None:
            return self.answer(dispatcher, topic, VIA_CONTEXT)
        acknowledged = self.acknowledge(dispatcher, tracker)
        if acknowledged is not None:
            return acknowledged
        if self.last_topic(tracker) is not None:
            return await ActionTellMore().run(dispatcher, tracker, domain)
        self.reply_help(dispatcher)
        return []


class ContextOrReplyAction(AnswerTopicAction, metaclass=abc.ABCMeta):
    """Base for replies that a follow-up in context should not get.

    Alone, "kan het ook gewoon via eten?" looks like a question about
    something else and "wat kun je daaraan doen?" like a request for help;
    right after an answer they ask about a related topic. Only a short
    follow-up that leans on the previous answer and names a kind the content
    file relates (``follow_ups``) is answered, via context; everything else
    gets :meth:`reply_plain`.
    """

    @abc.abstractmethod
    def reply_plain(self, dispatcher: CollectingDispatcher) -> None:
        """Sends the reply for a message that is not a follow-up."""

    #: Whether the NLU took the message for off-domain (see
    #: :func:`faq.context.resolve`).
    refused = False

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[EventType]:
        """Answers from context, or sends the plain reply."""
        resolved = self.resolve_from_context(tracker, refused=self.refused)
        if resolved is not None:
            return self.answer_from_context(dispatcher, resolved)
        self.reply_plain(dispatcher)
        return [SlotSet(SLOT_OFFERED_TOPIC, None)]


class ActionOutOfDomain(ContextOrReplyAction):
    """Refuses questions outside the article, unless context makes them clear."""

    refused = True

    def name(self) -> Text:
        """Unique identifier of the action."""
        return "action_buiten_domein"

    def reply_plain(self, dispatcher: CollectingDispatcher) -> None:
        """Says politely that this is outside the article."""
        self.reply(dispatcher, "buiten_domein", response="utter_buiten_domein")


class ActionHelpInContext(ContextOrReplyAction):
    """Says what the assistant can answer, unless context makes it a follow-up."""

    def name(self) -> Text:
        """Unique identifier of the action."""
        return "action_hulp_in_context"

    def reply_plain(self, dispatcher: CollectingDispatcher) -> None:
        """Sends the help text with the core topics."""
        self.reply_help(dispatcher)
