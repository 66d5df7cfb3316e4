"""Personal data out of logs: conversation ids masked before they are logged.

WhatsApp conversation ids are phone numbers, and REST/socket.io ids are
bearer secrets, so no log line holds one whole. Message texts are never
logged at all.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Text

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


#: A phone number in free text: 8 or more digits, optionally with + and spaces.
_PHONE_IN_TEXT = re.compile(r"(?<!\w)\+?\d(?:[ -]?\d){7,}")


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _mask_match(match: "re.Match[str]") -> Text:
    found = match.group()
    if _DATE.fullmatch(found):
        return found
    return "…" + re.sub(r"\D", "", found)[-4:]


def mask_phone_numbers(text: Text) -> Text:
    """Replaces every phone number in a text by ``…`` and its last 4 digits."""
    return _PHONE_IN_TEXT.sub(_mask_match, text)


def install_log_masking() -> None:
    """Masks phone numbers in every log message of this process, Rasa's included.

    Our own log lines already mask conversation ids; Rasa's (at DEBUG level,
    e.g. "Could not find tracker for conversation ID 'whatsapp:+316…'") do
    not. A log-record factory (the stdlib hook that runs for every record,
    whatever handlers Rasa installs later) masks the formatted message.
    """
    previous = logging.getLogRecordFactory()
    if getattr(previous, "faq_masking", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        plain = record.getMessage

        def get_message() -> str:
            return mask_phone_numbers(plain())

        record.getMessage = get_message  # type: ignore[method-assign]
        return record

    factory.faq_masking = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
