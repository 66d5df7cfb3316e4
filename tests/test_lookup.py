"""The customer-service lookup: ranking (faq.lookup), the Rasa-server route, the CLI."""

from __future__ import annotations

import asyncio
from typing import Any, Dict

import aiohttp
import pytest

from faq import lookup as lk
from server import settings
from server.channels.lookup import StaffLookupInput
from staff import lookup as staff_lookup
from tests.helpers import looks_dutch, serve_app

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


# --- the Rasa-server route ------------------------------------------------------

STAFF_TOKEN = "medewerker-token-0123456789"


class FakeAgent:
    """Stands in for the Rasa agent the route calls in-process."""

    def __init__(self) -> None:
        self.parsed: list = []

    def is_ready(self) -> bool:
        return True

    async def parse_message(self, text: str) -> Dict[str, Any]:
        self.parsed.append(text)
        return PARSE_RESULT


@pytest.fixture
async def route(monkeypatch):
    monkeypatch.setattr(settings, "STAFF_TOKEN", STAFF_TOKEN)
    agent = FakeAgent()
    channel = StaffLookupInput.from_credentials({"top_k": 3})
    async with serve_app(channel.blueprint(None), "/webhooks/lookup", agent) as url:
        yield f"{url}/webhooks/lookup", agent


async def post(url: str, body: Any = None, token: str | None = STAFF_TOKEN, **kw):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json=body, headers=headers, **kw) as response:
            return response.status, await response.json(content_type=None)


async def test_the_route_returns_the_top3_with_answers_and_sources(route, content):
    url, agent = route
    status, body = await post(f"{url}/query", {"q": " magnesium én D "})
    assert status == 200
    assert body["query"] == "magnesium én D"
    assert [t["topic"] for t in body["topics"]] == EXPECTED_ORDER
    assert body["topics"][0]["short"] == content.topics[EXPECTED_ORDER[0]].short
    assert agent.parsed == ["magnesium én D"]


@pytest.mark.parametrize("token, status", [(None, 401), ("fout-token", 401), ("", 401)])
async def test_the_route_needs_the_staff_token_in_the_header(route, token, status):
    url, agent = route
    got, body = await post(f"{url}/query", {"q": "magnesium"}, token=token)
    assert got == status
    assert looks_dutch(body["error"]) or "token" in body["error"]
    assert agent.parsed == []


async def test_a_token_in_the_query_string_is_not_accepted(route):
    url, agent = route
    got, _ = await post(f"{url}/query?token={STAFF_TOKEN}", {"q": "x"}, token=None)
    assert got == 401
    assert agent.parsed == []


async def test_without_a_configured_token_the_route_is_closed(route, monkeypatch):
    url, agent = route
    monkeypatch.setattr(settings, "STAFF_TOKEN", None)
    got, body = await post(f"{url}/query", {"q": "magnesium"})
    assert got == 403
    assert "FAQ_STAFF_TOKEN" in body["error"]
    assert agent.parsed == []


@pytest.mark.parametrize(
    "body, status",
    [
        ({"q": ""}, 400),
        ({"q": "   "}, 400),
        ({"q": 42}, 400),
        (["q"], 400),
        ({"q": "m" * (lk.MAX_QUERY_CHARS + 1)}, 413),
    ],
)
async def test_bad_questions_get_a_dutch_4xx(route, body, status):
    url, agent = route
    got, reply = await post(f"{url}/query", body)
    assert got == status
    assert isinstance(reply["error"], str) and reply["error"]
    assert agent.parsed == []


async def test_invalid_json_and_get_get_dutch_errors(route):
    url, _ = route
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{url}/query",
            data=b"{niet json",
            headers={"Authorization": f"Bearer {STAFF_TOKEN}"},
        ) as response:
            assert response.status == 400
        async with session.get(f"{url}/query?q=x") as response:
            assert response.status == 405
            assert looks_dutch((await response.json())["error"])


async def test_the_question_is_never_logged(route, caplog):
    url, _ = route
    caplog.set_level("DEBUG")
    await post(f"{url}/query", {"q": "geheime vraag over zwangerschap"})
    assert "zwangerschap" not in caplog.text


# --- the terminal client (python -m staff.lookup) ---------------------------------


async def test_cli_prints_readable_top3(route, capsys, monkeypatch):
    url, _ = route
    monkeypatch.setenv("FAQ_STAFF_TOKEN", STAFF_TOKEN)
    base = url.rsplit("/webhooks", 1)[0]
    code = await asyncio.to_thread(
        staff_lookup.main, ["waarom magnesium?", "--url", base]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "1. " in out and "[magnesium_activeert_vitamine_d]" in out


def test_cli_without_token_or_server_exits_2(monkeypatch, capsys):
    monkeypatch.delenv("FAQ_STAFF_TOKEN", raising=False)
    assert staff_lookup.main(["vraag"]) == 2
    monkeypatch.setenv("FAQ_STAFF_TOKEN", "x")
    assert staff_lookup.main(["vraag", "--url", "http://127.0.0.1:9"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "niet bereiken" in err
