"""Rate limits for the chat channels: per IP address and per conversation.

A moving window of one minute (the ``limits`` library), so a flood from one
address or one conversation meets HTTP 429 with a Dutch body while everyone
else is served as usual. The storage is in-process by default; with several
Rasa replicas ``FAQ_RATE_LIMIT_STORAGE`` points all of them at one store
(``limits`` storage URI, e.g. ``async+redis://127.0.0.1:6379``).
"""

from __future__ import annotations

import logging
from typing import Optional, Text

from limits import RateLimitItemPerMinute
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from server import monitoring, settings

logger = logging.getLogger(__name__)

TOO_MANY_TEXT = (
    "Je stuurt te veel berichten kort na elkaar. Wacht even en probeer het dan "
    "opnieuw."
)


class RateLimits:
    """Per-IP and per-conversation message limits (a moving minute window)."""

    def __init__(
        self,
        per_ip: int = settings.RATE_PER_IP,
        per_conversation: int = settings.RATE_PER_CONVERSATION,
        storage_uri: Text = settings.RATE_LIMIT_STORAGE,
    ) -> None:
        """Creates the limits; a limit of 0 or less switches that limit off."""
        self.per_ip = RateLimitItemPerMinute(per_ip) if per_ip > 0 else None
        self.per_conversation = (
            RateLimitItemPerMinute(per_conversation) if per_conversation > 0 else None
        )
        # The limiter holds its storage weakly: keep it alive here.
        self.storage = storage_from_string(storage_uri)
        self.limiter = MovingWindowRateLimiter(self.storage)

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
            if not await self.limiter.hit(item, "faq", scope, key):
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
