"""Socket.IO channel for the website widget (botfront ``rasa-webchat``).

Same path and events as Rasa's ``socketio`` channel (``/socket.io``,
``user_uttered`` / ``bot_uttered``, ``session_request`` / ``session_confirm``),
but:

- session persistence works with every python-socketio 5.x: Rasa 3.6.21 calls
  ``sio.enter_room()`` without ``await``, which python-socketio 5.10 and later
  turned into a coroutine, so the room was never joined (rasa#13027);
- each bot message is sent whole as ONE ``bot_uttered`` event in the format the
  widget renders (``text`` plus ``quick_replies``), with the ``custom`` topic
  payload under ``metadata.custom`` (the widget strips ``metadata`` before it
  renders a message, so the payload never shows up as text);
- bot text is made safe for the widget's markdown renderer (which does not
  sanitise link URLs): it forms no markdown link, image, code span or HTML,
  only bare ``http(s)`` URLs become links, and single line breaks are kept;
- an empty or oversized message gets a short Dutch reply, and Rasa being
  silent or slow gets the Dutch apology (``server.channels.guard``);
- the socket.io server only accepts the configured page origins
  (``cors_allowed_origins``) instead of Rasa's "any origin, no CORS headers".

Credentials (``credentials.yml``)::

    server.channels.socketio.FaqSocketIOInput:
      user_message_evt: user_uttered
      bot_message_evt: bot_uttered
      session_persistence: true
      metadata_key: customData
      cors_allowed_origins:
        - http://127.0.0.1:8080
        - http://localhost:8080

Conversation ids come from the server (:mod:`server.sessions`): a session id
is random and signed, so a client cannot make one up, and the conversation
is stored as ``socketio:<random part>``, apart from every other channel. A
socket joins a conversation only through ``session_request``; a message's own
``session_id`` field is ignored. When a second connection takes over a
session (a page reload, another tab), the first one leaves the conversation's
room, so replies reach only the newest connection. Messages are limited per
IP address and per conversation (a Dutch notice when exceeded).

Several replicas (``make stack``): nginx keeps each client on one replica
(``hash $remote_addr consistent``), because engine.io's long-polling needs
every request of a connection at the process that holds it. A reply is always
emitted by the replica that received the message, over the socket it holds
there, so no emit has to cross replicas and python-socketio's
``AsyncRedisManager`` is not used (in python-socketio 5.9 it would route every
emit through Redis, pickled, making replies depend on Redis). What replicas
must share is the rule "one connection per session": with ``FAQ_REDIS_URL``
the holder of each conversation is kept in Redis (:class:`SessionHolders`),
so a connection that lost its session to a connection on another replica
gets a new session on its next message, as it would on one replica. Without
Redis (or while it is away) the holder is kept in the process.
"""

from __future__ import annotations

import inspect
import json
import logging
import re
import secrets
from typing import (
    Any,
    Awaitable,
    Callable,
    Dict,
    Iterable,
    List,
    Optional,
    Sequence,
    Text,
    Union,
)

import rasa.core.channels.channel
from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from faq.privacy import mask_id
from faq.reply import system_reply
from server import limits, monitoring, sessions
from server import settings as server_settings
from server.channels.guard import (
    APOLOGY_TEXT,
    MESSAGE_KEYS,
    WholeMessageCollector,
    check_text,
    client_ip,
    handle_guarded,
    install_http_hardening,
    metadata_problem,
    user_text,
)

logger = logging.getLogger(__name__)

#: Origins of the demo page (``scripts/web.sh``), used when none are configured.
DEFAULT_CORS_ORIGINS = ("http://127.0.0.1:8080", "http://localhost:8080")

#: Characters that would let bot text form markdown links, images or code spans;
#: a backslash escape is enough for these in the widget's remark-parse 5.
_MARKDOWN_ESCAPES = re.compile(r"([\\\[`])")

#: A single line break (not part of a blank line).
_SINGLE_NEWLINE = re.compile(r"(?<!\n)[ \t]*\n(?!\n)")

CorsOrigins = Union[Text, List[Text], None]

#: Seconds a session holder is remembered in Redis (renewed on every bind).
HOLDER_SECONDS = 24 * 3600

#: Seconds a Redis call of the holder registry may take.
HOLDER_REDIS_TIMEOUT = 0.5

