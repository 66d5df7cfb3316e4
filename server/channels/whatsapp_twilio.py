"""WhatsApp channel over Twilio's API.

Twilio posts each incoming WhatsApp message form-encoded to
``POST /webhooks/whatsapp/webhook``. Unlike Rasa's stock ``twilio`` connector,
this channel:

- verifies ``X-Twilio-Signature`` with Twilio's own ``RequestValidator`` and
  answers HTTP 403 to unsigned or wrongly signed requests (and to every request
  when no auth token is configured);
- answers a message without text (a photo, a voice note, a location) with a
  short Dutch reply instead of crashing;
- formats replies for WhatsApp: ``*bold*``, full URLs instead of markdown
  links, no HTML, buttons as numbered options (never the raw payload), text
  split at Twilio's 1600-character limit on paragraph, line or word boundaries;
- maps an answer like ``2`` to the payload of the second option offered;
- always answers, through the shared guard (Dutch apology when the bot is
  silent or slow), and logs the topic id of each outgoing message.

Replies are sent through Twilio's REST API; the webhook then answers an empty
TwiML ``<Response/>``. Messages that could not be sent through the REST API are
returned in the TwiML response instead, so Twilio still delivers them.

Settings: ``TWILIO_ACCOUNT_SID``, ``TWILIO_AUTH_TOKEN``, ``TWILIO_WHATSAPP_NUMBER``,
``FAQ_WHATSAPP_WEBHOOK_URL`` and ``TWILIO_API_BASE_URL`` (see ``actions/config.py``),
or the credentials.yml keys ``account_sid``, ``auth_token``, ``twilio_number``
and ``webhook_url``; environment variables take precedence.
"""

from __future__ import annotations

import asyncio
import functools
import html
import logging
import re
from collections import OrderedDict
from typing import Any, Awaitable, Callable, Dict, List, Optional, Sequence, Text
from urllib.parse import parse_qs

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.messaging_response import MessagingResponse

from faq.reply import system_reply
from server import settings as config
from server.channels.guard import (
    WholeMessageCollector,
    check_text,
    handle_guarded,
)

logger = logging.getLogger(__name__)

#: Twilio's limit for one message body, in characters.
TWILIO_MAX_CHARS = 1600

FORBIDDEN_TEXT = "Geen toegang: dit verzoek is niet door Twilio ondertekend."
NO_SENDER_TEXT = "Ongeldig verzoek: de afzender ('From') ontbreekt."
TEXT_ONLY_TEXT = (
    "Ik kan alleen tekstberichten lezen, geen foto's, spraakberichten of "
    "locaties. Stel je vraag over magnesium of vitamine D gerust in een "
    "tekstbericht."
)
OPTIONS_HINT = "Antwoord met het nummer van je keuze."

_FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
_CHOICE = re.compile(r"\s*(\d{1,2})\s*[.)]?\s*")
_PLACEHOLDER = "\x00{}\x00"


# --- Formatting ------------------------------------------------------------------


def _link_text(
    label: Text, url: Text, wrap: Callable[[Text], Text] = lambda url: url
) -> Text:
    """Writes a link as plain text with the full URL: ``label: url``.

    Args:
        label: The link text.
        url: The link target; ``mailto:`` and ``tel:`` are shown without prefix.
        wrap: Applied to the shown URL (to protect it from later rewriting).

    Returns:
        ``label: url``, or just the URL when the label is empty or the URL.
    """
    shown = re.sub(r"^(mailto|tel):", "", url)
    bare_label = re.sub(r"^(https?://|mailto:|tel:)", "", label.strip()).rstrip("/")
    bare_url = re.sub(r"^(https?://)", "", shown).rstrip("/")
    if not label.strip() or bare_label == bare_url:
        return wrap(shown)
    return f"{label.strip()}: {wrap(shown)}"


def _html_to_markdown(text: Text) -> Text:
    """Turns the HTML a reply may contain into markdown, dropping other tags."""
    text = re.sub(r"<\s*br\s*/?\s*>", "\n", text, flags=re.I)
    text = re.sub(r"<\s*/\s*(p|div|h[1-6])\s*>", "\n\n", text, flags=re.I)
    text = re.sub(r"<\s*li\b[^>]*>", "\n- ", text, flags=re.I)
    text = re.sub(r"<\s*/?\s*(b|strong)\s*>", "**", text, flags=re.I)
    text = re.sub(r"<\s*/?\s*(i|em)\s*>", "_", text, flags=re.I)
    text = re.sub(
        r"<\s*a\b[^>]*\bhref\s*=\s*[\"']([^\"']+)[\"'][^>]*>(.*?)<\s*/\s*a\s*>",
        lambda m: f"[{m.group(2)}]({m.group(1)})",
        text,
        flags=re.I | re.S,
    )
    # Markdown autolinks (<https://…>) are links, not tags.
    text = re.sub(r"<((?:https?://|mailto:)[^<>\s]+)>", r"\1", text)
    return re.sub(r"</?[A-Za-z][^<>]*>", "", text)


