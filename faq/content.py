"""Loads and validates the structured content file into typed objects.

The content file (``content/kennisbank.yml``) is the single source of truth for
every article-based answer: the actions, the answer book and the agent lookup
all read it through :func:`load_content` (or :func:`get_content`, which keeps
it live, see :mod:`faq.live`). Loading validates the whole file and raises
:class:`ContentError` naming the file, the topic and the field, so a broken
file stops the assistant at start-up instead of in a conversation, and a
broken edit of a running assistant is refused (the last good content stays).

Every sentence of every answer carries a ``basis``: the article sentences it
rests on, quoted exactly. The loader checks that each quote occurs in the
article (``content/artikel.txt``) as whole sentences, and applies the amounts
rule (:func:`faq.grounding.amount_problem`). ``content/SCHEMA.md`` describes
the file.

Run ``python -m faq.content [path]`` to check a file from the shell.
"""

from __future__ import annotations

import hashlib
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Text, Tuple

import yaml

from faq import settings as config
from faq.grounding import SUPPLEMENT_AMOUNT, Article, amount_problem, normalise

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
    "seizoen",
    "risico",
    "samen",
    "balans",
    "werking",
)

NUMBER_OF_SOURCES = 15
MAX_SHORT_WORDS = 80
MAX_TITLE_CHARS = 60
MAX_WHY_CHARS = 200
#: WhatsApp shows a reply button's title in at most 20 characters.
MAX_BUTTON_CHARS = 20

#: A supplement amount in an answer is a defect (kept under its old name for
#: the evaluation and the tests, which scan bot replies with it).
DOSE_PATTERN = SUPPLEMENT_AMOUNT
#: Answers are plain text for every channel: no URLs, markdown links or HTML.
MARKUP_PATTERN = re.compile(r"https?://|\]\(|<[a-zA-Z/]")
#: Two sentences in one ``text``: each sentence needs its own basis.
SECOND_SENTENCE = re.compile(r"[.!?]\s+(?=[A-ZÀ-Ý])")

#: The line that introduces a topic's sources in a reply: the article cites
#: none of them in its text, so the choice per topic is ours.
REFERENCE_INTRO = "Uit de bronnenlijst van het artikel:"

#: libyaml's safe loader when available (ten times faster), else PyYAML's.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: Topic fields that only change what the NLU recognises (``make train``).
NLU_FIELDS = ("questions",)


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
        super().__init__(self._message(str(path), problem, topic, field))
        self.path = path
        self.problem = problem
        self.topic = topic
        self.field = field

    @staticmethod
    def _message(path: Text, problem: Text, topic: Optional[Text], field: Text) -> Text:
        where = [f"bestand {path}"]
        if topic:
            where.append(f"topic '{topic}'")
        if field:
            where.append(f"veld '{field}'")
        return f"Fout in contentbestand ({', '.join(where)}): {problem}"

    def public_message(self) -> Text:
        """The message with the file name only (no folders), for status pages."""
        return self._message(Path(self.path).name, self.problem, self.topic, self.field)


@dataclass(frozen=True)
class Sentence:
    """One sentence of an answer and the article quotes it rests on."""

    text: Text
    basis: Tuple[Text, ...]

    @property
    def is_item(self) -> bool:
        """Whether the sentence is a list item (``- …``)."""
        return self.text.startswith("- ")


@dataclass(frozen=True)
class Source:
    """One of the article's numbered sources."""

    number: int
    label: Text
    citation: Optional[Text]
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
    """One content topic: its answers and the sources that back them.

    ``short`` and ``long`` are the rendered texts the channels show;
    ``short_sentences`` and ``long_paragraphs`` hold the same sentences with
    their basis. ``source_reasons`` maps each source number to its ``why``.
    """

    id: Text
    title: Text
    questions: Tuple[Text, ...]
    short: Text
    long: Text
    sources: Tuple[int, ...]
    related: Tuple[Text, ...]
    counterparts: Dict[Text, Text] = field(default_factory=dict)
    sources_note: Optional[Text] = None
    source_reasons: Dict[int, Text] = field(default_factory=dict)
    short_sentences: Tuple[Sentence, ...] = ()
    long_paragraphs: Tuple[Tuple[Sentence, ...], ...] = ()
    #: Short title for a tappable button (WhatsApp: at most 20 characters).
    button: Optional[Text] = None
    #: Elliptical follow-ups: relation name -> topic id (``follow_ups``).
    follow_ups: Dict[Text, Text] = field(default_factory=dict)

    @property
    def button_title(self) -> Text:
        """Returns the title for a button: the short one when the file has one."""
        return self.button or self.title

    def sentences(self) -> List[Tuple[Text, Text, Sentence]]:
        """Returns ``(answer, field, sentence)`` for every sentence with a basis.

        ``answer`` is ``short`` or ``long``; ``field`` names the place in the
        file, e.g. ``long[1][0]``.
        """
        found = [
            ("short", f"short[{i}]", s) for i, s in enumerate(self.short_sentences)
        ]
        for p, paragraph in enumerate(self.long_paragraphs):
            found += [("long", f"long[{p}][{i}]", s) for i, s in enumerate(paragraph)]
        return found