#: Deletes a holder key only if it still names this connection (atomic).
_RELEASE_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class SessionHolders:
    """Which connection holds each conversation: one per session.

    Kept in the process, and with a Redis URL also in Redis, so that the rule
    holds across replicas. Redis being away never stops a reply: the process's
    own view is used then (counted as ``redis_onbereikbaar``).
    """

    def __init__(self, redis_url: Optional[Text] = None) -> None:
        """Creates the registry.

        Args:
            redis_url: ``redis://…`` shared by all replicas; None keeps the
                holders in this process only.
        """
        #: conversation id -> the socket id holding it on this replica
        self.local: Dict[Text, Text] = {}
        self.server_id = secrets.token_hex(8)
        self.redis: Any = None
        if redis_url:
            from redis import asyncio as aioredis

            self.redis = aioredis.from_url(
                redis_url,
                socket_timeout=HOLDER_REDIS_TIMEOUT,
                socket_connect_timeout=HOLDER_REDIS_TIMEOUT,
            )

    @staticmethod
    def key(conversation_id: Text) -> Text:
        """The Redis key of a conversation's holder."""
        return f"faq:socketio:holder:{conversation_id}"

    def holder(self, sid: Text) -> Text:
        """The value naming a connection of this replica."""
        return f"{self.server_id}:{sid}"

    @staticmethod
    def _redis_down(action: Text) -> None:
        monitoring.count("redis_onbereikbaar")
        logger.warning("socket.io: Redis unreachable (%s); local view used", action)

    async def take(self, conversation_id: Text, sid: Text) -> Optional[Text]:
        """Makes ``sid`` the holder; returns the previous local holder, if any."""
        previous = self.local.get(conversation_id)
        self.local[conversation_id] = sid
        if self.redis is not None:
            try:
                await self.redis.set(
                    self.key(conversation_id), self.holder(sid), ex=HOLDER_SECONDS
                )
            except Exception:
                self._redis_down("take")
        return previous if previous != sid else None

    async def holds(self, conversation_id: Text, sid: Text) -> bool:
        """Returns whether ``sid`` still holds the conversation (any replica)."""
        if self.local.get(conversation_id) != sid:
            return False
        if self.redis is None:
            return True
        try:
            value = await self.redis.get(self.key(conversation_id))
            if value is None:  # expired, or Redis restarted empty: take it back
                await self.take(conversation_id, sid)
                return True
        except Exception:
            self._redis_down("holds")
            return True
        return value.decode("utf-8", "replace") == self.holder(sid)

    async def release(self, conversation_id: Text, sid: Text) -> None:
        """Forgets ``sid`` as holder (when it still is)."""
        if self.local.get(conversation_id) == sid:
            del self.local[conversation_id]
        if self.redis is not None:
            try:
                await self.redis.eval(
                    _RELEASE_SCRIPT, 1, self.key(conversation_id), self.holder(sid)
                )
            except Exception:
                self._redis_down("release")


def parse_cors_origins(value: Any) -> CorsOrigins:
    """Turns the ``cors_allowed_origins`` credential into python-engineio's form.

    Args:
        value: ``None`` (use the demo page origins), ``"*"`` (any origin), a
            string of origins separated by commas or spaces, or a list.

    Returns:
        ``"*"``, a list of origins without trailing slashes, or ``None`` for
        "same origin only" when the setting is present but empty.
    """
    if value is None:
        return list(DEFAULT_CORS_ORIGINS)
    if isinstance(value, str):
        value = re.split(r"[\s,]+", value)
    if not isinstance(value, (list, tuple)):
        raise ValueError(
            "cors_allowed_origins must be a string or a list of origins, "
            f"not {type(value).__name__}"
        )
    origins = [str(origin).strip().rstrip("/") for origin in value]
    origins = [origin for origin in origins if origin]
    if "*" in origins:
        return "*"
    # python-engineio reads [] as "no CORS checks at all"; None is same-origin.
    return origins or None


def widget_text(text: Text) -> Text:
    r"""Makes bot text safe and readable in the widget's markdown renderer.

    The widget renders bot text with react-markdown 4 / remark-parse 5: raw
    HTML is escaped, but link URIs are not sanitised, so ``[x](javascript:...)``
    or ``<javascript://%0a...>`` in a bot text would become a live link.
    Here backslashes, ``[`` and backticks are backslash-escaped and ``&`` and
    ``<`` become entities (remark-parse 5 does not treat ``\<`` as an escape), so
    the text forms no markdown link, image, autolink, code span or HTML.
    Bare ``http(s)://`` URLs are still turned into links by the renderer, and
    lists and paragraphs still render. Single line breaks become markdown hard
    breaks, so a source list stays one source per line.

    Args:
        text: Bot text as written in the content file or domain.

    Returns:
        Markdown that shows the same characters.
    """
    text = text.strip().replace("&", "&amp;").replace("<", "&lt;")
    escaped = _MARKDOWN_ESCAPES.sub(r"\\\1", text)
    return _SINGLE_NEWLINE.sub("  \n", escaped)