def to_whatsapp_text(text: Text) -> Text:
    """Converts markdown/HTML reply text to WhatsApp's plain-text formatting.

    ``**x**`` and ``__x__`` become ``*x*`` (WhatsApp bold), ``*x*`` becomes
    ``_x_`` (italic), ``[t](url)`` becomes ``t: url``, headings become bold
    lines, ``* item`` bullets become ``- item``, and HTML tags are removed.

    Args:
        text: The reply text as written for the web channels.

    Returns:
        The text for a WhatsApp message.
    """
    text = _html_to_markdown(text.replace("\r\n", "\n"))

    # Links first, then keep every URL out of reach of the emphasis rules.
    urls: List[Text] = []

    def protect(value: Text) -> Text:
        urls.append(value)
        return _PLACEHOLDER.format(len(urls) - 1)

    text = re.sub(
        r"\[([^\]]*)\]\(\s*(\S+?)(?:\s+\"[^\"]*\")?\s*\)",
        lambda m: _link_text(m.group(1), m.group(2), protect),
        text,
    )
    text = re.sub(
        r"(?:https?://|www\.)[^\s\x00]+[^\s\x00.,;:!?)\]'\"]",
        lambda m: protect(m.group(0)),
        text,
    )

    text = re.sub(
        r"^[ \t]*#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$", r"**\1**", text, flags=re.M
    )
    text = re.sub(r"^([ \t]*)[*+][ \t]+", r"\1- ", text, flags=re.M)
    bold = "\x01"
    text = re.sub(r"\*\*(?=\S)(.+?)(?<=\S)\*\*", rf"{bold}\1{bold}", text)
    text = re.sub(r"(?<!\w)__(?=\S)(.+?)(?<=\S)__(?!\w)", rf"{bold}\1{bold}", text)
    text = re.sub(r"(?<![*\w])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![*\w])", r"_\1_", text)
    text = text.replace(bold, "*")

    text = re.sub(r"\x00(\d+)\x00", lambda m: urls[int(m.group(1))], text)
    text = html.unescape(text)
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def split_message(text: Text, limit: int = TWILIO_MAX_CHARS) -> List[Text]:
    """Splits text into WhatsApp messages of at most ``limit`` characters.

    Splits on paragraph boundaries first, then on line ends, then between
    words; a single "word" longer than the limit (a huge URL) is the only thing
    ever cut.

    Args:
        text: The message text.
        limit: The longest allowed part.

    Returns:
        The non-empty parts, in order.
    """
    text = text.strip()
    if not text:
        return []
    parts = _split(text, limit, ("\n\n", "\n", " "))
    return [part.strip() for part in parts if part.strip()]


def _split(text: Text, limit: int, separators: Sequence[Text]) -> List[Text]:
    """Greedily packs pieces of ``text`` into parts of at most ``limit``."""
    if len(text) <= limit:
        return [text]
    if not separators:
        return [text[i : i + limit] for i in range(0, len(text), limit)]
    separator, finer = separators[0], separators[1:]
    parts: List[Text] = []
    current = ""
    for piece in text.split(separator):
        candidate = f"{current}{separator}{piece}" if current else piece
        if len(candidate) <= limit:
            current = candidate
            continue
        if current.strip():
            parts.append(current)
        if len(piece) <= limit:
            current = piece
        else:
            sub_parts = _split(piece, limit, finer)
            parts.extend(sub_parts[:-1])
            current = sub_parts[-1]
    if current.strip():
        parts.append(current)
    return parts


def _button_url(button: Dict[Text, Any]) -> Optional[Text]:
    """Returns the URL of a link button, or None for a normal button."""
    url = button.get("url")
    payload = button.get("payload")
    if not url and isinstance(payload, str) and re.match(r"https?://", payload):
        url = payload
    return url if isinstance(url, str) and url else None


