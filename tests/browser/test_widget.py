"""The website widget in real headless Chromium, against the real stack.

Starts, on free ports on 127.0.0.1: the action server and the Rasa server
(``tools/stack.py``, with the socket.io channel added to its credentials) and
the demo page (``scripts/web.sh``, which runs ``npm ci`` when ``web/node_modules``
is missing). Drives Debian's Chromium (``/usr/bin/chromium``) with Playwright.

Needs a trained model (``make train``), ``chromium`` (apt) and ``playwright``
(pip). Saves a screenshot to ``tests/artifacts/widget.png`` and
``docs/widget.png``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from typing import Any, Dict, Iterator, List, Optional
from urllib.parse import urlparse

import pytest
import requests

from tests.browser.conftest import needs_chromium
from tests.helpers import looks_dutch
from tools.stack import CREDENTIALS, MODEL, ROOT, Stack, free_port, tail

sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    pytest.mark.skipif(not MODEL.exists(), reason="no trained model: run make train"),
    needs_chromium,
]

ARTIFACTS = ROOT / "tests" / "artifacts"
README_SCREENSHOT = ROOT / "docs" / "widget.png"
QUESTION = "waarom heb ik magnesium nodig voor vitamine d?"
QUESTION_TOPIC = "magnesium_activeert_vitamine_d"
INJECTION = "<img src=x onerror=alert(1)>"
#: Seconds to wait for one bot reply in the page (Rasa's reply time-out is 10 s).
REPLY_WAIT_MS = 30_000
LOCAL_HOSTS = {"127.0.0.1", "localhost"}

SOCKETIO_CREDENTIALS = """\
server.channels.socketio.FaqSocketIOInput:
  user_message_evt: user_uttered
  bot_message_evt: bot_uttered
  session_persistence: true
  metadata_key: customData
  cors_allowed_origins:
    - "{origin}"
"""


def _stop(process: Optional[subprocess.Popen]) -> None:
    """Stops a process group that this module started; bounded waits."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass


# -------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def web_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, web_port) -> Iterator[Stack]:
    stack = Stack(tmp_path_factory.mktemp("browser-stack"))
    origin = f"http://127.0.0.1:{web_port}"
    (stack.workdir / "credentials.yml").write_text(
        CREDENTIALS + SOCKETIO_CREDENTIALS.format(origin=origin)
    )
    try:
        stack.start_actions()
        stack.start_rasa()
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def page_url(stack, web_port, tmp_path_factory) -> Iterator[str]:
    """Serves the demo page with scripts/web.sh (npm ci on first use)."""
    log_path = tmp_path_factory.mktemp("web") / "web.log"
    env = {
        **os.environ,
        "WEB_HOST": "127.0.0.1",
        "WEB_PORT": str(web_port),
        "FAQ_RASA_URL": stack.url,
    }
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [str(ROOT / "scripts" / "web.sh")],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{web_port}/"
    try:
        deadline = time.monotonic() + 300  # a first `npm ci` can take a while
        while True:
            if process.poll() is not None:
                pytest.fail(f"scripts/web.sh exited:\n{tail(log_path)}")
            try:
                if requests.get(url, timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"demo page not up after 300 s:\n{tail(log_path)}")
            time.sleep(0.3)
        yield url
    finally:
        _stop(process)


# ------------------------------------------------------------------- helpers


def socketio_events(payload: Any) -> List[List[Any]]:
    """Returns the socket.io events ``[name, data]`` in an engine.io payload."""
    if isinstance(payload, bytes):
        payload = payload.decode("utf-8", "replace")
    events = []
    for packet in str(payload).split("\x1e"):  # polling joins packets with \x1e
        if packet.startswith("42"):
            body = packet[2:]
            if body.startswith("/"):  # a namespace: 42/ns,[...]
                body = body.partition(",")[2]
            try:
                events.append(json.loads(body))
            except ValueError:
                continue
    return events