@dataclass(frozen=True)
class Content:
    """The whole content file: article metadata, sources and topics."""

    path: Path
    article_title: Text
    article_date: Text
    sources: Dict[int, Source]
    topics: Dict[Text, Topic]
    article: Optional[Article] = None
    version: Text = ""

    def topic(self, topic_id: Text) -> Optional[Topic]:
        """Returns the topic with this id, or None."""
        return self.topics.get(topic_id)

    def sources_of(self, topic: Topic) -> List[Source]:
        """Returns the topic's sources in the order the file lists them."""
        return [self.sources[number] for number in topic.sources]

    def same_publication(self, number: int) -> List[int]:
        """Returns the other source numbers with the same link (4 and 11)."""
        url = self.sources[number].url
        return [n for n, s in self.sources.items() if s.url == url and n != number]

    def source_line(self, number: int, why: Optional[Text] = None) -> Text:
        """Returns one source as a chat line: reference, optional why, URL.

        The URL stands alone at the end of the line so the widget and WhatsApp
        show it as a link; a source that shares its link with another says so.
        """
        source = self.sources[number]
        text = source.reference()
        twins = self.same_publication(number)
        if twins:
            others = ", ".join(f"[{n}]" for n in twins)
            text += f" (zelfde publicatie als {others})"
        if why:
            text += f" – {why}"
        return f"{text}: {source.url}"

    def references(self, topic: Topic) -> Text:
        """Returns the reference block of a topic's answer in a chat reply.

        The article's text cites none of its sources, so the block says where
        the sources come from (its source list) and claims no more. A topic
        without sources shows its ``sources_note``.
        """
        if not topic.sources:
            return topic.sources_note or ""
        lines = [self.source_line(n) for n in topic.sources]
        return "\n".join([REFERENCE_INTRO, *lines])

    def nlu_fingerprint(self) -> Dict[Text, Tuple[Text, ...]]:
        """Returns what the NLU depends on: topic ids and their questions."""
        return {t.id: t.questions for t in self.topics.values()}


def render_paragraphs(paragraphs: Sequence[Sequence[Sentence]]) -> Text:
    """Joins sentences into the answer text the channels show.

    Sentences of a paragraph are joined with a space; a list item (``- …``)
    and the sentence after a list start a new line; paragraphs are separated
    by a blank line.
    """
    blocks = []
    for paragraph in paragraphs:
        text = ""
        after_item = False
        for index, sentence in enumerate(paragraph):
            if index == 0:
                text = sentence.text
            elif sentence.is_item or after_item:
                text += "\n" + sentence.text
            else:
                text += " " + sentence.text
            after_item = sentence.is_item
        blocks.append(text)
    return "\n\n".join(blocks)


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


def _check_plain_text(text: Text, path: Path, topic: Text, name: Text) -> Text:
    """Rejects user-facing text with supplement amounts or markup."""
    problem = amount_problem(text)
    if problem:
        raise ContentError(path, problem, topic, name)
    if MARKUP_PATTERN.search(text):
        raise ContentError(
            path, "bevat een URL, link of HTML; gebruik platte tekst", topic, name
        )
    return normalise(text)


