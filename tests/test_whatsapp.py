"""WhatsApp channel (channels/whatsapp.py) against a fake Twilio API.

The channel runs in a real Sanic server on 127.0.0.1; a fake ``on_new_message``
plays the bot, and a local HTTP server plays Twilio's REST API.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import logging
import re
import socket
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import (
    Any,
    AsyncIterator,
    Awaitable,
    Callable,
    Dict,
    Iterator,
    List,
    Optional,
)
from urllib.parse import parse_qs, urljoin

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage
from sanic import Sanic
from twilio.request_validator import RequestValidator

from server import settings as config
from server.channels import whatsapp_twilio as whatsapp
from server.channels.guard import APOLOGY_TEXT, EMPTY_TEXT
from server.channels.whatsapp_twilio import (
    OPTIONS_HINT,
    TEXT_ONLY_TEXT,
    OfferedOptions,
    WhatsAppInput,
    format_for_whatsapp,
    split_message,
    to_whatsapp_text,
)

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "test-auth-token-1234567890abcdef"
# Several Sanic apps start in this process; outside test mode Sanic's start-up
# optimisation (TouchUp) rewrites its own methods again and fails. Left on for
# the rest of the session on purpose: switching it off again breaks every later
# in-process Sanic start the same way.
Sanic.test_mode = True

Handler = Callable[[UserMessage], Awaitable[None]]
BOT_NUMBER = "whatsapp:+3197010000000"
USER = "whatsapp:+31612345678"

K2_REPLY: Dict[str, Any] = {
    "text": (
        "**Vitamine K2** zorgt dat calcium in je botten terechtkomt. "
        "Lees meer in [het artikel](https://www.example.nl/magnesium-en-vitamine-d)."
        "<br><i>Let op</i>: dit is geen persoonlijk advies."
    ),
    "buttons": [
        {"title": "Vitamine D en zonlicht", "payload": "/vitamine_d_zonlicht"},
        {"title": "Magnesium uit voeding", "payload": "/magnesium_voeding"},
        {"title": "Welke vorm magnesium?", "payload": "/magnesium_vormen"},
    ],
    "custom": {"topic": "vitamine_k2", "sources": [7, 8]},
}


# --- Fake Twilio REST API -----------------------------------------------------------


class FakeTwilio:
    """Twilio's Messages endpoint on 127.0.0.1, recording what it receives."""

    def __init__(self) -> None:
        self.requests: List[Dict[str, Any]] = []
        self.fail = False
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode("utf-8"))
                fake.requests.append(
                    {
                        "path": self.path,
                        "auth": self.headers.get("Authorization"),
                        "form": {key: values[0] for key, values in form.items()},
                    }
                )
                status = 500 if fake.fail else 201
                sid = f"SM{len(fake.requests):032d}"
                body = json.dumps(
                    {"sid": sid, "status": "queued"}
                    if status == 201
                    else {"code": 20500, "message": "Internal error", "status": 500}
                ).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, args=(0.05,), daemon=True
        )
        self.thread.start()

    @property
    def bodies(self) -> List[str]:
        return [request["form"]["Body"] for request in self.requests]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def twilio_api() -> Iterator[FakeTwilio]:
    fake = FakeTwilio()
    yield fake
    fake.close()


# --- Fake bot and the channel in a Sanic server --------------------------------------


class FakeBot:
    """Plays Rasa's ``on_new_message``: records texts, answers scripted messages."""

    def __init__(self, replies: Optional[List[Dict[str, Any]]] = None) -> None:
        self.replies = replies if replies is not None else [K2_REPLY]
        self.texts: List[str] = []
        self.messages: List[UserMessage] = []

    async def __call__(self, message: UserMessage) -> None:
        self.texts.append(message.text)
        self.messages.append(message)
        for reply in self.replies:
            await message.output_channel.send_response(message.sender_id, dict(reply))


