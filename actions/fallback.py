"""The Dutch "did you mean" fallback: never Rasa's English two-stage prompt."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import AnswerTopicAction
from actions.base import (
    SLOT_OFFERED_TOPIC,
    ranked_content_topics,
    topic_button,
)

#: Topics the "which one did you mean?" question offers.
CHOICES = 2


class ActionFallback(AnswerTopicAction):
    """Answers from context, or asks which of the two likeliest topics was meant.

    Runs on ``nlu_fallback`` (FallbackClassifier: the message alone is not
    clear enough) and as the core fallback.

    1. A short follow-up that leans on the previous answer is answered with
       the topic the context gives it (``"via": "context"``); a bare
       acknowledgement ("ok snap ik") after an answer gets a short "oké".
    2. Otherwise the assistant says it is not sure and asks, with two buttons
       carrying the Dutch titles, which of the two likeliest topics of the
       NLU ranking was meant ("ja" answers the first).
    3. With no content topic in the ranking it says it did not understand and
       offers the article's core topics.
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
        """Answers from context or asks which topic was meant."""
        core_fallback = (
            tracker.latest_message.get("intent", {}).get("name") != "nlu_fallback"
        )
        if core_fallback:
            # Core fallback: forget the turn so it does not steer the next one.
            return [UserUtteranceReverted(), *self.ask(dispatcher, tracker)]
        acknowledged = self.acknowledge(dispatcher, tracker)
        if acknowledged is not None:  # "ok snap ik" closes the point
            return acknowledged
        resolved = self.resolve_from_context(tracker, unsure=True)
        if resolved is not None:
            return self.answer_from_context(dispatcher, resolved)
        return self.ask(dispatcher, tracker)

    def ask(
        self, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> List[EventType]:
        """Asks which of the two likeliest topics was meant (steps 2 and 3).

        Returns:
            The event that remembers the first choice for "ja".
        """
        candidates = ranked_content_topics(tracker, self.content)[:CHOICES]
        if len(candidates) == CHOICES:
            first, second = candidates
            self.reply(
                dispatcher,
                "fallback",
                response="utter_welke_van_twee",
                buttons=[topic_button(t) for t in candidates],
                eerste=first.title,
                tweede=second.title,
            )
        elif candidates:
            self.reply(
                dispatcher,
                "fallback",
                response="utter_niet_zeker",
                buttons=[topic_button(candidates[0])]
                + self.default_buttons(exclude=[candidates[0].id])[:1],
            )
        else:
            self.reply(
                dispatcher,
                "fallback",
                response="utter_niet_begrepen",
                buttons=self.default_buttons(),
            )
        return [SlotSet(SLOT_OFFERED_TOPIC, candidates[0].id if candidates else None)]
