"""TF-IDF + LinearSVC baseline for the FAQ bot, shared by evaluation and bench.

The baseline answers the question "is Rasa worth it?": it is a plain text
classifier trained on exactly the bot's NLU training data (``data/nlu/*.yml``,
entity markup stripped), with

- features: TF-IDF of character n-grams (2-5, inside word boundaries) plus
  TF-IDF of word uni- and bigrams, both with sublinear term frequency;
- classifier: ``LinearSVC(C=1.0)``;
- the bot's fallback rule (answer unless the best decision score is below a
  threshold or the best two are closer than an ambiguity margin), chosen by
  the bot's own chooser (:func:`tools.tune_thresholds.choose_rule`) with the
  same cost on the same 5-fold cross-validated predictions of the training
  data, repeated with the same five seeds; then the model is refitted on
  all training data. The test sets are never used.

Predicted intents become answered topics the way the bot's rules and actions
do it, minimally (:meth:`Baseline.answer`):

- content and conversation intents answer their own topic id;
- ``meer`` answers the last content topic (``hulp`` when there is none);
- ``bronnen`` answers the last content topic (its sources), else ``bronnen``;
- ``vervolg`` ("en magnesium?") finds the nutrient with a keyword map
  (magnesium / vitamine d / k2) and answers the last topic's counterpart from
  the content file, else the bot's default topic for that nutrient;
- ``bevestigen`` answers the offered topic (offered by ``persoonlijk_advies``
  and ``fallback``: the best-scoring content intent), else continues the last
  topic (a bare "ok" after an answer: ``bedankt``), else ``hulp``;
  ``ontkennen`` answers ``hulp`` (``bedankt`` when nothing was offered and
  it closes: "nee hoor, dank je");
- an elliptical follow-up ("hoe stel je dat dan vast?") is resolved against
  the last topic with the bot's own code (:func:`faq.context.resolve`): on a
  content intent, a fallback and a ``vervolg`` without a nutrient.

Usage:
    python -m tools.baseline "vraag"                 # print the topic
    python -m tools.baseline --serve --port 8777     # HTTP on 127.0.0.1

The server answers ``POST /predict`` with a JSON body ``{"text": "...",
"sender": "..."}`` (``sender`` optional: keeps follow-up state per sender) with
``{"topic", "intent", "score"}``, and ``GET /health`` with ``{"status": "ok"}``.
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import sys
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
import yaml
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from faq.content import (
    CONTENT_TOPIC_IDS,
    CONVERSATION_TOPIC_IDS,
    get_content,
)
from faq.context import (
    NAMES_SERVICE,
    NAMES_SHOP,
    acknowledgement_topic,
    asks_what_the_answer_named,
    continues_last_topic,
    greeting_topic,
    is_closing_no,
    nutrient_follow_up,
    questions_rather_than_declines,
    resolve,
)
from faq.settings import PROJECT_DIR as ROOT
from tools.tune_thresholds import (
    COST,
    SEEDS,
    FallbackRule,
    Ranking,
    choose_rule,
    repeated_out_of_fold_rankings,
)

NLU_DIR = ROOT / "data" / "nlu"
FALLBACK = "fallback"
#: Intents whose answer depends on the conversation so far.
FOLLOW_UP_INTENTS: Tuple[str, ...] = ("meer", "bevestigen", "ontkennen", "vervolg")
#: Keyword map for ``vervolg``: the first pattern that matches names the nutrient.
NUTRIENT_PATTERNS: Tuple[Tuple[str, "re.Pattern[str]"], ...] = (
    ("vitamine_k2", re.compile(r"\b(?:vit(?:amine?|\.)?\s*-?k2?\b|k2)\b", re.I)),
    (
        "vitamine_d",
        re.compile(
            r"\b(?:vit(?:amine?|amin|amiene?|maine|amne|\.)?\s*-?d3?|vitd3?|d3)\b",
            re.I,
        ),
    ),
    ("magnesium", re.compile(r"\b(?:magne\w*|mangesi\w*|magensi\w*|mg)\b", re.I)),
)
#: Entity markup of Rasa YAML: ``[text](entity)`` and ``[text]{"entity": ...}``.
ENTITY_MARKUP = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")
MAX_BODY_BYTES = 64 * 1024
MAX_SENDERS = 10_000


def strip_entities(text: str) -> str:
    """Removes Rasa entity markup, keeping the annotated words.

    Args:
        text: A training example such as ``en [vit d]{"entity": "stof"}?``.

    Returns:
        The plain text, e.g. ``en vit d?``.
    """
    return ENTITY_MARKUP.sub(r"\1", text)


def parse_examples(examples: Any) -> List[str]:
    """Returns the example texts of one ``nlu:`` item.

    Args:
        examples: The ``examples`` value: a block of ``- ...`` lines, or a list
            of ``{"text": ...}`` entries.

    Returns:
        Plain example texts, entity markup removed, empty lines skipped.
    """
    texts: List[str] = []
    if isinstance(examples, str):
        for line in examples.splitlines():
            line = line.strip()
            if line.startswith("- "):
                line = line[2:]
            elif line == "-":
                line = ""
            line = strip_entities(line).strip()
            if line:
                texts.append(line)
    elif isinstance(examples, list):
        for entry in examples:
            raw = entry.get("text") if isinstance(entry, dict) else entry
            if isinstance(raw, str) and strip_entities(raw).strip():
                texts.append(strip_entities(raw).strip())
    return texts


@lru_cache(maxsize=None)
def lookup_pattern(name: str, nlu_dir: Path = NLU_DIR) -> "re.Pattern[str]":
    """Returns a pattern for the words of one of the bot's lookup tables.

    The bot's ``RegexEntityExtractor`` finds them as whole words in any case;
    ``lookup_pattern("bereik")`` finds "alle bronnen" the same way, from the
    same file.
    """
    words: List[str] = []
    for path in sorted(Path(nlu_dir).glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item in data.get("nlu") or []:
            if isinstance(item, dict) and item.get("lookup") == name:
                words += parse_examples(item.get("examples"))
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"\b(?:{alternatives})\b", re.IGNORECASE)


def load_training_data(nlu_dir: Path = NLU_DIR) -> Tuple[List[str], List[str]]:
    """Loads every intent example from the Rasa NLU YAML files of a folder.

    Args:
        nlu_dir: Folder with ``*.yml`` files that have an ``nlu:`` list.

    Returns:
        Texts and their intents, in file order (synonyms, regexes and lookups
        are not examples and are skipped).
    """
    texts: List[str] = []
    intents: List[str] = []
    for path in sorted(Path(nlu_dir).glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item in data.get("nlu") or []:
            if not isinstance(item, dict) or "intent" not in item:
                continue
            for text in parse_examples(item.get("examples")):
                texts.append(text)
                intents.append(str(item["intent"]))
    return texts, intents


def intent_to_topic(intent: str) -> Optional[str]:
    """Maps an intent to the topic the bot answers without context.

    Args:
        intent: An NLU intent name (or ``nlu_fallback``).

    Returns:
        The topic id; None for follow-up intents (they need the conversation);
        ``fallback`` for ``nlu_fallback`` and unknown intents.
    """
    if intent in FOLLOW_UP_INTENTS:
        return None
    if intent in CONTENT_TOPIC_IDS or intent in CONVERSATION_TOPIC_IDS:
        return intent
    return FALLBACK


def detect_nutrient(text: str) -> Optional[str]:
    """Returns the nutrient a follow-up like "en k2?" names, or None."""
    for nutrient, pattern in NUTRIENT_PATTERNS:
        if pattern.search(text):
            return nutrient
    return None


def make_pipeline(c: float = 1.0) -> Pipeline:
    """Returns the unfitted TF-IDF (char + word) + LinearSVC pipeline."""
    features = FeatureUnion(
        [
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True
                ),
            ),
            (
                "words",
                TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True),
            ),
        ]
    )
    return Pipeline([("features", features), ("svm", LinearSVC(C=c))])


def rankings_of(pipeline: Pipeline, texts: Sequence[str]) -> List[Ranking]:
    """Returns the (intent, decision score) ranking of each text, best first."""
    if not texts:
        return []
    scores = np.atleast_2d(pipeline.decision_function(list(texts)))
    classes = [str(c) for c in pipeline.classes_]
    order = np.argsort(-scores, axis=1, kind="stable")
    return [
        [(classes[j], float(row[j])) for j in idx]
        for row, idx in zip(scores, order, strict=True)
    ]


@dataclass
class ConversationState:
    """What the baseline remembers of one conversation (the bot's two slots)."""

    last_topic: Optional[str] = None
    offered_topic: Optional[str] = None


class Baseline:
    """TF-IDF + LinearSVC intent classifier with the bot's fallback rule."""

    def __init__(self, c: float = 1.0) -> None:
        """Creates an unfitted baseline.

        Args:
            c: LinearSVC regularisation parameter.
        """
        self.c = c
        self.pipeline = make_pipeline(c)
        self.rule = FallbackRule(float("-inf"), 0.0)
        self.validation: Dict[str, Any] = {}

    @property
    def threshold(self) -> float:
        """The fallback threshold on the top decision score."""
        return self.rule.threshold

    def fit(
        self,
        texts: Sequence[str],
        intents: Sequence[str],
        tune_threshold: bool = True,
        cost: float = COST,
    ) -> "Baseline":
        """Fits the classifier; optionally chooses the fallback rule first.

        Args:
            texts: Training texts.
            intents: Their intents.
            tune_threshold: Choose the rule on 5-fold cross-validated
                predictions of these training data with the bot's chooser
                (else never fall back).
            cost: What a wrong content answer costs (the bot's cost).

        Returns:
            self, refitted on all of ``texts``.
        """
        if tune_threshold:

            def fit_predict(
                train_x: Sequence[str], train_y: Sequence[str], test_x: Sequence[str]
            ) -> List[Ranking]:
                return rankings_of(make_pipeline(self.c).fit(train_x, train_y), test_x)

            rankings, expected = repeated_out_of_fold_rankings(
                texts, intents, fit_predict
            )
            self.rule, _ = choose_rule(rankings, expected, cost)
            self.validation = {
                "examples": len(texts),
                "folds": 5,
                "seeds": len(SEEDS),
                "cost": cost,
                "threshold": self.rule.threshold,
                "ambiguity": self.rule.ambiguity,
            }
        self.pipeline.fit(list(texts), list(intents))
        return self

    @property
    def classes(self) -> List[str]:
        """The intents the classifier knows."""
        return [str(c) for c in self.pipeline.classes_]

    def scores(self, text: str) -> Dict[str, float]:
        """Returns the decision score of every intent for one text."""
        values = self.pipeline.decision_function([text])[0]
        return {name: float(v) for name, v in zip(self.classes, values, strict=True)}

    def predict_intent(self, text: str) -> Tuple[str, float, Dict[str, float]]:
        """Classifies one text.

        Returns:
            The intent (``nlu_fallback`` when the rule does not accept it),
            its score, and all scores.
        """
        scores = self.scores(text)
        ranking = sorted(scores.items(), key=lambda item: -item[1])
        intent, score = ranking[0]
        if not self.rule.accepts(ranking):
            return "nlu_fallback", score, scores
        return intent, score, scores

    def answer(
        self, text: str, state: Optional[ConversationState] = None
    ) -> Tuple[str, str, float]:
        """Answers one user turn the way the bot would, updating ``state``.

        Args:
            text: The user's message.
            state: The conversation so far (a fresh one when None).

        Returns:
            The answered topic id, the predicted intent and its score.
        """
        state = state if state is not None else ConversationState()
        intent, score, scores = self.predict_intent(text)
        best_content = max(
            (t for t in scores if t in CONTENT_TOPIC_IDS and t != "bronnen"),
            key=scores.__getitem__,
            default=None,
        )
        ranking = sorted(scores.items(), key=lambda item: -item[1])
        topic = answer_intent(intent, text, state, best_content, ranking)
        return topic, intent, score

    def answer_conversation(self, texts: Iterable[str]) -> List[str]:
        """Answers the turns of one conversation in order; returns the topics."""
        state = ConversationState()
        return [self.answer(text, state)[0] for text in texts]


def answer_intent(
    intent: str,
    text: str,
    state: ConversationState,
    best_content: Optional[str] = None,
    ranking: Sequence[Tuple[str, float]] = (),
) -> str:
    """Emulates the bot's rules and actions for one predicted intent.

    Elliptical follow-ups are resolved against the last topic exactly as the
    bot's actions do it (:func:`faq.context.resolve`).

    Args:
        intent: The predicted intent (``nlu_fallback`` below the threshold).
        text: The user's message (for the nutrient of ``vervolg`` and "alle").
        state: The conversation so far; updated like the bot's slots.
        best_content: The best-scoring content topic (not ``bronnen``): what
            ``persoonlijk_advies`` and ``fallback`` offer for "ja graag".
        ranking: The classifier's ranking, best first (for the context).

    Returns:
        The topic id the bot would answer with.
    """
    content = get_content()
    resolved = None
    acknowledged = acknowledgement_topic(text)
    if intent in ("meer", "buiten_domein", "hulp", "bronnen") or (
        intent in CONTENT_TOPIC_IDS  # the bot's actions for these use context
    ):
        resolved = resolve(
            text,
            state.last_topic,
            content,
            ranking,
            refused=intent == "buiten_domein",
        )
        if intent == "meer" and resolved and resolved.topic == state.last_topic:
            resolved = None
        if (
            intent == "bronnen"
            and resolved
            and (resolved.kind is None or resolved.topic == state.last_topic)
        ):
            resolved = None
    elif intent == "kennisbank" and not NAMES_SHOP.search(text):
        # action_kennisbank: a follow-up in context, unless it names the pages
        resolved = resolve(text, state.last_topic, content, ranking)
    elif intent == "medewerker" and not NAMES_SERVICE.search(text):
        # action_medewerker: only a follow-up of a kind the content relates
        resolved = resolve(text, state.last_topic, content, ranking)
        if resolved is not None and resolved.kind is None:
            resolved = None
    elif intent == "nlu_fallback" and state.last_topic and acknowledged:
        state.offered_topic = None
        return acknowledged
    elif intent == "nlu_fallback" or (  # action_fallback, action_vervolg
        intent == "vervolg" and detect_nutrient(text) is None
    ):
        resolved = resolve(text, state.last_topic, content, ranking, unsure=True)
    if resolved is not None and resolved.topic != intent:
        state.last_topic, state.offered_topic = resolved.topic, None
        return resolved.topic
    if intent == "nlu_fallback":
        state.offered_topic = best_content
        return FALLBACK
    if intent == "bronnen":
        wants_all = lookup_pattern("bereik").search(text) is not None
        if state.last_topic and state.last_topic != "bronnen" and not wants_all:
            state.offered_topic = None
            return state.last_topic
        state.last_topic, state.offered_topic = "bronnen", None
        return "bronnen"
    if intent in CONTENT_TOPIC_IDS:
        state.last_topic, state.offered_topic = intent, None
        return intent
    if intent == "meer":
        state.offered_topic = None
        return state.last_topic or "hulp"
    if intent == "vervolg":
        nutrient = detect_nutrient(text)
        if nutrient is None:
            state.offered_topic = best_content
            return FALLBACK
        last = content.topic(state.last_topic) if state.last_topic else None
        target = nutrient_follow_up(last, nutrient, text)
        state.last_topic, state.offered_topic = target, None
        return target
    if intent == "bevestigen":
        if state.offered_topic:
            target = state.offered_topic
            state.last_topic, state.offered_topic = target, None
            return target
        if state.last_topic and acknowledged:
            state.offered_topic = None
            return acknowledged
        return state.last_topic or "hulp"
    if intent == "ontkennen":
        if (
            not state.offered_topic
            and state.last_topic
            and questions_rather_than_declines(text)
        ):
            # action_ontkennen: a question about the answer, as action_fallback
            asked = resolve(text, state.last_topic, content, ranking, unsure=True)
            if asked is not None:
                state.last_topic = asked.topic
                return asked.topic
        closes = not state.offered_topic and state.last_topic and is_closing_no(text)
        state.offered_topic = None
        return "bedankt" if closes else "hulp"
    if intent == "groet":  # action_groet
        return greeting_topic(text, state.last_topic)
    if intent == "persoonlijk_advies":
        last = content.topic(state.last_topic) if state.last_topic else None
        if last is not None and asks_what_the_answer_named(
            text, last, content, ranking or ()
        ):
            state.offered_topic = None
            return last.id
        leans = continues_last_topic(text, state.last_topic)
        state.offered_topic = state.last_topic if leans else best_content
        return intent
    return intent_to_topic(intent) or FALLBACK


def train_baseline(nlu_dir: Path = NLU_DIR) -> Baseline:
    """Loads the training data and returns a fitted, threshold-tuned baseline."""
    texts, intents = load_training_data(nlu_dir)
    return Baseline().fit(texts, intents)


class BaselineServer(ThreadingHTTPServer):
    """HTTP server holding the baseline and per-sender conversation state."""

    daemon_threads = True
    #: Listen backlog: the default of 5 refuses connections at 32 concurrent users.
    request_queue_size = 256

    def __init__(self, port: int, baseline: Baseline) -> None:
        """Binds to 127.0.0.1:``port``."""
        super().__init__(("127.0.0.1", port), BaselineHandler)
        self.baseline = baseline
        self.states: "OrderedDict[str, ConversationState]" = OrderedDict()
        self.lock = threading.Lock()

    def state_of(self, sender: Optional[str]) -> ConversationState:
        """Returns the conversation state of a sender (fresh without sender)."""
        if not sender:
            return ConversationState()
        with self.lock:
            state = self.states.pop(sender, None) or ConversationState()
            self.states[sender] = state
            while len(self.states) > MAX_SENDERS:
                self.states.popitem(last=False)
            return state


class BaselineHandler(BaseHTTPRequestHandler):
    """``POST /predict`` and ``GET /health``."""

    server: BaselineServer
    #: Keep-alive, like the Rasa server (clients reuse their connection).
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        """Turns off Nagle: headers and body go out as separate writes."""
        super().setup()
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Stays quiet: the bench sends thousands of requests."""

    def _json(self, status: int, body: Dict[str, Any]) -> None:
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        """Answers the health check."""
        if self.path.rstrip("/") == "/health":
            self._json(200, {"status": "ok"})
        else:
            self._json(404, {"error": "not found"})

    def do_POST(self) -> None:
        """Classifies ``{"text": ...}`` and answers ``{"topic": ...}``."""
        if self.path.rstrip("/") != "/predict":
            self._json(404, {"error": "not found"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length <= 0 or length > MAX_BODY_BYTES:
            self._json(400, {"error": "body missing or too large"})
            return
        try:
            body = json.loads(self.rfile.read(length))
        except (ValueError, UnicodeDecodeError):
            self._json(400, {"error": "invalid JSON"})
            return
        text = body.get("text") if isinstance(body, dict) else None
        if not isinstance(text, str) or not text.strip():
            self._json(400, {"error": "'text' must be a non-empty string"})
            return
        sender = body.get("sender")
        state = self.server.state_of(sender if isinstance(sender, str) else None)
        topic, intent, score = self.server.baseline.answer(text, state)
        self._json(200, {"topic": topic, "intent": intent, "score": score})


def serve(port: int, baseline: Optional[Baseline] = None) -> None:
    """Trains (unless given) and serves the baseline until interrupted."""
    server = BaselineServer(port, baseline or train_baseline())
    print(f"baseline on http://127.0.0.1:{port}/predict", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line: classify texts, or serve the baseline over HTTP."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("texts", nargs="*", help="texts to classify")
    parser.add_argument("--serve", action="store_true", help="serve over HTTP")
    parser.add_argument("--port", type=int, default=8777)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.port)
        return 0
    baseline = train_baseline()
    print(f"fallback rule {baseline.rule}; validation {baseline.validation}")
    topics = baseline.answer_conversation(args.texts)
    for text, topic in zip(args.texts, topics, strict=True):
        print(f"{topic}\t{text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
