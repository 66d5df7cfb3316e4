"""Conversation stores of the Rasa server: tracker store and lock store.

:class:`CachedSQLTrackerStore` is Rasa's ``SQLTrackerStore`` with a
write-through cache. Rasa's store reads and deserialises every event of the
current session on every message, so a long conversation (weeks on WhatsApp)
gets slower with each turn. This store keeps the tracker it last saved for each
conversation (an LRU of ``cache_size`` conversations) and hands it back
directly when it is still exactly what the database holds. Everything is still
written to the database first: after a restart, or for a conversation evicted
from the cache, the tracker is read from the database as before.

:class:`FastInMemoryLockStore` keeps Rasa's first-come-first-served ticket
lock per conversation, but polls a busy lock every ``wait_time`` seconds
(default 0.005) instead of once per second, so a second message sent at once
in the same conversation (normal on WhatsApp) is not delayed by a second.

Configured in ``endpoints.yml``::

    tracker_store:
      type: server.stores.CachedSQLTrackerStore
      dialect: "sqlite"
      db: "tracker.db"
      cache_size: 1000
    lock_store:
      type: server.stores.FastInMemoryLockStore
      wait_time: 0.005
"""

from __future__ import annotations

import itertools
import logging
import os
from collections import OrderedDict
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncGenerator, Iterator, Optional, Text, Tuple

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from faq.privacy import mask_id
from server import monitoring

DEFAULT_CACHE_SIZE = 1000

logger = logging.getLogger(__name__)


def private_file(path: Path) -> None:
    """Creates ``path`` (and its folder) readable and writable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.parent != Path(".") and path.parent.resolve() != Path.cwd():
        os.chmod(path.parent, 0o700)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


class CachedSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` with a write-through in-memory cache."""

    def __init__(self, *args: Any, cache_size: int = DEFAULT_CACHE_SIZE, **kwargs: Any):
        """Creates the SQL store; ``cache_size`` is the number of conversations kept.

        A SQLite file is created (or tightened) to owner-only permissions
        before the database opens it: conversations hold health questions.
        """
        if kwargs.get("dialect", "sqlite") == "sqlite" and kwargs.get("db"):
            private_file(Path(kwargs["db"]))
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
        try:
            return await super().retrieve(sender_id)
        except Exception:
            monitoring.store_fault(sender_id, "ophalen_mislukt")
            logger.error(
                "tracker store: reading conversation %s failed",
                mask_id(sender_id),
                exc_info=True,
            )
            raise

    def _additional_events(
        self, session: Any, tracker: DialogueStateTracker
    ) -> Iterator:
        """Events not yet stored; for a cached tracker without counting rows."""
        entry = self._cache.get(tracker.sender_id)
        if entry is not None and entry[0] is tracker:
            return itertools.islice(tracker.events, entry[1], len(tracker.events))
        return super()._additional_events(session, tracker)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Saves to the database, then remembers the tracker.

        A failed write is counted for monitoring, recorded for the channel
        (which tells the user, ``server.channels.guard``) and raised; the
        cached copy is dropped so the next turn reads the database.
        """
        try:
            await super().save(tracker)
        except Exception:
            self._cache.pop(tracker.sender_id, None)
            monitoring.store_fault(tracker.sender_id, "opslag_mislukt")
            logger.error(
                "tracker store: saving conversation %s failed",
                mask_id(tracker.sender_id),
                exc_info=True,
            )
            raise
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


DEFAULT_WAIT_TIME = 0.005


class FastInMemoryLockStore(InMemoryLockStore):
    """In-memory ticket locks with a short polling interval."""

    def __init__(
        self, endpoint_config: Optional[EndpointConfig] = None, **kwargs: Any
    ) -> None:
        """Reads ``wait_time`` (seconds) from the endpoint configuration."""
        super().__init__()
        settings = endpoint_config.kwargs if endpoint_config else {}
        self.wait_time = float(settings.get("wait_time", DEFAULT_WAIT_TIME))

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: Text,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: Optional[float] = None,
    ) -> AsyncGenerator[TicketLock, None]:
        """Acquires the conversation's lock, polling every ``wait_time`` seconds."""
        async with super().lock(
            conversation_id,
            lock_lifetime,
            self.wait_time if wait_time_in_seconds is None else wait_time_in_seconds,
        ) as ticket_lock:
            yield ticket_lock
