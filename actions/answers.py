"""Actions that answer content topics from the content file, with sources."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import SLOT_LAST_TOPIC, SLOT_OFFERED_TOPIC, TopicAction
from faq.content import Topic
from faq.reply import ALL_SOURCES, ALL_SOURCES_PAYLOAD

#: Where "en magnesium?" goes when the last topic names no counterpart.
DEFAULT_TOPIC_FOR_NUTRIENT = {
    "magnesium": "magnesium_voeding",
    "vitamine_d": "functie_vitamine_d",
    "vitamine_k2": "vitamine_k2",
}


class AnswerTopicAction(TopicAction):
    """Base for actions whose reply is a content topic's short answer."""

    def answer(self, dispatcher: CollectingDispatcher, topic: Topic) -> List[EventType]:
        """Sends the short answer with references and related-topic buttons.

        Args:
            dispatcher: Where the message goes.
            topic: The topic to answer.

        Returns:
            Events that remember the topic for follow-ups.
        """
        self.send_answer(dispatcher, topic, topic.short, "kort")
        return [SlotSet(SLOT_LAST_TOPIC, topic.id), SlotSet(SLOT_OFFERED_TOPIC, None)]

    def send_answer(
        self, dispatcher: CollectingDispatcher, topic: Topic, body: Text, kind: Text
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
        )

    def last_topic(self, tracker: Tracker) -> Optional[Topic]:
        """Returns the last content topic answered in this conversation."""
        topic_id = tracker.get_slot(SLOT_LAST_TOPIC)
        return self.content.topic(topic_id) if topic_id else None


class ActionAnswerTopic(AnswerTopicAction):
    """Answers the content topic whose intent the user's message matched."""

    def name(self) -> Text:
        """Unique identifier of the action."""
        return "action_answer_topic"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[EventType]:
        """Answers the topic named by the latest intent."""
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        topic = self.content.topic(intent) if intent else None
        if topic is None:
            self.reply_not_understood(dispatcher)
            return []
        return self.answer(dispatcher, topic)


class ActionTellMore(AnswerTopicAction):
    """Gives the long answer of the last topic ("vertel meer", "waarom?")."""

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
        self.send_answer(dispatcher, topic, topic.long, "lang")
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
    """Answers "en magnesium?" with the counterpart of the last topic."""

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
            self.reply_not_understood(dispatcher)
            return []
        last = self.last_topic(tracker)
        target = (last.counterparts.get(nutrient) if last else None) or (
            DEFAULT_TOPIC_FOR_NUTRIENT[nutrient]
        )
        return self.answer(dispatcher, self.content.topics[target])


class ActionAffirm(AnswerTopicAction):
    """Handles "ja graag": the offered topic, else more on the last topic."""

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
            return self.answer(dispatcher, topic)
        if self.last_topic(tracker) is not None:
            return await ActionTellMore().run(dispatcher, tracker, domain)
        self.reply_help(dispatcher)
        return []