def _buttons(message: Dict[Text, Any]) -> List[Dict[Text, Any]]:
    """All buttons and quick replies of a message that have a title or payload."""
    found = list(message.get("buttons") or []) + list(
        message.get("quick_replies") or []
    )
    return [
        b for b in found if isinstance(b, dict) and (b.get("title") or b.get("payload"))
    ]


def _button_title(button: Dict[Text, Any]) -> Text:
    """The title of a button as one line of WhatsApp text."""
    title = to_whatsapp_text(str(button.get("title") or button.get("payload")))
    return " ".join(title.split())


def offered_payloads(message: Dict[Text, Any]) -> List[Text]:
    """Payloads of the buttons a message offers as numbered options, in order.

    Link buttons are shown as links, not numbered, so they are not included.
    """
    return [
        str(b.get("payload") or b.get("title"))
        for b in _buttons(message)
        if not _button_url(b)
    ]


def format_for_whatsapp(
    message: Dict[Text, Any],
    first_number: int = 1,
    limit: Optional[int] = None,
) -> List[Text]:
    """Formats one bot message (Rasa's message format) as WhatsApp texts.

    Buttons become numbered options ("1. <title>") followed by a hint line; the
    payloads are never shown. Link buttons become ``title: url`` lines. Images
    and attachments are shown as their URL. The ``custom`` payload (topic
    metadata) is not shown.

    Args:
        message: The bot message, e.g. ``{"text": ..., "buttons": [...]}``.
        first_number: Number of the first option (options of earlier messages
            in the same turn keep their numbers).
        limit: Longest message body; defaults to the configured maximum.

    Returns:
        The message bodies to send, each at most ``limit`` characters.
    """
    limit = min(limit or config.WHATSAPP_MAX_CHARS, TWILIO_MAX_CHARS)
    blocks: List[Text] = []
    if message.get("text"):
        blocks.append(to_whatsapp_text(str(message["text"])))

    options: List[Text] = []
    links: List[Text] = []
    for button in _buttons(message):
        url = _button_url(button)
        if url:
            links.append(_link_text(_button_title(button), url))
        else:
            options.append(f"{first_number + len(options)}. {_button_title(button)}")
    if links:
        blocks.append("\n".join(links))
    if options:
        blocks.append("\n".join([*options, OPTIONS_HINT]))

    for key in ("image", "attachment"):
        value = message.get(key)
        if isinstance(value, dict):
            payload = value.get("payload")
            value = value.get("url") or value.get("src")
            if not value and isinstance(payload, dict):
                value = payload.get("url") or payload.get("src")
        if isinstance(value, str) and value.strip():
            blocks.append(value.strip())

    return split_message("\n\n".join(b for b in blocks if b), limit)


# --- Numbered options -------------------------------------------------------------


class OfferedOptions:
    """Remembers, per sender, the payloads of the options last offered.

    Bounded: only the ``max_senders`` most recently active senders are kept.
    """

    def __init__(self, max_senders: int = 10_000) -> None:
        self.max_senders = max(1, max_senders)
        self._payloads: OrderedDict[Text, List[Text]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._payloads)

    def remember(self, sender_id: Text, payloads: Sequence[Text]) -> None:
        """Stores the options of the bot's last turn; none forgets the old ones."""
        if not payloads:
            self._payloads.pop(sender_id, None)
            return
        self._payloads[sender_id] = list(payloads)
        self._payloads.move_to_end(sender_id)
        while len(self._payloads) > self.max_senders:
            self._payloads.popitem(last=False)

    def resolve(self, sender_id: Text, text: Text) -> Optional[Text]:
        """Returns the payload a numeric answer ("2", " 2 ", "2.") chooses, or None."""
        match = _CHOICE.fullmatch(text)
        payloads = self._payloads.get(sender_id)
        if not match or not payloads:
            return None
        number = int(match.group(1))
        if 1 <= number <= len(payloads):
            return payloads[number - 1]
        return None


# --- Sending ------------------------------------------------------------------------


def mask(sender_id: Text) -> Text:
    """Hides all but the last four digits of a phone number for the logs."""
    return re.sub(r"\d(?=\d{4})", "*", sender_id)


