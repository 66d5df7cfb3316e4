"""What both WhatsApp channels share (Twilio and Meta's Cloud API).

Both providers post each user message to a webhook and retry a delivery they
consider failed. Both channels therefore work the same way:

1. The webhook checks the provider's signature (HTTP 403 otherwise), reads the
   delivery, records its message id in the :class:`DeliveryStore` and answers
   at once. It does not wait for Rasa.
2. :class:`ConversationQueues` then runs the message through Rasa, with the
   guard of :mod:`.guard` (Dutch checks, whole messages, an apology instead of
   silence). It sends the replies through the provider's API, one
   conversation's messages strictly in the order they arrived.
3. A delivery whose message id was handled before (a retry or a replay) is
   acknowledged and not answered again. The ids are kept in a database
   (``FAQ_WHATSAPP_STORE_URL``), not in memory, so this holds across restarts
   and between replicas that share the database.
4. Nothing accepted is lost silently. A message that was accepted but never
   finished (the process died) is picked up again by the next sweep, within
   :data:`RESUME_WITHIN_SECONDS`. Older ones are counted and logged as lost.
5. Free-form replies go out only within 24 hours of the user's last message,
   which is WhatsApp's rule. A reply that would fall outside that window is
   logged (with its topic, never its text) and not sent. An approved template
   is sent instead when one is configured.

Buttons of any bot message (related topics, suggestions, a feedback question)
are *choices*. Meta shows them as tappable reply buttons or a list, and Twilio
as numbered lines. A typed number or a typed button title picks the choice
offered in the bot's last turn, which is read from the tracker (the tracker
store is shared by all replicas). Phone numbers appear in logs only masked
(:func:`faq.privacy.mask_id`).
"""

from __future__ import annotations

import abc
import asyncio
import functools
import json
import logging
import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import (
    Any,
    Awaitable,
    Callable,
    Dict,
    List,
    Optional,
    Sequence,
    Set,
    Text,
    Tuple,
)

import sqlalchemy as sa
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.shared.core.events import BotUttered, UserUttered
from sanic import Blueprint, Sanic

from faq.content import ContentError, get_content
from faq.privacy import mask_id
from faq.reply import system_reply, topic_of
from server import limits, monitoring
from server import settings as config
from server.channels.guard import (
    WholeMessageCollector,
    check_text,
    handle_guarded,
    install_http_hardening,
    user_text,
)
from server.stores import private_file

logger = logging.getLogger(__name__)

# --- Texts ------------------------------------------------------------------------

TEXT_ONLY_TEXT = (
    "Ik kan alleen tekstberichten lezen, geen foto's, spraakberichten of "
    "locaties. Stel je vraag over magnesium of vitamine D gerust in een "
    "tekstbericht."
)
#: Below numbered choices (Twilio).
OPTIONS_HINT = "Antwoord met het nummer van je keuze."
#: Body of a buttons or list message when the answer text went out on its own.
CHOICE_PROMPT = "Maak een keuze:"

# --- Rules of WhatsApp ------------------------------------------------------------

#: Free-form messages may go out only this long after the user's last message.
WINDOW_SECONDS = 24 * 3600

#: Seconds between sweeps for work that was accepted but never finished.
SWEEP_SECONDS = 30.0
#: Accepted work not renewed for this long belongs to a process that stopped.
LEASE_SECONDS = 120.0
#: Work older than this is not answered any more, but counted as lost.
RESUME_WITHIN_SECONDS = 3600.0

#: Where the delivery store lives unless ``FAQ_WHATSAPP_STORE_URL`` or
#: ``store_url`` in credentials.yml says otherwise (private to its owner).
DEFAULT_STORE_URL = "sqlite:///var/whatsapp.db"

_NUMBER = re.compile(r"\+?(\d{6,20})")
_CHOICE_NUMBER = re.compile(r"\s*(\d{1,2})\s*[.)]?\s*")


