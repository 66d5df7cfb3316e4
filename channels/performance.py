"""Two measured speed-ups of Rasa 3.6.21's per-message path, applied on import.

Profiling the Rasa server (py-spy, 120-turn conversation; see README "Figures")
showed two costs that grow with every message and have nothing to do with the
conversation itself:

1. ``Event.resolve_by_type`` walks all ``Event`` subclasses recursively for
   every stored event it deserialises, so loading a tracker costs
   O(events x event classes). We look the class up in a table built once.
2. ``RemoteAction._validate_action_result`` calls ``jsonschema.validate``,
   which checks the large response schema itself and builds a new validator
   on every custom-action call. We build the validator once.

3. ``RemoteAction`` sends the whole session's events to the action server on
   every call, so each call is slower than the last. Our actions read only
   slots and the latest message (both sent separately) and, for a handoff,
   the recent transcript, so the call carries the last ``ACTION_CALL_EVENTS``
   events instead.

Behaviour is unchanged: same classes, same errors. ``apply()`` is idempotent
and is called when the ``channels`` package is imported (the Rasa server
imports it through credentials.yml and endpoints.yml).
"""

from __future__ import annotations

import functools
from typing import Any, Dict, Optional, Text, Type

_APPLIED = False

#: Events sent to the action server per call (the slots are always complete).
ACTION_CALL_EVENTS = 200


def apply() -> None:
    """Installs both speed-ups once per process."""
    global _APPLIED
    if _APPLIED:
        return
    _APPLIED = True
    _cache_event_types()
    _cache_action_response_validator()
    _trim_action_call_events()


def _cache_event_types() -> None:
    from rasa.shared.core import events
    from rasa.shared.utils.common import all_subclasses

    original = events.Event.resolve_by_type

    @functools.lru_cache(maxsize=None)
    def _table() -> Dict[Text, Type[events.Event]]:
        table: Dict[Text, Type[events.Event]] = {}
        for cls in all_subclasses(events.Event):
            table.setdefault(cls.type_name, cls)
        return table

    def resolve_by_type(
        type_name: Text, default: Optional[Type[events.Event]] = None
    ) -> Optional[Type[events.Event]]:
        found = _table().get(type_name)
        if found is not None:
            return found
        _table.cache_clear()  # a class registered later: fall back to Rasa's walk
        return original(type_name, default)

    events.Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[method-assign]


def _cache_action_response_validator() -> None:
    from jsonschema import ValidationError
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    @functools.lru_cache(maxsize=1)
    def _validator() -> Any:
        schema = RemoteAction.action_response_format_spec()
        cls = validator_for(schema)
        cls.check_schema(schema)
        return cls(schema)

    def _validate_action_result(self: RemoteAction, result: Dict[Text, Any]) -> bool:
        try:
            _validator().validate(result)
            return True
        except ValidationError as error:
            error.message += (
                ". Failed to validate Action server response from API, "
                "make sure your response from the Action endpoint is valid. "
                f"For more information about the format visit "
                f"{DOCS_BASE_URL}/custom-actions"
            )
            raise error

    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]


def _trim_action_call_events() -> None:
    import rasa
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.trackers import EventVerbosity

    def _action_call_format(self: RemoteAction, tracker: Any, domain: Any) -> Any:
        # Rasa's own body, except that only the recent events are serialised.
        state = tracker.current_state(EventVerbosity.NONE)
        events = list(tracker.events)[-ACTION_CALL_EVENTS:]
        state["events"] = [event.as_dict() for event in events]
        result = {
            "next_action": self._name,
            "sender_id": tracker.sender_id,
            "tracker": state,
            "version": rasa.__version__,
        }
        if (
            not self._is_selective_domain_enabled()
            or domain.does_custom_action_explicitly_need_domain(self.name())
        ):
            result["domain"] = domain.as_dict()
        return result

    RemoteAction._action_call_format = _action_call_format  # type: ignore[method-assign]