class TwilioSender:
    """Sends WhatsApp messages through Twilio's REST API (twilio SDK ``Client``)."""

    def __init__(
        self,
        account_sid: Text,
        auth_token: Text,
        from_number: Optional[Text],
        api_base_url: Optional[Text] = None,
        timeout: Optional[float] = None,
    ) -> None:
        http_client = TwilioHttpClient(
            timeout=timeout or config.TWILIO_TIMEOUT_SECONDS, max_retries=2
        )
        self.client = Client(account_sid, auth_token, http_client=http_client)
        # The Api domain builds every messages URL from its base_url.
        self.client.api.base_url = (api_base_url or config.TWILIO_API_BASE_URL).rstrip(
            "/"
        )
        self.from_number = from_number

    def send(self, to: Text, body: Text) -> Text:
        """Sends one message (blocking); returns Twilio's message SID."""
        return self.client.messages.create(to=to, from_=self.from_number, body=body).sid


class WhatsAppOutput(OutputChannel):
    """Sends bot messages to a WhatsApp user, formatted for WhatsApp."""

    @classmethod
    def name(cls) -> Text:
        """Name of the output channel."""
        return "whatsapp"

    def __init__(self, sender: Optional[TwilioSender], options: OfferedOptions) -> None:
        self.sender = sender
        self.options = options

    async def send_turn(
        self, recipient_id: Text, messages: Sequence[Dict[Text, Any]]
    ) -> List[Text]:
        """Sends the bot messages of one turn, in order.

        Options are numbered across the whole turn and remembered for the
        recipient, so that an answer like "2" can be mapped to its payload.

        Args:
            recipient_id: The WhatsApp address, e.g. ``whatsapp:+316…``.
            messages: The bot messages in Rasa's message format.

        Returns:
            The bodies that could not be sent through the REST API.
        """
        payloads: List[Text] = []
        outgoing: List[tuple[Text, Optional[Text]]] = []
        for message in messages:
            topic = (message.get("custom") or {}).get("topic")
            bodies = format_for_whatsapp(message, first_number=len(payloads) + 1)
            payloads.extend(offered_payloads(message))
            outgoing.extend((body, topic) for body in bodies)
        self.options.remember(recipient_id, payloads)

        unsent: List[Text] = []
        loop = asyncio.get_running_loop()
        for index, (body, topic) in enumerate(outgoing, start=1):
            logger.info(
                "WhatsApp reply to %s: topic=%s (part %d/%d, %d chars)",
                mask(recipient_id),
                topic,
                index,
                len(outgoing),
                len(body),
            )
            if self.sender is None or unsent:
                unsent.append(body)
                continue
            try:
                sid = await loop.run_in_executor(
                    None, functools.partial(self.sender.send, recipient_id, body)
                )
                logger.debug("Twilio accepted message %s", sid)
            except Exception:  # the TwiML response still delivers it
                logger.exception("sending via Twilio failed for %s", mask(recipient_id))
                unsent.append(body)
        return unsent

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        """Sends one bot message (e.g. from a triggered intent)."""
        unsent = await self.send_turn(recipient_id, [message])
        if unsent:
            logger.error("%d WhatsApp message(s) not delivered", len(unsent))

    async def send_text_message(
        self, recipient_id: Text, text: Text, **kwargs: Any
    ) -> None:
        """Sends a text message."""
        await self.send_response(recipient_id, {"text": text})


def twiml(bodies: Sequence[Text] = ()) -> HTTPResponse:
    """Returns a TwiML response: empty, or with messages for Twilio to send."""
    reply = MessagingResponse()
    for body in bodies:
        reply.message(body)
    return response.text(str(reply), content_type="text/xml")


# --- Input channel ----------------------------------------------------------------