def _parse_sentence(
    raw: Any, path: Path, topic: Text, name: Text, article: Article
) -> Sentence:
    """Parses one ``{text, basis}`` entry of an answer and checks its basis."""
    if not isinstance(raw, dict):
        raise ContentError(
            path, "moet een mapping met 'text' en 'basis' zijn", topic, name
        )
    unknown = sorted(set(raw) - {"text", "basis"})
    if unknown:
        raise ContentError(
            path,
            f"onbekend veld {', '.join(unknown)} (alleen text en basis)",
            topic,
            name,
        )
    text = normalise(_require(raw, "text", str, path, topic))
    if MARKUP_PATTERN.search(text):
        raise ContentError(
            path,
            "bevat een URL, link of HTML; gebruik platte tekst",
            topic,
            f"{name}.text",
        )
    if SECOND_SENTENCE.search(text):
        raise ContentError(
            path,
            "bevat meer dan één zin; geef elke zin een eigen text en basis",
            topic,
            f"{name}.text",
        )
    if "basis" not in raw or raw["basis"] in (None, "", []):
        raise ContentError(
            path,
            "zin zonder basis: citeer de zin(nen) uit het artikel waarop hij rust",
            topic,
            f"{name}.basis",
        )
    quotes = raw["basis"]
    if isinstance(quotes, str):
        quotes = [quotes]
    if not isinstance(quotes, list) or not all(
        isinstance(q, str) and q.strip() for q in quotes
    ):
        raise ContentError(
            path,
            "moet een citaat of een lijst met citaten zijn",
            topic,
            f"{name}.basis",
        )
    for index, quote in enumerate(quotes):
        problem = article.quote_problem(quote)
        if problem:
            raise ContentError(
                path,
                f"{problem}: '{normalise(quote)[:80]}'",
                topic,
                f"{name}.basis[{index}]",
            )
    basis = tuple(normalise(q) for q in quotes)
    problem = amount_problem(text, basis)
    if problem:
        raise ContentError(path, problem, topic, f"{name}.text")
    return Sentence(text=text, basis=basis)


def _parse_answer(
    raw: Dict[Text, Any], name: Text, path: Path, topic: Text, article: Article
) -> Tuple[Tuple[Sentence, ...], ...]:
    """Parses ``short`` (a list of sentences) or ``long`` (a list of paragraphs)."""
    value = _require(raw, name, list, path, topic)
    if not value:
        raise ContentError(path, "is leeg", topic, name)
    if name == "short":
        return (
            tuple(
                _parse_sentence(s, path, topic, f"short[{i}]", article)
                for i, s in enumerate(value)
            ),
        )
    paragraphs = []
    for p, paragraph in enumerate(value):
        if not isinstance(paragraph, list) or not paragraph:
            raise ContentError(
                path,
                "elke alinea is een lijst met zinnen (text en basis)",
                topic,
                f"long[{p}]",
            )
        paragraphs.append(
            tuple(
                _parse_sentence(s, path, topic, f"long[{p}][{i}]", article)
                for i, s in enumerate(paragraph)
            )
        )
    return tuple(paragraphs)


def _parse_source(raw: Any, index: int, path: Path, article: Article) -> Source:
    """Parses one entry of ``sources``; citation, URL and summary are quoted."""
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
    citation = _require(raw, "citation", str, path, where, allow_none=True)
    for name, value in (
        ("url", url),
        ("citation", citation),
        ("summary", _require(raw, "summary", str, path, where)),
    ):
        if value is not None and normalise(value) not in normalise(article.text):
            raise ContentError(
                path,
                "staat zo niet in de bronnenlijst van het artikel (letterlijk "
                "overnemen, of null als het artikel er geen geeft)",
                where,
                name,
            )
    return Source(
        number=number,
        label=_check_plain_text(
            _require(raw, "label", str, path, where), path, where, "label"
        ),
        citation=normalise(citation) if citation else None,
        year=_require(raw, "year", int, path, where, allow_none=True),
        url=url,
        summary=normalise(_require(raw, "summary", str, path, where)),
    )


