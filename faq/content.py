"""Loads and validates the structured content file into typed objects.

The content file (``content/kennisbank.yml``) is the single source of truth for
every article-based answer: the actions, the answer book and the agent lookup
all read it through :func:`load_content`. Loading validates the whole file and
raises :class:`ContentError` naming the file, the topic and the field, so a
broken file stops the assistant at start-up instead of in a conversation.

Run ``python -m faq.content [path]`` to check a file from the shell.
"""

from __future__ import annotations

import functools
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Text, Tuple

import yaml

from faq import settings as config

#: Content topics of the contract in shared/topics.md, in contract order.
CONTENT_TOPIC_IDS: Tuple[Text, ...] = (
    "samenwerking_mg_d",
    "functie_vitamine_d",
    "vitamine_d_tekort_risicogroepen",
    "vitamine_d_tekort_gevolgen",
    "magnesium_activeert_vitamine_d",
    "vitamine_d_verhoogt_magnesiumbehoefte",
    "disbalans_mg_d",
    "vitamine_d_zonlicht",
    "vitamine_d_voeding",
    "vitamine_d_supplementen",
    "vitamine_k2",
    "magnesium_voeding",
    "magnesium_vormen",
    "tekort_symptomen",
    "tekort_vaststellen",
    "vitamine_d_tekort_ondanks_magnesium",
    "bronnen",
)

#: Conversation topics of the contract: answered without article content.
CONVERSATION_TOPIC_IDS: Tuple[Text, ...] = (
    "groet",
    "afscheid",
    "bedankt",
    "bot_vraag",
    "hulp",
    "persoonlijk_advies",
    "medewerker",
    "kennisbank",
    "buiten_domein",
    "fallback",
)

#: Nutrients a follow-up such as "en magnesium?" can switch to.
NUTRIENTS: Tuple[Text, ...] = ("magnesium", "vitamine_d", "vitamine_k2")

#: What an elliptical follow-up can ask about the topic just answered ("en
#: wat als je er te weinig van hebt?" = ``tekort``); ``follow_ups`` maps
#: these to topics. The words that signal each are in :mod:`faq.context`.
#: A topic may map a kind to itself: that kind keeps the conversation there.
FOLLOW_UP_KINDS: Tuple[Text, ...] = (
    "omgekeerd",
    "oplossing",
    "tekort",
    "gevolgen",
    "klachten",
    "vaststellen",
    "voeding",
    "zon",
    "supplement",
    "vorm",
    "risico",
    "samen",
    "balans",
    "werking",
)

NUMBER_OF_SOURCES = 15
MAX_SHORT_WORDS = 80
MAX_TITLE_CHARS = 60

#: A dose in an answer is a defect: the article states none.
DOSE_PATTERN = re.compile(
    r"\d+(?:[.,]\d+)?\s*(?:mg|milligram|ie|iu|µg|ug|mcg|microgram)\b", re.IGNORECASE
)
#: Answers are plain text for every channel: no URLs, markdown links or HTML.
MARKUP_PATTERN = re.compile(r"https?://|\]\(|<[a-zA-Z/]")


class ContentError(ValueError):
    """The content file is broken; the message names file, topic and field."""

    def __init__(
        self, path: Path, problem: Text, topic: Optional[Text] = None, field: Text = ""
    ) -> None:
        """Builds the message.

        Args:
            path: The content file.
            problem: What is wrong, in a few words.
            topic: The topic id (or ``sources[n]``) the problem is in, if any.
            field: The field the problem is in, if any.
        """
        where = [f"bestand {path}"]
        if topic:
            where.append(f"topic '{topic}'")
        if field:
            where.append(f"veld '{field}'")
        super().__init__(f"Fout in contentbestand ({', '.join(where)}): {problem}")
        self.path = path
        self.topic = topic
        self.field = field


