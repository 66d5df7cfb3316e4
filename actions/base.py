"""Shared behaviour of every action that replies: topic metadata and buttons.

Every reply carries ``{"topic": ..., "sources": [...]}`` in its ``custom``
payload (the contract in shared/topics.md). :class:`TopicAction` is the one
place that builds that payload, the source references and the suggestion
buttons, so no action can forget them.
"""

from __future__ import annotations

import abc
import contextvars
import functools
import logging
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions import config
from faq.content import Content, ContentError, Topic, get_content
from faq.context import Resolution, resolve
from faq.reply import VIA_BUTTON, custom_payload, topic_payload

logger = logging.getLogger(__name__)

#: Slot with the id of the last content topic answered (for follow-ups).
SLOT_LAST_TOPIC = "laatste_topic"
#: Slot with the id of the topic the bot offered (answered on "ja graag").
SLOT_OFFERED_TOPIC = "aangeboden_topic"

#: Topics offered when nothing better is known (the article's core questions).
DEFAULT_SUGGESTIONS = (
    "samenwerking_mg_d",
    "magnesium_activeert_vitamine_d",
    "vitamine_d_supplementen",
)


def message_text(tracker: Tracker) -> Text:
    """Returns the text of the latest user message ("" when there is none)."""
    return (tracker.latest_message or {}).get("text") or ""


def load_content_or_exit() -> Content:
    """Loads the content file at start; on errors prints one line and exits.

    The action server must not start with a broken content file, and must not
    show a stack trace for it either. After the start the content stays live
    (:mod:`faq.live`): a changed file is validated the same way and served
    without a restart, a broken one leaves the last good content in service.
    """
    try:
        return get_content()
    except ContentError as error:
        logger.error(str(error))
        raise SystemExit(f"{error}") from None


#: Validates the content file once when the action server imports its actions.
load_content_or_exit()


def topic_button(topic: Topic) -> Dict[Text, Text]:
    """Returns a button that asks for ``topic`` by its Dutch title."""
    return {"title": topic.title, "payload": topic_payload(topic.id)}


def intent_ranking(tracker: Tracker) -> List[Tuple[Text, float]]:
    """Returns the latest message's NLU ranking as (intent, confidence), best first."""
    return [
        (str(entry.get("name")), float(entry.get("confidence") or 0.0))
        for entry in (tracker.latest_message or {}).get("intent_ranking") or []
    ]


def ranked_content_topics(
    tracker: Tracker, content: Content, exclude: Iterable[Text] = ()
) -> List[Topic]:
    """Returns content topics from the latest NLU ranking, best first.

    Args:
        tracker: The conversation.
        content: The loaded content.
        exclude: Topic ids to leave out.

    Returns:
        Topics whose intent confidence is at least the configured minimum.
    """
    excluded = set(exclude)
    topics = []
    for name, confidence in intent_ranking(tracker):
        topic = content.topic(name)
        if (
            topic
            and topic.id not in excluded
            and confidence >= config.SUGGESTION_MIN_CONFIDENCE
        ):
            topics.append(topic)
    return topics


Run = Callable[..., Any]

#: Set while an action runs, so an action that runs another one inside
#: (``ActionAffirm`` -> ``ActionTellMore``) asks for feedback once, at the end.
_running = contextvars.ContextVar("topic_action_running", default=False)