def _parse_sources_of_topic(
    raw: Dict[Text, Any], path: Path, topic_id: Text
) -> Tuple[Tuple[int, ...], Dict[int, Text]]:
    """Parses a topic's ``sources``: ``[{number, why}, …]``."""
    entries = _require(raw, "sources", list, path, topic_id)
    numbers: List[int] = []
    reasons: Dict[int, Text] = {}
    for index, entry in enumerate(entries):
        name = f"sources[{index}]"
        if not isinstance(entry, dict):
            raise ContentError(
                path, "moet een mapping met 'number' en 'why' zijn", topic_id, name
            )
        number = entry.get("number")
        if not isinstance(number, int) or isinstance(number, bool):
            raise ContentError(
                path, "moet een bronnummer zijn", topic_id, f"{name}.number"
            )
        if not 1 <= number <= NUMBER_OF_SOURCES:
            raise ContentError(
                path,
                f"bronnummer {number} ligt niet in 1..{NUMBER_OF_SOURCES}",
                topic_id,
                f"{name}.number",
            )
        if number in reasons:
            raise ContentError(path, "bevat dubbele bronnummers", topic_id, "sources")
        why = entry.get("why")
        if not isinstance(why, str) or not why.strip():
            raise ContentError(
                path,
                "waarom past deze bron? Eén regel, op grond van de beschrijving "
                "in de bronnenlijst van het artikel",
                topic_id,
                f"{name}.why",
            )
        if "\n" in why.strip() or len(why.strip()) > MAX_WHY_CHARS:
            raise ContentError(
                path,
                f"moet één regel van hoogstens {MAX_WHY_CHARS} tekens zijn",
                topic_id,
                f"{name}.why",
            )
        numbers.append(number)
        reasons[number] = _check_plain_text(why, path, topic_id, f"{name}.why")
    return tuple(numbers), reasons


def _parse_topic(raw: Any, index: int, path: Path, article: Article) -> Topic:
    """Parses one entry of ``topics`` (cross-references are checked later)."""
    if not isinstance(raw, dict):
        raise ContentError(path, "moet een mapping zijn", f"topics[{index}]")
    topic_id = raw.get("id")
    if not isinstance(topic_id, str) or not topic_id.strip():
        raise ContentError(path, "id ontbreekt", f"topics[{index}]", "id")
    if topic_id not in CONTENT_TOPIC_IDS:
        raise ContentError(
            path,
            "onbekende topic-id (niet in shared/topics.md); een nieuw topic vraagt "
            "ook een intent, trainingsdata en `make train`",
            topic_id,
            "id",
        )
    title = _check_plain_text(
        _require(raw, "title", str, path, topic_id), path, topic_id, "title"
    )
    if len(title) > MAX_TITLE_CHARS:
        raise ContentError(
            path, f"langer dan {MAX_TITLE_CHARS} tekens", topic_id, "title"
        )
    (short_sentences,) = _parse_answer(raw, "short", path, topic_id, article)
    long_paragraphs = _parse_answer(raw, "long", path, topic_id, article)
    short = render_paragraphs([short_sentences])
    if len(short.split()) > MAX_SHORT_WORDS:
        raise ContentError(
            path,
            f"{len(short.split())} woorden; maximaal {MAX_SHORT_WORDS}",
            topic_id,
            "short",
        )

    numbers, reasons = _parse_sources_of_topic(raw, path, topic_id)
    note = raw.get("sources_note")
    if note is not None and (not isinstance(note, str) or not note.strip()):
        raise ContentError(path, "moet tekst of null zijn", topic_id, "sources_note")
    if not numbers and not note:
        raise ContentError(
            path,
            "geen bronnen: geef bronnen of een sources_note die zegt dat geen "
            "bron in de bronnenlijst van het artikel over dit onderwerp gaat",
            topic_id,
            "sources",
        )
    if numbers and note:
        raise ContentError(
            path,
            "alleen bij een topic zonder bronnen (de why per bron zegt de rest)",
            topic_id,
            "sources_note",
        )

    button = raw.get("button")
    if button is not None:
        if not isinstance(button, str) or not button.strip():
            raise ContentError(path, "moet tekst zijn", topic_id, "button")
        button = button.strip()
        if len(button) > MAX_BUTTON_CHARS:
            raise ContentError(
                path, f"langer dan {MAX_BUTTON_CHARS} tekens", topic_id, "button"
            )
        _check_plain_text(button, path, topic_id, "button")

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
        long=render_paragraphs(long_paragraphs),
        sources=numbers,
        related=_text_list(raw, "related", path, topic_id),
        counterparts=dict(counterparts),
        sources_note=(
            _check_plain_text(note, path, topic_id, "sources_note") if note else None
        ),
        source_reasons=reasons,
        short_sentences=short_sentences,
        long_paragraphs=long_paragraphs,
        button=button,
        follow_ups=dict(follow_ups),
    )


