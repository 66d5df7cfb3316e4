"""Hands a conversation to customer service: the transcript with its topics.

When a user asks for a person (topic ``medewerker``), the reply carries
``"handoff": true`` in its ``custom`` payload so a channel can switch to a
human, and :func:`hand_off` posts the transcript (user texts, bot replies and
the topic ids asked) as JSON to ``FAQ_HANDOFF_URL``. Without that setting the
handoff is logged only. Either way the log says what happened.

The visitor's texts leave the tracker store de-identified
(:func:`faq.privacy.deidentify`: names, phone numbers, e-mail addresses,
addresses, dates and BSNs become placeholders). If de-identification fails,
the texts are left out rather than sent as typed. The conversation id stays:
the helpdesk needs it to take the conversation over.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Text

import requests
from rasa_sdk import Tracker

from actions import config
from faq.privacy import deidentify, mask_id

logger = logging.getLogger(__name__)

#: Stands in for a visitor's text when it could not be de-identified.
TEXT_WITHHELD = "[tekst weggelaten: kon niet worden ontdaan van persoonsgegevens]"


def visitor_text(text: Text) -> Text:
    """Returns a visitor's text de-identified, or withheld if that fails."""
    try:
        return deidentify(text)
    except Exception:
        logger.error("handoff: de-identificatie mislukt; tekst weggelaten")
        return TEXT_WITHHELD


def build_transcript(tracker: Tracker) -> Dict[Text, Any]:
    """Returns the conversation as turns, with the topic ids the bot answered.

    Args:
        tracker: The conversation (the action server receives its recent events).

    Returns:
        ``{"sender_id", "turns": [{"van", "tekst", "topic"}], "topics"}``, the
        visitor's texts de-identified.
    """
    turns: List[Dict[Text, Any]] = []
    topics: List[Text] = []
    for event in tracker.events:
        kind = event.get("event")
        if kind == "user":
            turns.append(
                {"van": "klant", "tekst": visitor_text(event.get("text") or "")}
            )
        elif kind == "bot":
            custom = (event.get("data") or {}).get("custom") or {}
            topic = custom.get("topic")
            turns.append(
                {"van": "assistent", "tekst": event.get("text") or "", "topic": topic}
            )
            if topic and topic not in topics:
                topics.append(topic)
    return {"sender_id": tracker.sender_id, "turns": turns, "topics": topics}


def _post(transcript: Dict[Text, Any]) -> int:
    response = requests.post(
        config.HANDOFF_URL, json=transcript, timeout=config.HANDOFF_TIMEOUT_SECONDS
    )
    return response.status_code


async def hand_off(tracker: Tracker) -> bool:
    """Sends the transcript to the configured endpoint; logs the outcome.

    Returns:
        True when the endpoint accepted it (HTTP 2xx).
    """
    transcript = await asyncio.to_thread(build_transcript, tracker)
    summary = (
        f"handoff voor {mask_id(tracker.sender_id)}: "
        f"{len(transcript['turns'])} berichten, topics {transcript['topics']}"
    )
    if not config.HANDOFF_URL:
        logger.info("%s; geen FAQ_HANDOFF_URL ingesteld, alleen gelogd", summary)
        return False
    try:
        status = await asyncio.to_thread(_post, transcript)
    except requests.RequestException as error:
        logger.warning(
            "%s; versturen naar %s mislukt: %s", summary, config.HANDOFF_URL, error
        )
        return False
    logger.info("%s; verstuurd naar %s (HTTP %s)", summary, config.HANDOFF_URL, status)
    return 200 <= status < 300
