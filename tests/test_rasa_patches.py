"""Each Rasa patch gives the same result as Rasa's original, on real trackers."""

from __future__ import annotations

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.shared.core import events as rasa_events
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.common import all_subclasses
from rasa.utils.endpoints import EndpointConfig

from server import rasa_patches
from tests.helpers import ROOT


@pytest.fixture(scope="module", autouse=True)
def patched():
    names = rasa_patches.apply()
    assert set(names) == set(rasa_patches.PATCHES)
    return names


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


def real_tracker(domain: Domain, turns: int) -> DialogueStateTracker:
    events = [ActionExecuted("action_session_start"), SessionStarted()]
    events.append(ActionExecuted("action_listen"))
    for turn in range(turns):
        events += [
            UserUttered(
                f"wat doet vitamine d {turn}",
                {"name": "functie_vitamine_d", "confidence": 0.9},
                parse_data={"text": f"wat doet vitamine d {turn}"},
            ),
            ActionExecuted("action_answer_topic"),
            BotUttered("Vitamine D …", {"custom": {"topic": "functie_vitamine_d"}}),
            SlotSet("laatste_topic", "functie_vitamine_d"),
            ActionExecuted("action_listen"),
        ]
    return DialogueStateTracker.from_events("gebruiker", events, domain.slots)


def test_nothing_is_applied_on_another_rasa_version(caplog):
    assert rasa_patches.apply("3.7.0") == []
    assert "not applied" in caplog.text


def test_importing_the_server_package_changes_nothing():
    import subprocess
    import sys

    code = (
        "import server, server.channels.rest, server.stores;"
        "from server import rasa_patches; print(rasa_patches.applied())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT
    )
    assert out.stdout.strip() == "[]", out.stderr


def test_event_type_table_resolves_every_event_class_like_rasa():
    original = rasa_patches.ORIGINALS["event_type_table"]
    names = {cls.type_name for cls in all_subclasses(Event)}
    for name in sorted(names):
        assert Event.resolve_by_type(name, None) is original(name, None), name
    assert Event.resolve_by_type("geen_event", SlotSet) is SlotSet
    assert original("geen_event", SlotSet) is SlotSet
    for resolve in (Event.resolve_by_type, original):
        with pytest.raises(ValueError, match="Unknown event name"):
            resolve("geen_event", None)


def test_event_type_table_deserialises_a_real_tracker_identically(domain):
    tracker = real_tracker(domain, 30)
    dumped = [e.as_dict() for e in tracker.events]
    patched = [e.as_dict() for e in rasa_events.deserialise_events(dumped)]
    assert patched == dumped


def test_action_response_validator_accepts_and_rejects_like_rasa():
    original = rasa_patches.ORIGINALS["action_response_validator"]
    action = RemoteAction("action_answer_topic", EndpointConfig("http://x"))
    good = {
        "events": [{"event": "slot", "name": "laatste_topic", "value": "x"}],
        "responses": [{"text": "Hoi", "custom": {"topic": "groet", "sources": []}}],
    }
    assert action._validate_action_result(good) is original(action, good) is True
    bad = {"events": "geen lijst", "responses": []}
    with pytest.raises(ValidationError) as patched_error:
        action._validate_action_result(bad)
    with pytest.raises(ValidationError) as original_error:
        original(action, bad)
    assert patched_error.value.message == original_error.value.message


@pytest.mark.parametrize("turns", [5, 80])
def test_action_call_matches_rasa_except_for_old_events(domain, turns):
    original = rasa_patches.ORIGINALS["action_call_recent_events"]
    action = RemoteAction("action_answer_topic", EndpointConfig("http://x"))
    tracker = real_tracker(domain, turns)

    patched = action._action_call_format(tracker, domain)
    expected = original(action, tracker, domain)

    limit = rasa_patches.ACTION_CALL_EVENTS
    assert patched["tracker"]["events"] == expected["tracker"]["events"][-limit:]
    if len(tracker.events) <= limit:
        assert patched == expected
    else:
        assert len(patched["tracker"]["events"]) == limit
        for key in ("next_action", "sender_id", "version"):
            assert patched[key] == expected[key]
        without_events = {k: v for k, v in patched["tracker"].items() if k != "events"}
        assert without_events == {
            k: v for k, v in expected["tracker"].items() if k != "events"
        }