def _then_ask_feedback(run: Run) -> Run:
    """Wraps an action's ``run``: after a content answer, maybe ask for feedback."""

    @functools.wraps(run)
    async def run_and_ask(
        self: "TopicAction",
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[EventType]:
        if _running.get():
            return await run(self, dispatcher, tracker, domain)
        token = _running.set(True)
        try:
            events = await run(self, dispatcher, tracker, domain)
        finally:
            _running.reset(token)
        # Imported here: actions.feedback builds on this module.
        from actions.feedback import ask_feedback

        return list(events) + ask_feedback(dispatcher, tracker)

    return run_and_ask


class TopicAction(Action, metaclass=abc.ABCMeta):
    """Base class for actions that reply with topic metadata.

    Subclasses implement ``name()`` and ``run()`` and reply through
    :meth:`reply`, which attaches the ``custom`` payload. Because ``name`` is
    abstract here, rasa-sdk does not register this class as an action.

    Every subclass's ``run`` is wrapped so that, when its last message is a
    content answer, the visitor may be asked "Had je hier iets aan?"
    (:func:`actions.feedback.ask_feedback` decides, sparingly); so an action
    that answers a content topic needs no code of its own for feedback.
    """

    @property
    def content(self) -> Content:
        """The content in service: the last good version of the content file.

        Backed by the live holder (:func:`faq.content.get_content`), so every
        access sees an edit of the file within ``FAQ_CONTENT_POLL_SECONDS``.
        Read it once per ``run`` when one reply needs several lookups. Setting
        it pins one action instance to given content (for tests).
        """
        pinned = self.__dict__.get("_pinned_content")
        return pinned if pinned is not None else get_content()

    @content.setter
    def content(self, value: Content) -> None:
        self.__dict__["_pinned_content"] = value

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        run = cls.__dict__.get("run")
        if run is not None:
            cls.run = _then_ask_feedback(run)  # type: ignore[method-assign]

    @abc.abstractmethod
    def name(self) -> Text:
        """Unique identifier of the action."""

    def reply(
        self,
        dispatcher: CollectingDispatcher,
        topic_id: Text,
        text: Optional[Text] = None,
        response: Optional[Text] = None,
        sources: Sequence[int] = (),
        buttons: Sequence[Dict[Text, Text]] = (),
        answer: Optional[Text] = None,
        handoff: bool = False,
        via: Optional[Text] = None,
        feedback: Optional[Text] = None,
        **template_vars: Any,
    ) -> None:
        """Sends one message with its topic metadata.

        Args:
            dispatcher: Where the message goes.
            topic_id: The contract topic id this reply answers.
            text: The reply text (or use ``response``).
            response: A domain response name for conversation texts.
            sources: Source numbers that back the reply.
            buttons: Suggestion buttons.
            answer: What kind of answer this is (short, long, sources, ...).
            handoff: Whether the channel should hand the user to a person.
            via: How the topic was decided when not plainly by the message
                (``context``: the conversation so far; ``knop``: a button).
            feedback: The ``feedback`` value of the payload (faq.reply).
            **template_vars: Values for placeholders in ``response``.
        """
        payload = custom_payload(
            topic_id,
            sources=sources,
            source_links=[self.content.sources[n].as_payload() for n in sources],
            answer=answer,
            via=via,
            handoff=handoff,
            feedback=feedback,
        )
        logger.info(
            "reply topic=%s answer=%s via=%s sources=%s",
            topic_id,
            answer,
            via,
            list(sources),
        )
        dispatcher.utter_message(
            text=text,
            response=response,
            buttons=list(buttons),
            json_message=payload,
            **template_vars,
        )

    def resolve_from_context(
        self, tracker: Tracker, unsure: bool = False, refused: bool = False
    ) -> Optional[Resolution]:
        """Resolves an elliptical follow-up against the last topic answered.

        Args:
            tracker: The conversation; reads ``laatste_topic``, the latest
                message's text and its NLU ranking.
            unsure: Whether the NLU was unsure (then related topics in the
                ranking may decide, see :func:`faq.context.resolve`).
            refused: Whether the NLU took the message for off-domain (then
                the last topic may decide when it ranks high).

        Returns:
            The topic the context gives the message, or None.
        """
        text = message_text(tracker)
        if text.startswith("/"):
            return None  # a button says exactly what it wants
        return resolve(
            text,
            tracker.get_slot(SLOT_LAST_TOPIC),
            self.content,
            intent_ranking(tracker),
            unsure,
            refused,
        )

    @staticmethod
    def via_of_message(tracker: Tracker) -> Optional[Text]:
        """Returns ``knop`` when the latest message is a button payload."""
        return VIA_BUTTON if message_text(tracker).startswith("/") else None

    def reply_not_understood(self, dispatcher: CollectingDispatcher) -> None:
        """Says the message was not understood and offers the core topics."""
        self.reply(
            dispatcher,
            "fallback",
            response="utter_niet_begrepen",
            buttons=self.default_buttons(),
        )

    def reply_help(self, dispatcher: CollectingDispatcher) -> None:
        """Says what the assistant can answer, with the core topics as buttons."""
        self.reply(
            dispatcher, "hulp", response="utter_hulp", buttons=self.default_buttons()
        )

    def related_buttons(self, topic: Topic) -> List[Dict[Text, Text]]:
        """Returns buttons for the topic's related topics."""
        related = [self.content.topics[t] for t in topic.related]
        return [topic_button(t) for t in related[: config.MAX_SUGGESTIONS]]

    def default_buttons(self, exclude: Iterable[Text] = ()) -> List[Dict[Text, Text]]:
        """Returns buttons for the article's core topics."""
        excluded = set(exclude)
        topics = [
            self.content.topics[t] for t in DEFAULT_SUGGESTIONS if t not in excluded
        ]
        return [topic_button(t) for t in topics[: config.MAX_SUGGESTIONS]]

    def references(self, topic: Topic) -> Text:
        """Returns the reference block of a topic for a chat reply.

        "Uit de bronnenlijst van het artikel:" and one line per source with its
        URL (a link in the widget and WhatsApp), or the topic's sources note.
        """
        return self.content.references(topic)

    def source_list(
        self, numbers: Sequence[int], topic: Optional[Topic] = None
    ) -> Text:
        """Returns one line per source: reference, why (given a topic) and URL."""
        reasons = topic.source_reasons if topic else {}
        return "\n".join(self.content.source_line(n, reasons.get(n)) for n in numbers)
