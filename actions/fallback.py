"""The Dutch "did you mean" fallback: never Rasa's English two-stage prompt."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from actions import config
from actions.base import (
    SLOT_OFFERED_TOPIC,
    TopicAction,
    ranked_content_topics,
    topic_button,
)


class ActionFallback(TopicAction):
    """Says the question was not understood and offers the likeliest topics.

    Runs on ``nlu_fallback`` (FallbackClassifier) and as the core fallback.
    The buttons carry the topics' Dutch titles, taken from the NLU ranking of
    the message; when the ranking holds no content topic, the article's core
    topics are offered.
    """

    def name(self) -> Text:
        """Unique identifier of the action."""
        return "action_fallback"

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[EventType]:
        """Sends the "not sure" reply with suggestion buttons."""
        candidates = ranked_content_topics(tracker, self.content)[
            : config.MAX_SUGGESTIONS
        ]
        if candidates:
            buttons = [topic_button(t) for t in candidates]
            response = "utter_niet_zeker"
        else:
            buttons = self.default_buttons()
            response = "utter_niet_begrepen"
        self.reply(dispatcher, "fallback", response=response, buttons=buttons)
        events: List[EventType] = [
            SlotSet(SLOT_OFFERED_TOPIC, candidates[0].id if candidates else None)
        ]
        if tracker.latest_message.get("intent", {}).get("name") != "nlu_fallback":
            # Core fallback: forget the turn so it does not steer the next one.
            events.insert(0, UserUtteranceReverted())
        return events