@dataclass(frozen=True)
class Source:
    """One of the article's numbered sources."""

    number: int
    label: Text
    citation: Text
    year: Optional[int]
    url: Text
    summary: Text

    def reference(self) -> Text:
        """Returns the short chat form, e.g. ``[3] Uwitonze & Razzaque (2018)``."""
        return f"[{self.number}] {self.label}"

    def as_payload(self) -> Dict[Text, Any]:
        """Returns the source as a JSON-serialisable dict for reply metadata."""
        return {"number": self.number, "label": self.label, "url": self.url}


@dataclass(frozen=True)
class Topic:
    """One content topic: its answers and the sources that back them."""

    id: Text
    title: Text
    questions: Tuple[Text, ...]
    short: Text
    long: Text
    sources: Tuple[int, ...]
    related: Tuple[Text, ...]
    counterparts: Dict[Text, Text] = field(default_factory=dict)
    sources_note: Optional[Text] = None
    follow_ups: Dict[Text, Text] = field(default_factory=dict)


@dataclass(frozen=True)
class Content:
    """The whole content file: article metadata, sources and topics."""

    path: Path
    article_title: Text
    article_date: Text
    sources: Dict[int, Source]
    topics: Dict[Text, Topic]

    def topic(self, topic_id: Text) -> Optional[Topic]:
        """Returns the topic with this id, or None."""
        return self.topics.get(topic_id)

    def sources_of(self, topic: Topic) -> List[Source]:
        """Returns the topic's sources in the order the file lists them."""
        return [self.sources[number] for number in topic.sources]


def _require(
    data: Dict[Text, Any],
    name: Text,
    kind: type,
    path: Path,
    topic: Optional[Text],
    allow_none: bool = False,
) -> Any:
    """Returns ``data[name]`` after checking that it is there and of ``kind``."""
    if name not in data:
        raise ContentError(path, "veld ontbreekt", topic, name)
    value = data[name]
    if value is None and allow_none:
        return None
    if kind is int and isinstance(value, bool):
        raise ContentError(path, "moet een geheel getal zijn", topic, name)
    if not isinstance(value, kind):
        raise ContentError(
            path,
            f"moet van type {kind.__name__} zijn, is {type(value).__name__}",
            topic,
            name,
        )
    if isinstance(value, str) and not value.strip():
        raise ContentError(path, "is leeg", topic, name)
    return value


def _text_list(
    data: Dict[Text, Any], name: Text, path: Path, topic: Text
) -> Tuple[Text, ...]:
    """Returns a non-empty list of non-empty strings."""
    values = _require(data, name, list, path, topic)
    if not values or not all(isinstance(v, str) and v.strip() for v in values):
        raise ContentError(path, "moet een lijst met tekst zijn", topic, name)
    if len({v.strip().lower() for v in values}) != len(values):
        raise ContentError(path, "bevat dubbele waarden", topic, name)
    return tuple(v.strip() for v in values)


def _check_answer_text(text: Text, path: Path, topic: Text, name: Text) -> Text:
    """Rejects answer text with doses or markup; returns it stripped."""
    if DOSE_PATTERN.search(text):
        raise ContentError(
            path, "bevat een dosering; het artikel noemt er geen", topic, name
        )
    if MARKUP_PATTERN.search(text):
        raise ContentError(
            path, "bevat een URL, link of HTML; gebruik platte tekst", topic, name
        )
    return text.strip()


def _parse_source(raw: Any, index: int, path: Path) -> Source:
    """Parses one entry of ``sources``."""
    where = f"sources[{index}]"
    if not isinstance(raw, dict):
        raise ContentError(path, "moet een mapping zijn", where)
    number = _require(raw, "number", int, path, where)
    if not 1 <= number <= NUMBER_OF_SOURCES:
        raise ContentError(
            path,
            f"bronnummer {number} ligt niet in 1..{NUMBER_OF_SOURCES}",
            where,
            "number",
        )
    url = _require(raw, "url", str, path, where).strip()
    if not url.startswith(("http://", "https://")):
        raise ContentError(path, "is geen URL", where, "url")
    return Source(
        number=number,
        label=_require(raw, "label", str, path, where).strip(),
        citation=_require(raw, "citation", str, path, where).strip(),
        year=_require(raw, "year", int, path, where, allow_none=True),
        url=url,
        summary=_require(raw, "summary", str, path, where).strip(),
    )


