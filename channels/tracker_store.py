"""SQL tracker store that keeps active conversations in memory.

Rasa's ``SQLTrackerStore`` reads and deserialises every event of the current
session on every message, so a long conversation (weeks on WhatsApp) gets
slower with each turn. This store keeps the tracker it last saved for each
conversation (an LRU of ``cache_size`` conversations) and hands it back
directly when it is still exactly what the database holds. Everything is
still written to the database first: after a restart, or for a conversation
evicted from the cache, the tracker is read from the database as before.

Configured in ``endpoints.yml``::

    tracker_store:
      type: channels.tracker_store.CachedSQLTrackerStore
      dialect: "sqlite"
      db: "tracker.db"
      cache_size: 1000
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from typing import Any, Iterator, Optional, Text, Tuple

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker

DEFAULT_CACHE_SIZE = 1000


class CachedSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` with a write-through in-memory cache."""

    def __init__(self, *args: Any, cache_size: int = DEFAULT_CACHE_SIZE, **kwargs: Any):
        """Creates the SQL store; ``cache_size`` is the number of conversations kept."""
        super().__init__(*args, **kwargs)
        self.cache_size = int(cache_size)
        self._cache: "OrderedDict[Text, Tuple[DialogueStateTracker, int]]" = (
            OrderedDict()
        )

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """Returns the cached tracker if it is unchanged since it was saved."""
        entry = self._cache.get(sender_id)
        if entry is not None:
            tracker, saved_events = entry
            if len(tracker.events) == saved_events:
                self._cache.move_to_end(sender_id)
                return tracker
            # Changed after its last save (e.g. a failed turn): reload from the DB.
            del self._cache[sender_id]
        return await super().retrieve(sender_id)

    def _additional_events(
        self, session: Any, tracker: DialogueStateTracker
    ) -> Iterator:
        """Events not yet stored; for a cached tracker without counting rows."""
        entry = self._cache.get(tracker.sender_id)
        if entry is not None and entry[0] is tracker:
            return itertools.islice(tracker.events, entry[1], len(tracker.events))
        return super()._additional_events(session, tracker)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Saves to the database, then remembers the tracker."""
        await super().save(tracker)
        sessions = sum(isinstance(e, SessionStarted) for e in tracker.events)
        if sessions > 1:
            # A new session began: the DB serves only the latest session, so
            # let the next retrieve read that instead of the whole history.
            self._cache.pop(tracker.sender_id, None)
            return
        self._cache[tracker.sender_id] = (tracker, len(tracker.events))
        self._cache.move_to_end(tracker.sender_id)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