def channel_settings(
    credentials: Optional[Dict[Text, Any]], **env_values: Optional[Text]
) -> Dict[Text, Optional[Text]]:
    """Returns a channel's settings: each environment variable, else credentials.yml.

    Args:
        credentials: The channel's section of ``credentials.yml`` (may be None).
        **env_values: Setting name (also its key in ``credentials.yml``) ->
            the value of its environment variable, or None.

    Returns:
        Setting name -> the stripped value, or None when neither gives one.
    """
    section = credentials or {}
    result: Dict[Text, Optional[Text]] = {}
    for key, env_value in env_values.items():
        value = env_value or section.get(key)
        result[key] = (str(value).strip() or None) if value is not None else None
    return result


def conversation_id(number: Any) -> Optional[Text]:
    """Returns the conversation id of a WhatsApp number, or None if invalid.

    Both providers use the same id (``whatsapp:+31612345678``), so a user
    keeps their conversation when the shop changes provider. The id exists
    only inside the WhatsApp channels: no other channel accepts it.

    Args:
        number: ``31612345678``, ``+31612345678`` or ``whatsapp:+31612345678``.
    """
    if not isinstance(number, str):
        return None
    match = _NUMBER.fullmatch(number.strip().removeprefix("whatsapp:"))
    return f"whatsapp:+{match.group(1)}" if match else None


def phone_digits(conversation: Text) -> Text:
    """Returns the digits of a conversation id (``31612345678``)."""
    return conversation.removeprefix("whatsapp:").lstrip("+")


# --- Choices (the buttons of a bot message) ---------------------------------------


@dataclass(frozen=True)
class Choice:
    """One button of a bot message."""

    payload: Text
    #: The title as the bot wrote it.
    title: Text
    #: The topic's short button title (content file) when it has one, else title.
    short: Text


def _url_of(button: Dict[Text, Any]) -> Optional[Text]:
    """Returns the URL of a link button, or None for a normal button."""
    url = button.get("url")
    payload = button.get("payload")
    if not url and isinstance(payload, str) and re.match(r"https?://", payload):
        url = payload
    return url if isinstance(url, str) and url else None


def _buttons(message: Dict[Text, Any]) -> List[Dict[Text, Any]]:
    """Buttons and quick replies of a message, in order."""
    found = list(message.get("buttons") or []) + list(
        message.get("quick_replies") or []
    )
    return [b for b in found if isinstance(b, dict)]


def _one_line(value: Any) -> Text:
    return " ".join(str(value or "").split())


def short_title(payload: Text, title: Text) -> Text:
    """Returns the short title of a topic button, or the title itself.

    Args:
        payload: The button's payload (``/vitamine_k2`` for a topic).
        title: The button's title as the bot wrote it.
    """
    if payload.startswith("/"):
        try:
            topic = get_content().topic(payload[1:])
        except ContentError:  # the server checked the file at start-up
            topic = None
        if topic is not None:
            return topic.button_title
    return title


def choices_of(message: Dict[Text, Any]) -> List[Choice]:
    """Returns the choices (non-link buttons) of one bot message, in order."""
    found: List[Choice] = []
    for button in _buttons(message):
        if _url_of(button):
            continue
        payload = _one_line(button.get("payload") or button.get("title"))
        if not payload:
            continue
        title = _one_line(button.get("title")) or payload
        found.append(Choice(payload, title, short_title(payload, title)))
    return found


def link_lines(message: Dict[Text, Any]) -> List[Text]:
    """Link buttons, images and attachments of a message as text lines."""
    lines: List[Text] = []
    for button in _buttons(message):
        url = _url_of(button)
        if url:
            title = _one_line(button.get("title"))
            lines.append(f"{title}: {url}" if title and title != url else url)
    for key in ("image", "attachment"):
        value = message.get(key)
        if isinstance(value, dict):
            payload = value.get("payload")
            value = value.get("url") or value.get("src")
            if not value and isinstance(payload, dict):
                value = payload.get("url") or payload.get("src")
        if isinstance(value, str) and value.strip():
            lines.append(value.strip())
    return lines


def message_text(message: Dict[Text, Any]) -> Text:
    """The text of a bot message with its links, without the buttons."""
    text = str(message.get("text") or "").replace("\r\n", "\n").strip()
    links = "\n".join(link_lines(message))
    return "\n\n".join(part for part in (text, links) if part)


