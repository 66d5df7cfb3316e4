"""Server-issued conversation ids, namespaced per channel.

A client never chooses its conversation id. The REST and socket.io channels
hand out a *session id*: random (128 bits) and signed with the server's
secret, so any replica can check it without shared state, and nobody can
make one up. The conversation id Rasa stores is ``<channel>:<random part>``,
so no channel can reach another channel's conversations (WhatsApp ids such as
``whatsapp:+316…`` exist only inside the WhatsApp channel).

The secret comes from ``FAQ_SESSION_SECRET`` (``make run`` keeps one in
``var/secrets/``). Without it the server makes one per process and warns:
sessions then end at a restart.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from typing import Optional, Text, Tuple

from server import settings

logger = logging.getLogger(__name__)

_SIGNATURE_CHARS = 32
_SESSION_PATTERN = re.compile(r"([A-Za-z0-9_-]{22})\.([0-9a-f]{%d})" % _SIGNATURE_CHARS)
_process_secret: Optional[bytes] = None


def _secret() -> bytes:
    global _process_secret
    if settings.SESSION_SECRET:
        return settings.SESSION_SECRET.encode("utf-8")
    if _process_secret is None:
        logger.warning(
            "FAQ_SESSION_SECRET is not set: session ids are valid until this "
            "process stops"
        )
        _process_secret = secrets.token_bytes(32)
    return _process_secret


def _sign(channel: Text, token: Text) -> Text:
    mac = hmac.new(_secret(), f"{channel}:{token}".encode("ascii"), hashlib.sha256)
    return mac.hexdigest()[:_SIGNATURE_CHARS]


def issue(channel: Text) -> Tuple[Text, Text]:
    """Creates a new session for a channel.

    Args:
        channel: The channel's name (``rest``, ``socketio``).

    Returns:
        ``(session_id, conversation_id)``: the signed id the client keeps,
        and the id Rasa stores the conversation under.
    """
    token = secrets.token_urlsafe(16)
    return f"{token}.{_sign(channel, token)}", f"{channel}:{token}"


def conversation_of(channel: Text, session_id: object) -> Optional[Text]:
    """Returns the conversation id of a session id this server issued.

    Args:
        channel: The channel the session id was sent to.
        session_id: What the client sent (any type).

    Returns:
        ``<channel>:<random part>``, or None for anything this server did not
        issue for this channel (forged, altered, another channel's, malformed).
    """
    if not isinstance(session_id, str):
        return None
    match = _SESSION_PATTERN.fullmatch(session_id)
    if match is None:
        return None
    token, signature = match.groups()
    if not hmac.compare_digest(signature, _sign(channel, token)):
        return None
    return f"{channel}:{token}"
