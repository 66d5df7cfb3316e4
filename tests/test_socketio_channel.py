"""The widget's socket.io channel, over a real socket.io connection (no model).

A Sanic app serves ``server.channels.socketio.FaqSocketIOInput`` on a free port with a
fake Rasa message handler; python-socketio's client plays the widget.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any, Awaitable, Callable, Dict, List

import pytest
import requests
import socketio
from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from server import sessions
from server import settings as config
from server.channels.guard import APOLOGY_TEXT, EMPTY_TEXT
from server.channels.socketio import (
    DEFAULT_CORS_ORIGINS,
    FaqSocketIOInput,
    join_room,
    parse_cors_origins,
    widget_message,
    widget_text,
)

PAGE_ORIGIN = "http://127.0.0.1:8080"
WAIT = 10.0

# ---------------------------------------------------------------- pure functions


def test_widget_text_cannot_form_links_images_code_or_html():
    text = (
        "[x](javascript:alert(1)) ![i](http://e/x.png) <javascript://%0aalert(2)> "
        "<img src=x> `c` \\[ &lt; Uwitonze & Razzaque"
    )
    assert widget_text(text) == (
        "\\[x](javascript:alert(1)) !\\[i](http://e/x.png) "
        "&lt;javascript://%0aalert(2)> &lt;img src=x> \\`c\\` \\\\\\[ "
        "&amp;lt; Uwitonze &amp; Razzaque"
    )


def test_widget_text_keeps_single_line_breaks_and_paragraphs():
    assert widget_text("a\nb\n\nc") == "a  \nb\n\nc"


def test_a_message_with_buttons_is_one_quick_reply_event_with_its_topic():
    event = widget_message(
        {
            "text": "Antwoord.\n\nBronnen: [3] Uwitonze & Razzaque (2018).",
            "buttons": [
                {"title": "Vitamine K2", "payload": "/vitamine_k2"},
                {"title": "Artikel", "url": "https://example.org/a"},
                {"title": "Slecht", "url": "javascript:alert(1)", "payload": "/x"},
            ],
            "custom": {"topic": "magnesium_activeert_vitamine_d", "sources": [3]},
        }
    )
    assert event == {
        "text": "Antwoord.\n\nBronnen: \\[3] Uwitonze &amp; Razzaque (2018).",
        "quick_replies": [
            {"content_type": "text", "title": "Vitamine K2", "payload": "/vitamine_k2"},
            {"type": "web_url", "title": "Artikel", "url": "https://example.org/a"},
            {"content_type": "text", "title": "Slecht", "payload": "/x"},
        ],
        "metadata": {
            "custom": {"topic": "magnesium_activeert_vitamine_d", "sources": [3]}
        },
    }


def test_text_only_and_invisible_messages():
    assert widget_message({"text": "Hoi", "custom": {"topic": "groet"}}) == {
        "text": "Hoi",
        "metadata": {"custom": {"topic": "groet"}},
    }
    assert widget_message({"custom": {"topic": "groet"}}) is None
    assert widget_message({"image": "https://e/x.png"}) == {
        "attachment": {"type": "image", "payload": {"src": "https://e/x.png"}}
    }


@pytest.mark.parametrize(
    "value, expected",
    [
        (None, list(DEFAULT_CORS_ORIGINS)),
        ("*", "*"),
        ("https://a.nl/, https://b.nl", ["https://a.nl", "https://b.nl"]),
        (["https://a.nl", "*"], "*"),
        ([], None),
    ],
)
def test_cors_origins(value, expected):
    assert parse_cors_origins(value) == expected


def test_session_ids_are_issued_signed_and_namespaced():
    session_id, conversation_id = sessions.issue("socketio")
    assert conversation_id.startswith("socketio:")
    assert sessions.conversation_of("socketio", session_id) == conversation_id
    # Another channel's id, an altered one, or a made-up one is not accepted.
    assert sessions.conversation_of("rest", session_id) is None
    token, signature = session_id.split(".")
    assert sessions.conversation_of("socketio", f"{token}.{'0' * 32}") is None
    assert sessions.conversation_of("socketio", "whatsapp:+31612345678") is None
    assert sessions.conversation_of("socketio", None) is None
    assert sessions.conversation_of("socketio", 12) is None


class _SyncRooms:
    """enter_room as in python-socketio < 5.10."""

    def __init__(self) -> None:
        self.rooms: List[Any] = []

    def enter_room(self, sid, room, namespace=None):
        self.rooms.append((sid, room, namespace))


class _AsyncRooms(_SyncRooms):
    """enter_room as in python-socketio >= 5.10 (a coroutine)."""

    async def enter_room(self, sid, room, namespace=None):
        await asyncio.sleep(0)
        self.rooms.append((sid, room, namespace))


@pytest.mark.parametrize("server_class", [_SyncRooms, _AsyncRooms])
async def test_join_room_works_with_sync_and_coroutine_enter_room(server_class):
    server = server_class()
    await join_room(server, "sid1", "sessie", "/")
    assert server.rooms == [("sid1", "sessie", "/")]


# ------------------------------------------------------------ real socket.io


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FakeRasa:
    """Stands in for Rasa's message handler."""

    def __init__(self) -> None:
        self.received: List[UserMessage] = []
        self.delay = 0.0
        self.silent = False

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.silent:
            return
        await message.output_channel.send_response(
            message.sender_id,
            {
                "text": f"Je zei: {message.text}",
                "buttons": [{"title": "Meer", "payload": "/meer"}],
                "custom": {"topic": "groet", "sources": []},
            },
        )


