"""Reads conversations from the tracker store one at a time, for the staff tools.

``make insights`` and ``make review`` read Rasa's ``events`` table (the SQL
tracker store of ``endpoints.yml``: SQLite by default, PostgreSQL when
configured, shared by every Rasa server) with SQLAlchemy, in one pass in event
order. They never load all trackers:

- rows come in pages of ``batch`` by primary key (``WHERE id > last``), each
  page its own short read, so a running Rasa server can keep writing to the
  same SQLite file while a month is read;
- only the rows that matter are parsed: user and bot messages, session starts
  and the ``feedback`` slot;
- a conversation is handed on and forgotten as soon as it is over: at its
  next session start, or once the stream has passed its last message by more
  than ``idle_hours`` (Rasa ends a session after 120 idle minutes).

Memory therefore grows with the conversations that are active at the same
time, not with the period read.

A *conversation* here is one Rasa session of one conversation id; its
*channel* is the prefix of the id (``rest``, ``rest-api``, ``socketio``,
``whatsapp``). Message texts are read as the visitor typed them: callers must
de-identify (:func:`faq.privacy.deidentify`) before showing or writing any.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Text, Tuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import ujson

from faq.settings import env

#: Days start at midnight in this time zone (the webshop's).
TIMEZONE = ZoneInfo(env("FAQ_TIMEZONE", "Europe/Amsterdam") or "Europe/Amsterdam")

#: Channels by conversation id prefix (server/channels); others are "overig".
CHANNELS = ("rest", "rest-api", "socketio", "whatsapp")
OTHER_CHANNEL = "overig"
#: The intent the FallbackClassifier predicts below its thresholds.
NLU_FALLBACK = "nlu_fallback"
#: The response of the "bedoel je …?" fallback (topic buttons from the ranking).
DID_YOU_MEAN = "utter_niet_zeker"
#: Slot in which actions/feedback.py stores a rating.
FEEDBACK_SLOT = "feedback"
#: Candidate topics kept per message (the review shows 3).
RANKING_SIZE = 5

EVENTS = sa.table(
    "events",
    sa.column("id", sa.Integer),
    sa.column("sender_id", sa.String),
    sa.column("type_name", sa.String),
    sa.column("timestamp", sa.Float),
    sa.column("intent_name", sa.String),
    sa.column("action_name", sa.String),
    sa.column("data", sa.Text),
)


@dataclass(slots=True)
class Turn:
    """One visitor message and what the assistant did with it."""

    event_id: int
    timestamp: float
    text: Text
    intent: Optional[Text]
    #: The NLU's ``intent_ranking`` as stored (see :attr:`ranking`).
    raw_ranking: List[Dict[Text, Any]]
    #: Topic of the first reply (``custom.topic``).
    topic: Optional[Text] = None
    #: Domain responses the replies used (``utter_niet_zeker`` …).
    responses: List[Text] = field(default_factory=list)
    handoff: bool = False
    feedback_asked: bool = False
    #: Ratings stored during this turn: ``(topic, helpful)``.
    ratings: List[Tuple[Text, bool]] = field(default_factory=list)

    @property
    def ranking(self) -> List[Tuple[Text, float]]:
        """Best intents other than ``nlu_fallback``, best first: (name, confidence)."""
        result = []
        for entry in self.raw_ranking:
            name = entry.get("name") if isinstance(entry, dict) else None
            if isinstance(name, str) and name != NLU_FALLBACK:
                result.append((name, float(entry.get("confidence") or 0.0)))
                if len(result) == RANKING_SIZE:
                    break
        return result

    @property
    def confidence(self) -> Optional[float]:
        """Confidence of the best intent other than ``nlu_fallback``."""
        for entry in self.raw_ranking:
            if isinstance(entry, dict) and entry.get("name") != NLU_FALLBACK:
                return float(entry.get("confidence") or 0.0)
        return None

    @property
    def typed(self) -> bool:
        """Whether the visitor typed it (not a button's ``/payload``)."""
        return not self.text.startswith("/")

    @property
    def day(self) -> dt.date:
        """The day of the message (``FAQ_TIMEZONE``)."""
        return day_of(self.timestamp)

    @property
    def fell_back(self) -> bool:
        """Whether the assistant said it did not understand."""
        return self.topic == "fallback"

    @property
    def did_you_mean(self) -> bool:
        """Whether the reply was the "bedoel je …?" suggestion of topics."""
        return DID_YOU_MEAN in self.responses


@dataclass(slots=True)
class Conversation:
    """One session of one conversation id, in order."""

    conversation_id: Text
    channel: Text
    turns: List[Turn] = field(default_factory=list)
    last_seen: float = 0.0


_DAY_OF_HOUR: Dict[int, dt.date] = {}


def day_of(timestamp: float) -> dt.date:
    """The day (``FAQ_TIMEZONE``) of an epoch timestamp.

    Cached per hour: every time zone in use here is a whole number of hours
    from UTC, so all moments of one UTC hour fall on the same local day.
    """
    hour = int(timestamp // 3600)
    day = _DAY_OF_HOUR.get(hour)
    if day is None:
        day = dt.datetime.fromtimestamp(hour * 3600, TIMEZONE).date()
        _DAY_OF_HOUR[hour] = day
    return day


def channel_of(conversation_id: Text) -> Text:
    """Returns the channel of a conversation id (its prefix)."""
    prefix, sep, _ = conversation_id.partition(":")
    return prefix if sep and prefix in CHANNELS else OTHER_CHANNEL


def _turn(row: Any) -> Turn:
    data = ujson.loads(row[5]) if row[5] else {}
    parse = data.get("parse_data") or {}
    ranking = parse.get("intent_ranking")
    if not ranking and isinstance(parse.get("intent"), dict):
        ranking = [parse["intent"]]
    return Turn(
        event_id=row[0],
        timestamp=float(row[3] or 0.0),
        text=str(data.get("text") or parse.get("text") or ""),
        intent=row[4] or (parse.get("intent") or {}).get("name"),
        raw_ranking=ranking if isinstance(ranking, list) else [],
    )


def _add_reply(turn: Turn, row: Any) -> None:
    data = ujson.loads(row[5]) if row[5] else {}
    custom = (data.get("data") or {}).get("custom") or {}
    if not isinstance(custom, dict):
        custom = {}
    if turn.topic is None and isinstance(custom.get("topic"), str):
        turn.topic = custom["topic"]
    response = (data.get("metadata") or {}).get("utter_action")
    if isinstance(response, str):
        turn.responses.append(response)
    if custom.get("handoff") is True:
        turn.handoff = True
    if custom.get("feedback") == "vraag":
        turn.feedback_asked = True


def _add_rating(turn: Turn, row: Any) -> None:
    data = ujson.loads(row[5]) if row[5] else {}
    value = data.get("value")
    if isinstance(value, dict) and isinstance(value.get("onderwerp"), str):
        turn.ratings.append((value["onderwerp"], bool(value.get("nuttig"))))


def period_query(start: float, end: float, after: int, limit: int) -> sa.sql.Select:
    """One page of the rows the staff tools need: ids after ``after``, in order."""
    events = EVENTS.c
    return (
        sa.select(
            events.id,
            events.sender_id,
            events.type_name,
            events.timestamp,
            events.intent_name,
            events.data,
        )
        .where(events.id > after)
        .where(events.timestamp >= start, events.timestamp < end)
        .where(
            sa.or_(
                events.type_name.in_(["user", "bot", "session_started"]),
                sa.and_(
                    events.type_name == "slot", events.action_name == FEEDBACK_SLOT
                ),
            )
        )
        .order_by(events.id)
        .limit(limit)
    )


def _rows(engine: sa.engine.Engine, start: float, end: float, batch: int) -> Iterator:
    """All rows of the period, one short read per page.

    Pages are fetched as plain DBAPI tuples (``Engine.raw_connection``): a
    month holds millions of rows, and SQLAlchemy's row objects would cost a
    fifth of the report's time. The query is still built by SQLAlchemy for
    the store's dialect; its only values are numbers and fixed names, so they
    are rendered inline.
    """
    after = 0
    connection = engine.raw_connection()
    try:
        while True:
            query = period_query(start, end, after, batch).compile(
                dialect=engine.dialect, compile_kwargs={"literal_binds": True}
            )
            cursor = connection.cursor()
            try:
                cursor.execute(str(query))
                rows = cursor.fetchall()
            finally:
                cursor.close()
            connection.rollback()  # end the read: writers are never held up
            yield from rows
            if len(rows) < batch:
                return
            after = rows[-1][0]
    finally:
        connection.close()


def read_conversations(
    engine: sa.engine.Engine,
    start: float,
    end: float,
    idle_hours: float = 24.0,
    batch: int = 2000,
) -> Iterator[Conversation]:
    """Yields the conversations with messages in ``[start, end)``, one at a time.

    Args:
        engine: The tracker store's database.
        start: First moment (epoch seconds, inclusive).
        end: Last moment (epoch seconds, exclusive).
        idle_hours: A conversation whose last message is this much older than
            the stream's current event is complete.
        batch: Rows fetched per round trip.

    Yields:
        Conversations with at least one visitor message, each once.
    """
    idle = idle_hours * 3600
    open_: "OrderedDict[Text, Conversation]" = OrderedDict()
    next_check = 0.0

    def finished(conversation: Optional[Conversation]) -> Iterator[Conversation]:
        if conversation is not None and conversation.turns:
            yield conversation

    for row in _rows(engine, start, end, batch):
        # id, sender_id, type_name, timestamp, intent_name, data
        sender = row[1]
        now = float(row[3] or 0.0)
        kind = row[2]
        if kind == "session_started":
            yield from finished(open_.pop(sender, None))
            continue
        conversation = open_.get(sender)
        if kind == "user":
            if conversation is None:
                conversation = Conversation(sender, channel_of(sender))
                open_[sender] = conversation
            conversation.turns.append(_turn(row))
        elif conversation is None or not conversation.turns:
            continue  # a reply or rating whose message lies before the period
        elif kind == "bot":
            _add_reply(conversation.turns[-1], row)
        else:
            _add_rating(conversation.turns[-1], row)
        conversation.last_seen = now
        open_.move_to_end(sender)
        if now >= next_check:  # every 10 minutes of stream time
            next_check = now + 600
            while open_:
                oldest = next(iter(open_.values()))
                if oldest.last_seen >= now - idle:
                    break
                yield from finished(open_.pop(oldest.conversation_id))
    for conversation in open_.values():
        yield from finished(conversation)


def engine_from_endpoints(path: Text) -> sa.engine.Engine:
    """The SQLAlchemy engine of the SQL tracker store in ``endpoints.yml``."""
    import warnings

    with warnings.catch_warnings():  # Rasa's imports warn about SQLAlchemy 2.0
        warnings.simplefilter("ignore")
        from server.purge import engine_from_endpoints as from_endpoints

        return from_endpoints(path)


def parse_day(value: Text) -> dt.date:
    """Parses ``YYYY-MM-DD`` (for the command lines)."""
    return dt.date.fromisoformat(value)


def period(
    start: Optional[dt.date], end: Optional[dt.date], days: int
) -> Tuple[dt.date, dt.date]:
    """The days to read: ``start``..``end`` inclusive; defaults to the last ``days``.

    Args:
        start: First day, or None.
        end: Last day, or None (today).
        days: Length of the period when ``start`` is not given.
    """
    last = end or dt.datetime.now(TIMEZONE).date()
    first = start or last - dt.timedelta(days=max(1, days) - 1)
    if first > last:
        raise ValueError("de begindatum ligt na de einddatum")
    return first, last


def epoch_range(first: dt.date, last: dt.date) -> Tuple[float, float]:
    """Epoch seconds from the start of ``first`` to the end of ``last``."""
    start = dt.datetime.combine(first, dt.time(), TIMEZONE)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), TIMEZONE)
    return start.timestamp(), end.timestamp()


#: Dutch names of the conversation topics (content topics use their titles).
CONVERSATION_TOPIC_TITLES: Dict[Text, Text] = {
    "groet": "Begroeting",
    "afscheid": "Afscheid",
    "bedankt": "Bedankt",
    "bot_vraag": "Ben jij een robot?",
    "hulp": "Wat kan ik vragen?",
    "persoonlijk_advies": "Persoonlijk advies (geweigerd)",
    "medewerker": "Klantenservice / medewerker",
    "kennisbank": "Kennisbank en magnesiumtest",
    "buiten_domein": "Buiten het onderwerp",
    "fallback": "Niet begrepen",
}


def topic_titles() -> Dict[Text, Text]:
    """Dutch titles of every topic id: content titles from the content file."""
    from faq.content import get_content

    titles = {t.id: t.title for t in get_content().topics.values()}
    titles.update(CONVERSATION_TOPIC_TITLES)
    return titles
