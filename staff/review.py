"""``make review``: a review queue that teaches the assistant from real questions.

1. **Collect** (from the tracker store, one conversation at a time,
   :mod:`staff.events`) the typed messages of a period that

   - ended in the fallback ("niet begrepen" / "bedoel je …?"),
   - were answered with low confidence (best intent below ``--zekerheid``,
     default 0.8; the fallback threshold itself is 0.55),
   - came just before a handoff to customer service (the question the
     visitor then took to a person), or
   - got the answer the visitor marked "niet nuttig" (the question whose
     answer had the rated topic).

2. **De-identify** every text (:func:`faq.privacy.deidentify`) before it is
   grouped, shown, exported or written; texts already in ``data/nlu`` or
   decided before are left out.

3. **Group** near-duplicates: TF-IDF over character n-grams (scikit-learn),
   agglomerative clustering with average linkage on cosine distance. Each
   group shows its messages, how often they came, why they are in the queue,
   and its top-3 candidate topics with the mean NLU confidence of its
   messages (from the parse data stored with each message).

4. **Review** in a small local page (aiohttp on 127.0.0.1 only; a one-time
   secret in the URL's ``#fragment`` that the page sends back as a Bearer
   token, compared in constant time; requests for another ``Host`` refused).
   Per group the reviewer assigns a topic, marks it "buiten domein" (trained
   as the ``buiten_domein`` intent: the assistant learns to decline it) or
   "nieuw onderwerp" (a question the article does not answer: listed for the
   editors in ``reports/review/nieuwe_onderwerpen.csv``), or skips it.

5. **Teach**: assigned messages are appended to ``data/nlu/review.yml`` with a
   comment that says where they came from; the next ``make train`` learns
   them (the Makefile retrains when a file under ``data/`` changes).

Decisions are kept in ``var/review/besluiten.jsonl`` (owner only) so a
reviewed message is not offered again. ``--export FILE`` writes the queue as
CSV (de-identified) instead of serving the page.

Usage::

    python -m staff.review [--van …] [--tot …] [--dagen 30] [--db … | --endpoints …]
                           [--zekerheid 0.8] [--poort 8765] [--export queue.csv]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import hashlib
import hmac
import json
import os
import re
import secrets
import sys
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Text, Tuple

import sqlalchemy
import yaml

from faq.privacy import PLACEHOLDER, deidentify
from faq.settings import PROJECT_DIR, is_loopback
from staff.events import (
    Conversation,
    Turn,
    epoch_range,
    period,
    read_conversations,
    topic_titles,
)

REVIEW_FILE = PROJECT_DIR / "data" / "nlu" / "review.yml"
DECISIONS_FILE = PROJECT_DIR / "var" / "review" / "besluiten.jsonl"
NEW_TOPICS_FILE = PROJECT_DIR / "reports" / "review" / "nieuwe_onderwerpen.csv"
TEMPLATES = Path(__file__).resolve().parent / "templates"

#: Why a message is in the queue (Dutch labels shown to the reviewer).
REASONS = {
    "fallback": "niet begrepen",
    "lage_zekerheid": "lage zekerheid",
    "doorverwezen": "daarna naar de klantenservice",
    "niet_nuttig": "antwoord niet nuttig",
}
#: Intents of messages that are not questions: never queued.
NOT_QUESTIONS = {"groet", "afscheid", "bedankt", "feedback", "medewerker"}
#: Decisions a reviewer can take.
ASSIGN, OUT_OF_SCOPE, NEW_TOPIC, SKIP = (
    "onderwerp",
    "buiten_domein",
    "nieuw_onderwerp",
    "overslaan",
)
OUT_OF_SCOPE_INTENT = "buiten_domein"
#: Cosine distance below which two messages are near-duplicates.
GROUP_DISTANCE = 0.45
#: Most distinct messages queued in one run (the most frequent first).
MAX_MESSAGES = 2000

REVIEW_HEADER = """\
version: "3.1"

