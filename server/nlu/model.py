"""The intent model: calibrated linear classifier on character and word n-grams.

Pure scikit-learn, no Rasa: the Rasa component (:mod:`server.nlu.components`)
wraps it, and the developer tools (cross-validation, threshold tuning,
experiments) use it directly, so every figure is measured on the same code.

- Features: TF-IDF of character n-grams inside word boundaries (2-5: Dutch
  compounds such as "magnesiumtekort" share n-grams with "magnesium" and
  "tekort", and a typo changes only a few n-grams) plus TF-IDF of word uni-
  and bigrams, both with sublinear term frequency; optionally character
  n-grams across word boundaries (``cross_char_max``), which see the order
  of the two nutrients ("d verhoogt" against "magnesium activeert").
- Classifier: ``LinearSVC`` whose scores are calibrated per intent with
  Platt scaling (``CalibratedClassifierCV``, sigmoid, fitted on
  cross-validated scores) and normalised, so a confidence of 0.6 means about
  the same for every topic and one fallback threshold fits all.
- Messages are cleaned of noise first (:func:`server.nlu.text.clean`). A
  message of several sentences is scored as a whole and per question
  sentence; the surest question sentence decides when it is surer than the
  whole message (``question_mix: gated``), or the question sentences weigh
  ``question_weight`` (``linear``): the story before a question decides less
  than the question itself.
- Two rules on top of the classifier, each raising one intent to at least
  ``dose_confidence``: a message that asks how much of something to take
  (:func:`server.nlu.text.asks_for_dose`) or otherwise asks for personal
  advice (a situation with a should-I question, a diagnosis:
  :func:`server.nlu.text.asks_personal_advice`, ``advice_rule``) is personal
  advice, because the assistant must never answer it with content; a message about other
  nutrients only (:func:`server.nlu.text.names_only_other_nutrients`,
  "vitamine B12") is off-domain, because it differs from a vitamin D
  question by a few characters.
- A second opinion (``agreement_check``): a plain LinearSVC on the same
  character and word n-grams, without calibration or rules, reads the
  whole message and its question sentences. A content topic it does not
  choose anywhere is tied with its choice, so the fallback asks which of the
  two was meant instead of answering one of them.
- Rules of rounds 6–8 (``docs/nlu-experiments.md``), each raising one intent
  the same way: thanks with a goodbye is a goodbye, a bare thank-you is
  thanks, an order/delivery/account question is customer service, and a
  question sentence about another nutrient after a story about ours is
  off-domain. Two re-rankings: what follows an opening greeting, thanks,
  "ja" or "nee" decides when it clearly asks something; ``hulp`` with a
  named nutrient ("wat weet je over K2?") gives way to the best content
  topic. In a story, a question sentence that leans on it ("Hoe zit dat
  precies?") never decides alone.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
from scipy.sparse import csr_matrix
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from faq.content import CONTENT_TOPIC_IDS
from faq.context import acknowledgement_topic, asks_why
from server.nlu.text import (
    asks_customer_service,
    asks_for_dose,
    asks_only_about_other_nutrients,
    asks_personal_advice,
    clean,
    emoji_meaning,
    greets_or_leaves,
    is_question,
    names_only_other_nutrients,
    names_own_nutrient,
    sentences,
    without_pleasantry,
)

#: The intent of a goodbye that comes with thanks ("oké top, doei").
GOODBYE_INTENT = "afscheid"
#: The intent of a bare thank-you, and the words that make one.
THANKS_INTENT = "bedankt"
THANKS_WORDS = re.compile(
    r"\b(?:bedankt|dank\w*|thanks|thank you|thx|tnx|ty|merci|cheers|ta)\b",
    re.IGNORECASE,
)
#: The intent of an order, delivery or account question.
SERVICE_INTENT = "medewerker"
#: Intents of messages that lean on what came before ("meer", "ja", "en
#: magnesium?"): inside a story, the story is what they lean on.
LEANING_INTENTS = ("meer", "bevestigen", "ontkennen", "vervolg")
#: Greetings and thanks, which may only open a message that asks something.
PLEASANTRY_INTENTS = ("groet", "bedankt", "afscheid")
#: Greetings and goodbyes, which a question that opens with neither is not.
GREETING_INTENTS = ("groet", "afscheid")
#: The intent of a "no", which a why-question is not.
DECLINE_INTENT = "ontkennen"
#: A "ja" or "nee" may open a question too ("nee laat maar, welke bronnen?").
OPENING_INTENTS = (*PLEASANTRY_INTENTS, "bevestigen", "ontkennen")
OFF_DOMAIN_INTENT = "buiten_domein"
#: What follows the politeness must be this long and this clear to decide.
MIN_REST_WORDS = 3
REST_CONFIDENCE = 0.5
#: The intent of "wat kun je?", which a named nutrient turns into a question.
HELP_INTENT = "hulp"
MODEL_FILE = "intent_model.skops"
SETTINGS_FILE = "intent_model.json"
#: The second opinion of ``agreement_check``, beside the model.
CHECK_FILE = "intent_check.skops"
#: Types a saved model may contain besides skops' defaults; anything else in
#: a model file is refused when loading (no arbitrary objects are unpickled).
TRUSTED_TYPES = (
    "numpy.float64",
    "numpy.int64",
    "scipy.sparse._csr.csr_matrix",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.model_selection._split.StratifiedKFold",
)
#: Word tokens of one character count too ("vitamine d", "k2", "b12").
TOKEN_PATTERN = r"(?u)\b\w+\b"


class ModelError(RuntimeError):
    """A saved intent model is missing, unreadable or holds untrusted types."""


@dataclass(frozen=True)
class ModelSettings:
    """The settings of a :class:`TopicModel` (the component's config)."""

    c: float = 1.0
    char_min: int = 2
    char_max: int = 5
    word_max: int = 2
    calibration_folds: int = 5
    question_weight: float = 0.5
    #: How the question sentences are combined with the whole message:
    #: ``linear`` mixes them with ``question_weight``; ``gated`` takes the
    #: most confident question sentence when it is surer than the whole
    #: message, else the whole (a vague question leaves the story in charge,
    #: and a mix of two never makes both less sure).
    question_mix: str = "linear"
    random_seed: int = 42
    #: Intent of every message that asks for an amount to take ("" = off).
    dose_intent: str = "persoonlijk_advies"
    #: Its confidence then is at least this (the rest keep their order).
    dose_confidence: float = 0.9
    #: Intent of every message about other nutrients only ("" = off); the
    #: same confidence floor.
    other_nutrient_intent: str = "buiten_domein"
    #: Whether the dose rule is widened to every request for personal advice
    #: (a situation with a should-I question, a diagnosis, "wat raad je mij
    #: aan?": :func:`server.nlu.text.asks_personal_advice`).
    advice_rule: bool = True
    #: Longest character n-gram ACROSS word boundaries, from 3, as a third
    #: feature block ("d verhoogt", "mg bij d"): the order of the two
    #: nutrients tells the relation topics apart (0 = no such block).
    cross_char_max: int = 0
    #: Whether a content answer needs a second opinion: a plain LinearSVC on
    #: the character and word n-grams (the baseline's model) must agree with
    #: the whole message or one of its question sentences; where it does
    #: not, the two topics are tied, so the fallback asks which was meant.
    agreement_check: bool = False


class TopicModel:
    """Calibrated TF-IDF + LinearSVC intent classifier with sentence weighting."""

    def __init__(self, settings: Optional[ModelSettings] = None) -> None:
        """Creates an unfitted model.

        Args:
            settings: The model settings; defaults when None.
        """
        self.settings = settings or ModelSettings()
        self.pipeline: Optional[Pipeline] = None
        #: The second opinion of ``agreement_check`` (None when off).
        self.check: Optional[LinearSVC] = None
        self.classes: List[str] = []
        self._fast: Optional[tuple] = None
        self._last: Optional[Tuple[Tuple[str, ...], csr_matrix]] = None

    # ----------------------------------------------------------- training

    def _features(self, cross: bool = True) -> FeatureUnion:
        s = self.settings
        blocks = [
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(s.char_min, s.char_max),
                    sublinear_tf=True,
                ),
            ),
            (
                "words",
                TfidfVectorizer(
                    analyzer="word",
                    ngram_range=(1, s.word_max),
                    sublinear_tf=True,
                    token_pattern=TOKEN_PATTERN,
                ),
            ),
        ]
        if cross and s.cross_char_max >= 3:
            blocks.append(
                (
                    "cross",
                    TfidfVectorizer(
                        analyzer="char",
                        ngram_range=(3, s.cross_char_max),
                        sublinear_tf=True,
                    ),
                )
            )
        return FeatureUnion(blocks)

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> "TopicModel":
        """Fits the model on training texts and their intents.

        Args:
            texts: Training messages (cleaned here like messages at run time).
            labels: Their intents; at least two different ones.

        Returns:
            self.

        Raises:
            ValueError: With fewer than two intents.
        """
        y = np.asarray(list(labels))
        classes, counts = np.unique(y, return_counts=True)
        if len(classes) < 2:
            raise ValueError("het intentmodel heeft minstens twee intents nodig")
        folds = int(min(self.settings.calibration_folds, counts.min()))
        svm = LinearSVC(C=self.settings.c, random_state=self.settings.random_seed)
        if folds >= 2:
            classifier = CalibratedClassifierCV(
                svm,
                method="sigmoid",
                cv=StratifiedKFold(
                    folds, shuffle=True, random_state=self.settings.random_seed
                ),
                ensemble=False,
            )
        else:  # too few examples to calibrate: prefit-free sigmoid on all data
            classifier = CalibratedClassifierCV(svm, method="sigmoid", cv=2)
            y = np.concatenate([y, y])
            texts = list(texts) * 2
        self.pipeline = Pipeline(
            [("features", self._features()), ("classifier", classifier)]
        )
        cleaned = [clean(t) or t for t in texts]
        self.pipeline.fit(cleaned, y)
        self.classes = [str(c) for c in self.pipeline.classes_]
        self._fast = None
        self._last = None
        self.check = None
        if self.settings.agreement_check:
            shared = self._shared_width()
            self.check = LinearSVC(C=1.0, random_state=self.settings.random_seed)
            self.check.fit(self.features(cleaned)[:, :shared], y)
        return self

    # --------------------------------------------------------- prediction

    def _require_fitted(self) -> Pipeline:
        if self.pipeline is None:
            raise ModelError("het intentmodel is niet getraind")
        return self.pipeline

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Returns calibrated probabilities (rows: texts, columns: classes).

        The texts are used as given (no cleaning, no sentence weighting).
        Same numbers as the scikit-learn pipeline's ``predict_proba``, computed
        in a few array operations (:meth:`_compile`): about three times faster
        per message.
        """
        pipeline = self._require_fitted()
        fast = self._fast or self._compile()
        if fast is None:
            return pipeline.predict_proba(list(texts))
        _, weights, bias, slopes, offsets = fast
        scores = np.asarray(self.features(texts) @ weights) + bias
        proba = expit(-(slopes * scores + offsets))
        total = proba.sum(axis=1, keepdims=True)
        uniform = np.full_like(proba, 1.0 / proba.shape[1])
        proba = np.divide(proba, total, out=uniform, where=total != 0)
        proba[(proba > 1.0) & (proba <= 1.0 + 1e-5)] = 1.0
        return proba

    def features(self, texts: Sequence[str]) -> csr_matrix:
        """Returns the TF-IDF rows of texts, as the pipeline's features step.

        With the compiled blocks (:meth:`_compile`) they are counted here
        directly, without scikit-learn's per-call checks; the rows of the last
        call are kept, since the second opinion reads the same texts.
        """
        key = tuple(texts)
        if self._last is not None and self._last[0] == key:
            return self._last[1]
        fast = self._fast or self._compile()
        if fast is None:
            pipeline = self._require_fitted()
            rows = csr_matrix(pipeline.named_steps["features"].transform(list(key)))
        else:
            rows = _tfidf_rows(fast[0], key)
        self._last = (key, rows)
        return rows

    def _shared_width(self) -> int:
        """Returns the number of feature columns before the ``cross`` block."""
        union = self._require_fitted().named_steps["features"]
        return sum(
            len(v.vocabulary_) for name, v in union.transformer_list if name != "cross"
        )

    def _compile(self) -> Optional[tuple]:
        """Extracts the arrays of the fitted pipeline for :meth:`predict_proba`.

        Returns None (use the pipeline itself) for anything but the
        multi-class calibrated LinearSVC on sublinear, l2-normalised TF-IDF
        blocks this model builds.
        """
        pipeline = self._require_fitted()
        calibrated = pipeline.named_steps["classifier"]
        members = getattr(calibrated, "calibrated_classifiers_", [])
        if len(members) != 1 or len(self.classes) < 3:
            return None
        member = members[0]
        svm = member.base_estimator
        order = list(svm.classes_)
        if order != list(calibrated.classes_) or member.method != "sigmoid":
            return None
        vectorizers = [t for _, t in pipeline.named_steps["features"].transformer_list]
        if not all(
            v.sublinear_tf and v.use_idf and v.norm == "l2" and not v.binary
            for v in vectorizers
        ):
            return None
        blocks, offset = [], 0
        for v in vectorizers:
            blocks.append((v.build_analyzer(), v.vocabulary_, v.idf_, offset))
            offset += len(v.vocabulary_)
        self._fast = (
            (blocks, offset),
            np.asarray(svm.coef_.T),
            np.asarray(svm.intercept_),
            np.array([c.a_ for c in member.calibrators]),
            np.array([c.b_ for c in member.calibrators]),
        )
        return self._fast

    def probabilities(self, text: str) -> np.ndarray:
        """Returns the probabilities of one message, with sentence weighting.

        Args:
            text: The visitor's message as received.

        Returns:
            One probability per class (in :attr:`classes` order), summing to 1.
        """
        cleaned = clean(text) or emoji_meaning(text) or text
        texts = self._scored_texts(cleaned)
        probs = self._weighted(texts)
        advice = asks_personal_advice if self.settings.advice_rule else asks_for_dose
        if advice(cleaned):
            return self._at_least(probs, self.settings.dose_intent)
        closing = acknowledgement_topic(cleaned)
        if closing == GOODBYE_INTENT:
            # "ok bedankt, doeg": the thanks closes the conversation
            return self._at_least(probs, GOODBYE_INTENT)
        if closing == THANKS_INTENT and THANKS_WORDS.search(cleaned):
            # "ok laat maar, bedankt", "good to know, ta": thanks, not a question
            return self._at_least(probs, THANKS_INTENT)
        if asks_customer_service(cleaned):
            return self._at_least(probs, SERVICE_INTENT)
        if names_only_other_nutrients(cleaned) or asks_only_about_other_nutrients(
            cleaned
        ):
            return self._at_least(probs, self.settings.other_nutrient_intent)
        top = self.classes[int(probs.argmax())]
        if top in GREETING_INTENTS and is_question(cleaned):
            if not greets_or_leaves(cleaned):
                # "elke dag?", "ochtend of avond?": a follow-up, not a greeting
                return self._without(probs, top)
        if top == DECLINE_INTENT and asks_why(cleaned):
            # "waarom niet eigenlijk?": a question about the answer, not a "no"
            return self._without(probs, top)
        if top in OPENING_INTENTS:
            probs = self._past_pleasantry(cleaned, probs)
            top = self.classes[int(probs.argmax())]
        if top == HELP_INTENT and names_own_nutrient(cleaned):
            probs = self._subject_over_help(probs)
        return self._second_opinion(texts, probs)

    def _second_opinion(self, texts: List[str], probs: np.ndarray) -> np.ndarray:
        """Ties a content topic with the check's topic when they disagree.

        The plain SVM of ``agreement_check`` reads the whole message and each
        question sentence; when none of its choices is the content topic on
        top, both topics get their mean probability, so the ``FallbackClassifier``
        (ambiguity above zero) asks which of the two was meant.
        """
        top = int(probs.argmax())
        if self.check is None or self.classes[top] not in CONTENT_TOPIC_IDS:
            return probs
        shared = self.features(texts)[:, : self.check.coef_.shape[1]]
        scores = np.atleast_2d(self.check.decision_function(shared))
        chosen = [str(self.check.classes_[i]) for i in scores.argmax(axis=1)]
        if self.classes[top] in chosen:
            return probs
        other = self.classes.index(chosen[0])
        probs = probs.copy()
        probs[[top, other]] = (probs[top] + probs[other]) / 2
        return probs

    def _past_pleasantry(self, cleaned: str, probs: np.ndarray) -> np.ndarray:
        """Classifies what follows an opening greeting or thanks.

        "hallo, wat kan je allemaal?" looks like a greeting as a whole; the
        rest, when it is at least :data:`MIN_REST_WORDS` words and clearly
        something else than politeness or a follow-up, decides instead.
        """
        rest = without_pleasantry(cleaned)
        if rest == cleaned or len(re.findall(r"\w+", rest)) < MIN_REST_WORDS:
            return probs
        rest_probs = self._weighted(self._scored_texts(rest))
        rest_top = self.classes[int(rest_probs.argmax())]
        if (
            rest_top in PLEASANTRY_INTENTS
            or rest_top in LEANING_INTENTS
            or rest_top in (self.settings.dose_intent, OFF_DOMAIN_INTENT)
            or rest_probs.max() < REST_CONFIDENCE
        ):
            return probs
        return rest_probs

    def _subject_over_help(self, probs: np.ndarray) -> np.ndarray:
        """Swaps "hulp" with the best content topic ("wat weet je over K2?").

        Asking what the assistant knows about one of the article's nutrients
        asks about that nutrient, not what the assistant can do.
        """
        content = [i for i, c in enumerate(self.classes) if c in CONTENT_TOPIC_IDS]
        if not content:
            return probs
        best = max(content, key=lambda i: probs[i])
        help_index = self.classes.index(HELP_INTENT)
        probs = probs.copy()
        probs[[help_index, best]] = probs[[best, help_index]]
        return probs

    def _without(self, probs: np.ndarray, intent: str) -> np.ndarray:
        """Removes one intent and spreads its probability over the others."""
        index = self.classes.index(intent)
        rest = 1.0 - probs[index]
        probs = probs.copy()
        probs[index] = 0.0
        return probs / rest if rest > 0 else probs

    def _at_least(self, probs: np.ndarray, intent: str) -> np.ndarray:
        """Raises one intent to the rules' floor; the others keep their order."""
        if not intent or intent not in self.classes:
            return probs
        floor = self.settings.dose_confidence
        index = self.classes.index(intent)
        if probs[index] >= floor:
            return probs
        rest = 1.0 - probs[index]
        probs = probs * ((1.0 - floor) / rest if rest > 0 else 0.0)
        probs[index] = floor
        return probs

    def _scored_texts(self, cleaned: str) -> List[str]:
        """Returns the whole message and, when they count, its question sentences."""
        parts = sentences(cleaned)
        questions = [p.text for p in parts if p.question]
        if len(parts) < 2 or not questions or self.settings.question_weight <= 0:
            return [cleaned]
        return [cleaned, *questions]

    def _weighted(self, texts: List[str]) -> np.ndarray:
        """Scores a message as a whole and by its question sentences.

        Args:
            texts: The cleaned message, then the question sentences that
                count (:meth:`_scored_texts`).
        """
        if len(texts) == 1:
            return self.predict_proba(texts)[0]
        weight = self.settings.question_weight
        rows = self.predict_proba(texts)
        whole, asked = rows[0], rows[1:]
        if self.settings.question_mix == "gated":
            # "Hoe zit dat precies?" after a story leans on the story: such a
            # question sentence (a follow-up intent) never decides alone
            # nor does "Kun je dat uitleggen?" or "Weet jij dat?" after a
            # forwarded question: a request for help leans on the rest too
            leaning = [
                self.classes.index(c)
                for c in (*LEANING_INTENTS, HELP_INTENT)
                if c in self.classes
            ]
            own = [row for row in asked if int(row.argmax()) not in leaning]
            if not own:
                return whole
            surest = max(own, key=lambda row: float(row.max()))
            return surest if surest.max() > whole.max() else whole
        # A question sentence that is itself clear counts more than a vague one
        # ("Kun je helpen?").
        confidence = asked.max(axis=1)
        asked_mix = (asked * confidence[:, None]).sum(axis=0) / confidence.sum()
        mixed = (1 - weight) * whole + weight * asked_mix
        return mixed / mixed.sum()

    def rank(self, text: str) -> List[Tuple[str, float]]:
        """Returns (intent, confidence) for every class, most likely first."""
        probs = self.probabilities(text)
        order = np.argsort(-probs, kind="stable")
        return [(self.classes[i], float(probs[i])) for i in order]

    # -------------------------------------------------------- persistence

    def save(self, directory: Path) -> None:
        """Writes the model (skops format, no pickle) and its settings."""
        import skops.io as sio

        pipeline = self._require_fitted()
        directory.mkdir(parents=True, exist_ok=True)
        sio.dump(pipeline, directory / MODEL_FILE)
        if self.check is not None:
            sio.dump(self.check, directory / CHECK_FILE)
        (directory / SETTINGS_FILE).write_text(
            json.dumps({"settings": asdict(self.settings), "classes": self.classes}),
            encoding="utf-8",
        )

    @classmethod
    def load(cls, directory: Path) -> "TopicModel":
        """Reads a model written by :meth:`save`.

        Raises:
            ModelError: When the files are missing or a model file holds a
                type outside :data:`TRUSTED_TYPES`.
        """
        try:
            meta: Dict = json.loads((directory / SETTINGS_FILE).read_text("utf-8"))
            model = cls(ModelSettings(**meta["settings"]))
            model.pipeline = _load_trusted(directory / MODEL_FILE)
            if model.settings.agreement_check:
                model.check = _load_trusted(directory / CHECK_FILE)
        except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as error:
            raise ModelError(f"intentmodel niet leesbaar: {error}") from None
        model.classes = [str(c) for c in meta["classes"]]
        return model


