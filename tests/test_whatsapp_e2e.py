"""End to end: WhatsApp (Meta Cloud API) through the real Rasa and action server.

The Rasa server loads ``MetaWhatsAppInput`` from credentials.yml and sends
its answers to a fake Graph API in this process. Needs a trained model. The
tests share one stack and run in file order; the last one restarts the Rasa
server between a delivery and Meta's retry of it.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any, Callable, Dict

import pytest
import requests

from faq.content import REFERENCE_INTRO, get_content
from tests.whatsapp_fakes import (
    PHONE_NUMBER_ID,
    USER_DIGITS,
    FakeGraph,
    meta_message,
    meta_payload,
    meta_signature,
    shown_text,
)
from tools.stack import MODEL, Stack

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not MODEL.exists(), reason="no trained model: run make train"),
]

APP_SECRET = "e2e-app-secret-" + uuid.uuid4().hex
CHANNEL = """\
server.channels.whatsapp_meta.MetaWhatsAppInput:
  phone_number_id: "{phone_number_id}"
  store_url: "sqlite:///{db}"
"""


@pytest.fixture(scope="module")
def graph():
    fake = FakeGraph()
    yield fake
    fake.close()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, graph):
    work = tmp_path_factory.mktemp("whatsapp_stack")
    stack = Stack(
        work,
        env={
            "META_APP_SECRET": APP_SECRET,
            "META_WHATSAPP_ACCESS_TOKEN": "e2e-access-token",
            "META_GRAPH_API_URL": graph.url,
        },
    )
    credentials = work / "credentials.yml"
    credentials.write_text(
        credentials.read_text()
        + CHANNEL.format(phone_number_id=PHONE_NUMBER_ID, db=work / "whatsapp.db")
    )
    stack.start_actions()
    stack.start_rasa()
    yield stack
    stack.stop()


def deliver(stack: Stack, payload: Dict[str, Any]) -> requests.Response:
    body = json.dumps(payload).encode()
    return requests.post(
        f"{stack.url}/webhooks/whatsapp_meta/webhook",
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-Hub-Signature-256": meta_signature(body, APP_SECRET),
        },
        timeout=10,
    )


def wait_for(check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "no answer in time"
        time.sleep(0.1)


def test_a_signed_question_gets_its_topic_with_reply_buttons(stack, graph):
    question = meta_message(text="waarom heb ik magnesium nodig voor vitamine d?")
    started = time.monotonic()
    response = deliver(stack, meta_payload([question]))
    assert response.status_code == 200
    assert time.monotonic() - started < 2
    wait_for(lambda: len(graph.sent) >= 1)

    sent = graph.sent[0]  # the answer; a feedback question may follow it
    topic = get_content().topics["magnesium_activeert_vitamine_d"]
    assert sent["to"] == USER_DIGITS
    interactive = sent["interactive"]
    assert interactive["type"] == "button"
    assert REFERENCE_INTRO in interactive["body"]["text"]
    assert "[3] " in interactive["body"]["text"]
    buttons = interactive["action"]["buttons"]
    assert [b["reply"]["id"] for b in buttons] == [f"/{t}" for t in topic.related]
    assert all(len(b["reply"]["title"]) <= 20 for b in buttons)

    unsigned = requests.post(
        f"{stack.url}/webhooks/whatsapp_meta/webhook",
        json=meta_payload([meta_message(text="hallo")]),
        timeout=10,
    )
    assert unsigned.status_code == 403


def settled(graph: FakeGraph, count: int, quiet: float = 1.0) -> int:
    """Waits for more than ``count`` sent messages, then for a quiet second."""
    wait_for(lambda: len(graph.sent) > count)
    seen = len(graph.sent)
    while True:
        time.sleep(quiet)
        if len(graph.sent) == seen:
            return seen
        seen = len(graph.sent)


def test_a_retry_after_a_restart_is_not_answered_twice(stack, graph):
    delivery = meta_payload([meta_message(text="wat doet vitamine d?")])
    before = len(graph.sent)
    assert deliver(stack, delivery).status_code == 200
    answered = settled(graph, before)
    first_answer = [shown_text(p) for p in graph.sent[before:answered]]

    stack.stop_rasa()
    stack.start_rasa()

    assert deliver(stack, delivery).status_code == 200  # Meta's retry
    # Then a new message from the same number. Its answer comes after
    # anything queued before it for this conversation, so once it is there,
    # a second answer to the retry would have been sent already.
    thanks = meta_payload([meta_message(text="dank je wel")])
    assert deliver(stack, thanks).status_code == 200
    after = settled(graph, answered)
    later = [shown_text(p) for p in graph.sent[answered:after]]
    assert later and first_answer[0] not in later
