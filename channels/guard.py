"""What every channel of this assistant does around Rasa's message handling.

- Rejects empty or oversized user text with a short Dutch reply.
- Keeps each bot message whole: text, buttons and the ``custom`` payload with
  the topic id travel together (Rasa's stock channels split them).
- Guarantees an answer: when Rasa produced no message (the action server is
  down, an action crashed) or took longer than ``FAQ_REPLY_TIMEOUT`` seconds,
  the user gets a Dutch apology instead of silence or an English error.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from actions import config

logger = logging.getLogger(__name__)

#: Keys of a bot message that reach the user, in Rasa's message format.
MESSAGE_KEYS = (
    "text",
    "buttons",
    "quick_replies",
    "image",
    "attachment",
    "elements",
    "custom",
)

EMPTY_TEXT = "Je bericht is leeg. Stel gerust je vraag over magnesium of vitamine D."
TOO_LONG_TEXT = (
    "Je bericht is te lang voor mij ({length} tekens, maximaal {limit}). "
    "Stel je vraag korter, dan help ik je graag."
)
APOLOGY_TEXT = (
    "Sorry, er ging aan mijn kant iets mis en ik kan je vraag nu niet beantwoorden. "
    "Probeer het over een paar minuten opnieuw, of neem contact op met onze "
    "klantenservice."
)


def masked(sender_id: Text) -> Text:
    """Returns a conversation id fit for logs: phone numbers lose all but 4 digits."""
    if sum(ch.isdigit() for ch in sender_id) >= 6:
        return "…" + sender_id[-4:]
    return sender_id


def system_message(recipient_id: Text, text: Text, reason: Text) -> Dict[Text, Any]:
    """Builds a channel-level reply in Rasa's message format.

    Args:
        recipient_id: The conversation id.
        text: The Dutch text.
        reason: Why the channel answered itself (kept in the payload and logs).

    Returns:
        A message with ``custom`` topic metadata (topic ``fallback``).
    """
    return {
        "recipient_id": recipient_id,
        "text": text,
        "custom": {"topic": "fallback", "sources": [], "reason": reason},
    }


def check_text(recipient_id: Text, text: Optional[Text]) -> Optional[Dict[Text, Any]]:
    """Returns a Dutch reply when the user text cannot be processed, else None."""
    if text is None or not text.strip():
        return system_message(recipient_id, EMPTY_TEXT, "leeg_bericht")
    if len(text) > config.MAX_MESSAGE_CHARS:
        return system_message(
            recipient_id,
            TOO_LONG_TEXT.format(length=len(text), limit=config.MAX_MESSAGE_CHARS),
            "bericht_te_lang",
        )
    return None


class WholeMessageCollector(CollectingOutputChannel):
    """Collects each bot message as one dict, with its custom payload inside."""

    @classmethod
    def name(cls) -> Text:
        """Name of the output channel."""
        return "collector"

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        """Stores the message whole instead of splitting text and custom."""
        whole = {"recipient_id": recipient_id}
        whole.update({k: message[k] for k in MESSAGE_KEYS if message.get(k)})
        topic = (whole.get("custom") or {}).get("topic")
        logger.info("bot reply to %s: topic=%s", masked(recipient_id), topic)
        await self._persist_message(whole)


async def handle_guarded(
    on_new_message: Callable[[UserMessage], Awaitable[Any]],
    message: UserMessage,
    collector: CollectingOutputChannel,
) -> List[Dict[Text, Any]]:
    """Runs Rasa on one user message and always returns at least one reply.

    Args:
        on_new_message: Rasa's message handler.
        message: The user message; its output channel must be ``collector``.
        collector: Collects the bot's messages.

    Returns:
        The bot's messages, or a Dutch apology when there were none in time.
    """
    task = asyncio.ensure_future(on_new_message(message))
    reason = None
    try:
        # shield: on a timeout Rasa still finishes the turn and stores it.
        await asyncio.wait_for(
            asyncio.shield(task), timeout=config.REPLY_TIMEOUT_SECONDS
        )
    except asyncio.TimeoutError:
        reason = "time-out"
    except Exception:  # - the user must get an answer, not a crash
        logger.exception("message handling failed for %s", masked(message.sender_id))
        reason = "fout"
    messages = list(collector.messages)
    if reason is None and not messages:
        reason = "geen_antwoord"
    if reason is not None and not messages:
        logger.warning(
            "no reply for %s (%s); sending apology", masked(message.sender_id), reason
        )
        return [system_message(message.sender_id, APOLOGY_TEXT, f"storing:{reason}")]
    return messages
