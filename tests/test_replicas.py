"""Several Rasa replicas share conversations, locks, limits and sessions safely.

Two store, limiter or channel objects stand for two replicas. The tracker
store tests need nothing else (SQLite); the rest run against a throwaway
``redis-server`` of their own (marked ``stack``: ``make test-stack`` installs
Redis first).
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import threading
import time

import pytest
import redis
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Sanic

from server import limits, monitoring
from server.channels import socketio as socketio_channel
from server.stores import CachedSQLTrackerStore, FastRedisLockStore
from tests.helpers import ROOT


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


def _start(sender: str, domain: Domain) -> DialogueStateTracker:
    events = [ActionExecuted("action_session_start"), SessionStarted()]
    events += [ActionExecuted("action_listen")]
    return DialogueStateTracker.from_events(sender, events, domain.slots)


def _turn(tracker: DialogueStateTracker, text: str) -> None:
    tracker.update(UserUttered(text, {"name": "vitamine_k2", "confidence": 1.0}))
    tracker.update(ActionExecuted("action_answer_topic"))
    tracker.update(ActionExecuted("action_listen"))


def _texts(tracker: DialogueStateTracker) -> list:
    return [e.text for e in tracker.events if isinstance(e, UserUttered)]


# ------------------------------------------------------------ tracker store


@pytest.fixture
def replicas(tmp_path, domain):
    db = str(tmp_path / "tracker.db")

    def make(shared: bool) -> CachedSQLTrackerStore:
        return CachedSQLTrackerStore(
            domain=domain, dialect="sqlite", db=db, shared=shared
        )

    return make


async def test_a_replica_never_serves_a_conversation_another_replica_moved_on(
    replicas, domain
):
    first, second = replicas(True), replicas(True)
    tracker = _start("rest:gedeeld", domain)
    _turn(tracker, "vraag op replica 1")
    await first.save(tracker)

    # The next turn lands on the other replica, which reads the database ...
    other = await second.retrieve("rest:gedeeld")
    assert _texts(other) == ["vraag op replica 1"]
    _turn(other, "vraag op replica 2")
    await second.save(other)

    # ... so the first replica's cached tracker is stale and must not be used.
    again = await first.retrieve("rest:gedeeld")
    assert again is not tracker
    assert _texts(again) == ["vraag op replica 1", "vraag op replica 2"]


async def test_an_unchanged_conversation_is_still_served_from_memory(replicas, domain):
    store = replicas(True)
    tracker = _start("rest:cache", domain)
    _turn(tracker, "eerste vraag")
    await store.save(tracker)
    assert await store.retrieve("rest:cache") is tracker
    _turn(tracker, "tweede vraag")
    await store.save(tracker)
    assert await store.retrieve("rest:cache") is tracker


async def test_without_sharing_a_replica_would_serve_the_stale_tracker(
    replicas, domain
):
    # The reason for the check: the single-process cache (make run) trusts itself.
    first, second = replicas(False), replicas(False)
    tracker = _start("rest:oud", domain)
    _turn(tracker, "vraag 1")
    await first.save(tracker)
    other = await second.retrieve("rest:oud")
    _turn(other, "vraag 2")
    await second.save(other)
    assert await first.retrieve("rest:oud") is tracker


def test_sqlite_is_not_shared_by_default_and_a_server_database_is(tmp_path, domain):
    store = CachedSQLTrackerStore(
        domain=domain, dialect="sqlite", db=str(tmp_path / "t.db")
    )
    assert store.shared is False
    assert store._executor._max_workers == 1  # SQLite writers take turns


# -------------------------------------------------------------------- Redis


@pytest.fixture(scope="module")
def redis_url():
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (make test-stack installs it)")
    port = _free_port()
    process = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--protected-mode",
            "yes",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=10)


def _lock_store(url: str, **kwargs) -> FastRedisLockStore:
    port = int(url.rsplit(":", 1)[1])
    return FastRedisLockStore(host="127.0.0.1", port=port, db=1, **kwargs)


@pytest.mark.stack
async def test_two_replicas_take_turns_in_order_and_hand_over_fast(redis_url):
    first, second = _lock_store(redis_url), _lock_store(redis_url)
    order, inside = [], []

    async def turn(store, name, hold, after=0.0):
        await asyncio.sleep(after)  # arrives second: tickets are first come
        async with store.lock("rest:samen"):
            inside.append(name)
            assert len(inside) == 1, inside  # never two at once
            order.append(name)
            await asyncio.sleep(hold)
            inside.remove(name)
        return time.monotonic()

    started = time.monotonic()
    _, done = await asyncio.gather(
        turn(first, "replica 1", 0.1), turn(second, "replica 2", 0.0, after=0.03)
    )
    # Rasa's lock stores poll once per second; ours hand over within ms.
    assert order == ["replica 1", "replica 2"]
    assert done - started < 0.5  # Rasa's stores: at least 1 s


@pytest.mark.stack
async def test_many_turns_from_two_replicas_never_overlap(redis_url):
    stores = [_lock_store(redis_url), _lock_store(redis_url)]
    inside, served = [], []

    async def turn(n):
        async with stores[n % 2].lock("rest:druk"):
            inside.append(n)
            assert len(inside) == 1, inside
            await asyncio.sleep(0.002)
            inside.remove(n)
            served.append(n)

    await asyncio.gather(*(turn(n) for n in range(30)))
    assert sorted(served) == list(range(30))


@pytest.mark.stack
async def test_the_lock_of_a_killed_replica_frees_itself(redis_url):
    dead = _lock_store(redis_url, ticket_lifetime=0.5)
    alive = _lock_store(redis_url, ticket_lifetime=0.5)
    # The dead replica took a ticket and died: nobody renews or releases it.
    await dead._issue("rest:wees")

    started = time.monotonic()
    async with alive.lock("rest:wees"):
        waited = time.monotonic() - started
    assert waited < 1.5  # Rasa's tickets would block for 60 s


@pytest.mark.stack
async def test_a_held_ticket_is_renewed_so_a_long_turn_keeps_its_lock(redis_url):
    first = _lock_store(redis_url, ticket_lifetime=0.4, renew_every=0.1)
    second = _lock_store(redis_url, ticket_lifetime=0.4, renew_every=0.1)
    order = []

    async def long_turn():
        async with first.lock("rest:lang"):
            order.append("lang begint")
            await asyncio.sleep(1.0)  # longer than the ticket lifetime
            order.append("lang klaar")

    async def next_turn():
        await asyncio.sleep(0.05)
        async with second.lock("rest:lang"):
            order.append("volgende")

    await asyncio.gather(long_turn(), next_turn())
    assert order == ["lang begint", "lang klaar", "volgende"]


@pytest.mark.stack
async def test_a_busy_event_loop_does_not_lose_its_lock(redis_url):
    # Under a burst the replica's event loop may be busy for seconds; only a
    # dead process may lose its lock, else two replicas run one conversation.
    first = _lock_store(redis_url, ticket_lifetime=0.4, renew_every=0.1)
    order = []

    def other_replica():
        async def turn():
            second = _lock_store(redis_url, ticket_lifetime=0.4, renew_every=0.1)
            async with second.lock("rest:bezig"):
                order.append("andere replica")

        asyncio.run(turn())

    async with first.lock("rest:bezig"):
        other = threading.Thread(target=other_replica)
        other.start()
        time.sleep(1.2)  # blocks this event loop, three ticket lifetimes long
        order.append("eerste klaar")
    other.join(timeout=10)
    assert order == ["eerste klaar", "andere replica"]


@pytest.mark.stack
async def test_without_redis_a_turn_still_runs_and_monitoring_sees_it():
    monitoring.reset()
    store = FastRedisLockStore(host="127.0.0.1", port=_free_port(), socket_timeout=0.5)
    async with store.lock("rest:zonder-redis"):
        pass
    snapshot = monitoring.snapshot()
    assert snapshot["counters"]["redis_onbereikbaar"] == 1
    assert snapshot["status"] == "degraded"


@pytest.mark.stack
async def test_replicas_share_the_rate_limit_counters(redis_url):
    first = limits.RateLimits(0, 3, f"{redis_url}/2")
    second = limits.RateLimits(0, 3, f"{redis_url}/2")
    assert await first.allow(conversation="rest:teller")
    assert await second.allow(conversation="rest:teller")
    assert await first.allow(conversation="rest:teller")
    # Per replica this would be the 2nd message; together it is the 4th.
    assert not await second.allow(conversation="rest:teller")
    assert await second.allow(conversation="rest:ander")


@pytest.mark.stack
async def test_without_the_counter_store_messages_are_allowed_and_counted():
    monitoring.reset()
    limiter = limits.RateLimits(1, 1, f"redis://127.0.0.1:{_free_port()}/2")
    assert await limiter.allow(ip="127.0.0.9", conversation="rest:x")
    assert await limiter.allow(ip="127.0.0.9", conversation="rest:x")
    assert monitoring.snapshot()["counters"]["redis_onbereikbaar"] == 2


# ------------------------------------------------------- socket.io holders


@pytest.mark.stack
async def test_one_connection_per_session_across_replicas(redis_url, monkeypatch):
    import socketio

    from tests.test_socketio_channel import PAGE_ORIGIN, WAIT, FakeRasa

    monkeypatch.setattr(Sanic, "test_mode", True)
    monkeypatch.setattr(socketio_channel.server_settings, "REDIS_URL", f"{redis_url}/0")
    rasa = FakeRasa()
    servers, urls = [], []
    for _ in range(2):
        channel = socketio_channel.FaqSocketIOInput.from_credentials(
            {"session_persistence": True}
        )
        app = Sanic(f"replica_{_free_port()}")
        app.blueprint(channel.blueprint(rasa))
        port = _free_port()
        srv = await app.create_server(
            host="127.0.0.1", port=port, return_asyncio_server=True
        )
        await srv.startup()
        servers.append((srv, asyncio.ensure_future(srv.serve_forever())))
        urls.append(f"http://127.0.0.1:{port}")

    async def client(url):
        sio = socketio.AsyncClient(reconnection=False)
        bot, confirm = asyncio.Queue(), asyncio.Queue()
        sio.on("bot_uttered", bot.put)
        sio.on("session_confirm", confirm.put)
        await sio.connect(
            url,
            headers={"Origin": PAGE_ORIGIN},
            transports=["polling"],
            wait_timeout=WAIT,
        )
        return sio, bot, confirm

    first, first_bot, first_confirm = await client(urls[0])
    second, second_bot, second_confirm = await client(urls[1])
    try:
        await first.emit("session_request", {"session_id": None})
        session_id = await asyncio.wait_for(first_confirm.get(), WAIT)
        # The page is reloaded and lands on the other replica: it takes over.
        await second.emit("session_request", {"session_id": session_id})
        assert await asyncio.wait_for(second_confirm.get(), WAIT) == session_id

        # The old connection no longer speaks for that conversation: its next
        # message starts a session of its own, as on a single replica.
        await first.emit("user_uttered", {"message": "oud tabblad"})
        new_session = await asyncio.wait_for(first_confirm.get(), WAIT)
        assert new_session != session_id
        await asyncio.wait_for(first_bot.get(), WAIT)
        await second.emit("user_uttered", {"message": "nieuw tabblad"})
        await asyncio.wait_for(second_bot.get(), WAIT)
        by_text = {m.text: m.sender_id for m in rasa.received}
        conversation = "socketio:" + session_id.split(".")[0]
        assert by_text["nieuw tabblad"] == conversation
        assert by_text["oud tabblad"] != conversation
    finally:
        await first.disconnect()
        await second.disconnect()
        for srv, serving in servers:
            serving.cancel()
            await srv.close()