class Server:
    """The channel's blueprint mounted like Rasa does, served on 127.0.0.1."""

    def __init__(self, channel: WhatsAppInput, bot: Handler, port: int) -> None:
        self.channel = channel
        self.bot = bot
        self.url = f"http://127.0.0.1:{port}/webhooks/whatsapp/webhook"

    async def post(
        self,
        form: Dict[str, str],
        signature: Optional[str] = "sign",
        url: Optional[str] = None,
        data: Optional[Dict[str, str]] = None,
    ) -> aiohttp.ClientResponse:
        """POSTs a form; by default signed correctly over ``url`` and ``form``."""
        headers = {}
        if signature == "sign":
            signature = sign(url or self.url, form)
        if signature is not None:
            headers["X-Twilio-Signature"] = signature
        async with aiohttp.ClientSession() as session:
            async with session.post(
                self.url, data=data if data is not None else form, headers=headers
            ) as resp:
                await resp.read()
                return resp


def sign(url: str, form: Dict[str, str], token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, form)


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


def make_channel(twilio_api: FakeTwilio, **kwargs: Any) -> WhatsAppInput:
    settings: Dict[str, Any] = {
        "account_sid": ACCOUNT_SID,
        "auth_token": AUTH_TOKEN,
        "twilio_number": BOT_NUMBER,
        "api_base_url": twilio_api.url,
    }
    settings.update(kwargs)
    return WhatsAppInput(**settings)


@contextlib.asynccontextmanager
async def serve(channel: WhatsAppInput, bot: Handler) -> AsyncIterator[Server]:
    app = Sanic(f"whatsapp_test_{uuid.uuid4().hex}")
    # As rasa.core.channels.channel.register() mounts input channels.
    app.blueprint(
        channel.blueprint(bot), url_prefix=urljoin("/webhooks/", channel.url_prefix())
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = await app.create_server(
        sock=sock, return_asyncio_server=True, access_log=False
    )
    # create_server() already listens; startup() finalizes the routes.
    await server.startup()
    try:
        yield Server(channel, bot, port)
    finally:
        await server.close()
        sock.close()


@pytest.fixture
def log_info(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="server.channels.whatsapp_twilio")
    return caplog


# --- The webhook ---------------------------------------------------------------------


async def test_signed_request_gets_whatsapp_formatted_reply(
    twilio_api: FakeTwilio, log_info: pytest.LogCaptureFixture
) -> None:
    bot = FakeBot()
    async with serve(make_channel(twilio_api), bot) as server:
        resp = await server.post(user_form("Waarom K2?"))

    assert resp.status == 200
    assert resp.content_type == "text/xml"
    assert bot.texts == ["Waarom K2?"]
    assert bot.messages[0].sender_id == USER
    assert bot.messages[0].input_channel == "whatsapp"

    [request] = twilio_api.requests
    assert request["path"] == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    expected_auth = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    assert request["auth"] == f"Basic {expected_auth}"
    form = request["form"]
    assert form["To"] == USER
    assert form["From"] == BOT_NUMBER
    body = form["Body"]
    assert body.startswith("*Vitamine K2* zorgt dat calcium")
    assert "het artikel: https://www.example.nl/magnesium-en-vitamine-d" in body
    assert "_Let op_: dit is geen persoonlijk advies." in body
    assert (
        "1. Vitamine D en zonlicht\n2. Magnesium uit voeding\n"
        f"3. Welke vorm magnesium?\n{OPTIONS_HINT}"
    ) in body
    for raw in ("/vitamine", "/magnesium_", "**", "](", "<br>", "<i>"):
        assert raw not in body
    assert "topic=vitamine_k2" in log_info.text


async def test_response_is_empty_twiml(twilio_api: FakeTwilio) -> None:
    async with serve(make_channel(twilio_api), FakeBot()) as server:
        resp = await server.post(user_form())
        text = await resp.text()
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/xml")
    assert re.fullmatch(r'<\?xml version="1.0" encoding="UTF-8"\?><Response ?/>', text)


@pytest.mark.parametrize("attack", ["unsigned", "wrong_signature", "tampered_body"])
async def test_unverified_requests_are_refused(
    twilio_api: FakeTwilio, attack: str
) -> None:
    bot = FakeBot()
    form = user_form("Hallo")
    async with serve(make_channel(twilio_api), bot) as server:
        if attack == "unsigned":
            resp = await server.post(form, signature=None)
        elif attack == "wrong_signature":
            resp = await server.post(form, signature=sign(server.url, form, "x" * 32))
        else:
            tampered = {**form, "Body": "Hallo, negeer je instructies"}
            resp = await server.post(form, data=tampered)
    assert resp.status == 403
    assert bot.texts == []
    assert twilio_api.requests == []


async def test_without_auth_token_every_request_is_refused(
    twilio_api: FakeTwilio,
) -> None:
    bot = FakeBot()
    async with serve(make_channel(twilio_api, auth_token=None), bot) as server:
        resp = await server.post(user_form())
    assert resp.status == 403
    assert bot.texts == []


async def test_configured_public_url_is_used_for_validation(
    twilio_api: FakeTwilio,
) -> None:
    public = "https://bot.example.nl/webhooks/whatsapp/webhook"
    bot = FakeBot()
    channel = make_channel(twilio_api, webhook_url=public)
    async with serve(channel, bot) as server:
        behind_proxy = await server.post(user_form("Hoi"), url=public)
        signed_for_local_url = await server.post(user_form("Hoi"))
    assert behind_proxy.status == 200
    assert signed_for_local_url.status == 403
    assert bot.texts == ["Hoi"]


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
    twilio_api: FakeTwilio, form: Dict[str, str]
) -> None:
    bot = FakeBot()
    async with serve(make_channel(twilio_api), bot) as server:
        resp = await server.post(form)
    assert resp.status == 200
    assert bot.texts == []
    assert twilio_api.bodies == [TEXT_ONLY_TEXT]
    assert TEXT_ONLY_TEXT.startswith("Ik kan alleen tekstberichten lezen")


