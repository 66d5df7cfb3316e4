"""Conversation stores of the Rasa server: tracker store and lock stores.

:class:`CachedSQLTrackerStore` is Rasa's ``SQLTrackerStore`` with a
write-through cache. Rasa's store reads and deserialises every event of the
current session on every message, so a long conversation (weeks on WhatsApp)
gets slower with each turn. This store keeps the tracker it last saved for each
conversation (an LRU of ``cache_size`` conversations) and hands it back
directly when it is still exactly what the database holds. Everything is still
written to the database first: after a restart, or for a conversation evicted
from the cache, the tracker is read from the database as before.

With several Rasa replicas on one database (``shared: true``, the default for
every dialect but SQLite) another replica may have written a conversation
since this one cached it. Then every cache hit is checked against the
database first: the id of the conversation's newest stored event must still
be the one this replica wrote last (one indexed query, ``events (sender_id,
id)``), else the tracker is read from the database. The database stays the
only truth, so a Redis outage can never make a replica serve a stale tracker.

Database calls run in worker threads (one for SQLite, whose writers must take
turns; ``db_threads`` for a server database), so a slow commit (an fsync) no
longer stops the event loop that serves every other conversation.

:class:`FastInMemoryLockStore` keeps Rasa's first-come-first-served ticket
lock per conversation, but polls a busy lock every ``wait_time`` seconds
(default 0.005) instead of once per second, so a second message sent at once
in the same conversation (normal on WhatsApp) is not delayed by a second.

:class:`FastRedisLockStore` is the same for several replicas: Rasa's
``RedisLockStore`` and ticket format, with

- the same fast hand-over (polling every ``wait_time`` seconds);
- atomic ticket updates (``WATCH``/``MULTI``), where Rasa's get-then-set lets
  two replicas overwrite each other's tickets;
- short-lived tickets (``ticket_lifetime``, 4 s) that the holder renews every
  second while it waits and works (from a thread, so a busy event loop never
  lets a live replica's lock expire), so a killed replica's lock frees itself
  within seconds instead of Rasa's 60;
- async Redis calls (``redis.asyncio``) that never block the event loop;
- when Redis cannot be reached, an in-process lock instead of an error: the
  user still gets an answer, monitoring counts ``redis_onbereikbaar``. nginx
  sends a conversation's messages one after another, so in-process locks
  suffice for the seconds Redis is away.

Configured in ``endpoints.yml`` (``make run``)::

    tracker_store:
      type: server.stores.CachedSQLTrackerStore
      dialect: "sqlite"
      db: "tracker.db"
      cache_size: 1000
    lock_store:
      type: server.stores.FastInMemoryLockStore
      wait_time: 0.005

and for replicas (``make stack``, ``deploy/endpoints.yml``)::

    tracker_store:
      type: server.stores.CachedSQLTrackerStore
      dialect: "postgresql"
      host: 127.0.0.1
      db: faq
      username: faq
      password: ${FAQ_PG_PASSWORD}
    lock_store:
      type: server.stores.FastRedisLockStore
      host: 127.0.0.1
      password: ${FAQ_REDIS_PASSWORD}
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import (
    Any,
    AsyncGenerator,
    Callable,
    Dict,
    List,
    Optional,
    Text,
    Tuple,
    TypeVar,
)

import sqlalchemy as sa
import sqlalchemy.orm
from rasa.core.lock import TicketLock
from rasa.core.lock_store import (
    LOCK_LIFETIME,
    InMemoryLockStore,
    LockError,
    RedisLockStore,
)
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from rasa.utils.endpoints import EndpointConfig

from faq.privacy import mask_id
from server import monitoring

DEFAULT_CACHE_SIZE = 1000

#: Worker threads for database calls with a server database (PostgreSQL).
DEFAULT_DB_THREADS = 4

#: Name of the index that makes the shared-cache check one index lookup.
SENDER_ID_INDEX = "ix_events_sender_id_id"

#: Counted when Redis cannot be reached (lock store, limits, socket.io).
REDIS_DOWN = "redis_onbereikbaar"

T = TypeVar("T")

#: A cached tracker, how many of its events are stored, the newest event's id.
CacheEntry = Tuple[DialogueStateTracker, int, Optional[int]]

logger = logging.getLogger(__name__)


def private_file(path: Path) -> None:
    """Creates ``path`` readable and writable by the owner only.

    A missing folder is created private (0700); an existing one keeps its
    mode (``make stack`` lets the daemons' users pass through ``var/``).
    """
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "ja", "on")
    return bool(value)


class CachedSQLTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` with a write-through cache, safe for replicas."""

    def __init__(
        self,
        *args: Any,
        cache_size: int = DEFAULT_CACHE_SIZE,
        shared: Optional[Any] = None,
        db_threads: Optional[int] = None,
        **kwargs: Any,
    ):
        """Creates the SQL store.

        A SQLite file is created (or tightened) to owner-only permissions
        before the database opens it: conversations hold health questions.

        Args:
            args: Passed on to Rasa's ``SQLTrackerStore``.
            cache_size: The number of conversations kept in memory.
            shared: Whether other processes write to the same database
                (replicas): then every cache hit is checked against it.
                Default: true for every dialect but SQLite.
            db_threads: Worker threads for database calls (SQLite: always 1).
            kwargs: Passed on to Rasa's ``SQLTrackerStore``.
        """
        dialect = str(kwargs.get("dialect", "sqlite"))
        sqlite = dialect.startswith("sqlite")
        if sqlite and kwargs.get("db"):
            private_file(Path(kwargs["db"]))
        super().__init__(*args, **kwargs)
        if not sqlite:
            self._ping_before_use()
        self.cache_size = int(cache_size)
        self.shared = (not sqlite) if shared is None else _as_bool(shared)
        threads = 1 if sqlite else int(db_threads or DEFAULT_DB_THREADS)
        self._executor = ThreadPoolExecutor(
            max_workers=threads, thread_name_prefix="tracker-db"
        )
        #: sender id -> (tracker, events saved, id of the newest stored event)
        self._cache: "OrderedDict[Text, CacheEntry]" = OrderedDict()
        if self.shared:
            self._ensure_sender_index()

    def _ping_before_use(self) -> None:
        """Re-creates Rasa's engine with ``pool_pre_ping``.

        After the database restarted, every pooled connection is dead; with a
        ping on checkout the first turn afterwards gets a fresh one instead of
        an error.
        """
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(
            url, pool_pre_ping=True, **create_engine_kwargs(url)
        )
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    def _ensure_sender_index(self) -> None:
        """Creates the ``(sender_id, id)`` index the cache check reads."""
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    sa.text(
                        f"CREATE INDEX IF NOT EXISTS {SENDER_ID_INDEX} "
                        "ON events (sender_id, id)"
                    )
                )
        except sa.exc.SQLAlchemyError:
            # Another replica created it at the same moment, or the database
            # refuses: the check still works, only slower.
            logger.warning("tracker store: index %s not created", SENDER_ID_INDEX)

    async def _in_thread(self, function: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, functools.partial(function, *args)
        )

    # ------------------------------------------------------------- reading

    def _newest_event_id(self, sender_id: Text) -> Optional[int]:
        """Returns the id of the conversation's newest stored event (a thread)."""
        with self.session_scope() as session:
            return (
                session.query(sa.func.max(self.SQLEvent.id))
                .filter(self.SQLEvent.sender_id == sender_id)
                .scalar()
            )

    def _load(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """Rasa's ``_retrieve`` for the latest session, run in a worker thread."""
        with self.session_scope() as session:
            rows = self._event_query(
                session, sender_id, fetch_events_from_all_sessions=False
            ).all()
            events = [json.loads(row.data) for row in rows]
        if not (self.domain and events):
            return None
        return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)

    async def _cached(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """Returns the cached tracker if it is still what the database holds."""
        entry = self._cache.get(sender_id)
        if entry is None:
            return None
        tracker, saved_events, newest_id = entry
        # Changed after its last save (e.g. a failed turn): reload from the DB.
        fresh = len(tracker.events) == saved_events
        if fresh and self.shared:
            fresh = newest_id is not None and (
                await self._in_thread(self._newest_event_id, sender_id) == newest_id
            )
        if fresh:
            self._cache.move_to_end(sender_id)
            return tracker
        self._cache.pop(sender_id, None)
        return None

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """Returns the conversation's tracker: from memory when still current."""
        try:
            cached = await self._cached(sender_id)
            if cached is not None:
                return cached
            return await self._in_thread(self._load, sender_id)
        except Exception:
            monitoring.store_fault(sender_id, "ophalen_mislukt")
            logger.error(
                "tracker store: reading conversation %s failed",
                mask_id(sender_id),
                exc_info=True,
            )
            raise

    # -------------------------------------------------------------- writing

    def _row(self, sender_id: Text, event: Event) -> Any:
        data = event.as_dict()
        intent = data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY)
        return self.SQLEvent(
            sender_id=sender_id,
            type_name=event.type_name,
            timestamp=data.get("timestamp"),
            intent_name=intent,
            action_name=data.get("name"),
            data=json.dumps(data),
        )

    def _write(
        self, sender_id: Text, events: List[Event], stored: Optional[int]
    ) -> Optional[int]:
        """Stores the events not yet stored; returns the newest event's id.

        Runs in a worker thread. ``stored`` is how many of ``events`` the
        database already holds (None: count them, as Rasa's store does).
        """
        with self.session_scope() as session:
            if stored is None:
                stored = self._event_query(
                    session, sender_id, fetch_events_from_all_sessions=False
                ).count()
            rows = [self._row(sender_id, e) for e in events[stored:]]
            session.add_all(rows)
            newest: Optional[int] = None
            if self.shared:
                session.flush()
                newest = rows[-1].id if rows else None
                if newest is None:
                    newest = (
                        session.query(sa.func.max(self.SQLEvent.id))
                        .filter(self.SQLEvent.sender_id == sender_id)
                        .scalar()
                    )
            session.commit()
        logger.debug("tracker %s stored", mask_id(sender_id))
        return newest

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Saves the new events to the database, then remembers the tracker.

        A failed write is counted for monitoring, recorded for the channel
        (which tells the user, ``server.channels.guard``) and raised; the
        cached copy is dropped so the next turn reads the database.
        """
        sender_id = tracker.sender_id
        entry = self._cache.get(sender_id)
        stored = entry[1] if entry is not None and entry[0] is tracker else None
        events = list(tracker.events)
        try:
            await self.stream_events(tracker)
            newest = await self._in_thread(self._write, sender_id, events, stored)
        except Exception:
            self._cache.pop(sender_id, None)
            monitoring.store_fault(sender_id, "opslag_mislukt")
            logger.error(
                "tracker store: saving conversation %s failed",
                mask_id(sender_id),
                exc_info=True,
            )
            raise
        sessions = sum(isinstance(e, SessionStarted) for e in events)
        if sessions > 1:
            # A new session began: the DB serves only the latest session, so
            # let the next retrieve read that instead of the whole history.
            self._cache.pop(sender_id, None)
            return
        self._cache[sender_id] = (tracker, len(events), newest)
        self._cache.move_to_end(sender_id)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)


DEFAULT_WAIT_TIME = 0.005


class FastInMemoryLockStore(InMemoryLockStore):
    """In-memory ticket locks with a short polling interval."""

    def __init__(
        self, endpoint_config: Optional[EndpointConfig] = None, **kwargs: Any
    ) -> None:
        """Reads ``wait_time`` (seconds) from the endpoint configuration."""
        super().__init__()
        settings = endpoint_config.kwargs if endpoint_config else {}
        self.wait_time = float(settings.get("wait_time", DEFAULT_WAIT_TIME))

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: Text,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: Optional[float] = None,
    ) -> AsyncGenerator[TicketLock, None]:
        """Acquires the conversation's lock, polling every ``wait_time`` seconds."""
        async with super().lock(
            conversation_id,
            lock_lifetime,
            self.wait_time if wait_time_in_seconds is None else wait_time_in_seconds,
        ) as ticket_lock:
            yield ticket_lock


