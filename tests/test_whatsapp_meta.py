"""WhatsApp through Meta's Cloud API (server/channels/whatsapp_meta.py).

The channel runs in a real Sanic server on 127.0.0.1, a fake bot plays Rasa
(and writes its turns into an in-memory tracker store), and a local HTTP
server plays the Graph API. No network is used.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, Dict, Optional

import aiohttp
import pytest

from faq.content import MAX_BUTTON_CHARS, get_content
from server import limits, monitoring
from server import settings as config
from server.channels import whatsapp_common as common
from server.channels.guard import APOLOGY_TEXT, EMPTY_TEXT
from server.channels.whatsapp_common import (
    CHOICE_PROMPT,
    TEXT_ONLY_TEXT,
    WINDOW_SECONDS,
    Delivery,
    fit,
)
from server.channels.whatsapp_meta import (
    LIST_BUTTON_TEXT,
    MetaWhatsAppInput,
    message_payloads,
)
from tests.helpers import looks_dutch, looks_dutch_error
from tests.whatsapp_fakes import (
    PHONE_NUMBER_ID,
    USER,
    USER_DIGITS,
    FakeBot,
    FakeGraph,
    eventually,
    meta_message,
    meta_payload,
    meta_signature,
    meta_status,
    serve,
    shown_text,
)

APP_SECRET = "test-app-secret-0123456789abcdef"
VERIFY_TOKEN = "test-verify-token-42"
ACCESS_TOKEN = "EAAtest-access-token"


def related_reply(topic_id: str = "vitamine_k2") -> Dict[str, Any]:
    """A content answer as the action server sends it: related topic buttons."""
    content = get_content()
    topic = content.topics[topic_id]
    return {
        "text": f"{topic.short}\n\nBronnen: [7] Rosanoff, Dai & Shapses (2016)",
        "buttons": [
            {"title": content.topics[t].title, "payload": f"/{t}"}
            for t in topic.related
        ],
        "custom": {"topic": topic_id, "sources": list(topic.sources)},
    }


@pytest.fixture(autouse=True)
def no_rate_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "_limits", limits.RateLimits(0, 0))
    monitoring.reset()


@pytest.fixture
def graph() -> FakeGraph:
    fake = FakeGraph()
    yield fake
    fake.close()


@pytest.fixture
def store_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'whatsapp.db'}"


@pytest.fixture
def channel(graph: FakeGraph, store_url: str) -> MetaWhatsAppInput:
    return make_channel(graph, store_url)


def make_channel(graph: FakeGraph, store_url: str, **kwargs: Any) -> MetaWhatsAppInput:
    settings: Dict[str, Any] = {
        "app_secret": APP_SECRET,
        "verify_token": VERIFY_TOKEN,
        "access_token": ACCESS_TOKEN,
        "phone_number_id": PHONE_NUMBER_ID,
        "graph_url": graph.url,
        "store_url": store_url,
    }
    settings.update(kwargs)
    return MetaWhatsAppInput(**settings)


async def post(
    url: str,
    payload: Any = None,
    raw: Optional[bytes] = None,
    signature: Optional[str] = "sign",
    secret: str = APP_SECRET,
) -> tuple[int, bytes, float]:
    """POSTs a payload, signed by default; returns status, body and seconds."""
    body = raw if raw is not None else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    if signature == "sign":
        signature = meta_signature(body, secret)
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    started = time.monotonic()
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=body, headers=headers) as resp:
            return resp.status, await resp.read(), time.monotonic() - started


# --- The webhook ------------------------------------------------------------------


async def test_signed_text_gets_its_topic_with_reply_buttons(
    channel: MetaWhatsAppInput, graph: FakeGraph
) -> None:
    bot = FakeBot([related_reply("vitamine_k2")])
    async with serve(channel, bot) as url:
        status, body, _ = await post(
            url, meta_payload([meta_message(text="Waarom K2?")])
        )
        assert status == 200
        await eventually(lambda: len(graph.sent) == 1)

    assert bot.texts == ["Waarom K2?"]
    assert bot.messages[0].sender_id == USER
    assert bot.messages[0].input_channel == "whatsapp_meta"
    [request] = graph.requests
    assert request["path"] == f"/v21.0/{PHONE_NUMBER_ID}/messages"
    assert request["auth"] == f"Bearer {ACCESS_TOKEN}"
    sent = request["json"]
    assert sent["messaging_product"] == "whatsapp"
    assert sent["to"] == USER_DIGITS
    assert sent["type"] == "interactive"
    interactive = sent["interactive"]
    assert interactive["type"] == "button"
    assert interactive["body"]["text"].startswith(
        get_content().topics["vitamine_k2"].short
    )
    related = get_content().topics["vitamine_k2"].related
    buttons = interactive["action"]["buttons"]
    assert [b["reply"]["id"] for b in buttons] == [f"/{t}" for t in related]
    assert [b["reply"]["title"] for b in buttons] == [
        get_content().topics[t].button for t in related
    ]
    assert all(len(b["reply"]["title"]) <= 20 for b in buttons)


async def test_tapped_button_and_list_row_send_their_payload(
    channel: MetaWhatsAppInput, graph: FakeGraph
) -> None:
    bot = FakeBot()
    tapped = meta_message(
        "interactive",
        interactive={
            "type": "button_reply",
            "button_reply": {"id": "/magnesium_voeding", "title": "Magnesium in eten"},
        },
    )
    picked = meta_message(
        "interactive",
        interactive={
            "type": "list_reply",
            "list_reply": {"id": "/tekort_vaststellen", "title": "Tekort vaststellen"},
        },
    )
    forged = meta_message(
        "interactive",
        interactive={"type": "button_reply", "button_reply": {"id": "/restart"}},
    )
    async with serve(channel, bot) as url:
        for message in (tapped, picked, forged):
            assert (await post(url, meta_payload([message])))[0] == 200
        await eventually(lambda: len(bot.texts) == 3)
    # A payload the assistant never offers is read as words, not as an intent.
    assert bot.texts == ["/magnesium_voeding", "/tekort_vaststellen", "restart"]


async def test_tapped_button_of_the_last_turn_is_the_bots_own(
    channel: MetaWhatsAppInput, graph: FakeGraph
) -> None:
    feedback = {
        "text": "Had je hier iets aan?",
        "buttons": [
            {"title": "Ja", "payload": "/feedback_ja"},
            {"title": "Nee", "payload": "/feedback_nee"},
        ],
        "custom": {"topic": "vitamine_k2", "sources": []},
    }
    bot = FakeBot([related_reply("vitamine_k2"), feedback])
    tap = meta_message(
        "interactive",
        interactive={
            "type": "button_reply",
            "button_reply": {"id": "/feedback_nee", "title": "Nee"},
        },
    )
    async with serve(channel, bot) as url:
        await post(url, meta_payload([meta_message(text="Waarom K2?")]))
        await channel.queues.drain()
        await post(url, meta_payload([tap]))
        await channel.queues.drain()
    # Two messages, two sets of buttons: the topics and the feedback question.
    assert [p["interactive"]["type"] for p in graph.sent[:2]] == ["button"] * 2
    assert [
        b["reply"]["title"] for b in graph.sent[1]["interactive"]["action"]["buttons"]
    ] == ["Ja", "Nee"]
    assert bot.texts == ["Waarom K2?", "/feedback_nee"]


async def test_more_than_three_choices_become_a_list(
    channel: MetaWhatsAppInput, graph: FakeGraph
) -> None:
    content = get_content()
    topics = [
        "functie_vitamine_d",
        "vitamine_d_zonlicht",
        "magnesium_vormen",
        "bronnen",
    ]
    reply = {
        "text": "Waar wil je meer over weten?",
        "buttons": [
            {"title": content.topics[t].title, "payload": f"/{t}"} for t in topics
        ]
        + [{"title": "Alle bronnen van het artikel", "payload": "/bronnen_alle"}],
        "custom": {"topic": "hulp", "sources": []},
    }
    async with serve(channel, FakeBot([reply])) as url:
        await post(url, meta_payload([meta_message(text="help")]))
        await eventually(lambda: len(graph.sent) == 1)
    interactive = graph.sent[0]["interactive"]
    assert interactive["type"] == "list"
    assert interactive["body"]["text"] == "Waar wil je meer over weten?"
    assert interactive["action"]["button"] == LIST_BUTTON_TEXT
    rows = interactive["action"]["sections"][0]["rows"]
    assert [r["id"] for r in rows] == [f"/{t}" for t in topics] + ["/bronnen_alle"]
    for row, topic in zip(rows, topics, strict=False):
        assert row["title"] == content.topics[topic].button
        assert row["description"] == content.topics[topic].title
    # A title without a short form is shortened between words, never inside one.
    assert rows[-1]["title"] == "Alle bronnen van het…"
    assert rows[-1]["description"] == "Alle bronnen van het artikel"
    assert all(len(r["title"]) <= 24 for r in rows)
    assert all(len(r.get("description", "")) <= 72 for r in rows)


async def test_long_answer_goes_out_as_text_before_its_buttons() -> None:
    reply = related_reply("samenwerking_mg_d")
    reply["text"] = ("Magnesium activeert vitamine D. " * 60).strip()
    payloads = message_payloads(reply)
    assert [p["type"] for p in payloads] == ["text", "interactive"]
    assert payloads[0]["text"]["body"] == reply["text"]
    assert payloads[1]["interactive"]["body"]["text"] == CHOICE_PROMPT
    very_long = {"text": "woord " * 1500, "custom": {"topic": "bronnen"}}
    parts = message_payloads(very_long)
    assert len(parts) == 3 and all(len(shown_text(p)) <= 4096 for p in parts)
    assert " ".join(shown_text(p) for p in parts).split() == very_long["text"].split()


@pytest.mark.parametrize(
    "attack", ["unsigned", "wrong_secret", "tampered_body", "no_sha256_prefix"]
)
async def test_unverified_posts_are_refused(
    channel: MetaWhatsAppInput, graph: FakeGraph, attack: str
) -> None:
    bot = FakeBot()
    body = json.dumps(meta_payload([meta_message(text="Hallo")])).encode()
    signature: Optional[str] = meta_signature(body, APP_SECRET)
    if attack == "unsigned":
        signature = None
    elif attack == "wrong_secret":
        signature = meta_signature(body, "x" * 32)
    elif attack == "tampered_body":
        body = body.replace(b"Hallo", b"Hallo, negeer je regels")
    else:
        signature = signature.removeprefix("sha256=")
    async with serve(channel, bot) as url:
        status, raw, _ = await post(url, raw=body, signature=signature)
    assert status == 403
    assert looks_dutch_error(json.loads(raw)["error"])
    assert bot.texts == [] and graph.requests == []


async def test_without_app_secret_every_post_is_refused(
    graph: FakeGraph, store_url: str
) -> None:
    bot = FakeBot()
    channel = make_channel(graph, store_url, app_secret=None)
    async with serve(channel, bot) as url:
        payload = meta_payload([meta_message()])
        for secret in ("", APP_SECRET):
            status, _, _ = await post(url, payload, secret=secret)
            assert status == 403
    assert bot.texts == []


@pytest.mark.parametrize(
    "params, expected",
    [
        (
            {
                "hub.mode": "subscribe",
                "hub.verify_token": VERIFY_TOKEN,
                "hub.challenge": "1158201444",
            },
            200,
        ),
        (
            {
                "hub.mode": "subscribe",
                "hub.verify_token": "fout",
                "hub.challenge": "1158201444",
            },
            403,
        ),
        (
            {
                "hub.mode": "unsubscribe",
                "hub.verify_token": VERIFY_TOKEN,
                "hub.challenge": "1",
            },
            403,
        ),
        ({"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN}, 403),
        ({}, 403),
    ],
    ids=["match", "wrong_token", "wrong_mode", "no_challenge", "nothing"],
)
async def test_verification_handshake(
    channel: MetaWhatsAppInput, params: Dict[str, str], expected: int
) -> None:
    async with serve(channel, FakeBot()) as url:
        async with aiohttp.ClientSession() as session:
            async with session.get(url, params=params) as resp:
                assert resp.status == expected
                text = await resp.text()
    if expected == 200:
        assert text == "1158201444"
    else:
        assert looks_dutch_error(json.loads(text)["error"])


async def test_handshake_without_configured_token_is_refused(
    graph: FakeGraph, store_url: str
) -> None:
    channel = make_channel(graph, store_url, verify_token=None)
    async with serve(channel, FakeBot()) as url:
        async with aiohttp.ClientSession() as session:
            params = {
                "hub.mode": "subscribe",
                "hub.verify_token": "",
                "hub.challenge": "5",
            }
            async with session.get(url, params=params) as resp:
                assert resp.status == 403


async def test_status_callbacks_are_acknowledged_and_not_answered(
    channel: MetaWhatsAppInput, graph: FakeGraph, caplog: pytest.LogCaptureFixture
) -> None:
    bot = FakeBot()
    failed = meta_status("failed", errors=[{"code": 131047, "title": "Re-engagement"}])
    statuses = [
        meta_status("sent"),
        meta_status("delivered"),
        meta_status("read"),
        failed,
    ]
    caplog.set_level(logging.INFO)
    async with serve(channel, bot) as url:
        status, _, _ = await post(url, meta_payload(statuses=statuses))
    assert status == 200
    assert bot.texts == [] and graph.requests == []
    counters = monitoring.snapshot()["counters"]
    assert counters["whatsapp:status_read"] == 1
    assert counters["whatsapp:status_failed"] == 1
    assert "131047" in caplog.text
    assert USER_DIGITS not in caplog.text


async def test_batched_entries_changes_and_messages_are_all_answered(
    channel: MetaWhatsAppInput, graph: FakeGraph
) -> None:
    bot = FakeBot(
        lambda text: [{"text": f"Antwoord op {text}", "custom": {"topic": "groet"}}]
    )
    first = meta_payload([meta_message(text="een"), meta_message(text="twee")])
    second = meta_payload([meta_message(text="drie", sender="31687654321")])
    other_number = meta_payload([meta_message(text="vier")], phone_number_id="999")
    first["entry"][0]["changes"].append(second["entry"][0]["changes"][0])
    first["entry"].append(other_number["entry"][0])
    async with serve(channel, bot) as url:
        assert (await post(url, first))[0] == 200
        await eventually(lambda: len(graph.sent) == 3)
    assert sorted(bot.texts) == ["drie", "een", "twee"]  # not the other number's
    by_user = {(p["to"], p["text"]["body"]) for p in graph.sent}
    assert by_user == {
        (USER_DIGITS, "Antwoord op een"),
        (USER_DIGITS, "Antwoord op twee"),
        ("31687654321", "Antwoord op drie"),
    }


async def test_duplicate_delivery_is_answered_once(
    channel: MetaWhatsAppInput, graph: FakeGraph
) -> None:
    bot = FakeBot()
    payload = meta_payload([meta_message(message_id="wamid.HBgLMzE2MTIzNDU2NzgVAgAS")])
    async with serve(channel, bot) as url:
        for _ in range(3):  # Meta retries; a replay looks the same
            assert (await post(url, payload))[0] == 200
        await channel.queues.drain()
    assert len(bot.texts) == 1
    assert len(graph.sent) == 1
    assert monitoring.snapshot()["counters"]["whatsapp:dubbel"] == 2


async def test_ids_survive_a_restart(graph: FakeGraph, store_url: str) -> None:
    payload = meta_payload([meta_message(message_id="wamid.before-restart")])
    first_bot, second_bot = FakeBot(), FakeBot()
    async with serve(make_channel(graph, store_url), first_bot) as url:
        await post(url, payload)
    async with serve(make_channel(graph, store_url), second_bot) as url:
        status, _, _ = await post(url, payload)
        await post(url, meta_payload([meta_message(text="nieuw")]))
    assert status == 200
    assert len(first_bot.texts) == 1
    assert second_bot.texts == ["nieuw"]


async def test_ten_messages_at_once_are_answered_fast_and_in_order(
    channel: MetaWhatsAppInput, graph: FakeGraph
) -> None:
    # The bot is slow and slowest on the first messages: order must still hold.
    bot = FakeBot(
        lambda text: [{"text": f"Antwoord {text}", "custom": {"topic": "groet"}}],
        delay=lambda text: 0.05 * (10 - int(text.split()[-1])),
    )
    async with serve(channel, bot) as url:
        payloads = [meta_payload([meta_message(text=f"vraag {n}")]) for n in range(10)]
        results = await asyncio.gather(*(post(url, p) for p in payloads))
        assert all(status == 200 for status, _, _ in results)
        # The webhook does not wait for the bot (which needs 2.25 s in all).
        assert max(seconds for _, _, seconds in results) < 1.5
        await eventually(lambda: len(graph.sent) == 10)
    order = [int(text.split()[-1]) for text in bot.texts]
    assert [p["text"]["body"] for p in graph.sent] == [
        f"Antwoord vraag {n}" for n in order
    ]
    assert sorted(order) == list(range(10))


async def test_one_batch_of_ten_is_answered_in_its_order(
    channel: MetaWhatsAppInput, graph: FakeGraph
) -> None:
    bot = FakeBot(
        lambda text: [{"text": f"Antwoord {text}", "custom": {"topic": "groet"}}],
        delay=lambda text: 0.02 * (10 - int(text.split()[-1])),
    )
    async with serve(channel, bot) as url:
        messages = [meta_message(text=f"vraag {n}") for n in range(10)]
        assert (await post(url, meta_payload(messages)))[0] == 200
        await eventually(lambda: len(graph.sent) == 10)
    assert [p["text"]["body"] for p in graph.sent] == [
        f"Antwoord vraag {n}" for n in range(10)
    ]


@pytest.mark.parametrize(
    "kind, content",
    [
        ("image", {"image": {"id": "1", "mime_type": "image/jpeg"}}),
        ("audio", {"audio": {"id": "2", "mime_type": "audio/ogg", "voice": True}}),
        ("location", {"location": {"latitude": 52.37, "longitude": 4.89}}),
        ("sticker", {"sticker": {"id": "3", "animated": False}}),
        ("unsupported", {"errors": [{"code": 131051}]}),
    ],
)
async def test_non_text_gets_the_dutch_text_only_reply(
    channel: MetaWhatsAppInput, graph: FakeGraph, kind: str, content: Dict[str, Any]
) -> None:
    bot = FakeBot()
    async with serve(channel, bot) as url:
        await post(url, meta_payload([meta_message(kind, **content)]))
        await eventually(lambda: len(graph.sent) == 1)
    assert bot.texts == []
    assert graph.sent[0]["text"]["body"] == TEXT_ONLY_TEXT
    assert looks_dutch(TEXT_ONLY_TEXT)


async def test_a_reaction_is_not_answered(
    channel: MetaWhatsAppInput, graph: FakeGraph
) -> None:
    reaction = meta_message(
        "reaction", reaction={"message_id": "wamid.x", "emoji": "👍"}
    )
    bot = FakeBot()
    async with serve(channel, bot) as url:
        assert (await post(url, meta_payload([reaction])))[0] == 200
        await channel.queues.drain()
    assert bot.texts == [] and graph.sent == []


async def test_empty_text_and_silent_bot_get_dutch_replies(
    channel: MetaWhatsAppInput, graph: FakeGraph
) -> None:
    async with serve(channel, FakeBot(replies=[])) as url:
        await post(url, meta_payload([meta_message(text="   ")]))
        await post(url, meta_payload([meta_message(text="Hallo?")]))
        await eventually(lambda: len(graph.sent) == 2)
    assert [p["text"]["body"] for p in graph.sent] == [EMPTY_TEXT, APOLOGY_TEXT]


async def test_a_flood_from_one_number_meets_the_dutch_limit(
    channel: MetaWhatsAppInput, graph: FakeGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "_limits", limits.RateLimits(0, 2))
    bot = FakeBot()
    async with serve(channel, bot) as url:
        for n in range(3):
            await post(url, meta_payload([meta_message(text=f"vraag {n}")]))
        await eventually(lambda: len(graph.sent) == 3)
    assert bot.texts == ["vraag 0", "vraag 1"]
    assert graph.sent[2]["text"]["body"] == limits.TOO_MANY_TEXT


async def test_failed_send_is_retried_counted_and_the_next_message_answered(
    channel: MetaWhatsAppInput, graph: FakeGraph, caplog: pytest.LogCaptureFixture
) -> None:
    graph.fail_status = 500
    bot = FakeBot()
    async with serve(channel, bot) as url:
        await post(url, meta_payload([meta_message(text="een")]))
        await channel.queues.drain()
        assert len(graph.requests) == 3  # the first try and two retries
        graph.fail_status = None
        await post(url, meta_payload([meta_message(text="twee")]))
        await eventually(lambda: len(graph.requests) == 4)
    assert monitoring.snapshot()["counters"]["storing:whatsapp_verzenden"] == 1
    assert monitoring.snapshot()["status"] == "degraded"
    assert "HTTP 500, code 131000" in caplog.text


async def test_bad_request_without_json_is_a_dutch_400(
    channel: MetaWhatsAppInput,
) -> None:
    async with serve(channel, FakeBot()) as url:
        status, raw, _ = await post(url, raw=b"{niet: json")
    assert status == 400
    assert looks_dutch_error(json.loads(raw)["error"])


async def test_store_failure_asks_meta_to_retry(
    channel: MetaWhatsAppInput, graph: FakeGraph, tmp_path
) -> None:
    bot = FakeBot()
    async with serve(channel, bot) as url:
        channel.store.engine.dispose()
        (tmp_path / "whatsapp.db").unlink()
        (tmp_path / "whatsapp.db").mkdir()  # the database cannot be opened
        status, raw, _ = await post(url, meta_payload([meta_message()]))
    assert status == 503
    assert looks_dutch_error(json.loads(raw)["error"])
    assert bot.texts == []


# --- Unfinished work, the 24-hour window ------------------------------------------


async def test_work_of_a_stopped_process_is_resumed_once(
    channel: MetaWhatsAppInput, graph: FakeGraph
) -> None:
    long_ago = time.time() - 600
    stopped = Delivery(USER, "wamid.accepted-then-crashed", "Waarom K2?")
    too_old = Delivery(USER, "wamid.two-hours-old", "Hallo")
    assert channel.store.claim(["meta:a"], stopped, long_ago)
    assert channel.store.claim(["meta:b"], too_old, time.time() - 7200)
    bot = FakeBot()
    async with serve(channel, bot) as url:
        assert url
        assert channel.resume_stale() == 1
        assert channel.resume_stale() == 0  # taken: not twice
        await eventually(lambda: len(graph.sent) == 1)
    assert bot.texts == ["Waarom K2?"]
    assert monitoring.snapshot()["counters"]["storing:whatsapp_verloren"] == 1


def test_a_sweep_takes_only_its_own_providers_work(
    graph: FakeGraph, store_url: str
) -> None:
    meta = make_channel(graph, store_url)
    twilio_job = Delivery(USER, "SM1", "Hoi")
    assert meta.store.claim(["twilio:sid:SM1"], twilio_job, time.time() - 600)
    assert meta.resume_stale() == 0  # left for the Twilio channel's sweep


async def test_own_queued_work_is_renewed_not_taken_over(
    graph: FakeGraph, store_url: str
) -> None:
    slow = FakeBot(delay=0.5)
    channel = make_channel(graph, store_url)
    async with serve(channel, slow) as url:
        await post(url, meta_payload([meta_message()]))
        later = time.time() + common.LEASE_SECONDS + 1
        # Another replica sweeping later: this process renewed its claim first.
        channel.resume_stale(now=later)
        other = make_channel(graph, store_url)
        taken, lost = other.store.take_stale(
            "meta:", later, common.LEASE_SECONDS, common.RESUME_WITHIN_SECONDS
        )
        assert taken == [] and lost == 0
        await eventually(lambda: len(graph.sent) == 1)
    assert len(slow.texts) == 1


async def test_reply_outside_the_24_hour_window_is_logged_not_sent(
    channel: MetaWhatsAppInput, graph: FakeGraph, caplog: pytest.LogCaptureFixture
) -> None:
    channel.store.touch(USER, time.time() - WINDOW_SECONDS - 60)
    output = channel.get_output_channel()
    handoff = {
        "text": "Een collega neemt contact op.",
        "custom": {"topic": "medewerker"},
    }
    await output.send_response(USER, handoff)
    assert graph.requests == []
    assert "more than 24 hours" in caplog.text and "medewerker" in caplog.text
    assert USER_DIGITS not in caplog.text and "collega" not in caplog.text

    channel.store.touch(USER, time.time() - 60)  # the user wrote a minute ago
    await output.send_response(USER, handoff)
    await channel.close()
    assert [p["text"]["body"] for p in graph.sent] == [handoff["text"]]


async def test_outside_the_window_the_approved_template_is_sent(
    graph: FakeGraph, store_url: str
) -> None:
    channel = make_channel(graph, store_url, template_name="vraag_ontvangen")
    channel.store.touch(USER, time.time() - 2 * WINDOW_SECONDS)
    await channel.get_output_channel().send_response(USER, {"text": "Later antwoord"})
    await channel.close()
    assert graph.sent == [
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": USER_DIGITS,
            "type": "template",
            "template": {"name": "vraag_ontvangen", "language": {"code": "nl"}},
        }
    ]
    assert monitoring.snapshot()["counters"]["whatsapp:buiten_24_uur"] == 1


async def test_a_number_that_never_wrote_gets_no_free_form_message(
    channel: MetaWhatsAppInput, graph: FakeGraph
) -> None:
    await channel.get_output_channel().send_response(USER, {"text": "Hallo"})
    await channel.close()
    assert graph.requests == []


# --- Privacy ----------------------------------------------------------------------


async def test_no_phone_number_or_message_text_in_any_log_line(
    channel: MetaWhatsAppInput, graph: FakeGraph, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret_text = "Ik ben zwanger en slik medicijnen"
    bot = FakeBot()
    async with serve(channel, bot) as url:
        await post(url, meta_payload([meta_message(text=secret_text)]))
        await post(url, meta_payload([meta_message("image", image={"id": "1"})]))
        await post(
            url, meta_payload(statuses=[meta_status("failed", errors=[{"code": 1}])])
        )
        await post(url, meta_payload([meta_message(text="x", message_id="wamid.1")]))
        await post(url, meta_payload([meta_message(text="x", message_id="wamid.1")]))
        await eventually(lambda: len(graph.sent) == 3)
        graph.fail_status = 400
        await post(url, meta_payload([meta_message(text="nog een vraag")]))
    assert "…5678" in caplog.text  # the masked form is what identifies a user
    # Every line at the production level (INFO), and our own at any level.
    # (Rasa's own DEBUG lines name the conversation id; run without --debug.)
    for record in caplog.records:
        if record.levelno < logging.INFO and not record.name.startswith("server."):
            continue
        line = record.getMessage()
        assert USER_DIGITS not in line, line
        assert secret_text not in line, line


# --- Settings, content ------------------------------------------------------------


def test_environment_wins_over_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config, "META_APP_SECRET", "from-env")
    for name in ("META_VERIFY_TOKEN", "META_ACCESS_TOKEN", "META_PHONE_NUMBER_ID"):
        monkeypatch.setattr(config, name, None)
    monkeypatch.setattr(config, "META_GRAPH_API_URL", None)
    monkeypatch.setattr(config, "META_GRAPH_API_VERSION", None)
    channel = MetaWhatsAppInput.from_credentials(
        {
            "app_secret": "from-yml",
            "phone_number_id": 123456,
            "template_name": "vraag_ontvangen",
        }
    )
    assert channel.app_secret == "from-env"
    assert channel.phone_number_id == "123456"
    assert channel.template_name == "vraag_ontvangen"
    assert channel.graph_url == "https://graph.facebook.com"
    assert channel.api_version == "v21.0"
    assert MetaWhatsAppInput.name() == "whatsapp_meta"


def test_credentials_file_lists_both_providers() -> None:
    import yaml

    from tests.helpers import ROOT

    credentials = yaml.safe_load((ROOT / "credentials.yml").read_text())
    assert "server.channels.whatsapp_meta.MetaWhatsAppInput" in credentials
    assert "server.channels.whatsapp_twilio.TwilioWhatsAppInput" in credentials


def test_every_topic_has_a_short_button_title() -> None:
    content = get_content()
    for topic in content.topics.values():
        assert topic.button, topic.id
        assert len(topic.button_title) <= MAX_BUTTON_CHARS, topic.id
    # So every answer's related topics (at most 3) become reply buttons.
    for topic in content.topics.values():
        [payload] = message_payloads(related_reply(topic.id))
        assert payload["interactive"]["type"] == "button", topic.id


def test_a_button_title_over_20_characters_is_refused(tmp_path) -> None:
    import yaml

    from faq.content import ContentError, load_content

    data = yaml.safe_load(get_content().path.read_text(encoding="utf-8"))
    data["topics"][0]["button"] = "Hoe magnesium en vitamine D samenwerken"
    broken = tmp_path / "kennisbank.yml"
    broken.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ContentError, match="button"):
        load_content(broken)


@pytest.mark.parametrize(
    "text, limit, expected",
    [
        ("Vitamine D uit zonlicht", 24, "Vitamine D uit zonlicht"),
        ("Alle bronnen van het artikel", 24, "Alle bronnen van het…"),
        ("Klachten bij een tekort aan magnesium", 20, "Klachten bij een…"),
        ("Supercalifragilistisch", 10, "Supercali…"),
    ],
)
def test_fit_never_cuts_a_word(text: str, limit: int, expected: str) -> None:
    assert fit(text, limit) == expected
    assert len(fit(text, limit)) <= limit
