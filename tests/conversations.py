"""Builds tracker stores with invented conversations, written by Rasa itself.

The staff tools read Rasa's ``events`` table; these helpers save
``DialogueStateTracker`` objects through Rasa's ``SQLTrackerStore`` so the
rows have exactly the format a running server writes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from staff.events import TIMEZONE


@dataclass
class T:
    """One visitor message and the reply, for a test conversation."""

    text: str
    intent: str
    confidence: float = 0.95
    ranking: Sequence[Tuple[str, float]] = ()
    topic: Optional[str] = None
    response: Optional[str] = None
    handoff: bool = False
    ask_feedback: bool = False
    rating: Optional[Tuple[str, bool]] = None
    extra: Dict[str, Any] = field(default_factory=dict)


def at(day: str, hour: int = 10, minute: int = 0) -> float:
    """Epoch seconds of ``day`` (YYYY-MM-DD) at ``hour:minute`` local time."""
    moment = dt.datetime.combine(
        dt.date.fromisoformat(day), dt.time(hour, minute), TIMEZONE
    )
    return moment.timestamp()


def events_of(turns: Sequence[T], start: float, session: bool = True) -> List[Any]:
    """Rasa events for the turns, one turn a minute from ``start``."""
    from rasa.shared.core.events import (
        ActionExecuted,
        BotUttered,
        SessionStarted,
        SlotSet,
        UserUttered,
    )

    events: List[Any] = []
    if session:
        events += [
            ActionExecuted("action_session_start", timestamp=start),
            SessionStarted(timestamp=start),
            ActionExecuted("action_listen", timestamp=start),
        ]
    for index, turn in enumerate(turns):
        ts = start + 60 * (index + 1)
        ranking = [{"name": n, "confidence": c} for n, c in turn.ranking] or [
            {"name": turn.intent, "confidence": turn.confidence}
        ]
        shown = turn.intent
        if turn.intent == "nlu_fallback":
            ranking = [{"name": "nlu_fallback", "confidence": 0.55}, *ranking]
        parse = {
            "intent": {"name": shown, "confidence": ranking[0]["confidence"]},
            "entities": [],
            "text": turn.text,
            "intent_ranking": ranking,
        }
        events.append(
            UserUttered(
                turn.text, intent=parse["intent"], parse_data=parse, timestamp=ts
            )
        )
        events.append(ActionExecuted("action_x", timestamp=ts))
        custom: Dict[str, Any] = {"topic": turn.topic or turn.intent, "sources": []}
        if turn.handoff:
            custom["handoff"] = True
        metadata = {"utter_action": turn.response} if turn.response else {}
        events.append(
            BotUttered(
                "Een antwoord.",
                data={"custom": custom, **turn.extra},
                metadata=metadata,
                timestamp=ts,
            )
        )
        if turn.ask_feedback:
            events.append(
                BotUttered(
                    "Had je hier iets aan?",
                    data={
                        "custom": {
                            "topic": custom["topic"],
                            "sources": [],
                            "feedback": "vraag",
                        }
                    },
                    metadata={"utter_action": "utter_feedback_vraag"},
                    timestamp=ts,
                )
            )
        if turn.rating:
            topic, helpful = turn.rating
            events.append(
                SlotSet(
                    "feedback", {"onderwerp": topic, "nuttig": helpful}, timestamp=ts
                )
            )
        events.append(ActionExecuted("action_listen", timestamp=ts))
    return events


def save(
    db: Union[Path, Dict[str, Any]], conversations: Sequence[Tuple[str, List[Any]]]
) -> None:
    """Saves ``(sender_id, events)`` pairs with Rasa's ``SQLTrackerStore``.

    Args:
        db: A SQLite file, or the store's settings (``dialect``, ``host``, …).
        conversations: The conversations.
    """
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

    settings = db if isinstance(db, dict) else {"dialect": "sqlite", "db": str(db)}
    store = SQLTrackerStore(Domain.empty(), **settings)

    async def write() -> None:
        for sender, events in conversations:
            tracker = DialogueStateTracker.from_events(sender, events)
            await store.save(tracker)

    # In a thread of its own: the caller may be inside a running event loop
    # (pytest-asyncio, Playwright).
    with ThreadPoolExecutor(1) as executor:
        executor.submit(asyncio.run, write()).result()
    store.engine.dispose()


def rating_turn(topic: str, helpful: bool) -> T:
    """The visitor clicks "Ja" or "Nee" under an answer about ``topic``."""
    rating = "ja" if helpful else "nee"
    return T(
        f'/feedback{{"onderwerp": "{topic}", "oordeel": "{rating}"}}',
        "feedback",
        1.0,
        topic=topic,
        rating=(topic, helpful),
    )
