"""REST channel: Rasa's ``rest`` webhook, with server-issued sessions.

Same URL as Rasa's (``POST /webhooks/rest/webhook``) and the same reply
format (a JSON list of bot messages), but the client does not choose its
conversation:

- A browser or app sends ``{"message": "..."}``. The first reply carries a new
  ``session_id`` (in every message's ``recipient_id`` and in the
  ``X-Session-Id`` header); the client sends it back as ``"sender"``. A
  ``sender`` this server did not issue gets HTTP 403 in Dutch.
- A server-to-server integration sends ``Authorization: Bearer <FAQ_REST_TOKEN>``
  and names its own conversations in ``"sender"``; they live under
  ``rest-api:<sender>``, apart from every other channel.

Also: invalid JSON, a wrong shape or oversized metadata gets HTTP 400 with a
Dutch error; an empty or oversized message a short Dutch reply; too many
messages per minute per IP address or conversation HTTP 429 in Dutch; each
bot message arrives whole, with its ``custom`` topic payload; and the user
always gets a reply, even when the action server is down or slow.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from server import limits, sessions
from server import settings as config
from server.channels.guard import (
    WholeMessageCollector,
    bearer_token,
    check_text,
    client_ip,
    dutch_error,
    handle_guarded,
    install_http_hardening,
    metadata_problem,
    token_matches,
    user_text,
)

logger = logging.getLogger(__name__)

#: What an integration may call its conversations.
INTEGRATION_SENDER = re.compile(r"[A-Za-z0-9_.:@+-]+")


def bad_request(text: Text) -> HTTPResponse:
    """Returns HTTP 400 with a Dutch error message."""
    return dutch_error(400, text)


def read_body(request: Request) -> Any:
    """Returns the parsed JSON body, or None when it is not valid JSON."""
    try:
        return json.loads(request.body or b"")
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


class FaqRestInput(InputChannel):
    """REST input with server-issued sessions, limits and a reply guarantee."""

    @classmethod
    def name(cls) -> Text:
        """Keeps Rasa's URL: /webhooks/rest/webhook."""
        return "rest"

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        """Returns the webhook routes."""
        webhook = Blueprint("faq_rest_webhook", __name__)
        install_http_hardening(webhook)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            return await self.receive(request, on_new_message)

        return webhook

    def conversation(
        self, request: Request, sender: Any
    ) -> tuple[Optional[Text], Optional[Text], Optional[HTTPResponse]]:
        """Decides whose conversation a request belongs to.

        Returns:
            ``(conversation_id, public_id, error)``: the id Rasa stores, the id
            the client sees, or an error response.
        """
        if sender is not None and (
            not isinstance(sender, str)
            or not sender.strip()
            or len(sender) > config.MAX_SENDER_CHARS
        ):
            return (
                None,
                None,
                bad_request(
                    f"Het veld 'sender' moet een tekst van 1 tot "
                    f"{config.MAX_SENDER_CHARS} tekens zijn."
                ),
            )
        if token_matches(bearer_token(request), config.REST_TOKEN):
            if sender is None or not INTEGRATION_SENDER.fullmatch(sender):
                return (
                    None,
                    None,
                    bad_request(
                        "Een koppeling moet in 'sender' een gespreks-id meegeven "
                        "(letters, cijfers en _.:@+-)."
                    ),
                )
            return f"rest-api:{sender}", sender, None
        if request.headers.get("authorization"):
            return None, None, dutch_error(401, "Ongeldig token.")
        if sender is None:
            public_id, conversation_id = sessions.issue(self.name())
            return conversation_id, public_id, None
        conversation_id = sessions.conversation_of(self.name(), sender)
        if conversation_id is None:
            logger.warning("REST message with an unknown session id refused")
            return (
                None,
                None,
                dutch_error(
                    403,
                    "Deze sessie is onbekend. Laat 'sender' weg om een nieuw gesprek "
                    "te beginnen.",
                ),
            )
        return conversation_id, sender, None

    async def receive(
        self,
        request: Request,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> HTTPResponse:
        """Validates one request, runs the turn and returns the bot's messages."""
        body = read_body(request)
        if body is None:
            return bad_request(
                "Dit is geen geldige JSON. Stuur een object met het veld 'message'."
            )
        if not isinstance(body, dict):
            return bad_request("Stuur een JSON-object met het veld 'message'.")
        text = body.get("message")
        if text is not None and not isinstance(text, str):
            return bad_request(
                "Het veld 'message' moet een tekst zijn, geen getal of lijst."
            )
        metadata = body.get("metadata")
        if metadata is None:
            metadata = {}
        problem = metadata_problem(metadata)
        if problem:
            return bad_request(problem)
        conversation_id, public_id, error = self.conversation(
            request, body.get("sender")
        )
        if error is not None or conversation_id is None or public_id is None:
            return error or bad_request("Ongeldig verzoek.")
        integration = conversation_id.startswith("rest-api:")
        if not await limits.shared().allow(
            ip=None if integration else client_ip(request), conversation=conversation_id
        ):
            return dutch_error(429, limits.TOO_MANY_TEXT)

        rejection = check_text(conversation_id, text)
        if rejection is not None:
            messages: List[Dict[Text, Any]] = [rejection]
        else:
            collector = WholeMessageCollector()
            message = UserMessage(
                user_text(text or ""),
                collector,
                conversation_id,
                input_channel=self.name(),
                metadata=metadata,
            )
            messages = await handle_guarded(on_new_message, message, collector)
        for item in messages:
            item["recipient_id"] = public_id
        return response.json(messages, headers={"X-Session-Id": public_id})
