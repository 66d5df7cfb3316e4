"""The attacks of issue #7 against the real servers: each must now fail.

Runs the real action server and Rasa server (``tools.stack``) twice: as
``make run`` starts them (API closed) and with the HTTP API enabled behind a
JWT, as an operator may choose to. With ``FAQ_STACK_URL`` (``make
test-stack``) the first part talks to the running ``make stack`` through
nginx; the second is skipped there (the stack keeps the API closed).
"""

from __future__ import annotations

import json
import os
import stat
import time

import jwt
import pytest
import requests

from tests.badinput import CASES, body_for
from tests.helpers import looks_dutch, looks_dutch_error
from tools.stack import MODEL, Stack, make_stack

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not MODEL.exists(), reason="no trained model: run make train"),
]

SECRET_TEXT = "ik ben zwanger van mijn tweede kind en mijn nummer is 0612345678"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack = make_stack(
        tmp_path_factory.mktemp("secure"), env={"FAQ_REPLY_TIMEOUT": "8"}
    )
    stack.start_actions()
    stack.start_rasa()
    yield stack
    stack.stop()


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/conversations/whatsapp:+31612345678/tracker"),
        ("POST", "/conversations/whatsapp:+31612345678/tracker/events"),
        ("POST", "/conversations/x/trigger_intent"),
        ("DELETE", "/model"),
        ("PUT", "/model"),
        ("POST", "/model/train"),
        ("POST", "/model/parse"),
        ("GET", "/status"),
    ],
)
def test_the_rasa_api_is_not_there(stack, method, path):
    response = requests.request(
        method, stack.url + path, json={"text": "hoi"}, timeout=30
    )
    assert response.status_code in (404, 405), response.text
    assert looks_dutch_error(response.json()["error"])


def test_a_rest_client_cannot_continue_a_whatsapp_conversation(stack):
    response = requests.post(
        f"{stack.url}/webhooks/rest/webhook",
        json={"sender": "whatsapp:+31612345678", "message": "vertel meer"},
        timeout=30,
    )
    assert response.status_code == 403
    assert looks_dutch_error(response.json()["error"])


def test_anonymous_clients_get_their_own_conversation(stack):
    def ask(body):
        return requests.post(
            f"{stack.url}/webhooks/rest/webhook", json=body, timeout=30
        ).json()

    first = ask({"message": "wat doet vitamine d in je lichaam?"})
    other = ask({"message": "hoi"})
    session_id = first[0]["recipient_id"]
    assert session_id != other[0]["recipient_id"]
    more = ask({"message": "vertel meer", "sender": session_id})
    assert more[0]["custom"]["topic"] == "functie_vitamine_d"
    assert more[0]["custom"]["answer"] == "lang"


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_matrix_on_the_real_rest_webhook(stack, case):
    response = requests.request(
        case.method,
        f"{stack.url}/webhooks/rest/webhook{case.suffix}",
        data=body_for(case, "message"),
        headers={"Content-Type": "application/json", **case.headers},
        timeout=60,
    )
    assert response.status_code < 500, (case.name, response.text[:300])
    body = response.json()
    if response.status_code == 200:
        assert all(looks_dutch(m["text"]) for m in body), body
    else:
        assert looks_dutch_error(body["error"]), body


def test_the_server_is_still_up_and_wrote_no_texts_or_numbers_to_its_logs(stack):
    reply = stack.send("privacy-0612345678", SECRET_TEXT)
    assert reply and reply[0]["custom"]["topic"]
    status = stack.status()
    assert status["model_loaded"] is True
    time.sleep(0.5)
    for log, text in stack.logs().items():
        assert "zwanger" not in text, log
        assert "0612345678" not in text, log
        assert "31612345678" not in text, log


def test_the_tracker_database_is_private(stack):
    stack.send("perm", "hoi")
    for path in stack.private_paths():
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path


def test_a_deleted_database_is_never_a_silent_loss(stack):
    stack.send("weg", "wat doet vitamine d in je lichaam?")
    stack.break_database()
    reply = stack.send("weg", "vertel meer")
    reasons = [m["custom"].get("reason") for m in reply]
    # Either the turn failed before answering (apology) or after (notice).
    assert any(r and r.startswith("storing:") for r in reasons), reply
    assert all(looks_dutch(m["text"]) for m in reply)
    status = stack.status()
    assert status["status"] == "degraded"
    assert status["counters"].get("opslag_mislukt", 0) >= 1 or any(
        k.startswith("storing:") for k in status["counters"]
    )


# ---------------------------------------------------- the API, when enabled


@pytest.fixture(scope="module")
def api_stack(tmp_path_factory):
    if os.environ.get("FAQ_STACK_URL"):
        pytest.skip("make stack keeps the Rasa API closed (make test-e2e covers it)")
    stack = Stack(tmp_path_factory.mktemp("api"), api=True)
    stack.start_actions()
    stack.start_rasa()
    yield stack
    stack.stop()


def token(secret: str, role: str = "admin") -> str:
    return jwt.encode(
        {"user": {"username": "beheer", "role": role}}, secret, algorithm="HS256"
    )


@pytest.mark.parametrize(
    "headers, suffix",
    [
        ({}, ""),
        ({"Authorization": "Bearer vals"}, ""),
        ({"Authorization": f"Bearer {token('een-ander-geheim-' * 3)}"}, ""),
        ({}, "?token=geheim"),
    ],
)
def test_the_enabled_api_needs_a_valid_jwt_in_the_header(api_stack, headers, suffix):
    response = requests.post(
        f"{api_stack.url}/model/parse{suffix}",
        json={"text": "hoi"},
        headers=headers,
        timeout=30,
    )
    assert response.status_code == 401
    assert looks_dutch_error(response.json()["error"])
    tracker = requests.get(
        f"{api_stack.url}/conversations/whatsapp:+31612345678/tracker",
        headers=headers,
        timeout=30,
    )
    assert tracker.status_code == 401


def test_the_enabled_api_works_with_a_jwt_and_caps_the_body(api_stack):
    assert api_stack.parse("wat doet vitamine d")["intent"]["name"]
    big = json.dumps({"text": "a" * 200_000})
    response = requests.post(
        f"{api_stack.url}/model/parse",
        data=big,
        headers={"Authorization": f"Bearer {token(api_stack.jwt_secret)}"},
        timeout=30,
    )
    assert response.status_code == 413
    assert looks_dutch_error(response.json()["error"])
