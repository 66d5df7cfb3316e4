"""Personal data out of logs: conversation ids masked before they are logged.

WhatsApp conversation ids are phone numbers, and REST/socket.io ids are
bearer secrets, so no log line holds one whole. Message texts are never
logged at all.
"""

from __future__ import annotations

import re
from typing import Text

_PHONE_LIKE = re.compile(r"\+?\d[\d\s-]{5,}")


def mask_id(conversation_id: Text) -> Text:
    """Returns a conversation id fit for logs.

    Phone numbers keep only their last 4 digits; other ids keep their channel
    prefix and 4 characters, enough to follow one conversation in a log.

    Examples:
        ``whatsapp:+31612345678`` -> ``whatsapp:…5678``;
        ``rest:Zx81kq…`` -> ``rest:Zx81…``.
    """
    channel, _, rest = conversation_id.rpartition(":")
    prefix = f"{channel}:" if channel else ""
    if _PHONE_LIKE.search(conversation_id):
        return f"{prefix}…{conversation_id[-4:]}"
    return f"{prefix}{rest[:4]}…"
