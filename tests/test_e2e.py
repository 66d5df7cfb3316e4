"""End to end: the real action server and Rasa server, spoken to over REST.

Needs a trained model (``make train``). The tests in this module share one
stack and run in file order: the last ones restart the Rasa server and stop
the action server on purpose. With ``FAQ_STACK_URL`` (``make test-stack``)
the same tests talk to the running ``make stack`` through nginx: both Rasa
replicas restart, both action servers stop, and everything is started again
afterwards.
"""

from __future__ import annotations

import http.server
import threading
import time

import pytest
import requests

from faq.content import CONTENT_TOPIC_IDS, CONVERSATION_TOPIC_IDS
from tests.helpers import looks_dutch, one_answer
from tools.stack import MODEL, make_stack

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not MODEL.exists(), reason="no trained model: run make train"),
]

REPLY_TIMEOUT = 4.0


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack = make_stack(
        tmp_path_factory.mktemp("stack"), env={"FAQ_REPLY_TIMEOUT": str(REPLY_TIMEOUT)}
    )
    stack.start_actions()
    stack.start_rasa()
    yield stack
    stack.stop()


def test_the_done_when_question_gets_a_dutch_answer_with_sources(stack, content):
    message = one_answer(
        stack.send("nieuw", "waarom heb ik magnesium nodig voor vitamine d?")
    )

    topic = content.topics["magnesium_activeert_vitamine_d"]
    assert message["custom"]["topic"] == topic.id
    assert message["custom"]["sources"] == list(topic.sources)
    assert "Uit de bronnenlijst van het artikel:\n[3]" in message["text"]
    assert [b["payload"] for b in message["buttons"]] == [
        f"/{t}" for t in topic.related
    ]


@pytest.mark.parametrize("topic_id", CONTENT_TOPIC_IDS)
def test_every_content_topic_is_reachable_by_its_button(stack, topic_id, content):
    message = one_answer(stack.send(f"knop-{topic_id}", f"/{topic_id}"))

    assert message["custom"]["topic"] == topic_id
    assert message["custom"]["sources"] == list(content.topics[topic_id].sources)


@pytest.mark.parametrize(
    "text, topic_id",
    [
        ("hallo", "groet"),
        ("doei, fijne dag", "afscheid"),
        ("dank je wel", "bedankt"),
        ("ben jij een robot?", "bot_vraag"),
        ("wat kan ik jou allemaal vragen?", "hulp"),
        ("mijn bestelling is niet aangekomen, ik wil iemand spreken", "medewerker"),
        ("heb je nog meer artikelen over magnesium?", "kennisbank"),
        ("wat voor weer wordt het morgen?", "buiten_domein"),
        ("hoeveel mg magnesium moet ik nemen nu ik zwanger ben?", "persoonlijk_advies"),
        ("welk eten bevat veel magnesium", "magnesium_voeding"),
        ("waarom d3 samen met k2 nemen?", "vitamine_k2"),
    ],
)
def test_conversation_topics_are_reachable_in_dutch(stack, text, topic_id):
    message = one_answer(stack.send(f"gesprek-{topic_id}", text))

    assert message["custom"]["topic"] == topic_id
    if topic_id in CONVERSATION_TOPIC_IDS:
        assert message["custom"]["sources"] == []


def test_follow_ups_continue_the_last_topic(stack, content):
    topic = content.topics["vitamine_d_zonlicht"]
    first = one_answer(
        stack.send("vervolg", "hoe lang moet ik in de zon voor vitamine d?")
    )
    assert first["custom"]["topic"] == topic.id

    more = one_answer(stack.send("vervolg", "vertel meer"))
    assert more["custom"]["topic"] == topic.id
    assert more["custom"]["answer"] == "lang"
    assert more["text"].startswith(topic.long)

    sources = one_answer(stack.send("vervolg", "welke bronnen?"))
    assert sources["custom"]["topic"] == topic.id
    for number in topic.sources:
        assert content.sources[number].url in sources["text"]