# Voorbeeldzinnen uit `make review`: echte vragen van bezoekers, ontdaan van
# persoonsgegevens (faq.privacy.deidentify), die een medewerker aan een
# onderwerp heeft toegewezen. staff/review.py vult dit bestand aan; elk blok
# zegt waar het vandaan komt. De volgende `make train` leert ze.
nlu:
"""


def normalised(text: Text) -> Text:
    """Lower case, single spaces: the key under which messages count as equal."""
    return " ".join(text.lower().split())


def key_of(text: Text) -> Text:
    """A stable id for a (de-identified) message."""
    return hashlib.sha256(normalised(text).encode("utf-8")).hexdigest()[:16]


def training_text(text: Text) -> Text:
    """A de-identified message as one line of Rasa NLU training data.

    Placeholders become plain words (``[TELEFOONNUMMER-1]`` -> ``telefoonnummer``)
    and brackets become parentheses, so nothing reads as entity markup.
    """
    text = PLACEHOLDER.sub(lambda m: m.group(1).lower(), text)
    text = text.replace("[", "(").replace("]", ")").replace("{", "(").replace("}", ")")
    return " ".join(text.split())


# --- collecting ---------------------------------------------------------------


@dataclass
class Occurrence:
    """How often one (raw) message text came, and why."""

    text: Text
    count: int = 0
    reasons: Counter = field(default_factory=Counter)
    channels: Counter = field(default_factory=Counter)
    confidence: Dict[Text, float] = field(default_factory=lambda: defaultdict(float))
    answered: Counter = field(default_factory=Counter)
    first_seen: float = float("inf")
    last_seen: float = 0.0

    def add_reason(self, reason: Text) -> None:
        """Counts one reason this message is in the queue."""
        self.reasons[reason] += 1

    def count_turn(self, turn: Turn, channel: Text) -> None:
        """Counts the turn itself: channel, ranking, answered topic, time."""
        self.count += 1
        self.channels[channel] += 1
        for name, confidence in turn.ranking:
            self.confidence[name] += confidence
        if turn.topic:
            self.answered[turn.topic] += 1
        self.first_seen = min(self.first_seen, turn.timestamp)
        self.last_seen = max(self.last_seen, turn.timestamp)


def queue_reasons(
    conversation: Conversation, min_confidence: float
) -> Iterable[Tuple[Turn, Text]]:
    """The turns of a conversation that belong in the queue, with the reason."""
    turns = conversation.turns
    questions = [
        i
        for i, t in enumerate(turns)
        if t.typed and t.text.strip() and t.intent not in NOT_QUESTIONS
    ]
    for i in questions:
        turn = turns[i]
        if turn.fell_back:
            yield turn, "fallback"
        elif (
            turn.topic
            and turn.confidence is not None
            and turn.confidence < min_confidence
        ):
            yield turn, "lage_zekerheid"
    for i, turn in enumerate(turns):
        if turn.handoff:
            before = [q for q in questions if q < i]
            if before:
                yield turns[before[-1]], "doorverwezen"
        for topic, helpful in turn.ratings:
            if helpful:
                continue
            asked = [q for q in questions if q < i and turns[q].topic == topic]
            if asked:
                yield turns[asked[-1]], "niet_nuttig"


def collect(
    conversations: Iterable[Conversation], min_confidence: float
) -> Dict[Text, Occurrence]:
    """Raw message text (normalised) -> its occurrences in the queue."""
    found: Dict[Text, Occurrence] = {}
    for conversation in conversations:
        counted: Set[int] = set()
        for turn, reason in queue_reasons(conversation, min_confidence):
            key = normalised(turn.text)
            occurrence = found.get(key)
            if occurrence is None:
                occurrence = found[key] = Occurrence(turn.text)
            occurrence.add_reason(reason)
            if turn.event_id not in counted:
                counted.add(turn.event_id)
                occurrence.count_turn(turn, conversation.channel)
    return found


# --- grouping -------------------------------------------------------------------


@dataclass
class Message:
    """One distinct de-identified message in a group."""

    key: Text
    text: Text
    count: int


@dataclass
class Group:
    """Near-duplicate messages, reviewed together."""

    id: int
    messages: List[Message]
    count: int
    reasons: Dict[Text, int]
    candidates: List[Tuple[Text, float]]
    answered: List[Tuple[Text, int]]
    channels: Dict[Text, int]
    first_seen: float
    last_seen: float

    def as_json(self, titles: Dict[Text, Text]) -> Dict[Text, Any]:
        """The group as the page shows it."""
        return {
            "id": self.id,
            "aantal": self.count,
            "berichten": [
                {"sleutel": m.key, "tekst": m.text, "aantal": m.count}
                for m in self.messages
            ],
            "redenen": [
                {"reden": r, "label": REASONS.get(r, r), "aantal": n}
                for r, n in sorted(self.reasons.items(), key=lambda i: -i[1])
            ],
            "kandidaten": [
                {"onderwerp": t, "titel": titles.get(t, t), "zekerheid": round(c, 3)}
                for t, c in self.candidates
            ],
            "beantwoord_als": [
                {"onderwerp": t, "titel": titles.get(t, t), "aantal": n}
                for t, n in self.answered
            ],
            "kanalen": self.channels,
            "eerst": _when(self.first_seen),
            "laatst": _when(self.last_seen),
        }


def _when(timestamp: float) -> Text:
    from staff.events import TIMEZONE

    return dt.datetime.fromtimestamp(timestamp, TIMEZONE).strftime("%Y-%m-%d %H:%M")


def cluster(texts: Sequence[Text], distance: float = GROUP_DISTANCE) -> List[int]:
    """Cluster labels for texts: near-duplicates share a label.

    TF-IDF over character 2-4-grams within word boundaries (robust to typos),
    cosine distance, average-linkage agglomerative clustering cut at
    ``distance``. Placeholders of removed personal data do not count.
    """
    if len(texts) < 2:
        return [0] * len(texts)
    texts = [PLACEHOLDER.sub(" ", text) for text in texts]
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_distances

    vectors = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(2, 4), lowercase=True, sublinear_tf=True
    ).fit_transform(texts)
    distances = cosine_distances(vectors)
    model = AgglomerativeClustering(
        n_clusters=None,
        distance_threshold=distance,
        affinity="precomputed",
        linkage="average",
    )
    return [int(label) for label in model.fit_predict(distances)]


def build_groups(
    found: Dict[Text, Occurrence],
    known: Set[Text],
    limit: int = MAX_MESSAGES,
) -> List[Group]:
    """De-identifies, drops known messages, groups near-duplicates; biggest first.

    Args:
        found: The collected occurrences.
        known: Keys (:func:`key_of`) of de-identified texts already in the
            training data or decided before.
        limit: Most distinct messages to consider (most frequent first).
    """
    ranked = sorted(found.values(), key=lambda o: (-o.count, -o.last_seen))[:limit]
    merged: Dict[Text, List[Occurrence]] = {}
    shown: Dict[Text, Text] = {}
    for occurrence in ranked:
        text = " ".join(deidentify(occurrence.text).split())
        key = key_of(text)
        if not text or key in known or key_of(training_text(text)) in known:
            continue
        merged.setdefault(key, []).append(occurrence)
        shown.setdefault(key, text)
    keys = list(merged)
    labels = cluster([shown[k] for k in keys])
    members: Dict[int, List[Text]] = defaultdict(list)
    for key, label in zip(keys, labels, strict=True):
        members[label].append(key)

    groups = []
    for keys_in_group in members.values():
        occurrences = [o for k in keys_in_group for o in merged[k]]
        count = sum(o.count for o in occurrences)
        reasons: Counter = Counter()
        channels: Counter = Counter()
        answered: Counter = Counter()
        confidence: Dict[Text, float] = defaultdict(float)
        for o in occurrences:
            reasons.update(o.reasons)
            channels.update(o.channels)
            answered.update(o.answered)
            for name, total in o.confidence.items():
                confidence[name] += total
        candidates = sorted(
            ((name, total / count) for name, total in confidence.items()),
            key=lambda item: -item[1],
        )[:3]
        messages = sorted(
            (
                Message(k, shown[k], sum(o.count for o in merged[k]))
                for k in keys_in_group
            ),
            key=lambda m: -m.count,
        )
        groups.append(
            Group(
                id=0,
                messages=messages,
                count=count,
                reasons=dict(reasons),
                candidates=candidates,
                answered=answered.most_common(3),
                channels=dict(channels),
                first_seen=min(o.first_seen for o in occurrences),
                last_seen=max(o.last_seen for o in occurrences),
            )
        )
    groups.sort(key=lambda g: (-g.count, -g.last_seen))
    for number, group in enumerate(groups, 1):
        group.id = number
    return groups


# --- what is known ----------------------------------------------------------------


def training_examples(nlu_dir: Path) -> Set[Text]:
    """Keys of every example in the NLU training data (all files)."""
    keys = set()
    for path in sorted(nlu_dir.glob("*.yml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            continue
        for block in data.get("nlu") or []:
            if not isinstance(block, dict) or "intent" not in block:
                continue
            for line in str(block.get("examples") or "").splitlines():
                line = line.strip()
                if line.startswith("- "):
                    keys.add(key_of(_strip_entities(line[2:])))
    return keys


def _strip_entities(text: Text) -> Text:
    """Training-data entity markup ``[text](entity)`` -> ``text``."""
    return re.sub(r"\[([^\]]+)\](\([^)]*\)|\{[^}]*\})", r"\1", text)


def decided(decisions_file: Path) -> Set[Text]:
    """Keys of messages decided before (any decision but "overslaan")."""
    keys: Set[Text] = set()
    try:
        lines = decisions_file.read_text(encoding="utf-8").splitlines()
    except OSError:
        return keys
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if record.get("besluit") != SKIP:
            keys.update(record.get("sleutels") or [])
    return keys


def allowed_intents(domain_file: Path = PROJECT_DIR / "domain.yml") -> List[Text]:
    """Intents a reviewer may assign: the domain's, without the button-only ones."""
    domain = yaml.safe_load(domain_file.read_text(encoding="utf-8")) or {}
    intents = []
    for intent in domain.get("intents") or []:
        name = intent if isinstance(intent, str) else next(iter(intent))
        if name not in ("feedback", "nlu_fallback"):
            intents.append(name)
    return intents


