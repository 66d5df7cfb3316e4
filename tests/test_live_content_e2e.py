"""End to end: edit the content file of a running stack and ask again.

Both servers run with ``FAQ_CONTENT_FILE`` pointing at a temporary copy of the
content file. The tests run in file order on one stack: a valid edit is answered
without a restart, a broken edit changes nothing for users and the action
server's ``GET /content/status`` says why, and the fixed file is served again.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, Tuple

import pytest
import requests

from tests.helpers import ROOT
from tests.test_live_content import (
    NEW_SENTENCE,
    OLD,
    break_basis,
    edit,
    replace_first_sentence,
)
from tools.stack import MODEL, Stack

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not MODEL.exists(), reason="no trained model: run make train"),
]

QUESTION = "waarom heb ik magnesium nodig voor vitamine d?"
TOPIC = "magnesium_activeert_vitamine_d"
#: The action server looks at the file this often (seconds).
POLL = 0.5


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> Iterator[Tuple[Stack, Path]]:
    work = tmp_path_factory.mktemp("live-content")
    content_file = work / "kennisbank.yml"
    shutil.copyfile(ROOT / "content" / "kennisbank.yml", content_file)
    stack = Stack(
        work / "stack",
        env={
            "FAQ_CONTENT_FILE": str(content_file),
            "FAQ_CONTENT_POLL_SECONDS": str(POLL),
        },
    )
    try:
        stack.start_actions()
        stack.start_rasa()
        yield stack, content_file
    finally:
        stack.stop()


def status(stack: Stack) -> Dict[str, Any]:
    """The action server's content status, asked without any token."""
    response = requests.get(f"{stack.action_url}/content/status", timeout=5)
    assert response.status_code == 200
    return response.json()


def wait_for(check: Callable[[], bool], seconds: float = 60) -> float:
    """Waits until ``check()`` holds; returns how long that took."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < seconds, "not within the time limit"
        time.sleep(0.1)
    return time.monotonic() - started


def answer(stack: Stack, sender: str) -> Dict[str, Any]:
    message = stack.send(sender, QUESTION)[0]  # a feedback question may follow
    assert message["custom"]["topic"] == TOPIC
    return message


def test_an_edited_answer_is_the_next_reply_without_a_restart(live):
    stack, content_file = live
    pids = stack.pids()
    before = status(stack)
    assert before["status"] == "ok"
    assert answer(stack, "live-1")["text"].startswith(OLD)

    edit(content_file, replace_first_sentence)
    took = wait_for(lambda: status(stack)["version"] != before["version"])

    assert answer(stack, "live-2")["text"].startswith(NEW_SENTENCE)
    # one poll (1 s) plus the coverage check in a child process (spaCy: ~5 s)
    assert took < 30
    assert stack.pids() == pids, "no server was restarted"
    after = status(stack)
    assert after["status"] == "ok" and after["reloads"] == 1
    assert after["retrain_needed"] is False


def test_a_broken_edit_keeps_the_last_good_answer_and_says_why(live):
    stack, content_file = live
    served = status(stack)["version"]

    edit(
        content_file,
        lambda text: break_basis(
            text.replace(f'text: "{NEW_SENTENCE}"', 'text: "Kapotte nieuwe zin."', 1)
        ),
    )
    wait_for(lambda: status(stack)["status"] == "error")

    reply = answer(stack, "live-3")
    assert reply["text"].startswith(NEW_SENTENCE), "the last good text stays"
    assert "Kapotte" not in reply["text"]
    now = status(stack)
    assert now["version"] == served
    assert now["error"]["topic"] == TOPIC
    assert now["error"]["field"] == "short[1].basis[0]"
    assert "komt niet (letterlijk) voor in het artikel" in now["error"]["message"]
    log = (stack.workdir / "actions.log").read_text(encoding="utf-8")
    assert "NIET geladen" in log and TOPIC in log


def test_the_repaired_file_is_served_again(live):
    stack, content_file = live
    shutil.copyfile(ROOT / "content" / "kennisbank.yml", content_file)
    edit(content_file, lambda text: text)
    wait_for(lambda: status(stack)["status"] == "ok")

    assert answer(stack, "live-4")["text"].startswith(OLD)
