"""Tests of the agent lookup (scripts/lookup.py): ranking, HTTP server, CLI."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Iterator, List, Tuple

import pytest
import requests

from scripts import lookup as lk
from tests.helpers import ROOT

#: A Rasa parse result with content topics mixed with non-content intents.
PARSE_RESULT: Dict[str, Any] = {
    "text": "waarom heeft vitamine d magnesium nodig",
    "intent": {"name": "groet", "confidence": 0.41},
    "entities": [],
    "intent_ranking": [
        {"name": "groet", "confidence": 0.41},
        {"name": "magnesium_activeert_vitamine_d", "confidence": 0.30049},
        {"name": "nlu_fallback", "confidence": 0.12},
        {"name": "vitamine_k2", "confidence": 0.0912345},
        {"name": "meer", "confidence": 0.05},
        {"name": "magnesium_voeding", "confidence": 0.03},
        {"name": "bronnen", "confidence": 0.01},
    ],
}
EXPECTED_ORDER = ["magnesium_activeert_vitamine_d", "vitamine_k2", "magnesium_voeding"]


# --- lookup() ----------------------------------------------------------------


def test_lookup_returns_top3_content_topics_in_order(content):
    results = lk.lookup(PARSE_RESULT, content)
    assert [r["topic"] for r in results] == EXPECTED_ORDER
    assert [r["confidence"] for r in results] == [0.3, 0.091, 0.03]


def test_lookup_fields_come_from_the_content_file(content):
    for result in lk.lookup(PARSE_RESULT, content):
        topic = content.topic(result["topic"])
        assert result["title"] == topic.title
        assert result["short"] == topic.short
        assert result["long"] == topic.long
        assert result["sources"] == [
            {"number": s.number, "label": s.label, "url": s.url}
            for s in content.sources_of(topic)
        ]
        assert result["sources_note"] == topic.sources_note
    first = lk.lookup(PARSE_RESULT, content)[0]
    assert first["sources"], "magnesium_activeert_vitamine_d has sources"
    assert all(s["url"].startswith("https://") for s in first["sources"])


def test_lookup_k_and_fewer_candidates(content):
    assert [r["topic"] for r in lk.lookup(PARSE_RESULT, content, k=1)] == [
        EXPECTED_ORDER[0]
    ]
    everything = lk.lookup(PARSE_RESULT, content, k=10)
    assert [r["topic"] for r in everything] == [*EXPECTED_ORDER, "bronnen"]


def test_lookup_sorts_by_confidence_and_uses_intent_without_ranking(content):
    unsorted = {
        "intent_ranking": [
            {"name": "vitamine_k2", "confidence": 0.2},
            {"name": "magnesium_voeding", "confidence": 0.7},
        ]
    }
    assert [r["topic"] for r in lk.lookup(unsorted, content)] == [
        "magnesium_voeding",
        "vitamine_k2",
    ]
    only_intent = {"intent": {"name": "vitamine_zonlicht_typo", "confidence": 0.9}}
    assert lk.lookup(only_intent, content) == []
    only_intent = {"intent": {"name": "vitamine_d_zonlicht", "confidence": 0.9}}
    assert [r["topic"] for r in lk.lookup(only_intent, content)] == [
        "vitamine_d_zonlicht"
    ]


def test_lookup_only_conversation_intents_gives_nothing(content):
    result = {
        "intent": {"name": "nlu_fallback", "confidence": 0.7},
        "intent_ranking": [
            {"name": "nlu_fallback", "confidence": 0.7},
            {"name": "groet", "confidence": 0.2},
        ],
    }
    assert lk.lookup(result, content) == []
    assert lk.lookup({}, content) == []


def test_format_text_is_dutch_and_names_sources(content):
    results = lk.lookup(PARSE_RESULT, content)
    text = lk.format_text("waarom magnesium?", results)
    assert text.startswith("Vraag: waarom magnesium?")
    assert "1. " in text and "30,0%" in text
    assert "[magnesium_activeert_vitamine_d]" in text
    assert results[0]["sources"][0]["url"] in text
    assert "Geen passend onderwerp" in lk.format_text("x", [])


# --- handler functions ---------------------------------------------------------


def fake_parse(text: str) -> Dict[str, Any]:
    return PARSE_RESULT


def broken_parse(text: str) -> Dict[str, Any]:
    raise lk.RasaUnavailable("Kan de Rasa-server op http://127.0.0.1:1 niet bereiken.")


def test_handle_get_and_post_without_a_server(content):
    status, body = lk.handle_get(
        "/lookup?q=magnesium%20%C3%A9n%20D", fake_parse, content
    )
    assert status == 200
    assert body["query"] == "magnesium én D"
    assert [t["topic"] for t in body["topics"]] == EXPECTED_ORDER

    status, body = lk.handle_post("/lookup", b'{"q": " hoi "}', fake_parse, content)
    assert (status, body["query"]) == (200, "hoi")

    assert lk.handle_get("/lookup", fake_parse, content)[0] == 400
    assert lk.handle_get("/lookup?q=%20", fake_parse, content)[0] == 400
    assert lk.handle_get("/elders?q=x", fake_parse, content)[0] == 404
    assert lk.handle_post("/lookup", b"{niet json", fake_parse, content)[0] == 400
    assert lk.handle_post("/lookup", b"\xff\xfe", fake_parse, content)[0] == 400
    assert lk.handle_post("/lookup", b'["q"]', fake_parse, content)[0] == 400
    assert lk.handle_post("/lookup", b'{"q": 5}', fake_parse, content)[0] == 400
    assert lk.handle_post("/lookup", b"{}", fake_parse, content)[0] == 400
    long_q = json.dumps({"q": "a" * (lk.MAX_QUERY_CHARS + 1)}).encode()
    assert lk.handle_post("/lookup", long_q, fake_parse, content)[0] == 413
    ok_q = json.dumps({"q": "a" * lk.MAX_QUERY_CHARS}).encode()
    assert lk.handle_post("/lookup", ok_q, fake_parse, content)[0] == 200

    status, body = lk.handle_get("/lookup?q=x", broken_parse, content)
    assert status == 502
    assert "127.0.0.1:1" in body["error"]


# --- HTTP: lookup server with a fake Rasa --------------------------------------


def serve_in_thread(server: ThreadingHTTPServer) -> Tuple[str, threading.Thread]:
    """Serves ``server`` in a daemon thread; returns its URL and the thread."""
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    return f"http://127.0.0.1:{server.server_address[1]}", thread


def stop_server(server: ThreadingHTTPServer, thread: threading.Thread) -> None:
    """Stops a server started by :func:`serve_in_thread`."""
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


class FakeRasa:
    """A tiny Rasa stand-in that answers POST /model/parse with a canned result."""

    def __init__(self, response: Dict[str, Any], status: int = 200) -> None:
        self.texts: List[str] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                payload = json.loads(self.rfile.read(length) or b"{}")
                fake.texts.append(payload.get("text"))
                code = status if self.path == "/model/parse" else 404
                data = json.dumps({**response, "text": payload.get("text")}).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url, self.thread = serve_in_thread(self.server)

    def stop(self) -> None:
        stop_server(self.server, self.thread)


class LookupRunner:
    """Runs the lookup server in a thread."""

    def __init__(self, rasa_url: str, content: Any) -> None:
        self.server = lk.make_server(0, rasa_url, content, quiet=True)
        self.url, self.thread = serve_in_thread(self.server)

    def stop(self) -> None:
        stop_server(self.server, self.thread)


@pytest.fixture
def http() -> Iterator[requests.Session]:
    session = requests.Session()
    session.trust_env = False  # never through a proxy
    yield session
    session.close()


@pytest.fixture
def fake_rasa() -> Iterator[FakeRasa]:
    fake = FakeRasa(PARSE_RESULT)
    yield fake
    fake.stop()


@pytest.fixture
def lookup_server(fake_rasa, content) -> Iterator[LookupRunner]:
    runner = LookupRunner(fake_rasa.url, content)
    yield runner
    runner.stop()


def test_server_binds_to_localhost_only(lookup_server):
    assert lookup_server.server.server_address[0] == "127.0.0.1"


def test_get_returns_top1_as_utf8_json(lookup_server, fake_rasa, http):
    response = http.get(
        f"{lookup_server.url}/lookup", params={"q": "waarom één magnesium?"}, timeout=5
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    body = json.loads(response.content.decode("utf-8"))
    assert body["query"] == "waarom één magnesium?"
    assert body["topics"][0]["topic"] == "magnesium_activeert_vitamine_d"
    assert len(body["topics"]) == 3
    assert fake_rasa.texts == ["waarom één magnesium?"]


def test_post_returns_top1(lookup_server, http):
    response = http.post(
        f"{lookup_server.url}/lookup",
        json={"q": "welk eten bevat magnesium"},
        timeout=5,
    )
    assert response.status_code == 200
    assert response.json()["topics"][0]["topic"] == "magnesium_activeert_vitamine_d"


@pytest.mark.parametrize("params", [{}, {"q": ""}, {"q": "   "}])
def test_get_empty_question_is_400(lookup_server, http, params):
    response = http.get(f"{lookup_server.url}/lookup", params=params, timeout=5)
    assert response.status_code == 400
    assert "vraag" in response.json()["error"].lower()


def test_post_empty_question_is_400(lookup_server, http):
    response = http.post(f"{lookup_server.url}/lookup", json={"q": ""}, timeout=5)
    assert response.status_code == 400


def test_post_invalid_json_is_400(lookup_server, http):
    response = http.post(
        f"{lookup_server.url}/lookup",
        data=b"{dit is geen json",
        headers={"Content-Type": "application/json"},
        timeout=5,
    )
    assert response.status_code == 400
    assert "JSON" in response.json()["error"]


def test_long_question_is_413(lookup_server, http, fake_rasa):
    long_q = "magnesium " * 101
    response = http.post(f"{lookup_server.url}/lookup", json={"q": long_q}, timeout=5)
    assert response.status_code == 413
    response = http.get(f"{lookup_server.url}/lookup", params={"q": long_q}, timeout=5)
    assert response.status_code == 413
    assert fake_rasa.texts == []


def test_huge_body_is_413(lookup_server, http):
    response = http.post(
        f"{lookup_server.url}/lookup",
        data=b"x" * (lk.MAX_BODY_BYTES + 1),
        timeout=5,
    )
    assert response.status_code == 413


def test_unknown_path_is_404(lookup_server, http):
    assert http.get(f"{lookup_server.url}/elders?q=x", timeout=5).status_code == 404


def test_rasa_down_is_502(content, http):
    fake = FakeRasa(PARSE_RESULT)
    rasa_url = fake.url
    fake.stop()
    runner = LookupRunner(rasa_url, content)
    try:
        response = http.get(
            f"{runner.url}/lookup", params={"q": "magnesium"}, timeout=15
        )
    finally:
        runner.stop()
    assert response.status_code == 502
    assert rasa_url in response.json()["error"]


def test_rasa_error_status_is_502(content, http):
    fake = FakeRasa({"error": "no model"}, status=404)
    runner = LookupRunner(fake.url, content)
    try:
        response = http.get(
            f"{runner.url}/lookup", params={"q": "magnesium"}, timeout=5
        )
    finally:
        runner.stop()
        fake.stop()
    assert response.status_code == 502
    assert "--enable-api" in response.json()["error"]


# --- CLI -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_cli_prints_readable_top3(fake_rasa, capsys, content):
    assert lk.main(["welk eten bevat magnesium", "--url", fake_rasa.url]) == 0
    out = capsys.readouterr().out
    assert "Vraag: welk eten bevat magnesium" in out
    for rank, topic_id in enumerate(EXPECTED_ORDER, start=1):
        assert f"{rank}. {content.topic(topic_id).title} [{topic_id}]" in out
    assert "%" in out
    assert content.sources[3].url in out


def test_cli_json(fake_rasa, capsys):
    assert lk.main(["magnesium", "--url", fake_rasa.url, "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["query"] == "magnesium"
    assert [t["topic"] for t in body["topics"]] == EXPECTED_ORDER


def test_cli_rasa_down_exits_2_without_traceback():
    url = f"http://127.0.0.1:{free_port()}"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "lookup.py"),
            "magnesium",
            "--url",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
    )
    assert proc.returncode == 2
    assert url in proc.stderr
    assert "Traceback" not in proc.stderr
    assert "niet bereiken" in proc.stderr