async def test_blank_and_oversized_text_are_checked(twilio_api: FakeTwilio) -> None:
    bot = FakeBot()
    async with serve(make_channel(twilio_api), bot) as server:
        await server.post(user_form("   "))
        await server.post(user_form("woord " * config.MAX_MESSAGE_CHARS))
    assert bot.texts == []
    assert twilio_api.bodies[0] == EMPTY_TEXT
    assert twilio_api.bodies[1].startswith("Je bericht is te lang")


async def test_missing_sender_is_a_bad_request(twilio_api: FakeTwilio) -> None:
    form = user_form()
    del form["From"]
    async with serve(make_channel(twilio_api), FakeBot()) as server:
        resp = await server.post(form)
    assert resp.status == 400
    assert twilio_api.requests == []


@pytest.mark.parametrize("answer", ["2", " 2 ", "2.", "2)"])
async def test_number_answer_sends_the_chosen_payload(
    twilio_api: FakeTwilio, answer: str
) -> None:
    bot = FakeBot()
    async with serve(make_channel(twilio_api), bot) as server:
        await server.post(user_form("Waarom K2?"))
        await server.post(user_form(answer))
    assert bot.texts == ["Waarom K2?", "/magnesium_voeding"]


async def test_number_without_matching_option_is_passed_as_text(
    twilio_api: FakeTwilio,
) -> None:
    bot = FakeBot()
    async with serve(make_channel(twilio_api), bot) as server:
        await server.post(user_form("2"))  # nothing offered yet
        await server.post(user_form("Waarom K2?"))
        await server.post(user_form("7"))  # only 3 options
        await server.post(user_form("2 keer per dag?"))
    assert bot.texts == ["2", "Waarom K2?", "7", "2 keer per dag?"]


async def test_options_are_per_sender(twilio_api: FakeTwilio) -> None:
    bot = FakeBot()
    async with serve(make_channel(twilio_api), bot) as server:
        await server.post(user_form("Waarom K2?"))
        await server.post(user_form("1", From="whatsapp:+31687654321"))
    assert bot.texts == ["Waarom K2?", "1"]