class WhatsAppInput(InputChannel):
    """WhatsApp via Twilio: verified webhook, WhatsApp formatting, numbered options."""

    @classmethod
    def name(cls) -> Text:
        """Webhook URL: /webhooks/whatsapp/webhook."""
        return "whatsapp"

    @classmethod
    def from_credentials(
        cls, credentials: Optional[Dict[Text, Any]]
    ) -> "WhatsAppInput":
        """Builds the channel; environment variables win over credentials.yml."""
        credentials = credentials or {}

        def setting(env_value: Optional[Text], key: Text) -> Optional[Text]:
            value = env_value or credentials.get(key)
            if value is None:
                return None
            return str(value).strip() or None

        return cls(
            account_sid=setting(config.TWILIO_ACCOUNT_SID, "account_sid"),
            auth_token=setting(config.TWILIO_AUTH_TOKEN, "auth_token"),
            twilio_number=setting(config.TWILIO_WHATSAPP_NUMBER, "twilio_number"),
            webhook_url=setting(config.WHATSAPP_WEBHOOK_URL, "webhook_url"),
        )

    def __init__(
        self,
        account_sid: Optional[Text] = None,
        auth_token: Optional[Text] = None,
        twilio_number: Optional[Text] = None,
        webhook_url: Optional[Text] = None,
        api_base_url: Optional[Text] = None,
        max_senders: Optional[int] = None,
    ) -> None:
        """Creates the channel.

        Args:
            account_sid: Twilio account SID; without it replies go out as TwiML.
            auth_token: Twilio auth token; without it every request gets 403.
            twilio_number: The bot's sender, e.g. ``whatsapp:+3197…``.
            webhook_url: Public webhook URL Twilio signs; default: request URL.
            api_base_url: Base URL of Twilio's REST API.
            max_senders: How many senders' offered options to remember.
        """
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.twilio_number = twilio_number
        self.webhook_url = webhook_url
        self.api_base_url = api_base_url or config.TWILIO_API_BASE_URL
        self.options = OfferedOptions(max_senders or config.WHATSAPP_REMEMBERED_SENDERS)
        self._sender: Optional[TwilioSender] = None
        if not auth_token:
            logger.error(
                "WhatsApp: no TWILIO_AUTH_TOKEN configured; every request is refused"
            )
        if not account_sid or not twilio_number:
            logger.warning(
                "WhatsApp: TWILIO_ACCOUNT_SID or TWILIO_WHATSAPP_NUMBER missing; "
                "replies are returned as TwiML instead of sent via the REST API"
            )

    def _twilio_sender(self) -> Optional[TwilioSender]:
        """The REST sender, created on first use; None without credentials."""
        configured = self.account_sid and self.auth_token and self.twilio_number
        if self._sender is None and configured:
            self._sender = TwilioSender(
                self.account_sid, self.auth_token, self.twilio_number, self.api_base_url
            )
        return self._sender

    def get_output_channel(self) -> OutputChannel:
        """Output channel for messages Rasa sends outside a webhook call."""
        return WhatsAppOutput(self._twilio_sender(), self.options)

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
        if not self.auth_token:
            return False
        signature = request.headers.get("X-Twilio-Signature")
        if not signature:
            return False
        validator = RequestValidator(self.auth_token)
        return validator.validate(
            self.validation_url(request), _MultiDict(params), signature
        )

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        """Returns the webhook routes."""
        webhook = Blueprint("faq_whatsapp_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            params = self.form_params(request)
            if not self.is_signed_by_twilio(request, params):
                logger.warning("WhatsApp webhook: refused unsigned/invalid request")
                return response.text(FORBIDDEN_TEXT, status=403)

            def first(name: Text) -> Optional[Text]:
                values = params.get(name)
                return values[0] if values else None

            sender = (first("From") or "").strip()
            if not sender:
                return response.text(NO_SENDER_TEXT, status=400)
            replies = await self._answer(on_new_message, sender, first)
            output = WhatsAppOutput(self._twilio_sender(), self.options)
            return twiml(await output.send_turn(sender, replies))

        return webhook

    async def _answer(
        self,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        sender: Text,
        first: Callable[[Text], Optional[Text]],
    ) -> List[Dict[Text, Any]]:
        """Runs one incoming message through Rasa; returns the bot's messages."""
        text = first("Body")
        num_media = (first("NumMedia") or "0").strip()
        has_media = num_media.isdigit() and int(num_media) > 0
        is_location = first("Latitude") is not None
        if text is None or (not text.strip() and (has_media or is_location)):
            # A photo, voice note, sticker or location: nothing to read.
            return [system_reply(sender, TEXT_ONLY_TEXT, "geen_tekst")]
        rejection = check_text(sender, text)
        if rejection is not None:
            return [rejection]

        text = text.strip()
        choice = self.options.resolve(sender, text)
        if choice is not None:
            logger.info("WhatsApp: %s chose option %s", mask(sender), text)
            text = choice
        collector = WholeMessageCollector()
        metadata = {
            key: value
            for key, value in (
                ("message_sid", first("MessageSid")),
                ("num_media", first("NumMedia")),
            )
            if value is not None
        }
        message = UserMessage(
            text,
            collector,
            sender,
            input_channel=self.name(),
            message_id=first("MessageSid"),
            metadata=metadata,
        )
        return await handle_guarded(on_new_message, message, collector)


class _MultiDict(dict):
    """Form params for ``RequestValidator``: ``getlist`` returns all values."""

    def getlist(self, name: Text) -> List[Text]:
        """All values of one parameter."""
        return list(self[name])
