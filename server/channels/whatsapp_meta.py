"""WhatsApp through Meta's WhatsApp Cloud API (no Twilio in between).

Webhook: ``/webhooks/whatsapp_meta/webhook``.

- ``GET``: Meta's verification handshake. When ``hub.mode`` is ``subscribe``
  and ``hub.verify_token`` matches, ``hub.challenge`` is echoed; otherwise
  the answer is 403.
- ``POST``: every request must carry ``X-Hub-Signature-256``, an HMAC-SHA256
  of the raw body keyed with the app secret, compared in constant time.
  Unsigned, wrongly signed or tampered requests get 403, and so does every
  request when no app secret is configured. Batched payloads are read entry
  by entry, change by change, message by message. Status callbacks (sent,
  delivered, read, failed) are acknowledged and not answered; failed ones
  are logged with their error code. Text, reply-button and list replies go
  to Rasa. Other types (photo, voice, location, sticker, …) get a short Dutch
  reply that only text is understood. The webhook answers 200 at once; the
  answer follows through the Graph API (see :mod:`.whatsapp_common`).

Replies: the buttons of a message become up to 3 reply buttons when every
title fits 20 characters (topics have a short ``button`` title in the content
file), and otherwise a list message (row titles up to 24 characters, the full
title as the row's description, never a word cut in half). Text longer than
a buttons message allows goes out first as plain text.

Settings (``credentials.yml``, key ``server.channels.whatsapp_meta.MetaWhatsAppInput``):
``phone_number_id``, ``api_version``, ``template_name``, ``template_language``;
the secrets ``app_secret``, ``verify_token`` and ``access_token`` come from
``META_APP_SECRET``, ``META_WHATSAPP_VERIFY_TOKEN`` and
``META_WHATSAPP_ACCESS_TOKEN``. An environment variable wins over the file.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Sequence, Text

import aiohttp
import sqlalchemy as sa
from rasa.core.channels.channel import UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from faq.privacy import mask_id
from server import monitoring
from server import settings as config
from server.channels.guard import dutch_error, token_matches
from server.channels.whatsapp_common import (
    CHOICE_PROMPT,
    Choice,
    Delivery,
    DeliveryStore,
    SendError,
    WhatsAppInput,
    WhatsAppOutput,
    channel_settings,
    choices_of,
    conversation_id,
    fit,
    message_text,
    phone_digits,
    split_message,
)

logger = logging.getLogger(__name__)

DEFAULT_GRAPH_URL = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v21.0"

#: Limits of the Cloud API's messages.
MAX_TEXT_CHARS = 4096
MAX_INTERACTIVE_BODY_CHARS = 1024
MAX_BUTTONS = 3
MAX_BUTTON_TITLE_CHARS = 20
MAX_BUTTON_ID_CHARS = 256
MAX_ROWS = 10
MAX_ROW_TITLE_CHARS = 24
MAX_ROW_DESCRIPTION_CHARS = 72
MAX_ROW_ID_CHARS = 200

#: The label of the button that opens a list message (at most 20 characters).
LIST_BUTTON_TEXT = "Bekijk de keuzes"

FORBIDDEN_TEXT = "Geen toegang: dit verzoek is niet door Meta ondertekend."
HANDSHAKE_TEXT = "Geen toegang: het verificatietoken klopt niet."
NOT_JSON_TEXT = "Ongeldig verzoek: de body is geen JSON-object."
STORE_DOWN_TEXT = "De dienst is even niet beschikbaar. Probeer het later opnieuw."

#: Message types that carry no text for the assistant.
_IGNORED_TYPES = ("reaction",)


def text_payloads(text: Text) -> List[Dict[Text, Any]]:
    """Plain text messages (split at the Cloud API's 4,096 characters)."""
    return [
        {"type": "text", "text": {"preview_url": False, "body": part}}
        for part in split_message(text, MAX_TEXT_CHARS)
    ]


def _row(choice: Choice) -> Dict[Text, Text]:
    title = choice.short if len(choice.short) <= MAX_ROW_TITLE_CHARS else choice.title
    row = {"id": choice.payload, "title": fit(title, MAX_ROW_TITLE_CHARS)}
    if choice.title != row["title"]:
        row["description"] = fit(choice.title, MAX_ROW_DESCRIPTION_CHARS)
    return row


def interactive_payloads(
    body: Text, choices: Sequence[Choice]
) -> List[Dict[Text, Any]]:
    """Reply buttons (at most 3 short titles), otherwise list messages.

    Args:
        body: The message text shown above the buttons (at most 1,024 chars).
        choices: The choices, in order; duplicates and over-long ids dropped.
    """
    unique: Dict[Text, Choice] = {}
    for choice in choices:
        if len(choice.payload) > MAX_ROW_ID_CHARS:
            logger.warning("WhatsApp: a button payload is too long to send")
            continue
        unique.setdefault(choice.payload, choice)
    options = list(unique.values())
    if not options:
        return text_payloads(body)
    if len(options) <= MAX_BUTTONS and all(
        len(c.short) <= MAX_BUTTON_TITLE_CHARS for c in options
    ):
        buttons = [
            {"type": "reply", "reply": {"id": c.payload, "title": c.short}}
            for c in options
        ]
        return [
            {
                "type": "interactive",
                "interactive": {
                    "type": "button",
                    "body": {"text": body},
                    "action": {"buttons": buttons},
                },
            }
        ]
    lists = []
    for start in range(0, len(options), MAX_ROWS):
        rows = [_row(c) for c in options[start : start + MAX_ROWS]]
        lists.append(
            {
                "type": "interactive",
                "interactive": {
                    "type": "list",
                    "body": {"text": body if start == 0 else CHOICE_PROMPT},
                    "action": {
                        "button": LIST_BUTTON_TEXT,
                        "sections": [{"rows": rows}],
                    },
                },
            }
        )
    return lists


def message_payloads(message: Dict[Text, Any]) -> List[Dict[Text, Any]]:
    """The Cloud API messages for one bot message (without the recipient)."""
    text = message_text(message)
    choices = choices_of(message)
    if not choices:
        return text_payloads(text)
    if text and len(text) <= MAX_INTERACTIVE_BODY_CHARS:
        return interactive_payloads(text, choices)
    return text_payloads(text) + interactive_payloads(CHOICE_PROMPT, choices)


class GraphSender:
    """Posts messages to the Graph API's ``/<phone number id>/messages``."""

    def __init__(
        self,
        access_token: Text,
        phone_number_id: Text,
        graph_url: Text,
        api_version: Text,
        timeout: float,
        retries: int = 2,
    ) -> None:
        self.url = f"{graph_url.rstrip('/')}/{api_version}/{phone_number_id}/messages"
        self.access_token = access_token
        self.timeout = timeout
        self.retries = retries
        self._session: Optional[aiohttp.ClientSession] = None

    async def post(self, to: Text, payload: Dict[Text, Any]) -> Optional[Text]:
        """Sends one message; returns its ``wamid``.

        Retries on a network error, 429 or 5xx (twice, with a pause).

        Raises:
            SendError: When the API refused the message or stayed unreachable.
        """
        body = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            **payload,
        }
        headers = {"Authorization": f"Bearer {self.access_token}"}
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout)
            )
        problem = "onbekend"
        for attempt in range(self.retries + 1):
            if attempt:
                await asyncio.sleep(0.5 * 2 ** (attempt - 1))
            try:
                async with self._session.post(
                    self.url, json=body, headers=headers
                ) as resp:
                    data = await resp.json(content_type=None)
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
                problem = type(error).__name__
                continue
            if resp.status < 300:
                messages = data.get("messages") if isinstance(data, dict) else None
                return (messages or [{}])[0].get("id")
            code = (
                (data.get("error") or {}).get("code")
                if isinstance(data, dict)
                else None
            )
            problem = f"Graph API HTTP {resp.status}, code {code}"
            if resp.status != 429 and resp.status < 500:
                break
        raise SendError(problem)

    async def close(self) -> None:
        """Closes the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None


class MetaWhatsAppOutput(WhatsAppOutput):
    """Sends bot messages through the Cloud API."""

    @classmethod
    def name(cls) -> Text:
        """Name of the output channel."""
        return "whatsapp_meta"

    def __init__(
        self,
        sender: Optional[GraphSender],
        store: Optional[DeliveryStore],
        template_name: Optional[Text] = None,
        template_language: Text = "nl",
    ) -> None:
        super().__init__(store)
        self.sender = sender
        self.template_name = template_name
        self.template_language = template_language

    def _sender(self) -> GraphSender:
        if self.sender is None:
            raise SendError("META_WHATSAPP_ACCESS_TOKEN of phone_number_id ontbreekt")
        return self.sender

    async def deliver(
        self, recipient_id: Text, messages: Sequence[Dict[Text, Any]]
    ) -> None:
        """Sends each bot message as text, reply buttons or a list, in order."""
        sender = self._sender()
        to = phone_digits(recipient_id)
        for message in messages:
            for payload in message_payloads(message):
                await sender.post(to, payload)

    def has_template(self) -> bool:
        """Whether a template name is configured."""
        return bool(self.template_name)

    async def send_template(self, recipient_id: Text) -> None:
        """Sends the approved template (no variables)."""
        await self._sender().post(
            phone_digits(recipient_id),
            {
                "type": "template",
                "template": {
                    "name": self.template_name,
                    "language": {"code": self.template_language},
                },
            },
        )


def _text_of(message: Dict[Text, Any]) -> tuple[Optional[Text], bool]:
    """Returns ``(text, chosen)`` of an incoming message; text None: no text."""
    kind = message.get("type")
    if kind == "text":
        text = message.get("text")
        body = text.get("body") if isinstance(text, dict) else None
        return (body if isinstance(body, str) else ""), False
    if kind == "interactive" and isinstance(message.get("interactive"), dict):
        interactive = message["interactive"]
        reply = interactive.get("button_reply") or interactive.get("list_reply")
        if isinstance(reply, dict) and isinstance(reply.get("id"), str):
            return reply["id"], True
    if kind == "button" and isinstance(message.get("button"), dict):
        button = message["button"]  # a quick-reply button of a template
        value = button.get("payload") or button.get("text")
        if isinstance(value, str):
            return value, True
    return None, False


class MetaWhatsAppInput(WhatsAppInput):
    """WhatsApp Cloud API: verified webhook, tappable choices, idempotent."""

    key_prefix = "meta:"

    @classmethod
    def name(cls) -> Text:
        """Webhook URL: /webhooks/whatsapp_meta/webhook."""
        return "whatsapp_meta"

    @classmethod
    def from_credentials(
        cls, credentials: Optional[Dict[Text, Any]]
    ) -> "MetaWhatsAppInput":
        """Builds the channel; environment variables win over credentials.yml."""
        return cls(
            **channel_settings(
                credentials,
                app_secret=config.META_APP_SECRET,
                verify_token=config.META_VERIFY_TOKEN,
                access_token=config.META_ACCESS_TOKEN,
                phone_number_id=config.META_PHONE_NUMBER_ID,
                api_version=config.META_GRAPH_API_VERSION,
                graph_url=config.META_GRAPH_API_URL,
                template_name=None,
                template_language=None,
                store_url=config.WHATSAPP_STORE_URL,
            )
        )

    def __init__(
        self,
        app_secret: Optional[Text] = None,
        verify_token: Optional[Text] = None,
        access_token: Optional[Text] = None,
        phone_number_id: Optional[Text] = None,
        api_version: Optional[Text] = None,
        graph_url: Optional[Text] = None,
        template_name: Optional[Text] = None,
        template_language: Optional[Text] = None,
        store_url: Optional[Text] = None,
    ) -> None:
        """Creates the channel.

        Args:
            app_secret: The Meta app's secret; without it every POST gets 403.
            verify_token: The token entered in Meta's webhook settings.
            access_token: A (system user) token with ``whatsapp_business_messaging``.
            phone_number_id: The business phone number's id (not the number).
            api_version: Graph API version, e.g. ``v21.0``.
            graph_url: Base URL of the Graph API (tests use a local fake).
            template_name: Approved template for a closed 24-hour window.
            template_language: The template's language code (default ``nl``).
            store_url: SQLAlchemy URL of the delivery store.
        """
        super().__init__(store_url)
        self.app_secret = app_secret
        self.verify_token = verify_token
        self.access_token = access_token
        self.phone_number_id = phone_number_id
        self.api_version = api_version or DEFAULT_API_VERSION
        self.graph_url = graph_url or DEFAULT_GRAPH_URL
        self.template_name = template_name
        self.template_language = template_language or "nl"
        self._sender: Optional[GraphSender] = None
        if not app_secret:
            logger.warning("WhatsApp (Meta): no META_APP_SECRET; every POST is refused")
        if not access_token or not phone_number_id:
            logger.warning(
                "WhatsApp (Meta): access token or phone_number_id missing; "
                "replies cannot be sent"
            )

    def output(self) -> MetaWhatsAppOutput:
        """The Cloud API output channel."""
        if self._sender is None and self.access_token and self.phone_number_id:
            self._sender = GraphSender(
                self.access_token,
                self.phone_number_id,
                self.graph_url,
                self.api_version,
                config.WHATSAPP_SEND_TIMEOUT_SECONDS,
            )
        return MetaWhatsAppOutput(
            self._sender, self.store, self.template_name, self.template_language
        )

    async def close(self, timeout: float = 10.0) -> None:
        """Finishes queued work, then closes the HTTP session."""
        await super().close(timeout)
        if self._sender is not None:
            await self._sender.close()

    def is_signed_by_meta(self, request: Request) -> bool:
        """Checks ``X-Hub-Signature-256`` against the raw body."""
        if not self.app_secret:
            return False
        header = request.headers.get("x-hub-signature-256") or ""
        scheme, _, given = header.partition("=")
        if scheme != "sha256" or not given:
            return False
        expected = hmac.new(
            self.app_secret.encode("utf-8"), request.body or b"", hashlib.sha256
        ).hexdigest()
        return token_matches(given.strip().lower(), expected)

    def deliveries(self, payload: Dict[Text, Any]) -> List[Delivery]:
        """Reads the messages of a (batched) webhook payload.

        Statuses are counted (failed ones logged with their error code);
        messages for another phone number id, reactions and messages without
        a valid sender or id are skipped.
        """
        found: List[Delivery] = []
        for entry in _dicts(payload.get("entry")):
            for change in _dicts(entry.get("changes")):
                value = change.get("value")
                if change.get("field") != "messages" or not isinstance(value, dict):
                    continue
                number_id = (value.get("metadata") or {}).get("phone_number_id")
                if self.phone_number_id and number_id != self.phone_number_id:
                    logger.warning("WhatsApp (Meta): change for another number skipped")
                    continue
                self._note_statuses(value.get("statuses"))
                for message in _dicts(value.get("messages")):
                    delivery = self._delivery(message)
                    if delivery is not None:
                        found.append(delivery)
        return found

    @staticmethod
    def _note_statuses(statuses: Any) -> None:
        for status in _dicts(statuses):
            state = status.get("status")
            monitoring.count(
                f"whatsapp:status_{state}"
                if isinstance(state, str) and state.isalpha()
                else "whatsapp:status"
            )
            if state == "failed":
                codes = [e.get("code") for e in _dicts(status.get("errors"))]
                logger.error(
                    "WhatsApp (Meta): a message to %s failed, error codes %s",
                    mask_id(str(status.get("recipient_id") or "?")),
                    codes,
                )

    @staticmethod
    def _delivery(message: Dict[Text, Any]) -> Optional[Delivery]:
        number = message.get("from")
        # Meta sends the number as digits only ("31612345678").
        sender = conversation_id(number) if str(number).isdigit() else None
        message_id = message.get("id")
        if sender is None or not isinstance(message_id, str) or not message_id:
            logger.warning(
                "WhatsApp (Meta): message without valid sender or id skipped"
            )
            return None
        if message.get("type") in _IGNORED_TYPES:
            return None
        text, chosen = _text_of(message)
        return Delivery(sender, message_id[:200], text, chosen)

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        """Returns the webhook routes."""
        webhook = Blueprint("faq_whatsapp_meta_webhook", __name__)
        self.prepare(webhook, on_new_message)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["GET"])
        async def handshake(request: Request) -> HTTPResponse:
            challenge = request.args.get("hub.challenge") or ""
            if (
                request.args.get("hub.mode") == "subscribe"
                and token_matches(
                    request.args.get("hub.verify_token"), self.verify_token
                )
                and 0 < len(challenge) <= 256
            ):
                return response.text(challenge)
            logger.warning("WhatsApp (Meta): verification handshake refused")
            return dutch_error(403, HANDSHAKE_TEXT)

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.is_signed_by_meta(request):
                logger.warning("WhatsApp (Meta): refused unsigned/invalid request")
                return dutch_error(403, FORBIDDEN_TEXT)
            try:
                payload = json.loads(request.body or b"")
            except (ValueError, UnicodeDecodeError, RecursionError):
                payload = None
            if not isinstance(payload, dict):
                return dutch_error(400, NOT_JSON_TEXT)
            try:
                for delivery in self.deliveries(payload):
                    key = f"{self.key_prefix}{delivery.message_id}"
                    await self.accept(request.app, delivery, [key])
            except sa.exc.SQLAlchemyError:
                monitoring.count("storing:whatsapp_opslag")
                logger.error("WhatsApp store unreachable; asking Meta to retry")
                return dutch_error(503, STORE_DOWN_TEXT)
            return response.json({"status": "ontvangen"})

        return webhook


def _dicts(value: Any) -> List[Dict[Text, Any]]:
    """The dicts of a JSON list (anything else: none)."""
    return (
        [item for item in value if isinstance(item, dict)]
        if isinstance(value, list)
        else []
    )
