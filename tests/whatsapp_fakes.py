"""Stand-ins for the WhatsApp tests: the providers' APIs, the bot, the agent.

- :class:`FakeTwilio` and :class:`FakeGraph` play Twilio's REST API and Meta's
  Graph API on 127.0.0.1 and record what they receive.
- :class:`FakeBot` plays Rasa's ``on_new_message``: it records the texts,
  answers with scripted messages and writes the turn into an in-memory tracker
  store, as Rasa does, so a channel can read the choices it offered.
- :func:`serve` mounts a channel's blueprint the way Rasa does and finishes
  its queued work before it returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, AsyncIterator, Callable, Dict, List, Optional, Union
from urllib.parse import parse_qs

from rasa.core.channels.channel import UserMessage
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered
from twilio.request_validator import RequestValidator

from server.channels.whatsapp_common import WhatsAppInput
from tests.helpers import serve_app

USER = "whatsapp:+31612345678"
USER_DIGITS = "31612345678"
OTHER_USER = "whatsapp:+31687654321"

# --- The providers' APIs ----------------------------------------------------------


class FakeApi:
    """An HTTP API on 127.0.0.1 that records every POST."""

    def __init__(self) -> None:
        self.requests: List[Dict[str, Any]] = []
        #: HTTP status to answer with instead of success (e.g. 500).
        self.fail_status: Optional[int] = None
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                status, body = fake.answer(self.path, dict(self.headers), raw)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, args=(0.05,), daemon=True
        )
        self.thread.start()

    def answer(
        self, path: str, headers: Dict[str, str], raw: bytes
    ) -> tuple[int, Dict[str, Any]]:
        raise NotImplementedError

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class FakeTwilio(FakeApi):
    """Twilio's Messages endpoint."""

    def answer(self, path, headers, raw):
        form = parse_qs(raw.decode("utf-8"))
        self.requests.append(
            {
                "path": path,
                "auth": headers.get("Authorization"),
                "form": {key: values[0] for key, values in form.items()},
            }
        )
        if self.fail_status:
            return self.fail_status, {
                "code": 20500,
                "message": "Internal error for +31612345678",
                "status": self.fail_status,
            }
        return 201, {"sid": f"SM{len(self.requests):032d}", "status": "queued"}

    @property
    def bodies(self) -> List[str]:
        return [r["form"].get("Body", "") for r in self.requests]


class FakeGraph(FakeApi):
    """The Graph API's ``/<version>/<phone number id>/messages`` endpoint."""

    def answer(self, path, headers, raw):
        self.requests.append(
            {
                "path": path,
                "auth": headers.get("Authorization"),
                "json": json.loads(raw),
            }
        )
        if self.fail_status:
            return self.fail_status, {
                "error": {"code": 131000, "message": "Something went wrong"}
            }
        return 200, {
            "messaging_product": "whatsapp",
            "messages": [{"id": f"wamid.fake{len(self.requests)}"}],
        }

    @property
    def sent(self) -> List[Dict[str, Any]]:
        return [r["json"] for r in self.requests]


def shown_text(payload: Dict[str, Any]) -> str:
    """The text a Cloud API message shows (text body or interactive body)."""
    if payload["type"] == "text":
        return payload["text"]["body"]
    if payload["type"] == "interactive":
        return payload["interactive"]["body"]["text"]
    return ""


# --- The bot ----------------------------------------------------------------------

Replies = Union[List[Dict[str, Any]], Callable[[str], List[Dict[str, Any]]]]


class FakeAgent:
    """What a channel reads from Rasa's agent: the tracker store."""

    def __init__(self) -> None:
        self.tracker_store = InMemoryTrackerStore(Domain.empty())


class FakeBot:
    """Plays Rasa's ``on_new_message`` and records the turn in a tracker."""

    def __init__(
        self,
        replies: Optional[Replies] = None,
        delay: Union[float, Callable[[str], float]] = 0.0,
        agent: Optional[FakeAgent] = None,
    ) -> None:
        self.replies: Replies = (
            replies
            if replies is not None
            else [{"text": "Dit is het antwoord.", "custom": {"topic": "groet"}}]
        )
        self.delay = delay
        self.agent = agent or FakeAgent()
        self.texts: List[str] = []
        self.messages: List[UserMessage] = []

    async def __call__(self, message: UserMessage) -> None:
        self.texts.append(message.text)
        self.messages.append(message)
        delay = self.delay(message.text) if callable(self.delay) else self.delay
        if delay:
            await asyncio.sleep(delay)
        replies = self.replies(message.text) if callable(self.replies) else self.replies
        store = self.agent.tracker_store
        tracker = await store.get_or_create_tracker(message.sender_id)
        tracker.update(UserUttered(message.text, message_id=message.message_id))
        for reply in replies:
            await message.output_channel.send_response(message.sender_id, dict(reply))
            data = {k: reply[k] for k in ("buttons", "quick_replies") if k in reply}
            tracker.update(BotUttered(reply.get("text"), data=data))
        await store.save(tracker)


@contextlib.asynccontextmanager
async def serve(channel: WhatsAppInput, bot: FakeBot) -> AsyncIterator[str]:
    """Serves the channel as Rasa mounts it; yields the webhook URL.

    On exit the channel's queued work is finished and its clients closed.
    """
    async with serve_app(
        channel.blueprint(bot), f"/webhooks/{channel.name()}", bot.agent
    ) as base:
        try:
            yield f"{base}/webhooks/{channel.name()}/webhook"
        finally:
            await channel.close()


async def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    """Waits until ``check()`` is true (the answer arrives after the 200)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


# --- Signing ----------------------------------------------------------------------


def meta_signature(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def twilio_signature(url: str, form: Dict[str, str], token: str) -> str:
    return RequestValidator(token).compute_signature(url, form)


# --- Meta payloads ----------------------------------------------------------------

PHONE_NUMBER_ID = "106540352242922"


def meta_message(
    kind: str = "text",
    text: Optional[str] = "Waarom K2?",
    sender: str = USER_DIGITS,
    message_id: Optional[str] = None,
    **content: Any,
) -> Dict[str, Any]:
    """One incoming message as the Cloud API posts it."""
    message: Dict[str, Any] = {
        "from": sender,
        "id": message_id or f"wamid.{uuid.uuid4().hex}",
        "timestamp": str(int(time.time())),
        "type": kind,
    }
    if kind == "text":
        message["text"] = {"body": text}
    message.update(content)
    return message


def meta_payload(
    messages: Optional[List[Dict[str, Any]]] = None,
    statuses: Optional[List[Dict[str, Any]]] = None,
    phone_number_id: str = PHONE_NUMBER_ID,
) -> Dict[str, Any]:
    """A webhook payload with one entry and one change."""
    value: Dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": "3197010000000",
            "phone_number_id": phone_number_id,
        },
    }
    if messages is not None:
        value["contacts"] = [
            {"profile": {"name": "Test"}, "wa_id": m.get("from")} for m in messages
        ]
        value["messages"] = messages
    if statuses is not None:
        value["statuses"] = statuses
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [{"field": "messages", "value": value}],
            }
        ],
    }


def meta_status(state: str, **extra: Any) -> Dict[str, Any]:
    return {
        "id": f"wamid.{uuid.uuid4().hex}",
        "status": state,
        "timestamp": str(int(time.time())),
        "recipient_id": USER_DIGITS,
        **extra,
    }
