"""Rate limits for the chat channels: per IP address and per conversation.

A moving window of one minute (the ``limits`` library), so a flood from one
address or one conversation meets HTTP 429 with a Dutch body while everyone
else is served as usual.

Where the counters live is ``FAQ_RATE_LIMIT_STORAGE``, a ``limits`` storage
URI. The default ``async+memory://`` keeps them in the process (``make run``).
Replicas must share them, else each replica allows the full rate:
``make stack`` sets ``redis://:<password>@127.0.0.1:6380/2``.

Why ``redis://`` (limits' synchronous Redis storage) and not
``async+redis://``: limits 2.4.0's async Redis storage needs ``coredis``, and
every ``coredis`` release that limits 2.4 accepts requires ``packaging>=21``,
which Rasa 3.6 forbids. The synchronous storage uses ``redis`` (redis-py,
already installed with Rasa); its calls run in a worker thread so they never
stop the event loop, with short socket timeouts.

When the shared store cannot be reached the message is allowed (fail open,
counted as ``redis_onbereikbaar`` and logged): for the seconds Redis is away
users keep getting answers, and only the flood protection pauses.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Optional, Text

from limits import RateLimitItemPerMinute
from limits.aio.strategies import MovingWindowRateLimiter as AsyncMovingWindow
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter as SyncMovingWindow

from server import monitoring, settings

logger = logging.getLogger(__name__)

TOO_MANY_TEXT = (
    "Je stuurt te veel berichten kort na elkaar. Wacht even en probeer het dan "
    "opnieuw."
)

#: Seconds a call to a Redis counter store may take before it counts as down.
REDIS_TIMEOUT_SECONDS = 0.5

#: Counted (and the message allowed) when the counter store cannot be reached.
STORE_DOWN = "redis_onbereikbaar"


def is_async_uri(storage_uri: Text) -> bool:
    """Returns whether a ``limits`` storage URI names an asyncio storage."""
    return storage_uri.startswith("async+")


class RateLimits:
    """Per-IP and per-conversation message limits (a moving minute window)."""

    def __init__(
        self,
        per_ip: int = settings.RATE_PER_IP,
        per_conversation: int = settings.RATE_PER_CONVERSATION,
        storage_uri: Text = settings.RATE_LIMIT_STORAGE,
    ) -> None:
        """Creates the limits; a limit of 0 or less switches that limit off.

        Args:
            per_ip: Messages per minute per client address.
            per_conversation: Messages per minute per conversation.
            storage_uri: A ``limits`` storage URI: ``async+memory://`` (one
                process) or ``redis://…`` (shared by replicas).
        """
        self.per_ip = RateLimitItemPerMinute(per_ip) if per_ip > 0 else None
        self.per_conversation = (
            RateLimitItemPerMinute(per_conversation) if per_conversation > 0 else None
        )
        self.is_async = is_async_uri(storage_uri)
        options: dict = {}
        if storage_uri.startswith(("redis://", "rediss://")):
            options = {
                "socket_timeout": REDIS_TIMEOUT_SECONDS,
                "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
            }
        # The limiter holds its storage weakly: keep it alive here.
        self.storage = storage_from_string(storage_uri, **options)
        self.limiter: Any = (
            AsyncMovingWindow(self.storage)
            if self.is_async
            else SyncMovingWindow(self.storage)
        )

    async def _hit(self, item: Any, scope: Text, key: Text) -> bool:
        if self.is_async:
            return await self.limiter.hit(item, "faq", scope, key)
        return await asyncio.to_thread(self.limiter.hit, item, "faq", scope, key)

    async def allow(
        self, ip: Optional[Text] = None, conversation: Optional[Text] = None
    ) -> bool:
        """Counts one message; returns False when a limit is exceeded.

        Args:
            ip: The client's address (None: not limited by address).
            conversation: The conversation id (None: not limited per conversation).
        """
        checks = (
            ("ip", ip, self.per_ip),
            ("conversation", conversation, self.per_conversation),
        )
        for scope, key, item in checks:
            if key is None or item is None:
                continue
            try:
                allowed = await self._hit(item, scope, key)
            except Exception:  # - the store is away: serve, count, log
                monitoring.count(STORE_DOWN)
                logger.warning("rate limit store unreachable; message allowed")
                return True
            if not allowed:
                logger.warning("rate limit per %s reached", scope)
                monitoring.count(f"te_veel_berichten:{scope}")
                return False
        return True


_limits: Optional[RateLimits] = None


def shared() -> RateLimits:
    """Returns the process's rate limits (created on first use)."""
    global _limits
    if _limits is None:
        _limits = RateLimits()
    return _limits
