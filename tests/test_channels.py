"""Unit tests of the shared channel guard: input checks and the reply guarantee."""

from __future__ import annotations

import asyncio

import pytest
from rasa.core.channels.channel import UserMessage

from server import settings as config
from server.channels.guard import (
    APOLOGY_TEXT,
    WholeMessageCollector,
    check_text,
    handle_guarded,
    masked,
)
from tests.helpers import looks_dutch


@pytest.mark.parametrize(
    "text, reason",
    [(None, "leeg_bericht"), ("", "leeg_bericht"), (" \n\t", "leeg_bericht")],
)
def test_empty_text_gets_a_dutch_reply(text, reason):
    reply = check_text("u1", text)
    assert reply["custom"] == {"topic": "fallback", "sources": [], "reason": reason}
    assert looks_dutch(reply["text"])


def test_too_long_text_gets_a_dutch_reply_with_the_limit():
    reply = check_text("u1", "a" * (config.MAX_MESSAGE_CHARS + 1))
    assert reply["custom"]["reason"] == "bericht_te_lang"
    assert str(config.MAX_MESSAGE_CHARS) in reply["text"]


@pytest.mark.parametrize(
    "text", ["hoi", "🙂", "<b>vet</b>", "a" * config.MAX_MESSAGE_CHARS]
)
def test_acceptable_text_passes(text):
    assert check_text("u1", text) is None


async def test_collector_keeps_text_buttons_and_custom_in_one_message():
    collector = WholeMessageCollector()
    await collector.send_response(
        "u1",
        {
            "text": "Eerste alinea.\n\nTweede alinea.",
            "buttons": [{"title": "K2", "payload": "/vitamine_k2"}],
            "custom": {"topic": "vitamine_k2", "sources": []},
            "utter_action": "action_answer_topic",
        },
    )
    assert collector.messages == [
        {
            "recipient_id": "u1",
            "text": "Eerste alinea.\n\nTweede alinea.",
            "buttons": [{"title": "K2", "payload": "/vitamine_k2"}],
            "custom": {"topic": "vitamine_k2", "sources": []},
        }
    ]


def _message(collector):
    return UserMessage("hoi", collector, "u1")


async def test_guard_passes_the_bots_messages_through():
    collector = WholeMessageCollector()

    async def bot(message):
        await message.output_channel.send_response(
            "u1", {"text": "Hoi!", "custom": {"topic": "groet", "sources": []}}
        )

    messages = await handle_guarded(bot, _message(collector), collector)
    assert [m["custom"]["topic"] for m in messages] == ["groet"]


async def _silent(message):
    return None


async def _crashing(message):
    raise RuntimeError("boom")


async def _slow(message):
    await asyncio.sleep(5)


@pytest.mark.parametrize(
    "bot, reason",
    [
        (_silent, "storing:geen_antwoord"),
        (_crashing, "storing:fout"),
        (_slow, "storing:time-out"),
    ],
)
async def test_guard_apologises_in_dutch_when_the_bot_fails(bot, reason, monkeypatch):
    monkeypatch.setattr(config, "REPLY_TIMEOUT_SECONDS", 0.2)
    collector = WholeMessageCollector()

    messages = await handle_guarded(bot, _message(collector), collector)

    assert messages == [
        {
            "recipient_id": "u1",
            "text": APOLOGY_TEXT,
            "custom": {"topic": "fallback", "sources": [], "reason": reason},
        }
    ]
    assert looks_dutch(APOLOGY_TEXT)


async def test_lock_store_hands_over_quickly_and_in_order():
    from rasa.utils.endpoints import EndpointConfig

    from server.stores import FastInMemoryLockStore

    store = FastInMemoryLockStore(EndpointConfig(wait_time=0.005))
    order = []

    async def turn(name, hold):
        async with store.lock("gesprek"):
            order.append(name)
            await asyncio.sleep(hold)
        return asyncio.get_running_loop().time()

    loop = asyncio.get_running_loop()
    started = loop.time()
    first, second = await asyncio.gather(turn("eerste", 0.05), turn("tweede", 0.0))

    assert order == ["eerste", "tweede"]
    assert second - started < 0.05 + 0.1  # Rasa's stock store would wait ~1 s


@pytest.mark.parametrize(
    "sender, shown",
    [
        ("whatsapp:+31612345678", "whatsapp:…5678"),
        ("+31 6 1234 5678", "…5678"),
        ("rest:Zx81kqPq0aB", "rest:Zx81…"),
        ("rest-api:eval-17", "rest-api:eval…"),
    ],
)
def test_logs_show_no_full_phone_numbers_or_session_ids(sender, shown):
    assert masked(sender) == shown


def test_every_log_message_of_the_process_masks_phone_numbers(caplog):
    import logging

    from faq.privacy import install_log_masking, mask_phone_numbers

    assert mask_phone_numbers("bel +31 6 1234 5678 of 0612345678") == (
        "bel …5678 of …5678"
    )
    assert (
        mask_phone_numbers("turn 12, 2026-11-30, 3 mg") == "turn 12, 2026-11-30, 3 mg"
    )
    previous = logging.getLogRecordFactory()
    try:
        install_log_masking()
        install_log_masking()  # idempotent
        caplog.set_level(logging.DEBUG, logger="rasa.core.processor")
        logging.getLogger("rasa.core.processor").debug(
            "Could not find tracker for conversation ID '%s'", "whatsapp:+31612345678"
        )
    finally:
        logging.setLogRecordFactory(previous)
    assert "31612345678" not in caplog.text
    assert "whatsapp:…5678" in caplog.text