def fit(text: Text, limit: int) -> Text:
    """Shortens a title to ``limit`` characters between words, marked with "…".

    Words are never cut; only a single word longer than the limit can be.
    """
    text = _one_line(text)
    if len(text) <= limit:
        return text
    kept: List[Text] = []
    for word in text.split():
        if len(" ".join([*kept, word])) + 1 > limit:
            break
        kept.append(word)
    if not kept:
        return text[: limit - 1] + "…"
    return " ".join(kept).rstrip(",;:-") + "…"


def split_message(text: Text, limit: int) -> List[Text]:
    """Splits text into messages of at most ``limit`` characters.

    Splits on paragraph boundaries first, then on line ends, then between
    words. A single "word" longer than the limit (a huge URL) is the only
    thing that is ever cut.

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


def offered_choices(events: Sequence[Any]) -> List[Choice]:
    """Returns the choices of the bot's last turn, numbered across the turn.

    Args:
        events: The tracker's events (Rasa event objects).

    Returns:
        The choices of the bot messages after the last user message, in order.
    """
    turn: List[Dict[Text, Any]] = []
    for event in reversed(list(events)):
        if isinstance(event, UserUttered):
            break
        if isinstance(event, BotUttered):
            turn.append(dict(event.data or {}))
    return [choice for message in reversed(turn) for choice in choices_of(message)]


def _plain(text: Text) -> Text:
    return _one_line(text).strip(" .!?").casefold()


def resolve_choice(
    text: Text, offered: Sequence[Choice], numbers: bool
) -> Optional[Choice]:
    """Returns the choice a typed answer picks, or None.

    Args:
        text: What the user typed.
        offered: The choices of the bot's last turn.
        numbers: Whether the choices were shown numbered ("2" picks the second).
    """
    if not offered:
        return None
    match = _CHOICE_NUMBER.fullmatch(text)
    if numbers and match:
        number = int(match.group(1))
        return offered[number - 1] if 1 <= number <= len(offered) else None
    typed = _plain(text)
    for choice in offered:
        if typed and typed in (_plain(choice.title), _plain(choice.short)):
            return choice
    return None


# --- Deliveries and the store -----------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """One user message as a provider delivered it."""

    conversation_id: Text
    #: The provider's message id (Twilio ``MessageSid``, Meta ``wamid…``).
    message_id: Text
    #: The text, or None when the message is no text (photo, voice, location).
    text: Optional[Text]
    #: Whether ``text`` is the payload of a tapped button.
    chosen: bool = False

    def to_json(self) -> Text:
        """Serialises the delivery for the store."""
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, data: Text) -> "Delivery":
        """Reads a delivery back from the store."""
        return cls(**json.loads(data))


PENDING, DONE, ALIAS, LOST = "bezig", "klaar", "alias", "verloren"


class DeliveryStore:
    """Handled message ids, unfinished work and each number's last message.

    A SQL database through SQLAlchemy: by default a private SQLite file, or
    the PostgreSQL database of the tracker store when several replicas run.
    Two tables: ``whatsapp_deliveries`` (one row per message id; the message
    itself only while it is being answered) and ``whatsapp_contacts`` (the
    time of each number's last message, for the 24-hour window). Rows older
    than ``keep_days`` are deleted as the store goes.
    """

    def __init__(self, url: Text, keep_days: float = config.WHATSAPP_KEEP_DAYS):
        """Opens (and creates) the tables.

        Args:
            url: SQLAlchemy database URL, e.g. ``sqlite:///var/whatsapp.db``.
            keep_days: How long a handled message id is remembered.
        """
        if url.startswith("sqlite:///") and url[10:] not in ("", ":memory:"):
            private_file(Path(url[10:]))
        self.engine = sa.create_engine(url)
        self.keep_seconds = keep_days * 86400
        metadata = sa.MetaData()
        self.deliveries = sa.Table(
            "whatsapp_deliveries",
            metadata,
            sa.Column("key", sa.String(255), primary_key=True),
            sa.Column("state", sa.String(16), nullable=False, index=True),
            sa.Column("received_at", sa.Float, nullable=False),
            sa.Column("claimed_at", sa.Float, nullable=False),
            sa.Column("job", sa.Text, nullable=True),
        )
        self.contacts = sa.Table(
            "whatsapp_contacts",
            metadata,
            sa.Column("conversation", sa.String(64), primary_key=True),
            sa.Column("last_message_at", sa.Float, nullable=False),
        )
        metadata.create_all(self.engine)
        self._pruned_at = 0.0

    def claim(self, keys: Sequence[Text], delivery: Delivery, now: float) -> bool:
        """Records a new delivery; False when any of its keys was seen before.

        Args:
            keys: The delivery's ids (the first one is its own; further ones,
                such as Twilio's idempotency token, only mark it as seen).
            delivery: The message, kept until :meth:`finish`.
            now: The time of arrival.

        Raises:
            sqlalchemy.exc.SQLAlchemyError: When the database cannot be used.
        """
        unique = list(dict.fromkeys(keys))
        try:
            with self.engine.begin() as connection:
                for index, key in enumerate(unique):
                    connection.execute(
                        self.deliveries.insert().values(
                            key=key,
                            state=PENDING if index == 0 else ALIAS,
                            received_at=now,
                            claimed_at=now,
                            job=delivery.to_json() if index == 0 else None,
                        )
                    )
        except sa.exc.IntegrityError:
            return False
        self.touch(delivery.conversation_id, now)
        self.prune(now)
        return True

    def touch(self, conversation: Text, now: float) -> None:
        """Records the time of a number's latest message."""
        update = (
            self.contacts.update()
            .where(self.contacts.c.conversation == conversation)
            .values(last_message_at=now)
        )
        with self.engine.begin() as connection:
            if connection.execute(update).rowcount:
                return
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    self.contacts.insert().values(
                        conversation=conversation, last_message_at=now
                    )
                )
        except sa.exc.IntegrityError:  # another replica inserted it just now
            with self.engine.begin() as connection:
                connection.execute(update)

    def last_message_at(self, conversation: Text) -> Optional[float]:
        """Returns when the number last wrote, or None when unknown."""
        with self.engine.connect() as connection:
            return connection.execute(
                sa.select(self.contacts.c.last_message_at).where(
                    self.contacts.c.conversation == conversation
                )
            ).scalar()

    def finish(self, key: Text) -> None:
        """Marks a delivery answered and forgets its message."""
        with self.engine.begin() as connection:
            connection.execute(
                self.deliveries.update()
                .where(self.deliveries.c.key == key)
                .values(state=DONE, job=None)
            )

    def renew(self, keys: Sequence[Text], now: float) -> None:
        """Tells other processes that this one is still working on ``keys``."""
        if not keys:
            return
        with self.engine.begin() as connection:
            connection.execute(
                self.deliveries.update()
                .where(self.deliveries.c.key.in_(list(keys)))
                .where(self.deliveries.c.state == PENDING)
                .values(claimed_at=now)
            )

    def take_stale(
        self, prefix: Text, now: float, lease: float, max_age: float
    ) -> Tuple[List[Tuple[Text, Delivery]], int]:
        """Takes over work whose process stopped renewing it.

        Args:
            prefix: Only keys of this provider (``meta:``, ``twilio:``).
            now: The current time.
            lease: Seconds without renewal after which work is taken over.
            max_age: Work that arrived longer ago than this is marked lost.

        Returns:
            ``(taken, lost)``: the deliveries to answer now (with their key),
            and how many were too old to answer.
        """
        table = self.deliveries
        taken: List[Tuple[Text, Delivery]] = []
        lost = 0
        with self.engine.begin() as connection:
            rows = connection.execute(
                sa.select(
                    table.c.key, table.c.received_at, table.c.claimed_at, table.c.job
                )
                .where(table.c.state == PENDING)
                .where(table.c.key.startswith(prefix, autoescape=True))
                .where(table.c.claimed_at < now - lease)
            ).all()
            for key, received_at, claimed_at, job in rows:
                guard = (table.c.key == key) & (table.c.claimed_at == claimed_at)
                if received_at < now - max_age or not job:
                    connection.execute(
                        table.update().where(guard).values(state=LOST, job=None)
                    )
                    lost += 1
                    continue
                result = connection.execute(
                    table.update().where(guard).values(claimed_at=now)
                )
                if result.rowcount:  # not taken by another replica meanwhile
                    taken.append((key, Delivery.from_json(job)))
        return taken, lost

    def prune(self, now: float, every: float = 3600.0) -> None:
        """Deletes ids and contacts older than the keep period (at most hourly)."""
        if now - self._pruned_at < every:
            return
        self._pruned_at = now
        cutoff = now - self.keep_seconds
        with self.engine.begin() as connection:
            connection.execute(
                self.deliveries.delete()
                .where(self.deliveries.c.received_at < cutoff)
                .where(self.deliveries.c.state != PENDING)
            )
            connection.execute(
                self.contacts.delete().where(self.contacts.c.last_message_at < cutoff)
            )


