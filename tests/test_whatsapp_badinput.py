"""The bad-input matrix (tests/badinput.py) against both WhatsApp webhooks.

Each case is put into the provider's own request shape (Meta: a JSON webhook
payload, Twilio: a form) and sent correctly signed, so it reaches the parser
and the bot, and once more unsigned. Every answer must be a Dutch 4xx, or a
200 after which every message sent to the user is Dutch; never a 5xx. The
server keeps serving, and no reply goes to a number that did not write.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import parse_qs, urlencode

import aiohttp
import pytest

from server import limits, monitoring
from tests.badinput import CASES, MISSING, Case
from tests.helpers import looks_dutch, looks_dutch_error
from tests.test_whatsapp_meta import APP_SECRET
from tests.test_whatsapp_meta import make_channel as meta_channel
from tests.test_whatsapp_twilio import AUTH_TOKEN, user_form
from tests.test_whatsapp_twilio import make_channel as twilio_channel
from tests.whatsapp_fakes import (
    USER_DIGITS,
    FakeBot,
    FakeGraph,
    FakeTwilio,
    meta_message,
    meta_payload,
    meta_signature,
    serve,
    shown_text,
    twilio_signature,
)

DUTCH_BOT = [
    {"text": "Dit is het antwoord van de assistent.", "custom": {"topic": "groet"}}
]


@pytest.fixture(autouse=True)
def no_rate_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "_limits", limits.RateLimits(0, 0))
    monitoring.reset()


def _as_field(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def meta_body(case: Case) -> bytes:
    """The case as a Cloud API webhook payload."""
    if case.raw is not None:
        return case.raw
    message = meta_message(text="hallo")
    if case.text is MISSING:
        message["text"] = {}
    else:
        message["text"] = {"body": case.text}
    for key, value in case.extra.items():
        message["from" if key == "sender" else key] = value
    return json.dumps(meta_payload([message])).encode()


class _Params(dict):
    def getlist(self, name: str) -> List[str]:
        return list(self[name])


def twilio_body(case: Case) -> Tuple[bytes, Dict[str, List[str]]]:
    """The case as a Twilio form, and the parameters the server will read."""
    if case.raw is not None:
        body = case.raw
    else:
        form = user_form(None)
        if case.text not in (MISSING, None):
            form["Body"] = _as_field(case.text)
        for key, value in case.extra.items():
            form["From" if key == "sender" else key] = _as_field(value)
        body = _urlencode(form)
    content_type = case.headers.get("Content-Type", "application/x-www-form-urlencoded")
    if content_type != "application/x-www-form-urlencoded":
        return body, {}
    params = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return body, params


def _urlencode(form: Dict[str, str]) -> bytes:
    return urlencode(form).encode()


async def send(
    url: str, case: Case, body: bytes, headers: Dict[str, str]
) -> Tuple[int, bytes]:
    async with aiohttp.ClientSession() as session:
        async with session.request(
            case.method,
            url + case.suffix,
            data=body,
            headers={**headers, **case.headers},
        ) as resp:
            return resp.status, await resp.read()


def problem(
    case: Case, status: int, raw: bytes, sent: List[str], expect_reply: bool
) -> Optional[str]:
    """Returns what is wrong with one answer, or None."""
    if status >= 500:
        return f"{case.name}: HTTP {status}"
    if b"Traceback" in raw:
        return f"{case.name}: traceback"
    if status == 200:
        if expect_reply and not sent:
            return f"{case.name}: 200 but no reply"
        for text in sent:
            if not looks_dutch(text):
                return f"{case.name}: reply not Dutch: {text[:80]!r}"
        return None
    if not 400 <= status < 500:
        return f"{case.name}: HTTP {status}"
    try:
        error = json.loads(raw).get("error")
    except (ValueError, AttributeError):
        return f"{case.name}: {status} without Dutch JSON: {raw[:80]!r}"
    return None if looks_dutch_error(error) else f"{case.name}: {error!r}"


def _replies_expected(case: Case) -> bool:
    """A signed text case with a valid sender must be answered."""
    sender = case.extra.get("sender")
    return (
        case.raw is None
        and case.method == "POST"
        and case.suffix in ("", "?token=geheim")
        and sender is None
        and "Content-Type" not in case.headers
    )


async def test_meta_webhook_survives_the_matrix(tmp_path) -> None:
    graph = FakeGraph()
    channel = meta_channel(graph, f"sqlite:///{tmp_path / 'meta.db'}")
    bot = FakeBot(DUTCH_BOT)
    problems: List[str] = []
    try:
        async with serve(channel, bot) as url:
            for case in CASES:
                body = meta_body(case)
                for signed in (True, False):
                    headers = {"Content-Type": "application/json"}
                    if signed:
                        headers["X-Hub-Signature-256"] = meta_signature(
                            body, APP_SECRET
                        )
                    before = len(graph.sent)
                    status, raw = await send(url, case, body, headers)
                    await channel.queues.drain()
                    sent = [shown_text(p) for p in graph.sent[before:]]
                    if not signed and case.method == "POST" and status == 200:
                        problems.append(f"{case.name}: unsigned request accepted")
                    found = problem(
                        case, status, raw, sent, signed and _replies_expected(case)
                    )
                    if found:
                        problems.append(("" if signed else "unsigned ") + found)
            # Still serving: a normal message is answered.
            ok = json.dumps(meta_payload([meta_message(text="hallo")])).encode()
            status, _ = await send(
                url,
                Case("normaal"),
                ok,
                {
                    "Content-Type": "application/json",
                    "X-Hub-Signature-256": meta_signature(ok, APP_SECRET),
                },
            )
            await channel.queues.drain()
            assert status == 200 and bot.texts[-1] == "hallo"
    finally:
        graph.close()
    assert problems == []
    # Replies went only to the number that wrote, never to a made-up one.
    assert {p["to"] for p in graph.sent} == {USER_DIGITS}


async def test_twilio_webhook_survives_the_matrix(tmp_path) -> None:
    api = FakeTwilio()
    channel = twilio_channel(api, f"sqlite:///{tmp_path / 'twilio.db'}")
    bot = FakeBot(DUTCH_BOT)
    problems: List[str] = []
    try:
        async with serve(channel, bot) as url:
            for case in CASES:
                body, params = twilio_body(case)
                for signed in (True, False):
                    headers = {"Content-Type": "application/x-www-form-urlencoded"}
                    if signed:
                        headers["X-Twilio-Signature"] = twilio_signature(
                            url + case.suffix, _Params(params), AUTH_TOKEN
                        )
                    before = len(api.requests)
                    status, raw = await send(url, case, body, headers)
                    await channel.queues.drain()
                    sent = api.bodies[before:]
                    if not signed and case.method == "POST" and status == 200:
                        problems.append(f"{case.name}: unsigned request accepted")
                    found = problem(
                        case, status, raw, sent, signed and _replies_expected(case)
                    )
                    if found:
                        problems.append(("" if signed else "unsigned ") + found)
            form = user_form("hallo")
            status, _ = await send(
                url,
                Case("normaal"),
                _urlencode(form),
                {
                    "Content-Type": "application/x-www-form-urlencoded",
                    "X-Twilio-Signature": twilio_signature(url, form, AUTH_TOKEN),
                },
            )
            await channel.queues.drain()
            assert status == 200 and bot.texts[-1] == "hallo"
    finally:
        api.close()
    assert problems == []
    assert {r["form"]["To"] for r in api.requests} == {"whatsapp:+31612345678"}