def test_personal_advice_gives_no_dose_and_offers_the_general_topic(stack):
    advice = one_answer(
        stack.send("advies", "ik ben zwanger, hoeveel IE vitamine d mag ik slikken?")
    )
    assert advice["custom"]["topic"] == "persoonlijk_advies"
    assert "arts" in advice["text"]
    assert advice["buttons"]

    offered = advice["buttons"][0]["payload"].lstrip("/")
    answer = one_answer(stack.send("advies", "ja graag"))
    assert answer["custom"]["topic"] == offered


@pytest.mark.parametrize(
    "question, expected",
    [
        ("waarom heeft vitamine d magnesium nodig", "magnesium_activeert_vitamine_d"),
        ("welk eten bevat veel magnesium", "magnesium_voeding"),
        ("klant vraagt waarom d3 samen met k2", "vitamine_k2"),
        ("hoe lang moet ik in de zon", "vitamine_d_zonlicht"),
        (
            "kan een bloedtest aantonen dat ik te weinig magnesium heb",
            "tekort_vaststellen",
        ),
    ],
)
def test_agent_lookup_top1_from_the_real_nlu(stack, content, question, expected):
    results = stack.lookup(question)["topics"]

    assert results[0]["topic"] == expected, [r["topic"] for r in results]
    assert len(results) == 3
    top = results[0]
    assert top["short"] == content.topics[expected].short
    assert [s["number"] for s in top["sources"]] == list(
        content.topics[expected].sources
    )
    assert 0 < top["confidence"] <= 1


@pytest.mark.parametrize(
    "body, status",
    [
        (b"{niet: json", 400),
        (b'{"sender": "x", "message": 42}', 400),
        (b'["lijst"]', 400),
        (b'{"sender": "", "message": "hoi"}', 400),
    ],
)
def test_bad_requests_get_a_dutch_4xx(stack, body, status):
    response = requests.post(
        f"{stack.url}/webhooks/rest/webhook",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == status
    assert looks_dutch(response.json()["error"])


@pytest.mark.parametrize(
    "text, reason",
    [
        ("", "leeg_bericht"),
        ("   ", "leeg_bericht"),
        ("magnesium " * 600, "bericht_te_lang"),
    ],
)
def test_empty_or_huge_messages_get_a_short_dutch_reply(stack, text, reason):
    message = one_answer(stack.send("raar", text))
    assert message["custom"] == {"topic": "fallback", "sources": [], "reason": reason}


@pytest.mark.parametrize(
    "text",
    ["🙂🙂🙂", "<script>alert(1)</script> wat doet vitamine d?", "ñ¿¡ äöü ß €", "?"],
)
def test_odd_input_never_crashes(stack, text):
    message = one_answer(stack.send("odd", text))
    assert "<script>" not in message["text"]


def test_a_conversation_survives_a_server_restart(stack):
    first = one_answer(stack.send("herstart", "wat doet vitamine d in je lichaam?"))
    assert first["custom"]["topic"] == "functie_vitamine_d"

    stack.stop_rasa()
    stack.start_rasa()

    more = one_answer(stack.send("herstart", "vertel meer"))
    assert more["custom"]["topic"] == "functie_vitamine_d"
    assert more["custom"]["answer"] == "lang"


class _SlowHandler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # - http.server API
        time.sleep(REPLY_TIMEOUT + 4)
        self.send_response(500)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_slow_action_server_still_gets_a_dutch_apology_in_time(stack):
    stack.stop_actions()
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", stack.action_port), _SlowHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        started = time.monotonic()
        message = one_answer(stack.send("traag", "welke voeding bevat vitamine d?"))
        elapsed = time.monotonic() - started
    finally:
        server.shutdown()
        server.server_close()

    assert message["custom"]["reason"] == "storing:time-out"
    assert "Sorry" in message["text"]
    assert elapsed < REPLY_TIMEOUT + 3


def test_a_dead_action_server_still_gets_a_dutch_apology(stack):
    stack.stop_actions()
    message = one_answer(
        stack.send("dood", "wat zijn de gevolgen van een vitamine d tekort?")
    )

    assert message["custom"]["topic"] == "fallback"
    assert message["custom"]["reason"].startswith("storing:")
    assert "klantenservice" in message["text"]

    # Replies that need no action server still work (a greeting does need
    # it since "dag!" after an answer says goodbye: action_groet).
    assert one_answer(stack.send("dood", "doei"))["custom"]["topic"] == "afscheid"
