"""WhatsApp through Twilio.

Twilio posts each incoming WhatsApp message form-encoded to
``POST /webhooks/whatsapp/webhook``. Unlike Rasa's stock ``twilio`` connector,
this channel:

- verifies ``X-Twilio-Signature`` with Twilio's own ``RequestValidator`` and
  answers 403 to unsigned or wrongly signed requests, and to every request
  when no auth token is configured;
- answers at once with an empty TwiML ``<Response/>`` and sends the answer
  afterwards through Twilio's REST API with twilio's async client, one
  conversation's messages in order (:mod:`.whatsapp_common`);
- recognises a delivery it handled before by its ``MessageSid`` and Twilio's
  ``I-Twilio-Idempotency-Token``, in a database that outlives a restart, so a
  retry or a replayed signed request is not answered twice;
- answers a message without text (a photo, a voice note, a location) with a
  short Dutch reply;
- shows buttons as numbered lines (never the raw payload) and maps a typed
  ``2``, or a typed button title, to the choice the bot offered last;
- splits text at Twilio's 1,600-character limit on paragraph, line or word
  boundaries.

Content answers are plain text (the content loader forbids markup), so
replies are sent as written.

Settings (``credentials.yml``, key
``server.channels.whatsapp_twilio.TwilioWhatsAppInput``): ``twilio_number``,
``webhook_url``, ``template_content_sid`` (a Twilio Content template for a
closed 24-hour window); the secrets ``account_sid`` and ``auth_token`` come
from ``TWILIO_ACCOUNT_SID`` and ``TWILIO_AUTH_TOKEN``. An environment variable
wins over the file.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Sequence, Text
from urllib.parse import parse_qs

import sqlalchemy as sa
from rasa.core.channels.channel import UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse

from server import monitoring
from server import settings as config
from server.channels.guard import dutch_error
from server.channels.whatsapp_common import (
    OPTIONS_HINT,
    Delivery,
    DeliveryStore,
    SendError,
    WhatsAppInput,
    WhatsAppOutput,
    channel_settings,
    choices_of,
    conversation_id,
    message_text,
    split_message,
)

logger = logging.getLogger(__name__)

#: Twilio's limit for one message body, in characters.
TWILIO_MAX_CHARS = 1600

FORBIDDEN_TEXT = "Geen toegang: dit verzoek is niet door Twilio ondertekend."
NO_SENDER_TEXT = (
    "Ongeldig verzoek: de afzender ('From') ontbreekt of is geen WhatsApp-nummer."
)
STORE_DOWN_TEXT = "De dienst is even niet beschikbaar. Probeer het later opnieuw."

_FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


def turn_bodies(
    messages: Sequence[Dict[Text, Any]], limit: Optional[int] = None
) -> List[Text]:
    """Formats the bot messages of one turn as WhatsApp texts.

    Buttons become numbered lines ("1. <title>"), numbered across the whole
    turn, with a hint line below; payloads are never shown. Link buttons
    become ``title: url`` lines.

    Args:
        messages: The bot messages in Rasa's format.
        limit: Longest message body; defaults to the configured maximum.

    Returns:
        The message bodies to send, each at most ``limit`` characters.
    """
    limit = min(limit or config.WHATSAPP_MAX_CHARS, TWILIO_MAX_CHARS)
    bodies: List[Text] = []
    number = 0
    for message in messages:
        blocks = [message_text(message)]
        lines = []
        for choice in choices_of(message):
            number += 1
            lines.append(f"{number}. {choice.title}")
        if lines:
            blocks.append("\n".join([*lines, OPTIONS_HINT]))
        bodies.extend(split_message("\n\n".join(b for b in blocks if b), limit))
    return bodies


class TwilioSender:
    """Sends WhatsApp messages through Twilio's REST API (async client)."""

    def __init__(
        self,
        account_sid: Text,
        auth_token: Text,
        from_number: Text,
        api_base_url: Text,
        timeout: float,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.from_number = from_number
        self.api_base_url = api_base_url.rstrip("/")
        self.timeout = timeout
        self._client: Optional[Client] = None

    def client(self) -> Client:
        """The twilio client (created inside the event loop, on first use)."""
        if self._client is None:
            http_client = AsyncTwilioHttpClient(timeout=self.timeout, max_retries=2)
            self._client = Client(
                self.account_sid, self.auth_token, http_client=http_client
            )
            # The Api domain builds every messages URL from its base_url.
            self._client.api.base_url = self.api_base_url
        return self._client

    async def send(self, to: Text, **fields: Any) -> Text:
        """Sends one message (``body=…`` or ``content_sid=…``); returns its SID.

        Raises:
            SendError: When Twilio refused the message or did not answer.
        """
        try:
            message = await asyncio.wait_for(
                self.client().messages.create_async(
                    to=to, from_=self.from_number, **fields
                ),
                self.timeout,
            )
        except TwilioRestException as error:  # its text may hold the number
            raise SendError(f"Twilio HTTP {error.status}, code {error.code}") from None
        except asyncio.TimeoutError:
            raise SendError("Twilio gaf geen antwoord") from None
        return message.sid

    async def close(self) -> None:
        """Closes the HTTP session."""
        if self._client is not None:
            await self._client.http_client.close()
            self._client = None


class TwilioWhatsAppOutput(WhatsAppOutput):
    """Sends bot messages through Twilio as WhatsApp text."""

    @classmethod
    def name(cls) -> Text:
        """Name of the output channel."""
        return "whatsapp"

    def __init__(
        self,
        sender: Optional[TwilioSender],
        store: Optional[DeliveryStore],
        template_content_sid: Optional[Text] = None,
    ) -> None:
        super().__init__(store)
        self.sender = sender
        self.template_content_sid = template_content_sid

    def _sender(self) -> TwilioSender:
        if self.sender is None:
            raise SendError("TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN of nummer ontbreekt")
        return self.sender

    async def deliver(
        self, recipient_id: Text, messages: Sequence[Dict[Text, Any]]
    ) -> None:
        """Sends the turn's texts in order; stops at the first failure."""
        sender = self._sender()
        for body in turn_bodies(messages):
            await sender.send(recipient_id, body=body)

    def has_template(self) -> bool:
        """Whether a Content template SID is configured."""
        return bool(self.template_content_sid)

    async def send_template(self, recipient_id: Text) -> None:
        """Sends the approved Content template."""
        await self._sender().send(recipient_id, content_sid=self.template_content_sid)


class TwilioWhatsAppInput(WhatsAppInput):
    """WhatsApp via Twilio: verified webhook, numbered choices, idempotent."""

    numbered_choices = True
    key_prefix = "twilio:"

    @classmethod
    def name(cls) -> Text:
        """Webhook URL: /webhooks/whatsapp/webhook."""
        return "whatsapp"

    @classmethod
    def from_credentials(
        cls, credentials: Optional[Dict[Text, Any]]
    ) -> "TwilioWhatsAppInput":
        """Builds the channel; environment variables win over credentials.yml."""
        return cls(
            **channel_settings(
                credentials,
                account_sid=config.TWILIO_ACCOUNT_SID,
                auth_token=config.TWILIO_AUTH_TOKEN,
                twilio_number=config.TWILIO_WHATSAPP_NUMBER,
                webhook_url=config.WHATSAPP_WEBHOOK_URL,
                template_content_sid=None,
                store_url=config.WHATSAPP_STORE_URL,
            )
        )

    def __init__(
        self,
        account_sid: Optional[Text] = None,
        auth_token: Optional[Text] = None,
        twilio_number: Optional[Text] = None,
        webhook_url: Optional[Text] = None,
        api_base_url: Optional[Text] = None,
        template_content_sid: Optional[Text] = None,
        store_url: Optional[Text] = None,
    ) -> None:
        """Creates the channel.

        Args:
            account_sid: Twilio account SID.
            auth_token: Twilio auth token; without it every request gets 403.
            twilio_number: The bot's sender, e.g. ``whatsapp:+3197…``.
            webhook_url: Public webhook URL Twilio signs; default: request URL.
            api_base_url: Base URL of Twilio's REST API.
            template_content_sid: Content template for a closed 24-hour window.
            store_url: SQLAlchemy URL of the delivery store.
        """
        super().__init__(store_url)
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.twilio_number = twilio_number
        self.webhook_url = webhook_url
        self.api_base_url = api_base_url or config.TWILIO_API_BASE_URL
        self.template_content_sid = template_content_sid
        self._sender: Optional[TwilioSender] = None
        if not auth_token:
            logger.warning(
                "WhatsApp (Twilio): no TWILIO_AUTH_TOKEN; every request is refused"
            )
        if not account_sid or not twilio_number:
            logger.warning(
                "WhatsApp (Twilio): TWILIO_ACCOUNT_SID or TWILIO_WHATSAPP_NUMBER "
                "missing; replies cannot be sent"
            )

    def output(self) -> TwilioWhatsAppOutput:
        """The Twilio output channel."""
        configured = self.account_sid and self.auth_token and self.twilio_number
        if self._sender is None and configured:
            self._sender = TwilioSender(
                self.account_sid,
                self.auth_token,
                self.twilio_number,
                self.api_base_url,
                config.WHATSAPP_SEND_TIMEOUT_SECONDS,
            )
        return TwilioWhatsAppOutput(self._sender, self.store, self.template_content_sid)

    async def close(self, timeout: float = 10.0) -> None:
        """Finishes queued work, then closes the HTTP session."""
        await super().close(timeout)
        if self._sender is not None:
            await self._sender.close()

    def validation_url(self, request: Request) -> Text:
        """The URL Twilio signed: the configured public URL, or the request URL."""
        if not self.webhook_url:
            return request.url
        if request.query_string and "?" not in self.webhook_url:
            return f"{self.webhook_url}?{request.query_string}"
        return self.webhook_url

    @staticmethod
    def form_params(request: Request) -> Dict[Text, List[Text]]:
        """The POSTed form parameters, blank values included.

        Sanic's ``request.form`` drops blank values (a media message has
        ``Body=``), but Twilio signs them, so the body is parsed here.
        """
        content_type = request.headers.get("content-type", "").split(";")[0]
        if content_type.strip().lower() != _FORM_CONTENT_TYPE:
            return {}
        body = (request.body or b"").decode("utf-8", errors="replace")
        return parse_qs(body, keep_blank_values=True)

    def is_signed_by_twilio(
        self, request: Request, params: Dict[Text, List[Text]]
    ) -> bool:
        """Checks ``X-Twilio-Signature`` over the webhook URL and the form params."""
        signature = request.headers.get("X-Twilio-Signature")
        if not self.auth_token or not signature:
            return False
        validator = RequestValidator(self.auth_token)
        return validator.validate(
            self.validation_url(request), _MultiDict(params), signature
        )

    @staticmethod
    def delivery(
        request: Request, params: Dict[Text, List[Text]]
    ) -> tuple[Optional[Delivery], List[Text]]:
        """Reads the message and its idempotency keys from a signed request."""

        def first(name: Text) -> Optional[Text]:
            values = params.get(name)
            return values[0] if values else None

        sender = conversation_id(first("From"))
        if sender is None:
            return None, []
        sid = (first("MessageSid") or "").strip()[:64]
        token = (request.headers.get("I-Twilio-Idempotency-Token") or "").strip()[:64]
        # Without either id, a replay is still the same signed form.
        digest = hashlib.sha256(
            repr(sorted(params.items())).encode("utf-8", errors="replace")
        ).hexdigest()
        keys = [f"twilio:sid:{sid}"] if sid else []
        keys += [f"twilio:token:{token}"] if token else []
        keys = keys or [f"twilio:form:{digest}"]

        text = first("Body")
        num_media = (first("NumMedia") or "0").strip()
        has_media = num_media.isdigit() and int(num_media) > 0
        if first("ButtonPayload"):  # a quick reply of a Content template
            return Delivery(sender, sid or digest, first("ButtonPayload"), True), keys
        if text is None or (
            not text.strip() and (has_media or first("Latitude") is not None)
        ):
            text = None  # a photo, voice note, sticker or location
        return Delivery(sender, sid or digest, text), keys

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        """Returns the webhook routes."""
        webhook = Blueprint("faq_whatsapp_webhook", __name__)
        self.prepare(webhook, on_new_message)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            params = self.form_params(request)
            if not self.is_signed_by_twilio(request, params):
                logger.warning("WhatsApp (Twilio): refused unsigned/invalid request")
                return dutch_error(403, FORBIDDEN_TEXT)
            delivery, keys = self.delivery(request, params)
            if delivery is None:
                return dutch_error(400, NO_SENDER_TEXT)
            try:
                await self.accept(request.app, delivery, keys)
            except sa.exc.SQLAlchemyError:
                monitoring.count("storing:whatsapp_opslag")
                logger.error("WhatsApp store unreachable; asking Twilio to retry")
                return dutch_error(503, STORE_DOWN_TEXT)
            return response.text(str(MessagingResponse()), content_type="text/xml")

        return webhook


class _MultiDict(dict):
    """Form params for ``RequestValidator``: ``getlist`` returns all values."""

    def getlist(self, name: Text) -> List[Text]:
        """All values of one parameter."""
        return list(self[name])