class ConversationQueues:
    """Runs jobs one after another per conversation, conversations side by side."""

    def __init__(self) -> None:
        self._last: Dict[Text, asyncio.Task] = {}
        self._running: Set[asyncio.Task] = set()

    def __len__(self) -> int:
        return len(self._running)

    def submit(self, key: Text, job: Callable[[], Awaitable[None]]) -> asyncio.Task:
        """Starts ``job`` once every earlier job of the same ``key`` has ended."""
        previous = self._last.get(key)

        async def run() -> None:
            if previous is not None:
                await asyncio.wait([previous])
            await job()

        task = asyncio.get_running_loop().create_task(run())
        self._last[key] = task
        self._running.add(task)

        def forget(done: asyncio.Task) -> None:
            self._running.discard(done)
            if self._last.get(key) is done:
                del self._last[key]

        task.add_done_callback(forget)
        return task

    async def drain(self, timeout: Optional[float] = None) -> bool:
        """Waits until every job has ended; False when ``timeout`` ran out first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._running:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return False
            await asyncio.wait(set(self._running), timeout=left)
        return True


# --- Output -----------------------------------------------------------------------


class SendError(Exception):
    """The provider's API did not accept a message (the text holds no number)."""


class WhatsAppOutput(OutputChannel, abc.ABC):
    """Sends bot messages through a provider, within WhatsApp's 24-hour window."""

    def __init__(self, store: Optional[DeliveryStore]) -> None:
        self.store = store

    @abc.abstractmethod
    async def deliver(
        self, recipient_id: Text, messages: Sequence[Dict[Text, Any]]
    ) -> None:
        """Sends the bot messages of one turn, in order (raises SendError)."""

    @abc.abstractmethod
    def has_template(self) -> bool:
        """Whether an approved template is configured for a closed window."""

    @abc.abstractmethod
    async def send_template(self, recipient_id: Text) -> None:
        """Sends the approved template (raises SendError)."""

    def window_open(self, recipient_id: Text, now: Optional[float] = None) -> bool:
        """Whether a free-form message may go out to this number now."""
        if self.store is None:
            return True
        try:
            last = self.store.last_message_at(recipient_id)
        except sa.exc.SQLAlchemyError:
            logger.error("WhatsApp store unreadable; sending without window check")
            monitoring.count("storing:whatsapp_opslag")
            return True
        return last is not None and (now or time.time()) - last <= WINDOW_SECONDS

    async def send_turn(
        self, recipient_id: Text, messages: Sequence[Dict[Text, Any]]
    ) -> bool:
        """Sends the bot messages of one turn; returns whether they went out."""
        if not messages:
            return True
        topics = [topic_of(message) for message in messages]
        if not self.window_open(recipient_id):
            monitoring.count("whatsapp:buiten_24_uur")
            logger.warning(
                "WhatsApp: %d message(s) to %s not sent free-form, more than 24 "
                "hours after the user's last message (topics %s)%s",
                len(messages),
                mask_id(recipient_id),
                topics,
                "; sending the template" if self.has_template() else "",
            )
            if self.has_template():
                await self._guarded(self.send_template(recipient_id), recipient_id)
            return False
        logger.info("WhatsApp reply to %s: topics %s", mask_id(recipient_id), topics)
        return await self._guarded(self.deliver(recipient_id, messages), recipient_id)

    async def _guarded(self, sending: Awaitable[None], recipient_id: Text) -> bool:
        try:
            await sending
            return True
        except SendError as error:
            problem = str(error)
        except Exception as error:  # - a send must never crash the worker
            problem = type(error).__name__
        monitoring.count("storing:whatsapp_verzenden")
        logger.error(
            "WhatsApp: sending to %s failed: %s", mask_id(recipient_id), problem
        )
        return False

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        """Sends one bot message (e.g. from an intent triggered over the API)."""
        await self.send_turn(recipient_id, [message])

    async def send_text_message(
        self, recipient_id: Text, text: Text, **kwargs: Any
    ) -> None:
        """Sends a text message."""
        await self.send_response(recipient_id, {"text": text})