def _parse_topic(raw: Any, index: int, path: Path) -> Topic:
    """Parses one entry of ``topics`` (cross-references are checked later)."""
    if not isinstance(raw, dict):
        raise ContentError(path, "moet een mapping zijn", f"topics[{index}]")
    topic_id = raw.get("id")
    if not isinstance(topic_id, str) or not topic_id.strip():
        raise ContentError(path, "id ontbreekt", f"topics[{index}]", "id")
    if topic_id not in CONTENT_TOPIC_IDS:
        raise ContentError(
            path, "onbekende topic-id (niet in shared/topics.md)", topic_id, "id"
        )
    title = _require(raw, "title", str, path, topic_id).strip()
    if len(title) > MAX_TITLE_CHARS:
        raise ContentError(
            path, f"langer dan {MAX_TITLE_CHARS} tekens", topic_id, "title"
        )
    short = _check_answer_text(
        _require(raw, "short", str, path, topic_id), path, topic_id, "short"
    )
    if len(short.split()) > MAX_SHORT_WORDS:
        raise ContentError(
            path,
            f"{len(short.split())} woorden; maximaal {MAX_SHORT_WORDS}",
            topic_id,
            "short",
        )
    long = _check_answer_text(
        _require(raw, "long", str, path, topic_id), path, topic_id, "long"
    )

    numbers = _require(raw, "sources", list, path, topic_id)
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in numbers):
        raise ContentError(
            path, "moet een lijst met bronnummers zijn", topic_id, "sources"
        )
    for number in numbers:
        if not 1 <= number <= NUMBER_OF_SOURCES:
            raise ContentError(
                path,
                f"bronnummer {number} ligt niet in 1..{NUMBER_OF_SOURCES}",
                topic_id,
                "sources",
            )
    if len(set(numbers)) != len(numbers):
        raise ContentError(path, "bevat dubbele bronnummers", topic_id, "sources")
    note = raw.get("sources_note")
    if note is not None and (not isinstance(note, str) or not note.strip()):
        raise ContentError(path, "moet tekst of null zijn", topic_id, "sources_note")
    if not numbers and not note:
        raise ContentError(
            path,
            "geen bronnen: geef bronnummers of een sources_note",
            topic_id,
            "sources",
        )

    counterparts = raw.get("counterparts") or {}
    if not isinstance(counterparts, dict):
        raise ContentError(path, "moet een mapping zijn", topic_id, "counterparts")
    for nutrient in counterparts:
        if nutrient not in NUTRIENTS:
            raise ContentError(
                path,
                f"onbekende stof '{nutrient}' (kies uit {', '.join(NUTRIENTS)})",
                topic_id,
                "counterparts",
            )
    follow_ups = raw.get("follow_ups") or {}
    if not isinstance(follow_ups, dict):
        raise ContentError(path, "moet een mapping zijn", topic_id, "follow_ups")
    for kind, target in follow_ups.items():
        if kind not in FOLLOW_UP_KINDS:
            raise ContentError(
                path,
                f"onbekende soort vervolgvraag '{kind}' "
                f"(kies uit {', '.join(FOLLOW_UP_KINDS)})",
                topic_id,
                "follow_ups",
            )
        if not isinstance(target, str):
            raise ContentError(
                path, f"'{kind}' moet naar een topic-id wijzen", topic_id, "follow_ups"
            )
    return Topic(
        id=topic_id,
        title=title,
        questions=_text_list(raw, "questions", path, topic_id),
        short=short,
        long=long,
        sources=tuple(numbers),
        related=_text_list(raw, "related", path, topic_id),
        counterparts=dict(counterparts),
        sources_note=note.strip() if note else None,
        follow_ups=dict(follow_ups),
    )


