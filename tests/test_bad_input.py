"""The bad-input matrix (tests/badinput.py) against every public HTTP route.

The REST webhook, the staff lookup and the status route run in a real Sanic
app with Rasa stood in for; ``tests/test_e2e.py`` sends the same matrix to
the real Rasa server. Every answer must be a Dutch reply or a Dutch 4xx.
"""

from __future__ import annotations

from typing import Any, Dict, List

import aiohttp
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from rasa.core.channels.channel import UserMessage

from server import limits
from server import settings as server_settings
from server.channels.lookup import StaffLookupInput
from server.channels.rest import FaqRestInput
from server.channels.status import StatusInput
from tests.badinput import CASES, Case, body_for
from tests.helpers import looks_dutch, looks_dutch_error, serve_app

STAFF_TOKEN = "medewerker-token-0123456789"


class FakeRasa:
    """Answers every message with one Dutch bot message."""

    def __init__(self) -> None:
        self.received: List[UserMessage] = []

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message)
        await message.output_channel.send_response(
            message.sender_id,
            {
                "text": "Dit is het antwoord van de assistent op je vraag.",
                "custom": {"topic": "groet", "sources": []},
            },
        )


class FakeAgent:
    def is_ready(self) -> bool:
        return True

    async def parse_message(self, text: str) -> Dict[str, Any]:
        return {"intent": {"name": "vitamine_k2", "confidence": 0.9}}


@pytest.fixture
async def app_url(monkeypatch):
    monkeypatch.setattr(server_settings, "STAFF_TOKEN", STAFF_TOKEN)
    monkeypatch.setattr(limits, "_limits", limits.RateLimits(0, 0))
    rasa = FakeRasa()
    async with serve_app(
        FaqRestInput().blueprint(rasa),
        "/webhooks/rest",
        FakeAgent(),
        (StaffLookupInput().blueprint(rasa), "/webhooks/lookup"),
        (StatusInput().blueprint(rasa), "/webhooks/status"),
    ) as url:
        yield url, rasa


async def send(url: str, case: Case, field: str, headers: Dict[str, str]):
    async with aiohttp.ClientSession() as session:
        async with session.request(
            case.method,
            url + case.suffix,
            data=body_for(case, field),
            headers={"Content-Type": "application/json", **headers, **case.headers},
        ) as response:
            return response.status, await response.read()


def assert_dutch_answer(status: int, raw: bytes, case: Case) -> None:
    import json

    assert status < 500, (case.name, status, raw[:300])
    body = json.loads(raw)
    if status == 200:
        assert isinstance(body, list) and body, case.name
        for message in body:
            assert looks_dutch(message["text"]), (case.name, message)
            assert message["custom"]["topic"], case.name
    else:
        assert 400 <= status < 500, case.name
        assert looks_dutch_error(body.get("error")), (case.name, body)
    assert b"Traceback" not in raw


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_rest_webhook(app_url, case):
    url, _ = app_url
    status, raw = await send(f"{url}/webhooks/rest/webhook", case, "message", {})
    assert_dutch_answer(status, raw, case)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_staff_lookup(app_url, case):
    url, _ = app_url
    status, raw = await send(
        f"{url}/webhooks/lookup/query",
        case,
        "q",
        {"Authorization": f"Bearer {STAFF_TOKEN}"},
    )
    if status == 200:  # the lookup answers with topics, not chat messages
        import json

        assert "topics" in json.loads(raw), case.name
    else:
        assert_dutch_answer(status, raw, case)


async def test_the_server_keeps_serving_after_the_whole_matrix(app_url):
    url, rasa = app_url
    for case in CASES:
        await send(f"{url}/webhooks/rest/webhook", case, "message", {})
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{url}/webhooks/rest/webhook", json={"message": "hallo"}
        ) as response:
            assert response.status == 200
        async with session.get(f"{url}/webhooks/status/") as response:
            assert response.status == 200
            assert (await response.json())["status"] in ("ok", "degraded")


async def test_no_message_reached_rasa_under_another_channels_id(app_url):
    url, rasa = app_url
    for case in CASES:
        await send(f"{url}/webhooks/rest/webhook", case, "message", {})
    assert rasa.received, "the valid cases were answered"
    for message in rasa.received:
        assert message.sender_id.startswith("rest:"), message.sender_id
        assert not message.text.startswith("/"), message.text


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=50),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


@hsettings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    body=st.one_of(
        st.binary(max_size=300),
        st.dictionaries(
            st.sampled_from(["message", "sender", "metadata", "x"]),
            json_values,
            max_size=4,
        ),
    )
)
async def test_fuzz_rest_webhook(app_url, body):
    """Property: any body gets a Dutch reply or a Dutch 4xx (time-boxed)."""
    import json

    url, _ = app_url
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{url}/webhooks/rest/webhook", data=data) as resp:
            raw = await resp.read()
            assert_dutch_answer(resp.status, raw, Case("fuzz"))
