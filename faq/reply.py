"""The reply contract: the ``custom`` payload every bot reply carries.

Customer service, analytics and the channels read this payload, so it is
built here and only here (shared/topics.md, "Reply metadata")::

    {"topic": "<topic id>", "sources": [3, 7],
     "source_links": [{"number": 3, "label": "...", "url": "..."}],
     "answer": "kort", "via": "context", "handoff": true, "reason": "...",
     "feedback": "vraag"}

``topic`` and ``sources`` are always present; the other keys only when they
apply. The action server builds content replies with :func:`custom_payload`;
the Rasa server's channels answer on their own (empty message, overload,
failure) with :func:`system_reply`.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Iterable, List, Mapping, Optional, Text

#: Topic of a reply the channel gives itself when the bot could not answer.
FALLBACK_TOPIC = "fallback"

#: Values of ``via``: how the topic of the reply was decided.
VIA_MESSAGE = "bericht"
VIA_CONTEXT = "context"
VIA_BUTTON = "knop"

#: Values of ``feedback``: the "Had je hier iets aan?" question after an
#: answer, and the reply to the visitor's rating.
FEEDBACK_ASKED = "vraag"
FEEDBACK_HELPFUL = "nuttig"
FEEDBACK_NOT_HELPFUL = "niet_nuttig"


def custom_payload(
    topic: Text,
    sources: Iterable[int] = (),
    source_links: Iterable[Mapping[Text, Any]] = (),
    answer: Optional[Text] = None,
    via: Optional[Text] = None,
    handoff: bool = False,
    reason: Optional[Text] = None,
    feedback: Optional[Text] = None,
) -> Dict[Text, Any]:
    """Builds the ``custom`` payload of one reply.

    Args:
        topic: The contract topic id this reply answers.
        sources: Source numbers (1..15) that back the reply.
        source_links: ``{"number", "label", "url"}`` for each source.
        answer: What kind of answer this is (``kort``, ``lang``, ``bronnen``).
        via: How the topic was decided, when not plainly by the message.
        handoff: Whether a channel should hand the user to a person.
        reason: Why a channel answered itself (e.g. ``storing:time-out``).
        feedback: ``vraag`` on the "Had je hier iets aan?" question, ``nuttig``
            or ``niet_nuttig`` on the reply to the visitor's rating.

    Returns:
        The JSON-serialisable payload.
    """
    payload: Dict[Text, Any] = {"topic": topic, "sources": list(sources)}
    links: List[Dict[Text, Any]] = [dict(link) for link in source_links]
    if links:
        payload["source_links"] = links
    if answer:
        payload["answer"] = answer
    if via:
        payload["via"] = via
    if handoff:
        payload["handoff"] = True
    if reason:
        payload["reason"] = reason
    if feedback:
        payload["feedback"] = feedback
    return payload


def system_reply(recipient_id: Text, text: Text, reason: Text) -> Dict[Text, Any]:
    """Builds a reply a channel sends itself, in Rasa's message format.

    Args:
        recipient_id: The conversation id.
        text: The Dutch text.
        reason: Why the channel answered itself (kept in the payload and logs).

    Returns:
        ``{"recipient_id", "text", "custom"}`` with topic ``fallback``.
    """
    return {
        "recipient_id": recipient_id,
        "text": text,
        "custom": custom_payload(FALLBACK_TOPIC, reason=reason),
    }


def topic_of(message: Mapping[Text, Any]) -> Optional[Text]:
    """Returns the topic id of a bot message in Rasa's format, if it has one."""
    custom = message.get("custom")
    if isinstance(custom, Mapping):
        topic = custom.get("topic")
        return topic if isinstance(topic, str) else None
    return None


#: Entity value that asks for the article's full source list.
ALL_SOURCES = "alle"

#: The payload of the "all sources" button.
ALL_SOURCES_PAYLOAD = f'/bronnen{{"bereik": "{ALL_SOURCES}"}}'


#: The payload the website widget sends when it opens (``initPayload``).
GREETING_PAYLOAD = "/groet"


def topic_payload(topic_id: Text) -> Text:
    """Returns the payload of a button that asks for a topic."""
    return f"/{topic_id}"


#: Intent of the feedback buttons, and the entities their payload carries.
FEEDBACK_INTENT = "feedback"
FEEDBACK_TOPIC_ENTITY = "onderwerp"
FEEDBACK_RATING_ENTITY = "oordeel"
#: Values of the ``oordeel`` entity: the "Ja" and "Nee" buttons.
RATING_YES = "ja"
RATING_NO = "nee"


def feedback_payload(topic_id: Text, helpful: bool) -> Text:
    """Returns the payload of the "Ja" or "Nee" button under an answer.

    The payload names the topic that was rated, so a rating always lands on
    the answer it was asked about, e.g.
    ``/feedback{"onderwerp": "vitamine_k2", "oordeel": "ja"}``.

    Args:
        topic_id: The content topic of the answer.
        helpful: True for "Ja", False for "Nee".
    """
    entities = {
        FEEDBACK_TOPIC_ENTITY: topic_id,
        FEEDBACK_RATING_ENTITY: RATING_YES if helpful else RATING_NO,
    }
    return f"/{FEEDBACK_INTENT}{json.dumps(entities, ensure_ascii=False)}"


def button_payloads(topic_ids: Iterable[Text]) -> frozenset:
    """Returns every payload the assistant's own buttons can send.

    A typed ``/intent`` is accepted only when it is one of these (or the
    widget's greeting); anything else that starts with ``/`` is treated as text.

    Args:
        topic_ids: The content topic ids.
    """
    topics = list(topic_ids)
    return frozenset(
        [topic_payload(t) for t in topics]
        + [feedback_payload(t, helpful) for t in topics for helpful in (True, False)]
        + [ALL_SOURCES_PAYLOAD, GREETING_PAYLOAD]
    )
