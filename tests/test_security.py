"""The lockdown: closed API, server-issued ids, limits, tokens, no silent loss."""

from __future__ import annotations

import os
import stat
from typing import Any, List

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage

from actions import config as action_config
from actions.__main__ import authorized, build_app, is_loopback
from actions.conversation import SLOT_HANDOFF_AT, ActionCustomerService
from faq.reply import ALL_SOURCES_PAYLOAD, GREETING_PAYLOAD
from server import limits, monitoring, sessions
from server import settings as server_settings
from server.__main__ import StartError, locked_down_args
from server.channels.guard import (
    NOT_STORED_TEXT,
    WholeMessageCollector,
    handle_guarded,
    metadata_problem,
    user_text,
)
from server.channels.rest import FaqRestInput
from server.stores import CachedSQLTrackerStore
from tests.helpers import (
    looks_dutch,
    looks_dutch_error,
    make_tracker,
    serve_app,
    serve_sanic,
)

SECRET = "s" * 40

# --------------------------------------------------------------- the Rasa API


def test_the_api_stays_closed_without_enable_api():
    args = locked_down_args(["run", "--model", "m.tar.gz"], jwt_secret=None)
    assert "--enable-api" not in args and "--jwt-secret" not in args


@pytest.mark.parametrize("secret", [None, "", "kort"])
def test_enable_api_needs_a_long_jwt_secret(secret, capsys):
    with pytest.raises(StartError):
        locked_down_args(["run", "--enable-api"], jwt_secret=secret)
    assert "RASA_JWT_SECRET" in capsys.readouterr().err


def test_enable_api_gets_jwt_in_the_header_only():
    args = locked_down_args(["run", "--enable-api"], jwt_secret=SECRET)
    assert args[-4:] == ["--jwt-secret", SECRET, "--jwt-method", "HS256"]


@pytest.mark.parametrize(
    "extra", [["--auth-token", "x"], ["--auth-token=x"], ["--jwt-secret", SECRET]]
)
def test_query_string_tokens_and_secrets_on_the_command_line_are_refused(extra, capsys):
    with pytest.raises(StartError):
        locked_down_args(["run", "--enable-api", *extra], jwt_secret=SECRET)
    assert "FOUT" in capsys.readouterr().err


# ------------------------------------------------------------ the action server


def test_the_action_server_binds_loopback_by_default():
    assert action_config.HOST == "127.0.0.1" or not os.environ.get("ACTIONS_HOST")
    assert is_loopback("127.0.0.1") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")


class _Req:
    def __init__(self, path: str, header: str | None) -> None:
        self.path = path
        self.headers = {"authorization": header} if header else {}


@pytest.mark.parametrize(
    "path, header, ok",
    [
        ("/webhook", "Bearer goed", True),
        ("/webhook", "Bearer fout", False),
        ("/webhook", None, False),
        ("/webhook", "goed", False),
        ("/actions", None, False),
        ("/health", None, True),
    ],
)
def test_the_action_server_checks_the_shared_token(path, header, ok):
    assert authorized(_Req(path, header), "goed") is ok


async def test_a_forged_action_call_gets_a_dutch_401(monkeypatch):
    from sanic import Sanic

    monkeypatch.setattr(Sanic, "test_mode", True)
    app = build_app(token="goed")
    async with serve_sanic(app) as url:
        async with aiohttp.ClientSession() as session:
            body = {"next_action": "action_medewerker", "sender_id": "whatsapp:+316"}
            async with session.post(f"{url}/webhook", json=body) as response:
                assert response.status == 401
                assert looks_dutch_error((await response.json())["error"])
            async with session.get(f"{url}/health") as response:
                assert response.status == 200


# ----------------------------------------------------------- conversation ids


class EchoRasa:
    def __init__(self) -> None:
        self.received: List[UserMessage] = []

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message)
        await message.output_channel.send_response(
            message.sender_id,
            {"text": "Dit is het antwoord.", "custom": {"topic": "groet"}},
        )