class Spy:
    """Records what the page sends and receives over socket.io, and its requests."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.received: List[List[Any]] = []
        self.sent: List[List[Any]] = []
        self.requests: List[str] = []
        self.dialogs: List[str] = []
        self._polls: List[Any] = []
        page.on("websocket", self._on_websocket)
        page.on("request", self._on_request)
        page.on("response", self._on_response)
        page.on("dialog", self._on_dialog)

    def _on_websocket(self, ws: Any) -> None:
        ws.on("framereceived", lambda p: self.received.extend(socketio_events(p)))
        ws.on("framesent", lambda p: self.sent.extend(socketio_events(p)))

    def _on_request(self, request: Any) -> None:
        self.requests.append(request.url)
        if "/socket.io/" in request.url and request.method == "POST":
            self.sent.extend(socketio_events(request.post_data or ""))

    def _on_response(self, response: Any) -> None:
        if "/socket.io/" in response.url and response.request.method == "GET":
            self._polls.append(response)  # read later: no blocking calls in handlers

    def _on_dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def bot_events(self) -> List[Dict[str, Any]]:
        """Returns the ``bot_uttered`` payloads received so far."""
        polls, self._polls = self._polls, []
        for response in polls:
            try:
                self.received.extend(socketio_events(response.text()))
            except sync_api.Error:
                continue  # body gone (page reloaded)
        return [e[1] for e in self.received if len(e) > 1 and e[0] == "bot_uttered"]

    def sent_events(self, name: str) -> List[Any]:
        """Returns the payloads of events the page emitted."""
        return [e[1] if len(e) > 1 else None for e in self.sent if e[0] == name]


def open_widget(page: Any) -> None:
    """Opens the chat window unless it is open already."""
    page.locator(".rw-launcher").wait_for()
    if not page.locator(".rw-conversation-container").is_visible():
        page.locator(".rw-launcher").click()
    page.locator(".rw-conversation-container .rw-new-message").wait_for()


def responses(page: Any) -> Any:
    """Bot messages shown (not the typing indicator, also an .rw-response)."""
    return page.locator(".rw-conversation-container .rw-response .rw-message-text")


def wait_for_reply(page: Any, before: int) -> str:
    """Waits until the page shows bot message number ``before + 1``; its text."""
    reply = responses(page).nth(before)
    reply.wait_for(timeout=REPLY_WAIT_MS)
    return reply.inner_text()


def ask(page: Any, text: str) -> str:
    """Types a message in the widget and returns the text of the bot's reply."""
    before = responses(page).count()
    box = page.locator(".rw-conversation-container .rw-new-message")
    box.fill(text)
    box.press("Enter")
    return wait_for_reply(page, before)


def wait_for_event(spy: Spy, count: int, timeout: float = 10) -> Dict[str, Any]:
    """Waits until ``count`` bot events were received; returns the last one."""
    deadline = time.monotonic() + timeout
    while True:
        events = spy.bot_events()
        if len(events) >= count:
            return events[count - 1]
        if time.monotonic() > deadline:
            raise AssertionError(f"expected {count} bot_uttered events, got {events}")
        spy.page.wait_for_timeout(100)


def words(text: str, n: int = 6) -> str:
    """The first ``n`` words of a text, whitespace normalised."""
    return " ".join(text.split()[:n])


def save_screenshot(page: Any) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "widget.png"
    page.screenshot(path=str(shot))
    README_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, README_SCREENSHOT)


# --------------------------------------------------------------------- tests


