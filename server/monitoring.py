"""Counters that monitoring can read: apologies, storage faults, refusals.

Every fault a user notices is counted here as well as logged, and
``GET /webhooks/status/`` (:mod:`server.channels.status`) serves the counts.
No texts, ids or phone numbers are kept: only names and numbers.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any, Dict, Text

_counters: Counter = Counter()
_store_faults: set = set()
_last_seen: Dict[Text, float] = {}
_started = time.time()

#: Counters whose recent increase means the service is degraded.
FAULTS = ("opslag_mislukt", "ophalen_mislukt", "storing", "redis_onbereikbaar")

#: Seconds a fault keeps the status "degraded".
DEGRADED_SECONDS = 300.0


def count(name: Text, amount: int = 1) -> None:
    """Adds to a counter (e.g. ``opslag_mislukt``, ``storing:time-out``)."""
    _counters[name] += amount
    _last_seen[name] = time.time()


def snapshot() -> Dict[Text, Any]:
    """Returns the status, uptime and all counters."""
    now = time.time()
    degraded = sorted(
        name
        for name, seen in _last_seen.items()
        if name.split(":")[0] in FAULTS and now - seen < DEGRADED_SECONDS
    )
    return {
        "status": "degraded" if degraded else "ok",
        "recent_faults": degraded,
        "uptime_seconds": round(now - _started),
        "counters": dict(sorted(_counters.items())),
    }


def store_fault(conversation_id: Text, counter: Text) -> None:
    """Records that the tracker store failed for a conversation in this turn.

    Rasa wraps every tracker store in ``FailSafeTrackerStore``, which swallows
    the error and carries on with an empty or unsaved tracker; the channel
    asks :func:`take_store_fault` after the turn and tells the user.
    """
    count(counter)
    _store_faults.add(conversation_id)


def take_store_fault(conversation_id: Text) -> bool:
    """Returns (and forgets) whether the store failed for this conversation."""
    if conversation_id in _store_faults:
        _store_faults.discard(conversation_id)
        return True
    return False


def reset() -> None:
    """Clears every counter (tests)."""
    _counters.clear()
    _last_seen.clear()
    _store_faults.clear()
