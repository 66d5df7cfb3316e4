"""A conversation lock store that hands over the lock within milliseconds.

Rasa processes one message per conversation at a time (a ticket lock). Its
in-memory lock store polls a busy lock once per second, so a second message
sent at once in the same conversation (normal on WhatsApp) waits about a
second. This store polls every ``wait_time`` seconds (default 0.005) and keeps
Rasa's first-come-first-served ticket order.

Configured in ``endpoints.yml``::

    lock_store:
      type: channels.lock_store.FastInMemoryLockStore
      wait_time: 0.005
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any, AsyncGenerator, Optional, Text

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore
from rasa.utils.endpoints import EndpointConfig

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