def parse_content(data: Any, path: Path) -> Content:
    """Validates parsed YAML and builds the typed content.

    Args:
        data: The parsed YAML document.
        path: The file it came from (used in error messages).

    Returns:
        The validated content.

    Raises:
        ContentError: If anything in the file is missing, unknown or inconsistent.
    """
    if not isinstance(data, dict):
        raise ContentError(path, "het bestand moet een YAML-mapping zijn")
    article = _require(data, "article", dict, path, None)

    raw_sources = _require(data, "sources", list, path, None)
    sources: Dict[int, Source] = {}
    for index, raw in enumerate(raw_sources):
        source = _parse_source(raw, index, path)
        if source.number in sources:
            raise ContentError(path, "dubbel bronnummer", f"sources[{index}]", "number")
        sources[source.number] = source
    missing_sources = sorted(set(range(1, NUMBER_OF_SOURCES + 1)) - set(sources))
    if missing_sources:
        raise ContentError(
            path, f"bron(nen) {missing_sources} ontbreken", None, "sources"
        )

    topics: Dict[Text, Topic] = {}
    for index, raw in enumerate(_require(data, "topics", list, path, None)):
        topic = _parse_topic(raw, index, path)
        if topic.id in topics:
            raise ContentError(path, "dubbele topic-id", topic.id, "id")
        topics[topic.id] = topic
    missing_topics = [t for t in CONTENT_TOPIC_IDS if t not in topics]
    if missing_topics:
        raise ContentError(
            path, f"topic(s) ontbreken: {', '.join(missing_topics)}", None, "topics"
        )

    for topic in topics.values():
        for name, targets in (
            ("related", topic.related),
            ("counterparts", tuple(topic.counterparts.values())),
            ("follow_ups", tuple(topic.follow_ups.values())),
        ):
            for target in targets:
                if target not in topics:
                    raise ContentError(
                        path,
                        f"verwijst naar onbekende topic '{target}'",
                        topic.id,
                        name,
                    )
                if target == topic.id and name != "follow_ups":
                    raise ContentError(path, "verwijst naar zichzelf", topic.id, name)

    seen_questions: Dict[Text, Text] = {}
    for topic in topics.values():
        for question in topic.questions:
            other = seen_questions.setdefault(question.lower(), topic.id)
            if other != topic.id:
                raise ContentError(
                    path,
                    f"vraag '{question}' staat ook bij '{other}'",
                    topic.id,
                    "questions",
                )

    return Content(
        path=path,
        article_title=_require(article, "title", str, path, "article").strip(),
        article_date=str(_require(article, "date", str, path, "article")).strip(),
        sources=dict(sorted(sources.items())),
        topics={t: topics[t] for t in CONTENT_TOPIC_IDS},
    )


def load_content(path: Optional[Path] = None) -> Content:
    """Reads and validates a content file.

    Args:
        path: The file; defaults to ``config.CONTENT_FILE``.

    Returns:
        The validated content.

    Raises:
        ContentError: If the file is missing, not YAML, or invalid.
    """
    path = Path(path or config.CONTENT_FILE)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ContentError(
            path, f"kan het bestand niet lezen ({error.strerror})"
        ) from None
    except UnicodeDecodeError:
        raise ContentError(path, "het bestand is geen UTF-8") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f" op regel {mark.line + 1}" if mark else ""
        raise ContentError(path, f"ongeldige YAML{line}") from None
    return parse_content(data, path)


@functools.lru_cache(maxsize=None)
def get_content() -> Content:
    """Returns the configured content, loaded once per process."""
    return load_content()


def main(argv: List[Text]) -> int:
    """Validates a content file from the command line; prints one line."""
    try:
        content = load_content(Path(argv[1]) if len(argv) > 1 else None)
    except ContentError as error:
        print(error, file=sys.stderr)
        return 1
    print(
        f"Contentbestand in orde: {content.path} "
        f"({len(content.topics)} topics, {len(content.sources)} bronnen)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