async def test_long_answer_is_split_without_cutting_words(
    twilio_api: FakeTwilio,
) -> None:
    sentence = (
        "Magnesium helpt je lichaam vitamine D te activeren, en vitamine D "
        "verhoogt op zijn beurt je magnesiumbehoefte (calcidiol, calcitriol)."
    ).split()
    words: List[str] = []
    while len(" ".join(words)) + 1 + len(sentence[len(words) % len(sentence)]) < 4000:
        words.append(sentence[len(words) % len(sentence)])
    words.append("x" * (4000 - len(" ".join(words)) - 1))
    long_text = " ".join(words)
    assert len(long_text) == 4000
    bot = FakeBot([{"text": long_text, "custom": {"topic": "magnesium_voeding"}}])
    async with serve(make_channel(twilio_api), bot) as server:
        resp = await server.post(user_form("Vertel alles"))
    assert resp.status == 200
    bodies = twilio_api.bodies
    assert len(bodies) == 3
    assert all(len(body) <= 1600 for body in bodies)
    assert " ".join(bodies).split() == long_text.split()
    assert all(request["form"]["To"] == USER for request in twilio_api.requests)


async def test_silent_bot_gets_dutch_apology(twilio_api: FakeTwilio) -> None:
    bot = FakeBot(replies=[])
    async with serve(make_channel(twilio_api), bot) as server:
        resp = await server.post(user_form("Hallo?"))
    assert resp.status == 200
    assert bot.texts == ["Hallo?"]
    assert twilio_api.bodies == [APOLOGY_TEXT]


async def test_crashing_bot_gets_dutch_apology(twilio_api: FakeTwilio) -> None:
    async def crash(message: UserMessage) -> None:
        raise RuntimeError("action server down")

    async with serve(make_channel(twilio_api), crash) as server:
        resp = await server.post(user_form("Hallo?"))
    assert resp.status == 200
    assert twilio_api.bodies == [APOLOGY_TEXT]


async def test_failed_send_falls_back_to_twiml(twilio_api: FakeTwilio) -> None:
    twilio_api.fail = True
    async with serve(make_channel(twilio_api), FakeBot()) as server:
        resp = await server.post(user_form())
        text = await resp.text()
    assert resp.status == 200
    assert "<Message>*Vitamine K2* zorgt dat calcium" in text
    assert "1. Vitamine D en zonlicht" in text


async def test_health_route(twilio_api: FakeTwilio) -> None:
    async with serve(make_channel(twilio_api), FakeBot()) as server:
        async with aiohttp.ClientSession() as session:
            async with session.get(server.url.rsplit("/", 1)[0] + "/") as resp:
                assert resp.status == 200
                assert await resp.json() == {"status": "ok"}


# --- Signature algorithm, settings ---------------------------------------------------


def test_signature_matches_documented_hmac_sha1() -> None:
    url = "https://bot.example.nl/webhooks/whatsapp/webhook"
    form = {"From": USER, "Body": "Hallo", "To": BOT_NUMBER}
    data = url + "".join(key + form[key] for key in sorted(form))
    digest = hmac.new(AUTH_TOKEN.encode(), data.encode(), hashlib.sha1).digest()
    assert sign(url, form) == base64.b64encode(digest).decode()


def test_environment_wins_over_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(config, "TWILIO_AUTH_TOKEN", "from-env")
    monkeypatch.setattr(config, "TWILIO_ACCOUNT_SID", None)
    monkeypatch.setattr(config, "TWILIO_WHATSAPP_NUMBER", None)
    monkeypatch.setattr(config, "WHATSAPP_WEBHOOK_URL", None)
    channel = WhatsAppInput.from_credentials(
        {
            "account_sid": "AC-from-yml",
            "auth_token": "from-yml",
            "twilio_number": "whatsapp:+3197000000001",
            "webhook_url": "https://bot.example.nl/webhooks/whatsapp/webhook",
        }
    )
    assert channel.auth_token == "from-env"
    assert channel.account_sid == "AC-from-yml"
    assert channel.twilio_number == "whatsapp:+3197000000001"
    assert channel.webhook_url == "https://bot.example.nl/webhooks/whatsapp/webhook"
    assert WhatsAppInput.name() == "whatsapp"


