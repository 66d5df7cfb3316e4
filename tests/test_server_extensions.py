"""Tests of the Rasa-server extensions: cached tracker store, windowed policies."""

from __future__ import annotations

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from server.policies import recent_view
from server.stores import CachedSQLTrackerStore
from tests.helpers import ROOT


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


def conversation(domain: Domain, turns: int) -> DialogueStateTracker:
    events = [ActionExecuted("action_session_start"), SessionStarted()]
    events.append(ActionExecuted("action_listen"))
    for turn in range(turns):
        events += [
            UserUttered(f"vraag {turn}", {"name": "vitamine_k2", "confidence": 1.0}),
            ActionExecuted("action_answer_topic"),
            SlotSet("laatste_topic", f"topic_{turn}"),
            ActionExecuted("action_listen"),
        ]
    return DialogueStateTracker.from_events("gebruiker", events, domain.slots)


def test_recent_view_keeps_state_and_only_the_last_turns(domain):
    tracker = conversation(domain, 20)
    view = recent_view(tracker, domain, turns=6)

    user_turns = [e for e in view.events if isinstance(e, UserUttered)]
    assert [e.text for e in user_turns] == [f"vraag {t}" for t in range(14, 20)]
    assert view.get_slot("laatste_topic") == "topic_19"
    assert view.latest_message.text == tracker.latest_message.text
    assert view.latest_action_name == tracker.latest_action_name
    assert len(view.events) < len(tracker.events)


def test_recent_view_returns_short_trackers_unchanged(domain):
    tracker = conversation(domain, 3)
    assert recent_view(tracker, domain, turns=6) is tracker


@pytest.fixture
def store_factory(tmp_path, domain):
    db = str(tmp_path / "tracker.db")
    return lambda: CachedSQLTrackerStore(domain=domain, dialect="sqlite", db=db)


async def test_cached_store_saves_everything_and_serves_from_memory(
    store_factory, domain
):
    store = store_factory()
    tracker = conversation(domain, 5)
    await store.save(tracker)
    assert await store.retrieve("gebruiker") is tracker  # from memory

    tracker.update(UserUttered("nog een vraag", {"name": "meer", "confidence": 1.0}))
    tracker.update(ActionExecuted("action_meer"))
    await store.save(tracker)

    restarted = store_factory()  # a new process: nothing in memory
    loaded = await restarted.retrieve("gebruiker")
    assert loaded is not tracker
    # Like Rasa's SQL store, a loaded session starts at its SessionStarted event.
    expected = [e.as_dict() for e in list(tracker.events)[1:]]
    assert [e.as_dict() for e in loaded.events] == expected
    assert loaded.get_slot("laatste_topic") == "topic_4"


async def test_cached_store_reloads_a_tracker_changed_without_saving(
    store_factory, domain
):
    store = store_factory()
    tracker = conversation(domain, 2)
    await store.save(tracker)
    tracker.update(UserUttered("half verwerkt"))  # a turn that failed before saving

    loaded = await store.retrieve("gebruiker")
    assert loaded is not tracker
    assert [e.text for e in loaded.events if isinstance(e, UserUttered)] == [
        "vraag 0",
        "vraag 1",
    ]


async def test_cached_store_forgets_a_tracker_that_started_a_new_session(
    store_factory, domain
):
    store = store_factory()
    tracker = conversation(domain, 2)
    await store.save(tracker)
    tracker.update(ActionExecuted("action_session_start"))
    tracker.update(SessionStarted())
    tracker.update(ActionExecuted("action_listen"))
    await store.save(tracker)

    loaded = await store.retrieve("gebruiker")
    assert loaded is not tracker
    assert isinstance(loaded.events[0], SessionStarted)
    assert len(loaded.events) == 2  # only the new session, as Rasa's SQL store