@pytest.fixture
async def rest(monkeypatch):
    monkeypatch.setattr(server_settings, "REST_TOKEN", "koppeling-token")
    monkeypatch.setattr(limits, "_limits", limits.RateLimits(5, 3))
    rasa = EchoRasa()
    async with serve_app(FaqRestInput().blueprint(rasa), "/webhooks/rest") as url:
        yield f"{url}/webhooks/rest/webhook", rasa


async def post(url: str, body: Any, headers: Any = None):
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json=body, headers=headers or {}) as response:
            return response.status, await response.json(), response.headers


async def test_rest_issues_a_session_and_continues_it(rest):
    url, rasa = rest
    status, first, headers = await post(url, {"message": "hoi"})
    assert status == 200
    session_id = first[0]["recipient_id"]
    assert headers["X-Session-Id"] == session_id
    status, second, _ = await post(url, {"message": "meer", "sender": session_id})
    assert status == 200 and second[0]["recipient_id"] == session_id
    ids = {m.sender_id for m in rasa.received}
    assert len(ids) == 1 and ids.pop().startswith("rest:")


async def test_two_clients_without_sender_get_different_conversations(rest):
    url, rasa = rest
    _, a, _ = await post(url, {"message": "hoi"})
    _, b, _ = await post(url, {"message": "hoi"})
    assert a[0]["recipient_id"] != b[0]["recipient_id"]
    assert rasa.received[0].sender_id != rasa.received[1].sender_id
    assert "default" not in {m.sender_id for m in rasa.received}


@pytest.mark.parametrize(
    "sender",
    [
        "whatsapp:+31612345678",
        "default",
        "socketio:abc",
        sessions.issue("socketio")[0],  # another channel's real id
    ],
)
async def test_rest_never_accepts_an_id_it_did_not_issue(rest, sender):
    url, rasa = rest
    status, body, _ = await post(url, {"message": "vertel meer", "sender": sender})
    assert status == 403
    assert looks_dutch_error(body["error"])
    assert rasa.received == []


async def test_an_integration_names_its_own_namespaced_conversations(rest):
    url, rasa = rest
    headers = {"Authorization": "Bearer koppeling-token"}
    status, body, _ = await post(
        url, {"message": "hoi", "sender": "whatsapp:+31612345678"}, headers
    )
    assert status == 200
    assert rasa.received[0].sender_id == "rest-api:whatsapp:+31612345678"
    status, _, _ = await post(
        url, {"message": "hoi", "sender": "x"}, {"Authorization": "Bearer fout"}
    )
    assert status == 401


async def test_a_flood_meets_a_dutch_429(rest):
    url, rasa = rest
    monitoring.reset()
    _, first, _ = await post(url, {"message": "hoi"})
    session_id = first[0]["recipient_id"]
    statuses = []
    for _ in range(4):
        status, body, _ = await post(url, {"message": "hoi", "sender": session_id})
        statuses.append(status)
    assert statuses[:2] == [200, 200] and statuses[-1] == 429  # 3 per conversation
    assert looks_dutch_error(body["error"])
    # Per IP (5 a minute): new conversations from the same address are refused too.
    for _ in range(3):
        status, body, _ = await post(url, {"message": "hoi"})
    assert status == 429
    counters = monitoring.snapshot()["counters"]
    assert counters["te_veel_berichten:conversation"] >= 1
    assert counters["te_veel_berichten:ip"] >= 1


# ------------------------------------------------------------- input filters


@pytest.mark.parametrize(
    "typed, passed",
    [
        ("/medewerker", "medewerker"),
        ('/medewerker{"a": 1}', 'medewerker{"a": 1}'),
        ("//restart", "restart"),
        ("/nlu_fallback", "nlu_fallback"),
        ("/vitamine_k2", "/vitamine_k2"),  # a button of the assistant
        (ALL_SOURCES_PAYLOAD, ALL_SOURCES_PAYLOAD),
        (GREETING_PAYLOAD, GREETING_PAYLOAD),
        ("wat doet vitamine d", "wat doet vitamine d"),
    ],
)
def test_typed_intents_only_for_the_assistants_own_buttons(typed, passed):
    assert user_text(typed) == passed


def test_metadata_is_capped():
    assert metadata_problem({"a": 1}) is None
    assert "groot" in metadata_problem({"x": "a" * 100_000})
    assert metadata_problem([1]) is not None


