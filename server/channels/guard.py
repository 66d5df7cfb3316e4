"""What every channel of this assistant does around Rasa's message handling.

- Rejects empty or oversized user text with a short Dutch reply.
- Accepts a typed ``/intent`` only when it is a payload of the assistant's own
  buttons; any other leading ``/`` is read as text.
- Keeps each bot message whole: text, buttons and the ``custom`` payload with
  the topic id travel together (Rasa's stock channels split them).
- Guarantees an answer: when Rasa produced no message (the action server is
  down, an action crashed) or took longer than ``FAQ_REPLY_TIMEOUT`` seconds,
  the user gets a Dutch apology instead of silence or an English error.
- Never loses a turn silently: when the conversation could not be stored, the
  user is told, and monitoring counts it (:mod:`server.monitoring`).
- Answers every HTTP error of the Rasa server as Dutch JSON, without a trace.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from faq.content import CONTENT_TOPIC_IDS
from faq.privacy import mask_id as masked
from faq.reply import button_payloads, system_reply, topic_of
from server import monitoring
from server import settings as config

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
NOT_STORED_TEXT = (
    "Let op: door een storing kon ik ons gesprek niet bewaren of ophalen. Een "
    "vervolgvraag begrijp ik daardoor misschien niet; stel je vraag dan volledig."
)

#: Dutch texts of HTTP errors, by status.
HTTP_ERROR_TEXTS = {
    400: "Dit verzoek is ongeldig.",
    401: "Geen toegang: log in of stuur een geldig token mee.",
    403: "Geen toegang.",
    404: "Deze pagina bestaat niet.",
    405: "Deze methode is hier niet toegestaan.",
    408: "Het verzoek duurde te lang.",
    413: "Het verzoek is te groot.",
    429: "Te veel verzoeken kort na elkaar. Wacht even en probeer het opnieuw.",
    500: "Er ging aan onze kant iets mis. Probeer het later opnieuw.",
    503: "De dienst is even niet beschikbaar. Probeer het later opnieuw.",
}

#: Payloads of the assistant's own buttons: the only accepted ``/intent`` texts.
ALLOWED_PAYLOADS = button_payloads(CONTENT_TOPIC_IDS)


def bearer_token(request: Request) -> Optional[Text]:
    """Returns the token of an ``Authorization: Bearer …`` header, if any."""
    header = request.headers.get("authorization") or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def token_matches(given: Optional[Text], expected: Optional[Text]) -> bool:
    """Compares tokens in constant time; an unset expected token never matches."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def client_ip(request: Request) -> Text:
    """Returns the client's address (behind a proxy: as the proxy reports it).

    Sanic reads ``X-Forwarded-For`` only when the operator configured the
    proxy (``SANIC_PROXIES_COUNT`` or ``SANIC_REAL_IP_HEADER``).
    """
    return request.remote_addr or request.ip or "onbekend"


def check_text(recipient_id: Text, text: Optional[Text]) -> Optional[Dict[Text, Any]]:
    """Returns a Dutch reply when the user text cannot be processed, else None."""
    if text is None or not text.strip():
        return system_reply(recipient_id, EMPTY_TEXT, "leeg_bericht")
    if len(text) > config.MAX_MESSAGE_CHARS:
        return system_reply(
            recipient_id,
            TOO_LONG_TEXT.format(length=len(text), limit=config.MAX_MESSAGE_CHARS),
            "bericht_te_lang",
        )
    return None


def user_text(text: Text) -> Text:
    """Returns the text to hand to Rasa: typed intents only for our own buttons.

    Rasa reads a message that starts with ``/`` as an intent with confidence
    1.0 (and its JSON as entities). Only the exact payloads of the assistant's
    buttons may do that; for anything else the slashes are dropped, so the
    words are understood as words.
    """
    text = text.strip()
    if text.startswith("/") and text not in ALLOWED_PAYLOADS:
        return text.lstrip("/").strip() or text
    return text


def metadata_problem(metadata: Any) -> Optional[Text]:
    """Returns a Dutch error when client metadata is unusable or too large."""
    if not isinstance(metadata, dict):
        return "Het veld 'metadata' moet een JSON-object zijn."
    try:
        size = len(json.dumps(metadata, ensure_ascii=False).encode("utf-8"))
    except (TypeError, ValueError, RecursionError):
        return "Het veld 'metadata' bevat geen geldige JSON-waarden."
    if size > config.MAX_METADATA_BYTES:
        return (
            f"Het veld 'metadata' is te groot ({size} bytes, maximaal "
            f"{config.MAX_METADATA_BYTES})."
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
        logger.info("bot reply to %s: topic=%s", masked(recipient_id), topic_of(whole))
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
        When Rasa answered but failed afterwards (the conversation could not
        be stored), the answer comes with a Dutch notice of that.
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
        monitoring.count(f"storing:{reason}")
        logger.warning(
            "no reply for %s (%s); sending apology", masked(message.sender_id), reason
        )
        return [system_reply(message.sender_id, APOLOGY_TEXT, f"storing:{reason}")]
    store_failed = monitoring.take_store_fault(message.sender_id)
    if reason == "fout" or store_failed:
        # Rasa answered, but the conversation could not be read or stored.
        if not store_failed:
            monitoring.count("opslag_mislukt")
        messages.append(
            system_reply(message.sender_id, NOT_STORED_TEXT, "storing:niet_bewaard")
        )
    return messages


def dutch_error(status: int, text: Optional[Text] = None) -> HTTPResponse:
    """Returns a JSON error with a Dutch message."""
    text = text or HTTP_ERROR_TEXTS.get(status) or HTTP_ERROR_TEXTS[500]
    return response.json({"error": text}, status=status)


async def _dutch_error_handler(request: Request, exception: Exception) -> HTTPResponse:
    status = int(
        getattr(exception, "status_code", None) or getattr(exception, "status", 500)
    )
    if status >= 500:
        monitoring.count("http_500")
        logger.error(
            "unhandled error on %s %s", request.method, request.path, exc_info=exception
        )
    if status not in HTTP_ERROR_TEXTS:
        status = 500 if status >= 500 else 400
    return dutch_error(status)


def install_http_hardening(blueprint: Blueprint) -> None:
    """Makes the whole Rasa server answer HTTP errors as Dutch JSON.

    Registered from each of our channels' blueprints (a Sanic listener, the
    documented extension point); the first one to run installs it for the app.
    """

    @blueprint.listener("before_server_start")
    async def _harden(app: Sanic, _: Any) -> None:
        if getattr(app.ctx, "faq_hardened", False):
            return
        app.ctx.faq_hardened = True
        from rasa.server import ErrorResponse  # the HTTP API's errors, when enabled

        app.error_handler.add(Exception, _dutch_error_handler)
        app.error_handler.add(ErrorResponse, _dutch_error_handler)
        app.config.REQUEST_MAX_SIZE = min(
            int(app.config.REQUEST_MAX_SIZE), config.MAX_BODY_BYTES
        )
