"""The running ``make stack`` as users meet it: through nginx, two replicas.

Needs ``FAQ_STACK_URL`` (``make test-stack`` starts the stack with
``FAQ_RATE_PER_IP=300`` and ``FAQ_RATE_PER_CONVERSATION=20`` and sets it).
Messages also go to each replica directly, to show that what one replica
knows the other knows too. The last test kills a replica.
"""

from __future__ import annotations

import asyncio
import os
import time

import pytest
import requests
import socketio

from tests.helpers import looks_dutch, looks_dutch_error
from tools.stack import RemoteStack, session_from

pytestmark = [
    pytest.mark.stack,
    pytest.mark.skipif(
        not os.environ.get("FAQ_STACK_URL"),
        reason="needs the running stack: make test-stack",
    ),
]

PAGE_ORIGIN = "http://127.0.0.1:8080"


@pytest.fixture(scope="module")
def stack():
    stack = RemoteStack(os.environ["FAQ_STACK_URL"])
    stack.wait_healthy()
    yield stack
    stack.stop()


def ask(stack, base, sender, text, session=requests):
    response = session.post(
        f"{base}/webhooks/rest/webhook",
        json={"sender": sender, "message": text},
        headers={"Authorization": f"Bearer {stack.rest_token}"},
        timeout=60,
    )
    return response


def test_a_conversation_moves_between_replicas_without_losing_its_place(stack):
    first, second = stack.replica_urls
    sender = f"wissel-{time.time_ns()}"
    answer = ask(stack, first, sender, "hoe lang moet ik in de zon voor vitamine d?")
    assert answer.json()[0]["custom"]["topic"] == "vitamine_d_zonlicht"

    more = ask(stack, second, sender, "vertel meer").json()[0]
    assert more["custom"] == {**more["custom"], "topic": "vitamine_d_zonlicht"}
    assert more["custom"]["answer"] == "lang"

    # Back on the first replica, whose cached tracker is now one turn behind.
    sources = ask(stack, first, sender, "welke bronnen?").json()[0]
    assert sources["custom"]["topic"] == "vitamine_d_zonlicht"
    assert "pubmed" in sources["text"] or "http" in sources["text"]


def test_the_replicas_share_the_limit_per_conversation(stack):
    limit = int(os.environ.get("FAQ_RATE_PER_CONVERSATION", "20"))
    sender = f"teller-{time.time_ns()}"
    for n in range(limit):
        # Alternating: each replica alone sees only half of the messages.
        reply = ask(stack, stack.replica_urls[n % 2], sender, "")
        assert reply.status_code == 200, (n, reply.text)
    refused = ask(stack, stack.url, sender, "hoi")
    assert refused.status_code == 429
    assert looks_dutch(refused.json()["error"])


def test_nginx_passes_the_client_address_for_the_per_ip_limit(stack):
    limit = int(os.environ.get("FAQ_RATE_PER_IP", "300"))
    flooder = session_from("127.0.0.77")
    statuses = []
    for _ in range(limit + 1):
        response = flooder.post(
            f"{stack.url}/webhooks/rest/webhook", json={"message": ""}, timeout=30
        )
        statuses.append(response.status_code)
        if response.status_code != 200:
            break
    assert statuses[:limit] == [200] * limit
    assert statuses[limit:] == [429]
    assert looks_dutch(response.json()["error"])

    # Another client (another address) is not affected.
    other = session_from("127.0.0.78").post(
        f"{stack.url}/webhooks/rest/webhook", json={"message": "hoi"}, timeout=60
    )
    assert other.status_code == 200
    assert other.json()[0]["custom"]["topic"] == "groet"


@pytest.mark.parametrize(
    "method, path, status",
    [
        ("GET", "/model", 404),
        ("POST", "/model/parse", 404),
        ("GET", "/conversations/rest:x/tracker", 404),
        ("GET", "/", 404),
        ("GET", "/webhooks/status/", 200),
    ],
)
def test_nginx_serves_only_the_public_routes(stack, method, path, status):
    response = requests.request(method, stack.url + path, timeout=30)
    assert response.status_code == status
    if status != 200:
        assert looks_dutch_error(response.json()["error"])
    else:
        assert response.json()["model_loaded"] is True


def test_nginx_refuses_a_huge_body_in_dutch(stack):
    response = requests.post(
        f"{stack.url}/webhooks/rest/webhook",
        data=b"x" * 1_000_000,
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 413
    assert looks_dutch_error(response.json()["error"])


async def test_the_widget_talks_through_nginx(stack):
    client = socketio.AsyncClient(reconnection=False)
    bot: asyncio.Queue = asyncio.Queue()
    confirm: asyncio.Queue = asyncio.Queue()
    client.on("bot_uttered", bot.put)
    client.on("session_confirm", confirm.put)
    await client.connect(
        stack.url,
        headers={"Origin": PAGE_ORIGIN},
        transports=["polling"],
        wait_timeout=20,
    )
    try:
        await client.emit("session_request", {"session_id": None})
        session_id = await asyncio.wait_for(confirm.get(), 20)
        assert session_id
        await client.emit("user_uttered", {"message": "wat doet vitamine d?"})
        event = await asyncio.wait_for(bot.get(), 30)
        assert event["metadata"]["custom"]["topic"] == "functie_vitamine_d"
        assert looks_dutch(event["text"])
    finally:
        await client.disconnect()


def test_a_killed_replica_loses_no_message(stack):
    pid = stack.pids()["rasa1"]
    os.kill(pid, 9)
    questions = [
        ("welk eten bevat veel magnesium", "magnesium_voeding"),
        ("waarom d3 samen met k2 nemen?", "vitamine_k2"),
        ("hoe lang moet ik in de zon voor vitamine d?", "vitamine_d_zonlicht"),
    ] * 2
    for n, (question, topic) in enumerate(questions):
        reply = ask(stack, stack.url, f"overleeft-{n}-{time.time_ns()}", question)
        assert reply.status_code == 200, reply.text
        assert reply.json()[0]["custom"]["topic"] == topic
    # supervisord starts a new replica 1 (the fixture waits for it).
    deadline = time.monotonic() + 30
    while stack.pids().get("rasa1") in (None, pid) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert stack.pids().get("rasa1") not in (None, pid)
