"""Tests of the handoff to customer service: transcript, endpoint, log."""

from __future__ import annotations

import http.server
import json
import logging
import threading

import pytest
from rasa_sdk import Tracker

from actions import config
from actions.conversation import ActionCustomerService
from actions.handoff import build_transcript, hand_off

EVENTS = [
    {"event": "action", "name": "action_listen"},
    {"event": "user", "text": "welk eten bevat magnesium?"},
    {
        "event": "bot",
        "text": "Groene bladgroenten ...",
        "data": {"custom": {"topic": "magnesium_voeding", "sources": [2]}},
    },
    {"event": "user", "text": "en vitamine d?"},
    {
        "event": "bot",
        "text": "Vette vis ...",
        "data": {"custom": {"topic": "vitamine_d_voeding", "sources": [1]}},
    },
    {"event": "user", "text": "ik wil een medewerker spreken"},
]


def tracker() -> Tracker:
    latest = {"text": "ik wil een medewerker spreken", "intent": {"name": "medewerker"}}
    return Tracker("klant-7", {}, latest, EVENTS, False, None, {}, "action_listen")


def test_transcript_has_the_turns_and_the_topics_asked():
    transcript = build_transcript(tracker())

    assert transcript["sender_id"] == "klant-7"
    assert [t["van"] for t in transcript["turns"]] == [
        "klant",
        "assistent",
        "klant",
        "assistent",
        "klant",
    ]
    assert transcript["topics"] == ["magnesium_voeding", "vitamine_d_voeding"]


@pytest.fixture
def endpoint():
    received = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # - http.server API
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(202)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/handoff", received
    server.shutdown()
    server.server_close()


async def test_customer_service_posts_the_transcript_and_logs_it(
    endpoint, monkeypatch, caplog, dispatcher
):
    url, received = endpoint
    monkeypatch.setattr(config, "HANDOFF_URL", url)
    caplog.set_level(logging.INFO, logger="actions.handoff")

    await ActionCustomerService().run(dispatcher, tracker(), {})

    assert received == [build_transcript(tracker())]
    assert dispatcher.messages[0]["custom"]["handoff"] is True
    assert "verstuurd naar" in caplog.text and "vitamine_d_voeding" in caplog.text


async def test_without_an_endpoint_the_handoff_is_logged(monkeypatch, caplog):
    monkeypatch.setattr(config, "HANDOFF_URL", None)
    caplog.set_level(logging.INFO, logger="actions.handoff")

    assert await hand_off(tracker()) is False
    assert "geen FAQ_HANDOFF_URL" in caplog.text


async def test_an_unreachable_endpoint_does_not_break_the_reply(
    monkeypatch, caplog, dispatcher
):
    monkeypatch.setattr(config, "HANDOFF_URL", "http://127.0.0.1:9/dicht")
    monkeypatch.setattr(config, "HANDOFF_TIMEOUT_SECONDS", 1.0)

    await ActionCustomerService().run(dispatcher, tracker(), {})

    assert dispatcher.messages[0]["custom"]["topic"] == "medewerker"
    assert "mislukt" in caplog.text


def test_the_visitors_texts_leave_de_identified():
    events = [
        {"event": "user", "text": "ik ben Jan de Vries, bel me op 06-12345678"},
        {"event": "bot", "text": "Voor vragen ...", "data": {"custom": {}}},
        {"event": "user", "text": "mijn adres is Kerkstraat 12, mail jan@example.nl"},
    ]
    transcript = build_transcript(
        Tracker("whatsapp:+31612345678", {}, {}, events, False, None, {}, "")
    )

    texts = [t["tekst"] for t in transcript["turns"] if t["van"] == "klant"]
    assert texts == [
        "ik ben [PERSOON-1], bel me op [TELEFOONNUMMER-1]",
        "mijn adres is [LOCATIE-1], mail [EMAILADRES-1]",
    ]
    # The bot's own texts are not touched; the id routes the takeover.
    assert transcript["turns"][1]["tekst"] == "Voor vragen ..."
    assert transcript["sender_id"] == "whatsapp:+31612345678"


def test_when_de_identification_fails_the_texts_are_withheld(monkeypatch, caplog):
    import actions.handoff as handoff

    def broken(text):
        raise RuntimeError("deduce kapot")

    monkeypatch.setattr(handoff, "deidentify", broken)
    transcript = build_transcript(tracker())

    klant = [t["tekst"] for t in transcript["turns"] if t["van"] == "klant"]
    assert klant and all(t == handoff.TEXT_WITHHELD for t in klant)
    assert "welk eten" not in caplog.text