# --- the review session -------------------------------------------------------------


def _private_append(path: Path, text: Text) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        handle.write(text)


class ReviewSession:
    """The queue of one run and what the reviewer decided."""

    def __init__(
        self,
        groups: List[Group],
        source: Text,
        period_text: Text,
        review_file: Path = REVIEW_FILE,
        decisions_file: Path = DECISIONS_FILE,
        new_topics_file: Path = NEW_TOPICS_FILE,
    ) -> None:
        """Holds the groups; files default to the project's."""
        self.groups = {g.id: g for g in groups}
        self.source = source
        self.period_text = period_text
        self.review_file = review_file
        self.decisions_file = decisions_file
        self.new_topics_file = new_topics_file
        self.intents = allowed_intents()
        self.titles = topic_titles()
        self.done: Dict[int, Dict[Text, Any]] = {}
        self._lock = threading.Lock()

    def queue(self) -> Dict[Text, Any]:
        """The queue as JSON for the page."""
        return {
            "bron": self.source,
            "periode": self.period_text,
            "bestand": _relative(self.review_file),
            "onderwerpen": [
                {"onderwerp": i, "titel": self.titles.get(i, i)} for i in self.intents
            ],
            "groepen": [
                {**g.as_json(self.titles), "besluit": self.done.get(g.id)}
                for g in self.groups.values()
            ],
        }

    def decide(
        self,
        group_id: int,
        decision: Text,
        topic: Optional[Text] = None,
        keys: Optional[Sequence[Text]] = None,
    ) -> Dict[Text, Any]:
        """Carries out a reviewer's decision on one group.

        Args:
            group_id: The group.
            decision: ``onderwerp``, ``buiten_domein``, ``nieuw_onderwerp`` or
                ``overslaan``.
            topic: The intent, for ``onderwerp``.
            keys: The messages of the group it applies to (default: all).

        Returns:
            What was done, in Dutch, for the page.

        Raises:
            ValueError: With a Dutch message when the decision is not possible.
        """
        group = self.groups.get(group_id)
        if group is None:
            raise ValueError("Deze groep bestaat niet (meer).")
        if decision not in (ASSIGN, OUT_OF_SCOPE, NEW_TOPIC, SKIP):
            raise ValueError("Onbekend besluit.")
        chosen = [m for m in group.messages if keys is None or m.key in set(keys)]
        if not chosen:
            raise ValueError("Kies minstens één bericht.")
        if decision == ASSIGN and topic not in self.intents:
            raise ValueError("Kies een bestaand onderwerp.")
        with self._lock:
            if group_id in self.done:
                raise ValueError("Over deze groep is al besloten.")
            intent = OUT_OF_SCOPE_INTENT if decision == OUT_OF_SCOPE else topic
            if decision in (ASSIGN, OUT_OF_SCOPE):
                self._append_examples(group, intent or "", chosen)
                message = (
                    f"{len(chosen)} bericht(en) toegevoegd aan "
                    f"{_relative(self.review_file)} als '{intent}'."
                )
            elif decision == NEW_TOPIC:
                self._write_new_topic(group, chosen)
                message = (
                    f"Genoteerd als nieuw onderwerp voor de redactie "
                    f"({_relative(self.new_topics_file)})."
                )
            else:
                message = "Overgeslagen; de groep komt bij een volgende review terug."
            record = {
                "tijd": dt.datetime.now().isoformat(timespec="seconds"),
                "besluit": decision,
                "onderwerp": intent if decision in (ASSIGN, OUT_OF_SCOPE) else None,
                "sleutels": [m.key for m in chosen],
                "aantal": group.count,
                "redenen": group.reasons,
            }
            _private_append(
                self.decisions_file, json.dumps(record, ensure_ascii=False) + "\n"
            )
            self.done[group_id] = {
                "besluit": decision,
                "onderwerp": record["onderwerp"],
                "melding": message,
            }
            return self.done[group_id]

    def _append_examples(
        self, group: Group, intent: Text, chosen: Sequence[Message]
    ) -> None:
        lines = []
        seen: Set[Text] = set()
        for message in chosen:
            text = training_text(message.text)
            if text and key_of(text) not in seen:
                seen.add(key_of(text))
                lines.append(f"    - {text}")
        reasons = ", ".join(REASONS.get(r, r) for r in group.reasons)
        block = [
            f"# make review {dt.datetime.now().strftime('%Y-%m-%d %H:%M')}: "
            f"{len(lines)} bericht(en) uit {self.source},",
            f"# periode {self.period_text}, {group.count}x gesteld; "
            f"in de wachtrij wegens: {reasons}.",
            f"- intent: {intent}",
            "  examples: |",
            *lines,
        ]
        if (
            not self.review_file.exists()
            or not self.review_file.read_text(encoding="utf-8").strip()
        ):
            self.review_file.parent.mkdir(parents=True, exist_ok=True)
            self.review_file.write_text(REVIEW_HEADER, encoding="utf-8")
        existing = self.review_file.read_text(encoding="utf-8")
        with self.review_file.open("a", encoding="utf-8") as handle:
            if not existing.endswith("\n"):
                handle.write("\n")
            handle.write("\n".join(block) + "\n")

    def _write_new_topic(self, group: Group, chosen: Sequence[Message]) -> None:
        path = self.new_topics_file
        path.parent.mkdir(parents=True, exist_ok=True)
        new = not path.exists()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8-sig" if new else "utf-8") as handle:
            writer = csv.writer(handle)
            if new:
                writer.writerow(["datum", "aantal", "bericht_gedeidentificeerd"])
            for message in chosen:
                writer.writerow(
                    [dt.date.today().isoformat(), message.count, message.text]
                )