# ------------------------------------------------- handoff at most once a period


async def test_handoff_at_most_once_per_period(dispatcher, monkeypatch):
    posted = []

    async def fake_hand_off(tracker):
        posted.append(tracker.sender_id)
        return True

    monkeypatch.setattr("actions.conversation.hand_off", fake_hand_off)
    action = ActionCustomerService()
    first = await action.run(dispatcher, make_tracker("medewerker"), {})
    assert posted == ["test-user"]
    stamp = first[0]
    assert isinstance(stamp, dict) and stamp["name"] == SLOT_HANDOFF_AT

    again = make_tracker("medewerker", slots={SLOT_HANDOFF_AT: stamp["value"]})
    assert await action.run(dispatcher, again, {}) == []
    assert posted == ["test-user"]  # no second transcript
    assert len(dispatcher.messages) == 2  # but the user got the details twice

    later = make_tracker("medewerker", slots={SLOT_HANDOFF_AT: stamp["value"] - 3600})
    assert len(await action.run(dispatcher, later, {})) == 1
    assert posted == ["test-user", "test-user"]


# ----------------------------------------------------- nothing lost silently


async def test_a_failed_store_write_tells_the_user_and_monitoring():
    monitoring.reset()

    async def answers_then_fails(message: UserMessage) -> None:
        await message.output_channel.send_response(
            message.sender_id, {"text": "Antwoord.", "custom": {"topic": "groet"}}
        )
        raise OSError("attempt to write a readonly database")

    collector = WholeMessageCollector()
    messages = await handle_guarded(
        answers_then_fails, UserMessage("hoi", collector, "rest:abc"), collector
    )
    assert [m["text"] for m in messages] == ["Antwoord.", NOT_STORED_TEXT]
    assert messages[1]["custom"]["reason"] == "storing:niet_bewaard"
    assert looks_dutch(NOT_STORED_TEXT)
    snapshot = monitoring.snapshot()
    assert snapshot["counters"]["opslag_mislukt"] == 1
    assert snapshot["status"] == "degraded"


async def test_the_sql_store_counts_and_raises_a_failed_write(tmp_path, monkeypatch):
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

    from tests.helpers import ROOT

    monitoring.reset()
    domain = Domain.load(str(ROOT / "domain.yml"))
    store = CachedSQLTrackerStore(
        domain=domain, dialect="sqlite", db=str(tmp_path / "db" / "tracker.db")
    )
    tracker = DialogueStateTracker("rest:abc", domain.slots)

    def broken(*args, **kwargs):
        raise OSError("disk I/O error")

    monkeypatch.setattr(store, "session_scope", broken)
    with pytest.raises(OSError):
        await store.save(tracker)
    assert monitoring.snapshot()["counters"]["opslag_mislukt"] == 1


def test_the_sqlite_file_and_its_folder_are_private(tmp_path):
    from rasa.shared.core.domain import Domain

    from tests.helpers import ROOT

    db = tmp_path / "var" / "tracker.db"
    CachedSQLTrackerStore(
        domain=Domain.load(str(ROOT / "domain.yml")), dialect="sqlite", db=str(db)
    )
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700


async def test_a_store_fault_swallowed_by_rasa_still_reaches_the_user():
    """Rasa's FailSafeTrackerStore hides store errors; the guard does not."""
    monitoring.reset()

    async def answers_after_a_swallowed_fault(message: UserMessage) -> None:
        monitoring.store_fault(message.sender_id, "ophalen_mislukt")
        await message.output_channel.send_response(
            message.sender_id, {"text": "Antwoord.", "custom": {"topic": "groet"}}
        )

    collector = WholeMessageCollector()
    messages = await handle_guarded(
        answers_after_a_swallowed_fault,
        UserMessage("vertel meer", collector, "rest:xyz"),
        collector,
    )
    assert messages[-1]["text"] == NOT_STORED_TEXT
    assert monitoring.snapshot()["counters"] == {"ophalen_mislukt": 1}
    assert monitoring.take_store_fault("rest:xyz") is False  # reported once