def parse_content(
    data: Any, path: Path, article: Article, version: Text = ""
) -> Content:
    """Validates parsed YAML and builds the typed content.

    Args:
        data: The parsed YAML document.
        path: The file it came from (used in error messages).
        article: The article every ``basis`` quote must come from.
        version: A fingerprint of the files, kept on the content.

    Returns:
        The validated content.

    Raises:
        ContentError: If anything in the file is missing, unknown or inconsistent.
    """
    if not isinstance(data, dict):
        raise ContentError(path, "het bestand moet een YAML-mapping zijn")
    article_meta = _require(data, "article", dict, path, None)

    raw_sources = _require(data, "sources", list, path, None)
    sources: Dict[int, Source] = {}
    for index, raw in enumerate(raw_sources):
        source = _parse_source(raw, index, path, article)
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
        topic = _parse_topic(raw, index, path, article)
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
        article_title=_require(article_meta, "title", str, path, "article").strip(),
        article_date=str(_require(article_meta, "date", str, path, "article")).strip(),
        sources=dict(sorted(sources.items())),
        topics={t: topics[t] for t in CONTENT_TOPIC_IDS},
        article=article,
        version=version,
    )


def _read(path: Path) -> bytes:
    """Reads a file, turning OS errors into a :class:`ContentError`."""
    try:
        return path.read_bytes()
    except OSError as error:
        raise ContentError(
            path, f"kan het bestand niet lezen ({error.strerror})"
        ) from None


def _decode(raw: bytes, path: Path) -> Text:
    """Decodes UTF-8, turning errors into a :class:`ContentError`."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ContentError(path, "het bestand is geen UTF-8") from None


def load_article(path: Optional[Path] = None) -> Article:
    """Reads the article text that every ``basis`` quote must come from.

    Args:
        path: The article file; defaults to ``config.ARTICLE_FILE``.

    Returns:
        The article.

    Raises:
        ContentError: If the file cannot be read.
    """
    path = Path(path or config.ARTICLE_FILE)
    return Article.from_text(_decode(_read(path), path), path)


def load_content(
    path: Optional[Path] = None, article_path: Optional[Path] = None
) -> Content:
    """Reads and validates a content file against the article.

    Args:
        path: The file; defaults to ``config.CONTENT_FILE``.
        article_path: The article; defaults to ``config.ARTICLE_FILE``.

    Returns:
        The validated content; ``version`` fingerprints both files.

    Raises:
        ContentError: If a file is missing, not YAML, or invalid.
    """
    path = Path(path or config.CONTENT_FILE)
    article_path = Path(article_path or config.ARTICLE_FILE)
    raw = _read(path)
    article_raw = _read(article_path)
    article = Article.from_text(_decode(article_raw, article_path), article_path)
    try:
        data = yaml.load(_decode(raw, path), Loader=_YAML_LOADER)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f" op regel {mark.line + 1}" if mark else ""
        raise ContentError(path, f"ongeldige YAML{line}") from None
    version = hashlib.sha256(raw + b"\0" + article_raw).hexdigest()[:12]
    return parse_content(data, path, article, version)


def get_content() -> Content:
    """Returns the configured content, kept live (:mod:`faq.live`).

    The first call loads and validates the file (and raises
    :class:`ContentError` when it is broken); later calls return the last good
    content, reloaded when the file changed.
    """
    from faq.live import live_content

    return live_content().current


def main(argv: List[Text]) -> int:
    """Validates a content file from the command line; prints one line."""
    try:
        content = load_content(Path(argv[1]) if len(argv) > 1 else None)
    except ContentError as error:
        print(error, file=sys.stderr)
        return 1
    sentences = sum(len(t.sentences()) for t in content.topics.values())
    print(
        f"Contentbestand in orde: {content.path} "
        f"({len(content.topics)} topics, {len(content.sources)} bronnen, "
        f"{sentences} zinnen met basis). Antwoorden en bronnen gaan live zonder "
        "herstart; nieuwe vragen (questions) of topics vragen `make train`."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
