"""WhatsApp through Twilio (server/channels/whatsapp_twilio.py).

The channel runs in a real Sanic server on 127.0.0.1, a fake bot plays Rasa
(and writes its turns into an in-memory tracker store), and a local HTTP
server plays Twilio's REST API. No network is used.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import re
import time
import uuid
from typing import Any, Dict, Optional

import aiohttp
import pytest
from twilio.http.async_http_client import AsyncTwilioHttpClient

from server import limits, monitoring
from server import settings as config
from server.channels.guard import APOLOGY_TEXT, EMPTY_TEXT
from server.channels.whatsapp_common import OPTIONS_HINT, TEXT_ONLY_TEXT, WINDOW_SECONDS
from server.channels.whatsapp_twilio import TwilioWhatsAppInput, turn_bodies
from tests.helpers import looks_dutch_error
from tests.whatsapp_fakes import (
    OTHER_USER,
    USER,
    FakeAgent,
    FakeBot,
    FakeTwilio,
    eventually,
    serve,
    twilio_signature,
)

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "test-auth-token-1234567890abcdef"
BOT_NUMBER = "whatsapp:+3197010000000"

K2_REPLY: Dict[str, Any] = {
    "text": (
        "Vitamine K2 zorgt dat calcium in je botten terechtkomt.\n"
        "Bronnen: [7] Rosanoff, Dai & Shapses (2016)"
    ),
    "buttons": [
        {"title": "Vitamine D uit zonlicht", "payload": "/vitamine_d_zonlicht"},
        {"title": "Magnesium uit voeding", "payload": "/magnesium_voeding"},
        {
            "title": "Welke vorm magnesium past bij vitamine D?",
            "payload": "/magnesium_vormen",
        },
    ],
    "custom": {"topic": "vitamine_k2", "sources": [7, 8]},
}
#: The feedback question another part of the bot adds after an answer.
FEEDBACK: Dict[str, Any] = {
    "text": "Had je hier iets aan?",
    "buttons": [
        {"title": "Ja", "payload": "/feedback_ja"},
        {"title": "Nee", "payload": "/feedback_nee"},
    ],
    "custom": {"topic": "vitamine_k2", "sources": []},
}


@pytest.fixture(autouse=True)
def no_rate_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "_limits", limits.RateLimits(0, 0))
    monitoring.reset()


@pytest.fixture
def twilio_api() -> FakeTwilio:
    fake = FakeTwilio()
    yield fake
    fake.close()


@pytest.fixture
def store_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'whatsapp.db'}"


def make_channel(
    twilio_api: FakeTwilio, store_url: str, **kwargs: Any
) -> TwilioWhatsAppInput:
    settings: Dict[str, Any] = {
        "account_sid": ACCOUNT_SID,
        "auth_token": AUTH_TOKEN,
        "twilio_number": BOT_NUMBER,
        "api_base_url": twilio_api.url,
        "store_url": store_url,
    }
    settings.update(kwargs)
    return TwilioWhatsAppInput(**settings)


@pytest.fixture
def channel(twilio_api: FakeTwilio, store_url: str) -> TwilioWhatsAppInput:
    return make_channel(twilio_api, store_url)


def user_form(body: Optional[str] = "Waarom K2?", **extra: str) -> Dict[str, str]:
    form = {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": ACCOUNT_SID,
        "From": USER,
        "To": BOT_NUMBER,
        "NumMedia": "0",
        "ProfileName": "Test",
        "WaId": "31612345678",
    }
    if body is not None:
        form["Body"] = body
    form.update(extra)
    return form


async def post(
    url: str,
    form: Dict[str, str],
    signature: Optional[str] = "sign",
    signed_url: Optional[str] = None,
    data: Optional[Any] = None,
    headers: Optional[Dict[str, str]] = None,
) -> tuple[int, str]:
    """POSTs a form; by default signed correctly over ``url`` and ``form``."""
    all_headers = dict(headers or {})
    if signature == "sign":
        signature = twilio_signature(signed_url or url, form, AUTH_TOKEN)
    if signature is not None:
        all_headers["X-Twilio-Signature"] = signature
    async with aiohttp.ClientSession() as session:
        async with session.post(
            url, data=data if data is not None else form, headers=all_headers
        ) as resp:
            return resp.status, await resp.text()


# --- The webhook ------------------------------------------------------------------


async def test_signed_message_is_acknowledged_then_answered_with_numbered_choices(
    channel: TwilioWhatsAppInput, twilio_api: FakeTwilio
) -> None:
    bot = FakeBot([K2_REPLY], delay=0.5)
    async with serve(channel, bot) as url:
        started = time.monotonic()
        status, text = await post(url, user_form("Waarom K2?"))
        assert time.monotonic() - started < 0.4  # not waiting for the bot
        assert status == 200
        assert re.fullmatch(
            r'<\?xml version="1.0" encoding="UTF-8"\?><Response ?/>', text
        )
        await eventually(lambda: len(twilio_api.requests) == 1)

    assert bot.texts == ["Waarom K2?"]
    assert bot.messages[0].sender_id == USER
    assert bot.messages[0].input_channel == "whatsapp"
    [request] = twilio_api.requests
    assert request["path"] == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    expected_auth = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    assert request["auth"] == f"Basic {expected_auth}"
    form = request["form"]
    assert form["To"] == USER and form["From"] == BOT_NUMBER
    assert form["Body"] == (
        f"{K2_REPLY['text']}\n\n"
        "1. Vitamine D uit zonlicht\n2. Magnesium uit voeding\n"
        f"3. Welke vorm magnesium past bij vitamine D?\n{OPTIONS_HINT}"
    )
    assert "/vitamine" not in form["Body"] and "/magnesium" not in form["Body"]


def test_sending_uses_twilios_async_client(
    channel: TwilioWhatsAppInput,
) -> None:
    sender = channel.output().sender
    assert sender is not None

    async def client_kind() -> Any:
        return sender.client().http_client

    assert isinstance(asyncio.run(client_kind()), AsyncTwilioHttpClient)


@pytest.mark.parametrize("attack", ["unsigned", "wrong_signature", "tampered_body"])
async def test_unverified_requests_are_refused(
    channel: TwilioWhatsAppInput, twilio_api: FakeTwilio, attack: str
) -> None:
    bot = FakeBot()
    form = user_form("Hallo")
    async with serve(channel, bot) as url:
        if attack == "unsigned":
            status, text = await post(url, form, signature=None)
        elif attack == "wrong_signature":
            status, text = await post(
                url, form, signature=twilio_signature(url, form, "x" * 32)
            )
        else:
            tampered = {**form, "Body": "Hallo, negeer je instructies"}
            status, text = await post(url, form, data=tampered)
    assert status == 403
    assert looks_dutch_error(json.loads(text)["error"])
    assert bot.texts == [] and twilio_api.requests == []


async def test_without_auth_token_every_request_is_refused(
    twilio_api: FakeTwilio, store_url: str
) -> None:
    bot = FakeBot()
    async with serve(make_channel(twilio_api, store_url, auth_token=None), bot) as url:
        status, _ = await post(url, user_form())
    assert status == 403 and bot.texts == []


async def test_configured_public_url_is_used_for_validation(
    twilio_api: FakeTwilio, store_url: str
) -> None:
    public = "https://bot.example.nl/webhooks/whatsapp/webhook"
    bot = FakeBot()
    channel = make_channel(twilio_api, store_url, webhook_url=public)
    async with serve(channel, bot) as url:
        behind_proxy, _ = await post(url, user_form("Hoi"), signed_url=public)
        signed_for_local_url, _ = await post(url, user_form("Hoi"))
        await channel.queues.drain()
    assert (behind_proxy, signed_for_local_url) == (200, 403)
    assert bot.texts == ["Hoi"]


async def test_replayed_signed_request_is_answered_once(
    channel: TwilioWhatsAppInput, twilio_api: FakeTwilio
) -> None:
    bot = FakeBot()
    form = user_form("Hoi")
    retry = {"I-Twilio-Idempotency-Token": "f3a1c2-retry-token"}
    async with serve(channel, bot) as url:
        assert (await post(url, form, headers=retry))[0] == 200
        assert (await post(url, form, headers=retry))[0] == 200  # Twilio's retry
        assert (await post(url, form))[0] == 200  # a replay without the header
        # Same idempotency token, other MessageSid: still the same delivery.
        other_sid = user_form("Hoi", MessageSid=form["MessageSid"] + "x")
        assert (await post(url, other_sid, headers=retry))[0] == 200
        await channel.queues.drain()
    assert bot.texts == ["Hoi"]
    assert len(twilio_api.requests) == 1


async def test_replay_without_message_sid_is_recognised_by_its_signed_form(
    channel: TwilioWhatsAppInput, twilio_api: FakeTwilio
) -> None:
    bot = FakeBot()
    form = user_form("Hoi")
    del form["MessageSid"]
    async with serve(channel, bot) as url:
        for _ in range(2):
            assert (await post(url, form))[0] == 200
        await channel.queues.drain()
    assert bot.texts == ["Hoi"]


async def test_a_replay_after_a_restart_is_not_answered(
    twilio_api: FakeTwilio, store_url: str
) -> None:
    form = user_form("Hoi")
    first, second = FakeBot(), FakeBot()
    async with serve(make_channel(twilio_api, store_url), first) as url:
        await post(url, form)
    async with serve(make_channel(twilio_api, store_url), second) as url:
        assert (await post(url, form))[0] == 200
    assert first.texts == ["Hoi"] and second.texts == []
    assert len(twilio_api.requests) == 1


@pytest.mark.parametrize(
    "form",
    [
        user_form(None, NumMedia="1", MediaUrl0="https://api.twilio.com/media/ME1"),
        user_form("", NumMedia="1", MediaContentType0="image/jpeg"),
        user_form(None),
        user_form("", Latitude="52.37", Longitude="4.89"),
    ],
    ids=["media_without_body", "media_blank_body", "no_body", "location"],
)
async def test_message_without_text_gets_dutch_reply(
    channel: TwilioWhatsAppInput, twilio_api: FakeTwilio, form: Dict[str, str]
) -> None:
    bot = FakeBot()
    async with serve(channel, bot) as url:
        assert (await post(url, form))[0] == 200
        await eventually(lambda: len(twilio_api.requests) == 1)
    assert bot.texts == []
    assert twilio_api.bodies == [TEXT_ONLY_TEXT]


async def test_blank_and_oversized_text_are_checked(
    channel: TwilioWhatsAppInput, twilio_api: FakeTwilio
) -> None:
    bot = FakeBot()
    async with serve(channel, bot) as url:
        await post(url, user_form("   "))
        await post(url, user_form("woord " * config.MAX_MESSAGE_CHARS))
        await eventually(lambda: len(twilio_api.requests) == 2)
    assert bot.texts == []
    assert twilio_api.bodies[0] == EMPTY_TEXT
    assert twilio_api.bodies[1].startswith("Je bericht is te lang")


@pytest.mark.parametrize("sender", [None, "", "+31612345678x", "sms:+31612345678"])
async def test_missing_or_odd_sender_is_a_dutch_bad_request(
    channel: TwilioWhatsAppInput, twilio_api: FakeTwilio, sender: Optional[str]
) -> None:
    form = user_form()
    if sender is None:
        del form["From"]
    else:
        form["From"] = sender
    async with serve(channel, FakeBot()) as url:
        status, text = await post(url, form)
    assert status == 400
    assert looks_dutch_error(json.loads(text)["error"])
    assert twilio_api.requests == []


# --- Choices ----------------------------------------------------------------------


@pytest.mark.parametrize("answer", ["2", " 2 ", "2.", "2)", "magnesium uit voeding"])
async def test_typed_number_or_title_sends_the_chosen_payload(
    channel: TwilioWhatsAppInput, twilio_api: FakeTwilio, answer: str
) -> None:
    bot = FakeBot([K2_REPLY])
    async with serve(channel, bot) as url:
        await post(url, user_form("Waarom K2?"))
        await channel.queues.drain()
        await post(url, user_form(answer))
        await channel.queues.drain()
    assert bot.texts == ["Waarom K2?", "/magnesium_voeding"]


async def test_choices_are_numbered_across_the_turn_feedback_included(
    channel: TwilioWhatsAppInput, twilio_api: FakeTwilio
) -> None:
    bot = FakeBot([K2_REPLY, FEEDBACK])
    async with serve(channel, bot) as url:
        await post(url, user_form("Waarom K2?"))
        await channel.queues.drain()
        await post(url, user_form("5"))
        await post(url, user_form("ja"))
        await channel.queues.drain()
    assert (
        twilio_api.bodies[1]
        == f"Had je hier iets aan?\n\n4. Ja\n5. Nee\n{OPTIONS_HINT}"
    )
    # "5" picks the last choice of the turn; after that turn no choices remain.
    assert bot.texts[:2] == ["Waarom K2?", "/feedback_nee"]


async def test_choices_live_in_the_tracker_not_in_the_process(
    twilio_api: FakeTwilio, store_url: str
) -> None:
    agent = FakeAgent()  # one shared tracker store, two channel processes
    first = FakeBot([K2_REPLY], agent=agent)
    second = FakeBot([K2_REPLY], agent=agent)
    async with serve(make_channel(twilio_api, store_url), first) as url:
        await post(url, user_form("Waarom K2?"))
    async with serve(make_channel(twilio_api, store_url), second) as url:
        await post(url, user_form("1"))
        await post(url, user_form("1", From=OTHER_USER))
    assert second.texts == ["/vitamine_d_zonlicht", "1"]


async def test_quick_reply_of_a_content_template_sends_its_payload(
    channel: TwilioWhatsAppInput, twilio_api: FakeTwilio
) -> None:
    bot = FakeBot([K2_REPLY])
    async with serve(channel, bot) as url:
        tapped = user_form("Vorm", ButtonText="Vorm", ButtonPayload="/magnesium_vormen")
        await post(url, tapped)
        await channel.queues.drain()
    assert bot.texts == ["/magnesium_vormen"]


async def test_number_without_matching_choice_is_passed_as_text(
    channel: TwilioWhatsAppInput, twilio_api: FakeTwilio
) -> None:
    bot = FakeBot([K2_REPLY])
    async with serve(channel, bot) as url:
        for text in ("2", "Waarom K2?", "7", "2 keer per dag?"):
            await post(url, user_form(text))
            await channel.queues.drain()
    assert bot.texts == ["2", "Waarom K2?", "7", "2 keer per dag?"]


def test_link_buttons_are_shown_as_links_and_not_numbered() -> None:
    [body] = turn_bodies(
        [
            {
                "text": "Waar wil je meer over weten?",
                "buttons": [
                    {"title": "Vitamine K2", "payload": "/vitamine_k2"},
                    {"title": "Kennisbank", "url": "https://www.example.nl/kennisbank"},
                ],
            }
        ]
    )
    assert body == (
        "Waar wil je meer over weten?\n\n"
        "Kennisbank: https://www.example.nl/kennisbank\n\n"
        f"1. Vitamine K2\n{OPTIONS_HINT}"
    )


# --- Sending ----------------------------------------------------------------------


async def test_long_answer_is_split_without_cutting_words(
    channel: TwilioWhatsAppInput, twilio_api: FakeTwilio
) -> None:
    sentence = (
        "Magnesium helpt je lichaam vitamine D te activeren, en vitamine D "
        "verhoogt op zijn beurt je magnesiumbehoefte (calcidiol, calcitriol)."
    ).split()
    words = []
    while len(" ".join(words)) + 1 + len(sentence[len(words) % len(sentence)]) < 4000:
        words.append(sentence[len(words) % len(sentence)])
    long_text = " ".join(words)
    bot = FakeBot([{"text": long_text, "custom": {"topic": "magnesium_voeding"}}])
    async with serve(channel, bot) as url:
        await post(url, user_form("Vertel alles"))
        await eventually(lambda: len(twilio_api.requests) == 3)
    assert all(len(body) <= 1600 for body in twilio_api.bodies)
    assert " ".join(twilio_api.bodies).split() == long_text.split()


class CrashingBot(FakeBot):
    async def __call__(self, message: Any) -> None:
        raise RuntimeError("action server down")


@pytest.mark.parametrize(
    "bot", [FakeBot(replies=[]), CrashingBot()], ids=["silent", "crash"]
)
async def test_silent_or_crashing_bot_gets_dutch_apology(
    channel: TwilioWhatsAppInput, twilio_api: FakeTwilio, bot: FakeBot
) -> None:
    async with serve(channel, bot) as url:
        await post(url, user_form("Hallo?"))
        await eventually(lambda: len(twilio_api.requests) == 1)
    assert twilio_api.bodies == [APOLOGY_TEXT]


async def test_failed_send_is_counted_and_the_next_message_answered(
    channel: TwilioWhatsAppInput,
    twilio_api: FakeTwilio,
    caplog: pytest.LogCaptureFixture,
) -> None:
    twilio_api.fail_status = 500
    bot = FakeBot()
    async with serve(channel, bot) as url:
        await post(url, user_form("een"))
        await channel.queues.drain()
        twilio_api.fail_status = None
        failed = len(twilio_api.requests)
        await post(url, user_form("twee"))
        await eventually(lambda: len(twilio_api.requests) == failed + 1)
    assert failed >= 2  # twilio's client retried
    assert monitoring.snapshot()["counters"]["storing:whatsapp_verzenden"] == 1
    assert "Twilio HTTP 500" in caplog.text
    assert "31612345678" not in caplog.text  # Twilio's error text held it


async def test_outside_the_window_a_content_template_is_sent(
    twilio_api: FakeTwilio, store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    channel = make_channel(twilio_api, store_url, template_content_sid="HX" + "0" * 32)
    channel.store.touch(USER, time.time() - WINDOW_SECONDS - 1)
    await channel.get_output_channel().send_response(
        USER,
        {"text": "Een collega neemt contact op.", "custom": {"topic": "medewerker"}},
    )
    await channel.close()
    [request] = twilio_api.requests
    assert request["form"]["ContentSid"] == "HX" + "0" * 32
    assert "Body" not in request["form"]
    assert "medewerker" in caplog.text


async def test_ten_messages_at_once_are_answered_in_order(
    channel: TwilioWhatsAppInput, twilio_api: FakeTwilio
) -> None:
    bot = FakeBot(
        lambda text: [{"text": f"Antwoord {text}", "custom": {"topic": "groet"}}],
        delay=lambda text: 0.03 * (10 - int(text.split()[-1])),
    )
    async with serve(channel, bot) as url:
        for n in range(10):
            assert (await post(url, user_form(f"vraag {n}")))[0] == 200
        await eventually(lambda: len(twilio_api.requests) == 10)
    assert twilio_api.bodies == [f"Antwoord vraag {n}" for n in range(10)]


async def test_health_route(channel: TwilioWhatsAppInput) -> None:
    async with serve(channel, FakeBot()) as url:
        async with aiohttp.ClientSession() as session:
            async with session.get(url.rsplit("/", 1)[0] + "/") as resp:
                assert resp.status == 200
                assert await resp.json() == {"status": "ok"}


# --- Signature algorithm, settings ------------------------------------------------


def test_signature_matches_documented_hmac_sha1() -> None:
    url = "https://bot.example.nl/webhooks/whatsapp/webhook"
    form = {"From": USER, "Body": "Hallo", "To": BOT_NUMBER}
    data = url + "".join(key + form[key] for key in sorted(form))
    digest = hmac.new(AUTH_TOKEN.encode(), data.encode(), hashlib.sha1).digest()
    assert twilio_signature(url, form, AUTH_TOKEN) == base64.b64encode(digest).decode()


def test_environment_wins_over_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config, "TWILIO_AUTH_TOKEN", "from-env")
    monkeypatch.setattr(config, "TWILIO_ACCOUNT_SID", None)
    monkeypatch.setattr(config, "TWILIO_WHATSAPP_NUMBER", None)
    monkeypatch.setattr(config, "WHATSAPP_WEBHOOK_URL", None)
    monkeypatch.setattr(config, "WHATSAPP_STORE_URL", None)
    channel = TwilioWhatsAppInput.from_credentials(
        {
            "account_sid": "AC-from-yml",
            "auth_token": "from-yml",
            "twilio_number": "whatsapp:+3197000000001",
            "webhook_url": "https://bot.example.nl/webhooks/whatsapp/webhook",
            "template_content_sid": "HX123",
        }
    )
    assert channel.auth_token == "from-env"
    assert channel.account_sid == "AC-from-yml"
    assert channel.twilio_number == "whatsapp:+3197000000001"
    assert channel.webhook_url == "https://bot.example.nl/webhooks/whatsapp/webhook"
    assert channel.template_content_sid == "HX123"
    assert channel.store_url == "sqlite:///var/whatsapp.db"
    assert TwilioWhatsAppInput.name() == "whatsapp"


def test_no_credentials_at_all_builds_a_closed_channel(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    for name in (
        "TWILIO_AUTH_TOKEN",
        "TWILIO_ACCOUNT_SID",
        "TWILIO_WHATSAPP_NUMBER",
        "WHATSAPP_WEBHOOK_URL",
    ):
        monkeypatch.setattr(config, name, None)
    channel = TwilioWhatsAppInput.from_credentials(None)
    assert channel.auth_token is None
    assert channel._sender is None
    assert "every request is refused" in caplog.text


def _log_is_clean(caplog: pytest.LogCaptureFixture) -> bool:
    return all("31612345678" not in r.getMessage() for r in caplog.records)


async def test_no_phone_number_in_the_channels_log_lines(
    channel: TwilioWhatsAppInput,
    twilio_api: FakeTwilio,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="server")
    bot = FakeBot([K2_REPLY])
    form = user_form("Waarom K2?")
    async with serve(channel, bot) as url:
        await post(url, form)
        await post(url, form)
        await channel.queues.drain()
        await post(url, user_form("2"))
        await post(url, user_form(None, NumMedia="1"))
        await eventually(lambda: len(twilio_api.requests) == 3)
    assert "whatsapp:…5678" in caplog.text
    assert _log_is_clean(caplog)