#: Seconds a ticket of :class:`FastRedisLockStore` lives unless renewed.
DEFAULT_TICKET_LIFETIME = 4.0

#: Seconds between two renewals of a ticket by the replica that holds it.
DEFAULT_RENEW_EVERY = 1.0


class FastRedisLockStore(RedisLockStore):
    """Rasa's Redis ticket locks: atomic, fast hand-over, self-freeing."""

    def __init__(
        self, endpoint_config: Optional[EndpointConfig] = None, **kwargs: Any
    ) -> None:
        """Reads the Redis connection and timings from the endpoint configuration.

        Args:
            endpoint_config: ``lock_store`` of ``endpoints.yml``: ``host`` (or
                ``url``), ``port``, ``db``, ``username``, ``password``,
                ``key_prefix``, ``socket_timeout`` as Rasa's Redis lock store;
                ``wait_time`` (0.005 s), ``ticket_lifetime`` (4 s) and
                ``renew_every`` (1 s).
            kwargs: The same settings as keyword arguments (tests).
        """
        settings: Dict[Text, Any] = (
            dict(endpoint_config.kwargs or {}) if (endpoint_config) else {}
        )
        settings.update(kwargs)
        host = settings.pop("host", None) or (
            endpoint_config.url if endpoint_config and endpoint_config.url else None
        )
        self.wait_time = float(settings.pop("wait_time", DEFAULT_WAIT_TIME))
        self.ticket_lifetime = float(
            settings.pop("ticket_lifetime", DEFAULT_TICKET_LIFETIME)
        )
        self.renew_every = float(settings.pop("renew_every", DEFAULT_RENEW_EVERY))
        socket_timeout = float(settings.pop("socket_timeout", 2))
        connection = {
            "host": host or "localhost",
            "port": int(settings.pop("port", 6379)),
            "db": int(settings.pop("db", 1)),
            "username": settings.pop("username", None),
            "password": settings.pop("password", None) or None,
        }
        super().__init__(
            **connection,
            key_prefix=settings.pop("key_prefix", None),
            socket_timeout=socket_timeout,
        )
        from redis import asyncio as aioredis

        self.ared = aioredis.Redis(
            **connection,
            socket_timeout=socket_timeout,
            socket_connect_timeout=min(socket_timeout, 1.0),
        )
        self._local = FastInMemoryLockStore(EndpointConfig(wait_time=self.wait_time))
        self._held: set = set()
        self._held_lock = threading.Lock()
        self._renewer: Optional[threading.Thread] = None

    # ------------------------------------------------------ atomic updates

    def _updated(
        self, conversation_id: Text, raw: Optional[bytes], change: Callable
    ) -> Tuple[Any, Optional[Text]]:
        """Applies ``change`` to a stored lock; returns its result and new value."""
        lock = (
            TicketLock.from_dict(json.loads(raw))
            if raw
            else TicketLock(conversation_id)
        )
        result = change(lock)
        lock.remove_expired_tickets()
        return result, (lock.dumps() if lock.tickets else None)

    def _queue(self, pipe: Any, key: Text, value: Optional[Text]) -> None:
        pipe.multi()
        if value is not None:
            # The key outlives its last ticket only briefly.
            pipe.set(key, value, ex=max(1, int(3 * self.ticket_lifetime)))
        else:
            pipe.delete(key)

    async def _change(
        self, conversation_id: Text, change: Callable[[TicketLock], T]
    ) -> T:
        """Applies ``change`` to the stored lock atomically (WATCH/MULTI)."""
        from redis.exceptions import WatchError

        key = self.key_prefix + conversation_id
        async with self.ared.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(key)
                    raw = await pipe.get(key)
                    result, value = self._updated(conversation_id, raw, change)
                    self._queue(pipe, key, value)
                    await pipe.execute()
                    return result
                except WatchError:
                    continue

    def _change_in_thread(
        self, conversation_id: Text, change: Callable[[TicketLock], T]
    ) -> T:
        """:meth:`_change` with the synchronous client (the renewing thread)."""
        from redis.exceptions import WatchError

        key = self.key_prefix + conversation_id
        with self.red.pipeline(transaction=True) as pipe:
            while True:
                try:
                    pipe.watch(key)
                    result, value = self._updated(
                        conversation_id, pipe.get(key), change
                    )
                    self._queue(pipe, key, value)
                    pipe.execute()
                    return result
                except WatchError:
                    continue

    async def _issue(self, conversation_id: Text) -> int:
        return await self._change(
            conversation_id, lambda lock: lock.issue_ticket(self.ticket_lifetime)
        )

    def _renewed(self, ticket_number: int) -> Callable[[TicketLock], bool]:
        def renew(lock: TicketLock) -> bool:
            for ticket in lock.tickets:
                if ticket.number == ticket_number:
                    ticket.expires = time.time() + self.ticket_lifetime
                    return True
            return False

        return renew

    # ------------------------------------------------------------- renewing

    def _hold(self, conversation_id: Text, ticket: int) -> None:
        """Renews the ticket from now on, until :meth:`_drop`."""
        with self._held_lock:
            self._held.add((conversation_id, ticket))
            if self._renewer is None or not self._renewer.is_alive():
                self._renewer = threading.Thread(
                    target=self._renew_forever, name="lock-renewer", daemon=True
                )
                self._renewer.start()

    def _drop(self, conversation_id: Text, ticket: int) -> None:
        with self._held_lock:
            self._held.discard((conversation_id, ticket))

    def _renew_forever(self) -> None:
        """Renews every ticket this process waits for or holds, every second.

        A thread, not a task: a busy event loop (a burst of messages) must not
        let a live replica's lock expire, only a dead process should.
        """
        failing = False
        while True:
            time.sleep(self.renew_every)
            with self._held_lock:
                held = list(self._held)
            try:
                for conversation_id, ticket in held:
                    self._change_in_thread(conversation_id, self._renewed(ticket))
                failing = False
            except Exception as error:  # - Redis away: tickets expire by themselves
                if not failing:
                    logger.warning("lock store: renewing tickets failed: %s", error)
                failing = True

    async def _release(self, conversation_id: Text, ticket: int) -> None:
        self._drop(conversation_id, ticket)
        try:
            await self._change(
                conversation_id, lambda lock: lock.remove_ticket_for(ticket)
            )
        except Exception as error:  # - Redis away: the ticket expires by itself
            logger.warning("lock store: releasing a ticket failed: %s", error)

    async def _wait_for_turn(self, conversation_id: Text, ticket: int) -> TicketLock:
        """Polls until ``ticket`` is served; re-queues a ticket Redis lost."""
        while True:
            raw = await self.ared.get(self.key_prefix + conversation_id)
            lock = TicketLock.from_dict(json.loads(raw)) if raw else None
            if lock is not None and not lock.is_locked(ticket):
                return lock
            if lock is None or lock._ticket_for_ticket_number(ticket) is None:
                # Expired while waiting, or Redis restarted empty: queue again.
                raise _TicketLost(ticket)
            await asyncio.sleep(self.wait_time)

    # ----------------------------------------------------------------- lock

    async def _acquire(
        self, conversation_id: Text, lock_lifetime: float
    ) -> Tuple[int, TicketLock]:
        """Queues a ticket (renewed from now on) and waits for its turn."""
        deadline = time.monotonic() + lock_lifetime
        while True:
            ticket = await self._issue(conversation_id)
            self._hold(conversation_id, ticket)
            try:
                return ticket, await self._wait_for_turn(conversation_id, ticket)
            except _TicketLost:
                self._drop(conversation_id, ticket)
                if time.monotonic() > deadline:
                    raise LockError(
                        f"Could not acquire lock for conversation_id "
                        f"'{conversation_id}'."
                    ) from None
            except BaseException:
                self._drop(conversation_id, ticket)
                raise

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: Text,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: Optional[float] = None,
    ) -> AsyncGenerator[TicketLock, None]:
        """Holds the conversation's lock for one turn.

        Waits for its ticket every ``wait_time`` seconds, renews it while
        waiting and working, and frees it afterwards. Without Redis the turn
        runs under an in-process lock (counted, logged).
        """
        from redis.exceptions import RedisError

        try:
            acquired = await self._acquire(conversation_id, lock_lifetime)
        except (RedisError, OSError):
            acquired = None
        if acquired is None:
            monitoring.count(REDIS_DOWN)
            logger.warning(
                "lock store: Redis unreachable, conversation %s uses an "
                "in-process lock",
                mask_id(conversation_id),
            )
            async with self._local.lock(conversation_id, lock_lifetime) as local:
                yield local
            return
        ticket, ticket_lock = acquired
        try:
            yield ticket_lock
        finally:
            await self._release(conversation_id, ticket)


class _TicketLost(Exception):
    """A waiting ticket is gone from Redis (expired, or Redis restarted)."""