def widget_button(button: Dict[Text, Any]) -> Dict[Text, Any]:
    """Converts a Rasa button into a widget quick reply.

    Args:
        button: ``{"title", "payload"}``, or ``{"title", "url"}`` for a link.

    Returns:
        ``{"content_type": "text", "title", "payload"}``, or for a link
        ``{"type": "web_url", "title", "url"}`` (rendered as an ``<a>``).
    """
    title = str(button.get("title", ""))
    url = button.get("url")
    if isinstance(url, str) and url.lower().startswith(("http://", "https://")):
        return {"type": "web_url", "title": title, "url": url}
    return {
        "content_type": "text",
        "title": title,
        "payload": str(button.get("payload", title)),
    }


def widget_message(message: Dict[Text, Any]) -> Optional[Dict[Text, Any]]:
    """Converts one whole Rasa bot message into one ``bot_uttered`` event.

    The widget renders exactly one shape per event: ``{"text"}``,
    ``{"text", "quick_replies"}``, an image or a carousel attachment.
    ``metadata`` is removed by the widget before rendering, so the topic
    payload travels there as ``metadata.custom``.

    Args:
        message: A bot message in Rasa's format (``text``, ``buttons``,
            ``quick_replies``, ``image``, ``attachment``, ``elements``,
            ``custom``).

    Returns:
        The event payload, or ``None`` when the message has nothing the user
        can see (for example a ``custom`` payload alone).
    """
    text = message.get("text") or ""
    if not isinstance(text, str):
        text = str(text)
    buttons = message.get("buttons") or message.get("quick_replies") or []
    image = message.get("image")
    attachment = message.get("attachment")
    elements = message.get("elements")
    custom = message.get("custom")

    event: Dict[Text, Any]
    if buttons:
        if image:
            text = f"{text}\n{image}" if text else str(image)
        event = {
            "text": widget_text(text),
            "quick_replies": [widget_button(b) for b in buttons if isinstance(b, dict)],
        }
    elif text:
        if image:
            text = f"{text}\n{image}"
        event = {"text": widget_text(text)}
    elif image:
        event = {"attachment": {"type": "image", "payload": {"src": image}}}
    elif isinstance(attachment, dict):
        event = {"attachment": attachment}
    elif elements:
        event = {
            "attachment": {
                "type": "template",
                "payload": {"template_type": "generic", "elements": elements},
            }
        }
    else:
        return None
    if isinstance(custom, dict):
        event["metadata"] = {"custom": custom}
    return event


async def join_room(
    sio: AsyncServer, sid: Text, room: Text, namespace: Optional[Text] = None
) -> None:
    """Adds a socket to a room with python-socketio before and after 5.10.

    ``AsyncServer.enter_room`` is a plain function before python-socketio 5.10
    and a coroutine from 5.10 on; Rasa 3.6.21 never awaits it.

    Args:
        sio: The socket.io server.
        sid: The socket id.
        room: The room (the conversation's session id).
        namespace: The socket.io namespace (``None`` means ``"/"``).
    """
    result = sio.enter_room(sid, room, namespace=namespace)
    if inspect.isawaitable(result):
        await result


class FaqSocketIOOutput(SocketIOOutput):
    """Sends each bot message whole, as one widget event, to a conversation."""

    @classmethod
    def name(cls) -> Text:
        """Same name as Rasa's channel."""
        return "socketio"

    def __init__(
        self, sio: AsyncServer, bot_message_evt: Text, namespace: Optional[Text] = None
    ) -> None:
        super().__init__(sio, bot_message_evt)
        self.namespace = namespace

    async def _send_message(self, socket_id: Text, response: Any) -> None:
        """Emits one event to a room (a session id or a socket id)."""
        await self.sio.emit(
            self.bot_message_evt, response, room=socket_id, namespace=self.namespace
        )

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        """Sends a bot message whole (used for messages outside a user turn)."""
        await self.emit_messages(recipient_id, [message])

    async def emit_messages(
        self, recipient_id: Text, messages: Iterable[Dict[Text, Any]]
    ) -> int:
        """Emits the visible messages, one event each.

        Args:
            recipient_id: The room: the session id, or the socket id.
            messages: Bot messages in Rasa's format.

        Returns:
            How many events were emitted.
        """
        sent = 0
        for message in messages:
            whole = {k: message[k] for k in MESSAGE_KEYS if message.get(k)}
            event = widget_message(whole)
            if event is None:
                logger.warning(
                    "bot message for %s has nothing to show; not sent: %s",
                    recipient_id,
                    sorted(whole),
                )
                continue
            await self._send_message(recipient_id, event)
            sent += 1
        return sent


