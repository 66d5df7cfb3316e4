"""Live content without servers: the holder, the status route, the actions' API."""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path
from typing import Callable, List

import aiohttp
import pytest

from actions.__main__ import build_app
from actions.answers import ActionAnswerTopic
from faq.content import ContentError
from faq.live import LiveContent
from tests.helpers import ROOT, make_tracker, serve_sanic

CONTENT_FILE = ROOT / "content" / "kennisbank.yml"
ARTICLE_FILE = ROOT / "content" / "artikel.txt"

#: The first sentence of a short answer, and a valid replacement (same basis).
OLD = "Vitamine D wordt in twee stappen actief: je lever zet het om naar calcidiol"
NEW = "Na opname via zonlicht, voedsel of supplementen doorloopt vitamine D twee"
NEW_SENTENCE = (
    "Na opname via zonlicht, voedsel of supplementen doorloopt vitamine D twee "
    "activeringsstappen."
)


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def edit(path: Path, change: Callable[[str], str]) -> None:
    """Rewrites a file in place and moves its mtime on (coarse file systems)."""
    before = path.stat().st_mtime_ns
    path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")
    os.utime(path, ns=(before + 2_000_000_000, before + 2_000_000_000))


def replace_first_sentence(text: str) -> str:
    start = text.index(f'"{OLD}')
    end = text.index('"', start + 1)
    return text[:start] + f'"{NEW_SENTENCE}"' + text[end + 1 :]


def break_basis(text: str) -> str:
    """A quote that is not in the article, in the same topic's short answer."""
    start = text.index("id: magnesium_activeert_vitamine_d")
    quote = (
        '"Deze omzettingen gebeuren met behulp van enzymen die magnesium nodig '
        'hebben als cofactor."'
    )
    at = text.index(quote, start)
    return (
        text[:at]
        + '"Magnesium maakt alle vitamine D actief."'
        + text[at + len(quote) :]
    )


@pytest.fixture
def files(tmp_path) -> Path:
    path = tmp_path / "kennisbank.yml"
    shutil.copyfile(CONTENT_FILE, path)
    return path


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def holder(files, clock) -> LiveContent:
    """A holder without the coverage check (that is tested on its own below)."""
    live = LiveContent(files, ARTICLE_FILE, interval=1.0, clock=clock, check_timeout=0)
    live.load()
    return live


@pytest.fixture
def checked(files, clock) -> LiveContent:
    """A holder that runs the coverage check in a child process, as servers do."""
    live = LiveContent(
        files, ARTICLE_FILE, interval=1.0, clock=clock, check_timeout=120
    )
    live.load()
    return live


def short_of(holder: LiveContent) -> str:
    return holder.current.topics["magnesium_activeert_vitamine_d"].short


def test_a_valid_edit_is_served_after_the_interval(holder, files, clock, caplog):
    assert short_of(holder).startswith(OLD)
    version = holder.status()["version"]
    edit(files, replace_first_sentence)

    assert short_of(holder).startswith(OLD), "not looked at before the interval"
    clock.now += 1.0
    with caplog.at_level(logging.INFO, logger="faq.live"):
        assert short_of(holder).startswith(NEW_SENTENCE)

    status = holder.status()
    assert status["status"] == "ok" and status["error"] is None
    assert status["version"] != version and status["reloads"] == 1
    assert status["retrain_needed"] is False
    assert "magnesium_activeert_vitamine_d" in caplog.text


@pytest.mark.parametrize(
    "breaking, topic, field, reason",
    [
        (
            break_basis,
            "magnesium_activeert_vitamine_d",
            "short[1].basis[0]",
            "komt niet",
        ),
        (lambda text: text + "\n  - [kapot\n", None, "", "ongeldige YAML"),
        (
            lambda text: text.replace("bijvoorbeeld de magnesiumbehoefte", "400 mg", 1),
            "magnesium_voeding",
            "short[2].text",
            "supplement",
        ),
    ],
)
def test_a_broken_edit_keeps_the_last_good_content_and_says_why(
    breaking, topic, field, reason, holder, files, clock, caplog
):
    good = holder.current
    edit(files, breaking)
    clock.now += 1.0

    with caplog.at_level(logging.ERROR, logger="faq.live"):
        assert holder.refresh() is False
    assert holder.current is good

    status = holder.status()
    assert status["status"] == "error"
    assert status["version"] == good.version
    error = status["error"]
    assert reason in error["message"] and error["serving"] == "vorige geldige versie"
    assert (error["topic"], error["field"]) == (topic, field or None)
    assert "NIET geladen" in caplog.text and reason in caplog.text
    assert str(files.parent) not in json.dumps(status), "no folders in the status"


def add_claim(text: str) -> str:
    """A sentence that keeps its valid quote but says more than the article."""
    start = text.index(f'"{OLD}')
    end = text.index('"', start + 1)
    claim = (
        '"Vitamine D geneest depressie, voorkomt griep en beschermt tegen kanker '
        'bij iedereen."'
    )
    return text[:start] + claim + text[end + 1 :]


def test_a_covered_edit_goes_live_once_the_child_check_passed(checked, files, clock):
    good = checked.current
    edit(files, replace_first_sentence)
    clock.now += 1.0

    assert checked.refresh() is False, "not before the coverage check"
    assert checked.current is good and checked.status()["checking"]
    checked.settle()

    assert short_of(checked).startswith(NEW_SENTENCE)
    status = checked.status()
    assert status["status"] == "ok" and status["checking"] is None
    assert status["reloads"] == 1


