"""Rule and memoization policies that look only at the recent conversation.

Rasa's ``RulePolicy`` and ``MemoizationPolicy`` compute the dialogue state of
every earlier turn before each prediction, so each turn costs more than the
last. This assistant's dialogue needs only the last few turns: every rule is
"intent -> action" and the follow-ups read slots inside the actions. These
subclasses predict on a copy of the tracker that holds the current slot values
and the last ``WINDOW_TURNS`` user turns, which keeps the cost per message
flat however long the conversation gets. Training is unchanged.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa.core.policies.memoization import MemoizationPolicy
from rasa.core.policies.policy import PolicyPrediction
from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    Event,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

#: User turns kept for prediction; MemoizationPolicy's default max_history is 5.
WINDOW_TURNS = 6


def recent_view(
    tracker: DialogueStateTracker, domain: Domain, turns: int = WINDOW_TURNS
) -> DialogueStateTracker:
    """Returns a tracker with the current state and only the last ``turns`` turns.

    Args:
        tracker: The full conversation.
        domain: The domain (for the slot definitions).
        turns: How many user turns to keep.

    Returns:
        ``tracker`` itself when it is short, else a trimmed copy.
    """
    events = list(tracker.events)
    seen = 0
    start = 0
    for index in range(len(events) - 1, -1, -1):
        if isinstance(events[index], UserUttered):
            seen += 1
            if seen == turns:
                start = index
                break
    # Begin at the action_listen before that user turn, as Rasa's trackers do.
    while start > 0 and not (
        isinstance(events[start - 1], ActionExecuted)
        and events[start - 1].action_name == ACTION_LISTEN_NAME
    ):
        start -= 1
    start = max(start - 1, 0)
    if start == 0:
        return tracker

    prefix: List[Event] = [
        SlotSet(name, value)
        for name, value in tracker.current_slot_values().items()
        if value is not None
    ]
    if tracker.active_loop_name:
        prefix.append(ActiveLoop(tracker.active_loop_name))
    return DialogueStateTracker.from_events(
        tracker.sender_id, prefix + events[start:], domain.slots
    )


class _RecentTurnsOnly:
    """Mixin: predict on :func:`recent_view` of the tracker (put it first)."""

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[str, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        """Predicts the next action from the recent conversation."""
        return super().predict_action_probabilities(  # type: ignore[misc]
            recent_view(tracker, domain), domain, rule_only_data, **kwargs
        )


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class WindowedRulePolicy(_RecentTurnsOnly, RulePolicy):
    """``RulePolicy`` that predicts on the recent turns only."""


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class WindowedMemoizationPolicy(_RecentTurnsOnly, MemoizationPolicy):
    """``MemoizationPolicy`` that predicts on the recent turns only."""