def _load_trusted(model_file: Path) -> Any:
    """Loads one skops file, refusing types outside :data:`TRUSTED_TYPES`."""
    import skops.io as sio

    untrusted = sio.get_untrusted_types(file=model_file)
    unexpected = sorted(set(untrusted) - set(TRUSTED_TYPES))
    if unexpected:
        raise ModelError(f"intentmodel bevat onverwachte typen: {unexpected}")
    return sio.load(model_file, trusted=list(untrusted))


def _tfidf_rows(compiled: tuple, texts: Sequence[str]) -> csr_matrix:
    """Counts the compiled TF-IDF blocks of texts (sublinear tf, idf, l2 per block).

    Args:
        compiled: ``(blocks, width)``; a block is (analyzer, vocabulary, idf,
            first column), from the fitted ``TfidfVectorizer``'s public
            ``build_analyzer()``, ``vocabulary_`` and ``idf_``.
        texts: The texts, one row each.
    """
    blocks, width = compiled
    rows: List[int] = []
    columns: List[np.ndarray] = []
    values: List[np.ndarray] = []
    for row, text in enumerate(texts):
        for analyzer, vocabulary, idf, offset in blocks:
            grams = (vocabulary.get(gram) for gram in analyzer(text))
            counts = Counter(index for index in grams if index is not None)
            if not counts:
                continue
            index = np.fromiter(counts, dtype=np.int64, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=float, count=len(counts))
            weight = (np.log(tf) + 1.0) * idf[index]
            weight /= np.sqrt(weight @ weight)
            rows.extend([row] * len(index))
            columns.append(index + offset)
            values.append(weight)
    if not values:
        return csr_matrix((len(texts), width))
    return csr_matrix(
        (np.concatenate(values), (rows, np.concatenate(columns))),
        shape=(len(texts), width),
    )