def test_an_edit_that_adds_a_claim_is_refused_by_the_coverage_check(
    checked, files, clock, caplog
):
    good = checked.current
    edit(files, add_claim)
    clock.now += 1.0

    with caplog.at_level(logging.ERROR, logger="faq.live"):
        checked.refresh()
        checked.settle()
    assert checked.current is good

    error = checked.status()["error"]
    assert (error["topic"], error["field"]) == (
        "magnesium_activeert_vitamine_d",
        "short[0].text",
    )
    assert "gedekt" in error["message"] and "kanker" in error["message"]
    assert "NIET geladen" in caplog.text


def test_a_fixed_file_clears_the_error(holder, files, clock):
    original = files.read_text(encoding="utf-8")
    edit(files, break_basis)
    holder.refresh()
    assert holder.status()["status"] == "error"

    edit(files, lambda _: original)
    holder.refresh()
    status = holder.status()
    assert status["status"] == "ok" and status["error"] is None
    assert status["reloads"] == 0, "the same bytes as in service: nothing to load"


def test_an_error_is_logged_once_per_edit(holder, files, clock, caplog):
    edit(files, break_basis)
    with caplog.at_level(logging.ERROR, logger="faq.live"):
        for _ in range(5):
            clock.now += 1.0
            holder.current  # noqa: B018 - the access looks at the file
    assert caplog.text.count("NIET geladen") == 1


def test_a_touch_without_change_is_not_reloaded(holder, files):
    edit(files, lambda text: text)
    assert holder.refresh() is False
    assert holder.status()["reloads"] == 0


def test_a_deleted_file_keeps_the_content(holder, files):
    good = holder.current
    files.unlink()
    assert holder.refresh() is False
    assert holder.current is good
    assert "kan het bestand niet lezen" in holder.status()["error"]["message"]


def test_changed_questions_are_served_but_need_a_retrain(holder, files, clock):
    edit(
        files,
        lambda text: text.replace(
            '"Wat zijn calcidiol en calcitriol?"', '"Wat is calcitriol?"'
        ),
    )
    assert holder.refresh() is True

    status = holder.status()
    assert status["status"] == "ok" and status["retrain_needed"] is True
    (note,) = status["retrain_notes"]
    assert "magnesium_activeert_vitamine_d" in note and "make train" in note
    assert (
        "Wat is calcitriol?"
        in holder.current.topics["magnesium_activeert_vitamine_d"].questions
    )


def test_an_unknown_topic_says_it_needs_an_intent_and_a_retrain(holder, files):
    edit(files, lambda text: text.replace("id: vitamine_k2", "id: vitamine_k3", 1))
    holder.refresh()
    message = holder.status()["error"]["message"]
    assert "vitamine_k3" in message and "make train" in message


def test_nothing_is_served_when_the_first_load_fails(tmp_path):
    path = tmp_path / "kennisbank.yml"
    path.write_text("topics: [", encoding="utf-8")
    live = LiveContent(path, ARTICLE_FILE, interval=1.0)
    with pytest.raises(ContentError):
        live.current  # noqa: B018
    assert live.refresh() is False
    assert live.status()["status"] == "error"
    assert live.status()["error"]["serving"] == "niets"


def test_zero_interval_never_looks_again(files):
    clock = Clock()
    live = LiveContent(files, ARTICLE_FILE, interval=0, clock=clock)
    first = live.current
    edit(files, replace_first_sentence)
    clock.now += 3600
    assert live.current is first


async def test_actions_read_the_live_content(
    monkeypatch, holder, files, clock, dispatcher
):
    """``self.content`` is the access API of the actions: it follows the file."""
    monkeypatch.setattr("faq.live._LIVE", holder)
    action = ActionAnswerTopic()
    tracker = make_tracker("magnesium_activeert_vitamine_d")

    texts: List[str] = []
    for change in (None, replace_first_sentence):
        if change:
            edit(files, change)
            clock.now += 1.0
        dispatcher.messages.clear()
        await action.run(dispatcher, tracker, {})
        texts.append(dispatcher.messages[0]["text"])
    assert texts[0].startswith(OLD) and texts[1].startswith(NEW_SENTENCE)


async def test_status_route_needs_no_token_but_actions_still_do(holder, files):
    app = build_app(token="geheim-token", content=holder, poll_seconds=0)
    edit(files, break_basis)
    holder.refresh()
    async with serve_sanic(app) as url, aiohttp.ClientSession() as session:
        async with session.get(f"{url}/content/status") as status:
            text = await status.text()
            assert status.status == 200
        async with session.post(f"{url}/webhook", json={}) as webhook:
            assert webhook.status == 401

    body = json.loads(text)
    assert body["status"] == "error" and body["file"] == "kennisbank.yml"
    assert body["error"]["topic"] == "magnesium_activeert_vitamine_d"
    assert "geheim-token" not in text and str(files.parent) not in text


def test_an_action_can_be_pinned_to_given_content(holder, content):
    action = ActionAnswerTopic()
    assert action.content is content  # the process's live content
    action.content = holder.current
    assert action.content is holder.current
    assert ActionAnswerTopic().content is content, "only that instance"