class FaqSocketIOInput(SocketIOInput):
    """Rasa's socket.io input, fixed and hardened for the website widget."""

    @classmethod
    def name(cls) -> Text:
        """Keeps Rasa's name, so the widget connects to /socket.io."""
        return "socketio"

    @classmethod
    def from_credentials(
        cls, credentials: Optional[Dict[Text, Any]]
    ) -> "FaqSocketIOInput":
        """Creates the channel from its ``credentials.yml`` section."""
        credentials = credentials or {}
        return cls(
            credentials.get("user_message_evt", "user_uttered"),
            credentials.get("bot_message_evt", "bot_uttered"),
            credentials.get("namespace"),
            credentials.get("session_persistence", False),
            credentials.get("socketio_path", "/socket.io"),
            credentials.get("jwt_key"),
            credentials.get("jwt_method", "HS256"),
            credentials.get("metadata_key", "metadata"),
            cors_allowed_origins=credentials.get("cors_allowed_origins"),
        )

    def __init__(
        self,
        user_message_evt: Text = "user_uttered",
        bot_message_evt: Text = "bot_uttered",
        namespace: Optional[Text] = None,
        session_persistence: bool = False,
        socketio_path: Optional[Text] = "/socket.io",
        jwt_key: Optional[Text] = None,
        jwt_method: Optional[Text] = "HS256",
        metadata_key: Optional[Text] = "metadata",
        cors_allowed_origins: Any = None,
    ) -> None:
        super().__init__(
            user_message_evt,
            bot_message_evt,
            namespace,
            session_persistence,
            socketio_path,
            jwt_key,
            jwt_method,
            metadata_key,
        )
        self.cors_allowed_origins = parse_cors_origins(cors_allowed_origins)
        #: conversation id -> the one socket that receives its replies
        self.session_holders = SessionHolders(server_settings.REDIS_URL)
        self.holders: Dict[Text, Text] = self.session_holders.local
        #: socket id -> its conversation id
        self.conversations: Dict[Text, Text] = {}
        #: socket id -> client address (for the per-IP rate limit)
        self.client_ips: Dict[Text, Text] = {}

    def get_output_channel(self) -> Optional[OutputChannel]:
        """Creates the output channel for messages outside a user turn."""
        if self.sio is None:
            return super().get_output_channel()
        return FaqSocketIOOutput(self.sio, self.bot_message_evt, self.namespace)

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        """Creates the socket.io server and its Sanic blueprint."""
        sio = AsyncServer(
            async_mode="sanic", cors_allowed_origins=self.cors_allowed_origins
        )
        socketio_webhook = SocketBlueprint(
            sio, self.socketio_path, "socketio_webhook", __name__
        )
        install_http_hardening(socketio_webhook)
        self.sio = sio
        output = FaqSocketIOOutput(sio, self.bot_message_evt, self.namespace)
        logger.info("socket.io accepts page origins: %s", self.cors_allowed_origins)

        @socketio_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect", namespace=self.namespace)
        async def connect(sid: Text, environ: Dict, auth: Optional[Dict]) -> bool:
            request = environ.get("sanic.request")
            if request is not None:
                self.client_ips[sid] = client_ip(request)
            return self.authorize(sid, auth)

        @sio.on("disconnect", namespace=self.namespace)
        async def disconnect(sid: Text) -> None:
            conversation_id = self.unbind(sid)
            self.client_ips.pop(sid, None)
            if conversation_id is not None:
                await self.session_holders.release(conversation_id, sid)

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: Text, data: Any = None) -> None:
            await self.start_session(sio, sid, data)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: Text, data: Any = None) -> None:
            await self.handle_user_message(output, on_new_message, sid, data)

        return socketio_webhook

    def authorize(self, sid: Text, auth: Optional[Dict[Text, Any]]) -> bool:
        """Accepts a connection; with ``jwt_key`` only with a valid token."""
        if not self.jwt_key:
            logger.debug("socket %s connected", sid)
            return True
        token = auth.get("token") if isinstance(auth, dict) else None
        payload = None
        if token:
            payload = rasa.core.channels.channel.decode_bearer_token(
                token, self.jwt_key, self.jwt_algorithm
            )
        logger.debug("socket %s connected with valid token: %s", sid, bool(payload))
        return bool(payload)

    async def start_session(self, sio: AsyncServer, sid: Text, data: Any) -> Text:
        """Answers ``session_request``: binds the socket to a conversation.

        Args:
            sio: The socket.io server.
            sid: The socket id.
            data: ``{"session_id": ...}``; an id this server did not issue
                (or none) gets a new session.

        Returns:
            The session id confirmed to the client.
        """
        claimed = data.get("session_id") if isinstance(data, dict) else None
        conversation_id = sessions.conversation_of(self.name(), claimed)
        if conversation_id is None or not isinstance(claimed, str):
            session_id, conversation_id = sessions.issue(self.name())
        else:
            session_id = claimed
        await self.bind(sio, sid, conversation_id)
        await sio.emit(
            "session_confirm", session_id, room=sid, namespace=self.namespace
        )
        return session_id

    async def bind(self, sio: AsyncServer, sid: Text, conversation_id: Text) -> None:
        """Makes ``sid`` the one connection of a conversation.

        A connection that held the conversation before leaves its room, so
        two connections never both receive its replies.
        """
        old_conversation = self.conversations.get(sid)
        previous = await self.session_holders.take(conversation_id, sid)
        if previous:
            result = sio.leave_room(previous, conversation_id, namespace=self.namespace)
            if inspect.isawaitable(result):
                await result
            self.conversations.pop(previous, None)
            logger.info("socket.io session taken over by a new connection")
        if old_conversation and old_conversation != conversation_id:
            await self.session_holders.release(old_conversation, sid)
        self.conversations[sid] = conversation_id
        if self.session_persistence:
            await join_room(sio, sid, conversation_id, self.namespace)

    def unbind(self, sid: Text) -> Optional[Text]:
        """Forgets a connection locally; returns the conversation it had."""
        conversation_id = self.conversations.pop(sid, None)
        if conversation_id and self.holders.get(conversation_id) == sid:
            del self.holders[conversation_id]
        return conversation_id

    def user_metadata(self, data: Dict[Text, Any]) -> Dict[Text, Any]:
        """Returns the message metadata the client sent, or ``{}``."""
        metadata = data.get(self.metadata_key or "metadata")
        if isinstance(metadata, str):
            try:
                metadata = json.loads(metadata)
            except ValueError:
                metadata = None
        return metadata if isinstance(metadata, dict) else {}

    async def handle_user_message(
        self,
        output: FaqSocketIOOutput,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        sid: Text,
        data: Any,
    ) -> List[Dict[Text, Any]]:
        """Runs one user turn and emits every reply, whole.

        Args:
            output: Emits the widget events.
            on_new_message: Rasa's message handler.
            sid: The socket id.
            data: ``{"message", <metadata_key>}`` from the widget.

        Returns:
            The bot messages of this turn, in Rasa's format.
        """
        if not isinstance(data, dict):
            data = {}
        conversation_id = self.conversations.get(sid)
        if conversation_id is not None and not await self.session_holders.holds(
            conversation_id, sid
        ):
            # A connection on another replica took this session over.
            logger.info(
                "socket.io session %s taken over elsewhere; new session",
                mask_id(conversation_id),
            )
            self.unbind(sid)
            conversation_id = None
        if conversation_id is None:
            # No session_request: this connection gets a session of its own.
            await self.start_session(output.sio, sid, None)
            conversation_id = self.conversations[sid]
        recipient = conversation_id if self.session_persistence else sid
        text = data.get("message")
        if not isinstance(text, str):
            text = None
        metadata = self.user_metadata(data)

        messages: Sequence[Dict[Text, Any]]
        rejection = check_text(conversation_id, text)
        if metadata_problem(metadata):
            metadata = {}
        if not await limits.shared().allow(
            ip=self.client_ips.get(sid), conversation=conversation_id
        ):
            messages = [
                system_reply(conversation_id, limits.TOO_MANY_TEXT, "te_veel_berichten")
            ]
        elif rejection is not None:
            messages = [rejection]
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

        if await output.emit_messages(recipient, messages) == 0:
            messages = [
                system_reply(
                    conversation_id, APOLOGY_TEXT, "storing:geen_zichtbaar_antwoord"
                )
            ]
            await output.emit_messages(recipient, messages)
        return list(messages)
