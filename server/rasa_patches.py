"""Every change this project makes to Rasa's private behaviour, in one module.

Nothing is changed on import. :func:`apply` installs the patches explicitly
(``python -m server`` calls it before Rasa starts) and only on the Rasa
version they were written and tested against; on any other version it logs a
warning and changes nothing, so an upgrade runs stock Rasa until someone has
reviewed this file. Each patch keeps Rasa's original in :data:`ORIGINALS`, and
``tests/test_rasa_patches.py`` compares the two on real trackers.

Profiling the Rasa server (py-spy, 120-turn conversation; README "Figures")
showed three costs that grow with every message:

1. ``Event.resolve_by_type`` walks all ``Event`` subclasses recursively for
   every stored event it deserialises, so loading a tracker costs
   O(events x event classes). We look the class up in a table built once.
2. ``RemoteAction._validate_action_result`` calls ``jsonschema.validate``,
   which checks the large response schema itself and builds a new validator
   on every custom-action call. We build the validator once.
3. ``RemoteAction._action_call_format`` sends the whole session's events to
   the action server on every call, so each call is slower than the last. Our
   actions read only slots and the latest message (both sent separately) and,
   for a handoff, the recent transcript, so the call carries the last
   ``ACTION_CALL_EVENTS`` events instead.

Behaviour is otherwise unchanged: same classes, same errors.
"""

from __future__ import annotations

import functools
import logging
from typing import Any, Callable, Dict, List, Optional, Text, Type

logger = logging.getLogger(__name__)

#: The Rasa version these patches were written against and tested on.
SUPPORTED_RASA_VERSION = "3.6.21"

#: Events sent to the action server per call (the slots are always complete).
ACTION_CALL_EVENTS = 200

#: Rasa's original functions, by patch name (filled in by :func:`apply`).
ORIGINALS: Dict[Text, Callable[..., Any]] = {}


def apply(rasa_version: Optional[Text] = None) -> List[Text]:
    """Installs the patches once per process, if the Rasa version matches.

    Args:
        rasa_version: The version to check; defaults to the installed Rasa's.

    Returns:
        The names of the patches now in place (empty on another version).
    """
    import rasa

    version = rasa_version or rasa.__version__
    if version != SUPPORTED_RASA_VERSION:
        logger.warning(
            "Rasa %s is not %s: server.rasa_patches not applied (review the "
            "module and its tests before an upgrade)",
            version,
            SUPPORTED_RASA_VERSION,
        )
        return []
    for name, install in PATCHES.items():
        if name not in ORIGINALS:
            ORIGINALS[name] = install()
    logger.info("Rasa patches applied: %s", ", ".join(ORIGINALS))
    return list(ORIGINALS)


def applied() -> List[Text]:
    """Returns the names of the patches in place in this process."""
    return list(ORIGINALS)


def _cache_event_types() -> Callable[..., Any]:
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
    return original


def _cache_action_response_validator() -> Callable[..., Any]:
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

    original = RemoteAction._validate_action_result
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    return original


def _trim_action_call_events() -> Callable[..., Any]:
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

    original = RemoteAction._action_call_format
    RemoteAction._action_call_format = _action_call_format  # type: ignore[method-assign]
    return original


#: The patches by name; each installer returns Rasa's original.
PATCHES: Dict[Text, Callable[[], Callable[..., Any]]] = {
    "event_type_table": _cache_event_types,
    "action_response_validator": _cache_action_response_validator,
    "action_call_recent_events": _trim_action_call_events,
}