@pytest.fixture
async def server(monkeypatch):
    # As sanic.testing does: lets Sanic start more than one app per process.
    monkeypatch.setattr(Sanic, "test_mode", True)
    rasa = FakeRasa()
    channel = FaqSocketIOInput.from_credentials(
        {"session_persistence": True, "metadata_key": "customData"}
    )
    app = Sanic(f"socketio_test_{_free_port()}")
    app.blueprint(channel.blueprint(rasa))
    port = _free_port()
    srv = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True
    )
    await srv.startup()
    serving = asyncio.ensure_future(srv.serve_forever())
    yield f"http://127.0.0.1:{port}", rasa
    serving.cancel()
    await srv.close()


async def _client(
    url: str, on_bot: Callable[[Dict[str, Any]], Awaitable[None]] | None = None
) -> tuple[socketio.AsyncClient, asyncio.Queue, asyncio.Queue]:
    client = socketio.AsyncClient(reconnection=False)
    bot: asyncio.Queue = asyncio.Queue()
    confirm: asyncio.Queue = asyncio.Queue()
    client.on("bot_uttered", bot.put)
    client.on("session_confirm", confirm.put)
    # Polling only: python-engineio 4.15's websocket client needs aiohttp >= 3.10.
    await client.connect(
        url, headers={"Origin": PAGE_ORIGIN}, transports=["polling"], wait_timeout=WAIT
    )
    return client, bot, confirm


async def test_a_session_has_one_connection_and_each_reply_is_whole(server):
    url, rasa = server
    first, first_bot, first_confirm = await _client(url)
    second, second_bot, second_confirm = await _client(url)
    try:
        await first.emit("session_request", {"session_id": None})
        session_id = await asyncio.wait_for(first_confirm.get(), WAIT)
        conversation_id = sessions.conversation_of("socketio", session_id)
        assert conversation_id is not None

        await first.emit("user_uttered", {"message": " hallo ", "customData": {"a": 1}})
        expected = {
            "text": "Je zei: hallo",
            "quick_replies": [
                {"content_type": "text", "title": "Meer", "payload": "/meer"}
            ],
            "metadata": {"custom": {"topic": "groet", "sources": []}},
        }
        assert await asyncio.wait_for(first_bot.get(), WAIT) == expected
        message = rasa.received[0]
        assert (message.sender_id, message.metadata) == (conversation_id, {"a": 1})
        assert message.input_channel == "socketio"

        # A reload: a new socket continues the stored session and takes it over;
        # the old connection no longer receives its replies.
        await second.emit("session_request", {"session_id": session_id})
        assert await asyncio.wait_for(second_confirm.get(), WAIT) == session_id
        await second.emit("user_uttered", {"message": "verder"})
        assert (await asyncio.wait_for(second_bot.get(), WAIT))["text"] == (
            "Je zei: verder"
        )
        assert rasa.received[1].sender_id == conversation_id
        await asyncio.sleep(0.3)
        assert first_bot.empty()
    finally:
        await first.disconnect()
        await second.disconnect()