def _relative(path: Path) -> Text:
    try:
        return str(path.resolve().relative_to(PROJECT_DIR))
    except ValueError:
        return str(path)


# --- the local page -------------------------------------------------------------------


def build_app(session: ReviewSession, secret: Text, port: int) -> Any:
    """The aiohttp application of the review page.

    ``GET /`` serves the page (no data in it); ``GET /api/wachtrij`` and
    ``POST /api/besluit`` need ``Authorization: Bearer <secret>``. Every
    request must name this machine in its ``Host`` header (no DNS rebinding).
    """
    from aiohttp import web

    hosts = {f"{h}:{port}" for h in ("127.0.0.1", "localhost", "[::1]")}
    security_headers = {
        "Content-Security-Policy": (
            "default-src 'none'; script-src 'self'; style-src 'self'; "
            "connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
    }

    def error(status: int, text: Text) -> Any:
        return web.json_response({"error": text}, status=status)

    @web.middleware
    async def guard(request: Any, handler: Any) -> Any:
        if request.host not in hosts:
            response = error(403, "Geen toegang: alleen via 127.0.0.1.")
        elif request.path.startswith("/api/") and not _token_ok(request, secret):
            response = error(401, "Geen toegang: ongeldig of ontbrekend token.")
        else:
            try:
                response = await handler(request)
            except web.HTTPException as exc:
                response = error(exc.status, "Deze pagina of methode bestaat niet.")
        response.headers.update(security_headers)
        return response

    async def page(request: Any) -> Any:
        return web.FileResponse(TEMPLATES / "review.html")

    async def script(request: Any) -> Any:
        return web.FileResponse(TEMPLATES / "review.js")

    async def style(request: Any) -> Any:
        return web.FileResponse(TEMPLATES / "review.css")

    async def queue(request: Any) -> Any:
        return web.json_response(session.queue())

    async def decide(request: Any) -> Any:
        if request.content_type != "application/json":
            return error(415, "Stuur JSON (Content-Type: application/json).")
        try:
            body = await request.json()
        except ValueError:
            return error(400, "Dit verzoek is geen geldige JSON.")
        if not isinstance(body, dict):
            return error(400, "Dit verzoek is ongeldig.")
        group = body.get("groep")
        keys = body.get("sleutels")
        if not isinstance(group, int) or (
            keys is not None
            and (
                not isinstance(keys, list) or not all(isinstance(k, str) for k in keys)
            )
        ):
            return error(400, "Dit verzoek is ongeldig.")
        try:
            result = await asyncio.to_thread(
                session.decide,
                group,
                str(body.get("besluit") or ""),
                body.get("onderwerp")
                if isinstance(body.get("onderwerp"), str)
                else None,
                keys,
            )
        except ValueError as exc:
            return error(409, str(exc))
        return web.json_response(result)

    app = web.Application(middlewares=[guard], client_max_size=64 * 1024)
    app.router.add_get("/", page)
    app.router.add_get("/review.js", script)
    app.router.add_get("/review.css", style)
    app.router.add_get("/api/wachtrij", queue)
    app.router.add_post("/api/besluit", decide)
    return app


def _token_ok(request: Any, secret: Text) -> bool:
    scheme, _, given = (request.headers.get("Authorization") or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode("utf-8"), secret.encode("utf-8")
    )


def serve(session: ReviewSession, host: Text, port: int) -> None:
    """Serves the review page until Ctrl-C."""
    from aiohttp import web

    secret = secrets.token_urlsafe(24)
    app = build_app(session, secret, port)
    shown = f"[{host}]" if ":" in host else host
    print(
        f"Reviewpagina: http://{shown}:{port}/#{secret}\n"
        "(alleen op deze computer; stoppen met Ctrl-C)",
        flush=True,
    )
    web.run_app(app, host=host, port=port, print=None, access_log=None)


# --- command line ---------------------------------------------------------------------


def load_queue(
    args: argparse.Namespace,
) -> Tuple[List[Group], Text, Text]:
    """Reads the period and builds the groups; returns them with source and period."""
    from staff.insights import engine_for

    first, last = period(args.van, args.tot, args.dagen)
    engine, source = engine_for(args)
    start, end = epoch_range(first, last)
    found = collect(read_conversations(engine, start, end), args.zekerheid)
    known = training_examples(PROJECT_DIR / "data" / "nlu") | decided(DECISIONS_FILE)
    groups = build_groups(found, known, args.max)
    return groups, source, f"{first} t/m {last}"


def export(groups: Sequence[Group], path: Path) -> None:
    """Writes the queue as CSV (de-identified), one row per message."""
    titles = topic_titles()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["groep", "bericht_gedeidentificeerd", "aantal", "redenen", "kandidaten"]
        )
        for group in groups:
            reasons = "; ".join(
                f"{REASONS.get(r, r)} ({n})" for r, n in group.reasons.items()
            )
            candidates = "; ".join(
                f"{titles.get(t, t)} ({c:.2f})" for t, c in group.candidates
            )
            for message in group.messages:
                writer.writerow(
                    [group.id, message.text, message.count, reasons, candidates]
                )


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Runs ``make review``."""
    from staff.insights import add_period_arguments

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_period_arguments(parser)
    parser.add_argument(
        "--zekerheid",
        type=float,
        default=0.8,
        help="berichten beantwoord onder deze zekerheid komen in de wachtrij (0.8)",
    )
    parser.add_argument("--max", type=int, default=MAX_MESSAGES)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--poort", type=int, default=8765)
    parser.add_argument("--export", type=Path, help="schrijf de wachtrij als CSV")
    args = parser.parse_args(argv)
    if not is_loopback(args.host):
        parser.error("de reviewpagina luistert alleen op dit apparaat (127.0.0.1)")
    try:
        groups, source, period_text = load_queue(args)
    except ValueError as exc:
        parser.error(str(exc))
    except sqlalchemy.exc.SQLAlchemyError as exc:
        message = getattr(exc, "orig", None) or exc
        print(f"FOUT: de gespreksdatabase is niet leesbaar: {message}", file=sys.stderr)
        return 1
    count = sum(g.count for g in groups)
    print(f"Wachtrij {period_text} uit {source}:")
    print(f"  {len(groups)} groepen, {count} berichten.")
    if args.export:
        export(groups, args.export)
        print(f"Geschreven: {args.export}")
        return 0
    if not groups:
        print("Niets te beoordelen.")
        return 0
    serve(ReviewSession(groups, source, period_text), args.host, args.poort)
    return 0


if __name__ == "__main__":
    sys.exit(main())