# --- Input ------------------------------------------------------------------------


class WhatsAppInput(InputChannel, abc.ABC):
    """The part of a WhatsApp channel that does not depend on the provider.

    A provider's channel verifies and reads its webhook in ``blueprint`` (after
    :meth:`prepare`), hands each message to :meth:`accept`, and builds its
    :class:`WhatsAppOutput` in :meth:`output`.
    """

    #: Whether choices are shown numbered, so that "2" picks the second one.
    numbered_choices = False

    #: Every store key of this provider starts with this (see :meth:`accept`).
    key_prefix = "whatsapp:"

    def __init__(self, store_url: Optional[Text] = None) -> None:
        """Creates the channel; the store opens on first use.

        Args:
            store_url: SQLAlchemy URL of the delivery store.
        """
        self.store_url = store_url or DEFAULT_STORE_URL
        self._store: Optional[DeliveryStore] = None
        self.queues = ConversationQueues()
        self._app: Optional[Sanic] = None
        self._on_new_message: Optional[Callable[[UserMessage], Awaitable[Any]]] = None
        self._holding: Set[Text] = set()
        self._sweeper: Optional[asyncio.Task] = None

    @property
    def store(self) -> DeliveryStore:
        """The delivery store (opened on first use)."""
        if self._store is None:
            self._store = DeliveryStore(self.store_url)
        return self._store

    @abc.abstractmethod
    def output(self) -> WhatsAppOutput:
        """The provider's output channel."""

    def get_output_channel(self) -> OutputChannel:
        """Output channel for messages Rasa sends outside a webhook call."""
        return self.output()

    def prepare(
        self,
        blueprint: Blueprint,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
    ) -> None:
        """Hooks the shared behaviour into a provider's blueprint.

        Dutch HTTP errors for the whole server, the store opened before the
        first request, the sweep for unfinished work, and on shutdown the
        queued work finished (whatever does not finish in time is resumed by
        the next process).
        """
        install_http_hardening(blueprint)
        self._on_new_message = on_new_message

        @blueprint.listener("before_server_start")
        async def _start(app: Sanic, _: Any) -> None:
            self._app = app
            self.store  # noqa: B018 - opens the database now, not on a message
            if self._sweeper is None:
                self._sweeper = asyncio.ensure_future(self._sweep_forever())

        @blueprint.listener("before_server_stop")
        async def _stop(app: Sanic, _: Any) -> None:
            await self.close()

    async def close(self, timeout: float = 10.0) -> None:
        """Stops the sweep and finishes the queued work (up to ``timeout``)."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        if not await self.queues.drain(timeout):
            logger.warning(
                "WhatsApp: %d message(s) unfinished at shutdown; the next "
                "process answers them",
                len(self.queues),
            )

    async def accept(
        self, request_app: Optional[Sanic], delivery: Delivery, keys: Sequence[Text]
    ) -> bool:
        """Records a delivery and queues its answer.

        Args:
            request_app: The app that received it (reaches the agent).
            delivery: The message.
            keys: Its ids, each starting with :attr:`key_prefix`; the first is
                its own (see :meth:`DeliveryStore.claim`).

        Returns:
            False when the delivery was handled before (it is not answered).

        Raises:
            sqlalchemy.exc.SQLAlchemyError: When the store cannot be used; the
                webhook then answers 503 so that the provider retries.
        """
        if request_app is not None:
            self._app = request_app
        if not self.store.claim(keys, delivery, time.time()):
            monitoring.count("whatsapp:dubbel")
            logger.info(
                "WhatsApp: message from %s was handled before; not answered again",
                mask_id(delivery.conversation_id),
            )
            return False
        self._queue(keys[0], delivery)
        return True

    def _queue(self, key: Text, delivery: Delivery) -> None:
        self._holding.add(key)
        self.queues.submit(
            delivery.conversation_id, functools.partial(self._work, key, delivery)
        )

    async def _work(self, key: Text, delivery: Delivery) -> None:
        """Answers one delivery and marks it finished."""
        try:
            replies = await self.answer(delivery)
            await self.output().send_turn(delivery.conversation_id, replies)
        except Exception:  # - the next message must still be answered
            monitoring.count("storing:whatsapp")
            logger.exception(
                "WhatsApp: answering %s failed", mask_id(delivery.conversation_id)
            )
        finally:
            self._holding.discard(key)
            try:
                self.store.finish(key)
            except sa.exc.SQLAlchemyError:
                monitoring.count("storing:whatsapp_opslag")
                logger.error("WhatsApp store: could not mark a message answered")

    async def answer(self, delivery: Delivery) -> List[Dict[Text, Any]]:
        """Runs one delivery through Rasa (guarded); returns the bot's messages."""
        sender = delivery.conversation_id
        if delivery.text is None:
            return [system_reply(sender, TEXT_ONLY_TEXT, "geen_tekst")]
        rejection = check_text(sender, delivery.text)
        if rejection is not None:
            return [rejection]
        if not await limits.shared().allow(conversation=sender):
            return [system_reply(sender, limits.TOO_MANY_TEXT, "te_veel_berichten")]
        text = delivery.text.strip()
        offered = await self._offered(sender)
        if delivery.chosen:
            choice = next((c for c in offered if c.payload == text), None)
        else:
            choice = resolve_choice(text, offered, self.numbered_choices)
            if choice is not None:
                logger.info("WhatsApp: %s picked a choice by typing", mask_id(sender))
        # A payload of a button the bot just offered is the bot's own; anything
        # else that looks like an intent passes the guard's allow-list.
        text = choice.payload if choice is not None else user_text(text)
        if self._on_new_message is None:
            raise RuntimeError("blueprint() was not called")
        collector = WholeMessageCollector()
        message = UserMessage(
            text,
            collector,
            sender,
            input_channel=self.name(),
            message_id=delivery.message_id,
        )
        return await handle_guarded(self._on_new_message, message, collector)

    async def _offered(self, sender: Text) -> List[Choice]:
        """The choices of the bot's last turn, from the (shared) tracker store."""
        agent = getattr(self._app.ctx, "agent", None) if self._app else None
        tracker_store = getattr(agent, "tracker_store", None)
        if tracker_store is None:
            return []
        try:
            tracker = await tracker_store.retrieve(sender)
        except Exception:  # - without it the text is read as typed
            logger.warning("WhatsApp: no tracker for %s", mask_id(sender))
            return []
        return offered_choices(tracker.events) if tracker is not None else []

    def resume_stale(self, now: Optional[float] = None) -> int:
        """Renews this process's work, then takes over work nobody renews.

        Returns:
            How many deliveries were taken over and queued.
        """
        now = time.time() if now is None else now
        self.store.renew(sorted(self._holding), now)
        taken, lost = self.store.take_stale(
            self.key_prefix, now, LEASE_SECONDS, RESUME_WITHIN_SECONDS
        )
        if lost:
            monitoring.count("storing:whatsapp_verloren", lost)
            logger.error(
                "WhatsApp: %d message(s) accepted but never answered, now too old", lost
            )
        for key, delivery in taken:
            logger.warning(
                "WhatsApp: answering a message from %s that a stopped process "
                "accepted",
                mask_id(delivery.conversation_id),
            )
            self._queue(key, delivery)
        return len(taken)

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            try:
                self.resume_stale()
            except sa.exc.SQLAlchemyError:
                monitoring.count("storing:whatsapp_opslag")
                logger.error("WhatsApp store unreachable during the sweep")
