"""REST channel: Rasa's ``rest`` webhook, hardened.

Same URL and request format as Rasa's (``POST /webhooks/rest/webhook`` with
``{"sender": ..., "message": ...}``), but:

- invalid JSON or a wrong request shape gets HTTP 400 with a Dutch error;
- an empty or oversized message gets a short Dutch reply;
- each bot message arrives whole, with its ``custom`` topic payload;
- the user always gets a reply, even when the action server is down or slow.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Awaitable, Callable, Dict, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.guard import WholeMessageCollector, check_text, handle_guarded

logger = logging.getLogger(__name__)

MAX_SENDER_CHARS = 128


def bad_request(text: Text) -> HTTPResponse:
    """Returns HTTP 400 with a Dutch error message."""
    return response.json({"error": text}, status=400)


class FaqRestInput(RestInput):
    """Rasa's REST input with validation, whole messages and a reply guarantee."""

    @classmethod
    def name(cls) -> Text:
        """Keeps Rasa's URL: /webhooks/rest/webhook."""
        return "rest"

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        """Returns the webhook routes."""
        webhook = Blueprint("faq_rest_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                body: Any = json.loads(request.body or b"")
            except (ValueError, UnicodeDecodeError):
                return bad_request(
                    "Dit is geen geldige JSON. Stuur een object met de velden "
                    "'sender' en 'message'."
                )
            if not isinstance(body, dict):
                return bad_request(
                    "Stuur een JSON-object met de velden 'sender' en 'message'."
                )
            sender = body.get("sender", "default")
            text = body.get("message")
            metadata: Dict[Text, Any] = body.get("metadata") or {}
            if (
                not isinstance(sender, str)
                or not sender.strip()
                or len(sender) > MAX_SENDER_CHARS
            ):
                return bad_request(
                    f"Het veld 'sender' moet een tekst van 1 tot {MAX_SENDER_CHARS} "
                    "tekens zijn."
                )
            if text is not None and not isinstance(text, str):
                return bad_request(
                    "Het veld 'message' moet een tekst zijn, geen getal of lijst."
                )
            if not isinstance(metadata, dict):
                return bad_request("Het veld 'metadata' moet een JSON-object zijn.")

            rejection = check_text(sender, text)
            if rejection is not None:
                return response.json([rejection])

            collector = WholeMessageCollector()
            message = UserMessage(
                text.strip(),
                collector,
                sender,
                input_channel=self.name(),
                metadata=metadata,
            )
            return response.json(
                await handle_guarded(on_new_message, message, collector)
            )

        return webhook