def test_conversation_with_sources_buttons_and_reload(browser, page_url, content):
    context = browser.new_context(
        viewport={"width": 1200, "height": 900}, locale="nl-NL"
    )
    page = context.new_page()
    page.set_default_timeout(REPLY_WAIT_MS)
    spy = Spy(page)
    try:
        page.goto(page_url)
        assert page.locator("h1").inner_text() == (
            "Magnesium en vitamine D: hoe werken ze samen?"
        )
        open_widget(page)

        # The greeting (initPayload /groet), then the question.
        wait_for_reply(page, 0)
        greeting = wait_for_event(spy, 1)
        assert greeting["metadata"]["custom"]["topic"] == "groet"

        answer = ask(page, QUESTION)
        assert looks_dutch(answer), answer
        assert "Uit de bronnenlijst van het artikel:" in answer, answer
        assert "[3]" in answer and content.sources[3].url in answer, answer
        event = wait_for_event(spy, 2)
        topic = content.topics[QUESTION_TOPIC]
        assert event["metadata"]["custom"]["topic"] == QUESTION_TOPIC
        assert event["metadata"]["custom"]["sources"] == list(topic.sources)
        assert words(topic.short) in " ".join(answer.split())

        # The first answer is followed by "Had je hier iets aan?" with two
        # buttons (actions/feedback.py); "Ja" stores the rating and offers the
        # related topics again.
        question = wait_for_event(spy, 3)
        assert question["metadata"]["custom"]["feedback"] == "vraag"
        assert question["text"] == "Had je hier iets aan?"
        responses(page).filter(has_text="Had je hier iets aan?").wait_for()
        buttons = page.locator(".rw-conversation-container .rw-replies .rw-reply")
        buttons.filter(has_text="Nee").wait_for()
        assert buttons.all_inner_texts() == ["Ja", "Nee"]
        page.wait_for_timeout(500)  # let the scroll settle for the screenshot
        save_screenshot(page)
        before = responses(page).count()
        buttons.first.click()
        thanks = wait_for_reply(page, before)
        assert looks_dutch(thanks), thanks
        custom = wait_for_event(spy, 4)["metadata"]["custom"]
        assert (custom["topic"], custom["feedback"]) == (QUESTION_TOPIC, "nuttig")

        # Suggestion buttons: the related topics, clickable.
        related = [content.topics[t] for t in topic.related][: buttons.count()]
        assert buttons.count() >= 1
        assert buttons.all_inner_texts() == [t.title for t in related]
        next_topic = related[0]
        before = responses(page).count()
        buttons.first.click()
        next_answer = wait_for_reply(page, before)
        assert looks_dutch(next_answer), next_answer
        assert words(next_topic.short) in " ".join(next_answer.split())
        assert wait_for_event(spy, 5)["metadata"]["custom"]["topic"] == next_topic.id
        page.locator(".rw-client", has_text=next_topic.title).wait_for()

        # Reload: the conversation is shown again and continues in the same session.
        session_id = json.loads(page.evaluate("localStorage.getItem('chat_session')"))[
            "session_id"
        ]
        shown_before = responses(page).all_inner_texts()
        page.reload()
        open_widget(page)
        responses(page).nth(len(shown_before) - 1).wait_for()
        assert responses(page).all_inner_texts() == shown_before
        assert page.locator(".rw-client", has_text=QUESTION).count() == 1
        stored = json.loads(page.evaluate("localStorage.getItem('chat_session')"))
        assert stored["session_id"] == session_id
        deadline = time.monotonic() + 10
        while {"session_id": session_id} not in spy.sent_events("session_request"):
            assert time.monotonic() < deadline, spy.sent_events("session_request")
            page.wait_for_timeout(100)

        more = ask(page, "vertel meer")
        assert looks_dutch(more), more
        assert words(next_topic.long) in " ".join(more.split())
        custom = wait_for_event(spy, 6)["metadata"]["custom"]
        assert (custom["topic"], custom.get("answer")) == (next_topic.id, "lang")

        # The source list: URLs in the text are links.
        ask(page, "welke bronnen?")
        links = responses(page).last.locator("a")
        hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
        known = {s.url for s in content.sources.values()}
        assert hrefs and set(hrefs) <= known, hrefs
        assert all(h.startswith("https://") for h in hrefs)

        # Every reply carried its topic; nothing was loaded from outside.
        assert all("topic" in e["metadata"]["custom"] for e in spy.bot_events())
        outside = [u for u in spy.requests if urlparse(u).hostname not in LOCAL_HOSTS]
        assert outside == []
        assert spy.dialogs == []
    finally:
        context.close()


def test_html_in_a_message_is_shown_as_text(browser, page_url):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(REPLY_WAIT_MS)
    spy = Spy(page)
    try:
        page.goto(page_url)
        open_widget(page)
        wait_for_reply(page, 0)

        reply = ask(page, INJECTION)
        assert looks_dutch(reply), reply
        shown = page.locator(".rw-conversation-container .rw-client").last.inner_text()
        assert shown == INJECTION
        assert page.locator("img[src='x']").count() == 0
        assert page.locator(".rw-messages-container img").count() == 0
        page.wait_for_timeout(500)  # an onerror handler would have fired by now
        assert spy.dialogs == []
    finally:
        context.close()