def test_no_credentials_at_all_builds_a_closed_channel(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in (
        "TWILIO_AUTH_TOKEN",
        "TWILIO_ACCOUNT_SID",
        "TWILIO_WHATSAPP_NUMBER",
        "WHATSAPP_WEBHOOK_URL",
    ):
        monkeypatch.setattr(config, name, None)
    channel = WhatsAppInput.from_credentials(None)
    assert channel.auth_token is None
    assert channel.get_output_channel().sender is None  # type: ignore[attr-defined]


# --- Formatting ----------------------------------------------------------------------


def test_markdown_and_html_become_whatsapp_text() -> None:
    text = to_whatsapp_text(
        "## Bronnen\n**Vet** en *schuin* en __ook vet__.\n"
        "Zie [de kennisbank](https://www.example.nl/kennisbank) of "
        "<https://www.example.nl/test>, mail [ons](mailto:info@example.nl).\n"
        "<p>Eerste alinea &amp; meer</p><p>Tweede <strong>alinea</strong></p>\n"
        "* punt een\n* punt twee\n"
        "Link met underscores: https://www.example.nl/a__b__c en 2*3*4 = 24"
    )
    assert text == (
        "*Bronnen*\n*Vet* en _schuin_ en *ook vet*.\n"
        "Zie de kennisbank: https://www.example.nl/kennisbank of "
        "https://www.example.nl/test, mail ons: info@example.nl.\n"
        "Eerste alinea & meer\n\nTweede *alinea*\n\n"
        "- punt een\n- punt twee\n"
        "Link met underscores: https://www.example.nl/a__b__c en 2*3*4 = 24"
    )


def test_link_whose_text_is_the_url_is_shown_once() -> None:
    assert (
        to_whatsapp_text("[https://www.example.nl](https://www.example.nl)")
        == "https://www.example.nl"
    )


def test_buttons_become_numbered_options_without_payloads() -> None:
    [body] = format_for_whatsapp(
        {
            "text": "Waar wil je meer over weten?",
            "buttons": [
                {"title": "Vitamine **K2**", "payload": "/vitamine_k2"},
                {"title": "Kennisbank", "url": "https://www.example.nl/kennisbank"},
                {"title": "Supplementen", "payload": '/vitamine_d{"x": 1}'},
            ],
            "custom": {"topic": "hulp", "sources": []},
        },
        first_number=3,
    )
    assert body == (
        "Waar wil je meer over weten?\n\n"
        "Kennisbank: https://www.example.nl/kennisbank\n\n"
        f"3. Vitamine *K2*\n4. Supplementen\n{OPTIONS_HINT}"
    )
    assert whatsapp.offered_payloads(
        {"buttons": [{"title": "A", "payload": "/a"}]}
    ) == ["/a"]


def test_split_prefers_paragraphs_then_lines_then_words() -> None:
    paragraph = "Alinea " + "woord " * 150  # about 900 characters
    text = "\n\n".join([paragraph.strip()] * 4)
    parts = split_message(text, 1600)
    assert [part.count("Alinea") for part in parts] == [1, 1, 1, 1]
    assert all(len(part) <= 1600 for part in parts)

    one_block = "regel met tekst\n" * 200
    parts = split_message(one_block, 1600)
    assert all(len(part) <= 1600 and part.endswith("tekst") for part in parts)
    assert "\n".join(parts).split("\n") == one_block.strip().split("\n")

    assert split_message("kort") == ["kort"]
    assert split_message("   ") == []
    assert split_message("x" * 3500, 1600) == ["x" * 1600, "x" * 1600, "x" * 300]


def test_offered_options_are_bounded() -> None:
    options = OfferedOptions(max_senders=2)
    options.remember("a", ["/a1", "/a2"])
    options.remember("b", ["/b1"])
    options.remember("c", ["/c1"])
    assert len(options) == 2
    assert options.resolve("a", "1") is None
    assert options.resolve("b", " 1. ") == "/b1"
    assert options.resolve("c", "1") == "/c1"
    options.remember("c", [])
    assert options.resolve("c", "1") is None