async def test_a_made_up_or_foreign_session_id_gets_a_new_session(server):
    url, rasa = server
    client, bot, confirm = await _client(url)
    try:
        for claimed in ("whatsapp:+31612345678", "abc", {"x": 1}):
            await client.emit("session_request", {"session_id": claimed})
            issued = await asyncio.wait_for(confirm.get(), WAIT)
            assert issued != claimed
            assert sessions.conversation_of("socketio", issued)
        # A session_id inside a message is ignored: the bound session counts.
        await client.emit(
            "user_uttered", {"message": "hoi", "session_id": "whatsapp:+316"}
        )
        await asyncio.wait_for(bot.get(), WAIT)
        assert rasa.received[-1].sender_id == sessions.conversation_of(
            "socketio", issued
        )
    finally:
        await client.disconnect()


async def test_empty_message_gets_a_dutch_reply_without_asking_rasa(server):
    url, rasa = server
    client, bot, _ = await _client(url)
    try:
        await client.emit("user_uttered", {"message": "   ", "session_id": "s1"})
        event = await asyncio.wait_for(bot.get(), WAIT)
        assert event["text"] == EMPTY_TEXT
        assert event["metadata"]["custom"]["topic"] == "fallback"
        assert rasa.received == []
    finally:
        await client.disconnect()


async def test_message_without_session_id_is_answered_on_its_socket(server):
    url, _ = server
    client, bot, _ = await _client(url)
    try:
        await client.emit("user_uttered", {"message": "hoi"})
        assert (await asyncio.wait_for(bot.get(), WAIT))["text"] == "Je zei: hoi"
    finally:
        await client.disconnect()


@pytest.mark.parametrize("mode", ["slow", "silent"])
async def test_slow_or_silent_rasa_gets_the_dutch_apology(server, monkeypatch, mode):
    url, rasa = server
    monkeypatch.setattr(config, "REPLY_TIMEOUT_SECONDS", 0.5)
    rasa.delay, rasa.silent = (3.0, False) if mode == "slow" else (0.0, True)
    client, bot, _ = await _client(url)
    try:
        await client.emit("user_uttered", {"message": "hoi", "session_id": "s2"})
        event = await asyncio.wait_for(bot.get(), WAIT)
        assert event["text"] == APOLOGY_TEXT
        assert event["metadata"]["custom"]["topic"] == "fallback"
    finally:
        await client.disconnect()


async def test_only_configured_page_origins_may_connect(server):
    url, _ = server
    polling = f"{url}/socket.io/?EIO=4&transport=polling"

    def get(origin: str) -> requests.Response:
        return requests.get(polling, headers={"Origin": origin}, timeout=WAIT)

    allowed = await asyncio.to_thread(get, PAGE_ORIGIN)
    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == PAGE_ORIGIN
    denied = await asyncio.to_thread(get, "http://evil.example")
    assert denied.status_code == 400
    assert "Access-Control-Allow-Origin" not in denied.headers


# ------------------------------------------------------------ bad-input matrix

from tests.badinput import CASES, MISSING  # noqa: E402
from tests.helpers import looks_dutch  # noqa: E402

SOCKET_CASES = [c for c in CASES if c.method == "POST" and not c.suffix]


async def test_every_bad_input_gets_a_dutch_reply_over_socketio(server, monkeypatch):
    url, rasa = server
    from server import limits

    monkeypatch.setattr(limits, "_limits", limits.RateLimits(0, 0))
    client, bot, confirm = await _client(url)
    try:
        await client.emit("session_request", {"session_id": None})
        await asyncio.wait_for(confirm.get(), WAIT)
        for case in SOCKET_CASES:
            if case.raw is not None:
                data: Any = case.raw.decode("utf-8", "replace")[:5000]
            else:
                data = dict(case.extra)
                if case.text is not MISSING:
                    data["message"] = case.text
            await client.emit("user_uttered", data)
            event = await asyncio.wait_for(bot.get(), WAIT)
            # The fake Rasa echoes ("Je zei: ..."); the channel's own replies are Dutch.
            assert event["text"].startswith("Je zei:") or looks_dutch(event["text"]), (
                case.name,
                event,
            )
            assert event["metadata"]["custom"]["topic"], case.name
        assert client.connected
        for message in rasa.received:
            assert message.sender_id.startswith("socketio:")
            assert not message.text.startswith("/")
    finally:
        await client.disconnect()
